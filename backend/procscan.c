/* procscan.c - see procscan.h. */
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

#include "procscan.h"

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

/* Parse one maps line; true for a shared mapping of an inode. */
static bool parse_maps_line(const char *line, char *range, size_t rangesz,
			    dev_t *dev, ino_t *ino)
{
	unsigned long start, end, off, inode;
	unsigned maj, min;
	char perms[8];

	if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms, &off,
		   &maj, &min, &inode) != 7)
		return false;
	/* No file at all is 00:00 0; a System V segment's file may have
	 * inode number 0 (shmid 0, the first in every namespace). */
	if (perms[3] != 's' || (inode == 0 && maj == 0 && min == 0))
		return false;
	snprintf(range, rangesz, "%lx-%lx", start, end);
	*dev = makedev(maj, min);
	*ino = (ino_t)inode;
	return true;
}

/* Set once before the mount serves, read-only after. */
static dev_t own_dev;
static bool own_set;
static shm_own_resolver own_resolve;

void shm_scan_own_mount(dev_t dev, shm_own_resolver resolve)
{
	own_dev = dev;
	own_resolve = resolve;
	own_set = true;
}

/* A mapping of one of the mount's files is a mapping of the object behind
 * it; false if it must be left out. */
static bool resolve_own(struct shm_mapping *m)
{
	dev_t dev;
	ino_t ino;

	ino_t ns;

	if (!own_set || !own_resolve(m->ino, &dev, &ino, &ns))
		return false;
	m->dev = dev;
	m->ino = ino;
	m->ns = ns;
	m->via_mount = true;
	return true;
}

static void scan_pid(pid_t pid, bool paths, GArray *out)
{
	char file[64], range[64], *line = NULL;
	size_t cap = 0;
	guint first = out->len;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/maps", pid);
	f = fopen(file, "re");
	if (!f)
		return; /* exited meanwhile, or not ours to read */
	while (getline(&line, &cap, f) > 0) {
		struct shm_mapping m = { .pid = pid };
		bool seen = false;

		if (!parse_maps_line(line, range, sizeof(range), &m.dev,
				     &m.ino))
			continue;
		/* The mount's own files: never themselves, always what is
		 * behind them (on every data path /proc names the mount's
		 * file, not the segment's). */
		if (own_set && m.dev == own_dev && !resolve_own(&m))
			continue;
		for (guint i = first; i < out->len && !seen; i++) {
			struct shm_mapping *o =
				&g_array_index(out, struct shm_mapping, i);
			seen = o->dev == m.dev && o->ino == m.ino;
		}
		if (seen)
			continue;
		if (paths && !m.via_mount) {
			m.path = mapping_path(pid, range);
			if (!m.path)
				continue;
		}
		g_array_append_val(out, m);
	}
	free(line);
	fclose(f);
}

GArray *shm_scan_shared(bool paths)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct shm_mapping));
	struct dirent *de;
	DIR *d;

	g_array_set_clear_func(out, mapping_clear);
	d = opendir("/proc");
	if (!d)
		return out;
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		scan_pid((pid_t)pid, paths, out);
	}
	closedir(d);
	return out;
}

static guint file_id_hash(gconstpointer p)
{
	const struct shm_file_id *f = p;

	return g_int64_hash(&(gint64){ (gint64)f->ino }) ^ (guint)f->dev ^
	       (guint)f->ns;
}

static gboolean file_id_equal(gconstpointer a, gconstpointer b)
{
	const struct shm_file_id *x = a, *y = b;

	return x->dev == y->dev && x->ino == y->ino && x->ns == y->ns;
}

GHashTable *shm_file_ids_new(void)
{
	return g_hash_table_new_full(file_id_hash, file_id_equal, g_free, NULL);
}

static void file_ids_add(GHashTable *set, const struct shm_mapping *m)
{
	struct shm_file_id *f = g_new(struct shm_file_id, 1);

	f->dev = m->dev;
	f->ino = m->ino;
	f->ns = m->ns;
	/* The set owns f from here (its key destructor frees it). */
	g_hash_table_add(set, f);
	// cppcheck-suppress memleak
}

bool shm_file_ids_has(GHashTable *set, dev_t dev, ino_t ino, ino_t ns)
{
	struct shm_file_id f = { dev, ino, ns };

	return g_hash_table_contains(set, &f);
}

/* The files pid holds open, into set. */
static void scan_fds(pid_t pid, GHashTable *set)
{
	char dir[64], link[320], target[32];
	struct dirent *de;
	struct statx stx;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return;
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		/* Sockets, pipes, anon inodes ("socket:[..]"): not files. */
		n = readlink(link, target, sizeof(target));
		if (n <= 0 || target[0] != '/')
			continue;
		/* The attributes the kernel has cached: a file of a FUSE
		 * mount (this one: find holding a directory open in it) is
		 * never asked, so a scan run while serving the mount cannot
		 * wait for the mount. */
		if (statx(AT_FDCWD, link, AT_STATX_DONT_SYNC,
			  STATX_TYPE | STATX_INO, &stx) < 0 ||
		    !S_ISREG(stx.stx_mode))
			continue;
		struct shm_mapping m = { .pid = pid,
					 .dev = makedev(stx.stx_dev_major,
							stx.stx_dev_minor),
					 .ino = (ino_t)stx.stx_ino };

		if (own_set && m.dev == own_dev && !resolve_own(&m))
			continue;
		file_ids_add(set, &m);
	}
	closedir(d);
}

GHashTable *shm_scan_in_use(void)
{
	GHashTable *set = shm_file_ids_new();
	GArray *maps = shm_scan_shared(false);
	struct dirent *de;
	DIR *d;

	for (guint i = 0; i < maps->len; i++) {
		const struct shm_mapping *m =
			&g_array_index(maps, struct shm_mapping, i);

		file_ids_add(set, m);
	}
	g_array_unref(maps);
	d = opendir("/proc");
	if (!d)
		return set;
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		scan_fds((pid_t)pid, set);
	}
	closedir(d);
	return set;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

GArray *shm_scan_pids(const GArray *scan,
		      bool (*match)(const struct shm_mapping *m, void *arg),
		      void *arg)
{
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));

	for (guint i = 0; i < scan->len; i++) {
		const struct shm_mapping *m =
			&g_array_index(scan, struct shm_mapping, i);

		if (match(m, arg))
			g_array_append_val(pids, m->pid);
	}
	g_array_sort(pids, pid_cmp);
	/* One entry per (pid, dev, ino) already; drop repeats across
	 * inodes that match together. */
	for (guint i = 1; i < pids->len;) {
		if (g_array_index(pids, pid_t, i) ==
		    g_array_index(pids, pid_t, i - 1))
			g_array_remove_index(pids, i);
		else
			i++;
	}
	return pids;
}
