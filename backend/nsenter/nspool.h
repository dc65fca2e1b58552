/* nspool.h - threads that act inside other IPC namespaces.
 *
 * setns(CLONE_NEWIPC) changes only the calling thread, so a call for a
 * namespace runs on a pool thread that has entered it, never on a FUSE
 * thread and never on a thread of another namespace.  The pool is
 * bounded: a thread serves one namespace at a time, stays in it for a
 * moment after its last call (a burst of calls enters once), then leaves
 * it (holding nothing that keeps a namespace alive) and, idle for longer,
 * exits.  A call for a namespace with no free thread waits for one.
 * 500 idle containers cost no thread at all.
 */
#ifndef SHMFS_NSPOOL_H
#define SHMFS_NSPOOL_H

#include <sys/types.h>

#include <glib.h>

/* A namespace and a process in it: the thread enters ns through
 * /proc/PID/ns/ipc and uses /proc/PID/root/dev/shm as the POSIX
 * directory. */
struct ns_target {
	ino_t ns;
	pid_t pid;
};

/* Run fn(arg) on a pool thread inside t->ns; fn's result.  -ESRCH, with
 * fn not called, when t->pid is no longer in t->ns (it exited, or its
 * pid now names another process). */
int ns_pool_run(const struct ns_target *t, int (*fn)(void *arg), void *arg);
/* The same, for a call that comes back periodically (the watcher's): the
 * thread leaves the namespace right after it instead of staying a moment,
 * so that such calls never keep a namespace held; *cpu_us is the CPU the
 * thread spent on it, entering and leaving included. */
int ns_pool_run_brief(const struct ns_target *t, int (*fn)(void *arg),
		      void *arg, gint64 *cpu_us);

/* At most max threads; once, before the first call.  0, or -errno if
 * the daemon's own namespace cannot be held (to come back to). */
int ns_pool_init(unsigned max);
/* Stop every thread (each leaves its namespace first). */
void ns_pool_fini(void);

/* How many threads exist now, and how many are inside a namespace. */
void ns_pool_counts(unsigned *threads, unsigned *entered);

#endif
