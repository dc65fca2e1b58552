/* prune.c - the thread that drops gone names from the kernel's cache (see
 * prune.h). */
#include <errno.h>
#include <string.h>

#include "prune.h"

struct prune_job {
	GArray *names; /* struct shmfs_unlisted; NULL: stop */
};

/* prune_lock protects thread (queueing while it runs); the queue locks
 * itself. */
G_LOCK_DEFINE_STATIC(prune_lock);
static GThread *thread;
static GAsyncQueue *jobs;
static guint64 pruned; /* atomic */

static void job_free(struct prune_job *j)
{
	if (j->names)
		g_array_unref(j->names);
	g_free(j);
}

static gpointer prune_main(gpointer data)
{
	struct fuse_session *s = data;
	struct prune_job *j;

	while ((j = g_async_queue_pop(jobs))->names) {
		for (guint i = 0; i < j->names->len; i++) {
			const struct shmfs_unlisted *u = &g_array_index(
				j->names, struct shmfs_unlisted, i);
			size_t n = strlen(u->name);

			/* -ENOENT: the kernel had dropped it already. */
			if ((u->deleted &&
			     fuse_lowlevel_notify_delete(s, u->parent, u->ino,
							 u->name, n) == 0) ||
			    fuse_lowlevel_notify_inval_entry(s, u->parent,
							     u->name, n) == 0)
				__atomic_fetch_add(&pruned, 1,
						   __ATOMIC_RELAXED);
		}
		job_free(j);
	}
	job_free(j);
	return NULL;
}

int shmfs_prune_start(struct fuse_session *s)
{
	jobs = g_async_queue_new_full((GDestroyNotify)job_free);
	G_LOCK(prune_lock);
	thread = g_thread_try_new("shmfs-prune", prune_main, s, NULL);
	G_UNLOCK(prune_lock);
	return thread ? 0 : -EAGAIN;
}

void shmfs_prune_stop(void)
{
	GThread *t;

	G_LOCK(prune_lock);
	t = g_steal_pointer(&thread);
	G_UNLOCK(prune_lock);
	if (t) {
		g_async_queue_push(jobs, g_new0(struct prune_job, 1));
		g_thread_join(t);
	}
	if (jobs)
		g_async_queue_unref(g_steal_pointer(&jobs));
}

void shmfs_prune_queue(GArray *names)
{
	struct prune_job *j;

	G_LOCK(prune_lock);
	if (!thread || !names->len) {
		G_UNLOCK(prune_lock);
		g_array_unref(names);
		return;
	}
	j = g_new0(struct prune_job, 1);
	j->names = names;
	g_async_queue_push(jobs, j);
	G_UNLOCK(prune_lock);
}

guint64 shmfs_prune_count(void)
{
	return __atomic_load_n(&pruned, __ATOMIC_RELAXED);
}
