/* tree_ops.c - the ops that make, link, move and remove names: mkdir,
 * rmdir, symlink, mknod of a FIFO, socket or device, link, rename.  Each
 * is one call of the backend's tree operation (backend.h), which answers
 * as the kind's directory does (posix/: tmpfs); the kinds that have none
 * answer EPERM (rename: EXDEV, so that mv copies).  What is made is
 * looked up and handed to the kernel as any lookup is; a rename moves the
 * inodes of the names it moved (inode.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shmfs.h"

/* The backend and path of (parent, name), where a name can be changed:
 * not at the mount's root, not a kind's own directory. */
static int changeable(fuse_ino_t parent, const char *name,
		      const struct shmfs_backend **be, char **path)
{
	int r = parent == FUSE_ROOT_ID ? -EPERM :
					 shmfs_child_of(parent, name, be, path);

	if (r == 0 && !(*path)[0])
		r = -EPERM; /* a kind's own directory */
	return r;
}

/* What op made at path, as a lookup hands it to the kernel. */
static void reply_made(fuse_req_t req, fuse_ino_t parent,
		       const struct shmfs_backend *be, const char *path,
		       const char *op, const char *name)
{
	struct fuse_entry_param e;
	struct shm_attr a;
	fuse_ino_t ino;
	int r = be->stat(path, &a);

	if (r)
		return shmfs_reply_err(req, r, op, name);
	ino = shmfs_inode_lookup(parent, be, path, &a);
	shmfs_fill_entry(req, &e, ino, &a);
	/* The caller was interrupted: the kernel took no entry. */
	if (fuse_reply_entry(req, &e) == -ENOENT)
		shmfs_inode_forget(ino, 1);
}

/* Make name in parent with op (its path, the caller's uid and gid
 * filled in here). */
static void make(fuse_req_t req, fuse_ino_t parent, const char *name,
		 struct shm_tree_op *op, const char *what)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	const struct shmfs_backend *be;
	g_autofree char *path = NULL;
	int r = changeable(parent, name, &be, &path);

	if (r == 0) {
		op->path = path;
		op->uid = ctx->uid;
		op->gid = ctx->gid;
		r = shm_be_tree(be, op);
	}
	if (r)
		return shmfs_reply_err(req, r, what, name);
	reply_made(req, parent, be, path, what, name);
}

void shmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode)
{
	shmfs_serve(req);
	struct shm_tree_op op = { .what = SHM_MKDIR,
				  .mode = S_IFDIR | (mode & 07777) };

	make(req, parent, name, &op, "mkdir");
}

void shmfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		   const char *name)
{
	shmfs_serve(req);
	struct shm_tree_op op = { .what = SHM_SYMLINK,
				  .to = link,
				  .mode = S_IFLNK | 0777 };

	make(req, parent, name, &op, "symlink");
}

void shmfs_mknod_special(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode, dev_t rdev)
{
	struct shm_tree_op op = { .what = SHM_MKNOD,
				  .mode = mode,
				  .rdev = rdev };

	make(req, parent, name, &op, "mknod");
}

void shmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	shmfs_serve(req);
	const struct shmfs_backend *be;
	g_autofree char *path = NULL;
	int r = changeable(parent, name, &be, &path);

	if (r == 0)
		r = shm_be_tree(be, &(struct shm_tree_op){ .what = SHM_RMDIR,
							   .path = path });
	shmfs_reply_err(req, r, "rmdir", name);
}

void shmfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);
	const struct shmfs_backend *be;
	g_autofree char *to = NULL;
	int r = in ? changeable(newparent, newname, &be, &to) : -ENOENT;

	if (r == 0 && (be != in->be || !in->be || !shmfs_inode_path(in)[0]))
		r = be != in->be ? -EXDEV : -EPERM;
	if (r == 0)
		r = shm_be_tree(be, &(struct shm_tree_op){
					    .what = SHM_LINK,
					    .path = shmfs_inode_path(in),
					    .to = to,
				    });
	if (r)
		return shmfs_reply_err(req, r, "link", newname);
	reply_made(req, newparent, be, to, "link", newname);
}

void shmfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	shmfs_serve(req);
	const struct shmfs_backend *be, *to_be;
	g_autofree char *path = NULL, *to = NULL;
	int r = changeable(parent, name, &be, &path);

	if (r == 0)
		r = changeable(newparent, newname, &to_be, &to);
	if (r == 0 && be != to_be)
		r = -EXDEV;
	if (r == 0)
		r = shm_be_tree(be, &(struct shm_tree_op){ .what = SHM_RENAME,
							   .path = path,
							   .to = to,
							   .flags = flags });
	if (r == 0)
		shmfs_inodes_renamed(be, path, to, flags & RENAME_EXCHANGE);
	shmfs_reply_err(req, r, "rename", name);
}
