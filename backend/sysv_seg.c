/* sysv_seg.c - an open System V segment: one shmat() attachment (so it
 * counts in nattch, as a native attacher would), detached on close; like
 * a native attacher it keeps working after IPC_RMID until it is closed.
 * A segment has a fixed size: writes stop at its end (-ENOSPC),
 * truncating zeroes the tail, growing is -EFBIG.  The backing descriptor
 * for passthrough is the segment's memory file, reached through the
 * attachment's /proc/self/map_files entry: holding it does not count in
 * nattch, and it keeps a removed segment's memory alive exactly as an
 * attachment would.  A pending by-key/ handle (id -1) becomes a segment
 * through sysv_key.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/falloc.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "sysv.h"

/* The end of the mapping that starts at addr, from /proc/self/maps (a
 * huge page segment's attachment is rounded to its page size). */
static uintptr_t mapping_end(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned long start, end;
	char line[512];
	uintptr_t r = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    start == addr) {
			r = end;
			break;
		}
	}
	fclose(f);
	return r;
}

/* The segment's memory file behind h's attachment, opened for reading
 * and writing (the daemon attaches as root, or as the segment's owner),
 * else for reading; -1 if neither. */
static int open_memfd(const struct shm_handle *h)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)h->addr;
	uintptr_t end =
		start + ((h->size + (size_t)page - 1) & ~((size_t)page - 1));
	char path[64];
	int fd;

	for (int tries = 0; tries < 2; tries++) {
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
			 (unsigned long)start, (unsigned long)end);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == EACCES)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		end = mapping_end(start);
		if (!end)
			break;
	}
	return -1;
}

/* A huge page segment's memory file takes no write(2) (hugetlbfs has no
 * write_iter): such segments are written through the attachment. */
static bool on_hugetlbfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC;
}

int sysv_attach_to(struct shm_handle *h, int id)
{
	struct shmid_ds ds;
	void *addr;
	int r = sysv_ipc_stat(id, &ds);

	if (r)
		return r;
	addr = shmat(id, NULL, h->writable ? 0 : SHM_RDONLY);
	if (addr == (void *)-1)
		return sysv_errno(errno);
	h->id = id;
	h->addr = addr;
	h->size = ds.shm_segsz;
	h->memfd = open_memfd(h);
	h->memfd_writable = h->memfd >= 0 &&
			    (fcntl(h->memfd, F_GETFL) & O_ACCMODE) == O_RDWR &&
			    !on_hugetlbfs(h->memfd);
	return 0;
}

int sysv_attach(int id, bool writable, struct shm_handle **out)
{
	struct shm_handle *h = g_new0(struct shm_handle, 1);
	int r;

	h->writable = writable;
	h->memfd = -1;
	r = sysv_attach_to(h, id);
	if (r) {
		g_free(h);
		return r;
	}
	*out = h;
	return 0;
}

void sysv_close(struct shm_handle *h)
{
	if (!h)
		return;
	if (h->memfd >= 0)
		close(h->memfd);
	if (h->id >= 0)
		shmdt(h->addr);
	g_free(h);
}

/* Zero [size, end): what truncating a fixed-size segment means. */
static int zero_tail(struct shm_handle *h, uint64_t size)
{
	if (size > h->size)
		return -EFBIG;
	memset((char *)h->addr + size, 0, h->size - size);
	return 0;
}

int sysv_open_id(const char *name, int flags, struct shm_handle **out)
{
	g_autoptr(shm_handle) h = NULL;
	int r = sysv_attach(sysv_parse_id(name),
			    (flags & O_ACCMODE) != O_RDONLY, &h);

	if (r)
		return r;
	if ((flags & O_TRUNC) && h->writable)
		zero_tail(h, 0);
	*out = g_steal_pointer(&h);
	return 0;
}

int sysv_fstat(struct shm_handle *h, struct shm_attr *out)
{
	return h->id < 0 ? sysv_key_fstat(h, out) : sysv_stat_id(h->id, out);
}

int sysv_read(struct shm_handle *h, uint64_t off, size_t size,
	      struct shm_extent *out)
{
	*out = (struct shm_extent){ .fd = -1 };
	if (h->id < 0 || off >= h->size)
		return 0;
	out->len = MIN(size, h->size - off);
	/* The memory file can be spliced to the kernel; the attachment
	 * would be copied. */
	if (h->memfd >= 0) {
		out->fd = h->memfd;
		out->off = off;
	} else {
		out->mem = (const char *)h->addr + off;
	}
	return 0;
}

ssize_t sysv_write(struct shm_handle *h, const void *buf, size_t size,
		   uint64_t off)
{
	size_t n;

	if (!h->writable)
		return -EBADF;
	if (size == 0)
		return 0;
	/* The first write to a pending segment fixes its size: its end. */
	if (h->id < 0) {
		int r = off > UINT64_MAX - size ?
				-EFBIG :
				sysv_key_materialize(h, off + size);

		if (r)
			return r;
	}
	if (off >= h->size)
		return -ENOSPC;
	n = MIN(size, h->size - off);
	/* Through the memory file, the kernel copies straight into the
	 * segment's pages; through the attachment the daemon would fault
	 * each page in first (every open is a new attachment). */
	if (h->memfd >= 0 && h->memfd_writable) {
		ssize_t w = pwrite(h->memfd, buf, n, (off_t)off);

		return w < 0 ? -errno : w;
	}
	memcpy((char *)h->addr + off, buf, n);
	return (ssize_t)n;
}

ssize_t sysv_write_changed(struct shm_handle *h, const void *buf,
			   const void *old, size_t size, uint64_t off)
{
	size_t n;

	if (!h->writable)
		return -EBADF;
	if (h->id < 0) /* pending: nothing there to merge with */
		return sysv_write(h, buf, size, off);
	if (size == 0)
		return 0;
	if (off >= h->size)
		return -ENOSPC;
	n = MIN(size, h->size - off);
	shm_merge((char *)h->addr + off, buf, old, n);
	return (ssize_t)n;
}

int sysv_backing(struct shm_handle *h, struct shm_backing *out)
{
	int fd;

	if (h->id < 0 || h->memfd < 0)
		return -ENOTSUP;
	fd = fcntl(h->memfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*out = (struct shm_backing){
		.fd = fd,
		.writable = h->memfd_writable,
		.writes_to_daemon = true,
	};
	return 0;
}

int sysv_truncate_id(int id, struct shm_handle *h, uint64_t size)
{
	g_autoptr(shm_handle) own = NULL;
	struct shm_attr a;
	int r;

	if (!h || !h->writable) {
		r = sysv_stat_id(id, &a);
		if (r)
			return r;
		if (size >= a.size)
			return size > a.size ? -EFBIG : 0;
		r = sysv_attach(id, true, &own);
		if (r)
			return r;
		h = own;
	}
	return zero_tail(h, size);
}

int sysv_fallocate(struct shm_handle *h, int mode, uint64_t off, uint64_t len)
{
	if (!h->writable)
		return -EBADF;
	/* A pending by-key/ file: allocating fixes its size, as a truncate
	 * does. */
	if (h->id < 0)
		return mode == 0 && off <= UINT64_MAX - len ?
			       sysv_key_materialize(h, off + len) :
			       -EOPNOTSUPP;
	if (off >= h->size || len > h->size - off) {
		/* The segment cannot grow; a hole past its end is no
		 * change. */
		if (!(mode & FALLOC_FL_PUNCH_HOLE))
			return -ENOSPC;
		if (off >= h->size)
			return 0;
		len = h->size - off;
	}
	if (h->memfd < 0 || !h->memfd_writable)
		return -EOPNOTSUPP;
	return fallocate(h->memfd, mode, (off_t)off, (off_t)len) < 0 ? -errno :
								       0;
}

int64_t sysv_seek(struct shm_handle *h, int64_t off, int whence)
{
	off_t r;

	if (h->id < 0 || h->memfd < 0)
		return -ENOSYS;
	r = lseek(h->memfd, (off_t)off, whence);
	return r < 0 ? -errno : (int64_t)r;
}
