/* sink.h - where every event of a segment made or removed goes: the
 * front's sink (shm_watch_start's), with the time and, where the event
 * names none, its namespace's container filled in.  It only receives:
 * creators.c, watch_posix.c and the watcher call it, it calls none of
 * them.  Not part of the backend interface. */
#ifndef SHMFS_SINK_H
#define SHMFS_SINK_H

#include "backend.h"

/* Events go to fn from now on (NULL: nowhere). */
void shm_sink_set(shm_event_sink fn);
/* Namespace ns is in container (an id; NULL: forget ns). */
void shm_sink_container(ino_t ns, const char *container);
/* Report ev.  Called with the caller's ordering lock held. */
void shm_watch_emit(struct shm_event *ev);

#endif
