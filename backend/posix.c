/* posix.c - POSIX shared memory objects (shm_open) as files.
 *
 * An object is a regular file in the POSIX directory (/dev/shm unless
 * --posix-dir says otherwise), opened the way glibc's shm_open opens it:
 * relative to that directory, O_NOFOLLOW, O_CLOEXEC.  Only regular files
 * are objects; glibc's named semaphores ("sem.NAME") are not listed and
 * cannot be created here.  Reads and writes go through the object's file
 * descriptor, never through a mapping, so an object truncated by another
 * process gives a short read rather than SIGBUS in the daemon.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fdfile.h"
#include "nsctx.h"
#include "posix.h"

/* The POSIX directory, opened once at init, and its path; read-only
 * afterwards. */
static int posix_dirfd = -1;
static char *posix_dirname;

static int posix_init(const struct shmfs_config *cfg)
{
	const char *dir = cfg->posix_dir ? cfg->posix_dir : "/dev/shm";

	posix_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (posix_dirfd < 0)
		return -errno;
	posix_dirname = g_strdup(dir);
	return 0;
}

static void posix_fini(void)
{
	if (posix_dirfd >= 0)
		close(posix_dirfd);
	posix_dirfd = -1;
	g_clear_pointer(&posix_dirname, g_free);
}

int posix_dir_fd(void)
{
	return shm_ctx_foreign() ? shm_ctx_posix_fd() : posix_dirfd;
}

/* The POSIX directory's path, as user.shm.path shows it. */
static const char *posix_dir_path(void)
{
	return shm_ctx_foreign() ? shm_ctx_posix_path() : posix_dirname;
}

static bool posix_is_semaphore(const char *name)
{
	return strncmp(name, "sem.", 4) == 0;
}

/* A name shm_open could have made: one path component, not a semaphore. */
bool posix_valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= NAME_MAX && !strchr(name, '/') &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
	       !posix_is_semaphore(name);
}

/* Open an existing object: a regular file, never through a symlink, never
 * blocking on a FIFO someone left in the directory. */
static int posix_open_fd(const char *name, int flags, int *out)
{
	struct stat st;
	int fd;

	if (!posix_valid_name(name) || posix_dir_fd() < 0)
		return -ENOENT;
	fd = openat(posix_dir_fd(), name,
		    (flags & (O_ACCMODE | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC |
			    O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	*out = fd;
	return 0;
}

static int posix_list(const char *dir, GArray *out)
{
	struct shm_attr a;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if (dir[0])
		return posix_valid_name(dir) ? -ENOTDIR : -ENOENT;
	if (posix_dir_fd() < 0)
		return -ENOENT;
	fd = openat(posix_dir_fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	/* readdir on a DIR of our own is thread-safe; readdir_r is deprecated.
	 */
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		if (!posix_valid_name(de->d_name))
			continue;
		/* Objects removed since readdir are simply skipped. */
		if (fstatat(posix_dir_fd(), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		shm_attr_from_stat(&a, &st);
		shm_dirents_add(out, de->d_name, &a);
	}
	closedir(d);
	return 0;
}

static int posix_lstat(const char *path, struct stat *st)
{
	if (!posix_valid_name(path) || posix_dir_fd() < 0)
		return -ENOENT;
	if (fstatat(posix_dir_fd(), path, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return S_ISREG(st->st_mode) ? 0 : -ENOENT;
}

static int posix_stat(const char *path, struct shm_attr *out)
{
	struct stat st;
	int r;

	if (!path[0]) {
		if (posix_dir_fd() < 0)
			return -ENOENT;
		if (fstat(posix_dir_fd(), &st) < 0)
			return -errno;
		shm_attr_from_stat(out, &st);
		return 0;
	}
	r = posix_lstat(path, &st);
	if (r == 0)
		shm_attr_from_stat(out, &st);
	return r;
}

static int posix_meta(const char *path, unsigned want, struct shm_meta *m)
{
	struct stat st;
	int r = posix_lstat(path, &st);

	if (r)
		return r;
	/* The kernel keeps no key, creator or attach count for these: who
	 * maps one is read from /proc, and only when asked. */
	*m = (struct shm_meta){
		.have = SHM_META_SIZE | SHM_META_PERMS | SHM_META_OWNER |
			SHM_META_NATTCH | SHM_META_MAPPERS | SHM_META_PATH,
		.size = (uint64_t)st.st_size,
		.perms = st.st_mode & 07777,
		.uid = st.st_uid,
		.gid = st.st_gid,
		.path = g_strconcat(posix_dir_path(), "/", path, NULL),
	};
	if (want & (SHM_META_NATTCH | SHM_META_MAPPERS))
		fdfile_mappers(st.st_dev, st.st_ino, want, m);
	return 0;
}

static int posix_open(const char *path, int flags, struct shm_handle **out)
{
	int fd;
	int r = posix_open_fd(path, flags, &fd);

	if (r == 0)
		*out = fdfile_handle(fd);
	return r;
}

static int posix_create(const char *dir, const char *name, mode_t mode,
			int flags, uid_t uid, gid_t gid,
			struct shm_handle **out)
{
	int fd;

	if (dir[0])
		return -ENOTDIR;
	if (!posix_valid_name(name))
		return -EINVAL;
	if (posix_dir_fd() < 0)
		return -ENOENT;
	/* Always exclusive: only a file this call made may be given to the
	 * caller's uid.  Had it appeared natively since the kernel's lookup,
	 * the caller's right to open it was never checked: say EEXIST. */
	fd = openat(posix_dir_fd(), name,
		    O_CREAT | O_EXCL | (flags & O_ACCMODE) | O_NOFOLLOW |
			    O_CLOEXEC,
		    mode & 07777);
	if (fd < 0)
		return -errno;
	return fdfile_adopt(fd, posix_dir_fd(), name, mode, uid, gid, out);
}

static int posix_truncate(const char *path, struct shm_handle *h, uint64_t size)
{
	return fdfile_truncate(posix_open_fd, path, h, size);
}

static int posix_remove(const char *path)
{
	struct stat st;
	int r = posix_lstat(path, &st);

	if (r)
		return r;
	return unlinkat(posix_dir_fd(), path, 0) < 0 ? -errno : 0;
}

/* Mode, owner and times: on the object itself, never through a link. */
static int posix_setattr(const char *path, const struct shm_set *set)
{
	return fdfile_set_path(posix_open_fd, path, set);
}

/* posix/: the POSIX directory's size and use (df's numbers) and how many
 * objects it holds. */
static int posix_dir_usage(const char *dir, struct shm_dir_usage *out)
{
	g_autoptr(GArray) objs = shm_dirents_new();
	struct statvfs sv;
	int r;

	if (dir[0])
		return -ENODATA;
	if (posix_dir_fd() < 0)
		return -ENOENT;
	if (fstatvfs(posix_dir_fd(), &sv) < 0)
		return -errno;
	r = posix_list("", objs);
	if (r)
		return r;
	*out = (struct shm_dir_usage){
		.have = SHM_DIR_FILES,
		.bytes_total = (uint64_t)sv.f_blocks * sv.f_frsize,
		.bytes_used =
			(uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize,
		.inodes_total = sv.f_files,
		.inodes_used = sv.f_files - sv.f_ffree,
		.objects = objs->len,
	};
	return 0;
}

static int posix_statfs(struct shm_usage *acc)
{
	return fdfile_statfs(posix_dir_fd(), acc);
}

const struct shmfs_backend posix_backend = {
	.name = "posix",
	.segments = true,
	.init = posix_init,
	.fini = posix_fini,
	.list = posix_list,
	.stat = posix_stat,
	.meta = posix_meta,
	.open = posix_open,
	.create = posix_create,
	.close = fdfile_close,
	.fstat = fdfile_fstat,
	.read = fdfile_read,
	.write = fdfile_write,
	.write_changed = fdfile_write_changed,
	.truncate = posix_truncate,
	.remove = posix_remove,
	.setattr = posix_setattr,
	.backing = fdfile_backing,
	.statfs = posix_statfs,
	.dir_usage = posix_dir_usage,
};
