/* file.h - an open file of the mount (what fi->fh points to) and the file
 * ops: open, create, mknod, read, write, flush, fsync, release.
 *
 * Each open takes one of two data paths, chosen per inode by passthrough.c:
 *   passthrough  the kernel reads, writes and maps the segment's own pages
 *                (its backing file) without asking the daemon; a System V
 *                file open for writing still sends read and write here, so
 *                that the segment keeps its size;
 *   fallback     the kernel's page cache for the FUSE inode, filled by
 *                read here and written back by write here, kept in step
 *                with the segment by fallback.h (page shadow, refresh).
 */
#ifndef SHMFS_FILE_H
#define SHMFS_FILE_H

#include "shmfs.h"

enum shmfs_io {
	SHMFS_IO_FALLBACK = 0,
	SHMFS_IO_PASSTHROUGH,
	/* Served by the daemon with no page cache: a writer of an inode whose
	 * backing file only allows reading (mmap is refused with ENODEV). */
	SHMFS_IO_DIRECT,
};

struct shmfs_file {
	int kind; /* SHMFS_FH_FILE */
	fuse_ino_t ino;
	const struct shmfs_backend *be;
	struct shm_handle *h; /* closed with the last reference */
	bool writer;	      /* opened for writing */
	enum shmfs_io io;     /* set by shmfs_io_open */
	gint refs;
};

/* The open file behind fi, or NULL (no handle, or a directory's). */
struct shmfs_file *shmfs_file_of(const struct fuse_file_info *fi);
struct shmfs_file *shmfs_file_ref(struct shmfs_file *f);
/* Drop a reference; the last one closes the backend handle. */
void shmfs_file_unref(struct shmfs_file *f);

void shmfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void shmfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi);
void shmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, dev_t rdev);
void shmfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void shmfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi);
void shmfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void shmfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi);
void shmfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

#endif
