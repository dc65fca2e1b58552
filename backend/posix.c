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

#include "backend.h"

struct shm_handle {
	int fd;
};

/* The POSIX directory, opened once at init; read-only afterwards. */
static int posix_dirfd = -1;

static int posix_init(const struct shmfs_config *cfg)
{
	const char *dir = cfg->posix_dir ? cfg->posix_dir : "/dev/shm";

	posix_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return posix_dirfd < 0 ? -errno : 0;
}

static void posix_fini(void)
{
	if (posix_dirfd >= 0)
		close(posix_dirfd);
	posix_dirfd = -1;
}

static bool posix_is_semaphore(const char *name)
{
	return strncmp(name, "sem.", 4) == 0;
}

/* A name shm_open could have made: one path component, not a semaphore. */
static bool posix_valid_name(const char *name)
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

	if (!posix_valid_name(name))
		return -ENOENT;
	fd = openat(posix_dirfd, name,
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
	fd = openat(posix_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	/* readdir on a DIR of our own is thread-safe; readdir_r is deprecated. */
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		if (!posix_valid_name(de->d_name))
			continue;
		/* Objects removed since readdir are simply skipped. */
		if (fstatat(posix_dirfd, de->d_name, &st,
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
	if (!posix_valid_name(path))
		return -ENOENT;
	if (fstatat(posix_dirfd, path, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return S_ISREG(st->st_mode) ? 0 : -ENOENT;
}

static int posix_stat(const char *path, struct shm_attr *out)
{
	struct stat st;
	int r;

	if (!path[0]) {
		if (fstat(posix_dirfd, &st) < 0)
			return -errno;
		shm_attr_from_stat(out, &st);
		return 0;
	}
	r = posix_lstat(path, &st);
	if (r == 0)
		shm_attr_from_stat(out, &st);
	return r;
}

static int posix_meta(const char *path, struct shm_meta *m)
{
	struct stat st;
	int r = posix_lstat(path, &st);

	if (r)
		return r;
	/* The kernel keeps no key, creator or attach count for these. */
	*m = (struct shm_meta){
		.have = SHM_META_SIZE | SHM_META_PERMS | SHM_META_OWNER,
		.size = (uint64_t)st.st_size,
		.perms = st.st_mode & 07777,
		.uid = st.st_uid,
		.gid = st.st_gid,
	};
	return 0;
}

static struct shm_handle *posix_handle(int fd)
{
	struct shm_handle *h = g_new0(struct shm_handle, 1);

	h->fd = fd;
	return h;
}

static int posix_open(const char *path, int flags, struct shm_handle **out)
{
	int fd;
	int r = posix_open_fd(path, flags, &fd);

	if (r == 0)
		*out = posix_handle(fd);
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
	/* Always exclusive: only a file this call made may be given to the
	 * caller's uid.  Had it appeared natively since the kernel's lookup,
	 * the caller's right to open it was never checked: say EEXIST. */
	fd = openat(posix_dirfd, name,
		    O_CREAT | O_EXCL | (flags & O_ACCMODE) | O_NOFOLLOW |
			    O_CLOEXEC,
		    mode & 07777);
	if (fd < 0)
		return -errno;
	if (fchown(fd, uid, gid) < 0) {
		int e = errno;

		unlinkat(posix_dirfd, name, 0);
		close(fd);
		return -e;
	}
	*out = posix_handle(fd);
	return 0;
}

static void posix_close(struct shm_handle *h)
{
	if (!h)
		return;
	close(h->fd);
	g_free(h);
}

static int posix_fstat(struct shm_handle *h, struct shm_attr *out)
{
	struct stat st;

	if (fstat(h->fd, &st) < 0)
		return -errno;
	shm_attr_from_stat(out, &st);
	return 0;
}

static int posix_read(struct shm_handle *h, uint64_t off, size_t size,
		      struct shm_extent *out)
{
	/* A read past the end, or of an object shrunk meanwhile, is short:
	 * the front reads the fd and sends what it got. */
	*out = (struct shm_extent){ .fd = h->fd, .off = off, .len = size };
	return 0;
}

static ssize_t posix_write(struct shm_handle *h, const void *buf, size_t size,
			   uint64_t off)
{
	ssize_t n;

	if (off > (uint64_t)INT64_MAX)
		return -EFBIG;
	n = pwrite(h->fd, buf, size, (off_t)off);
	return n < 0 ? -errno : n;
}

static int posix_truncate(const char *path, struct shm_handle *h,
			  uint64_t size)
{
	int fd = -1, r = 0;

	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (h && ftruncate(h->fd, (off_t)size) == 0)
		return 0;
	/* No handle, or one opened read-only: open the object to write. */
	r = posix_open_fd(path, O_WRONLY, &fd);
	if (r)
		return r;
	if (ftruncate(fd, (off_t)size) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int posix_remove(const char *path)
{
	struct stat st;
	int r = posix_lstat(path, &st);

	if (r)
		return r;
	return unlinkat(posix_dirfd, path, 0) < 0 ? -errno : 0;
}

static int posix_chmod(const char *path, mode_t mode)
{
	int fd, r = posix_open_fd(path, O_RDONLY, &fd);

	if (r)
		return r;
	if (fchmod(fd, mode & 07777) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int posix_chown(const char *path, uid_t uid, gid_t gid)
{
	int fd, r = posix_open_fd(path, O_RDONLY, &fd);

	if (r)
		return r;
	if (fchown(fd, uid, gid) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int posix_utimens(const char *path, const struct timespec tv[2])
{
	int fd, r = posix_open_fd(path, O_RDONLY, &fd);

	if (r)
		return r;
	if (futimens(fd, tv) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int posix_statfs(struct shm_usage *acc)
{
	struct statvfs sv;

	if (fstatvfs(posix_dirfd, &sv) < 0)
		return -errno;
	acc->total_bytes += (uint64_t)sv.f_blocks * sv.f_frsize;
	acc->used_bytes += (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	acc->total_files += sv.f_files;
	acc->free_files += sv.f_ffree;
	return 0;
}

const struct shmfs_backend posix_backend = {
	.name = "posix",
	.init = posix_init,
	.fini = posix_fini,
	.list = posix_list,
	.stat = posix_stat,
	.meta = posix_meta,
	.open = posix_open,
	.create = posix_create,
	.close = posix_close,
	.fstat = posix_fstat,
	.read = posix_read,
	.write = posix_write,
	.truncate = posix_truncate,
	.remove = posix_remove,
	.chmod = posix_chmod,
	.chown = posix_chown,
	.utimens = posix_utimens,
	.statfs = posix_statfs,
};
