/* watch.c - notices segments made and removed between listings, so that
 * the creator of a segment is read while it still lives and every change
 * is an event (backend.h: shm_watch_start).
 *
 * POSIX: the daemon's POSIX directory, and with --all-namespaces each
 * namespace's /dev/shm (through /proc/PID/root), is watched by
 * watch_posix.c (inotify, and fanotify for who made a name).
 *
 * System V has no notification.  Each round asks every namespace's
 * SHM_INFO: the number of segments, their pages and the highest index in
 * use (the kernel sums every segment's pages for it: about 0.5 us a
 * segment).  Only when one of these moved, or a safety interval has
 * passed (a segment made and another removed in one round move nothing),
 * is /proc/sysvipc/shm read whole (about 2.5 us a segment).  Rounds run at
 * least every interval_ms, and cost at most 0.5% of a core: a round that
 * took T waits at least 200 T before the next (the safety reads, at least
 * 800 times their cost apart, add at most 0.125%); so a creator that lives
 * less than one round (shm_watch_counts' interval) can be missed, and is
 * counted unless the process events (process_events.h) had it.  A round's cost
 * is the CPU it used (in whichever thread asked a namespace), not the time it
 * took: a watcher that waited for a lock or a core has spent nothing, and
 * must not wait 200 times that long.
 *
 * The namespaces (--all-namespaces) come from the /proc layer's snapshot
 * (nsscan.h), asked as rarely: a namespace that went takes its segments
 * with it (an event each).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creators.h"
#include "origins.h"
#include "trace.h"
#include "dockernames.h"
#include "proc/process_events.h"
#include "nsenter/nscall.h"
#include "nsctx.h"
#include "nsenter/nsscan.h"
#include "bgthread.h"
#include "sink.h"
#include "watch.h"

/* The pause after reading what the POSIX directories said: events
 * are at most this late, and the inotify queue (16,384 by default) holds
 * a burst's this long. */
#define POSIX_PAUSE_US (10 * 1000)

/* The share of a core the watcher may use: a round of cost T waits
 * T * ROUND_FACTOR. */
#define ROUND_FACTOR 200
/* A full read of each System V table at least this often. */
#define FULL_EVERY_US (10 * G_USEC_PER_SEC)
/* The namespaces are looked for at least this often. */
#define NS_EVERY_US G_USEC_PER_SEC

/* One IPC namespace's System V table, as last asked. */
struct space {
	ino_t ns;
	int maxidx;
	int used;
	unsigned long pages;
	gint64 full_us;	     /* when it was last read whole */
	gint64 full_cost_us; /* CPU of the last full read */
	gint64 probe_cpu_us; /* CPU of the last probe, in the thread it ran */
	guint64 mark;	     /* the namespace look that last found it */
	char *container;     /* its container id, "" for none */
	pid_t pid;	     /* a process in it */
};

/* The System V kind's full look at the calling thread's namespace (what
 * a listing notices), registered by that kind: the watcher drives it
 * without depending on it. */
static int (*sysv_look)(void);

void shm_watch_set_sysv_look(int (*look)(void))
{
	sysv_look = look;
}

static struct timespec started;
static bool all_ns;
static ino_t own_ns;
static char *own_posix;
static unsigned min_ms;

/* spaces_lock protects spaces (the watcher's; the sink keeps each
 * namespace's container for events).  A leaf. */
G_LOCK_DEFINE_STATIC(spaces_lock);
static GHashTable *spaces; /* ino_t * -> struct space * */

static struct shm_stopper stopper = SHM_STOPPER_INIT;

/* What shm_watch_counts reports; the watcher thread writes. */
G_LOCK_DEFINE_STATIC(stats_lock);
static struct shm_watch_stats stats;

static void space_free(void *p)
{
	struct space *s = p;

	g_free(s->container);
	g_free(s);
}

/* ---- System V ---- */

/* Ask s's table (run inside its namespace): read it whole if it moved,
 * or if force, or if not read whole for FULL_EVERY_US. */
static int probe(void *arg)
{
	struct space *s = arg;
	struct shm_info info;
	gint64 now = g_get_monotonic_time(), cpu0 = shm_thread_cpu_us(), t, end;
	int maxidx = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
	gint64 every;

	if (maxidx < 0) {
		int err = errno;

		s->probe_cpu_us = shm_thread_cpu_us() - cpu0;
		return -err;
	}
	every = MAX(FULL_EVERY_US, s->full_cost_us * 4 * ROUND_FACTOR);
	if (s->full_us && maxidx == s->maxidx && info.used_ids == s->used &&
	    info.shm_tot == s->pages && now - s->full_us < every) {
		s->probe_cpu_us = shm_thread_cpu_us() - cpu0;
		return 0;
	}
	s->maxidx = maxidx;
	s->used = info.used_ids;
	s->pages = info.shm_tot;
	t = shm_thread_cpu_us();
	if (sysv_look)
		sysv_look();
	s->full_us = g_get_monotonic_time();
	end = shm_thread_cpu_us();
	s->probe_cpu_us = end - cpu0;
	s->full_cost_us = end - t;
	G_LOCK(stats_lock);
	stats.full_scans++;
	G_UNLOCK(stats_lock);
	return 0;
}

/* Probe s; in another namespace, through the pool (entering, probing
 * and leaving: its CPU is s->probe_cpu_us). */
static void probe_space(struct space *s)
{
	struct ns_call c = {
		.op = OP_FN, .fn = probe, .out = s, .brief = true
	};

	if (s->ns == own_ns) {
		probe(s);
		return;
	}
	s->probe_cpu_us = 0;
	(void)ns_call_in(s->ns, &c);
	s->probe_cpu_us = c.cpu_us;
}

static struct space *space_add(ino_t ns)
{
	struct space *s = g_new0(struct space, 1);

	s->ns = ns;
	s->container = g_strdup("");
	G_LOCK(spaces_lock);
	g_hash_table_insert(spaces, g_memdup2(&ns, sizeof(ns)), s);
	G_UNLOCK(spaces_lock);
	return s;
}

/* Look for the namespaces there are (--all-namespaces): new ones get a
 * watch on their /dev/shm, gone ones take their segments with them. */
static void find_spaces(guint64 mark)
{
	g_autoptr(ns_scan) scan = ns_scan_get(NS_SCAN_LISTING_US);
	g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(ino_t));
	GHashTableIter it;
	gpointer v;

	for (guint i = 0; i < ns_scan_len(scan); i++) {
		const struct ns_info *info = ns_scan_at(scan, i);
		struct space *s;
		bool fresh, moved;

		G_LOCK(spaces_lock);
		s = g_hash_table_lookup(spaces, &info->ns);
		G_UNLOCK(spaces_lock);
		fresh = !s;
		if (fresh)
			s = space_add(info->ns);
		G_LOCK(spaces_lock);
		s->mark = mark;
		moved = s->pid != g_array_index(info->pids, pid_t, 0);
		s->pid = g_array_index(info->pids, pid_t, 0);
		if (info->container && strcmp(s->container, info->container)) {
			g_free(s->container);
			s->container = g_strdup(info->container);
			shm_sink_container(info->ns, info->container);
		}
		G_UNLOCK(spaces_lock);
		if (moved && info->ns != own_ns) {
			g_autofree char *path = g_strdup_printf(
				"/proc/%d/root/dev/shm", (int)s->pid);

			if (fresh)
				watch_posix_add(info->ns, path);
			else
				watch_posix_repath(info->ns, path);
		}
	}
	G_LOCK(spaces_lock);
	g_hash_table_iter_init(&it, spaces);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((struct space *)v)->mark != mark &&
		    ((struct space *)v)->ns != own_ns)
			g_array_append_val(gone, ((struct space *)v)->ns);
	G_UNLOCK(spaces_lock);
	for (guint i = 0; i < gone->len; i++) {
		ino_t ns = g_array_index(gone, ino_t, i);

		shm_creators_forget_ns(ns);
		shm_sink_container(ns, NULL);
		G_LOCK(spaces_lock);
		g_hash_table_remove(spaces, &ns);
		G_UNLOCK(spaces_lock);
	}
}

/* One round: every namespace's table asked.  Its cost: the CPU it used
 * in microseconds, this thread's and that of the probes other threads ran
 * for it (inside other namespaces). */
static gint64 round_once(guint64 n, gint64 *ns_due)
{
	gint64 cpu0 = shm_thread_cpu_us(), elsewhere = 0;
	g_autoptr(GPtrArray) each = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	if (all_ns && g_get_monotonic_time() >= *ns_due) {
		find_spaces(n);
		*ns_due = g_get_monotonic_time() +
			  MAX(NS_EVERY_US,
			      (shm_thread_cpu_us() - cpu0) * ROUND_FACTOR);
	}
	/* The table is changed only by this thread: read it unlocked. */
	g_hash_table_iter_init(&it, spaces);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(each, v);
	for (guint i = 0; i < each->len; i++) {
		struct space *s = each->pdata[i];

		probe_space(s);
		if (s->ns != own_ns)
			elsewhere += s->probe_cpu_us;
	}
	shm_origins_name();
	return shm_thread_cpu_us() - cpu0 + elsewhere;
}

static gpointer watch_main(gpointer p)
{
	gint64 ns_due = 0;
	guint64 n = 1;

	(void)p;
	for (;;) {
		gint64 t0 = g_get_monotonic_time();
		gint64 cost = round_once(++n, &ns_due), wait_us;
		gint64 took = g_get_monotonic_time() - t0;
		struct pollfd fds[2] = {
			{ .fd = stopper.fd[0], .events = POLLIN },
			{ .fd = watch_posix_fd(), .events = POLLIN },
		};
		gint64 until;

		wait_us = MAX((gint64)min_ms * 1000, cost * ROUND_FACTOR);
		G_LOCK(stats_lock);
		stats.passes++;
		/* The window: this round as long as it took, and the wait. */
		stats.interval = (double)(wait_us + took) / 1e6;
		stats.cpu_seconds = (double)shm_thread_cpu_us() / 1e6;
		G_UNLOCK(stats_lock);
		until = g_get_monotonic_time() + wait_us;
		for (gint64 left = wait_us; left > 0;
		     left = until - g_get_monotonic_time()) {
			if (poll(fds, fds[1].fd >= 0 ? 2 : 1,
				 (int)((left + 999) / 1000)) < 0 &&
			    errno != EINTR)
				break;
			if (fds[0].revents)
				return NULL;
			/* What came in, then a pause before the next look:
			 * names made in a burst are read together, and the
			 * processes that make them find nobody to wake (a
			 * wake-up per name cost them more than the name). */
			if (fds[1].revents) {
				shm_watch_posix_sync();
				g_usleep(POSIX_PAUSE_US);
			}
		}
	}
}

/* The first look: what there is now was not made while the daemon
 * watched (no events). */
static void first_look(void)
{
	struct space *own = space_add(own_ns);

	shm_creators_quiet(true, started.tv_sec);
	if (all_ns)
		find_spaces(1);
	watch_posix_add(own_ns, own_posix);
	own->mark = 1;
	{
		g_autoptr(GPtrArray) each = g_ptr_array_new();
		GHashTableIter it;
		gpointer v;

		g_hash_table_iter_init(&it, spaces);
		while (g_hash_table_iter_next(&it, NULL, &v))
			g_ptr_array_add(each, v);
		for (guint i = 0; i < each->len; i++)
			probe_space(each->pdata[i]);
	}
	shm_creators_quiet(false, 0);
}

/* Why the tracer does not run (-errno), 0 if it runs or was not asked. */
static int trace_error;

int shm_watch_start(const struct shmfs_config *cfg, unsigned interval_ms,
		    shm_event_sink fn, const struct timespec *since)
{
	started = *since;
	shm_sink_set(fn);
	/* The names of creators' containers (creators.h). */
	docker_names_init();
	all_ns = cfg->all_namespaces;
	own_ns = shm_ctx_ipc_ns();
	own_posix = g_strdup(cfg->posix_dir ? cfg->posix_dir : "/dev/shm");
	min_ms = interval_ms;
	spaces = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
				       space_free);
	trace_error = 0;
	if (interval_ms && !cfg->no_trace)
		trace_error = shm_trace_start(cfg->posix_dir ? cfg->posix_dir :
							       "/dev/shm",
					      cfg->trace_syscalls);
	if (interval_ms) {
		(void)watch_posix_init(&started);
		/* Without it (not root), creators are read from /proc only. */
		(void)shm_execs_start();
	}
	first_look();
	if (!interval_ms)
		return 0;
	return shm_stopper_start(&stopper, "shmfs-watch", watch_main);
}

void shm_watch_stop(void)
{
	shm_stopper_stop(&stopper);
	shm_trace_stop();
	shm_execs_stop();
	watch_posix_fini();
	docker_names_fini();
	shm_sink_set(NULL);
	G_LOCK(spaces_lock);
	if (spaces)
		g_hash_table_unref(spaces);
	spaces = NULL;
	G_UNLOCK(spaces_lock);
	g_free(own_posix);
	own_posix = NULL;
}

void shm_watch_counts(struct shm_watch_stats *out)
{
	G_LOCK(stats_lock);
	*out = stats;
	G_UNLOCK(stats_lock);
	out->posix_dirs = watch_posix_dirs();
	out->creators_missed = shm_creators_missed();
	out->traced = shm_trace_active();
	out->trace_hooks = shm_trace_hooks();
	out->trace_error = trace_error;
	out->trace_events = shm_trace_seen();
	out->trace_lost = shm_trace_lost();
}
