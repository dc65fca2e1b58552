/* procscan.h - the /proc layer: who maps and who holds what, from one
 * pass over every process's /proc/PID/maps (and, where a question needs
 * it, its /proc/PID/fd), kept as one immutable, refcounted snapshot that
 * every question shares.  Not part of the backend interface.
 *
 * Freshness, the one rule: an answer comes from a pass that began at
 * most SHM_PROC_FRESH_US before the question, except that
 *   - the same question about the same file, asked again within the
 *     bound, comes from a pass begun after it is asked (so a program that
 *     polls one file, or asks again after a change it made, always sees
 *     now, while a sweep over many files shares one pass);
 *   - a System V segment attached or detached since a pass began is
 *     answered by a newer pass (the kernel's attach and detach times
 *     tell, to the second);
 *   - a caller that needs now (rm through unused/) asks for
 *     SHM_PROC_NOW: a pass that began after it asked.
 * Single flight: askers that may share a pass in progress wait for it
 * instead of starting their own, so many at once cost one pass; no pass
 * runs while nobody asks.
 * The bound: a user other than root (caller.h) never starts a pass while
 * one runs, nor sooner than SHM_PROC_GAP_US after the last one began and
 * four times as long as that one took; such askers wait and join the
 * next pass, which reads what they all need.  So no number of them (a
 * loop asking the same question again, which needs a new pass each
 * time) keeps /proc passes running more than a fifth of one core.  Root
 * and the daemon's own threads (the watcher) start a pass of their own
 * at once when the one in progress will not do.
 *
 * Identity: a file is (dev, ino, ns) as in struct shm_file_id; a System V
 * segment is (0, shmid, its IPC namespace), whether mapped natively (its
 * maps line names "/SYSV...") or through the mount.
 */
#ifndef SHMFS_PROCSCAN_H
#define SHMFS_PROCSCAN_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <glib.h>

/* One MAP_SHARED mapping of a file. */
struct shm_mapping {
	pid_t pid;
	dev_t dev;
	ino_t ino;
	char *path; /* as the kernel names it now; " (deleted)" if removed;
		     * NULL for a mapping through the mount, or in a snapshot
		     * made without SHM_PROC_PATHS */
	/* Made through the mount (a file of shmfs itself): dev and ino are
	 * those of the object behind that file. */
	bool via_mount;
	/* A System V segment's IPC namespace (dev is then 0); else 0. */
	ino_t ns;
};

/* The mount's own files: their device, and how to tell the object behind
 * one of them (the device and inode number its kind's files have; false
 * if ino names no such object).  Set once, before the mount serves; until
 * then, and for a file it cannot tell, a mapping of the mount is left
 * out of every pass. */
typedef bool (*shm_own_resolver)(ino_t ino, dev_t *dev, ino_t *obj, ino_t *ns);
void shm_scan_own_mount(dev_t dev, shm_own_resolver resolve);

/* A file, by device and inode number; ns as in struct shm_mapping. */
struct shm_file_id {
	dev_t dev;
	ino_t ino;
	ino_t ns;
};

/* What a pass reads. */
enum {
	SHM_PROC_MAPS = 1u << 0,  /* every process's shared file mappings */
	SHM_PROC_PATHS = 1u << 1, /* and each mapping's path (map_files) */
	SHM_PROC_FDS = 1u << 2,	  /* every process's descriptors */
	SHM_PROC_TASKS = 1u << 3, /* every process's IPC namespace and
				   * container (struct shm_task) */
};

/* One process, in a snapshot with SHM_PROC_TASKS. */
struct shm_task {
	pid_t pid;
	ino_t ns;		 /* its IPC namespace (nsfs inode number) */
	char *container;	 /* its container's id (cgroupid.h), or NULL */
	struct timespec started; /* when it started (its /proc entry) */
};

#define SHM_PROC_FRESH_US (1000 * 1000)
#define SHM_PROC_GAP_US (50 * 1000)
#define SHM_PROC_NOW 0

struct shm_proc;

/* A snapshot with at least `need`, begun at most max_age_us before now
 * (SHM_PROC_NOW: after now), shared if one is. */
struct shm_proc *shm_proc_get(unsigned need, gint64 max_age_us);
void shm_proc_unref(struct shm_proc *p);
/* Make p the pass that answers every question of the calling thread that
 * it can (a snapshot: one pass for all of it), NULL for none again; the
 * caller keeps its reference while pinned.  Returns what was pinned. */
struct shm_proc *shm_proc_pin(struct shm_proc *p);
struct shm_proc *shm_proc_pinned(void);
typedef struct shm_proc shm_proc;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(shm_proc, shm_proc_unref)

/* When p's pass began (monotonic microseconds): tells snapshots apart. */
gint64 shm_proc_began(const struct shm_proc *p);
/* Every shared file mapping, one entry per (pid, dev, ino). */
const GArray *shm_proc_maps(const struct shm_proc *p);
/* Every process (struct shm_task), ascending by pid. */
const GArray *shm_proc_tasks(const struct shm_proc *p);
/* Whether the file is mapped, or (a snapshot with SHM_PROC_FDS) open. */
bool shm_proc_in_use(const struct shm_proc *p, dev_t dev, ino_t ino, ino_t ns);

/* Who maps the file now: its pids, ascending (a new GArray of pid_t),
 * those of them whose maps the calling thread's caller could read
 * natively (caller.h: all, for root), under the freshness rule above;
 * `question` tells questions about one file apart (the SHM_META_* bits asked),
 * and `changed` (the wall clock in microseconds, or 0 if unknown) is when its
 * users last changed as far as the kernel tells (a System V segment's last
 * attach or detach): the answer comes from a pass begun after it. */
GArray *shm_proc_mappers(dev_t dev, ino_t ino, ino_t ns, unsigned question,
			 gint64 changed);

/* Passes made since the daemon started (shmfs.prom). */
guint64 shm_proc_passes(void);

#endif
