/* startup.h - what is checked and done before a mount, each failure one
 * line on stderr (and exit status 1): the FUSE device, the mount point
 * (a dead mount left by a daemon that died is detached), the IPC
 * namespace the options name. */
#ifndef SHMFS_STARTUP_H
#define SHMFS_STARTUP_H

#include <glib.h>

struct shmfs_opts;

/* Print "shmfs: " and the message; -1. */
int shmfs_startup_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
int shmfs_check_fuse_device(void);
int shmfs_check_mountpoint(const char *mnt);
/* Enter the IPC namespace o names (--ipc-ns, --pid; --pid also sets the
 * POSIX directory).  Done before any thread or fork exists, so every
 * worker thread is in it (setns is per thread). */
int shmfs_enter_ipc_ns(struct shmfs_opts *o);

#endif
