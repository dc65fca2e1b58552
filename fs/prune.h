/* prune.h - names that are gone leave the kernel's cache.
 *
 * The kernel keeps every name it looked up (a lookup, or an entry of a
 * readdirplus) and its inode, and so the daemon keeps its inode too,
 * until memory runs short: on a host where segments come and go, that
 * is every segment ever listed.  When a listing of a directory no longer
 * has a name the kernel holds under it, the name is queued here, and a
 * thread outside every request (where libfuse allows notifications
 * without risk of deadlock) tells the kernel that it is deleted
 * (fuse_lowlevel_notify_delete: the kernel drops the name and clears the
 * inode's link count, as an unlink would, so that it forgets the inode at
 * once instead of keeping it unused in its inode cache), or where that
 * does not apply (an inode the kernel may hold under other names too, a
 * name that leads to another object now, a directory the kernel still
 * knows children of), to drop the name
 * (fuse_lowlevel_notify_inval_entry).  The inode goes once no file of it
 * is open, and the daemon's table follows: what the daemon keeps grows
 * with what exists, not with what has been.
 */
#ifndef SHMFS_PRUNE_H
#define SHMFS_PRUNE_H

#include "shmfs.h"

/* The thread: started once the session is mounted, stopped before it is
 * unmounted; 0 or -errno. */
int shmfs_prune_start(struct fuse_session *se);
void shmfs_prune_stop(void);

/* The kernel is to drop names (struct shmfs_unlisted, taken with the
 * array); dropped at once if the thread is not running. */
void shmfs_prune_queue(GArray *names);

/* Names dropped since the daemon started (shmfs.prom). */
guint64 shmfs_prune_count(void);

#endif
