/* events.h - `events` at the mount's root: the history of segments made
 * and removed, one JSON line each, the newest events_max kept (see
 * events.c). */
#ifndef SHMFS_EVENTS_H
#define SHMFS_EVENTS_H

#include "backend.h"

/* The file, as a backend the front reaches by name at the root. */
extern const struct shmfs_backend shmfs_events_file;
#define EVENTS_FILE_NAME "events"
#define EVENTS_DEFAULT_MAX 10000

/* Keep the newest max lines (before the watcher starts). */
void shmfs_events_init(unsigned max);
/* The watcher's sink (backend.h: shm_event_sink). */
void shmfs_events_add(const struct shm_event *ev);
/* Lines written and lines dropped from the ring since the start. */
void shmfs_events_counts(uint64_t *written, uint64_t *dropped);

#endif
