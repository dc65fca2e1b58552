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
 * Thread-safe: each inode's own shadow.lock, taken alone (see the order
 * in inode.h); the count of kept pages and of writers over all inodes are
 * atomics.
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

/* A file of in was opened / released with write access; the last
 * writer's release drops the inode's kept pages. */
void shmfs_shadow_open(struct shmfs_inode *in);
void shmfs_shadow_close(struct shmfs_inode *in);
/* Whether in's reads must be kept (a writer has it open). */
bool shmfs_shadow_active(struct shmfs_inode *in);
/* Files open for writing, over all inodes. */
unsigned shmfs_shadow_writers(void);

/* The kernel asked for `asked` bytes at off and got buf[0..len): the pages
 * it now holds (zero past len) are kept. */
void shmfs_shadow_store(struct shmfs_inode *in, uint64_t off, size_t asked,
			const void *buf, size_t len);
/* write(2) put buf at off through the mount (the kernel copied it into
 * its cached pages too). */
void shmfs_shadow_patch(struct shmfs_inode *in, uint64_t off, const void *buf,
			size_t len);
/* The kernel dropped every page past size. */
void shmfs_shadow_truncate(struct shmfs_inode *in, uint64_t size);

/* A write-back of f's cached pages: runs of kept pages go to the backend's
 * write_changed with their kept copy, the others to its write; all under
 * the inode's shadow lock, so that the kept copy and the segment change
 * together.  Bytes done, or the first error (-errno) when none were. */
ssize_t shmfs_shadow_write_back(struct shmfs_file *f, uint64_t off,
				const void *buf, size_t len);

#endif
