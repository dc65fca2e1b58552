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
	char *path; /* as the kernel names it now; " (deleted)" if removed;
		     * NULL for a mapping through the mount */
	/* Made through the mount (a file of shmfs itself): dev and ino are
	 * those of the object behind that file, and ns its IPC namespace
	 * where its identity needs one (a System V segment), else 0. */
	bool via_mount;
	ino_t ns;
};

/* The mount's own files: their device, and how to tell the object behind
 * one of them (the device and inode number its kind's files have; false
 * if ino names no such object).  Set once, before the mount serves; until
 * then, and for a file it cannot tell, a mapping of the mount is left
 * out of every scan. */
typedef bool (*shm_own_resolver)(ino_t ino, dev_t *dev, ino_t *obj, ino_t *ns);
void shm_scan_own_mount(dev_t dev, shm_own_resolver resolve);

/* Every shared file mapping of every process whose maps we may read, one
 * entry per (pid, dev, ino): a GArray of struct shm_mapping that frees its
 * paths.  With paths false, path is NULL (cheaper). */
GArray *shm_scan_shared(bool paths);

/* A file, by device and inode number; ns as in struct shm_mapping. */
struct shm_file_id {
	dev_t dev;
	ino_t ino;
	ino_t ns;
};

/* Every file some process maps MAP_SHARED or holds open (its descriptors
 * in /proc/PID/fd), files of the mount counted as the objects behind
 * them: a set of struct shm_file_id (see shm_file_ids_new).  Costlier
 * still than shm_scan_shared: it looks at every descriptor. */
GHashTable *shm_scan_in_use(void);
GHashTable *shm_file_ids_new(void);
bool shm_file_ids_has(GHashTable *set, dev_t dev, ino_t ino, ino_t ns);

/* The distinct pids, ascending, among scan entries for which match(m, arg)
 * is true: a GArray of pid_t. */
GArray *shm_scan_pids(const GArray *scan,
		      bool (*match)(const struct shm_mapping *m, void *arg),
		      void *arg);

#endif
