/* segments.h - the snapshot files: `segments` at the root (every segment
 * of the daemon's own namespace: System V, POSIX objects and semaphores,
 * mapped files) and ns/INODE/segments (namespace INODE's), one JSON object
 * per line per segment, with every user.shm.* attribute and where it is
 * (file, ns, container, container.name, unused); see segments.c.  The
 * front's own backend, reached by name (root.h). */
#ifndef SHMFS_SEGMENTS_H
#define SHMFS_SEGMENTS_H

#include "backend.h"

#define SEGMENTS_FILE_NAME "segments"
extern const struct shmfs_backend shmfs_segments_file;

#endif
