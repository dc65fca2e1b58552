/* watch_posix.c - the watcher's POSIX side (see watch.c): every watched
 * /dev/shm's names made and removed, as events, and who made them.
 *
 * One inotify descriptor watches each directory: the kernel queues every
 * name made or removed, at no cost while nothing changes.  Where the
 * kernel can (fanotify with FAN_REPORT_DFID_NAME on tmpfs: Linux 6.7 and
 * later), a fanotify descriptor marks the same directories for FAN_CREATE,
 * whose events carry the pid that made the name: its command line and
 * container are read at once (or taken from the process events,
 * process_events.h, if it has already exited).  Neither holds the directory's
 * filesystem: a container's tmpfs is unmounted as if nothing watched it.
 *
 * Locks: watch_lock protects both descriptors' reading, dirs and pending;
 * it is taken before the sink's lock (through shm_watch_emit), never
 * after, and never with creators' lock held.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "dockernames.h"
#include "proc/process_events.h"
#include "sink.h"
#include "watch.h"

#define INOTIFY_MASK                                                           \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR |    \
	 IN_EXCL_UNLINK)
#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID 0x200
#endif
/* Creators noticed and not yet matched with their name's inotify event:
 * more is a flood nobody reads, and is dropped. */
#define PENDING_MAX 65536

/* One name in a directory, as noticed. */
struct pname {
	uint64_t size;
	ino_t ino; /* the object's inode: a name made again is another */
	pid_t pid; /* its creator, 0 if not known */
	char *command;
	char *container;
	char *name; /* the container's name, NULL until the engine gave one */
};

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
static int ino_fd = -1, fan_fd = -1;
static GHashTable *dirs;    /* wd -> struct pdir * */
static GHashTable *pending; /* "FID/name" -> pid */
/* Objects whose creator's container had no name when they were made (the
 * engine's names may be older than the container): asked again each round
 * until the engine has answered since (watch_posix_name).  At most
 * UNNAMED_MAX. */
struct unnamed {
	int wd;
	char *name;
	ino_t ino;
	gint64 seen; /* g_get_monotonic_time() when made */
};
#define UNNAMED_MAX 4096
static GQueue unnamed = G_QUEUE_INIT;

static void pname_free(void *p)
{
	struct pname *n = p;

	g_free(n->command);
	g_free(n->container);
	g_free(n->name);
	g_free(n);
}

static void unnamed_free(void *p)
{
	struct unnamed *u = p;

	g_free(u->name);
	g_free(u);
}

static void pdir_free(void *p)
{
	struct pdir *d = p;

	g_free(d->path);
	g_free(d->fid);
	g_hash_table_unref(d->names);
	g_free(d);
}

/* fanotify's name of a directory: its filesystem id and file handle, in
 * hex. */
static char *fid_text(const void *fsid, const struct file_handle *fh)
{
	GString *t = g_string_new(NULL);

	for (size_t i = 0; i < sizeof(fsid_t); i++)
		g_string_append_printf(t, "%02x",
				       ((const unsigned char *)fsid)[i]);
	g_string_append_printf(t, ":%x:", (unsigned)fh->handle_type);
	for (unsigned i = 0; i < fh->handle_bytes; i++)
		g_string_append_printf(t, "%02x", fh->f_handle[i]);
	return g_string_free(t, FALSE);
}

/* The name fanotify's events give path, or NULL if it cannot. */
static char *fid_of(const char *path)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h = { .fh.handle_bytes = MAX_HANDLE_SZ };
	struct statfs sf;
	int mnt;

	if (statfs(path, &sf) < 0 ||
	    (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, AT_HANDLE_FID) <
		     0 &&
	     name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0) < 0))
		return NULL;
	return fid_text(&sf.f_fsid, &h.fh);
}

/* Every FAN_CREATE queued now, into pending (watch_lock held). */
static void fan_drain(void)
{
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n;

	while (fan_fd >= 0 && (n = read(fan_fd, buf, sizeof(buf))) > 0) {
		/* Events are 4-byte aligned, their header has a 64-bit field:
		 * each header is copied out. */
		for (ssize_t at = 0;
		     at + (ssize_t)FAN_EVENT_METADATA_LEN <= n;) {
			struct fanotify_event_metadata m;
			const struct fanotify_event_info_fid *fid;
			const struct file_handle *fh;
			g_autofree char *key = NULL;

			memcpy(&m, buf + at, sizeof(m));
			if (m.event_len < FAN_EVENT_METADATA_LEN ||
			    at + (ssize_t)m.event_len > n)
				break;
			fid = (const void *)(buf + at + m.metadata_len);
			at += m.event_len;
			if (m.vers != FANOTIFY_METADATA_VERSION ||
			    m.metadata_len + sizeof(*fid) > m.event_len ||
			    fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME)
				continue;
			fh = (const struct file_handle *)fid->handle;
			key = fid_text(&fid->fsid, fh);
			if (g_hash_table_size(pending) >= PENDING_MAX)
				g_hash_table_remove_all(pending);
			g_hash_table_replace(
				pending,
				g_strdup_printf("%s/%s", key,
						(const char *)fh->f_handle +
							fh->handle_bytes),
				GINT_TO_POINTER(m.pid));
		}
	}
}

static void posix_event(bool created, const struct pdir *d, const char *name,
			const struct pname *p)
{
	struct shm_event ev = {
		.created = created,
		.kind = "posix",
		.ns = d->ns,
		.container = p->container,
		.name = name,
		.size = p->size,
		.pid = p->pid,
		.command = p->command,
	};

	shm_watch_emit(&ev);
}

/* The size and inode of d's name now, and whether it is a regular file
 * made since the daemon started. */
static bool stat_name(const struct pdir *d, const char *name, struct pname *p,
		      bool *recent)
{
	g_autofree char *path = g_strdup_printf("%s/%s", d->path, name);
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	p->size = (uint64_t)st.st_size;
	p->ino = st.st_ino;
	*recent = st.st_ctim.tv_sec > started.tv_sec ||
		  (st.st_ctim.tv_sec == started.tv_sec &&
		   st.st_ctim.tv_nsec >= started.tv_nsec);
	return true;
}

/* Who made d's name, from fanotify's event (watch_lock held). */
static void creator_of(const struct pdir *d, const char *name, struct pname *p)
{
	g_autofree char *key = NULL;
	gpointer pid;

	if (!d->fid)
		return;
	fan_drain();
	key = g_strdup_printf("%s/%s", d->fid, name);
	gpointer stolen;

	if (!g_hash_table_steal_extended(pending, key, &stolen, &pid))
		return;
	g_free(stolen);
	p->pid = GPOINTER_TO_INT(pid);
	if (!shm_execs_describe(p->pid, &p->command, &p->container))
		p->command = p->container = NULL;
	else if (*p->container && !(p->name = docker_name_of(p->container)) &&
		 unnamed.length < UNNAMED_MAX) {
		struct unnamed *u = g_new(struct unnamed, 1);

		u->wd = d->wd;
		u->name = g_strdup(name);
		u->ino = p->ino;
		u->seen = g_get_monotonic_time();
		g_queue_push_tail(&unnamed, u);
	}
}

/* name is in d now: an event if it was not known and was made since the
 * daemon started (or `announce`: it was just made). */
static void posix_add(struct pdir *d, const char *name, bool announce)
{
	struct pname *p;
	bool recent = false;

	if (g_hash_table_contains(d->names, name))
		return;
	p = g_new0(struct pname, 1);
	/* Gone already: made and removed within the moment (its removal
	 * follows in the queue), or not a file. */
	if (!stat_name(d, name, p, &recent) && !announce) {
		pname_free(p);
		return;
	}
	if (announce || recent)
		creator_of(d, name, p);
	g_hash_table_insert(d->names, g_strdup(name), p);
	if (announce || recent)
		posix_event(true, d, name, p);
}

static void posix_remove(struct pdir *d, const char *name)
{
	struct pname *p = g_hash_table_lookup(d->names, name);

	if (!p)
		return;
	posix_event(false, d, name, p);
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
	if (fan_fd >= 0 && fanotify_mark(fan_fd, FAN_MARK_ADD, FAN_CREATE,
					 AT_FDCWD, path) == 0)
		d->fid = fid_of(path);
	d->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 pname_free);
	g_hash_table_insert(dirs, GINT_TO_POINTER(wd), d);
	posix_relist(d, false);
	g_mutex_unlock(&watch_lock);
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
					posix_event(false, d, k, v);
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

bool shm_watch_posix_creator(dev_t dev, ino_t dir, const char *name, ino_t ino,
			     char **command, char **container,
			     char **container_name, pid_t *pid)
{
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
		struct pname *p;

		if (d->dev != dev || d->ino != dir)
			continue;
		p = g_hash_table_lookup(d->names, name);
		if (p && p->ino == ino && p->command) {
			/* Asked while the container runs, kept after. */
			if (!p->name && *p->container)
				p->name = docker_name_of(p->container);
			*command = g_strdup(p->command);
			*container = g_strdup(p->container);
			*container_name = g_strdup(p->name ? p->name : "");
			*pid = p->pid;
			found = true;
		}
	}
	g_mutex_unlock(&watch_lock);
	return found;
}

int watch_posix_init(const struct timespec *start)
{
	started = *start;
	dirs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
				     pdir_free);
	pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino_fd < 0)
		return -errno;
	/* Without it (an older kernel, not root), creators stay unknown. */
	fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME |
				       FAN_CLOEXEC | FAN_NONBLOCK,
			       O_RDONLY);
	return 0;
}

void watch_posix_name(void)
{
	GQueue now = G_QUEUE_INIT;
	struct unnamed *u;

	g_mutex_lock(&watch_lock);
	now = unnamed;
	g_queue_init(&unnamed);
	while ((u = g_queue_pop_head(&now))) {
		struct pdir *d = dirs ? g_hash_table_lookup(
						dirs, GINT_TO_POINTER(u->wd)) :
					NULL;
		struct pname *p =
			d ? g_hash_table_lookup(d->names, u->name) : NULL;

		if (p && p->ino == u->ino && !p->name && p->container &&
		    !docker_name_settled(p->container, u->seen, &p->name))
			g_queue_push_tail(&unnamed, u);
		else
			unnamed_free(u);
	}
	g_mutex_unlock(&watch_lock);
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
	if (fan_fd >= 0)
		close(fan_fd);
	ino_fd = fan_fd = -1;
	if (dirs)
		g_hash_table_unref(dirs);
	if (pending)
		g_hash_table_unref(pending);
	dirs = pending = NULL;
	g_queue_clear_full(&unnamed, unnamed_free);
	g_mutex_unlock(&watch_lock);
}
