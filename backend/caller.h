/* caller.h - who the calling thread acts for, and acting as them.
 *
 * The front sets, for each request a thread serves, the uid, gid and pid
 * of the process that made it (none for the daemon's own threads; a
 * namespace pool thread takes its asker's, nscall.c).  A kind makes each
 * native call that a user makes natively (open, create, unlink, rename,
 * chmod, chown, truncate, setxattr, shmat, shmctl IPC_SET and IPC_RMID)
 * between shm_as_caller and shm_as_daemon: the calling thread, alone,
 * then has the caller's effective and file system uid and gid and its
 * supplementary groups (raw setresuid/setresgid/setgroups, which change
 * one thread), so that the kernel's own checks decide: mode bits, ACLs,
 * sticky directories, protected links, ipcperms with cuid and cgid.  The
 * thread has no capability meanwhile (the kernel drops them when its
 * effective uid leaves 0), so a caller other than root gets none either.
 * Root's calls, and calls with no caller, are made as the daemon.
 *
 * Nothing that reads /proc for the daemon (a pass, a creator's command
 * line) or opens a segment's memory file may run as the caller: those
 * need the daemon's own rights.  Thread-local: nothing to lock.
 */
#ifndef SHMFS_CALLER_H
#define SHMFS_CALLER_H

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

struct shm_caller {
	uid_t uid;
	gid_t gid;
	pid_t pid; /* in the daemon's pid namespace; 0 if unknown */
};

/* The calling thread now serves c (NULL: nobody). */
void shm_caller_set(const struct shm_caller *c);
/* Whom it serves, or NULL. */
const struct shm_caller *shm_caller(void);
/* Whether it serves someone other than root: whose rights are less than
 * the daemon's. */
bool shm_caller_unprivileged(void);

/* What shm_as_daemon restores. */
struct shm_as {
	bool switched;
};

/* Act as the caller for the native calls that follow (nothing changes
 * for root or nobody): 0, or -errno if the thread could not become the
 * caller (the call must not be made then). */
int shm_as_caller(struct shm_as *s);
/* Act as the daemon again; errno is kept. */
void shm_as_daemon(struct shm_as *s);

/* The daemon's own work in the middle of a call made as the caller (a
 * /proc pass, opening a memory file): the daemon's rights until
 * shm_caller_resume; false if the thread was the daemon already. */
bool shm_caller_pause(void);
void shm_caller_resume(bool paused);

/* Whether the caller could read process pid's /proc/PID/maps and root
 * natively (ptrace read access, the rule of /proc/PID/root): always for
 * root and nobody's calls. */
bool shm_caller_may_trace(pid_t pid);
/* Keep in pids (pid_t) only those the caller may ptrace-read: what it
 * could find in /proc/PID/maps natively. */
void shm_caller_keep_traceable(GArray *pids);

/* Run `call` (an expression yielding an int, 0 or -errno) as the
 * caller. */
#define SHM_AS_CALLER(call)                                                    \
	({                                                                     \
		struct shm_as _as;                                             \
		int _r = shm_as_caller(&_as);                                  \
		if (_r == 0) {                                                 \
			_r = (call);                                           \
			shm_as_daemon(&_as);                                   \
		}                                                              \
		_r;                                                            \
	})

#endif
