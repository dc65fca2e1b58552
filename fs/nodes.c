/* nodes.c - the inode table (see nodes.h). */
#include <errno.h>
#include <string.h>

#include "nodes.h"

struct shmfs_node {
	fuse_ino_t ino;
	const struct shmfs_backend *be;
	char *path;
	mode_t type;
	uint64_t ident_dev, ident_ino, ident_ns, ident_gen;
	char *key; /* "kind/path:type:dev:ino:ns:gen": the by_name key */
	uint64_t nlookup;
	bool pinned; /* root and backend dirs: never forgotten */
};

/* nodes_lock protects by_ino, by_name, next_ino and every node's
 * nlookup. */
G_LOCK_DEFINE_STATIC(nodes_lock);
static GHashTable *by_ino;  /* &node->ino -> node, owns the nodes */
static GHashTable *by_name; /* node->key -> node */
static fuse_ino_t next_ino = FUSE_ROOT_ID + 1;
static const struct shmfs_backend *const *backends;

static void node_free(void *p)
{
	struct shmfs_node *n = p;

	g_free(n->path);
	g_free(n->key);
	g_free(n);
}

/* Only files are objects; a directory or a link is its name. */
static char *node_key(const struct shmfs_backend *be, const char *path,
		      const struct shm_attr *a)
{
	bool file = S_ISREG(a->mode);

	return g_strdup_printf(
		"%s/%s:%o:%" G_GINT64_MODIFIER "x:%" G_GINT64_MODIFIER
		"x:%" G_GINT64_MODIFIER "x:%" G_GINT64_MODIFIER "x",
		be ? be->name : "", path, (unsigned)(a->mode & S_IFMT),
		file ? a->ident_dev : 0, file ? a->ident_ino : 0,
		file ? a->ident_ns : 0, file ? a->ident_gen : 0);
}

/* Called with nodes_lock held. */
static struct shmfs_node *node_new(const struct shmfs_backend *be,
				   const char *path, const struct shm_attr *a,
				   fuse_ino_t ino)
{
	struct shmfs_node *n = g_new0(struct shmfs_node, 1);

	n->ino = ino;
	n->be = be;
	n->path = g_strdup(path);
	n->type = a->mode & S_IFMT;
	n->ident_dev = S_ISREG(a->mode) ? a->ident_dev : 0;
	n->ident_ino = S_ISREG(a->mode) ? a->ident_ino : 0;
	n->ident_ns = S_ISREG(a->mode) ? a->ident_ns : 0;
	n->ident_gen = S_ISREG(a->mode) ? a->ident_gen : 0;
	n->key = node_key(be, path, a);
	g_hash_table_insert(by_ino, &n->ino, n);
	g_hash_table_insert(by_name, n->key, n);
	return n;
}

void shmfs_nodes_init(const struct shmfs_backend *const *bes, size_t n)
{
	by_ino = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
				       node_free);
	by_name = g_hash_table_new(g_str_hash, g_str_equal);
	struct shm_attr dir = { .mode = S_IFDIR };

	backends = bes;
	node_new(NULL, "", &dir, FUSE_ROOT_ID)->pinned = true;
	for (size_t i = 0; i < n; i++)
		node_new(bes[i], "", &dir, next_ino++)->pinned = true;
}

void shmfs_nodes_fini(void)
{
	g_clear_pointer(&by_name, g_hash_table_destroy);
	g_clear_pointer(&by_ino, g_hash_table_destroy);
}

const struct shmfs_backend *const *shmfs_backends(void)
{
	return backends;
}

int shmfs_node_ref(fuse_ino_t ino, struct shmfs_ref *ref)
{
	struct shmfs_node *n;
	int r = -ENOENT;

	G_LOCK(nodes_lock);
	n = g_hash_table_lookup(by_ino, &ino);
	if (n) {
		ref->be = n->be;
		ref->path = g_strdup(n->path);
		ref->type = n->type;
		ref->ident_dev = n->ident_dev;
		ref->ident_ino = n->ident_ino;
		ref->ident_ns = n->ident_ns;
		ref->ident_gen = n->ident_gen;
		r = 0;
	}
	G_UNLOCK(nodes_lock);
	return r;
}

void shmfs_ref_clear(struct shmfs_ref *ref)
{
	g_clear_pointer(&ref->path, g_free);
}

bool shmfs_ref_other_object(const struct shmfs_ref *ref,
			    const struct shm_attr *a)
{
	/* (shmid 0 is inode number 0: an identity is a device.) */
	return ref->ident_dev && a->ident_dev &&
	       (ref->ident_ino != a->ident_ino ||
		ref->ident_dev != a->ident_dev ||
		ref->ident_ns != a->ident_ns || ref->ident_gen != a->ident_gen);
}

fuse_ino_t shmfs_node_lookup(const struct shmfs_backend *be, const char *path,
			     const struct shm_attr *a)
{
	g_autofree char *key = node_key(be, path, a);
	struct shmfs_node *n;
	fuse_ino_t ino;

	G_LOCK(nodes_lock);
	n = g_hash_table_lookup(by_name, key);
	if (!n)
		n = node_new(be, path, a, next_ino++);
	n->nlookup++;
	ino = n->ino;
	G_UNLOCK(nodes_lock);
	return ino;
}

void shmfs_node_forget(fuse_ino_t ino, uint64_t count)
{
	struct shmfs_node *n;

	G_LOCK(nodes_lock);
	n = g_hash_table_lookup(by_ino, &ino);
	if (n && !n->pinned) {
		n->nlookup = count >= n->nlookup ? 0 : n->nlookup - count;
		if (n->nlookup == 0) {
			g_hash_table_remove(by_name, n->key);
			g_hash_table_remove(by_ino, &ino);
		}
	}
	G_UNLOCK(nodes_lock);
}

bool shmfs_node_object(ino_t ino, dev_t *dev, ino_t *obj, ino_t *ns)
{
	fuse_ino_t key = (fuse_ino_t)ino;
	struct shmfs_node *n;
	bool r = false;

	G_LOCK(nodes_lock);
	n = g_hash_table_lookup(by_ino, &key);
	if (n && n->ident_dev) {
		*dev = (dev_t)n->ident_dev;
		*obj = (ino_t)n->ident_ino;
		*ns = (ino_t)n->ident_ns;
		r = true;
	}
	G_UNLOCK(nodes_lock);
	return r;
}

char *shmfs_child_path(const char *dir, const char *name)
{
	return dir[0] ? g_strconcat(dir, "/", name, NULL) : g_strdup(name);
}
