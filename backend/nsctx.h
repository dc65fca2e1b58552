/* nsctx.h - where the calling thread acts: its IPC namespace, and the
 * POSIX directory a kind should use.
 *
 * The daemon's own threads act in the daemon's IPC namespace and in the
 * POSIX directory of the mount's options.  A thread of the namespace
 * pool (nspool.h) has entered another IPC namespace with setns, and sets
 * the /dev/shm of a process in it here before it runs a call.  Backends
 * ask these functions, never a global, so that one backend serves every
 * namespace.  Thread-local: nothing to lock.
 */
#ifndef SHMFS_NSCTX_H
#define SHMFS_NSCTX_H

#include <stdbool.h>
#include <sys/types.h>

/* The calling thread's IPC namespace, as the inode number of
 * /proc/thread-self/ns/ipc (what lsns prints). */
ino_t shm_ctx_ipc_ns(void);

/* Whether this thread acts in another namespace than the daemon's (a pool
 * thread inside one). */
bool shm_ctx_foreign(void);
/* The POSIX directory of that namespace: an open directory, or -1 where
 * it has none (then it has no POSIX objects). */
int shm_ctx_posix_fd(void);
/* Its path, for user.shm.path. */
const char *shm_ctx_posix_path(void);

/* A pool thread's context: ipc_ns is the namespace it entered (0: the
 * daemon's); posix_fd (or -1) and posix_path are the caller's, and stay
 * valid until the next call. */
void shm_ctx_set(ino_t ipc_ns, int posix_fd, const char *posix_path);

/* The IPC namespace of process pid (0 if it is gone or unreadable). */
ino_t shm_ipc_ns_of_pid(pid_t pid);

#endif
