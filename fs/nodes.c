/* nodes.c - the inode table (see nodes.h). */
#include <errno.h>
#include <string.h>

#include "nodes.h"

struct shmfs_node {
	fuse_ino_t ino;
	const struct shmfs_backend *be;
	char *path;
	mode_t type;
	char *key; /* "kind/path:type": the by_name key */
	uint64_t nlookup;
	GPtrArray *files; /* open files (struct shmfs_file *), may be NULL */
	bool pinned; /* root and backend dirs: never forgotten */
};

/* nodes_lock protects by_ino, by_name, next_ino and every node's nlookup
 * and files. */
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
	if (n->files)
		g_ptr_array_unref(n->files);
	g_free(n);
}

static char *node_key(const struct shmfs_backend *be, const char *path,
		      mode_t type)
{
	return g_strdup_printf("%s/%s:%o", be ? be->name : "", path,
			       (unsigned)(type & S_IFMT));
}

/* Called with nodes_lock held. */
static struct shmfs_node *node_new(const struct shmfs_backend *be,
				   const char *path, mode_t type,
				   fuse_ino_t ino)
{
	struct shmfs_node *n = g_new0(struct shmfs_node, 1);

	n->ino = ino;
	n->be = be;
	n->path = g_strdup(path);
	n->type = type & S_IFMT;
	n->key = node_key(be, path, type);
	g_hash_table_insert(by_ino, &n->ino, n);
	g_hash_table_insert(by_name, n->key, n);
	return n;
}

void shmfs_nodes_init(const struct shmfs_backend *const *bes, size_t n)
{
	by_ino = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
				       node_free);
	by_name = g_hash_table_new(g_str_hash, g_str_equal);
	backends = bes;
	node_new(NULL, "", S_IFDIR, FUSE_ROOT_ID)->pinned = true;
	for (size_t i = 0; i < n; i++)
		node_new(bes[i], "", S_IFDIR, next_ino++)->pinned = true;
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
		r = 0;
	}
	G_UNLOCK(nodes_lock);
	return r;
}

void shmfs_ref_clear(struct shmfs_ref *ref)
{
	g_clear_pointer(&ref->path, g_free);
}

fuse_ino_t shmfs_node_lookup(const struct shmfs_backend *be, const char *path,
			     mode_t type)
{
	g_autofree char *key = node_key(be, path, type);
	struct shmfs_node *n;
	fuse_ino_t ino;

	G_LOCK(nodes_lock);
	n = g_hash_table_lookup(by_name, key);
	if (!n)
		n = node_new(be, path, type, next_ino++);
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

void shmfs_node_add_file(fuse_ino_t ino, void *file)
{
	struct shmfs_node *n;

	G_LOCK(nodes_lock);
	n = g_hash_table_lookup(by_ino, &ino);
	if (n) {
		if (!n->files)
			n->files = g_ptr_array_new();
		g_ptr_array_add(n->files, file);
	}
	G_UNLOCK(nodes_lock);
}

void shmfs_node_remove_file(fuse_ino_t ino, void *file)
{
	struct shmfs_node *n;

	G_LOCK(nodes_lock);
	n = g_hash_table_lookup(by_ino, &ino);
	if (n && n->files)
		g_ptr_array_remove_fast(n->files, file);
	G_UNLOCK(nodes_lock);
}

int shmfs_node_with_file(fuse_ino_t ino, int (*fn)(void *file, void *arg),
			 void *arg)
{
	struct shmfs_node *n;
	int r = -ENOENT;

	G_LOCK(nodes_lock);
	n = g_hash_table_lookup(by_ino, &ino);
	if (n && n->files && n->files->len)
		r = fn(g_ptr_array_index(n->files, 0), arg);
	G_UNLOCK(nodes_lock);
	return r;
}

void shmfs_nodes_drain_files(void (*fn)(void *file))
{
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	G_LOCK(nodes_lock);
	g_hash_table_iter_init(&it, by_ino);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct shmfs_node *n = v;

		for (guint i = 0; n->files && i < n->files->len; i++)
			g_ptr_array_add(all, g_ptr_array_index(n->files, i));
		if (n->files)
			g_ptr_array_set_size(n->files, 0);
	}
	G_UNLOCK(nodes_lock);
	for (guint i = 0; i < all->len; i++)
		fn(g_ptr_array_index(all, i));
}

void shmfs_nodes_open_inos(GArray *out)
{
	GHashTableIter it;
	gpointer v;

	G_LOCK(nodes_lock);
	g_hash_table_iter_init(&it, by_ino);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct shmfs_node *n = v;

		if (n->files && n->files->len)
			g_array_append_val(out, n->ino);
	}
	G_UNLOCK(nodes_lock);
}

char *shmfs_child_path(const char *dir, const char *name)
{
	return dir[0] ? g_strconcat(dir, "/", name, NULL) : g_strdup(name);
}
