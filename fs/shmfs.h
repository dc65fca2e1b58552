/* shmfs.h - what main and the ops table share. */
#ifndef SHMFS_H
#define SHMFS_H

#include "nodes.h"

#define SHMFS_VERSION "0.1.0"

/* Per-mount state, the session's userdata; read-only once mounted. */
struct shmfs_state {
	struct fuse_session *se;
	double timeout;   /* seconds the kernel may cache names and attrs */
	struct timespec started;
};

const struct fuse_lowlevel_ops *shmfs_lowlevel_ops(void);

#endif
