/* file.c - open files and their I/O (see file.h).  An open is: the
 * backend's open, then passthrough.c's choice of data path, then one reply.
 * read and write come here only on the fallback path, for a System V
 * writer on the passthrough path (so that the segment keeps its size), and
 * for the rare writer of a read-only backing file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fallback.h"
#include "passthrough.h"

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
	if (!g_atomic_int_dec_and_test(&f->refs))
		return;
	f->be->close(f->h);
	g_free(f);
}

/* Hand h to the kernel as fi->fh on the path passthrough.c chooses;
 * closed again if the reply cannot be sent (the open was interrupted). */
static void reply_open(fuse_req_t req, fuse_ino_t ino,
		       const struct shmfs_backend *be, struct shm_handle *h,
		       struct fuse_file_info *fi,
		       const struct shm_attr *created)
{
	struct shmfs_file *f = g_new0(struct shmfs_file, 1);
	struct fuse_entry_param e;
	int r;

	f->kind = SHMFS_FH_FILE;
	f->ino = ino;
	f->be = be;
	f->h = h;
	f->writer = (fi->flags & O_ACCMODE) != O_RDONLY;
	f->refs = 1; /* the inode's list of open files holds it */
	fi->fh = (uint64_t)(uintptr_t)f;
	shmfs_io_open(req, f, fi);
	if (created) {
		shmfs_fill_entry(req, &e, ino, created);
		r = fuse_reply_create(req, &e, fi);
	} else {
		r = fuse_reply_open(req, fi);
	}
	if (r == -ENOENT) {
		shmfs_io_close(req, f);
		if (created)
			shmfs_node_forget(ino, 1);
	}
}

/* The name was removed and made again since the kernel looked the inode
 * up: what h opened is another object.  ESTALE makes the kernel look the
 * name up again (a new inode) and retry the open.  h is closed then. */
static int same_object(const struct shmfs_ref *ref, struct shm_handle *h)
{
	struct shm_attr a;
	int r = ref->be->fstat(h, &a);

	if (r == 0 && shmfs_ref_other_object(ref, &a))
		r = -ESTALE;
	if (r)
		ref->be->close(h);
	return r;
}

void shmfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	g_auto(shmfs_ref) ref = { 0 };
	struct shm_handle *h = NULL;
	int r = shmfs_node_ref(ino, &ref);

	if (r == 0 && (!ref.be || !ref.path[0]))
		r = -EISDIR;
	if (r == 0)
		r = ref.be->open(ref.path, fi->flags, &h);
	if (r == 0 && ref.ident_dev)
		r = same_object(&ref, h);
	if (r)
		return shmfs_reply_err(req, r, "open", ref.path);
	/* The size may have changed natively since the kernel cached it:
	 * drop the cached attributes so this open sees the new end. */
	fuse_lowlevel_notify_inval_inode(shmfs_state_of(req)->se, ino, -1, 0);
	reply_open(req, ino, ref.be, h, fi, NULL);
}

/* Create name in parent for the caller: the backend's create, then the
 * new file's attributes and inode.  On success *h is open. */
static int create_in(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, int flags, const struct shmfs_backend **be,
		     struct shm_handle **h, fuse_ino_t *ino, struct shm_attr *a)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	g_auto(shmfs_ref) ref = { 0 };
	g_autofree char *path = NULL;
	int r = shmfs_name_ok(name);

	if (r == 0)
		r = shmfs_node_ref(parent, &ref);
	if (r)
		return r;
	if (!ref.be)
		return -EPERM; /* no new kinds at the root */
	r = ref.be->create(ref.path, name, mode, flags, ctx->uid, ctx->gid, h);
	if (r)
		return r;
	r = ref.be->fstat(*h, a);
	if (r) {
		ref.be->close(*h);
		return r;
	}
	*be = ref.be;
	path = shmfs_child_path(ref.path, name);
	*ino = shmfs_node_lookup(ref.be, path, a);
	return 0;
}

void shmfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi)
{
	const struct shmfs_backend *be;
	struct shm_handle *h;
	struct shm_attr a;
	fuse_ino_t ino;
	int r = create_in(req, parent, name, mode, fi->flags, &be, &h, &ino,
			  &a);

	if (r)
		return shmfs_reply_err(req, r, "create", name);
	reply_open(req, ino, be, h, fi, &a);
}

void shmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, dev_t rdev)
{
	const struct shmfs_backend *be;
	struct fuse_entry_param e;
	struct shm_handle *h;
	struct shm_attr a;
	fuse_ino_t ino;
	int r;

	(void)rdev;
	/* Only regular files are segments; mknod(S_IFREG) is a create. */
	r = S_ISREG(mode) ? create_in(req, parent, name, mode, O_RDONLY, &be,
				      &h, &ino, &a) :
			    -EPERM;
	if (r)
		return shmfs_reply_err(req, r, "mknod", name);
	be->close(h);
	shmfs_fill_entry(req, &e, ino, &a);
	if (fuse_reply_entry(req, &e) == -ENOENT)
		shmfs_node_forget(ino, 1);
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

void shmfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct shmfs_file *f = shmfs_file_of(fi);
	g_autofree void *copy = NULL;
	struct fuse_bufvec bv;
	struct shm_extent x;
	int r;

	if (off < 0)
		return shmfs_reply_err(req, -EINVAL, "read", NULL);
	r = f->be->read(f->h, (uint64_t)off, size, &x);
	if (r)
		return shmfs_reply_err(req, r, "read", NULL);
	/* Fallback: a page cache fill (O_DIRECT reads go around the cache).
	 * Reply with exactly the bytes kept for the write-back. */
	if (f->io == SHMFS_IO_FALLBACK && !(fi->flags & O_DIRECT) &&
	    shmfs_shadow_active(ino)) {
		size_t n = 0;

		copy = x.len ? extent_copy(&x, &n) : NULL;
		shmfs_shadow_store(ino, (uint64_t)off, size, copy, n);
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

void shmfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi)
{
	struct shmfs_file *f = shmfs_file_of(fi);
	ssize_t n;

	if (off < 0)
		return shmfs_reply_err(req, -EINVAL, "write", NULL);
	if (fi->writepage) {
		/* Fallback: dirty pages of a mapping, only the bytes it
		 * changed. */
		n = shmfs_shadow_write_back(f, (uint64_t)off, buf, size);
	} else {
		n = f->be->write(f->h, buf, size, (uint64_t)off);
		if (n > 0 && f->io == SHMFS_IO_FALLBACK)
			shmfs_shadow_patch(ino, (uint64_t)off, buf, (size_t)n);
	}
	if (n < 0)
		return shmfs_reply_err(req, (int)n,
				       fi->writepage ? "write-back" : "write",
				       NULL);
	fuse_reply_write(req, (size_t)n);
}

/* Segments are memory: there is nothing to flush or sync. */
void shmfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	fuse_reply_err(req, 0);
}

void shmfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0);
}

void shmfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	shmfs_io_close(req, shmfs_file_of(fi));
	fuse_reply_err(req, 0);
}
