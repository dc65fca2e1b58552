/* procscan.c - the /proc layer (see procscan.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "caller.h"
#include "cgroupid.h"
#include "nsctx.h"
#include "procpass.h"
#include "procscan.h"

/* proc_lock protects latest, running, running_have, running_began,
 * waiting_need, last_began, last_took and last_asked; proc_done wakes
 * those waiting for a pass. */
static GMutex proc_lock;
static GCond proc_done;
static struct shm_proc *latest;
static bool running; /* a pass that askers may wait for is in progress */
static unsigned running_have;
static gint64 running_began;
static unsigned waiting_need;	     /* SHM_PROC_* that waiters need */
static gint64 last_began, last_took; /* of the last pass */
static guint64 passes;		     /* atomic */
/* struct question -> when it was last asked (monotonic microseconds); no
 * older than SHM_PROC_FRESH_US (older ones need no pass of their own). */
static GHashTable *last_asked;

/* A question about a file: which file, and which SHM_META_* bits. */
struct question {
	struct shm_file_id f;
	unsigned q;
};

static guint question_hash(gconstpointer p)
{
	const struct question *x = p;

	return file_id_hash(&x->f) ^ (x->q * 2654435761u);
}

static gboolean question_equal(gconstpointer a, gconstpointer b)
{
	const struct question *x = a, *y = b;

	return x->q == y->q && file_id_equal(&x->f, &y->f);
}

void shm_proc_unref(struct shm_proc *p)
{
	if (p && g_atomic_int_dec_and_test(&p->refs))
		proc_pass_free(p);
}

static struct shm_proc *proc_ref(struct shm_proc *p)
{
	g_atomic_int_inc(&p->refs);
	return p;
}

/* The earliest a new pass may begin: SHM_PROC_GAP_US after the last one
 * began, or four times as long as it took; proc_lock held. */
static gint64 next_start(void)
{
	return last_began + MAX(SHM_PROC_GAP_US, 4 * last_took);
}

/* Run a pass for need (and what the waiters need), publish it, wake the
 * waiters; mine: this caller holds `running` for it. */
static struct shm_proc *run_pass(unsigned need, bool mine)
{
	gint64 began = g_get_monotonic_time();
	struct shm_proc *p;
	bool paused;

	/* proc_lock is held on entry and on return. */
	if (mine) {
		need |= waiting_need;
		waiting_need = 0;
		running = true;
		running_have = need;
		running_began = began;
	}
	g_mutex_unlock(&proc_lock);
	/* Every asker shares it: read with the daemon's rights. */
	paused = shm_caller_pause();
	p = proc_pass(need, began);
	__atomic_fetch_add(&passes, 1, __ATOMIC_RELAXED);
	shm_caller_resume(paused);
	g_mutex_lock(&proc_lock);
	if (!latest || p->began >= latest->began) {
		if (latest)
			shm_proc_unref(latest);
		latest = proc_ref(p);
	}
	if (mine)
		running = false;
	last_began = MAX(last_began, began);
	last_took = g_get_monotonic_time() - began;
	g_cond_broadcast(&proc_done);
	return p;
}

/* The pass this thread's questions share (shm_proc_pin), or NULL. */
static __thread struct shm_proc *pinned;

struct shm_proc *shm_proc_pin(struct shm_proc *p)
{
	struct shm_proc *was = pinned;

	pinned = p;
	return was;
}

struct shm_proc *shm_proc_pinned(void)
{
	return pinned;
}

struct shm_proc *shm_proc_get(unsigned need, gint64 max_age_us)
{
	gint64 asked = g_get_monotonic_time();
	/* The spacing holds users other than root back; the daemon's own
	 * threads and root's questions never wait for it. */
	bool limited = shm_caller_unprivileged();
	struct shm_proc *p;

	if (pinned && (pinned->have & need) == need)
		return proc_ref(pinned);
	g_mutex_lock(&proc_lock);
	for (;;) {
		if (latest && (latest->have & need) == need &&
		    latest->began >= asked - max_age_us) {
			p = proc_ref(latest);
			g_mutex_unlock(&proc_lock);
			return p;
		}
		/* A pass in progress that will do: wait for it, not for a
		 * pass of one's own after it. */
		if (running && (running_have & need) == need &&
		    running_began >= asked - max_age_us) {
			g_cond_wait(&proc_done, &proc_lock);
			continue;
		}
		if (!limited)
			break;
		/* A user other than root: one pass at a time, spaced;
		 * it joins the next. */
		if (running) {
			waiting_need |= need;
			g_cond_wait(&proc_done, &proc_lock);
			continue;
		}
		if (g_get_monotonic_time() < next_start()) {
			waiting_need |= need;
			g_cond_wait_until(&proc_done, &proc_lock, next_start());
			continue;
		}
		break;
	}
	/* Root and the daemon start their own at once if the one in
	 * progress will not do (as before the bound existed). */
	p = run_pass(need, !running);
	g_mutex_unlock(&proc_lock);
	return p;
}

gint64 shm_proc_began(const struct shm_proc *p)
{
	return p->began;
}

const GArray *shm_proc_maps(const struct shm_proc *p)
{
	return p->maps;
}

const GArray *shm_proc_tasks(const struct shm_proc *p)
{
	return p->tasks;
}

bool shm_proc_in_use(const struct shm_proc *p, dev_t dev, ino_t ino, ino_t ns)
{
	struct shm_file_id f = { dev, ino, ns };

	return g_hash_table_contains(p->in_use, &f);
}

/* When question k was asked before (0 if not within the bound), now
 * recorded as asked at `now`.  Called with proc_lock held. */
static gint64 ask(const struct question *k, gint64 now)
{
	GHashTableIter it;
	gpointer v;
	gint64 *at, prev = 0;

	if (!last_asked)
		last_asked = g_hash_table_new_full(
			question_hash, question_equal, g_free, g_free);
	/* Forget what is older than the bound, at most once per bound. */
	static gint64 pruned;
	if (now - pruned > SHM_PROC_FRESH_US) {
		g_hash_table_iter_init(&it, last_asked);
		while (g_hash_table_iter_next(&it, NULL, &v))
			if (now - *(gint64 *)v > SHM_PROC_FRESH_US)
				g_hash_table_iter_remove(&it);
		pruned = now;
	}
	at = g_hash_table_lookup(last_asked, k);
	if (at) {
		prev = *at;
	} else {
		at = g_new(gint64, 1);
		g_hash_table_insert(last_asked, g_memdup2(k, sizeof(*k)), at);
	}
	*at = now;
	return prev;
}

GArray *shm_proc_mappers(dev_t dev, ino_t ino, ino_t ns, unsigned question,
			 gint64 changed)
{
	struct question k = { { dev, ino, ns }, question };
	gint64 now = g_get_monotonic_time();
	gint64 max_age = SHM_PROC_FRESH_US, prev;
	GArray *a, *out = g_array_new(FALSE, FALSE, sizeof(pid_t));
	struct shm_proc *p;

	/* (A snapshot's questions are all answered by its one pass, and
	 * are no question asked again.) */
	g_mutex_lock(&proc_lock);
	prev = pinned ? 0 : ask(&k, now);
	g_mutex_unlock(&proc_lock);
	/* Asked again: a pass begun now. */
	if (prev)
		max_age = SHM_PROC_NOW;
	/* Changed at `changed`: a pass begun after that. */
	if (changed)
		max_age = MIN(max_age, MAX(0, g_get_real_time() - changed));
	p = shm_proc_get(SHM_PROC_MAPS, max_age);
	a = g_hash_table_lookup(p->pids, &k.f);
	if (a)
		g_array_append_vals(out, a->data, a->len);
	shm_proc_unref(p);
	/* A user sees the processes whose maps it could read itself. */
	shm_caller_keep_traceable(out);
	return out;
}

guint64 shm_proc_passes(void)
{
	return __atomic_load_n(&passes, __ATOMIC_RELAXED);
}
