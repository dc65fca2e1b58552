/* makers.h - who made each name in a watched /dev/shm, where the kernel
 * says (fanotify's FAN_CREATE with the directory's handle and the name:
 * Linux 6.7 and later on tmpfs, as root).  Each event carries the pid
 * that made the name; its command line and container are read from /proc
 * when the watcher sees the name made (or taken from the process events,
 * process_events.h, if it has already exited), once per process in a
 * pass over the names.  Not started where the eBPF tracer runs (trace.h):
 * it names every maker at the call.
 *
 * For watch_posix.c, under its watch_lock.
 */
#ifndef SHMFS_MAKERS_H
#define SHMFS_MAKERS_H

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

/* Start: 0, or -errno (an older kernel, not root: no maker is known). */
int shm_makers_init(void);
/* Mark the directory at path: the name fanotify's events give it (a new
 * string), or NULL where it cannot be watched so. */
char *shm_makers_watch(const char *path);
/* A new pass over names (a read of inotify's events, a listing): what
 * /proc said of each process before is forgotten. */
void shm_makers_pass(void);
/* Who made name in the directory fanotify calls fid: its pid, command
 * line and container (new strings), or false. */
bool shm_makers_of(const char *fid, const char *name, pid_t *pid,
		   char **command, char **container);
void shm_makers_fini(void);

#endif
