/* shmfs.h - what the parts of the FUSE front share: the per-mount state,
 * the ops table, and the helpers every op uses to answer (reply.c).
 *
 * The front's locks and their order are written in inode.h, where the
 * inode they guard is defined; refresh_lock (fallback_refresh.c) only
 * stops the refresh thread and is taken alone.
 */
#ifndef SHMFS_H
#define SHMFS_H

#define FUSE_USE_VERSION 316
#include <fuse_lowlevel.h>

#include "backend.h"
#include "inode.h"
#include "root.h"

#define SHMFS_VERSION "0.2.0"

/* Per-mount state, the session's userdata; read-only once mounted. */
struct shmfs_state {
	struct fuse_session *se;
	const char *mountpoint; /* absolute */
	double timeout;	     /* seconds the kernel may cache names and attrs */
	unsigned refresh_ms; /* fallback: drop open files' cached pages this
			      * often */
	bool passthrough; /* use FUSE passthrough where the kernel grants it */
	struct timespec started;
};

const struct fuse_lowlevel_ops *shmfs_lowlevel_ops(void);

static inline struct shmfs_state *shmfs_state_of(fuse_req_t req)
{
	return (struct shmfs_state *)fuse_req_userdata(req);
}

/* Every op begins here: the thread serves req's caller (backend's
 * caller.h), whose rights its native calls then have. */
void shmfs_serve(fuse_req_t req);
/* The one place a -errno becomes a reply (0 replies success). */
void shmfs_reply_err(fuse_req_t req, int r, const char *op, const char *path);
void shmfs_attr_to_stat(const struct shm_attr *a, fuse_ino_t ino,
			struct stat *st);
void shmfs_fill_entry(fuse_req_t req, struct fuse_entry_param *e,
		      fuse_ino_t ino, const struct shm_attr *a);
/* 0 if in's name still means in's object; -ENOENT if it was removed, or
 * now means another object (a change must then touch neither: the
 * removed object is out of reach, and the new one is not what the
 * caller's inode stands for). */
int shmfs_inode_still_named(struct shmfs_inode *in);

/* fi->fh is a struct shmfs_file (file.h) or a struct shmfs_dir (dir.c);
 * both begin with this tag (setattr may pass a directory's handle). */
enum { SHMFS_FH_FILE = 1, SHMFS_FH_DIR };

/* xattr ops (xattr_ops.c). */
void shmfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    size_t size);
void shmfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void shmfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags);
void shmfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* Directory ops (dir.c). */
void shmfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void shmfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void shmfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi);
void shmfs_releasedir(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi);

/* Ops that change names (tree_ops.c); unlink is in ops.c, the regular
 * files' mknod and create in file.c. */
void shmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode);
void shmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void shmfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		   const char *name);
void shmfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname);
void shmfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname,
		  unsigned int flags);
/* mknod of anything but a regular file: a FIFO, socket or device. */
void shmfs_mknod_special(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode, dev_t rdev);

#endif
