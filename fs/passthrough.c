/* passthrough.c - the data path of each inode's opens (see
 * passthrough.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fallback.h"
#include "log.h"
#include "counters.h"
#include "passthrough.h"

#ifndef FUSE_DEV_IOC_BACKING_CLOSE /* <linux/fuse.h> of Linux 6.9 */
#define FUSE_DEV_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)
#endif

/* Set at init, cleared once if the kernel refuses for want of privilege;
 * read without a lock. */
static gint mount_pt;
/* Bit e: the kernel's refusal with errno e was logged already. */
static guint64 refusals_logged[4];

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
		  f->inode->be->name, strerror(err));
}

/* Choose the path of in, whose first open f is: register f's backing
 * file with the kernel, or take the fallback.  Called without in->lock
 * (in->deciding keeps other opens waiting). */
static void choose(fuse_req_t req, const struct shmfs_file *f,
		   struct shmfs_inode *in)
{
	const struct shmfs_backend *be = in->be;
	struct shm_backing b;
	int r, id = 0;

	in->io = SHMFS_IO_FALLBACK;
	in->backing_id = 0;
	r = shm_be_backing(be, f->h, &b);
	if (r) {
		/* No backing file now (a by-key/ file not yet made), or the
		 * kind could not open it. */
		if (r != -ENOTSUP || shmfs_log_verbose())
			shmfs_log("passthrough: %s file without a backing "
				  "file (%s): served through the page cache",
				  be->name, strerror(-r));
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
	shmfs_count_backing(1);
	in->io = SHMFS_IO_PASSTHROUGH;
	in->backing_id = id;
	in->writable = b.writable;
	in->writes_to_daemon = b.writes_to_daemon;
}

void shmfs_io_open(fuse_req_t req, struct shmfs_file *f,
		   struct fuse_file_info *fi)
{
	struct shmfs_inode *in = f->inode;

	shmfs_inode_opened(in);
	g_mutex_lock(&in->lock);
	while (in->deciding)
		g_cond_wait(&in->decided, &in->lock);
	if (in->files->len == 0) {
		in->io = in->be->direct ? SHMFS_IO_DIRECT : SHMFS_IO_FALLBACK;
		if (!in->be->direct && shmfs_io_mount_passthrough()) {
			in->deciding = true;
			g_mutex_unlock(&in->lock);
			choose(req, f, in);
			g_mutex_lock(&in->lock);
			in->deciding = false;
			g_cond_broadcast(&in->decided);
		}
	}
	f->io = in->io;
	if (in->io == SHMFS_IO_DIRECT)
		fi->direct_io = 1;
	if (in->be->stream)
		fi->nonseekable = 1;
	if (in->io == SHMFS_IO_PASSTHROUGH) {
		if (f->writer && !in->writable)
			f->io = SHMFS_IO_DIRECT;
		else
			fi->backing_id = in->backing_id;
		fi->direct_io = f->io == SHMFS_IO_DIRECT ||
				(f->writer && in->writes_to_daemon);
	}
	g_ptr_array_add(in->files, f);
	g_mutex_unlock(&in->lock);
	shmfs_count_open(f->io);
	if (f->io == SHMFS_IO_FALLBACK) {
		/* Segments change under us: every open starts from the live
		 * bytes.  Before the reply: the kernel drops the cached pages
		 * when it gets it, and every page it reads after that must be
		 * kept. */
		fi->keep_cache = 0;
		if (f->writer)
			shmfs_shadow_open(in);
	}
}

/* The kernel's hold on backing file id ends. */
static void backing_close(struct fuse_session *se, int id)
{
	if (se &&
	    ioctl(fuse_session_fd(se), FUSE_DEV_IOC_BACKING_CLOSE, &id) != 0 &&
	    errno != ENODEV)
		shmfs_log("passthrough: closing backing id %d: %s", id,
			  strerror(errno));
	shmfs_count_backing(-1);
}

bool shmfs_io_close(struct fuse_session *se, struct shmfs_file *f)
{
	struct shmfs_inode *in = f->inode;
	bool listed;
	int id = 0;

	g_mutex_lock(&in->lock);
	listed = g_ptr_array_remove_fast(in->files, f);
	if (listed && in->files->len == 0 && !in->deciding) {
		id = in->backing_id;
		in->backing_id = 0;
	}
	g_mutex_unlock(&in->lock);
	if (!listed)
		return false;
	if (id > 0)
		backing_close(se, id);
	if (f->io == SHMFS_IO_FALLBACK && f->writer)
		shmfs_shadow_close(in);
	shmfs_inode_released(in);
	return true;
}

const char *shmfs_io_name(struct shmfs_inode *in)
{
	bool pt = shmfs_io_mount_passthrough();

	g_mutex_lock(&in->lock);
	if (in->files->len)
		pt = in->io == SHMFS_IO_PASSTHROUGH;
	g_mutex_unlock(&in->lock);
	return pt ? "passthrough" : "fallback";
}
