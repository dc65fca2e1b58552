/* shmfs.h - what main and the ops table share. */
#ifndef SHMFS_H
#define SHMFS_H

#include "nodes.h"

#define SHMFS_VERSION "0.1.0"

/* Per-mount state, the session's userdata; read-only once mounted. */
struct shmfs_state {
	struct fuse_session *se;
	const char *mountpoint; /* absolute */
	double timeout;   /* seconds the kernel may cache names and attrs */
	unsigned refresh_ms; /* drop open files' cached pages this often */
	struct timespec started;
};

const struct fuse_lowlevel_ops *shmfs_lowlevel_ops(void);

/* The refresh thread: every refresh_ms, the kernel writes the dirty pages
 * of the mount back and drops the cached pages of every open file, so
 * that native writes reach mappings through the mount, and their writes
 * reach the segment, within that period.  Not started when refresh_ms is
 * 0. */
int shmfs_refresh_start(struct shmfs_state *st);
void shmfs_refresh_stop(void);

#endif
