/* process_events.h - every process's command line and container, read when it
 * is made (fork) and when it runs a program (exec), from the kernel's process
 * events (the netlink proc connector), and kept for a bounded tail of the
 * processes that have exited since: so that the creator of a segment can be
 * named even when it exited before the daemon first saw the segment.
 * Root only (CAP_NET_ADMIN); without it, nothing is kept.  Not part of the
 * backend interface: creators.c's.
 */
#ifndef SHMFS_EXECS_H
#define SHMFS_EXECS_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <glib.h>

/* How many exited processes are remembered. */
#define SHM_EXECS_EXITED 8192

/* Start following process events: 0 or -errno (not root, or no proc
 * connector in this kernel). */
int shm_execs_start(void);
void shm_execs_stop(void);

/* The command line and container (new strings) of the process pid that
 * lived at ctime (whole seconds, as shm_ctime); false if none is known. */
bool shm_execs_lookup(pid_t pid, time_t ctime, char **command,
		      char **container);

/* The command line and container of pid, which acts now (it just made a
 * file): read from /proc, or as remembered if it has already exited;
 * false if neither. */
bool shm_execs_describe(pid_t pid, char **command, char **container);

/* Processes remembered now, and events lost to a full socket buffer. */
void shm_execs_counts(guint *kept, guint64 *lost);

#endif
