/* passthrough.h - the data path of an inode's opens (inode.h).  On the
 * passthrough path that is one backing id, registered with the kernel
 * before the first open is answered, shared by every later open of the
 * inode, and released after its last release: the kernel allows one
 * backing file per inode, an id closed before an open completes fails
 * that open with EIO, and an inode cannot have passthrough and page-cache
 * opens at once.  So the path is chosen when an inode has no open file,
 * and kept until it has none.
 *
 * Thread-safe: each inode's lock (see the order in inode.h).
 */
#ifndef SHMFS_PASSTHROUGH_H
#define SHMFS_PASSTHROUGH_H

#include "file.h"

/* init: ask for a capability if the kernel offers it. */
void shmfs_io_want(struct fuse_conn_info *conn, uint64_t flag);
/* init: ask the kernel for passthrough when `want`; logs once what the
 * mount got. */
void shmfs_io_negotiate(struct fuse_conn_info *conn, bool want);
/* Whether this mount passes files through (the kernel granted it, and it
 * was not refused since for want of privilege). */
bool shmfs_io_mount_passthrough(void);

/* f is a new open of f->inode: choose its path, set f->io and what the
 * open reply carries in fi (backing_id, direct_io, keep_cache), and list
 * f among the inode's open files (the list holds no reference: f is
 * listed until shmfs_io_close).  Before the reply is sent. */
void shmfs_io_open(fuse_req_t req, struct shmfs_file *f,
		   struct fuse_file_info *fi);
/* f's open ended (its release, or its open reply could not be sent):
 * unlist it and, after the inode's last open, release the backing id
 * through the session (never through a request, which a reply frees).
 * False, and nothing done, if f was not listed (closed already). */
bool shmfs_io_close(struct fuse_session *se, struct shmfs_file *f);

/* "passthrough" or "fallback": the path in's opens take now, or (none
 * open) the path a new open takes unless its backing file is refused. */
const char *shmfs_io_name(struct shmfs_inode *in);

#endif
