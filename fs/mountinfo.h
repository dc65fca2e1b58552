/* mountinfo.h - what /proc/self/mountinfo says of a mount point, read
 * without touching the mount itself (its daemon may be dead, or not yet
 * serving). */
#ifndef SHMFS_MOUNTINFO_H
#define SHMFS_MOUNTINFO_H

#include <stdbool.h>
#include <sys/types.h>

/* The topmost mount at mnt (absolute): its filesystem type ("fuse.shmfs")
 * into *fstype (newly allocated) and its device into *dev; false if
 * nothing is mounted there. */
bool shmfs_mountinfo_top(const char *mnt, char **fstype, dev_t *dev);

#endif
