/* fallback.h - the fallback data path: files the kernel does not pass
 * through (older kernels, -o passthrough=off, a backing file refused) are
 * served through the page cache of the FUSE inode.  Two parts keep that
 * cache and the segment in step.
 *
 * The refresh thread (fallback_refresh.c): every refresh_ms, the kernel
 * writes the mount's dirty pages back and drops the cached pages of every
 * open fallback file, so that native writes reach mappings through the
 * mount, and their writes reach the segment, within that period.
 *
 * The page shadow (fallback_shadow.c): a copy of what the kernel's page
 * cache holds, so that a page written back from a MAP_SHARED mapping of
 * the mount changes only the bytes the mapping changed.
 *
 * The kernel writes a dirty page back whole.  A native writer may have
 * changed other bytes of that page since the kernel read it; writing the
 * page whole would undo them.  While an inode has files open for writing
 * (only those can dirty a shared mapping), every page the daemon serves
 * to the page cache is kept here, and a write-back writes only the runs of
 * bytes that differ from it.  A page not kept (opened before, or past the
 * memory cap) is written whole, as without the shadow.
 *
 * Thread-safe: one lock, shadow_lock in fallback_shadow.c, taken alone
 * (see the order in shmfs.h).
 */
#ifndef SHMFS_FALLBACK_H
#define SHMFS_FALLBACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "file.h"

/* Start the refresh thread (not when refresh_ms is 0); 0 or -errno. */
int shmfs_refresh_start(struct shmfs_state *st);
void shmfs_refresh_stop(void);

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

/* A write-back of f's cached pages: runs of kept pages go to the backend's
 * write_changed with their kept copy, the others to its write; all under
 * the lock, so that the kept copy and the segment change together.  Bytes
 * done, or the first error (-errno) when none were. */
ssize_t shmfs_shadow_write_back(struct shmfs_file *f, uint64_t off,
				const void *buf, size_t len);

#endif
