/* shmfs.h - what the parts of the FUSE front share: the per-mount state,
 * the ops table, and the helpers every op uses to answer.
 *
 * Locks of the front.  Each is taken alone: none is ever held while
 * another of them is taken, so there is no order to keep.
 *   io_lock (passthrough.c)    each inode's open files and data path
 *   nodes_lock (nodes.c)       the inode table
 *   shadow_lock (fallback_shadow.c)  the fallback's kept pages
 *   refresh_lock (fallback_refresh.c)  stopping the refresh thread
 * No backend call runs under io_lock or nodes_lock.  The fallback's
 * write-back calls the backend under shadow_lock on purpose, so that a
 * kept page and the segment change together; the backend takes at most
 * its own leaf lock there (pending_lock in sysv_key.c, when a write
 * makes a by-key/ file's segment).  For a file under ns/ that call waits
 * for a pool thread of its namespace (nspool.h), which takes none of the
 * front's locks.
 */
#ifndef SHMFS_H
#define SHMFS_H

#define FUSE_USE_VERSION 316
#include <fuse_lowlevel.h>

#include "backend.h"
#include "nodes.h"

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

/* The one place a -errno becomes a reply (0 replies success). */
void shmfs_reply_err(fuse_req_t req, int r, const char *op, const char *path);
void shmfs_attr_to_stat(const struct shm_attr *a, fuse_ino_t ino,
			struct stat *st);
void shmfs_fill_entry(fuse_req_t req, struct fuse_entry_param *e,
		      fuse_ino_t ino, const struct shm_attr *a);
/* What name at the mount's root is: a kind's directory (path "") or the
 * metrics file; -ENOENT for anything else. */
int shmfs_root_child(const char *name, const struct shmfs_backend **be,
		     char **path);
/* -ENAMETOOLONG for a name longer than NAME_MAX, else 0. */
int shmfs_name_ok(const char *name);
/* (parent, name) as a backend and a backend-relative path. */
int shmfs_child_of(fuse_ino_t parent, const char *name,
		   const struct shmfs_backend **be, char **path);
const struct shmfs_backend *shmfs_backend_named(const char *name);

/* fi->fh is a struct shmfs_file (file.h) or a struct shmfs_dir (dir.c);
 * both begin with this tag (setattr may pass a directory's handle). */
enum { SHMFS_FH_FILE = 1, SHMFS_FH_DIR };

/* Directory ops (dir.c). */
void shmfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void shmfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void shmfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi);
void shmfs_releasedir(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi);

#endif
