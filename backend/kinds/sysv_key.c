/* sysv_key.c - sysv/by-key/: a symlink 0xKEY -> ../SHMID per segment that
 * has a key, and files created there.
 *
 * A file created in by-key/ is pending, known only to this daemon, until
 * its size is fixed by a truncate or by the end of its first write: then
 * it becomes shmget(key, size, IPC_CREAT|IPC_EXCL|mode), owned by whoever
 * created the file.  For a moment after that the kernel may still hold the
 * name as the file it was: opening, stat and setattr of such a name act on
 * the segment the key now names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caller.h"
#include "nsctx.h"
#include "sysv.h"

/* A segment created in by-key/ whose size is not known yet. */
struct sysv_pending {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec created;
};

/* pending_lock protects pending: (IPC namespace, key) as a guint64 ->
 * struct sysv_pending.  Keys repeat across namespaces, and a pending key
 * belongs to the namespace of the thread that made it (nsctx.h).  A leaf
 * lock: nothing else is taken while it is held. */
G_LOCK_DEFINE_STATIC(pending_lock);
static GHashTable *pending;

/* The table's key for key in the calling thread's namespace (nsfs inode
 * numbers are 32-bit). */
static guint64 pkey_of(key_t key)
{
	return ((guint64)shm_ctx_ipc_ns() << 32) | (uint32_t)key;
}

/* The table by key in the calling thread's namespace; pending_lock
 * held. */
static struct sysv_pending *pending_get(key_t key)
{
	guint64 pk = pkey_of(key);

	return g_hash_table_lookup(pending, &pk);
}

static void pending_put(key_t key, struct sysv_pending *p)
{
	guint64 *pk = g_new(guint64, 1);

	*pk = pkey_of(key);
	g_hash_table_insert(pending, pk, p);
}

static bool pending_drop(key_t key)
{
	guint64 pk = pkey_of(key);

	return g_hash_table_remove(pending, &pk);
}

void sysv_key_init(void)
{
	pending = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					g_free);
}

void sysv_key_fini(void)
{
	g_clear_pointer(&pending, g_hash_table_destroy);
}

/* "0x1234", "0x00001234": a key other than IPC_PRIVATE, or false. */
static bool parse_key(const char *name, key_t *key)
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

/* The id of the live segment with this key: shmget without IPC_CREAT is a
 * look-up that changes nothing. */
static int key_id(key_t key)
{
	int id = shmget(key, 0, 0);

	return id < 0 ? -ENOENT : id;
}

/* The id the name's key has now, or -ENOENT. */
static int name_id(const char *name)
{
	key_t key;

	return parse_key(name, &key) ? key_id(key) : -ENOENT;
}

static void pending_attr(struct shm_attr *a, const struct sysv_pending *p)
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

/* A pending segment's attributes; false if key is not pending. */
static bool pending_stat(key_t key, struct shm_attr *out)
{
	struct sysv_pending *p;

	G_LOCK(pending_lock);
	p = pending_get(key);
	if (p && out)
		pending_attr(out, p);
	G_UNLOCK(pending_lock);
	return p != NULL;
}

static bool key_row(const struct sysv_row *r, void *arg)
{
	struct shmid_ds ds = { 0 };
	struct shm_attr a;
	char name[16];

	if ((r->mode & SHM_DEST) || r->key == IPC_PRIVATE)
		return false;
	ds.shm_perm.mode = r->mode;
	ds.shm_perm.uid = r->uid;
	ds.shm_perm.gid = r->gid;
	ds.shm_atime = r->atime;
	ds.shm_dtime = r->dtime;
	ds.shm_ctime = r->ctime;
	sysv_link_attr(&a, &ds, r->id);
	snprintf(name, sizeof(name), "0x%08x", (uint32_t)r->key);
	shm_dirents_add(arg, name, &a);
	return false;
}

int sysv_key_list(GArray *out)
{
	struct shm_attr a;
	GHashTableIter it;
	gpointer k, v;
	guint64 ns = pkey_of(0);
	int r = sysv_scan(key_row, out);

	G_LOCK(pending_lock);
	g_hash_table_iter_init(&it, pending);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		guint64 pk = *(const guint64 *)k;
		char name[16];

		if ((pk >> 32) != (ns >> 32))
			continue;
		snprintf(name, sizeof(name), "0x%08x", (uint32_t)pk);
		pending_attr(&a, v);
		shm_dirents_add(out, name, &a);
	}
	G_UNLOCK(pending_lock);
	return r;
}

int sysv_key_stat(const char *name, struct shm_attr *out)
{
	struct shmid_ds ds;
	key_t key;
	int id;

	if (!parse_key(name, &key))
		return -ENOENT;
	if (pending_stat(key, out))
		return 0;
	id = key_id(key);
	if (id < 0 || shmctl(id, IPC_STAT, &ds) < 0)
		return -ENOENT;
	sysv_link_attr(out, &ds, id);
	return 0;
}

int sysv_key_readlink(const char *name, char **out)
{
	key_t key;
	int id;

	if (!parse_key(name, &key))
		return -EINVAL;
	id = key_id(key);
	if (id < 0)
		return -ENOENT;
	*out = g_strdup_printf("../%d", id);
	return 0;
}

int sysv_key_meta(const char *name, unsigned want, struct shm_meta *m)
{
	struct shm_attr a;
	key_t key;
	int id;

	if (!parse_key(name, &key))
		return -ENOENT;
	if (pending_stat(key, &a)) {
		*m = (struct shm_meta){
			.have = SHM_META_KEY | SHM_META_PERMS | SHM_META_OWNER,
			.key = (uint32_t)key,
			.perms = a.mode & 0777,
			.uid = a.uid,
			.gid = a.gid,
		};
		return 0;
	}
	id = key_id(key);
	return id < 0 ? id : sysv_meta_id(id, want, m);
}

int sysv_key_open(const char *name, int flags, struct shm_handle **out)
{
	bool writable = (flags & O_ACCMODE) != O_RDONLY;
	struct shm_handle *h;
	key_t key;
	int id;

	if (!parse_key(name, &key))
		return -ENOENT;
	if (!pending_stat(key, NULL)) {
		/* The name as the kernel still holds it: now a segment. */
		id = key_id(key);
		return id < 0 ? id : sysv_attach(id, writable, out);
	}
	h = sysv_handle_new(writable);
	h->key = key;
	*out = h;
	return 0;
}

/* Pending files are kept until they are written or removed: at most
 * kernel.shmmni in all (no more segments could be made of them), and a
 * sixteenth of that for any one uid but root's, so that one user cannot
 * take every other's; past either, -ENOSPC, as shmget answers past
 * shmmni. */
static unsigned pending_max(void)
{
	g_autofree char *text = NULL;
	unsigned long v = 4096;

	if (g_file_get_contents("/proc/sys/kernel/shmmni", &text, NULL, NULL))
		v = strtoul(text, NULL, 10);
	return (unsigned)CLAMP(v, 1, 1u << 20);
}

/* 0 if uid may make one more pending file; pending_lock held. */
static int pending_room(uid_t uid, unsigned max)
{
	GHashTableIter it;
	gpointer v;
	unsigned mine = 0;

	if (g_hash_table_size(pending) >= max)
		return -ENOSPC;
	if (uid == 0)
		return 0;
	g_hash_table_iter_init(&it, pending);
	while (g_hash_table_iter_next(&it, NULL, &v))
		mine += ((struct sysv_pending *)v)->uid == uid;
	return mine >= MAX(1, max / 16) ? -ENOSPC : 0;
}

int sysv_key_create(const char *name, mode_t mode, int flags, uid_t uid,
		    gid_t gid, struct shm_handle **out)
{
	struct sysv_pending *p;
	unsigned max;
	key_t key;
	int r;

	if (!parse_key(name, &key))
		return -EINVAL;
	p = g_new0(struct sysv_pending, 1);
	p->mode = mode & 0777;
	p->uid = uid;
	p->gid = gid;
	clock_gettime(CLOCK_REALTIME, &p->created);
	max = pending_max();
	G_LOCK(pending_lock);
	r = key_id(key) >= 0 || pending_get(key) != NULL ?
		    -EEXIST :
		    pending_room(uid, max);
	if (r == 0)
		pending_put(key, p);
	G_UNLOCK(pending_lock);
	if (r) {
		g_free(p);
		return r;
	}
	return sysv_key_open(name, flags, out);
}

int sysv_key_fstat(struct shm_handle *h, struct shm_attr *out)
{
	return pending_stat(h->key, out) ? 0 : -ENOENT;
}

static int materialize(struct shm_handle *h, uint64_t size)
{
	struct sysv_pending *p;
	struct shmid_ds ds;
	int id, r = 0;

	if (size == 0 || size > (uint64_t)SIZE_MAX)
		return size ? -EFBIG : -EINVAL;
	G_LOCK(pending_lock);
	p = pending_get(h->key);
	if (!p) {
		/* Made meanwhile through another handle: use that one. */
		G_UNLOCK(pending_lock);
		id = key_id(h->key);
		return id < 0 ? id : sysv_attach_to(h, id);
	}
	id = shmget(h->key, (size_t)size,
		    IPC_CREAT | IPC_EXCL | (int)(p->mode & 0777));
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
		pending_drop(h->key);
	G_UNLOCK(pending_lock);
	return r ? r : sysv_attach_to(h, id);
}

/* Under h's lock: a second write of the same descriptor waits for the
 * first to make the segment, then finds it made. */
int sysv_key_materialize(struct shm_handle *h, uint64_t size)
{
	int r;

	g_mutex_lock(&h->lock);
	r = h->id >= 0 ? 0 : materialize(h, size);
	g_mutex_unlock(&h->lock);
	return r;
}

int sysv_key_truncate(const char *name, struct shm_handle *h, uint64_t size)
{
	g_autoptr(shm_handle) own = NULL;
	int r;

	if (!h) {
		r = sysv_key_open(name, O_WRONLY, &own);
		if (r)
			return r;
		h = own;
	}
	if (h->id < 0)
		return size ? sysv_key_materialize(h, size) : 0;
	return sysv_truncate_id(h->id, h, size);
}

int sysv_key_setattr(const char *name, const struct shm_set *set)
{
	struct sysv_pending *p;
	key_t key;

	if (!parse_key(name, &key))
		return -ENOENT;
	G_LOCK(pending_lock);
	p = pending_get(key);
	if (p) {
		if (set->mode >= 0)
			p->mode = (mode_t)set->mode & 0777;
		if (set->uid != (uid_t)-1)
			p->uid = set->uid;
		if (set->gid != (gid_t)-1)
			p->gid = set->gid;
	}
	G_UNLOCK(pending_lock);
	/* A pending file takes touch; a segment keeps no settable times. */
	if (p)
		return 0;
	return set->times ? -EPERM : sysv_set_id(name_id(name), set);
}

/* rm by-key/0xKEY: drop a pending file, or remove the segment like
 * ipcrm -M KEY. */
int sysv_key_remove(const char *name)
{
	key_t key;
	bool was_pending;
	int id;

	if (!parse_key(name, &key))
		return -ENOENT;
	G_LOCK(pending_lock);
	was_pending = pending_drop(key);
	G_UNLOCK(pending_lock);
	if (was_pending)
		return 0;
	id = key_id(key);
	return id < 0 ? id : sysv_remove_id(id);
}
