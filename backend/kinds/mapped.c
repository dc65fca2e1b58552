/* mapped.c - regular files that processes map MAP_SHARED, as files under
 * their absolute paths (mapped/var/lib/app/data.shm), plus every file under
 * each --map-dir, mapped or not.
 *
 * Which files are mapped comes from the /proc layer (procscan.h), within
 * its freshness bound, so that a listing costs at most one pass.  Only
 * what the scan or a map-dir makes visible can be looked at: everything
 * else on the machine is ENOENT.  Every path is resolved from / without
 * following any symlink (openat2 RESOLVE_NO_SYMLINKS), so a link planted
 * in a visible directory leads nowhere.  Not listed: deleted files,
 * System V and memfd mappings, objects in the POSIX directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caller.h"
#include "fdfile.h"
#include "proc/procscan.h"

static int root_fd = -1; /* "/", O_PATH */
static char **map_dirs;	 /* canonical, without the leading '/' */
static dev_t posix_dev;	 /* objects there belong to posix/ */
static struct timespec mapped_started;

/* scan_lock protects the cached scan: the mapped files and the directories
 * that lead to them (both as paths without the leading '/'). */
G_LOCK_DEFINE_STATIC(scan_lock);
static GHashTable *scan_files, *scan_dirs;
static gint64 scan_from; /* when the pass they come from began */

static int open_beneath(const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root_fd, rel[0] ? rel : ".", &how,
			  sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static int mapped_init(const struct shmfs_config *cfg)
{
	GPtrArray *dirs;
	struct stat st;

	clock_gettime(CLOCK_REALTIME, &mapped_started);
	root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	dirs = g_ptr_array_new();
	for (const char *const *d = cfg->map_dirs; d && *d; d++) {
		char *real = realpath(*d, NULL);

		if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
			int e = real ? ENOTDIR : errno;

			free(real);
			g_ptr_array_free(dirs, TRUE);
			return -e;
		}
		g_ptr_array_add(dirs, g_strdup(real + 1));
		free(real);
	}
	g_ptr_array_add(dirs, NULL);
	map_dirs = (char **)g_ptr_array_free(dirs, FALSE);
	if (stat(cfg->posix_dir ? cfg->posix_dir : "/dev/shm", &st) == 0)
		posix_dev = st.st_dev;
	scan_files =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	scan_dirs =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return 0;
}

static void mapped_fini(void)
{
	if (root_fd >= 0)
		close(root_fd);
	root_fd = -1;
	g_clear_pointer(&map_dirs, g_strfreev);
	g_clear_pointer(&scan_files, g_hash_table_destroy);
	g_clear_pointer(&scan_dirs, g_hash_table_destroy);
}

/* Is path inside (or equal to) dir?  Both without the leading '/'. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return n == 0 || (strncmp(path, dir, n) == 0 &&
			  (path[n] == '\0' || path[n] == '/'));
}

static bool in_map_dir(const char *rel)
{
	for (char **d = map_dirs; *d; d++)
		if (path_within(rel, *d))
			return true;
	return false;
}

/* Add every proper ancestor of rel ("a", "a/b" for "a/b/c") to set. */
static void add_ancestors(GHashTable *set, const char *rel)
{
	for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/'))
		g_hash_table_add(set, g_strndup(rel, (gsize)(p - rel)));
}

/* Is this mapping a regular file that belongs in mapped/? */
static bool mapping_listed(const struct shm_mapping *m)
{
	struct stat st;

	/* Mappings through the mount are of the mount's own files (the
	 * object behind them is listed where it belongs, if at all). */
	if (m->via_mount || !m->path || m->path[0] != '/' ||
	    g_str_has_suffix(m->path, " (deleted)"))
		return false;
	/* The name must still be the mapped inode, and not a POSIX object. */
	return stat(m->path, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_dev == m->dev && st.st_ino == m->ino &&
	       st.st_dev != posix_dev;
}

/* Make the mapped files and their directories again from the newest
 * snapshot, if they were made from an older one. */
static void scan_refresh(void)
{
	g_autoptr(shm_proc) snap =
		shm_proc_get(SHM_PROC_MAPS | SHM_PROC_PATHS, SHM_PROC_FRESH_US);
	const GArray *maps = shm_proc_maps(snap);

	G_LOCK(scan_lock);
	if (scan_from == shm_proc_began(snap)) {
		G_UNLOCK(scan_lock);
		return;
	}
	g_hash_table_remove_all(scan_files);
	g_hash_table_remove_all(scan_dirs);
	for (guint i = 0; i < maps->len; i++) {
		const struct shm_mapping *m =
			&g_array_index(maps, struct shm_mapping, i);

		if (!mapping_listed(m))
			continue;
		g_hash_table_add(scan_files, g_strdup(m->path + 1));
		add_ancestors(scan_dirs, m->path + 1);
	}
	for (char **d = map_dirs; *d; d++) {
		if ((*d)[0]) {
			add_ancestors(scan_dirs, *d);
			g_hash_table_add(scan_dirs, g_strdup(*d));
		}
	}
	scan_from = shm_proc_began(snap);
	G_UNLOCK(scan_lock);
}

/* May rel be shown with this file type?  (Root always.) */
static bool visible(const char *rel, mode_t type)
{
	bool r;

	if (!rel[0] || in_map_dir(rel))
		return true;
	scan_refresh();
	G_LOCK(scan_lock);
	r = g_hash_table_contains(S_ISDIR(type) ? scan_dirs : scan_files, rel);
	G_UNLOCK(scan_lock);
	return r;
}

/* Open a visible regular file or directory; *st filled. */
static int open_visible(const char *rel, int flags, struct stat *st)
{
	/* Never block on a FIFO; openat2 refuses O_NONBLOCK with O_PATH. */
	int fd = open_beneath(rel,
			      (flags & O_PATH) ? flags : flags | O_NONBLOCK, 0);

	if (fd == -ELOOP || fd == -EXDEV || fd == -ENOTDIR)
		return -ENOENT; /* through a symlink: not ours to show */
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0 ||
	    !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) ||
	    !visible(rel, st->st_mode)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static int mapped_stat(const char *rel, struct shm_attr *out)
{
	struct stat st;
	int fd;

	if (!rel[0]) {
		*out = (struct shm_attr){ .mode = S_IFDIR | 0755,
					  .atime = mapped_started,
					  .mtime = mapped_started,
					  .ctime = mapped_started };
		return 0;
	}
	fd = open_visible(rel, O_PATH, &st);
	if (fd < 0)
		return fd;
	close(fd);
	shm_attr_from_stat(out, &st);
	return 0;
}

/* The component of path right after dir ("b" for dir "a", path "a/b/c"),
 * or NULL if path is not below dir. */
static char *next_component(const char *path, const char *dir)
{
	const char *rest, *slash;

	if (!path_within(path, dir) || strcmp(path, dir) == 0)
		return NULL;
	rest = dir[0] ? path + strlen(dir) + 1 : path;
	slash = strchr(rest, '/');
	return slash ? g_strndup(rest, (gsize)(slash - rest)) : g_strdup(rest);
}

static void add_names_below(GHashTable *names, GHashTable *set, const char *dir)
{
	GHashTableIter it;
	gpointer k;

	g_hash_table_iter_init(&it, set);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		char *c = next_component(k, dir);

		if (c)
			g_hash_table_add(names, c);
	}
}

/* Names of the real directory dir (inside a map-dir). */
static void add_real_names(GHashTable *names, const char *dir)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd = open_beneath(dir, O_RDONLY | O_DIRECTORY, 0);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0 &&
		    (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			g_hash_table_add(names, g_strdup(de->d_name));
	}
	closedir(d);
}

static int mapped_list(const char *dir, GArray *out)
{
	g_autoptr(GHashTable) names =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct shm_attr a;
	GHashTableIter it;
	gpointer k;
	int r = mapped_stat(dir, &a);

	if (r)
		return r;
	if (!S_ISDIR(a.mode))
		return -ENOTDIR;
	scan_refresh();
	G_LOCK(scan_lock);
	add_names_below(names, scan_files, dir);
	add_names_below(names, scan_dirs, dir);
	G_UNLOCK(scan_lock);
	if (in_map_dir(dir))
		add_real_names(names, dir);
	g_hash_table_iter_init(&it, names);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		g_autofree char *child =
			dir[0] ? g_strconcat(dir, "/", k, NULL) : g_strdup(k);

		/* Gone or unmapped since the scan: skipped. */
		if (mapped_stat(child, &a) == 0)
			shm_dirents_add(out, k, &a);
	}
	return 0;
}

static int mapped_meta(const char *rel, unsigned want, struct shm_meta *m)
{
	struct stat st;
	int fd = open_visible(rel, O_PATH, &st);

	if (fd < 0)
		return fd;
	close(fd);
	if (!S_ISREG(st.st_mode))
		return -ENODATA;
	*m = (struct shm_meta){
		.have = SHM_META_SIZE | SHM_META_PERMS | SHM_META_OWNER |
			SHM_META_NATTCH | SHM_META_MAPPERS | SHM_META_PATH,
		.size = (uint64_t)st.st_size,
		.perms = st.st_mode & 07777,
		.uid = st.st_uid,
		.gid = st.st_gid,
		.path = g_strconcat("/", rel, NULL),
	};
	if (want & (SHM_META_NATTCH | SHM_META_MAPPERS))
		fdfile_mappers(st.st_dev, st.st_ino, want, m);
	return 0;
}

/* Open a visible regular file for I/O or for changing it. */
static int open_file(const char *rel, int flags, int *out)
{
	struct stat st;
	int fd = open_visible(rel, flags, &st);

	if (fd < 0)
		return fd;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	*out = fd;
	return 0;
}

static int mapped_open(const char *rel, int flags, struct shm_handle **out)
{
	int fd, r = SHM_AS_CALLER(
			open_file(rel, flags & (O_ACCMODE | O_TRUNC), &fd));

	if (r == 0)
		*out = fdfile_handle(fd);
	return r;
}

static bool valid_name(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

static int mapped_create(const char *dir, const char *name, mode_t mode,
			 int flags, uid_t uid, gid_t gid,
			 struct shm_handle **out)
{
	g_autofree char *rel = NULL;
	int fd;

	if (!valid_name(name))
		return -EINVAL;
	/* Only inside a --map-dir: elsewhere nothing is ours to create. */
	if (!in_map_dir(dir))
		return -EPERM;
	rel = dir[0] ? g_strconcat(dir, "/", name, NULL) : g_strdup(name);
	fd = SHM_AS_CALLER(open_beneath(
		rel, O_CREAT | O_EXCL | (flags & O_ACCMODE), mode & 07777));
	if (fd < 0)
		return fd == -ELOOP ? -ENOENT : fd;
	return SHM_AS_CALLER(
		fdfile_adopt(fd, root_fd, rel, mode, uid, gid, out));
}

static int mapped_truncate(const char *rel, struct shm_handle *h, uint64_t size)
{
	return SHM_AS_CALLER(fdfile_truncate(open_file, rel, h, size));
}

static int mapped_setattr(const char *rel, const struct shm_set *set)
{
	return SHM_AS_CALLER(fdfile_set_path(open_file, rel, set));
}

static int mapped_remove(const char *rel)
{
	g_autofree char *dir = g_path_get_dirname(rel);
	g_autofree char *base = g_path_get_basename(rel);
	struct stat st;
	int dfd, fd, r;

	fd = open_visible(rel, O_PATH, &st);
	if (fd < 0)
		return fd;
	close(fd);
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	dfd = open_beneath(strcmp(dir, ".") == 0 ? "" : dir,
			   O_PATH | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfd;
	r = SHM_AS_CALLER(unlinkat(dfd, base, 0) < 0 ? -errno : 0);
	close(dfd);
	if (r == 0) {
		G_LOCK(scan_lock);
		g_hash_table_remove(scan_files, rel);
		G_UNLOCK(scan_lock);
	}
	return r;
}

static int mapped_statfs(struct shm_usage *acc)
{
	/* Mapped files live on many filesystems, none of them ours. */
	(void)acc;
	return 0;
}

const struct shmfs_backend mapped_backend = {
	.name = "mapped",
	.init = mapped_init,
	.fini = mapped_fini,
	.list = mapped_list,
	.stat = mapped_stat,
	.meta = mapped_meta,
	.open = mapped_open,
	.create = mapped_create,
	.close = fdfile_close,
	.fstat = fdfile_fstat,
	.read = fdfile_read,
	.write = fdfile_write,
	.write_changed = fdfile_write_changed,
	.fallocate = fdfile_fallocate,
	.seek = fdfile_seek,
	.truncate = mapped_truncate,
	.remove = mapped_remove,
	.setattr = mapped_setattr,
	.backing = fdfile_backing,
	.statfs = mapped_statfs,
};
