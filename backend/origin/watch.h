/* watch.h - the watcher's side the kinds call (backend.h has the
 * front's: shm_watch_start, shm_watch_counts).  Not part of the backend
 * interface.
 */
#ifndef SHMFS_WATCH_H
#define SHMFS_WATCH_H

#include "backend.h"

/* The System V kind's look at the calling thread's namespace, which the
 * watcher's full rounds run (sysv_notice): set by that kind at init, so
 * that the watcher calls into no kind. */
void shm_watch_set_sysv_look(int (*look)(void));
/* A listing of a POSIX directory is about to read it: the changes the
 * kernel has queued for the watcher are reported first, so that nothing
 * a listing shows is reported later than it. */
void shm_watch_posix_sync(void);

/* POSIX object name in the directory dev:dir, of inode ino: its creator's
 * command line, container and that container's name (new strings, "" for
 * none or not known) and pid, where the watcher saw it made (fanotify:
 * Linux 6.7 and later); false if not. */
bool shm_watch_posix_creator(dev_t dev, ino_t dir, const char *name, ino_t ino,
			     char **command, char **container,
			     char **container_name, pid_t *pid);

/* watch_posix.c, for watch.c: start (0 or -errno; without it no POSIX
 * directory is watched), the descriptor to poll (-1: none), watch path as
 * namespace ns's directory (its objects made since the daemon started are
 * events), reach it through another path, how many are watched, stop. */
int watch_posix_init(const struct timespec *start);
int watch_posix_fd(void);
void watch_posix_add(ino_t ns, const char *path);
void watch_posix_repath(ino_t ns, const char *path);
guint watch_posix_dirs(void);
void watch_posix_fini(void);

#endif
