/* metrics.h - shmfs.prom, the mount's Prometheus file (see metrics.c);
 * the counters it reads are counters.h's. */
#ifndef SHMFS_METRICS_H
#define SHMFS_METRICS_H

#include "inode.h"

/* The file, as a backend the front reaches by name at the root. */
extern const struct shmfs_backend shmfs_metrics_file;
#define METRICS_FILE_NAME "shmfs.prom"
/* Whether name, at the root, is the metrics file. */
bool shmfs_metrics_name(const char *name);

#endif
