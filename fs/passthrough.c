/* passthrough.c - the open files of each inode and their data path (see
 * passthrough.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fallback.h"
#include "log.h"
#include "metrics.h"
#include "passthrough.h"

/* What the opens of one inode share. */
struct inode_io {
	GPtrArray *files; /* struct shmfs_file *, one reference each */
	enum shmfs_io io; /* of the inode, while files are open */
	int backing_id;	  /* > 0 on the passthrough path */
	bool writable;	  /* the backing file allows writing */
	bool writes_to_daemon;
	bool deciding; /* a first open is choosing the path, unlocked */
};

/* io_lock protects io_table and every inode_io in it; io_cond wakes the
 * opens that wait while a first open decides. */
static GMutex io_lock;
static GCond io_cond;
static GHashTable *io_table; /* ino -> struct inode_io */
/* Set at init, cleared once if the kernel refuses for want of privilege;
 * read without the lock. */
static gint mount_pt;
/* Bit e: the kernel's refusal with errno e was logged already. */
static guint64 refusals_logged[4];

#define KEY(x) GSIZE_TO_POINTER((gsize)(x))

static void inode_io_free(void *p)
{
	struct inode_io *e = p;

	g_ptr_array_unref(e->files);
	g_free(e);
}

/* Ask for a capability the kernel offers; whether it did. */
static bool want_flag(struct fuse_conn_info *conn, uint64_t flag)
{
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 17)
	return fuse_set_feature_flag(conn, flag);
#else
	if (!(conn->capable & flag))
		return false;
	conn->want |= (unsigned)flag;
	return true;
#endif
}

void shmfs_io_want(struct fuse_conn_info *conn, uint64_t flag)
{
	want_flag(conn, flag);
}

void shmfs_io_negotiate(struct fuse_conn_info *conn, bool want)
{
	if (!want) {
		shmfs_log("passthrough: off (-o passthrough=off): files are "
			  "served through the page cache");
		return;
	}
	if (!want_flag(conn, FUSE_CAP_PASSTHROUGH)) {
		shmfs_log("passthrough: the kernel offers none (it needs Linux "
			  ">= 6.9 with CONFIG_FUSE_PASSTHROUGH): files are "
			  "served through the page cache");
		return;
	}
	g_atomic_int_set(&mount_pt, 1);
	shmfs_log("passthrough: on: reads, writes and mappings go to the "
		  "segments' own pages");
}

bool shmfs_io_mount_passthrough(void)
{
	return g_atomic_int_get(&mount_pt) != 0;
}

/* Say once per errno why the kernel refused a backing file. */
static void log_refusal(const struct shmfs_file *f, int err)
{
	guint64 bit = 1ull << (err % 64);
	guint64 *word = &refusals_logged[(err / 64) % 4];

	if (err == EPERM &&
	    g_atomic_int_compare_and_exchange(&mount_pt, 1, 0)) {
		shmfs_log("passthrough: the kernel refused a backing file "
			  "(EPERM: the daemon needs CAP_SYS_ADMIN): every file "
			  "of this mount is served through the page cache");
		return;
	}
	if (__atomic_fetch_or(word, bit, __ATOMIC_RELAXED) & bit)
		return;
	shmfs_log("passthrough: the kernel refused the backing file of a %s "
		  "file (%s): such files are served through the page cache",
		  f->be->name, strerror(err));
}

/* Choose the path of e, whose first open f is: register f's backing file
 * with the kernel, or take the fallback.  Called without io_lock. */
static void choose(fuse_req_t req, const struct shmfs_file *f,
		   struct inode_io *e)
{
	struct shm_backing b;
	int r, id = 0;

	e->io = SHMFS_IO_FALLBACK;
	e->backing_id = 0;
	r = f->be->backing ? f->be->backing(f->h, &b) : -ENOTSUP;
	if (r) {
		/* No backing file now (a by-key/ file not yet made), or the
		 * kind could not open it. */
		if (r != -ENOTSUP || shmfs_log_verbose())
			shmfs_log("passthrough: %s file without a backing "
				  "file (%s): served through the page cache",
				  f->be->name, strerror(-r));
		return;
	}
	errno = 0;
	id = fuse_passthrough_open(req, b.fd);
	r = errno ? errno : EIO;
	close(b.fd);
	if (id <= 0) {
		log_refusal(f, r);
		return;
	}
	e->io = SHMFS_IO_PASSTHROUGH;
	e->backing_id = id;
	e->writable = b.writable;
	e->writes_to_daemon = b.writes_to_daemon;
}

void shmfs_io_open(fuse_req_t req, struct shmfs_file *f,
		   struct fuse_file_info *fi)
{
	struct inode_io *e;

	g_mutex_lock(&io_lock);
	if (!io_table)
		io_table = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						 NULL, inode_io_free);
	/* Looked up again after every wait: while this thread waited, the
	 * opener that decided may have had its file closed, and the entry
	 * freed with it. */
	for (;;) {
		e = g_hash_table_lookup(io_table, KEY(f->ino));
		if (!e) {
			e = g_new0(struct inode_io, 1);
			e->files = g_ptr_array_new();
			g_hash_table_insert(io_table, KEY(f->ino), e);
		}
		if (!e->deciding)
			break;
		g_cond_wait(&io_cond, &io_lock);
	}
	if (e->files->len == 0) {
		e->io = f->be->direct ? SHMFS_IO_DIRECT : SHMFS_IO_FALLBACK;
		if (!f->be->direct && shmfs_io_mount_passthrough()) {
			e->deciding = true;
			g_mutex_unlock(&io_lock);
			choose(req, f, e);
			g_mutex_lock(&io_lock);
			e->deciding = false;
			g_cond_broadcast(&io_cond);
		}
	}
	f->io = e->io;
	if (e->io == SHMFS_IO_DIRECT)
		fi->direct_io = 1;
	if (e->io == SHMFS_IO_PASSTHROUGH) {
		if (f->writer && !e->writable)
			f->io = SHMFS_IO_DIRECT;
		else
			fi->backing_id = e->backing_id;
		fi->direct_io = f->io == SHMFS_IO_DIRECT ||
				(f->writer && e->writes_to_daemon);
	}
	g_ptr_array_add(e->files, f);
	g_mutex_unlock(&io_lock);
	shmfs_metrics_open(f->io);
	if (f->io == SHMFS_IO_FALLBACK) {
		/* Segments change under us: every open starts from the live
		 * bytes.  Before the reply: the kernel drops the cached pages
		 * when it gets it, and every page it reads after that must be
		 * kept. */
		fi->keep_cache = 0;
		if (f->writer)
			shmfs_shadow_open(f->ino);
	}
}

void shmfs_io_close(fuse_req_t req, struct shmfs_file *f)
{
	struct inode_io *e;
	int id = 0;

	g_mutex_lock(&io_lock);
	e = io_table ? g_hash_table_lookup(io_table, KEY(f->ino)) : NULL;
	if (e && g_ptr_array_remove_fast(e->files, f) && e->files->len == 0 &&
	    !e->deciding) {
		id = e->backing_id;
		g_hash_table_remove(io_table, KEY(f->ino));
	}
	g_mutex_unlock(&io_lock);
	if (id > 0 && req)
		fuse_passthrough_close(req, id);
	if (f->io == SHMFS_IO_FALLBACK && f->writer)
		shmfs_shadow_close(f->ino);
	shmfs_file_unref(f);
}

void shmfs_io_drain(void)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	g_mutex_lock(&io_lock);
	if (io_table) {
		g_hash_table_iter_init(&it, io_table);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			struct inode_io *e = v;

			for (guint i = 0; i < e->files->len; i++)
				g_ptr_array_add(all, e->files->pdata[i]);
			g_ptr_array_set_size(e->files, 0);
		}
		g_clear_pointer(&io_table, g_hash_table_unref);
	}
	g_mutex_unlock(&io_lock);
	/* Backing ids go with the session's /dev/fuse descriptor. */
	for (guint i = 0; i < all->len; i++) {
		struct shmfs_file *f = all->pdata[i];

		if (f->io == SHMFS_IO_FALLBACK && f->writer)
			shmfs_shadow_close(f->ino);
		shmfs_file_unref(f);
	}
}

int shmfs_io_fstat(fuse_ino_t ino, struct shm_attr *a)
{
	struct shmfs_file *f = NULL;
	struct inode_io *e;
	int r;

	g_mutex_lock(&io_lock);
	e = io_table ? g_hash_table_lookup(io_table, KEY(ino)) : NULL;
	if (e && e->files->len)
		f = shmfs_file_ref(e->files->pdata[0]);
	g_mutex_unlock(&io_lock);
	if (!f)
		return -ENOENT;
	r = f->be->fstat(f->h, a);
	shmfs_file_unref(f);
	return r;
}

void shmfs_io_fallback_inos(GArray *out)
{
	GHashTableIter it;
	gpointer k, v;

	g_mutex_lock(&io_lock);
	if (io_table) {
		g_hash_table_iter_init(&it, io_table);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			struct inode_io *e = v;
			fuse_ino_t ino = (fuse_ino_t)GPOINTER_TO_SIZE(k);

			if (e->files->len && e->io == SHMFS_IO_FALLBACK)
				g_array_append_val(out, ino);
		}
	}
	g_mutex_unlock(&io_lock);
}

const char *shmfs_io_name(fuse_ino_t ino)
{
	struct inode_io *e;
	bool pt = shmfs_io_mount_passthrough();

	g_mutex_lock(&io_lock);
	e = io_table ? g_hash_table_lookup(io_table, KEY(ino)) : NULL;
	if (e && e->files->len)
		pt = e->io == SHMFS_IO_PASSTHROUGH;
	g_mutex_unlock(&io_lock);
	return pt ? "passthrough" : "fallback";
}
