/* procpass.h - one pass over /proc, for procscan.c alone (procscan.h is
 * the layer's interface): every process's shared file mappings, open
 * files and namespace and container, read into an immutable snapshot.
 * procscan.c decides when a pass runs and who shares it.
 */
#ifndef SHMFS_PROCPASS_H
#define SHMFS_PROCPASS_H

#include "procscan.h"

/* An immutable snapshot, but for `refs`. */
struct shm_proc {
	gint refs;
	unsigned have;	    /* SHM_PROC_* read */
	gint64 began;	    /* monotonic microseconds */
	GArray *maps;	    /* struct shm_mapping */
	GArray *tasks;	    /* struct shm_task (SHM_PROC_TASKS) */
	GHashTable *pids;   /* struct shm_file_id * -> GArray of pid_t */
	GHashTable *in_use; /* struct shm_file_id * set: mapped or open */
};

/* A pass reading need (SHM_PROC_*), begun at `began`, with one
 * reference; free it when the last is dropped. */
struct shm_proc *proc_pass(unsigned need, gint64 began);
void proc_pass_free(struct shm_proc *p);

/* struct shm_file_id as a hash table's key. */
guint file_id_hash(gconstpointer p);
gboolean file_id_equal(gconstpointer a, gconstpointer b);

#endif
