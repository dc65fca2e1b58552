/* sysv.c - System V shared memory segments (shmget) as files named by shmid.
 *
 * Looking (list, stat, meta) reads /proc/sysvipc/shm or calls IPC_STAT and
 * never attaches, so nattch, lpid and the times stay as they were.  An open
 * handle is one shmat() attachment, detached on close: like a native
 * attacher, it keeps working after IPC_RMID until it is closed.  A segment
 * has a fixed size: writes stop at its end (-ENOSPC), truncating zeroes the
 * tail, growing is -EFBIG.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <fcntl.h>

#include "backend.h"

#define SYSV_PROC "/proc/sysvipc/shm"

typedef struct shm_handle sysv_handle;

struct shm_handle {
	int id;
	void *addr;
	size_t size;
	bool writable;
};

static struct timespec sysv_started;

static int sysv_init(const struct shmfs_config *cfg)
{
	(void)cfg;
	clock_gettime(CLOCK_REALTIME, &sysv_started);
	return 0;
}

static void sysv_fini(void)
{
}

/* A shmid in canonical decimal ("0", "42"; not "042", "+4", "4 "), or -1. */
static int sysv_parse_id(const char *path)
{
	long v = 0;

	if (!path[0] || (path[0] == '0' && path[1]))
		return -1;
	for (const char *p = path; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -1;
	}
	return (int)v;
}

static int sysv_errno(int e)
{
	/* The kernel says EINVAL for an id that does not exist (any more)
	 * and EIDRM for one being removed: both are "no such file". */
	return (e == EINVAL || e == EIDRM) ? -ENOENT : -e;
}

static int sysv_ipc_stat(int id, struct shmid_ds *ds)
{
	if (shmctl(id, IPC_STAT, ds) < 0)
		return sysv_errno(errno);
	return 0;
}

static struct timespec ts_of(time_t t)
{
	return (struct timespec){ .tv_sec = t };
}

/* atime: last attach; mtime: last detach (a writer's last moment), or
 * change; ctime: creation or last IPC_SET.  Never-attached segments show
 * their change time rather than 1970. */
static void sysv_fill_attr(struct shm_attr *a, mode_t mode, uid_t uid,
			   gid_t gid, uint64_t size, time_t at, time_t dt,
			   time_t ct)
{
	*a = (struct shm_attr){
		.mode = S_IFREG | (mode & 0777),
		.uid = uid,
		.gid = gid,
		.size = size,
		.blocks = (size + 511) / 512,
		.atime = ts_of(at ? at : ct),
		.mtime = ts_of(dt > ct ? dt : ct),
		.ctime = ts_of(ct),
		.gone = (mode & SHM_DEST) != 0,
	};
}

static void sysv_attr_from_ds(struct shm_attr *a, const struct shmid_ds *ds)
{
	sysv_fill_attr(a, ds->shm_perm.mode, ds->shm_perm.uid,
		       ds->shm_perm.gid, ds->shm_segsz, ds->shm_atime,
		       ds->shm_dtime, ds->shm_ctime);
}

static void sysv_dir_attr(struct shm_attr *a)
{
	/* Like /dev/shm: anyone may look, the sticky bit lets only a
	 * segment's owner (or root) remove it. */
	*a = (struct shm_attr){
		.mode = S_IFDIR | 01777,
		.atime = sysv_started,
		.mtime = sysv_started,
		.ctime = sysv_started,
	};
}

/* One row of /proc/sysvipc/shm. */
struct sysv_row {
	int key, id;
	unsigned mode;
	unsigned long long size, rss, swap;
	int cpid, lpid;
	unsigned long nattch;
	unsigned uid, gid, cuid, cgid;
	long long atime, dtime, ctime;
};

static bool sysv_parse_row(const char *line, struct sysv_row *r)
{
	return sscanf(line,
		      "%d %d %o %llu %d %d %lu %u %u %u %u %lld %lld %lld "
		      "%llu %llu",
		      &r->key, &r->id, &r->mode, &r->size, &r->cpid, &r->lpid,
		      &r->nattch, &r->uid, &r->gid, &r->cuid, &r->cgid,
		      &r->atime, &r->dtime, &r->ctime, &r->rss,
		      &r->swap) == 16;
}

/* Call fn on every row of /proc/sysvipc/shm until it returns true. */
static int sysv_scan(bool (*fn)(const struct sysv_row *r, void *arg),
		     void *arg)
{
	FILE *f = fopen(SYSV_PROC, "re");
	char *line = NULL;
	size_t cap = 0;
	struct sysv_row r;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (sysv_parse_row(line, &r) && fn(&r, arg))
			break;
	}
	free(line);
	fclose(f);
	return 0;
}

static bool sysv_list_row(const struct sysv_row *r, void *arg)
{
	struct shm_attr a;
	char name[16];

	if (r->mode & SHM_DEST)
		return false;
	sysv_fill_attr(&a, r->mode, r->uid, r->gid, r->size, r->atime,
		       r->dtime, r->ctime);
	snprintf(name, sizeof(name), "%d", r->id);
	shm_dirents_add(arg, name, &a);
	return false;
}

static int sysv_list(const char *dir, GArray *out)
{
	if (dir[0])
		return sysv_parse_id(dir) < 0 ? -ENOENT : -ENOTDIR;
	return sysv_scan(sysv_list_row, out);
}

static int sysv_stat_id(int id, struct shm_attr *out)
{
	struct shmid_ds ds;
	int r = sysv_ipc_stat(id, &ds);

	if (r == 0)
		sysv_attr_from_ds(out, &ds);
	return r;
}

static int sysv_stat(const char *path, struct shm_attr *out)
{
	int id;

	if (!path[0]) {
		sysv_dir_attr(out);
		return 0;
	}
	id = sysv_parse_id(path);
	return id < 0 ? -ENOENT : sysv_stat_id(id, out);
}

struct sysv_find {
	int id;
	struct sysv_row row;
	bool found;
};

static bool sysv_find_row(const struct sysv_row *r, void *arg)
{
	struct sysv_find *f = arg;

	if (r->id != f->id)
		return false;
	f->row = *r;
	f->found = true;
	return true;
}

static int sysv_meta(const char *path, struct shm_meta *m)
{
	struct sysv_find f = { .id = sysv_parse_id(path) };
	struct sysv_row *r = &f.row;
	int err;

	if (f.id < 0)
		return -ENOENT;
	/* /proc/sysvipc/shm is the one place with every field ipcs shows,
	 * rss and swap included, read in one consistent snapshot. */
	err = sysv_scan(sysv_find_row, &f);
	if (err)
		return err;
	if (!f.found)
		return -ENOENT;
	*m = (struct shm_meta){
		.have = SHM_META_ID | SHM_META_KEY | SHM_META_SIZE |
			SHM_META_PERMS | SHM_META_OWNER | SHM_META_CREATOR |
			SHM_META_PIDS | SHM_META_NATTCH | SHM_META_TIMES |
			SHM_META_STATUS | SHM_META_MEMORY,
		.id = r->id,
		.key = (uint32_t)r->key,
		.size = r->size,
		.perms = r->mode & 0777,
		.uid = r->uid,
		.gid = r->gid,
		.cuid = r->cuid,
		.cgid = r->cgid,
		.cpid = r->cpid,
		.lpid = r->lpid,
		.nattch = r->nattch,
		.atime = r->atime,
		.dtime = r->dtime,
		.ctime = r->ctime,
		.status = ((r->mode & SHM_DEST) ? SHM_STATUS_DEST : 0) |
			  ((r->mode & SHM_LOCKED) ? SHM_STATUS_LOCKED : 0),
		.rss = r->rss,
		.swap = r->swap,
	};
	return 0;
}

static int sysv_attach(int id, bool writable, struct shm_handle **out)
{
	struct shmid_ds ds;
	struct shm_handle *h;
	void *addr;
	int r;

	r = sysv_ipc_stat(id, &ds);
	if (r)
		return r;
	addr = shmat(id, NULL, writable ? 0 : SHM_RDONLY);
	if (addr == (void *)-1)
		return sysv_errno(errno);
	h = g_new0(struct shm_handle, 1);
	h->id = id;
	h->addr = addr;
	h->size = ds.shm_segsz;
	h->writable = writable;
	*out = h;
	return 0;
}

static void sysv_close(struct shm_handle *h)
{
	if (!h)
		return;
	shmdt(h->addr);
	g_free(h);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sysv_handle, sysv_close)

/* Zero [size, end): what truncating a fixed-size segment means. */
static int sysv_zero_tail(struct shm_handle *h, uint64_t size)
{
	if (size > h->size)
		return -EFBIG;
	memset((char *)h->addr + size, 0, h->size - size);
	return 0;
}

static int sysv_open(const char *path, int flags, struct shm_handle **out)
{
	g_autoptr(sysv_handle) h = NULL;
	int id = sysv_parse_id(path);
	int r;

	if (id < 0)
		return -ENOENT;
	r = sysv_attach(id, (flags & O_ACCMODE) != O_RDONLY, &h);
	if (r)
		return r;
	if ((flags & O_TRUNC) && h->writable)
		sysv_zero_tail(h, 0);
	*out = g_steal_pointer(&h);
	return 0;
}

static int sysv_create(const char *dir, const char *name, mode_t mode,
		       int flags, uid_t uid, gid_t gid, struct shm_handle **out)
{
	(void)dir, (void)name, (void)mode, (void)flags, (void)uid, (void)gid;
	(void)out;
	/* A shmid is chosen by the kernel, never by a name. */
	return -EPERM;
}

static int sysv_fstat(struct shm_handle *h, struct shm_attr *out)
{
	return sysv_stat_id(h->id, out);
}

static int sysv_read(struct shm_handle *h, uint64_t off, size_t size,
		     struct shm_extent *out)
{
	*out = (struct shm_extent){ .fd = -1 };
	if (off >= h->size)
		return 0;
	out->mem = (const char *)h->addr + off;
	out->len = MIN(size, h->size - off);
	return 0;
}

static ssize_t sysv_write(struct shm_handle *h, const void *buf, size_t size,
			  uint64_t off)
{
	size_t n;

	if (!h->writable)
		return -EBADF;
	if (size == 0)
		return 0;
	if (off >= h->size)
		return -ENOSPC;
	n = MIN(size, h->size - off);
	memcpy((char *)h->addr + off, buf, n);
	return (ssize_t)n;
}

static int sysv_truncate(const char *path, struct shm_handle *h,
			 uint64_t size)
{
	g_autoptr(sysv_handle) own = NULL;
	struct shm_attr a;
	int r;

	if (!h || !h->writable) {
		int id = sysv_parse_id(path);

		if (id < 0)
			return -ENOENT;
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
	return sysv_zero_tail(h, size);
}

/* IPC_STAT, change, IPC_SET: the only way to set mode and owner. */
static int sysv_set(const char *path, int mode, uid_t uid, gid_t gid)
{
	struct shmid_ds ds;
	int id = sysv_parse_id(path);
	int r;

	if (id < 0)
		return -ENOENT;
	r = sysv_ipc_stat(id, &ds);
	if (r)
		return r;
	if (mode >= 0)
		ds.shm_perm.mode = (ds.shm_perm.mode & ~0777u) | (mode & 0777);
	if (uid != (uid_t)-1)
		ds.shm_perm.uid = uid;
	if (gid != (gid_t)-1)
		ds.shm_perm.gid = gid;
	if (shmctl(id, IPC_SET, &ds) < 0)
		return sysv_errno(errno);
	return 0;
}

static int sysv_chmod(const char *path, mode_t mode)
{
	/* IPC_SET keeps only the nine permission bits. */
	if (mode & ~0777u)
		return -EINVAL;
	return sysv_set(path, (int)mode, (uid_t)-1, (gid_t)-1);
}

static int sysv_chown(const char *path, uid_t uid, gid_t gid)
{
	return sysv_set(path, -1, uid, gid);
}

static int sysv_utimens(const char *path, const struct timespec tv[2])
{
	(void)path, (void)tv;
	return -EPERM;
}

static int sysv_remove(const char *path)
{
	int id = sysv_parse_id(path);

	if (id < 0)
		return -ENOENT;
	if (shmctl(id, IPC_RMID, NULL) < 0)
		return sysv_errno(errno);
	return 0;
}

static int sysv_statfs(struct shm_usage *acc)
{
	struct shminfo lim;
	struct shm_info use;
	long page = sysconf(_SC_PAGESIZE);
	struct sysinfo si;
	uint64_t total;

	if (shmctl(0, IPC_INFO, (struct shmid_ds *)&lim) < 0 ||
	    shmctl(0, SHM_INFO, (struct shmid_ds *)&use) < 0)
		return -errno;
	/* kernel.shmall is "unlimited" by default: the real ceiling is
	 * memory plus swap, so report the smaller of the two. */
	if (sysinfo(&si) < 0)
		return -errno;
	total = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit /
		(uint64_t)page;
	if (lim.shmall < total)
		total = lim.shmall;
	acc->total_bytes += total * (uint64_t)page;
	acc->used_bytes += (uint64_t)use.shm_tot * (uint64_t)page;
	acc->total_files += lim.shmmni;
	acc->free_files += lim.shmmni > (unsigned long)use.used_ids ?
				   lim.shmmni - (unsigned long)use.used_ids :
				   0;
	return 0;
}

const struct shmfs_backend sysv_backend = {
	.name = "sysv",
	.init = sysv_init,
	.fini = sysv_fini,
	.list = sysv_list,
	.stat = sysv_stat,
	.meta = sysv_meta,
	.open = sysv_open,
	.create = sysv_create,
	.close = sysv_close,
	.fstat = sysv_fstat,
	.read = sysv_read,
	.write = sysv_write,
	.truncate = sysv_truncate,
	.remove = sysv_remove,
	.chmod = sysv_chmod,
	.chown = sysv_chown,
	.utimens = sysv_utimens,
	.statfs = sysv_statfs,
};
