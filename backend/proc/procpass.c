/* procpass.c - one pass over /proc (see procpass.h). */
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

static void mapping_clear(void *p)
{
	struct shm_mapping *m = p;

	g_free(m->path);
}

/* The path of one mapping: map_files gives the kernel's exact name (spaces,
 * newlines and non-UTF-8 bytes included); NULL if it is gone meanwhile. */
static char *mapping_path(pid_t pid, const char *range)
{
	char link[64], buf[PATH_MAX + 16];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%s", pid, range);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return g_strdup(buf);
}

/* Whether a maps line's path [s, e) is the file's path as map_files would
 * give it: absolute, with no escape and no " (deleted)" mark. */
static bool plain_path(const char *s, const char *e)
{
	static const char deleted[] = " (deleted)";
	size_t n = (size_t)(e - s), d = sizeof(deleted) - 1;

	return n > 1 && s[0] == '/' && !memchr(s, '\\', n) &&
	       !(n >= d && memcmp(e - d, deleted, d) == 0);
}

/* Set once, when the mount exists (the watcher's passes may already
 * run): own_dev and own_resolve are read only once own_set says they
 * are there. */
static dev_t own_dev;
static bool own_set;
static shm_own_resolver own_resolve;

void shm_scan_own_mount(dev_t dev, shm_own_resolver resolve)
{
	own_dev = dev;
	own_resolve = resolve;
	__atomic_store_n(&own_set, true, __ATOMIC_RELEASE);
}

static bool own_known(void)
{
	return __atomic_load_n(&own_set, __ATOMIC_ACQUIRE);
}

/* A mapping of one of the mount's files is a mapping of the object behind
 * it; false if it must be left out. */
static bool resolve_own(struct shm_mapping *m)
{
	dev_t dev;
	ino_t ino;

	ino_t ns;

	if (!own_known() || !own_resolve(m->ino, &dev, &ino, &ns))
		return false;
	/* A System V segment is (0, shmid, ns), however it is mapped. */
	m->dev = ns ? 0 : dev;
	m->ino = ino;
	m->ns = ns;
	m->via_mount = true;
	return true;
}

guint file_id_hash(gconstpointer p)
{
	const struct shm_file_id *f = p;

	return g_int64_hash(&(gint64){ (gint64)f->ino }) ^ (guint)f->dev ^
	       (guint)f->ns;
}

gboolean file_id_equal(gconstpointer a, gconstpointer b)
{
	const struct shm_file_id *x = a, *y = b;

	return x->dev == y->dev && x->ino == y->ino && x->ns == y->ns;
}

static struct shm_file_id *file_id_new(const struct shm_mapping *m)
{
	struct shm_file_id *f = g_new(struct shm_file_id, 1);

	f->dev = m->dev;
	f->ino = m->ino;
	f->ns = m->ns;
	return f;
}

static void file_ids_add(GHashTable *set, const struct shm_mapping *m)
{
	struct shm_file_id key = { m->dev, m->ino, m->ns };

	if (!g_hash_table_contains(set, &key))
		g_hash_table_add(set, file_id_new(m));
}

/* The files pid holds open, into set (struct shm_file_id keys). */
static void scan_fds(pid_t pid, GHashTable *set)
{
	char dir[64], link[320];
	struct dirent *de;
	struct statx stx;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return;
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		/* The attributes the kernel has cached: a file of a FUSE
		 * mount (this one: find holding a directory open in it) is
		 * never asked, so a scan run while serving the mount cannot
		 * wait for the mount.  Sockets, pipes and anon inodes are no
		 * regular file (one statx each, no readlink first). */
		if (statx(AT_FDCWD, link, AT_STATX_DONT_SYNC,
			  STATX_TYPE | STATX_INO, &stx) < 0 ||
		    !S_ISREG(stx.stx_mode))
			continue;
		struct shm_mapping m = { .pid = pid,
					 .dev = makedev(stx.stx_dev_major,
							stx.stx_dev_minor),
					 .ino = (ino_t)stx.stx_ino };

		if (own_known() && m.dev == own_dev && !resolve_own(&m))
			continue;
		file_ids_add(set, &m);
	}
	closedir(d);
}

/* The whole of a /proc file into *buf (grown as needed); its length, or
 * -1 if it cannot be read (the process exited, or is not ours). */
static ssize_t read_all(const char *path, char **buf, size_t *cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	for (;;) {
		if (*cap - len < 4096) {
			*cap = *cap ? *cap * 2 : 65536;
			*buf = g_realloc(*buf, *cap);
		}
		n = read(fd, *buf + len, *cap - len);
		if (n > 0)
			len += (size_t)n;
		else if (n == 0 || errno != EINTR)
			break;
	}
	close(fd);
	return n < 0 && len == 0 ? -1 : (ssize_t)len;
}

static const char *hex(const char *s, const char *e, unsigned long *v)
{
	unsigned long x = 0;
	const char *s0 = s;

	for (; s < e; s++) {
		unsigned d = (unsigned)*s;

		if (d - '0' < 10)
			d -= '0';
		else if ((d | 0x20) - 'a' < 6)
			d = (d | 0x20) - 'a' + 10;
		else
			break;
		x = x * 16 + d;
	}
	*v = x;
	return s > s0 ? s : NULL;
}

/* One maps line [s, e): a shared mapping of an inode?  "START-END PERMS
 * OFFSET MAJ:MIN INODE   PATH". */
static bool parse_line(const char *s, const char *e, unsigned long *start,
		       unsigned long *end, dev_t *dev, ino_t *ino,
		       const char **path)
{
	unsigned long off, maj, min, inode = 0;

	if (!(s = hex(s, e, start)) || s >= e || *s++ != '-' ||
	    !(s = hex(s, e, end)) || e - s < 6 || *s != ' ')
		return false;
	if (s[4] != 's')
		return false; /* not shared: most lines stop here */
	s += 6;
	if (!(s = hex(s, e, &off)) || s >= e || *s++ != ' ' ||
	    !(s = hex(s, e, &maj)) || s >= e || *s++ != ':' ||
	    !(s = hex(s, e, &min)) || s >= e || *s++ != ' ')
		return false;
	for (; s < e && *s >= '0' && *s <= '9'; s++)
		inode = inode * 10 + (unsigned long)(*s - '0');
	/* No file at all is 00:00 0; a System V segment's file may have
	 * inode number 0 (shmid 0, the first in every namespace). */
	if (inode == 0 && maj == 0 && min == 0)
		return false;
	while (s < e && *s == ' ')
		s++;
	*path = s;
	*dev = makedev(maj, min);
	*ino = (ino_t)inode;
	return true;
}

/* pid's shared mappings into p->maps, one per (dev, ino, ns); pid_ns is
 * its IPC namespace if known, else 0. */
static void scan_maps(struct shm_proc *p, pid_t pid, ino_t pid_ns, char **buf,
		      size_t *cap)
{
	char file[64];
	ssize_t len;
	guint first = p->maps->len;

	snprintf(file, sizeof(file), "/proc/%d/maps", pid);
	len = read_all(file, buf, cap);
	for (const char *s = *buf, *e; len > 0 && s < *buf + len; s = e + 1) {
		struct shm_mapping m = { .pid = pid };
		unsigned long start, end;
		const char *path;
		bool seen = false;

		e = memchr(s, '\n', (size_t)(*buf + len - s));
		if (!e)
			e = *buf + len;
		if (!parse_line(s, e, &start, &end, &m.dev, &m.ino, &path))
			continue;
		/* The mount's own files: never themselves, always what is
		 * behind them (on every data path /proc names the mount's
		 * file, not the segment's). */
		if (own_known() && m.dev == own_dev) {
			if (!resolve_own(&m))
				continue;
		} else if (e - path >= 5 && memcmp(path, "/SYSV", 5) == 0) {
			if (!pid_ns)
				pid_ns = shm_ipc_ns_of_pid(pid);
			m.dev = 0;
			m.ns = pid_ns;
		}
		for (guint i = first; i < p->maps->len && !seen; i++) {
			const struct shm_mapping *o =
				&g_array_index(p->maps, struct shm_mapping, i);

			seen = o->dev == m.dev && o->ino == m.ino &&
			       o->ns == m.ns;
		}
		if (seen)
			continue;
		if ((p->have & SHM_PROC_PATHS) && !m.via_mount) {
			char range[40];

			/* The line's own path where it cannot mislead (the
			 * kernel writes a newline in a name as \012 and adds
			 * " (deleted)" to a removed file's): one readlink per
			 * mapping saved; else map_files says. */
			if (plain_path(path, e)) {
				m.path = g_strndup(path, (gsize)(e - path));
			} else {
				snprintf(range, sizeof(range), "%lx-%lx", start,
					 end);
				m.path = mapping_path(pid, range);
			}
			if (!m.path)
				continue; /* unmapped meanwhile */
		}
		/* (p->maps owns m.path now: its clear function frees it.) */
		g_array_append_val(p->maps, m);
		// cppcheck-suppress memleak
	}
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static void pids_free(void *a)
{
	g_array_unref(a);
}

static void task_clear(void *p)
{
	struct shm_task *t = p;

	g_free(t->container);
}

/* pid's namespace and container into p->tasks; false if it is gone. */
static bool scan_task(struct shm_proc *p, pid_t pid, char **buf, size_t *cap)
{
	struct shm_task t = { .pid = pid };
	char file[64];
	struct stat st;
	ssize_t len;

	t.ns = shm_ipc_ns_of_pid(pid);
	snprintf(file, sizeof(file), "/proc/%d", (int)pid);
	if (!t.ns || stat(file, &st) < 0)
		return false; /* exited meanwhile */
	t.started = st.st_mtim;
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	len = read_all(file, buf, cap);
	if (len > 0) {
		(*buf)[MIN((size_t)len, *cap - 1)] = '\0';
		t.container = ns_container_of_cgroup(*buf);
	}
	g_array_append_val(p->tasks, t);
	return true;
}

/* One pass over /proc, begun at `began`. */
struct shm_proc *proc_pass(unsigned need, gint64 began)
{
	struct shm_proc *p = g_new0(struct shm_proc, 1);
	g_autofree char *buf = NULL;
	size_t cap = 0;
	GHashTableIter it;
	struct dirent *de;
	gpointer v;
	DIR *d;

	p->refs = 1;
	p->have = need;
	p->began = began;
	p->maps = g_array_new(FALSE, FALSE, sizeof(struct shm_mapping));
	g_array_set_clear_func(p->maps, mapping_clear);
	p->tasks = g_array_new(FALSE, FALSE, sizeof(struct shm_task));
	g_array_set_clear_func(p->tasks, task_clear);
	p->pids = g_hash_table_new_full(file_id_hash, file_id_equal, g_free,
					pids_free);
	p->in_use = g_hash_table_new_full(file_id_hash, file_id_equal, g_free,
					  NULL);
	d = opendir("/proc");
	// cppcheck-suppress readdirCalled
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		ino_t ns = 0;

		if (*end || pid <= 0)
			continue;
		if (need & SHM_PROC_TASKS) {
			if (!scan_task(p, (pid_t)pid, &buf, &cap))
				continue;
			ns = g_array_index(p->tasks, struct shm_task,
					   p->tasks->len - 1)
				     .ns;
		}
		if (need & SHM_PROC_MAPS)
			scan_maps(p, (pid_t)pid, ns, &buf, &cap);
		if (need & SHM_PROC_FDS)
			scan_fds((pid_t)pid, p->in_use);
	}
	if (d)
		closedir(d);
	g_array_sort(p->tasks, pid_cmp); /* pid is a task's first field */
	for (guint i = 0; i < p->maps->len; i++) {
		const struct shm_mapping *m =
			&g_array_index(p->maps, struct shm_mapping, i);
		struct shm_file_id key = { m->dev, m->ino, m->ns };
		GArray *a = g_hash_table_lookup(p->pids, &key);

		if (!a) {
			a = g_array_new(FALSE, FALSE, sizeof(pid_t));
			g_hash_table_insert(p->pids, file_id_new(m), a);
		}
		/* One entry per (pid, file) already. */
		g_array_append_val(a, m->pid);
		file_ids_add(p->in_use, m);
	}
	g_hash_table_iter_init(&it, p->pids);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_array_sort(v, pid_cmp);
	return p;
}

void proc_pass_free(struct shm_proc *p)
{
	g_array_unref(p->maps);
	g_array_unref(p->tasks);
	g_hash_table_unref(p->pids);
	g_hash_table_unref(p->in_use);
	g_free(p);
}
