/* watch_posix.c - the watcher's POSIX side (see watch.c): every watched
 * /dev/shm's names made and removed, as events, and who made them.
 *
 * One inotify descriptor watches each directory: the kernel queues every
 * name made or removed, at no cost while nothing changes.  Where the
 * kernel can (fanotify with FAN_REPORT_DFID_NAME on tmpfs: Linux 6.7 and
 * later), a fanotify descriptor marks the same directories for FAN_CREATE,
 * whose events carry the pid that made the name (makers.h); where the eBPF
 * tracer runs (trace.h), it alone names them.  Neither holds the directory's
 * filesystem: a container's tmpfs is unmounted as if nothing watched it.
 * Who made each object is kept in the one store of origins (origins.h),
 * keyed by the object's device and inode.
 *
 * Locks: watch_lock protects inotify's reading, dirs, and fanotify's
 * (makers.h);
 * it is taken before the origins' lock and the sink's (through
 * shm_watch_emit), never after.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "makers.h"
#include "origins.h"
#include "trace.h"
#include "proc/process_events.h"
#include "watch.h"

#define INOTIFY_MASK                                                           \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR |    \
	 IN_EXCL_UNLINK)

/* One name in a directory, as noticed: the object's inode (a name made
 * again is another object), or one of its own past VANISHED where the
 * name was gone before it could be looked at. */
struct pname {
	ino_t ino;
};
#define VANISHED ((ino_t)1 << 63)
static ino_t vanished = VANISHED;

/* One watched POSIX directory (several namespaces may share one: the
 * first found names its events). */
struct pdir {
	int wd;
	ino_t ns;
	char *path;
	dev_t dev; /* the directory's own identity, for xattrs */
	ino_t ino;
	char *fid; /* fanotify's name for it (fsid and handle), or NULL */
	GHashTable *names; /* name -> struct pname * */
};

static struct timespec started;
static GMutex watch_lock;
static int ino_fd = -1;
static GHashTable *dirs; /* wd -> struct pdir * */

static struct shm_origin_id object_id(const struct pdir *d, ino_t ino)
{
	return (struct shm_origin_id){ SHM_ORIGIN_POSIX, (uint64_t)d->dev,
				       (uint64_t)ino };
}

static void pdir_free(void *p)
{
	struct pdir *d = p;

	g_free(d->path);
	g_free(d->fid);
	g_hash_table_unref(d->names);
	g_free(d);
}

/* The event of o, d's name (under the origins' lock). */
static void posix_event(bool created, const struct pdir *d, const char *name,
			const struct shm_origin *o)
{
	shm_origin_emit(o, created, "posix", d->ns, name);
}

/* The size and inode of d's name now, and whether it is a regular file
 * made since the daemon started. */
static bool stat_name(const struct pdir *d, const char *name, uint64_t *size,
		      ino_t *ino, bool *recent)
{
	g_autofree char *path = g_strdup_printf("%s/%s", d->path, name);
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	*size = (uint64_t)st.st_size;
	*ino = st.st_ino;
	*recent = st.st_ctim.tv_sec > started.tv_sec ||
		  (st.st_ctim.tv_sec == started.tv_sec &&
		   st.st_ctim.tv_nsec >= started.tv_nsec);
	return true;
}

/* Who made d's name, from fanotify's event (watch_lock held): its pid,
 * command line and container, or false. */
static bool creator_of(const struct pdir *d, const char *name, pid_t *pid,
		       char **command, char **container)
{
	return d->fid && shm_makers_of(d->fid, name, pid, command, container);
}

/* name is in d now: an event if it was not known and was made since the
 * daemon started (or `announce`: it was just made).  A second name of one
 * object shares its record.  `gone`: its removal is already queued (no
 * look at it: under churn, a look at a name being made and removed
 * waits on the directory's lock that its maker holds, and slows it). */
static void posix_add_as(struct pdir *d, const char *name, bool announce,
			 bool gone)
{
	struct pname *p;
	struct shm_origin_id id;
	struct shm_origin *o;
	char *command = NULL, *container = NULL;
	uint64_t size = 0;
	bool recent = false, named = false;
	pid_t pid = 0;

	if (g_hash_table_contains(d->names, name))
		return;
	p = g_new0(struct pname, 1);
	/* Gone already: made and removed within the moment (its removal
	 * follows in the queue), or not a file. */
	if (gone || !stat_name(d, name, &size, &p->ino, &recent)) {
		if (!announce) {
			g_free(p);
			return;
		}
		p->ino = vanished++;
	}
	if (announce || recent)
		named = creator_of(d, name, &pid, &command, &container);
	g_hash_table_insert(d->names, g_strdup(name), p);
	id = object_id(d, p->ino);
	/* What the kernel has reported is in the store first. */
	shm_trace_drain();
	shm_origins_lock();
	/* Who opened the name with O_CREAT, where the kernel said (before
	 * fanotify: the kernel's word at the call). */
	if (announce || recent || p->ino >= VANISHED) {
		pid_t tpid;
		char *tcommand, *tcontainer;

		if (shm_trace_created(d->ns, d->dev, name, &tpid, &tcommand,
				      &tcontainer)) {
			g_free(command);
			g_free(container);
			pid = tpid;
			command = tcommand;
			container = tcontainer;
			named = true;
		}
	}
	if ((o = shm_origin_find(&id)) && o->links) {
		o->links++;
	} else {
		/* New here; or traced (links 0), with its creator. */
		if (!o)
			o = shm_origin_add(&id);
		o->links = 1;
		o->ns = d->ns;
		g_free(o->name);
		o->name = g_strdup(name);
		o->size = size;
	}
	if (named) {
		o->pid = pid;
		shm_origin_set_creator(o, g_steal_pointer(&command),
				       g_steal_pointer(&container));
	}
	if (announce || recent)
		posix_event(true, d, name, o);
	shm_origins_unlock();
	g_free(command);
	g_free(container);
	if (named)
		shm_origin_name(&id, g_get_monotonic_time(), true);
}

static void posix_add(struct pdir *d, const char *name, bool announce)
{
	posix_add_as(d, name, announce, false);
}

/* d's name p is gone: its event, and its record with its last name. */
static void posix_gone(const struct pdir *d, const char *name,
		       const struct pname *p)
{
	struct shm_origin_id id = object_id(d, p->ino);
	struct shm_origin *o;

	/* Who unlinked it, if the kernel said. */
	shm_trace_drain();
	shm_origins_lock();
	if ((o = shm_origin_find(&id)) && o->links) {
		pid_t rpid;
		char *rcommand, *rcontainer;

		if (!o->rpid && shm_trace_unlinked(d->ns, d->dev, name, &rpid,
						   &rcommand, &rcontainer))
			shm_origin_set_remover(o, rpid, rcommand, rcontainer);
		posix_event(false, d, name, o);
		if (!--o->links)
			shm_origin_drop(&id);
	}
	shm_origins_unlock();
}

static void posix_remove(struct pdir *d, const char *name)
{
	struct pname *p = g_hash_table_lookup(d->names, name);

	if (!p)
		return;
	posix_gone(d, name, p);
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
	shm_makers_pass();
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

void watch_posix_repath(ino_t ns, const char *path)
{
	GHashTableIter it;
	gpointer v;

	g_mutex_lock(&watch_lock);
	g_hash_table_iter_init(&it, dirs);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct pdir *d = v;

		if (d->ns == ns && strcmp(d->path, path) != 0) {
			g_free(d->path);
			d->path = g_strdup(path);
		}
	}
	g_mutex_unlock(&watch_lock);
}

void watch_posix_add(ino_t ns, const char *path)
{
	struct pdir *d;
	struct stat st;
	int wd;

	g_mutex_lock(&watch_lock);
	wd = ino_fd >= 0 ? inotify_add_watch(ino_fd, path, INOTIFY_MASK) : -1;
	/* None, or one already watched (the same directory). */
	if (wd < 0 || g_hash_table_contains(dirs, GINT_TO_POINTER(wd)) ||
	    stat(path, &st) < 0) {
		g_mutex_unlock(&watch_lock);
		return;
	}
	d = g_new0(struct pdir, 1);
	d->wd = wd;
	d->ns = ns;
	d->path = g_strdup(path);
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	shm_trace_watch_dev(st.st_dev);
	d->fid = shm_makers_watch(path);
	d->names =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(dirs, GINT_TO_POINTER(wd), d);
	posix_relist(d, false);
	g_mutex_unlock(&watch_lock);
}

/* The size of one read of inotify. */
#define INOTIFY_READ 16384
/* Each name's last removal in one read: an open-addressed table of the
 * removal events themselves, keyed by their directory and name; room for
 * twice the events a read can hold (one per 16 bytes at most), so a
 * probe always ends.  Under watch_lock. */
#define REMOVED_SLOTS (2 * INOTIFY_READ / sizeof(struct inotify_event))
static const struct inotify_event *removed[REMOVED_SLOTS];
_Static_assert((REMOVED_SLOTS & (REMOVED_SLOTS - 1)) == 0,
	       "REMOVED_SLOTS: a power of two");

/* The slot of e's name in removed: the one that has it, or the empty one
 * where it goes. */
static const struct inotify_event **removed_slot(const struct inotify_event *e)
{
	size_t i = (g_str_hash(e->name) ^ (guint)e->wd * 2654435761u) &
		   (REMOVED_SLOTS - 1);

	while (removed[i] && (removed[i]->wd != e->wd ||
			      strcmp(removed[i]->name, e->name) != 0))
		i = (i + 1) & (REMOVED_SLOTS - 1);
	return &removed[i];
}

/* Everything queued now (watch_lock held). */
static void posix_drain(void)
{
	char buf[INOTIFY_READ]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while (ino_fd >= 0 && (n = read(ino_fd, buf, sizeof(buf))) > 0) {
		memset(removed, 0, sizeof(removed));
		shm_makers_pass();
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const void *)p;

			if (e->len && (e->mask & (IN_DELETE | IN_MOVED_FROM)))
				*removed_slot(e) = e;
			p += sizeof(*e) + e->len;
		}
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
					posix_gone(d, k, v);
				g_hash_table_remove(dirs,
						    GINT_TO_POINTER(e->wd));
				continue;
			}
			if (!e->len || (e->mask & IN_ISDIR))
				continue;
			if (e->mask & (IN_CREATE | IN_MOVED_TO)) {
				const struct inotify_event *gone =
					*removed_slot(e);

				/* Removed later in this read: no look. */
				posix_add_as(d, e->name, true,
					     gone && gone > e);
			} else if (e->mask & (IN_DELETE | IN_MOVED_FROM))
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

bool shm_watch_posix_creator(dev_t dev, ino_t dir, const char *name, ino_t ino,
			     char **command, char **container,
			     char **container_name, pid_t *pid)
{
	struct shm_origin_id id = { SHM_ORIGIN_POSIX, (uint64_t)dev,
				    (uint64_t)ino };
	GHashTableIter it;
	gpointer v;
	bool found = false;

	if (ino_fd < 0)
		return false;
	g_mutex_lock(&watch_lock);
	posix_drain();
	g_hash_table_iter_init(&it, dirs);
	while (!found && g_hash_table_iter_next(&it, NULL, &v)) {
		const struct pdir *d = v;
		const struct pname *p;

		p = d->dev == dev && d->ino == dir ?
			    g_hash_table_lookup(d->names, name) :
			    NULL;
		found = p && p->ino == ino;
	}
	g_mutex_unlock(&watch_lock);
	if (!found)
		return false;
	/* Its container's name: asked while the container runs, kept
	 * after. */
	shm_origin_name(&id, g_get_monotonic_time(), false);
	shm_origins_lock();
	const struct shm_origin *o = shm_origin_find(&id);

	found = o && o->pid > 0;
	if (found) {
		shm_origin_give(o, command, container, container_name);
		*pid = o->pid;
	}
	shm_origins_unlock();
	return found;
}

int watch_posix_init(const struct timespec *start)
{
	struct timespec res;

	/* A file's ctime is the kernel's coarse clock, up to a tick behind
	 * the clock the start was read from: a name made in the daemon's
	 * first tick is counted as made since. */
	started = *start;
	if (clock_getres(CLOCK_REALTIME_COARSE, &res) == 0) {
		started.tv_sec -= res.tv_sec;
		started.tv_nsec -= res.tv_nsec;
		if (started.tv_nsec < 0) {
			started.tv_nsec += 1000000000L;
			started.tv_sec--;
		}
	}
	dirs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
				     pdir_free);
	ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino_fd < 0)
		return -errno;
	/* Without it (an older kernel, not root), creators stay unknown.
	 * Not where the tracer runs: it names every maker at the call, and
	 * fanotify would only add an event to each create and a /proc read
	 * to each name the daemon sees. */
	if (!shm_trace_active())
		(void)shm_makers_init();
	return 0;
}

int watch_posix_fd(void)
{
	return ino_fd;
}

guint watch_posix_dirs(void)
{
	guint n;

	g_mutex_lock(&watch_lock);
	n = dirs ? g_hash_table_size(dirs) : 0;
	g_mutex_unlock(&watch_lock);
	return n;
}

void watch_posix_fini(void)
{
	g_mutex_lock(&watch_lock);
	if (ino_fd >= 0)
		close(ino_fd);
	ino_fd = -1;
	shm_makers_fini();
	if (dirs)
		g_hash_table_unref(dirs);
	dirs = NULL;
	g_mutex_unlock(&watch_lock);
}
