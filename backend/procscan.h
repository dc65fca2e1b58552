/* procscan.h - who maps what: shared mappings of every process, from
 * /proc/PID/maps.  Costly (reads every process's maps): called only when
 * someone asks who maps a segment, or lists mapped/. */
#ifndef SHMFS_PROCSCAN_H
#define SHMFS_PROCSCAN_H

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

/* One MAP_SHARED mapping of a file. */
struct shm_mapping {
	pid_t pid;
	dev_t dev;
	ino_t ino;
	char *path; /* as the kernel names it now; " (deleted)" if removed */
};

/* Every shared file mapping of every process whose maps we may read, one
 * entry per (pid, dev, ino): a GArray of struct shm_mapping that frees its
 * paths.  With paths false, path is NULL (cheaper). */
GArray *shm_scan_shared(bool paths);

/* The distinct pids, ascending, among scan entries for which match(m, arg)
 * is true: a GArray of pid_t. */
GArray *shm_scan_pids(const GArray *scan,
		      bool (*match)(const struct shm_mapping *m, void *arg),
		      void *arg);

#endif
