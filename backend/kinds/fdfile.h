/* fdfile.h - what the kinds backed by a file descriptor share (POSIX
 * objects, mapped files): the handle and the operations on it.  Reads and
 * writes go through the descriptor, so a file truncated by another process
 * gives a short read.  Only fdfile_write_changed maps the file, for the
 * length of one merge, under a SIGBUS guard: a file shrunk meanwhile makes
 * that write short, never kills the daemon. */
#ifndef SHMFS_FDFILE_H
#define SHMFS_FDFILE_H

#include "backend.h"

struct shm_handle {
	int fd;
};

struct shm_handle *fdfile_handle(int fd);
/* A file just created as dirfd/name: give it to uid:gid with exactly
 * mode (the caller's, umask applied by the kernel) and wrap it in a
 * handle, or remove it again and fail.  Takes fd either way. */
int fdfile_adopt(int fd, int dirfd, const char *name, mode_t mode, uid_t uid,
		 gid_t gid, struct shm_handle **out);
void fdfile_close(struct shm_handle *h);
int fdfile_fstat(struct shm_handle *h, struct shm_attr *out);
int fdfile_read(struct shm_handle *h, uint64_t off, size_t size,
		struct shm_extent *out);
ssize_t fdfile_write(struct shm_handle *h, const void *buf, size_t size,
		     uint64_t off);
/* See backend.h's fallocate and seek: on the file itself. */
int fdfile_fallocate(struct shm_handle *h, int mode, uint64_t off,
		     uint64_t len);
int64_t fdfile_seek(struct shm_handle *h, int64_t off, int whence);
/* See backend.h's write_changed. */
ssize_t fdfile_write_changed(struct shm_handle *h, const void *buf,
			     const void *old, size_t size, uint64_t off);
/* ftruncate(fd) with the size checked first; 0 or -errno. */
int fdfile_truncate_fd(int fd, uint64_t size);
/* Mode, owner and times (see struct shm_set) through an open descriptor. */
int fdfile_set(int fd, const struct shm_set *set);
/* The backing descriptor of h's file: reopened for reading and writing
 * whatever h was opened for, or (a file only readable, on a read-only
 * filesystem) for reading. */
int fdfile_backing(struct shm_handle *h, struct shm_backing *out);
/* How a kind opens one of its files by path: 0 and *fd, or -errno. */
typedef int (*fdfile_opener)(const char *path, int flags, int *fd);

/* truncate by path (or through h when it was opened to write). */
int fdfile_truncate(fdfile_opener open_fd, const char *path,
		    struct shm_handle *h, uint64_t size);
/* fdfile_set on the file at path, opened read-only by open_fd. */
int fdfile_set_path(fdfile_opener open_fd, const char *path,
		    const struct shm_set *set);

/* Add the usage of the filesystem fd lives on. */
int fdfile_statfs(int fd, struct shm_usage *acc);
/* The pids that map dev:ino shared, into m (SHM_META_MAPPERS). */
void fdfile_mappers(dev_t dev, ino_t ino, unsigned want, struct shm_meta *m);

#endif
