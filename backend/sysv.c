/* sysv.c - System V shared memory segments (shmget) as files named by
 * shmid; by-key/ lives in sysv_key.c, and each operation below sends a
 * by-key/ path there in one place (key_name).
 *
 * Looking (list, stat, meta) reads /proc/sysvipc/shm or calls IPC_STAT and
 * never attaches, so nattch, lpid and the times stay as they were.  An open
 * handle is one shmat() attachment, detached on close: like a native
 * attacher, it keeps working after IPC_RMID until it is closed.  A segment
 * has a fixed size: writes stop at its end (-ENOSPC), truncating zeroes the
 * tail, growing is -EFBIG.  The backing descriptor for passthrough is the
 * segment's memory file, reached through the attachment's
 * /proc/self/map_files entry: holding it does not count in nattch, and it
 * keeps a removed segment's memory alive exactly as an attachment would.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "nsctx.h"
#include "procscan.h"
#include "sysv.h"

#define SYSV_PROC "/proc/sysvipc/shm"

static struct timespec sysv_started;
/* The device of the kernel's internal shm filesystem: a segment's memory
 * file is its inode number there (what /proc/PID/maps shows as dev:ino
 * of an attachment).  memfd_create's files live there too. */
static dev_t shm_dev;

static int sysv_init(const struct shmfs_config *cfg)
{
	struct stat st;
	int fd;

	(void)cfg;
	clock_gettime(CLOCK_REALTIME, &sysv_started);
	fd = memfd_create("shmfs-shm-dev", MFD_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0)
		shm_dev = st.st_dev;
	if (fd >= 0)
		close(fd);
	sysv_key_init();
	/* Learn the daemon's own namespace now, in the main thread. */
	shm_ctx_ipc_ns();
	return 0;
}

static void sysv_fini(void)
{
	sysv_key_fini();
}

/* The name after "by-key/", or NULL if path is not in by-key/. */
static const char *key_name(const char *path)
{
	size_t n = strlen(SYSV_BY_KEY);

	if (strncmp(path, SYSV_BY_KEY, n) != 0 || path[n] != '/')
		return NULL;
	return path + n + 1;
}

/* A shmid in canonical decimal ("0", "42"; not "042", "+4", "4 "), or -1. */
int sysv_parse_id(const char *path)
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

int sysv_errno(int e)
{
	/* The kernel says EINVAL for an id that does not exist (any more)
	 * and EIDRM for one being removed: both are "no such file". */
	return (e == EINVAL || e == EIDRM) ? -ENOENT : -e;
}

int sysv_ipc_stat(int id, struct shmid_ds *ds)
{
	if (id < 0)
		return -ENOENT;
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
static void fill_attr(struct shm_attr *a, mode_t mode, uid_t uid, gid_t gid,
		      uint64_t size, time_t at, time_t dt, time_t ct)
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
		/* Marked for removal, still attached: no name any more. */
		.nlink = (mode & SHM_DEST) ? 0 : 1,
		.nlink_set = true,
	};
}

void sysv_attr_from_ds(struct shm_attr *a, const struct shmid_ds *ds)
{
	fill_attr(a, ds->shm_perm.mode, ds->shm_perm.uid, ds->shm_perm.gid,
		  ds->shm_segsz, ds->shm_atime, ds->shm_dtime, ds->shm_ctime);
}

void sysv_dir_attr(struct shm_attr *a)
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

void sysv_link_attr(struct shm_attr *a, const struct shmid_ds *ds, int id)
{
	char target[24];

	fill_attr(a, ds->shm_perm.mode, ds->shm_perm.uid, ds->shm_perm.gid, 0,
		  ds->shm_atime, ds->shm_dtime, ds->shm_ctime);
	a->mode = S_IFLNK | 0777;
	a->size = (uint64_t)snprintf(target, sizeof(target), "../%d", id);
	a->blocks = 0;
}

static bool parse_row(const char *line, struct sysv_row *r)
{
	return sscanf(line,
		      "%d %d %o %llu %d %d %lu %u %u %u %u %lld %lld %lld "
		      "%llu %llu",
		      &r->key, &r->id, &r->mode, &r->size, &r->cpid, &r->lpid,
		      &r->nattch, &r->uid, &r->gid, &r->cuid, &r->cgid,
		      &r->atime, &r->dtime, &r->ctime, &r->rss, &r->swap) == 16;
}

int sysv_scan(bool (*fn)(const struct sysv_row *r, void *arg), void *arg)
{
	FILE *f = fopen(SYSV_PROC, "re");
	char *line = NULL;
	size_t cap = 0;
	struct sysv_row r;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (parse_row(line, &r) && fn(&r, arg))
			break;
	}
	free(line);
	fclose(f);
	return 0;
}

dev_t sysv_shm_dev(void)
{
	return shm_dev;
}

/* The segment's identity: its memory file (see shm_dev) in the calling
 * thread's namespace, and its creator. */
static void set_ident(struct shm_attr *a, int id, pid_t cpid)
{
	a->ident_dev = (uint64_t)shm_dev;
	a->ident_ino = (uint64_t)id;
	a->ident_ns = (uint64_t)shm_ctx_ipc_ns();
	a->ident_gen = (uint64_t)cpid;
}

static bool list_row(const struct sysv_row *r, void *arg)
{
	struct shm_attr a;
	char name[16];

	if (r->mode & SHM_DEST)
		return false;
	fill_attr(&a, r->mode, r->uid, r->gid, r->size, r->atime, r->dtime,
		  r->ctime);
	set_ident(&a, r->id, r->cpid);
	snprintf(name, sizeof(name), "%d", r->id);
	shm_dirents_add(arg, name, &a);
	return false;
}

static int sysv_list(const char *dir, GArray *out)
{
	struct shm_attr a;

	if (!dir[0]) {
		sysv_dir_attr(&a);
		shm_dirents_add(out, SYSV_BY_KEY, &a);
		return sysv_scan(list_row, out);
	}
	if (strcmp(dir, SYSV_BY_KEY) == 0)
		return sysv_key_list(out);
	return sysv_parse_id(dir) < 0 && !key_name(dir) ? -ENOENT : -ENOTDIR;
}

int sysv_stat_id(int id, struct shm_attr *out)
{
	struct shmid_ds ds;
	int r = sysv_ipc_stat(id, &ds);

	if (r == 0) {
		sysv_attr_from_ds(out, &ds);
		set_ident(out, id, ds.shm_cpid);
	}
	return r;
}

static int sysv_stat(const char *path, struct shm_attr *out)
{
	const char *name = key_name(path);

	if (!path[0] || strcmp(path, SYSV_BY_KEY) == 0) {
		sysv_dir_attr(out);
		return 0;
	}
	return name ? sysv_key_stat(name, out) :
		      sysv_stat_id(sysv_parse_id(path), out);
}

static int sysv_readlink(const char *path, char **out)
{
	const char *name = key_name(path);

	return name ? sysv_key_readlink(name, out) : -EINVAL;
}

struct sysv_find {
	int id;
	struct sysv_row row;
	bool found;
};

static bool find_row(const struct sysv_row *r, void *arg)
{
	struct sysv_find *f = arg;

	if (r->id != f->id)
		return false;
	f->row = *r;
	f->found = true;
	return true;
}

struct mapper_match {
	int id;
	ino_t ns;
};

/* A process attaches segment id of the calling thread's IPC namespace:
 * its maps show the segment's file "/SYSV%08x" with the shmid as inode
 * number.  Shmids repeat across namespaces, hence the namespace check.  A
 * mapping through the mount is of the segment its file names (m->ns),
 * whatever namespace the process is in (a container using the mount
 * through a volume). */
static bool maps_segment(const struct shm_mapping *m, void *arg)
{
	const struct mapper_match *w = arg;

	if (m->ino != (ino_t)w->id)
		return false;
	if (m->via_mount)
		return m->dev == shm_dev && m->ns == w->ns;
	if (!m->path || strncmp(m->path, "/SYSV", 5) != 0)
		return false;
	return shm_ipc_ns_of_pid(m->pid) == w->ns;
}

static void find_mappers(int id, struct shm_meta *m)
{
	struct mapper_match w = { id, shm_ctx_ipc_ns() };
	GArray *scan = shm_scan_shared(true);

	m->pids = shm_scan_pids(scan, maps_segment, &w);
	g_array_unref(scan);
}

/* lsipc's STATUS: the flags the kernel keeps in the mode (today's kernels
 * keep SHM_HUGETLB and SHM_NORESERVE there for no segment; lsipc asks
 * all the same). */
static unsigned status_of(unsigned mode)
{
	return ((mode & SHM_DEST) ? SHM_STATUS_DEST : 0) |
	       ((mode & SHM_LOCKED) ? SHM_STATUS_LOCKED : 0) |
	       ((mode & SHM_HUGETLB) ? SHM_STATUS_HUGETLB : 0) |
	       ((mode & SHM_NORESERVE) ? SHM_STATUS_NORESERVE : 0);
}

int sysv_meta_id(int id, unsigned want, struct shm_meta *m)
{
	struct sysv_find f = { .id = id };
	struct shmid_ds ds;
	int err;

	/* IPC_STAT has every field but rss and swap, at O(1): ls -l asks
	 * each file for an xattr, so this must not read all of /proc. */
	err = sysv_ipc_stat(id, &ds);
	if (err)
		return err;
	*m = (struct shm_meta){
		.have = SHM_META_ID | SHM_META_KEY | SHM_META_SIZE |
			SHM_META_PERMS | SHM_META_OWNER | SHM_META_CREATOR |
			SHM_META_PIDS | SHM_META_NATTCH | SHM_META_TIMES |
			SHM_META_STATUS | SHM_META_MEMORY | SHM_META_MAPPERS |
			SHM_META_COMMAND,
		.id = id,
		.key = (uint32_t)ds.shm_perm.__key,
		.size = ds.shm_segsz,
		.perms = ds.shm_perm.mode & 0777,
		.uid = ds.shm_perm.uid,
		.gid = ds.shm_perm.gid,
		.cuid = ds.shm_perm.cuid,
		.cgid = ds.shm_perm.cgid,
		.cpid = ds.shm_cpid,
		.lpid = ds.shm_lpid,
		.nattch = ds.shm_nattch,
		.atime = ds.shm_atime,
		.dtime = ds.shm_dtime,
		.ctime = ds.shm_ctime,
		.status = status_of(ds.shm_perm.mode),
	};
	/* rss and swap are only in /proc/sysvipc/shm: read it when asked. */
	if (want & SHM_META_MEMORY) {
		err = sysv_scan(find_row, &f);
		if (err)
			return err;
		if (!f.found)
			return -ENOENT;
		m->rss = f.row.rss;
		m->swap = f.row.swap;
	}
	if (want & SHM_META_MAPPERS)
		find_mappers(id, m);
	if (want & SHM_META_COMMAND)
		m->command = shm_command_of(ds.shm_cpid);
	return 0;
}

static int sysv_meta(const char *path, unsigned want, struct shm_meta *m)
{
	const char *name = key_name(path);

	return name ? sysv_key_meta(name, want, m) :
		      sysv_meta_id(sysv_parse_id(path), want, m);
}

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

static int sysv_open(const char *path, int flags, struct shm_handle **out)
{
	g_autoptr(sysv_handle) h = NULL;
	const char *name = key_name(path);
	int r;

	/* by-key/ links lead to the segment; only pending files open here. */
	if (name)
		return sysv_key_open(name, flags, out);
	r = sysv_attach(sysv_parse_id(path), (flags & O_ACCMODE) != O_RDONLY,
			&h);
	if (r)
		return r;
	if ((flags & O_TRUNC) && h->writable)
		zero_tail(h, 0);
	*out = g_steal_pointer(&h);
	return 0;
}

static int sysv_create(const char *dir, const char *name, mode_t mode,
		       int flags, uid_t uid, gid_t gid, struct shm_handle **out)
{
	/* A shmid is chosen by the kernel, never by a name; a key is. */
	if (strcmp(dir, SYSV_BY_KEY) != 0)
		return -EPERM;
	return sysv_key_create(name, mode, flags, uid, gid, out);
}

static int sysv_fstat(struct shm_handle *h, struct shm_attr *out)
{
	return h->id < 0 ? sysv_key_fstat(h, out) : sysv_stat_id(h->id, out);
}

static int sysv_read(struct shm_handle *h, uint64_t off, size_t size,
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

static ssize_t sysv_write(struct shm_handle *h, const void *buf, size_t size,
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

static ssize_t sysv_write_changed(struct shm_handle *h, const void *buf,
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

static int sysv_backing(struct shm_handle *h, struct shm_backing *out)
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

static int sysv_truncate(const char *path, struct shm_handle *h, uint64_t size)
{
	g_autoptr(sysv_handle) own = NULL;
	const char *name = key_name(path);
	struct shm_attr a;
	int id = sysv_parse_id(path);
	int r;

	if (name) {
		/* truncate -s SIZE by-key/0xKEY: pending, or just made. */
		if (!h) {
			r = sysv_key_open(name, O_WRONLY, &own);
			if (r)
				return r;
			h = own;
		}
		if (h->id < 0)
			return size ? sysv_key_materialize(h, size) : 0;
		id = h->id;
	}
	if (!h || !h->writable) {
		r = sysv_stat_id(id, &a);
		if (r)
			return r;
		if (size >= a.size)
			return size > a.size ? -EFBIG : 0;
		g_clear_pointer(&own, sysv_close);
		r = sysv_attach(id, true, &own);
		if (r)
			return r;
		h = own;
	}
	return zero_tail(h, size);
}

/* IPC_STAT, change, IPC_SET: the only way to set mode and owner. */
int sysv_set_id(int id, const struct shm_set *set)
{
	struct shmid_ds ds;
	int r = sysv_ipc_stat(id, &ds);

	if (r)
		return r;
	if (set->mode >= 0)
		ds.shm_perm.mode = (ds.shm_perm.mode & ~0777u) |
				   ((unsigned)set->mode & 0777);
	if (set->uid != (uid_t)-1)
		ds.shm_perm.uid = set->uid;
	if (set->gid != (gid_t)-1)
		ds.shm_perm.gid = set->gid;
	if (shmctl(id, IPC_SET, &ds) < 0)
		return sysv_errno(errno);
	return 0;
}

static int sysv_setattr(const char *path, const struct shm_set *set)
{
	const char *name = key_name(path);

	/* IPC_SET keeps only the nine permission bits. */
	if (set->mode >= 0 && (set->mode & ~0777))
		return -EINVAL;
	if (name)
		return sysv_key_setattr(name, set);
	/* Segments keep no settable times. */
	if (set->times)
		return -EPERM;
	return sysv_set_id(sysv_parse_id(path), set);
}

static int sysv_remove(const char *path)
{
	const char *name = key_name(path);
	int id = sysv_parse_id(path);

	if (name)
		return sysv_key_remove(name);
	if (id < 0)
		return -ENOENT;
	if (shmctl(id, IPC_RMID, NULL) < 0)
		return sysv_errno(errno);
	return 0;
}

/* sysv/: the limits and use ipcs -l and ipcs -u show. */
static int sysv_dir_usage(const char *dir, struct shm_dir_usage *out)
{
	struct shminfo lim;
	struct shm_info use;

	if (dir[0])
		return -ENODATA;
	if (shmctl(0, IPC_INFO, (struct shmid_ds *)&lim) < 0 ||
	    shmctl(0, SHM_INFO, (struct shmid_ds *)&use) < 0)
		return -errno;
	*out = (struct shm_dir_usage){
		.have = SHM_DIR_SYSV,
		.shmmax = lim.shmmax,
		.shmall = lim.shmall,
		.shmmni = lim.shmmni,
		.shmmin = lim.shmmin,
		.segments = (uint64_t)use.used_ids,
		.pages = use.shm_tot,
		.resident = use.shm_rss,
		.swapped = use.shm_swp,
	};
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
	.segments = true,
	.init = sysv_init,
	.fini = sysv_fini,
	.list = sysv_list,
	.stat = sysv_stat,
	.meta = sysv_meta,
	.readlink = sysv_readlink,
	.open = sysv_open,
	.create = sysv_create,
	.close = sysv_close,
	.fstat = sysv_fstat,
	.read = sysv_read,
	.write = sysv_write,
	.write_changed = sysv_write_changed,
	.backing = sysv_backing,
	.truncate = sysv_truncate,
	.remove = sysv_remove,
	.setattr = sysv_setattr,
	.statfs = sysv_statfs,
	.dir_usage = sysv_dir_usage,
};
