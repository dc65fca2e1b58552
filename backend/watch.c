/* watch.c - notices segments made and removed between listings, so that
 * the creator of a segment is read while it still lives and every change
 * is an event (backend.h: shm_watch_start).
 *
 * POSIX: one inotify descriptor watches each namespace's /dev/shm (the
 * daemon's POSIX directory, and with --all-namespaces each namespace's,
 * through /proc/PID/root): the kernel queues every name made or removed,
 * at no cost while nothing changes.  A watch does not hold the directory's
 * filesystem: a container's tmpfs is unmounted as if it were not there.
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
 * counted unless the process events (execs.h) had it.
 *
 * The namespaces (--all-namespaces) come from the /proc layer's snapshot
 * (nsscan.h), asked as rarely: a namespace that went takes its segments
 * with it (an event each).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creators.h"
#include "execs.h"
#include "nscall.h"
#include "nsctx.h"
#include "nsscan.h"
#include "sysv.h"
#include "stopper.h"
#include "watch.h"

/* The share of a core the watcher may use: a round of cost T waits
 * T * ROUND_FACTOR. */
#define ROUND_FACTOR 200
/* A full read of each System V table at least this often. */
#define FULL_EVERY_US (10 * G_USEC_PER_SEC)
/* The namespaces are looked for at least this often. */
#define NS_EVERY_US G_USEC_PER_SEC
#define INOTIFY_MASK                                                           \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR |    \
	 IN_EXCL_UNLINK)

/* One IPC namespace's System V table, as last asked. */
struct space {
	ino_t ns;
	int maxidx;
	int used;
	unsigned long pages;
	gint64 full_us; /* when it was last read whole */
	gint64 full_cost_us;
	guint64 mark;	 /* the namespace look that last found it */
	char *container; /* its container id, "" for none */
	pid_t pid;	 /* a process in it */
};

/* One watched POSIX directory (several namespaces may share one: the
 * first found names its events). */
struct pdir {
	int wd;
	ino_t ns;
	char *path;
	GHashTable *names; /* name -> size (guint64 *) */
};

static shm_event_sink sink;
static struct timespec started;
static bool all_ns;
static ino_t own_ns;
static char *own_posix;
static unsigned min_ms;

/* watch_lock protects the inotify descriptor's reading and dirs; taken
 * before creators' lock and the sink's, never after. */
static GMutex watch_lock;
static int ino_fd = -1;
static GHashTable *dirs; /* wd -> struct pdir * */

/* spaces_lock protects spaces (the watcher changes it; an event reads
 * a namespace's container).  A leaf. */
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

static void pdir_free(void *p)
{
	struct pdir *d = p;

	g_free(d->path);
	g_hash_table_unref(d->names);
	g_free(d);
}

void shm_watch_emit(struct shm_event *ev)
{
	g_autofree char *container = NULL;

	clock_gettime(CLOCK_REALTIME, &ev->when);
	if (!ev->container || !*ev->container) {
		struct space *s;

		G_LOCK(spaces_lock);
		s = spaces ? g_hash_table_lookup(spaces, &ev->ns) : NULL;
		container = g_strdup(s ? s->container : "");
		G_UNLOCK(spaces_lock);
		ev->container = container;
	}
	if (sink)
		sink(ev);
}

/* ---- POSIX ---- */

static void posix_event(bool created, const struct pdir *d, const char *name,
			uint64_t size)
{
	struct shm_event ev = {
		.created = created,
		.kind = "posix",
		.ns = d->ns,
		.name = name,
		.size = size,
		.command = "",
	};

	shm_watch_emit(&ev);
}

/* The size of d's name now, and whether it is a regular file made
 * since the daemon started. */
static bool stat_name(const struct pdir *d, const char *name, uint64_t *size,
		      bool *recent)
{
	g_autofree char *path = g_strdup_printf("%s/%s", d->path, name);
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	*size = (uint64_t)st.st_size;
	*recent = st.st_ctim.tv_sec > started.tv_sec ||
		  (st.st_ctim.tv_sec == started.tv_sec &&
		   st.st_ctim.tv_nsec >= started.tv_nsec);
	return true;
}

/* name is in d now: an event if it was not known and was made since the
 * daemon started (or `announce`: it was just made). */
static void posix_add(struct pdir *d, const char *name, bool announce)
{
	uint64_t size = 0;
	bool recent = false;

	if (g_hash_table_contains(d->names, name))
		return;
	/* Gone already: made and removed within the moment (its removal
	 * follows in the queue), or not a file. */
	if (!stat_name(d, name, &size, &recent) && !announce)
		return;
	g_hash_table_insert(d->names, g_strdup(name),
			    g_memdup2(&size, sizeof(size)));
	if (announce || recent)
		posix_event(true, d, name, size);
}

static void posix_remove(struct pdir *d, const char *name)
{
	guint64 *size = g_hash_table_lookup(d->names, name);

	if (!size)
		return;
	posix_event(false, d, name, *size);
	g_hash_table_remove(d->names, name);
}

/* Read d whole: names not known are made (an event each, see
 * posix_add), names known and gone are removed. */
static void posix_relist(struct pdir *d, bool announce)
{
	g_autoptr(GHashTable) now =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	DIR *dir = opendir(d->path);
	struct dirent *de;
	GHashTableIter it;
	gpointer k;

	if (!dir)
		return;
	/* readdir on a stream of its own is thread-safe (readdir_r is the
	 * deprecated one). */
	// cppcheck-suppress readdirCalled
	while ((de = readdir(dir))) {
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		posix_add(d, de->d_name, announce);
		g_hash_table_add(now, g_strdup(de->d_name));
	}
	closedir(dir);
	g_hash_table_iter_init(&it, d->names);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (!g_hash_table_contains(now, k))
			g_ptr_array_add(gone, g_strdup(k));
	for (guint i = 0; i < gone->len; i++)
		posix_remove(d, gone->pdata[i]);
}

/* Namespace ns's directory is now reached through path (the process
 * that led to it may have gone; watch_lock held). */
static void posix_repath(ino_t ns, const char *path)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, dirs);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct pdir *d = v;

		if (d->ns == ns && strcmp(d->path, path) != 0) {
			g_free(d->path);
			d->path = g_strdup(path);
		}
	}
}

/* Watch path as namespace ns's POSIX directory (watch_lock held). */
static void posix_watch(ino_t ns, const char *path)
{
	struct pdir *d;
	int wd;

	if (ino_fd < 0)
		return;
	wd = inotify_add_watch(ino_fd, path, INOTIFY_MASK);
	if (wd < 0 || g_hash_table_contains(dirs, GINT_TO_POINTER(wd)))
		return; /* none, or one already watched */
	d = g_new0(struct pdir, 1);
	d->wd = wd;
	d->ns = ns;
	d->path = g_strdup(path);
	d->names =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(dirs, GINT_TO_POINTER(wd), d);
	posix_relist(d, false);
}

/* Everything queued now (watch_lock held). */
static void posix_drain(void)
{
	char buf[16384]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while (ino_fd >= 0 && (n = read(ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const void *)p;
			struct pdir *d = g_hash_table_lookup(
				dirs, GINT_TO_POINTER(e->wd));

			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				GHashTableIter it;
				gpointer v;

				g_hash_table_iter_init(&it, dirs);
				while (g_hash_table_iter_next(&it, NULL, &v))
					posix_relist(v, true);
				continue;
			}
			if (!d)
				continue;
			if (e->mask & IN_IGNORED) {
				/* The directory or its filesystem went, and
				 * every object in it. */
				GHashTableIter it;
				gpointer k, v;

				g_hash_table_iter_init(&it, d->names);
				while (g_hash_table_iter_next(&it, &k, &v))
					posix_event(false, d, k, *(guint64 *)v);
				g_hash_table_remove(dirs,
						    GINT_TO_POINTER(e->wd));
				continue;
			}
			if (!e->len || (e->mask & IN_ISDIR))
				continue;
			if (e->mask & (IN_CREATE | IN_MOVED_TO))
				posix_add(d, e->name, true);
			else if (e->mask & (IN_DELETE | IN_MOVED_FROM))
				posix_remove(d, e->name);
		}
	}
}

void shm_watch_posix_sync(void)
{
	if (ino_fd < 0)
		return;
	g_mutex_lock(&watch_lock);
	posix_drain();
	g_mutex_unlock(&watch_lock);
}

/* ---- System V ---- */

/* Ask s's table (run inside its namespace): read it whole if it moved,
 * or if force, or if not read whole for FULL_EVERY_US. */
static int probe(void *arg)
{
	struct space *s = arg;
	struct shm_info info;
	gint64 now = g_get_monotonic_time(), t;
	int maxidx = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
	gint64 every;

	if (maxidx < 0)
		return -errno;
	every = MAX(FULL_EVERY_US, s->full_cost_us * 4 * ROUND_FACTOR);
	if (s->full_us && maxidx == s->maxidx && info.used_ids == s->used &&
	    info.shm_tot == s->pages && now - s->full_us < every)
		return 0;
	s->maxidx = maxidx;
	s->used = info.used_ids;
	s->pages = info.shm_tot;
	t = g_get_monotonic_time();
	sysv_notice();
	s->full_us = g_get_monotonic_time();
	s->full_cost_us = s->full_us - t;
	G_LOCK(stats_lock);
	stats.full_scans++;
	G_UNLOCK(stats_lock);
	return 0;
}

static void probe_space(struct space *s)
{
	struct ns_call c = { .op = OP_FN, .fn = probe, .out = s };

	if (s->ns == own_ns)
		probe(s);
	else
		(void)ns_call_in(s->ns, &c);
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
		}
		G_UNLOCK(spaces_lock);
		if (moved && info->ns != own_ns) {
			g_autofree char *path = g_strdup_printf(
				"/proc/%d/root/dev/shm", (int)s->pid);

			g_mutex_lock(&watch_lock);
			if (fresh)
				posix_watch(info->ns, path);
			else
				posix_repath(info->ns, path);
			g_mutex_unlock(&watch_lock);
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
		G_LOCK(spaces_lock);
		g_hash_table_remove(spaces, &ns);
		G_UNLOCK(spaces_lock);
	}
}

/* One round: every namespace's table asked.  Its cost in microseconds. */
static gint64 round_once(guint64 n, gint64 *ns_due)
{
	gint64 t0 = g_get_monotonic_time(), now;
	g_autoptr(GPtrArray) each = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	if (all_ns && t0 >= *ns_due) {
		find_spaces(n);
		now = g_get_monotonic_time();
		*ns_due = now + MAX(NS_EVERY_US, (now - t0) * ROUND_FACTOR);
	}
	/* The table is changed only by this thread: read it unlocked. */
	g_hash_table_iter_init(&it, spaces);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(each, v);
	for (guint i = 0; i < each->len; i++)
		probe_space(each->pdata[i]);
	return g_get_monotonic_time() - t0;
}

static gpointer watch_main(gpointer p)
{
	gint64 ns_due = 0;
	guint64 n = 1;

	(void)p;
	for (;;) {
		gint64 cost = round_once(++n, &ns_due), wait_us;
		struct timespec cpu;
		struct pollfd fds[2] = {
			{ .fd = stopper.fd[0], .events = POLLIN },
			{ .fd = ino_fd, .events = POLLIN },
		};
		gint64 until;

		wait_us = MAX((gint64)min_ms * 1000, cost * ROUND_FACTOR);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
		G_LOCK(stats_lock);
		stats.passes++;
		stats.interval = (double)(wait_us + cost) / 1e6;
		stats.cpu_seconds = (double)cpu.tv_sec + cpu.tv_nsec / 1e9;
		G_UNLOCK(stats_lock);
		until = g_get_monotonic_time() + wait_us;
		for (gint64 left = wait_us; left > 0;
		     left = until - g_get_monotonic_time()) {
			if (poll(fds, ino_fd >= 0 ? 2 : 1,
				 (int)((left + 999) / 1000)) < 0 &&
			    errno != EINTR)
				break;
			if (fds[0].revents)
				return NULL;
			if (fds[1].revents)
				shm_watch_posix_sync();
		}
	}
}

/* The first look: what there is now was not made while the daemon
 * watched (no events). */
static void first_look(void)
{
	struct space *own = space_add(own_ns);

	shm_creators_quiet(true);
	if (all_ns)
		find_spaces(1);
	g_mutex_lock(&watch_lock);
	posix_watch(own_ns, own_posix);
	g_mutex_unlock(&watch_lock);
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
	shm_creators_quiet(false);
}

int shm_watch_start(const struct shmfs_config *cfg, unsigned interval_ms,
		    shm_event_sink fn)
{
	clock_gettime(CLOCK_REALTIME, &started);
	sink = fn;
	all_ns = cfg->all_namespaces;
	own_ns = shm_ctx_ipc_ns();
	own_posix = g_strdup(cfg->posix_dir ? cfg->posix_dir : "/dev/shm");
	min_ms = interval_ms;
	spaces = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
				       space_free);
	dirs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
				     pdir_free);
	if (interval_ms) {
		ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
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
	shm_execs_stop();
	shm_stopper_stop(&stopper);
	g_mutex_lock(&watch_lock);
	if (ino_fd >= 0)
		close(ino_fd);
	ino_fd = -1;
	if (dirs)
		g_hash_table_unref(dirs);
	dirs = NULL;
	g_mutex_unlock(&watch_lock);
	sink = NULL;
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
	g_mutex_lock(&watch_lock);
	out->posix_dirs = dirs ? g_hash_table_size(dirs) : 0;
	g_mutex_unlock(&watch_lock);
	out->creators_missed = shm_creators_missed();
}
