/* dir.c - directories: the mount's root (one directory per backend) and
 * each backend's directories.  An open directory is a snapshot of its
 * entries, so that offsets stay valid while segments come and go. */
#include <string.h>

#include "caller_limits.h"
#include "prune.h"
#include "shmfs.h"

/* An open directory. */
struct shmfs_dir {
	int kind;			/* SHMFS_FH_DIR */
	const struct shmfs_backend *be; /* of the entries; NULL at the root */
	char *path;
	GArray *ents; /* struct shm_dirent, "." and ".." first */
	uid_t uid;    /* whose open it is: one of its share (caller_limits.h) */
	bool counted;
};

static void dir_free(struct shmfs_dir *d)
{
	if (!d)
		return;
	if (d->counted)
		shmfs_open_give(d->uid);
	g_array_unref(d->ents);
	g_free(d->path);
	g_free(d);
}

typedef struct shmfs_dir shmfs_dir;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(shmfs_dir, dir_free)

static void dir_add_dots(struct shmfs_dir *d)
{
	struct shm_attr dot = { .mode = S_IFDIR };

	shm_dirents_add(d->ents, ".", &dot);
	shm_dirents_add(d->ents, "..", &dot);
}

/* The names the kernel still holds under d that its listing no longer
 * has go from the kernel's cache (prune.h). */
static void prune_unlisted(fuse_ino_t ino, const struct shmfs_dir *d)
{
	g_autoptr(GHashTable) listed =
		g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < d->ents->len; i++) {
		struct shm_dirent *de =
			&g_array_index(d->ents, struct shm_dirent, i);

		g_hash_table_insert(listed, de->name, &de->attr);
	}
	shmfs_prune_queue(shmfs_inode_unlisted(ino, listed));
}

void shmfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);
	g_autoptr(shmfs_dir) d = NULL;
	int r;

	if (!in)
		return shmfs_reply_err(req, -ENOENT, "opendir", NULL);
	d = g_new0(struct shmfs_dir, 1);
	/* An open directory keeps its listing: it counts as an open. */
	d->uid = fuse_req_ctx(req)->uid;
	r = shmfs_open_take(d->uid);
	if (r)
		return shmfs_reply_err(req, r, "opendir", shmfs_inode_path(in));
	d->counted = true;
	d->kind = SHMFS_FH_DIR;
	d->be = in->be;
	d->path = g_strdup(shmfs_inode_path(in));
	d->ents = shm_dirents_new();
	dir_add_dots(d);
	r = 0;
	if (in->be) {
		r = shm_be_list(in->be, shmfs_inode_path(in), d->ents);
		if (!r)
			shmfs_front_list(in->be, shmfs_inode_path(in), d->ents);
	} else
		shmfs_root_list(d->ents);
	if (r)
		return shmfs_reply_err(req, r, "opendir", shmfs_inode_path(in));
	if (d->be)
		prune_unlisted(ino, d);
	fi->fh = (uint64_t)(uintptr_t)g_steal_pointer(&d);
	if (fuse_reply_open(req, fi) == -ENOENT)
		dir_free((struct shmfs_dir *)fi->fh); /* interrupted */
}

static bool is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* Where an entry of d lives: (backend, path) for a lookup. */
static void dir_child(const struct shmfs_dir *d, const char *name,
		      const struct shmfs_backend **be, char **path)
{
	if (d->be) {
		if (shmfs_front_child(d->be, d->path, name, be, path) == 0)
			return;
		*be = d->be;
		*path = shmfs_child_path(d->path, name);
	} else if (shmfs_root_child(name, be, path) != 0) {
		*be = NULL;
		*path = g_strdup("");
	}
}

/* The link the listing hands the kernel answers the readlink that
 * `ls -l` makes right after, for as long as the kernel keeps its
 * attributes: the listing shows what it saw, not an error. */
static void keep_link(fuse_ino_t ino, const char *target)
{
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);

	if (in)
		shmfs_inode_keep_link(in, target);
}

static void do_readdir(fuse_req_t req, fuse_ino_t dir, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct shmfs_dir *d = (struct shmfs_dir *)fi->fh;
	g_autofree char *buf = g_malloc(size);
	size_t pos = 0;

	for (guint i = (guint)off; i < d->ents->len; i++) {
		struct shm_dirent *de =
			&g_array_index(d->ents, struct shm_dirent, i);
		const struct shmfs_backend *be;
		g_autofree char *path = NULL;
		struct fuse_entry_param e;
		fuse_ino_t ino = 0;
		size_t n;

		if (plus && !is_dot(de->name)) {
			dir_child(d, de->name, &be, &path);
			ino = shmfs_inode_lookup(dir, be, path, &de->attr);
			if (de->target)
				keep_link(ino, de->target);
		}
		shmfs_fill_entry(req, &e, ino, &de->attr);
		if (!plus || is_dot(de->name)) {
			/* glibc skips d_ino 0: give any non-zero number. */
			e.attr.st_ino = FUSE_ROOT_ID;
			e.ino = 0;
		}
		n = plus ? fuse_add_direntry_plus(req, buf + pos, size - pos,
						  de->name, &e, i + 1) :
			   fuse_add_direntry(req, buf + pos, size - pos,
					     de->name, &e.attr, i + 1);
		if (n > size - pos) {
			if (ino)
				shmfs_inode_forget(ino, 1);
			break;
		}
		pos += n;
	}
	fuse_reply_buf(req, buf, pos);
}

void shmfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	shmfs_serve(req);
	do_readdir(req, ino, size, off, fi, false);
}

void shmfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	shmfs_serve(req);
	do_readdir(req, ino, size, off, fi, true);
}

void shmfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	shmfs_serve(req);
	(void)ino;
	dir_free((struct shmfs_dir *)fi->fh);
	fuse_reply_err(req, 0);
}
