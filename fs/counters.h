/* counters.h - what the front counts as it serves, for shmfs.prom: opens
 * by data path, errors answered by errno, backing files registered.  A
 * leaf: the ops count here, metrics.c only reads. */
#ifndef SHMFS_COUNTERS_H
#define SHMFS_COUNTERS_H

#include <stdint.h>

#include "inode.h"

/* The errnos counted: 1 to SHMFS_ERRNO_COUNTED - 1, all Linux has. */
#define SHMFS_ERRNO_COUNTED 134

/* Count an open on its data path, an error answered (errno > 0), a
 * backing file registered (+1) or released (-1). */
void shmfs_count_open(enum shmfs_io io);
void shmfs_count_error(int err);
void shmfs_count_backing(int delta);

/* What was counted. */
uint64_t shmfs_counted_opens(enum shmfs_io io);
uint64_t shmfs_counted_errors(int err);
int shmfs_counted_backing(void);

#endif
