/* watch.h - the watcher's side the kinds call (backend.h has the
 * front's: shm_watch_start, shm_watch_counts).  Not part of the backend
 * interface.
 */
#ifndef SHMFS_WATCH_H
#define SHMFS_WATCH_H

#include "backend.h"

/* Report ev (its time and, where it has none, its namespace's container
 * are filled in here).  Called with the caller's ordering lock held. */
void shm_watch_emit(struct shm_event *ev);

/* A listing of a POSIX directory is about to read it: the changes the
 * kernel has queued for the watcher are reported first, so that nothing
 * a listing shows is reported later than it. */
void shm_watch_posix_sync(void);

#endif
