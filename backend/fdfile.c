/* fdfile.c - see fdfile.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fdfile.h"
#include "procscan.h"

struct shm_handle *fdfile_handle(int fd)
{
	struct shm_handle *h = g_new0(struct shm_handle, 1);

	h->fd = fd;
	return h;
}

int fdfile_adopt(int fd, int dirfd, const char *name, uid_t uid, gid_t gid,
		 struct shm_handle **out)
{
	if (fchown(fd, uid, gid) < 0) {
		int e = errno;

		unlinkat(dirfd, name, 0);
		close(fd);
		return -e;
	}
	*out = fdfile_handle(fd);
	return 0;
}

void fdfile_close(struct shm_handle *h)
{
	if (!h)
		return;
	close(h->fd);
	g_free(h);
}

int fdfile_fstat(struct shm_handle *h, struct shm_attr *out)
{
	struct stat st;

	if (fstat(h->fd, &st) < 0)
		return -errno;
	shm_attr_from_stat(out, &st);
	return 0;
}

int fdfile_read(struct shm_handle *h, uint64_t off, size_t size,
		struct shm_extent *out)
{
	/* A read past the end, or of a file shrunk meanwhile, is short:
	 * the front reads the fd and sends what it got. */
	*out = (struct shm_extent){ .fd = h->fd, .off = off, .len = size };
	return 0;
}

ssize_t fdfile_write(struct shm_handle *h, const void *buf, size_t size,
		     uint64_t off)
{
	ssize_t n;

	if (off > (uint64_t)INT64_MAX)
		return -EFBIG;
	n = pwrite(h->fd, buf, size, (off_t)off);
	return n < 0 ? -errno : n;
}

int fdfile_truncate_fd(int fd, uint64_t size)
{
	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;
	return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

int fdfile_set(int fd, int mode, uid_t uid, gid_t gid,
	       const struct timespec *tv)
{
	if (mode >= 0 && fchmod(fd, (mode_t)mode & 07777) < 0)
		return -errno;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
		return -errno;
	if (tv && futimens(fd, tv) < 0)
		return -errno;
	return 0;
}

int fdfile_truncate(fdfile_opener open_fd, const char *path,
		    struct shm_handle *h, uint64_t size)
{
	int fd, r;

	if (h && fdfile_truncate_fd(h->fd, size) == 0)
		return 0;
	/* No handle, or one opened read-only: open the file to write. */
	r = open_fd(path, O_WRONLY, &fd);
	if (r)
		return r;
	r = fdfile_truncate_fd(fd, size);
	close(fd);
	return r;
}

int fdfile_set_path(fdfile_opener open_fd, const char *path, int mode,
		    uid_t uid, gid_t gid, const struct timespec *tv)
{
	int fd, r = open_fd(path, O_RDONLY, &fd);

	if (r)
		return r;
	r = fdfile_set(fd, mode, uid, gid, tv);
	close(fd);
	return r;
}

int fdfile_statfs(int fd, struct shm_usage *acc)
{
	struct statvfs sv;

	if (fstatvfs(fd, &sv) < 0)
		return -errno;
	acc->total_bytes += (uint64_t)sv.f_blocks * sv.f_frsize;
	acc->used_bytes += (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	acc->total_files += sv.f_files;
	acc->free_files += sv.f_ffree;
	return 0;
}

struct inode_id {
	dev_t dev;
	ino_t ino;
};

static bool same_inode(const struct shm_mapping *m, void *arg)
{
	const struct inode_id *id = arg;

	return m->dev == id->dev && m->ino == id->ino;
}

void fdfile_mappers(dev_t dev, ino_t ino, struct shm_meta *m)
{
	struct inode_id id = { dev, ino };
	GArray *scan = shm_scan_shared(false);

	m->pids = shm_scan_pids(scan, same_inode, &id);
	m->nattch = m->pids->len;
	g_array_unref(scan);
}
