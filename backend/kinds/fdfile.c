/* fdfile.c - see fdfile.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fdfile.h"
#include "proc/procscan.h"

struct shm_handle *fdfile_handle(int fd)
{
	struct shm_handle *h = g_new0(struct shm_handle, 1);

	h->fd = fd;
	return h;
}

int fdfile_adopt(int fd, int dirfd, const char *name, mode_t mode, uid_t uid,
		 gid_t gid, struct shm_handle **out)
{
	/* The kernel applied the caller's umask already; the daemon's own
	 * umask must not apply again, and chown clears setuid and setgid,
	 * which the caller asked for: the mode is set last, exactly. */
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777) < 0) {
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

/* The SIGBUS guard: a thread merging into a mapping of a file sets
 * bus_jump; a SIGBUS (the file shrank under the mapping) jumps back there.
 * A SIGBUS anywhere else is fatal, as without the handler. */
static __thread sigjmp_buf *bus_jump;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	(void)si, (void)ctx;
	if (bus_jump)
		siglongjmp(*bus_jump, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void bus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* shm_merge into map, 0; or -EFAULT if the file shrank under it. */
static int merge_guarded(void *map, const void *buf, const void *old, size_t n)
{
	sigjmp_buf jb;

	pthread_once(&bus_once, bus_install);
	if (sigsetjmp(jb, 1)) {
		bus_jump = NULL;
		return -EFAULT;
	}
	bus_jump = &jb;
	shm_merge(map, buf, old, n);
	bus_jump = NULL;
	return 0;
}

/* One pwrite per run of changed bytes: for a descriptor that cannot be
 * mapped (opened write-only). */
static ssize_t write_runs(int fd, const unsigned char *b,
			  const unsigned char *o, size_t n, uint64_t off)
{
	size_t i = 0, j;

	while (i < n) {
		ssize_t w;

		while (i < n && b[i] == o[i])
			i++;
		for (j = i; j < n && b[j] != o[j]; j++)
			;
		if (j == i)
			break;
		w = pwrite(fd, b + i, j - i, (off_t)(off + i));
		if (w < 0)
			return -errno;
		if ((size_t)w < j - i)
			return (ssize_t)(i + (size_t)w);
		i = j;
	}
	return (ssize_t)n;
}

ssize_t fdfile_write_changed(struct shm_handle *h, const void *buf,
			     const void *old, size_t size, uint64_t off)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start, end;
	struct stat st;
	void *map;
	int r;

	if (off > (uint64_t)INT64_MAX || size > (uint64_t)INT64_MAX - off)
		return -EFBIG;
	if (fstat(h->fd, &st) < 0)
		return -errno;
	/* Bytes past the end now: the file shrank natively, and stores
	 * there would have been SIGBUS natively.  Not written. */
	if (off >= (uint64_t)st.st_size)
		return 0;
	size = MIN(size, (uint64_t)st.st_size - off);
	start = off & ~(uint64_t)(page - 1);
	end = off + size;
	map = mmap(NULL, end - start, PROT_READ | PROT_WRITE, MAP_SHARED, h->fd,
		   (off_t)start);
	if (map == MAP_FAILED)
		return write_runs(h->fd, buf, old, size, off);
	r = merge_guarded((char *)map + (off - start), buf, old, size);
	munmap(map, end - start);
	return r ? r : (ssize_t)size;
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

int fdfile_set(int fd, const struct shm_set *set)
{
	if (set->mode >= 0 && fchmod(fd, (mode_t)set->mode & 07777) < 0)
		return -errno;
	if ((set->uid != (uid_t)-1 || set->gid != (gid_t)-1) &&
	    fchown(fd, set->uid, set->gid) < 0)
		return -errno;
	if (set->times && futimens(fd, set->times) < 0)
		return -errno;
	return 0;
}

int fdfile_backing(struct shm_handle *h, struct shm_backing *out)
{
	char self[32];
	int fd, fl;

	/* The kernel shares one backing file among all opens of an inode,
	 * so it must allow what any later open may do. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", h->fd);
	fd = open(self, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		*out = (struct shm_backing){ .fd = fd, .writable = true };
		return 0;
	}
	fl = fcntl(h->fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY)
		return -errno;
	fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*out = (struct shm_backing){ .fd = fd, .writable = false };
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

int fdfile_set_path(fdfile_opener open_fd, const char *path,
		    const struct shm_set *set)
{
	int fd, r = open_fd(path, O_RDONLY, &fd);

	if (r)
		return r;
	r = fdfile_set(fd, set);
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

void fdfile_mappers(dev_t dev, ino_t ino, unsigned want, struct shm_meta *m)
{
	m->pids = shm_proc_mappers(
		dev, ino, 0, want & (SHM_META_NATTCH | SHM_META_MAPPERS), 0);
	m->nattch = m->pids->len;
}

int fdfile_fallocate(struct shm_handle *h, int mode, uint64_t off, uint64_t len)
{
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX)
		return -EFBIG;
	return fallocate(h->fd, mode, (off_t)off, (off_t)len) < 0 ? -errno : 0;
}

int64_t fdfile_seek(struct shm_handle *h, int64_t off, int whence)
{
	off_t r = lseek(h->fd, (off_t)off, whence);

	return r < 0 ? -errno : (int64_t)r;
}
