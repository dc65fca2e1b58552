/* inode.c - the inode table and the life of an inode (see inode.h). */
#include <errno.h>
#include <string.h>

#include "inode.h"

/* nodes_lock protects by_ino, by_name, by_object, open_set, children,
 * next_ino and every inode's nlookup, nopen and parents. */
G_LOCK_DEFINE_STATIC(nodes_lock);
static GHashTable *by_ino;  /* &in->ino -> in, one reference each */
static GHashTable *by_name; /* in->key -> in */
/* in->object_key -> in: the regular files of kinds whose objects can have
 * several names (hard links: kinds with a tree operation), so that every
 * name of one object is one inode, as in the kind's own directory. */
static GHashTable *by_object;
static GHashTable *open_set; /* the inodes whose nopen > 0 */
/* A directory's inode number -> the set of inodes (no reference: an
 * inode leaves every set before it leaves by_ino) whose parents have it:
 * what a listing of it may prune, without a walk of every inode. */
static GHashTable *children;
static fuse_ino_t next_ino = FUSE_ROOT_ID + 1;

struct shmfs_inode *shmfs_inode_ref(struct shmfs_inode *in)
{
	g_atomic_int_inc(&in->refs);
	return in;
}

void shmfs_inode_unref(struct shmfs_inode *in)
{
	if (!in || !g_atomic_int_dec_and_test(&in->refs))
		return;
	/* Files hold references: none is open, and so none writes (the
	 * last writer's close dropped the kept pages). */
	g_clear_pointer(&in->shadow.pages, g_hash_table_unref);
	g_mutex_clear(&in->shadow.lock);
	g_ptr_array_unref(in->files);
	g_free(in->probe_name);
	g_free(in->link_target);
	if (in->probe_value)
		g_string_free(in->probe_value, TRUE);
	g_cond_clear(&in->decided);
	g_mutex_clear(&in->lock);
	g_free(in->path);
	if (in->old_paths)
		g_ptr_array_unref(in->old_paths);
	if (in->parents)
		g_array_unref(in->parents);
	g_free(in->key);
	g_free(in->object_key);
	g_free(in);
}

static void table_unref(void *p)
{
	shmfs_inode_unref(p);
}

/* The by-name key of an inode: the kind, the path, the type and the
 * object where the kind names one (every entry of posix/; a System V
 * segment; not the mount's own directories and links). */
static char *node_key(const struct shmfs_backend *be, const char *path,
		      mode_t type, uint64_t dev, uint64_t ino, uint64_t ns,
		      uint64_t gen)
{
	return g_strdup_printf(
		"%s/%s:%o:%" G_GINT64_MODIFIER "x:%" G_GINT64_MODIFIER
		"x:%" G_GINT64_MODIFIER "x:%" G_GINT64_MODIFIER "x",
		be ? be->name : "", path, (unsigned)type, dev, ino, ns, gen);
}

static char *attr_key(const struct shmfs_backend *be, const char *path,
		      const struct shm_attr *a)
{
	return node_key(be, path, a->mode & S_IFMT, a->ident_dev, a->ident_ino,
			a->ident_ns, a->ident_gen);
}

/* in is found by its key (an older inode of the same key is found no
 * more: it stays by number until the kernel forgets it).  Called with
 * nodes_lock held. */
static void name_node(struct shmfs_inode *in)
{
	g_hash_table_replace(by_name, in->key, in);
}

/* The key of in's object in by_object, or NULL if in is not found by its
 * object. */
static char *object_key(const struct shmfs_backend *be, mode_t type,
			const struct shm_attr *a)
{
	/* Every kind of file but a directory may have more than one name
	 * (hard links of FIFOs, sockets, devices and symlinks too, as in
	 * tmpfs): one inode for all of them. */
	if (!be || !be->tree || type == S_IFDIR || !a->ident_dev)
		return NULL;
	return g_strdup_printf("%s:%" G_GINT64_MODIFIER "x:%" G_GINT64_MODIFIER
			       "x:%" G_GINT64_MODIFIER "x:%" G_GINT64_MODIFIER
			       "x",
			       be->name, a->ident_dev, a->ident_ino,
			       a->ident_ns, a->ident_gen);
}

/* in's path becomes np (the old string kept until in goes), and its key
 * follows.  Called with nodes_lock held, in unnamed. */
static void move_node(struct shmfs_inode *in, char *np)
{
	if (!in->old_paths)
		in->old_paths = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(in->old_paths, in->path);
	__atomic_store_n(&in->path, np, __ATOMIC_RELEASE);
	g_free(in->key);
	in->key = node_key(in->be, np, in->type, in->ident_dev, in->ident_ino,
			   in->ident_ns, in->ident_gen);
}

/* in is found by its key no more.  Called with nodes_lock held. */
static void unname_node(struct shmfs_inode *in)
{
	if (g_hash_table_lookup(by_name, in->key) == in)
		g_hash_table_remove(by_name, in->key);
}

/* Called with nodes_lock held; the table takes the first reference. */
static struct shmfs_inode *node_new(const struct shmfs_backend *be,
				    const char *path, const struct shm_attr *a,
				    fuse_ino_t ino)
{
	struct shmfs_inode *in = g_new0(struct shmfs_inode, 1);

	in->ino = ino;
	in->be = be;
	in->path = g_strdup(path);
	in->type = a->mode & S_IFMT;
	in->ident_dev = a->ident_dev;
	in->ident_ino = a->ident_ino;
	in->ident_ns = a->ident_ns;
	in->ident_gen = a->ident_gen;
	in->key = attr_key(be, path, a);
	in->refs = 1;
	g_mutex_init(&in->lock);
	g_cond_init(&in->decided);
	in->files = g_ptr_array_new();
	g_mutex_init(&in->shadow.lock);
	in->object_key = object_key(be, in->type, a);
	g_hash_table_insert(by_ino, &in->ino, in);
	name_node(in);
	if (in->object_key)
		g_hash_table_replace(by_object, in->object_key, in);
	return in;
}

/* in is a child of parent no more (children).  Called with nodes_lock
 * held. */
static void unchild(struct shmfs_inode *in, fuse_ino_t parent)
{
	GHashTable *set = g_hash_table_lookup(children, &parent);

	if (set && g_hash_table_remove(set, in) && !g_hash_table_size(set))
		g_hash_table_remove(children, &parent);
}

/* Out of the table once the kernel knows it no more and no file of it is
 * open.  Called with nodes_lock held. */
static void maybe_drop(struct shmfs_inode *in)
{
	if (in->pinned || in->nlookup || in->nopen)
		return;
	for (guint i = 0; in->parents && i < in->parents->len; i++)
		unchild(in, g_array_index(in->parents, fuse_ino_t, i));
	unname_node(in);
	if (in->object_key &&
	    g_hash_table_lookup(by_object, in->object_key) == in)
		g_hash_table_remove(by_object, in->object_key);
	g_hash_table_remove(by_ino, &in->ino); /* drops the table's ref */
}

static gint ino_cmp(gconstpointer a, gconstpointer b)
{
	fuse_ino_t x = *(const fuse_ino_t *)a, y = *(const fuse_ino_t *)b;

	return (x > y) - (x < y);
}

/* parent joins in's directories (kept ascending).  Called with
 * nodes_lock held. */
static void add_parent(struct shmfs_inode *in, fuse_ino_t parent)
{
	GHashTable *set;
	guint i;

	if (!in->parents)
		in->parents = g_array_new(FALSE, FALSE, sizeof(fuse_ino_t));
	if (g_array_binary_search(in->parents, &parent, ino_cmp, NULL))
		return;
	for (i = 0; i < in->parents->len &&
		    g_array_index(in->parents, fuse_ino_t, i) < parent;
	     i++)
		;
	g_array_insert_val(in->parents, i, parent);
	set = g_hash_table_lookup(children, &parent);
	if (!set) {
		set = g_hash_table_new(g_direct_hash, g_direct_equal);
		g_hash_table_insert(children,
				    g_memdup2(&parent, sizeof(parent)), set);
	}
	g_hash_table_add(set, in);
}

static void unlisted_clear(void *p)
{
	g_free(((struct shmfs_unlisted *)p)->name);
}

GArray *shmfs_inode_unlisted(fuse_ino_t dir, GHashTable *listed)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct shmfs_unlisted));
	GHashTable *set;
	GHashTableIter it;
	gpointer v;

	g_array_set_clear_func(out, unlisted_clear);
	G_LOCK(nodes_lock);
	set = g_hash_table_lookup(children, &dir);
	if (set)
		g_hash_table_iter_init(&it, set);
	while (set && g_hash_table_iter_next(&it, &v, NULL)) {
		struct shmfs_inode *in = v;
		const char *slash = strrchr(in->path, '/');
		const char *name = slash ? slash + 1 : in->path;
		const struct shm_attr *a;
		guint at;

		if (in->pinned || !in->nlookup || !*name || !in->parents ||
		    !g_array_binary_search(in->parents, &dir, ino_cmp, &at))
			continue;
		a = g_hash_table_lookup(listed, name);
		if (a && (a->mode & S_IFMT) == in->type &&
		    !shmfs_inode_other_object(in, a))
			continue;
		g_array_append_val(out, ((struct shmfs_unlisted){
						dir, in->ino, g_strdup(name),
						!a && in->parents->len == 1 &&
							!in->old_paths }));
		g_array_remove_index(in->parents, at);
		g_hash_table_iter_remove(&it);
	}
	if (set && !g_hash_table_size(set))
		g_hash_table_remove(children, &dir);
	G_UNLOCK(nodes_lock);
	return out;
}

guint shmfs_inode_count(void)
{
	guint n;

	G_LOCK(nodes_lock);
	n = g_hash_table_size(by_ino);
	G_UNLOCK(nodes_lock);
	return n;
}

void shmfs_nodes_init(const struct shmfs_backend *const *bes, size_t n)
{
	struct shm_attr dir = { .mode = S_IFDIR };

	by_ino = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
				       table_unref);
	by_name = g_hash_table_new(g_str_hash, g_str_equal);
	by_object = g_hash_table_new(g_str_hash, g_str_equal);
	open_set = g_hash_table_new(g_direct_hash, g_direct_equal);
	children = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					 (GDestroyNotify)g_hash_table_unref);
	next_ino = FUSE_ROOT_ID + 1;
	node_new(NULL, "", &dir, FUSE_ROOT_ID)->pinned = true;
	for (size_t i = 0; i < n; i++)
		node_new(bes[i], "", &dir, next_ino++)->pinned = true;
}

void shmfs_nodes_fini(void)
{
	g_clear_pointer(&open_set, g_hash_table_destroy);
	g_clear_pointer(&children, g_hash_table_destroy);
	g_clear_pointer(&by_name, g_hash_table_destroy);
	g_clear_pointer(&by_object, g_hash_table_destroy);
	g_clear_pointer(&by_ino, g_hash_table_destroy);
}

struct shmfs_inode *shmfs_inode_get(fuse_ino_t ino)
{
	struct shmfs_inode *in;

	G_LOCK(nodes_lock);
	in = by_ino ? g_hash_table_lookup(by_ino, &ino) : NULL;
	if (in)
		shmfs_inode_ref(in);
	G_UNLOCK(nodes_lock);
	return in;
}

bool shmfs_inode_other_object(const struct shmfs_inode *in,
			      const struct shm_attr *a)
{
	/* (shmid 0 is inode number 0: an identity is a device.) */
	return in->ident_dev && a->ident_dev &&
	       (in->ident_ino != a->ident_ino ||
		in->ident_dev != a->ident_dev || in->ident_ns != a->ident_ns ||
		in->ident_gen != a->ident_gen);
}

fuse_ino_t shmfs_inode_lookup(fuse_ino_t parent, const struct shmfs_backend *be,
			      const char *path, const struct shm_attr *a)
{
	g_autofree char *key = attr_key(be, path, a);
	g_autofree char *okey = NULL;
	struct shmfs_inode *in;
	fuse_ino_t ino;

	G_LOCK(nodes_lock);
	in = g_hash_table_lookup(by_name, key);
	/* Another name of an object already known (a hard link): the same
	 * inode, found by this name from now on. */
	if (!in && (okey = object_key(be, a->mode & S_IFMT, a)) &&
	    (in = g_hash_table_lookup(by_object, okey))) {
		unname_node(in);
		move_node(in, g_strdup(path));
		name_node(in);
	}
	if (!in)
		in = node_new(be, path, a, next_ino++);
	in->nlookup++;
	add_parent(in, parent);
	ino = in->ino;
	G_UNLOCK(nodes_lock);
	return ino;
}

void shmfs_inode_forget(fuse_ino_t ino, uint64_t count)
{
	struct shmfs_inode *in;

	G_LOCK(nodes_lock);
	in = g_hash_table_lookup(by_ino, &ino);
	if (in && !in->pinned) {
		in->nlookup = count >= in->nlookup ? 0 : in->nlookup - count;
		maybe_drop(in);
	}
	G_UNLOCK(nodes_lock);
}

void shmfs_inode_opened(struct shmfs_inode *in)
{
	G_LOCK(nodes_lock);
	if (in->nopen++ == 0)
		g_hash_table_add(open_set, in);
	G_UNLOCK(nodes_lock);
}

void shmfs_inode_released(struct shmfs_inode *in)
{
	G_LOCK(nodes_lock);
	if (in->nopen && --in->nopen == 0) {
		g_hash_table_remove(open_set, in);
		maybe_drop(in);
	}
	G_UNLOCK(nodes_lock);
}

void shmfs_inode_keep_link(struct shmfs_inode *in, const char *target)
{
	g_mutex_lock(&in->lock);
	g_free(in->link_target);
	in->link_target = g_strdup(target);
	in->link_at = g_get_monotonic_time();
	g_mutex_unlock(&in->lock);
}

char *shmfs_inode_link(struct shmfs_inode *in, gint64 max_age_us)
{
	char *t = NULL;

	g_mutex_lock(&in->lock);
	if (in->link_target &&
	    g_get_monotonic_time() - in->link_at <= max_age_us)
		t = g_strdup(in->link_target);
	g_mutex_unlock(&in->lock);
	return t;
}

GPtrArray *shmfs_inodes_open(void)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(table_unref);
	GHashTableIter it;
	gpointer k;

	G_LOCK(nodes_lock);
	if (open_set) {
		g_hash_table_iter_init(&it, open_set);
		while (g_hash_table_iter_next(&it, &k, NULL))
			g_ptr_array_add(out, shmfs_inode_ref(k));
	}
	G_UNLOCK(nodes_lock);
	return out;
}

bool shmfs_node_object(ino_t ino, dev_t *dev, ino_t *obj, ino_t *ns)
{
	fuse_ino_t key = (fuse_ino_t)ino;
	struct shmfs_inode *in;
	bool r = false;

	G_LOCK(nodes_lock);
	in = by_ino ? g_hash_table_lookup(by_ino, &key) : NULL;
	if (in && in->ident_dev) {
		*dev = (dev_t)in->ident_dev;
		*obj = (ino_t)in->ident_ino;
		*ns = (ino_t)in->ident_ns;
		r = true;
	}
	G_UNLOCK(nodes_lock);
	return r;
}

const char *shmfs_inode_path(const struct shmfs_inode *in)
{
	return __atomic_load_n(&in->path, __ATOMIC_ACQUIRE);
}

/* path with its leading `from` (the whole of it, or a directory of it)
 * replaced by `to`; NULL if path is not from or beneath it. */
static char *moved_path(const char *path, const char *from, const char *to)
{
	size_t n = strlen(from);

	if (strncmp(path, from, n) != 0 || (path[n] && path[n] != '/'))
		return NULL;
	return g_strconcat(to, path + n, NULL);
}

void shmfs_inodes_renamed(const struct shmfs_backend *be, const char *from,
			  const char *to, bool exchange)
{
	g_autoptr(GPtrArray) moved = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	G_LOCK(nodes_lock);
	g_hash_table_iter_init(&it, by_ino);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct shmfs_inode *in = v;
		char *np;

		if (in->be != be || in->pinned)
			continue;
		np = moved_path(in->path, from, to);
		if (!np && exchange)
			np = moved_path(in->path, to, from);
		if (!np)
			continue;
		unname_node(in);
		move_node(in, np);
		g_ptr_array_add(moved, in);
	}
	/* Named again once every old name is gone (an exchange swaps two). */
	for (guint i = 0; i < moved->len; i++)
		name_node(moved->pdata[i]);
	G_UNLOCK(nodes_lock);
}

char *shmfs_child_path(const char *dir, const char *name)
{
	return dir[0] ? g_strconcat(dir, "/", name, NULL) : g_strdup(name);
}
