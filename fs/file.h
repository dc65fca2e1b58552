/* file.h - an open file of the mount (what fi->fh points to) and the file
 * ops: open, create, mknod, read, write, flush, fsync, release.
 *
 * Each open takes the data path of its inode (inode.h's enum shmfs_io),
 * chosen by passthrough.c when the inode has no open file.
 */
#ifndef SHMFS_FILE_H
#define SHMFS_FILE_H

#include "shmfs.h"

struct shmfs_file {
	int kind;		   /* SHMFS_FH_FILE */
	struct shmfs_inode *inode; /* a reference, dropped with the file */
	struct shm_handle *h;	   /* closed with the last reference */
	bool writer;		   /* opened for writing */
	enum shmfs_io io;	   /* set by shmfs_io_open */
	uid_t uid;		   /* whose open it is (caller_limits.h) */
	gint refs;
};

/* The open file behind fi, or NULL (no handle, or a directory's). */
struct shmfs_file *shmfs_file_of(const struct fuse_file_info *fi);
struct shmfs_file *shmfs_file_ref(struct shmfs_file *f);
/* Drop a reference; the last one closes the backend handle. */
void shmfs_file_unref(struct shmfs_file *f);

/* fstat through any open file of in (a segment removed while open);
 * -ENOENT if none is open. */
int shmfs_file_fstat_any(struct shmfs_inode *in, struct shm_attr *a);
/* The session ended: close every file still open. */
void shmfs_files_drain(void);

void shmfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void shmfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi);
void shmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, dev_t rdev);
void shmfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void shmfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi);
void shmfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi);
void shmfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* The byte calls beyond read and write (byte_ops.c). */
void shmfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
		     off_t len, struct fuse_file_info *fi);
void shmfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		 struct fuse_file_info *fi);
void shmfs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			   struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			   off_t off_out, struct fuse_file_info *fi_out,
			   size_t len, int flags);

#endif
