/* metrics.h - shmfs.prom, the mount's Prometheus file (see metrics.c),
 * and the counters the front keeps for it. */
#ifndef SHMFS_METRICS_H
#define SHMFS_METRICS_H

#include "inode.h"

/* The file, as a backend the front reaches by name at the root. */
extern const struct shmfs_backend shmfs_metrics_file;
#define METRICS_FILE_NAME "shmfs.prom"
/* Whether name, at the root, is the metrics file. */
bool shmfs_metrics_name(const char *name);

/* Count an open on its data path, and an error answered (errno > 0). */
void shmfs_metrics_open(enum shmfs_io io);
void shmfs_metrics_error(int err);
/* A backing file was registered (+1) or released (-1). */
void shmfs_metrics_backing(int delta);

#endif
