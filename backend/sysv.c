/* sysv.c - System V shared memory segments (shmget) as files named by shmid.
 *
 * Looking (list, stat, meta) reads /proc/sysvipc/shm or calls IPC_STAT and
 * never attaches, so nattch, lpid and the times stay as they were.  An open
 * handle is one shmat() attachment, detached on close: like a native
 * attacher, it keeps working after IPC_RMID until it is closed.  A segment
 * has a fixed size: writes stop at its end (-ENOSPC), truncating zeroes the
 * tail, growing is -EFBIG.
 *
 * by-key/ holds a symlink 0xKEY -> ../SHMID per segment with a key.  A file
 * created there is pending, known only to this daemon, until its size is
 * fixed by a truncate or by the end of its first write: then it becomes
 * shmget(key, size, IPC_CREAT|IPC_EXCL|mode).
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
#include "procscan.h"

#define SYSV_PROC "/proc/sysvipc/shm"
#define BY_KEY "by-key"

typedef struct shm_handle sysv_handle;

struct shm_handle {
	int id;        /* -1 while pending */
	key_t key;     /* for a pending segment */
	void *addr;
	size_t size;
	bool writable;
};

/* A segment created in by-key/ whose size is not known yet. */
struct sysv_pending {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec created;
};

static struct timespec sysv_started;
/* pending_lock protects pending: key (as pointer) -> struct sysv_pending. */
G_LOCK_DEFINE_STATIC(pending_lock);
static GHashTable *pending;

static int sysv_init(const struct shmfs_config *cfg)
{
	(void)cfg;
	clock_gettime(CLOCK_REALTIME, &sysv_started);
	pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					g_free);
	return 0;
}

static void sysv_fini(void)
{
	g_clear_pointer(&pending, g_hash_table_destroy);
}

/* "0x1234", "0x00001234": a key other than IPC_PRIVATE, or false. */
static bool sysv_parse_key(const char *name, key_t *key)
{
	unsigned long v = 0;
	size_t n = strlen(name);

	if (n < 3 || n > 10 || name[0] != '0' || name[1] != 'x')
		return false;
	for (const char *p = name + 2; *p; p++) {
		int d = g_ascii_xdigit_value(*p);

		if (d < 0)
			return false;
		v = v * 16 + (unsigned long)d;
	}
	if (v == 0)
		return false;
	*key = (key_t)(uint32_t)v;
	return true;
}

/* The name after "by-key/", or NULL if path is not in by-key/. */
static const char *sysv_key_name(const char *path)
{
	size_t n = strlen(BY_KEY);

	if (strncmp(path, BY_KEY, n) != 0 || path[n] != '/')
		return NULL;
	return path + n + 1;
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

static void sysv_link_attr(struct shm_attr *a, const struct sysv_row *r)
{
	char target[24];

	sysv_fill_attr(a, r->mode, r->uid, r->gid, 0, r->atime, r->dtime,
		       r->ctime);
	a->mode = S_IFLNK | 0777;
	a->size = (uint64_t)snprintf(target, sizeof(target), "../%d", r->id);
	a->blocks = 0;
}

static bool sysv_key_row(const struct sysv_row *r, void *arg)
{
	struct shm_attr a;
	char name[16];

	if ((r->mode & SHM_DEST) || r->key == IPC_PRIVATE)
		return false;
	sysv_link_attr(&a, r);
	snprintf(name, sizeof(name), "0x%08x", (uint32_t)r->key);
	shm_dirents_add(arg, name, &a);
	return false;
}

static void sysv_pending_attr(struct shm_attr *a, const struct sysv_pending *p)
{
	*a = (struct shm_attr){
		.mode = S_IFREG | (p->mode & 0777),
		.uid = p->uid,
		.gid = p->gid,
		.atime = p->created,
		.mtime = p->created,
		.ctime = p->created,
	};
}

static int sysv_list(const char *dir, GArray *out)
{
	struct shm_attr a;
	GHashTableIter it;
	gpointer k, v;
	int r;

	if (!dir[0]) {
		sysv_dir_attr(&a);
		shm_dirents_add(out, BY_KEY, &a);
		return sysv_scan(sysv_list_row, out);
	}
	if (strcmp(dir, BY_KEY) != 0)
		return sysv_parse_id(dir) < 0 && !sysv_key_name(dir) ? -ENOENT
								     : -ENOTDIR;
	r = sysv_scan(sysv_key_row, out);
	G_LOCK(pending_lock);
	g_hash_table_iter_init(&it, pending);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		char name[16];

		snprintf(name, sizeof(name), "0x%08x",
			 (uint32_t)GPOINTER_TO_UINT(k));
		sysv_pending_attr(&a, v);
		shm_dirents_add(out, name, &a);
	}
	G_UNLOCK(pending_lock);
	return r;
}

static int sysv_stat_id(int id, struct shm_attr *out)
{
	struct shmid_ds ds;
	int r = sysv_ipc_stat(id, &ds);

	if (r == 0)
		sysv_attr_from_ds(out, &ds);
	return r;
}

/* A pending segment's attributes; false if key is not pending. */
static bool sysv_pending_stat(key_t key, struct shm_attr *out)
{
	struct sysv_pending *p;

	G_LOCK(pending_lock);
	p = g_hash_table_lookup(pending, GUINT_TO_POINTER((uint32_t)key));
	if (p)
		sysv_pending_attr(out, p);
	G_UNLOCK(pending_lock);
	return p != NULL;
}

/* The id of the live segment with this key: shmget without IPC_CREAT is a
 * look-up that changes nothing. */
static int sysv_key_id(key_t key)
{
	int id = shmget(key, 0, 0);

	return id < 0 ? -ENOENT : id;
}

static int sysv_stat_key(const char *name, struct shm_attr *out)
{
	struct shmid_ds ds;
	struct sysv_row row = { 0 };
	key_t key;
	int id;

	if (!sysv_parse_key(name, &key))
		return -ENOENT;
	if (sysv_pending_stat(key, out))
		return 0;
	id = sysv_key_id(key);
	if (id < 0 || shmctl(id, IPC_STAT, &ds) < 0)
		return -ENOENT;
	row = (struct sysv_row){ .id = id, .mode = ds.shm_perm.mode,
				 .uid = ds.shm_perm.uid,
				 .gid = ds.shm_perm.gid,
				 .atime = ds.shm_atime, .dtime = ds.shm_dtime,
				 .ctime = ds.shm_ctime };
	sysv_link_attr(out, &row);
	return 0;
}

static int sysv_stat(const char *path, struct shm_attr *out)
{
	const char *name;
	int id;

	if (!path[0] || strcmp(path, BY_KEY) == 0) {
		sysv_dir_attr(out);
		return 0;
	}
	name = sysv_key_name(path);
	if (name)
		return sysv_stat_key(name, out);
	id = sysv_parse_id(path);
	return id < 0 ? -ENOENT : sysv_stat_id(id, out);
}

static int sysv_readlink(const char *path, char **out)
{
	const char *name = sysv_key_name(path);
	key_t key;
	int id;

	if (!name || !sysv_parse_key(name, &key))
		return -EINVAL;
	id = sysv_key_id(key);
	if (id < 0)
		return -ENOENT;
	*out = g_strdup_printf("../%d", id);
	return 0;
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

/* The IPC namespace a process is in, by its nsfs inode (0 if unknown). */
static ino_t ipc_ns_of(const char *proc_dir)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "%s/ns/ipc", proc_dir);
	return stat(p, &st) == 0 ? st.st_ino : 0;
}

struct sysv_mapper_match {
	int id;
	ino_t ns;
};

/* A process attaches segment id of our IPC namespace: its maps show the
 * segment's file "/SYSV%08x" with the shmid as inode number.  Shmids
 * repeat across namespaces, hence the namespace check. */
static bool sysv_maps_segment(const struct shm_mapping *m, void *arg)
{
	const struct sysv_mapper_match *w = arg;
	char proc[32];

	if (m->ino != (ino_t)w->id || !m->path ||
	    strncmp(m->path, "/SYSV", 5) != 0)
		return false;
	snprintf(proc, sizeof(proc), "/proc/%d", m->pid);
	return ipc_ns_of(proc) == w->ns;
}

static void sysv_mappers(int id, struct shm_meta *m)
{
	struct sysv_mapper_match w = { id, ipc_ns_of("/proc/thread-self") };
	GArray *scan = shm_scan_shared(true);

	m->pids = shm_scan_pids(scan, sysv_maps_segment, &w);
	g_array_unref(scan);
}

static int sysv_meta_id(int id, unsigned want, struct shm_meta *m);

/* by-key/NAME: the segment's metadata, or what a pending one has. */
static int sysv_meta_key(const char *name, unsigned want, struct shm_meta *m)
{
	struct shm_attr a;
	key_t key;
	int id;

	if (!sysv_parse_key(name, &key))
		return -ENOENT;
	if (sysv_pending_stat(key, &a)) {
		*m = (struct shm_meta){
			.have = SHM_META_KEY | SHM_META_PERMS | SHM_META_OWNER,
			.key = (uint32_t)key,
			.perms = a.mode & 0777,
			.uid = a.uid,
			.gid = a.gid,
		};
		return 0;
	}
	id = sysv_key_id(key);
	return id < 0 ? id : sysv_meta_id(id, want, m);
}

static int sysv_meta(const char *path, unsigned want, struct shm_meta *m)
{
	const char *name = sysv_key_name(path);

	if (name)
		return sysv_meta_key(name, want, m);
	return sysv_meta_id(sysv_parse_id(path), want, m);
}

static int sysv_meta_id(int id, unsigned want, struct shm_meta *m)
{
	struct sysv_find f = { .id = id };
	struct shmid_ds ds;
	int err;

	if (id < 0)
		return -ENOENT;
	/* IPC_STAT has every field but rss and swap, at O(1): ls -l asks
	 * each file for an xattr, so this must not read all of /proc. */
	err = sysv_ipc_stat(id, &ds);
	if (err)
		return err;
	*m = (struct shm_meta){
		.have = SHM_META_ID | SHM_META_KEY | SHM_META_SIZE |
			SHM_META_PERMS | SHM_META_OWNER | SHM_META_CREATOR |
			SHM_META_PIDS | SHM_META_NATTCH | SHM_META_TIMES |
			SHM_META_STATUS | SHM_META_MEMORY | SHM_META_MAPPERS,
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
		.status = ((ds.shm_perm.mode & SHM_DEST) ? SHM_STATUS_DEST : 0) |
			  ((ds.shm_perm.mode & SHM_LOCKED) ? SHM_STATUS_LOCKED : 0),
	};
	/* rss and swap are only in /proc/sysvipc/shm: read it when asked. */
	if (want & SHM_META_MEMORY) {
		err = sysv_scan(sysv_find_row, &f);
		if (err)
			return err;
		if (!f.found)
			return -ENOENT;
		m->rss = f.row.rss;
		m->swap = f.row.swap;
	}
	if (want & SHM_META_MAPPERS)
		sysv_mappers(id, m);
	return 0;
}

/* Attach h to segment id. */
static int sysv_attach_to(struct shm_handle *h, int id)
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
	return 0;
}

static int sysv_attach(int id, bool writable, struct shm_handle **out)
{
	struct shm_handle *h = g_new0(struct shm_handle, 1);
	int r;

	h->writable = writable;
	r = sysv_attach_to(h, id);
	if (r) {
		g_free(h);
		return r;
	}
	*out = h;
	return 0;
}

static void sysv_close(struct shm_handle *h)
{
	if (!h)
		return;
	if (h->id >= 0)
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

/* A pending segment gets its size: shmget it now and attach h to it. */
static int sysv_materialize(struct shm_handle *h, uint64_t size)
{
	struct sysv_pending *p;
	struct shmid_ds ds;
	int id, r = 0;

	if (size == 0 || size > (uint64_t)SIZE_MAX)
		return size ? -EFBIG : -EINVAL;
	G_LOCK(pending_lock);
	p = g_hash_table_lookup(pending, GUINT_TO_POINTER((uint32_t)h->key));
	if (!p) {
		/* Made meanwhile through another handle: use that one. */
		G_UNLOCK(pending_lock);
		id = sysv_key_id(h->key);
		return id < 0 ? id : sysv_attach_to(h, id);
	}
	id = shmget(h->key, (size_t)size, IPC_CREAT | IPC_EXCL |
					     (int)(p->mode & 0777));
	if (id < 0) {
		r = -errno;
	} else if (p->uid != geteuid() || p->gid != getegid()) {
		/* Owned by whoever created the file, as shmget would. */
		if (shmctl(id, IPC_STAT, &ds) == 0) {
			ds.shm_perm.uid = p->uid;
			ds.shm_perm.gid = p->gid;
			shmctl(id, IPC_SET, &ds);
		}
	}
	if (id >= 0)
		g_hash_table_remove(pending, GUINT_TO_POINTER((uint32_t)h->key));
	G_UNLOCK(pending_lock);
	return r ? r : sysv_attach_to(h, id);
}

/* Open by-key/NAME: a pending file, or (when the kernel still holds the
 * name as the file it was before it became a link) the segment itself. */
static int sysv_open_pending(const char *name, int flags,
			     struct shm_handle **out)
{
	bool writable = (flags & O_ACCMODE) != O_RDONLY;
	struct shm_attr a;
	struct shm_handle *h;
	key_t key;
	int id;

	if (!sysv_parse_key(name, &key))
		return -ENOENT;
	if (!sysv_pending_stat(key, &a)) {
		id = sysv_key_id(key);
		return id < 0 ? id : sysv_attach(id, writable, out);
	}
	h = g_new0(struct shm_handle, 1);
	h->id = -1;
	h->key = key;
	h->writable = writable;
	*out = h;
	return 0;
}

static int sysv_open(const char *path, int flags, struct shm_handle **out)
{
	g_autoptr(sysv_handle) h = NULL;
	const char *name = sysv_key_name(path);
	int id = sysv_parse_id(path);
	int r;

	/* by-key/ links lead to the segment; only pending files open here. */
	if (name)
		return sysv_open_pending(name, flags, out);
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
	struct sysv_pending *p;
	key_t key;
	bool exists;

	/* A shmid is chosen by the kernel, never by a name; a key is. */
	if (strcmp(dir, BY_KEY) != 0)
		return -EPERM;
	if (!sysv_parse_key(name, &key))
		return -EINVAL;
	p = g_new0(struct sysv_pending, 1);
	p->mode = mode & 0777;
	p->uid = uid;
	p->gid = gid;
	clock_gettime(CLOCK_REALTIME, &p->created);
	G_LOCK(pending_lock);
	exists = sysv_key_id(key) >= 0 ||
		 g_hash_table_contains(pending, GUINT_TO_POINTER((uint32_t)key));
	if (!exists)
		g_hash_table_insert(pending, GUINT_TO_POINTER((uint32_t)key), p);
	G_UNLOCK(pending_lock);
	if (exists) {
		g_free(p);
		return -EEXIST;
	}
	return sysv_open_pending(name, flags, out);
}

static int sysv_fstat(struct shm_handle *h, struct shm_attr *out)
{
	if (h->id < 0)
		return sysv_pending_stat(h->key, out) ? 0 : -ENOENT;
	return sysv_stat_id(h->id, out);
}

static int sysv_read(struct shm_handle *h, uint64_t off, size_t size,
		     struct shm_extent *out)
{
	*out = (struct shm_extent){ .fd = -1 };
	if (h->id < 0 || off >= h->size)
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
	/* The first write to a pending segment fixes its size: its end. */
	if (h->id < 0) {
		int r = off > UINT64_MAX - size ? -EFBIG :
						  sysv_materialize(h, off + size);

		if (r)
			return r;
	}
	if (off >= h->size)
		return -ENOSPC;
	n = MIN(size, h->size - off);
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

static int sysv_truncate(const char *path, struct shm_handle *h,
			 uint64_t size)
{
	g_autoptr(sysv_handle) own = NULL;
	const char *name = sysv_key_name(path);
	struct shm_attr a;
	int r;

	if (!h && name) {
		/* truncate -s SIZE by-key/0xKEY: pending, or just made. */
		r = sysv_open_pending(name, O_WRONLY, &own);
		if (r)
			return r;
		h = own;
	}
	if (h && h->id < 0)
		return size ? sysv_materialize(h, size) : 0;
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
/* Change a pending file: 0, or 1 if key is not pending. */
static int sysv_set_pending(const char *name, int mode, uid_t uid, gid_t gid)
{
	struct sysv_pending *p;
	key_t key;

	if (!sysv_parse_key(name, &key))
		return -ENOENT;
	G_LOCK(pending_lock);
	p = g_hash_table_lookup(pending, GUINT_TO_POINTER((uint32_t)key));
	if (p) {
		if (mode >= 0)
			p->mode = (mode_t)mode & 0777;
		if (uid != (uid_t)-1)
			p->uid = uid;
		if (gid != (gid_t)-1)
			p->gid = gid;
	}
	G_UNLOCK(pending_lock);
	return p ? 0 : 1;
}

static int sysv_set(const char *path, int mode, uid_t uid, gid_t gid)
{
	const char *name = sysv_key_name(path);
	struct shmid_ds ds;
	int id = sysv_parse_id(path);
	int r;

	if (name) {
		/* A pending file, or the segment it has just become. */
		key_t key;

		r = sysv_set_pending(name, mode, uid, gid);
		if (r <= 0)
			return r;
		id = sysv_parse_key(name, &key) ? sysv_key_id(key) : -ENOENT;
	}
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

/* Segments keep no settable times; a pending file takes touch. */
static int sysv_utimens(const char *path, const struct timespec tv[2])
{
	const char *name = sysv_key_name(path);
	struct shm_attr a;
	key_t key;

	(void)tv;
	if (name && sysv_parse_key(name, &key) && sysv_pending_stat(key, &a))
		return 0;
	return -EPERM;
}

/* rm by-key/0xKEY: drop a pending file, or remove the segment like
 * ipcrm -M KEY. */
static int sysv_remove_key(const char *name)
{
	key_t key;
	bool was_pending;
	int id;

	if (!sysv_parse_key(name, &key))
		return -ENOENT;
	G_LOCK(pending_lock);
	was_pending = g_hash_table_remove(pending,
					  GUINT_TO_POINTER((uint32_t)key));
	G_UNLOCK(pending_lock);
	if (was_pending)
		return 0;
	id = sysv_key_id(key);
	if (id < 0)
		return id;
	return shmctl(id, IPC_RMID, NULL) < 0 ? sysv_errno(errno) : 0;
}

static int sysv_remove(const char *path)
{
	const char *name = sysv_key_name(path);
	int id = sysv_parse_id(path);

	if (name)
		return sysv_remove_key(name);
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
	.readlink = sysv_readlink,
	.open = sysv_open,
	.create = sysv_create,
	.close = sysv_close,
	.fstat = sysv_fstat,
	.read = sysv_read,
	.write = sysv_write,
	.write_changed = sysv_write_changed,
	.truncate = sysv_truncate,
	.remove = sysv_remove,
	.chmod = sysv_chmod,
	.chown = sysv_chown,
	.utimens = sysv_utimens,
	.statfs = sysv_statfs,
};
