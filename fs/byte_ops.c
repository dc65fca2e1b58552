/* byte_ops.c - the byte calls beyond read and write: fallocate (allocate,
 * keep size, punch a hole), lseek's SEEK_DATA and SEEK_HOLE, and
 * copy_file_range between two files of the mount.  The kernel sends them
 * on both data paths (passthrough covers read, write and mmap only); each
 * is the kind's own call on the open handle, with its answers. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fallback.h"
#include "file.h"

void shmfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
		     off_t len, struct fuse_file_info *fi)
{
	shmfs_serve(req);
	struct shmfs_file *f = shmfs_file_of(fi);
	int r;

	(void)ino;
	if (!f)
		return shmfs_reply_err(req, -EBADF, "fallocate", NULL);
	if (off < 0 || len <= 0)
		return shmfs_reply_err(req, -EINVAL, "fallocate", NULL);
	r = shm_be_fallocate(f->inode->be, f->h, mode, (uint64_t)off,
			     (uint64_t)len);
	shmfs_reply_err(req, r, "fallocate", shmfs_inode_path(f->inode));
}

/* SEEK_DATA and SEEK_HOLE (the kernel answers the others itself): the
 * kind's, or, for a kind that keeps no holes, all data up to the end. */
void shmfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		 struct fuse_file_info *fi)
{
	shmfs_serve(req);
	struct shmfs_file *f = shmfs_file_of(fi);
	struct shm_attr a;
	int64_t r = -ENOSYS;

	(void)ino;
	if (!f || (whence != SEEK_DATA && whence != SEEK_HOLE))
		return shmfs_reply_err(req, f ? -EINVAL : -EBADF, "lseek",
				       NULL);
	if (f->inode->be->seek)
		r = f->inode->be->seek(f->h, (int64_t)off, whence);
	if (r == -ENOSYS) {
		r = f->inode->be->fstat(f->h, &a);
		if (r == 0)
			r = off < 0 || (uint64_t)off >= a.size ? -ENXIO :
			    whence == SEEK_DATA		       ? (int64_t)off :
								 (int64_t)a.size;
	}
	if (r < 0)
		return shmfs_reply_err(req, (int)r, "lseek",
				       shmfs_inode_path(f->inode));
	fuse_reply_lseek(req, (off_t)r);
}

/* Up to n bytes of in at off into buf: fewer at its end. */
static ssize_t read_into(struct shmfs_file *in, void *buf, size_t n,
			 uint64_t off)
{
	g_auto(shm_extent) x = { .fd = -1 };
	size_t got = 0;
	int r = in->inode->be->read(in->h, off, n, &x);

	if (r)
		return r;
	if (x.mem) {
		memcpy(buf, x.mem, x.len);
		return (ssize_t)x.len;
	}
	while (got < x.len) {
		ssize_t k = pread(x.fd, (char *)buf + got, x.len - got,
				  (off_t)(x.off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return got ? (ssize_t)got : -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* A copy from one file of the mount to another, as reads and writes of
 * their kinds (a System V segment keeps its size: ENOSPC past its end, as
 * a write there). */
void shmfs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			   struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			   off_t off_out, struct fuse_file_info *fi_out,
			   size_t len, int flags)
{
	shmfs_serve(req);
	struct shmfs_file *in = shmfs_file_of(fi_in);
	struct shmfs_file *out = shmfs_file_of(fi_out);
	const size_t chunk = 1 << 20;
	g_autofree char *buf = NULL;
	size_t done = 0;
	ssize_t r = 0;

	(void)ino_in, (void)ino_out;
	if (!in || !out)
		return shmfs_reply_err(req, -EBADF, "copy_file_range", NULL);
	if (flags || off_in < 0 || off_out < 0)
		return shmfs_reply_err(req, -EINVAL, "copy_file_range", NULL);
	buf = g_malloc(MIN(len, chunk) + 1);
	while (done < len) {
		size_t n = MIN(len - done, chunk);
		ssize_t got = read_into(in, buf, n, (uint64_t)off_in + done);

		if (got <= 0) {
			r = got;
			break;
		}
		r = shm_be_write(out->inode->be, out->h, buf, (size_t)got,
				 (uint64_t)off_out + done);
		if (r <= 0)
			break;
		if (out->io == SHMFS_IO_FALLBACK)
			shmfs_shadow_patch(out->inode, (uint64_t)off_out + done,
					   buf, (size_t)r);
		done += (size_t)r;
		if (r < got || (size_t)got < n)
			break;
	}
	if (done == 0 && r < 0)
		return shmfs_reply_err(req, (int)r, "copy_file_range",
				       shmfs_inode_path(out->inode));
	fuse_reply_write(req, done);
}
