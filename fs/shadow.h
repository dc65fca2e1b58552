/* shadow.h - a copy of what the kernel's page cache holds, so that a page
 * written back from a MAP_SHARED mapping of the mount changes only the
 * bytes the mapping changed.
 *
 * The kernel writes a dirty page back whole.  A native writer may have
 * changed other bytes of that page since the kernel read it; writing the
 * page whole would undo them.  While an inode has files open for writing
 * (only those can dirty a shared mapping), every page the daemon serves
 * to the page cache is kept here, and a write-back writes only the runs of
 * bytes that differ from it.  A page not kept (opened before, or past the
 * memory cap) is written whole, as without the shadow.
 *
 * Thread-safe: one lock, shadow_lock in shadow.c, taken after any node
 * lock is released (never together with nodes_lock).
 */
#ifndef SHMFS_SHADOW_H
#define SHMFS_SHADOW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#define SHMFS_PAGE 4096u

/* At most this many bytes of pages are kept, over all inodes. */
#define SHMFS_SHADOW_CAP (256u << 20)

/* Drop every kept page (the session has ended). */
void shmfs_shadow_fini(void);

/* A file of ino was opened / released with write access. */
void shmfs_shadow_open(fuse_ino_t ino);
void shmfs_shadow_close(fuse_ino_t ino);
/* Whether ino's reads must be kept (a writer has it open). */
bool shmfs_shadow_active(fuse_ino_t ino);
/* Files open for writing, over all inodes. */
unsigned shmfs_shadow_writers(void);

/* The kernel asked for `asked` bytes at off and got buf[0..len): the pages
 * it now holds (zero past len) are kept. */
void shmfs_shadow_store(fuse_ino_t ino, uint64_t off, size_t asked,
			const void *buf, size_t len);
/* write(2) put buf at off through the mount (the kernel copied it into
 * its cached pages too). */
void shmfs_shadow_patch(fuse_ino_t ino, uint64_t off, const void *buf,
			size_t len);
/* The kernel dropped every page past size. */
void shmfs_shadow_truncate(fuse_ino_t ino, uint64_t size);

/* Where a write-back goes: the open file's write and write_changed (see
 * backend.h), with ctx as their first argument. */
struct shmfs_shadow_sink {
	ssize_t (*write)(void *ctx, const void *buf, size_t len, uint64_t off);
	ssize_t (*write_changed)(void *ctx, const void *buf, const void *old,
				 size_t len, uint64_t off);
	void *ctx;
};

/* A write-back of cached pages: runs of kept pages go to write_changed
 * with their kept copy, the others to write; all under the lock, so that
 * the kept copy and the segment change together.  Bytes done, or the
 * first error (-errno) when none were. */
ssize_t shmfs_shadow_write_back(fuse_ino_t ino, uint64_t off, const void *buf,
				size_t len,
				const struct shmfs_shadow_sink *sink);

#endif
