/* sysv_rows.c - what the kernel says of System V segments, without
 * attaching: the rows of /proc/sysvipc/shm, IPC_STAT and the attributes
 * and metadata made from it, IPC_SET, IPC_RMID, and the limits
 * (IPC_INFO, SHM_INFO).  Looking never attaches, so nattch, lpid and the
 * times stay as they were.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "caller.h"
#include "origin/creators.h"
#include "nsctx.h"
#include "proc/procscan.h"
#include "sysv.h"

#define SYSV_PROC "/proc/sysvipc/shm"

static struct timespec sysv_started;
/* The device of the kernel's internal shm filesystem: a segment's memory
 * file is its inode number there (what /proc/PID/maps shows as dev:ino
 * of an attachment).  memfd_create's files live there too. */
static dev_t shm_dev;

void sysv_rows_init(void)
{
	struct stat st;
	int fd;

	clock_gettime(CLOCK_REALTIME, &sysv_started);
	fd = memfd_create("shmfs-shm-dev", MFD_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0)
		shm_dev = st.st_dev;
	if (fd >= 0)
		close(fd);
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

/* The next number of a row after blanks, signed (in [lo, hi]) or not,
 * into *v; false if there is none or it does not fit. */
static bool field(const char **p, int base, bool is_signed, long long lo,
		  unsigned long long hi, unsigned long long *v)
{
	char *end;
	int saved = errno;

	errno = 0;
	if (is_signed) {
		long long s = strtoll(*p, &end, base);

		if (s < lo || (s > 0 && (unsigned long long)s > hi))
			errno = ERANGE;
		*v = (unsigned long long)s;
	} else {
		*v = strtoull(*p, &end, base);
		if (*v > hi)
			errno = ERANGE;
	}
	if (end == *p || errno) {
		errno = saved;
		return false;
	}
	errno = saved;
	*p = end;
	return true;
}

/* One row of /proc/sysvipc/shm: key shmid perms size cpid lpid nattch uid
 * gid cuid cgid atime dtime ctime rss swap.  (Parsed by hand: the watcher
 * and every listing parse each row, and sscanf was most of their cost.) */
bool sysv_parse_row(const char *line, struct sysv_row *r)
{
	unsigned long long v[16];
	static const struct {
		int base;
		bool is_signed;
		long long lo;
		unsigned long long hi;
	} f[16] = {
		{ 10, true, INT_MIN, INT_MAX },	    /* key */
		{ 10, true, 0, INT_MAX },	    /* shmid */
		{ 8, false, 0, UINT_MAX },	    /* perms */
		{ 10, false, 0, ULLONG_MAX },	    /* size */
		{ 10, true, INT_MIN, INT_MAX },	    /* cpid */
		{ 10, true, INT_MIN, INT_MAX },	    /* lpid */
		{ 10, false, 0, ULONG_MAX },	    /* nattch */
		{ 10, false, 0, UINT_MAX },	    /* uid */
		{ 10, false, 0, UINT_MAX },	    /* gid */
		{ 10, false, 0, UINT_MAX },	    /* cuid */
		{ 10, false, 0, UINT_MAX },	    /* cgid */
		{ 10, true, LLONG_MIN, LLONG_MAX }, /* atime */
		{ 10, true, LLONG_MIN, LLONG_MAX }, /* dtime */
		{ 10, true, LLONG_MIN, LLONG_MAX }, /* ctime */
		{ 10, false, 0, ULLONG_MAX },	    /* rss */
		{ 10, false, 0, ULLONG_MAX },	    /* swap */
	};
	const char *p = line;

	for (int i = 0; i < 16; i++)
		if (!field(&p, f[i].base, f[i].is_signed, f[i].lo, f[i].hi,
			   &v[i]))
			return false;
	*r = (struct sysv_row){
		.key = (int)(long long)v[0],
		.id = (int)v[1],
		.mode = (unsigned)v[2],
		.size = v[3],
		.cpid = (int)(long long)v[4],
		.lpid = (int)(long long)v[5],
		.nattch = (unsigned long)v[6],
		.uid = (unsigned)v[7],
		.gid = (unsigned)v[8],
		.cuid = (unsigned)v[9],
		.cgid = (unsigned)v[10],
		.atime = (long long)v[11],
		.dtime = (long long)v[12],
		.ctime = (long long)v[13],
		.rss = v[14],
		.swap = v[15],
	};
	return true;
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
		if (sysv_parse_row(line, &r) && fn(&r, arg))
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

/* The creators' record of a row not marked for removal (a listing's
 * view: one marked is gone from it). */
static bool notice_row(const struct sysv_row *r, void *arg)
{
	struct shm_seg_seen seen = {
		.id = r->id,
		.key = (uint32_t)r->key,
		.size = r->size,
		.cpid = r->cpid,
		.ctime = (time_t)r->ctime,
	};

	(void)arg;
	if (!(r->mode & SHM_DEST))
		shm_creators_seen(&seen);
	return false;
}

/* One listing entry per row not marked for removal. */
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
	notice_row(r, NULL);
	return false;
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

/* Who attaches segment id of the calling thread's IPC namespace: its
 * processes whose maps show the segment ("/SYSV%08x", the shmid as inode
 * number; shmids repeat across namespaces, so only those in that
 * namespace), and whoever maps a file of the mount that is this segment,
 * whatever namespace it is in (a container using the mount through a
 * volume). */
static void find_mappers(int id, const struct shmid_ds *ds, struct shm_meta *m)
{
	/* The last attach or detach, to the second: a pass begun after the
	 * end of that second saw it. */
	time_t last = MAX(ds->shm_atime, ds->shm_dtime);

	m->pids = shm_proc_mappers(
		0, (ino_t)id, shm_ctx_ipc_ns(), SHM_META_MAPPERS,
		last ? ((gint64)last + 1) * G_USEC_PER_SEC : 0);
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

/* The rss and swap of every segment of one IPC namespace, from one read
 * of /proc/sysvipc/shm: shmid -> struct sysv_row. */
struct memory_rows {
	gint64 at; /* monotonic microseconds, when read */
	GHashTable *rows;
};

/* memory_lock protects memory_by_ns: IPC namespace -> memory_rows, none
 * older than SHM_PROC_FRESH_US when used (pruned when read again). */
static GMutex memory_lock;
static GHashTable *memory_by_ns;

static void memory_rows_free(void *p)
{
	struct memory_rows *m = p;

	g_hash_table_unref(m->rows);
	g_free(m);
}

static bool memory_row(const struct sysv_row *r, void *arg)
{
	g_hash_table_insert(arg, GINT_TO_POINTER(r->id),
			    g_memdup2(r, sizeof(*r)));
	return false;
}

/* Segment id's rss and swap, from a read of /proc/sysvipc/shm in the
 * calling thread's namespace at most SHM_PROC_FRESH_US old. */
static int memory_of(int id, uint64_t *rss, uint64_t *swap)
{
	gpointer ns = GSIZE_TO_POINTER((gsize)shm_ctx_ipc_ns());
	gint64 now = g_get_monotonic_time();
	struct memory_rows *m;
	const struct sysv_row *r;
	GHashTableIter it;
	gpointer v;
	int err = 0;

	g_mutex_lock(&memory_lock);
	if (!memory_by_ns)
		memory_by_ns = g_hash_table_new_full(
			g_direct_hash, g_direct_equal, NULL, memory_rows_free);
	m = g_hash_table_lookup(memory_by_ns, ns);
	/* A segment made since the read is looked for in a new one. */
	if (m && now - m->at <= SHM_PROC_FRESH_US &&
	    !g_hash_table_contains(m->rows, GINT_TO_POINTER(id)))
		m->at = 0;
	if (!m || now - m->at > SHM_PROC_FRESH_US) {
		g_hash_table_iter_init(&it, memory_by_ns);
		while (g_hash_table_iter_next(&it, NULL, &v))
			if (now - ((struct memory_rows *)v)->at >
			    SHM_PROC_FRESH_US)
				g_hash_table_iter_remove(&it);
		m = g_new0(struct memory_rows, 1);
		m->at = now;
		m->rows = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						NULL, g_free);
		err = sysv_scan(memory_row, m->rows);
		g_hash_table_insert(memory_by_ns, ns, m);
	}
	r = g_hash_table_lookup(m->rows, GINT_TO_POINTER(id));
	if (r) {
		*rss = r->rss;
		*swap = r->swap;
	}
	g_mutex_unlock(&memory_lock);
	return err ? err : r ? 0 : -ENOENT;
}

int sysv_meta_id(int id, unsigned want, struct shm_meta *m)
{
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
			SHM_META_PIDS | SHM_META_CPID | SHM_META_NATTCH |
			SHM_META_TIMES | SHM_META_STATUS | SHM_META_MEMORY |
			SHM_META_MAPPERS | SHM_META_COMMAND,
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
	/* rss and swap are only in /proc/sysvipc/shm: read it when asked,
	 * once for every segment asked about within the bound. */
	if (want & SHM_META_MEMORY) {
		err = memory_of(id, &m->rss, &m->swap);
		if (err)
			return err;
	}
	if (want & SHM_META_MAPPERS)
		find_mappers(id, &ds, m);
	if (want & SHM_META_COMMAND) {
		struct shm_seg_seen seen = {
			.id = id,
			.key = (uint32_t)ds.shm_perm.__key,
			.size = ds.shm_segsz,
			.cpid = ds.shm_cpid,
			.ctime = ds.shm_ctime,
		};

		shm_creator_of(shm_ctx_ipc_ns(), &seen, &m->command,
			       &m->creator_container,
			       &m->creator_container_name);
	}
	return 0;
}

int sysv_list_ids(GArray *out)
{
	int r;

	shm_creators_begin(shm_ctx_ipc_ns());
	r = sysv_scan(list_row, out);
	shm_creators_end(r == 0);
	return r;
}

int sysv_notice(void)
{
	int r;

	shm_creators_begin(shm_ctx_ipc_ns());
	r = sysv_scan(notice_row, NULL);
	shm_creators_end(r == 0);
	return r;
}

int sysv_remove_id(int id)
{
	int r;

	if (id < 0)
		return -ENOENT;
	/* As the caller: its owner, its creator, or CAP_SYS_ADMIN. */
	r = SHM_AS_CALLER(shmctl(id, IPC_RMID, NULL) < 0 ? -errno : 0);
	return r ? sysv_errno(-r) : 0;
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
	/* As the caller: its owner, its creator, or CAP_SYS_ADMIN. */
	r = SHM_AS_CALLER(shmctl(id, IPC_SET, &ds) < 0 ? -errno : 0);
	return r ? sysv_errno(-r) : 0;
}

/* sysv/: the limits and use ipcs -l and ipcs -u show. */
int sysv_usage(struct shm_dir_usage *out)
{
	struct shminfo lim;
	struct shm_info use;

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

int sysv_add_statfs(struct shm_usage *acc)
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
