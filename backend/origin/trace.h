/* trace.h - who makes and removes segments, from the kernel's own calls
 * (eBPF: trace.bpf.c), into the store of origins (origins.h).
 *
 * Where the kernel and the daemon's privileges allow (BTF, CAP_BPF or
 * CAP_SYS_ADMIN, fentry/fexit), every System V segment made or removed
 * (IPC_RMID, or the kernel's forced removal) and every file made or
 * unlinked in a watched /dev/shm names its caller, read at the call: pid,
 * command line, container (its cgroup) and IPC namespace.  A creator that
 * exits at once is named all the same; a remover is named even where it
 * is not the creator.  Where the program cannot load (an older kernel, no
 * BTF, no privilege, -o trace=off), nothing changes: the creators come
 * from /proc and fanotify (creators.c, watch_posix.c), removers are not
 * known, and trace_active() says so.
 *
 * Events reach the store from a thread of its own; the watchers call
 * shm_trace_drain() before they emit an object's event, so that what the
 * kernel has already reported is in the store first.  Locks: the ring's
 * lock, then the origins' lock.
 */
#ifndef SHMFS_TRACE_H
#define SHMFS_TRACE_H

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

/* Load and attach the program and start the thread: 0, or -errno (why
 * it could not: the daemon goes on without it).  The programs run on the
 * calls' own functions (trampolines: nothing else pays) where the kernel
 * allows and syscalls is false, else on every system call's tracepoints
 * (each call pays a test). */
int shm_trace_start(const char *posix_dir, bool syscalls);
void shm_trace_stop(void);
bool shm_trace_active(void);
/* On what the programs run: "calls", "syscalls", or NULL (not running). */
const char *shm_trace_hooks(void);
/* Report the files made and unlinked in the tmpfs of device dev. */
void shm_trace_watch_dev(dev_t dev);
/* Who unlinked name in the watched /dev/shm of namespace ns, device
 * dev, lately (each unlink answered once): its pid, command line and
 * container (new strings); false if the kernel did not say. */
bool shm_trace_unlinked(ino_t ns, dev_t dev, const char *name, pid_t *pid,
			char **command, char **container);
/* The same for who opened name with O_CREAT lately (its maker, where the
 * watcher sees the name made). */
bool shm_trace_created(ino_t ns, dev_t dev, const char *name, pid_t *pid,
		       char **command, char **container);
/* Take every event the kernel has queued into the store now. */
void shm_trace_drain(void);
/* Events the kernel dropped for a full ring, and events taken. */
guint64 shm_trace_lost(void);
guint64 shm_trace_seen(void);

#endif
