/* sysv_seg.c - an open System V segment: its memory file, the shmem file
 * whose pages are the segment's own, reached through a brief shmat()
 * attachment's /proc/self/map_files entry and detached at once.  The
 * daemon's address space therefore does not grow with what is open: an
 * open file maps nothing (a write-back merge or a huge page write maps a
 * window of the pages it touches, for that call alone), and an open of a
 * segment of any size attaches it only for the moment of the open, one
 * such large attachment at a time.  Like an open descriptor of a removed
 * tmpfs file, the memory file keeps working after IPC_RMID until it is
 * closed; it does not count in nattch.  Only where the memory file cannot
 * be opened (no CAP_SYS_ADMIN) does an open keep its attachment, within
 * SYSV_KEPT_MAX bytes for the whole daemon (-ENOMEM past it, to that
 * opener alone).
 * A segment has a fixed size: writes stop at its end (-ENOSPC),
 * truncating zeroes the tail, growing is -EFBIG.  A pending by-key/ handle
 * (id -1) becomes a segment through sysv_key.c, under the handle's lock.
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

#include "caller.h"
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

/* The page size of the memory file's filesystem: a huge page segment's
 * memory file (hugetlbfs) maps and punches in whole huge pages, and takes
 * no write(2) (hugetlbfs has no write_iter): such segments are written
 * through a window. */
static void memfd_kind(struct shm_handle *h)
{
	struct statfs sfs;

	h->page = (size_t)sysconf(_SC_PAGESIZE);
	h->hugetlb = false;
	if (fstatfs(h->memfd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC) {
		h->hugetlb = true;
		h->page = (size_t)sfs.f_bsize;
	}
}

/* Attachments kept by opens that have no memory file (bytes, and the lock
 * that protects the count); large_attach lets one brief attachment of a
 * large segment exist at a time, so that concurrent opens of huge
 * segments cannot fill the daemon's address space between them. */
static GMutex kept_lock;
static uint64_t kept_bytes;
static GMutex large_attach;
#define SYSV_LARGE ((uint64_t)1 << 30)

int sysv_attach_to(struct shm_handle *h, int id)
{
	struct shmid_ds ds;
	void *addr;
	bool large;
	int r = sysv_ipc_stat(id, &ds);

	if (r)
		return r;
	r = sysv_stat_id(id, &h->last);
	if (r)
		return r;
	large = ds.shm_segsz >= SYSV_LARGE;
	if (large)
		g_mutex_lock(&large_attach);
	/* As the caller: ipcperms decides (owner or creator, group or
	 * creator's group, CAP_IPC_OWNER); the memory file is then opened
	 * with the daemon's rights. */
	r = SHM_AS_CALLER(
		(addr = shmat(id, NULL, h->writable ? 0 : SHM_RDONLY)) ==
				(void *)-1 ?
			-errno :
			0);
	if (r) {
		r = sysv_errno(-r);
		if (large)
			g_mutex_unlock(&large_attach);
		return r;
	}
	h->addr = addr;
	h->size = ds.shm_segsz;
	h->memfd = open_memfd(h);
	if (h->memfd >= 0) {
		shmdt(addr);
		h->addr = NULL;
		memfd_kind(h);
		h->memfd_rdwr =
			(fcntl(h->memfd, F_GETFL) & O_ACCMODE) == O_RDWR;
		h->memfd_writable = h->memfd_rdwr && !h->hugetlb;
	} else {
		g_mutex_lock(&kept_lock);
		if (kept_bytes + h->size > SYSV_KEPT_MAX) {
			r = -ENOMEM;
		} else {
			kept_bytes += h->size;
		}
		g_mutex_unlock(&kept_lock);
		if (r) {
			shmdt(addr);
			h->addr = NULL;
		}
	}
	if (large)
		g_mutex_unlock(&large_attach);
	if (r == 0)
		h->id = id;
	return r;
}

int sysv_attach(int id, bool writable, struct shm_handle **out)
{
	struct shm_handle *h = sysv_handle_new(writable);
	int r = sysv_attach_to(h, id);

	if (r) {
		sysv_close(h);
		return r;
	}
	*out = h;
	return 0;
}

struct shm_handle *sysv_handle_new(bool writable)
{
	struct shm_handle *h = g_new0(struct shm_handle, 1);

	h->id = -1;
	h->writable = writable;
	h->memfd = -1;
	g_mutex_init(&h->lock);
	return h;
}

void sysv_close(struct shm_handle *h)
{
	if (!h)
		return;
	if (h->memfd >= 0)
		close(h->memfd);
	if (h->addr) {
		shmdt(h->addr);
		g_mutex_lock(&kept_lock);
		kept_bytes -= h->size;
		g_mutex_unlock(&kept_lock);
	}
	g_mutex_clear(&h->lock);
	g_free(h);
}

/* Bytes [off, off + len) of h's segment as memory: in the kept attachment,
 * or a window of the memory file mapped for this call (window_close). */
struct window {
	void *map;
	size_t maplen;
	char *at;
};

static int window_open(struct shm_handle *h, uint64_t off, size_t len,
		       bool write, struct window *w)
{
	uint64_t start;

	*w = (struct window){ 0 };
	if (h->addr) {
		w->at = (char *)h->addr + off;
		return 0;
	}
	if (h->memfd < 0 || (write && !h->memfd_rdwr))
		return -EBADF;
	start = off & ~((uint64_t)h->page - 1);
	w->maplen = (size_t)((off + len - start + h->page - 1) &
			     ~((uint64_t)h->page - 1));
	w->map = mmap(NULL, w->maplen, PROT_READ | (write ? PROT_WRITE : 0),
		      MAP_SHARED, h->memfd, (off_t)start);
	if (w->map == MAP_FAILED) {
		w->map = NULL;
		return -errno;
	}
	w->at = (char *)w->map + (off - start);
	return 0;
}

static void window_close(struct window *w)
{
	if (w->map)
		munmap(w->map, w->maplen);
}

/* Zero [off, off + len) through a window. */
static int zero_window(struct shm_handle *h, uint64_t off, uint64_t len)
{
	struct window w;
	int r;

	if (len == 0)
		return 0;
	r = window_open(h, off, (size_t)len, true, &w);
	if (r)
		return r;
	memset(w.at, 0, (size_t)len);
	window_close(&w);
	return 0;
}

/* Zero [size, end): what truncating a fixed-size segment means.  The
 * memory file punches the whole pages out (freeing them, as a truncate
 * of a tmpfs file does) and zeroes the partial one; a huge segment's tail
 * is never touched page by page. */
static int zero_tail(struct shm_handle *h, uint64_t size)
{
	uint64_t start;

	if (size > h->size)
		return -EFBIG;
	if (size == h->size)
		return 0;
	if (h->memfd < 0 || !h->memfd_rdwr)
		return zero_window(h, size, h->size - size);
	start = (size + h->page - 1) & ~((uint64_t)h->page - 1);
	if (start < h->size &&
	    fallocate(h->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)start, (off_t)(h->size - start)) < 0)
		return -errno;
	return zero_window(h, size, MIN(start, h->size) - size);
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

/* A segment removed while open answers as it was when opened, as fstat of
 * a removed file's descriptor does (its memory file keeps the bytes). */
int sysv_seg_fstat(struct shm_handle *h, struct shm_attr *out)
{
	int r;

	if (h->id < 0)
		return -ENOENT;
	r = sysv_stat_id(h->id, out);
	if (r == -ENOENT && h->memfd >= 0 && !h->addr) {
		*out = h->last;
		r = 0;
	}
	return r;
}

int sysv_read(struct shm_handle *h, uint64_t off, size_t size,
	      struct shm_extent *out)
{
	*out = (struct shm_extent){ .fd = -1 };
	if (h->id < 0 || off >= h->size)
		return 0;
	out->len = MIN(size, h->size - off);
	/* The memory file can be spliced to the kernel; a kept attachment
	 * is copied. */
	if (h->memfd >= 0) {
		out->fd = h->memfd;
		out->off = off;
	} else {
		out->mem = (const char *)h->addr + off;
	}
	return 0;
}

ssize_t sysv_seg_write(struct shm_handle *h, const void *buf, size_t size,
		       uint64_t off)
{
	struct window win;
	size_t n;
	int r;

	if (!h->writable)
		return -EBADF;
	if (size == 0)
		return 0;
	if (h->id < 0)
		return -EIO; /* pending: sysv.c makes it first */
	if (off >= h->size)
		return -ENOSPC;
	n = MIN(size, h->size - off);
	/* Through the memory file, the kernel copies straight into the
	 * segment's pages. */
	if (h->memfd >= 0 && h->memfd_writable) {
		ssize_t w = pwrite(h->memfd, buf, n, (off_t)off);

		return w < 0 ? -errno : w;
	}
	r = window_open(h, off, n, true, &win);
	if (r)
		return r;
	memcpy(win.at, buf, n);
	window_close(&win);
	return (ssize_t)n;
}

ssize_t sysv_seg_write_changed(struct shm_handle *h, const void *buf,
			       const void *old, size_t size, uint64_t off)
{
	struct window w;
	size_t n;
	int r;

	if (!h->writable)
		return -EBADF;
	if (h->id < 0)
		return -EIO; /* pending: sysv.c makes it first */
	if (size == 0)
		return 0;
	if (off >= h->size)
		return -ENOSPC;
	n = MIN(size, h->size - off);
	r = window_open(h, off, n, true, &w);
	if (r)
		return r;
	shm_merge(w.at, buf, old, n);
	window_close(&w);
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

int sysv_seg_fallocate(struct shm_handle *h, int mode, uint64_t off,
		       uint64_t len)
{
	if (!h->writable)
		return -EBADF;
	if (h->id < 0)
		return -EIO; /* pending: sysv.c makes it first */
	if (off >= h->size || len > h->size - off) {
		/* The segment cannot grow; a hole past its end is no
		 * change. */
		if (!(mode & FALLOC_FL_PUNCH_HOLE))
			return -ENOSPC;
		if (off >= h->size)
			return 0;
		len = h->size - off;
	}
	if (h->memfd < 0 || !h->memfd_rdwr)
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
