/* file.c - open files, their life and their I/O (see file.h).  An open
 * is: the backend's open, then passthrough.c's choice of data path, then
 * one reply.
 * read and write come here only on the fallback path, for a System V
 * writer on the passthrough path (so that the segment keeps its size), and
 * for the rare writer of a read-only backing file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fallback.h"
#include "killpriv.h"
#include "caller_limits.h"
#include "log.h"
#include "passthrough.h"

/* For the tests of an open whose reply cannot be sent: how long an open
 * waits before its reply, from SHMFS_DEBUG_OPEN_DELAY_MS (0: none). */
static void shmfs_debug_open_delay(void)
{
	static gint ms = -1;

	if (g_atomic_int_get(&ms) < 0) {
		const char *v = getenv("SHMFS_DEBUG_OPEN_DELAY_MS");

		g_atomic_int_set(&ms, v ? (gint)CLAMP(atoi(v), 0, 60000) : 0);
	}
	if (g_atomic_int_get(&ms) > 0)
		g_usleep((gulong)g_atomic_int_get(&ms) * 1000);
}

struct shmfs_file *shmfs_file_of(const struct fuse_file_info *fi)
{
	struct shmfs_file *f = fi ? (struct shmfs_file *)fi->fh : NULL;

	return f && f->kind == SHMFS_FH_FILE ? f : NULL;
}

struct shmfs_file *shmfs_file_ref(struct shmfs_file *f)
{
	g_atomic_int_inc(&f->refs);
	return f;
}

void shmfs_file_unref(struct shmfs_file *f)
{
	if (!f || !g_atomic_int_dec_and_test(&f->refs))
		return;
	f->inode->be->close(f->h);
	shmfs_open_give(f->uid);
	shmfs_inode_unref(f->inode);
	g_free(f);
}

int shmfs_file_fstat_any(struct shmfs_inode *in, struct shm_attr *a)
{
	struct shmfs_file *f = NULL;
	int r;

	g_mutex_lock(&in->lock);
	if (in->files->len)
		f = shmfs_file_ref(in->files->pdata[0]);
	g_mutex_unlock(&in->lock);
	if (!f)
		return -ENOENT;
	r = in->be->fstat(f->h, a);
	shmfs_file_unref(f);
	return r;
}

/* The end of f's open: unlisted from its inode, its reference (fi->fh's)
 * dropped. */
static void file_close(struct fuse_session *se, struct shmfs_file *f)
{
	if (shmfs_io_close(se, f))
		shmfs_file_unref(f);
}

void shmfs_files_drain(void)
{
	g_autoptr(GPtrArray) open = shmfs_inodes_open();

	for (guint i = 0; i < open->len; i++) {
		struct shmfs_inode *in = open->pdata[i];
		struct shmfs_file *f;

		/* Backing ids go with the session's /dev/fuse descriptor. */
		for (;;) {
			g_mutex_lock(&in->lock);
			f = in->files->len ? in->files->pdata[0] : NULL;
			g_mutex_unlock(&in->lock);
			if (!f)
				break;
			file_close(NULL, f);
		}
	}
}

/* Hand h to the kernel as fi->fh on the path passthrough.c chooses;
 * closed again if the reply cannot be sent (the open was interrupted).
 * A failed reply has freed req: what the close needs (the session) is
 * taken before.  The open holds one of its caller's share (caller_limits.h),
 * given back with the file's last reference. */
static void reply_open(fuse_req_t req, struct shmfs_inode *in,
		       struct shm_handle *h, struct fuse_file_info *fi,
		       const struct shm_attr *created)
{
	struct fuse_session *se = shmfs_state_of(req)->se;
	struct shmfs_file *f = g_new0(struct shmfs_file, 1);
	struct fuse_entry_param e;
	int r;

	f->uid = fuse_req_ctx(req)->uid;
	f->kind = SHMFS_FH_FILE;
	f->inode = shmfs_inode_ref(in);
	f->h = h;
	f->writer = (fi->flags & O_ACCMODE) != O_RDONLY;
	f->refs = 1; /* fi->fh's, dropped at release */
	fi->fh = (uint64_t)(uintptr_t)f;
	shmfs_io_open(req, f, fi);
	/* The size may have changed natively since the kernel cached it:
	 * a file it serves from its page cache must see the new end, so
	 * drop the cached attributes (before the reply, which drops the
	 * pages).  A passed-through file reads and writes the segment's own
	 * file, its end included: its attributes age out as any others
	 * (-o timeout), and its opens cost no extra GETATTR. */
	if (!created && f->io != SHMFS_IO_PASSTHROUGH)
		fuse_lowlevel_notify_inval_inode(se, in->ino, -1, 0);
	shmfs_debug_open_delay();
	if (created) {
		shmfs_fill_entry(req, &e, in->ino, created);
		r = fuse_reply_create(req, &e, fi);
	} else {
		r = fuse_reply_open(req, fi);
	}
	if (r == -ENOENT) {
		shmfs_log("open %s: the kernel took no reply (the open was "
			  "interrupted, or the connection aborted): closed",
			  shmfs_inode_path(in));
		file_close(se, f);
		if (created)
			shmfs_inode_forget(in->ino, 1);
	}
}

/* The name was removed and made again since the kernel looked the inode
 * up: what h opened is another object.  ESTALE makes the kernel look the
 * name up again (a new inode) and retry the open.  h is closed then. */
static int same_object(const struct shmfs_inode *in, struct shm_handle *h)
{
	struct shm_attr a;
	int r = in->be->fstat(h, &a);

	if (r == 0 && shmfs_inode_other_object(in, &a))
		r = -ESTALE;
	if (r)
		in->be->close(h);
	return r;
}

/* Open in's object: the name must still mean it (same_object) before
 * anything changes, so a writer's O_TRUNC is applied through the new
 * handle after that check, never by the open itself. */
static int open_checked(struct shmfs_inode *in, int flags,
			struct shm_handle **h)
{
	const char *path = shmfs_inode_path(in);
	bool trunc = (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY;
	int r = shm_be_open(in->be, path, trunc ? flags & ~O_TRUNC : flags, h);

	if (r == 0 && in->ident_dev)
		r = same_object(in, *h);
	if (r == 0 && trunc) {
		r = shm_be_truncate(in->be, path, *h, 0);
		if (r == 0)
			shmfs_shadow_truncate(in, 0);
		if (r)
			in->be->close(*h);
	}
	return r;
}

void shmfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);
	uid_t uid = fuse_req_ctx(req)->uid;
	struct shm_handle *h = NULL;
	int r = in ? 0 : -ENOENT;

	if (r == 0 && (!in->be || !shmfs_inode_path(in)[0]))
		r = -EISDIR;
	if (r == 0)
		r = shmfs_open_take(uid);
	if (r == 0) {
		r = open_checked(in, fi->flags, &h);
		/* The name is gone natively since the kernel cached it: as
		 * for another object under the name, ESTALE makes the kernel
		 * look it up again, so that an open with O_CREAT makes it
		 * (the kernel sends an existing name's open without it). */
		if (r == -ENOENT)
			r = -ESTALE;
		if (r)
			shmfs_open_give(uid);
	}
	if (r)
		return shmfs_reply_err(req, r, "open",
				       in ? shmfs_inode_path(in) : NULL);
	/* open(O_TRUNC) by a process without CAP_FSETID clears setuid as a
	 * truncate does: the kernel says so in the open, but libfuse
	 * passes no such flag on. */
	if (fi->flags & O_TRUNC)
		shmfs_kill_suidgid(req, in, true);
	reply_open(req, in, h, fi, NULL);
}

/* Create name in parent for the caller: the backend's create, then the
 * new file's attributes and inode (a lookup the reply hands the kernel).
 * On success *h is open and *out a reference. */
static int create_in(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, int flags, struct shm_handle **h,
		     struct shmfs_inode **out, struct shm_attr *a)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	g_autoptr(shmfs_inode) dir = shmfs_inode_get(parent);
	g_autofree char *path = NULL;
	int r = shmfs_name_ok(name);

	if (r == 0 && !dir)
		r = -ENOENT;
	if (r)
		return r;
	if (!dir->be)
		return -EPERM; /* no new kinds at the root */
	r = shm_be_create(dir->be, shmfs_inode_path(dir), name, mode, flags,
			  ctx->uid, ctx->gid, h);
	if (r)
		return r;
	r = dir->be->fstat(*h, a);
	if (r) {
		dir->be->close(*h);
		return r;
	}
	path = shmfs_child_path(shmfs_inode_path(dir), name);
	*out = shmfs_inode_get(shmfs_inode_lookup(parent, dir->be, path, a));
	return 0;
}

void shmfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = NULL;
	uid_t uid = fuse_req_ctx(req)->uid;
	struct shm_handle *h;
	struct shm_attr a;
	int r = shmfs_open_take(uid);

	if (r == 0) {
		r = create_in(req, parent, name, mode, fi->flags, &h, &in, &a);
		if (r)
			shmfs_open_give(uid);
	}
	if (r)
		return shmfs_reply_err(req, r, "create", name);
	reply_open(req, in, h, fi, &a);
}

void shmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, dev_t rdev)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = NULL;
	struct fuse_entry_param e;
	struct shm_handle *h;
	struct shm_attr a;
	int r;

	/* mknod(S_IFREG) is a create; anything else only a name. */
	if (!S_ISREG(mode))
		return shmfs_mknod_special(req, parent, name, mode, rdev);
	r = create_in(req, parent, name, mode, O_RDONLY, &h, &in, &a);
	if (r)
		return shmfs_reply_err(req, r, "mknod", name);
	in->be->close(h);
	shmfs_fill_entry(req, &e, in->ino, &a);
	if (fuse_reply_entry(req, &e) == -ENOENT)
		shmfs_inode_forget(in->ino, 1);
}

/* A copy of x's bytes (short at an fd's end of file); *n its length. */
static void *extent_copy(const struct shm_extent *x, size_t *n)
{
	guint8 *buf = g_malloc(x->len);
	ssize_t r;

	if (x->mem) {
		memcpy(buf, x->mem, x->len);
		*n = x->len;
		return buf;
	}
	*n = 0;
	while (*n < x->len) {
		r = pread(x->fd, buf + *n, x->len - *n, (off_t)(x->off + *n));
		if (r > 0)
			*n += (size_t)r;
		else if (r == 0 || errno != EINTR)
			break;
	}
	return buf;
}

/* Read and reply; f is held by the caller until the reply is sent. */
static void read_reply(fuse_req_t req, struct shmfs_file *f, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	g_autofree void *copy = NULL;
	struct fuse_bufvec bv;
	g_auto(shm_extent) x = { .fd = -1 };
	int r;

	if (off < 0)
		return shmfs_reply_err(req, -EINVAL, "read", NULL);
	r = f->inode->be->read(f->h, (uint64_t)off, size, &x);
	if (r)
		return shmfs_reply_err(req, r, "read", NULL);
	/* Fallback: a page cache fill (O_DIRECT reads go around the cache).
	 * Reply with exactly the bytes kept for the write-back. */
	if (f->io == SHMFS_IO_FALLBACK && !(fi->flags & O_DIRECT) &&
	    shmfs_shadow_active(f->inode)) {
		size_t n = 0;

		copy = x.len ? extent_copy(&x, &n) : NULL;
		shmfs_shadow_store(f->inode, (uint64_t)off, size, copy, n);
		x.mem = copy;
		x.len = n;
	}
	if (x.len == 0)
		return (void)fuse_reply_buf(req, NULL, 0);
	bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT(x.len);
	if (x.mem) {
		bv.buf[0].mem = (void *)x.mem;
	} else {
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = x.fd;
		bv.buf[0].pos = (off_t)x.off;
	}
	fuse_reply_data(req, &bv,
			x.mem ? FUSE_BUF_NO_SPLICE : FUSE_BUF_SPLICE_MOVE);
}

/* The reply points into f's memory (or descriptor): the kernel has the
 * bytes as soon as the reply is written, and may then send f's RELEASE to
 * another thread while this one is still returning from that write, so
 * f stays referenced until the reply is sent. */
void shmfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	shmfs_serve(req);
	struct shmfs_file *f = shmfs_file_ref(shmfs_file_of(fi));

	(void)ino;
	read_reply(req, f, size, off, fi);
	shmfs_file_unref(f);
}

void shmfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi)
{
	shmfs_serve(req);
	struct shmfs_file *f = shmfs_file_of(fi);
	ssize_t n;

	(void)ino;
	if (off < 0)
		return shmfs_reply_err(req, -EINVAL, "write", NULL);
	if (fi->writepage) {
		/* Fallback: dirty pages of a mapping, only the bytes it
		 * changed. */
		n = shmfs_shadow_write_back(f, (uint64_t)off, buf, size);
	} else {
		n = shm_be_write(f->inode->be, f->h, buf, size, (uint64_t)off);
		if (n > 0 && f->io == SHMFS_IO_FALLBACK)
			shmfs_shadow_patch(f->inode, (uint64_t)off, buf,
					   (size_t)n);
	}
	if (n < 0)
		return shmfs_reply_err(req, (int)n,
				       fi->writepage ? "write-back" : "write",
				       NULL);
	fuse_reply_write(req, (size_t)n);
}

/* Segments are memory: there is nothing to sync.  (There is no flush
 * op: the kernel still writes a fallback file's dirty pages back on
 * close, and after the first ENOSYS sends no FLUSH at every close.) */
void shmfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi)
{
	shmfs_serve(req);
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0);
}

void shmfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	shmfs_serve(req);
	(void)ino;
	file_close(shmfs_state_of(req)->se, shmfs_file_of(fi));
	fuse_reply_err(req, 0);
}
