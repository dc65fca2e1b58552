/* startup.h - what is checked and done before a mount, each failure one
 * line on stderr (and exit status 1): the FUSE device, the mount point
 * (a dead mount left by a daemon that died is detached), the IPC
 * namespace the options name; and becoming a daemon whose starter
 * returns only once the mount serves. */
#ifndef SHMFS_STARTUP_H
#define SHMFS_STARTUP_H

#include <stdbool.h>

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

/* Unless in the foreground, become a daemon now, before any thread: the
 * process that started stays until the daemon is ready
 * (shmfs_daemon_ready) and then exits 0, or with the daemon's status if
 * it ended first (1 if killed).  So a mount a script sees is one that
 * already serves and whose watcher already watches.  0, or -1. */
int shmfs_daemon_start(bool foreground);
/* Ready: leave the working directory (so the daemon holds no
 * filesystem), and a daemon's stdin, stdout and stderr go to /dev/null
 * and the waiting starter exits 0. */
void shmfs_daemon_ready(void);

#endif
