/* nodes.h - the inode table: which (backend, path) each FUSE inode names.
 *
 * Inode 1 is the mount's root; each backend's directory is a pinned node;
 * every other node lives while the kernel holds a lookup count on it and
 * is never reused, so an inode number always means one name.
 * All functions are thread-safe (one lock, nodes_lock in nodes.c; no other
 * lock is taken while it is held and no backend is called under it).
 * Open files are not kept here but in passthrough.c: the kernel may
 * forget an inode before the daemon has handled its last release.
 */
#ifndef SHMFS_NODES_H
#define SHMFS_NODES_H

#include <sys/stat.h>

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 316
#endif
#include <fuse_lowlevel.h>

#include "backend.h"

/* A copy of what a node names, safe to use after the lock is dropped. */
struct shmfs_ref {
	const struct shmfs_backend *be; /* NULL for the mount's root */
	char *path;			/* relative to the backend's dir */
	mode_t type;			/* S_IFREG, S_IFDIR, S_IFLNK */
	uint64_t ident_dev, ident_ino;	/* the object (shm_attr), or 0 */
	uint64_t ident_ns, ident_gen;
};

/* Whether a (the attributes of ref's name now) is another object than the
 * one ref's inode was made for: the name was removed and made again. */
bool shmfs_ref_other_object(const struct shmfs_ref *ref,
			    const struct shm_attr *a);

void shmfs_nodes_init(const struct shmfs_backend *const *bes, size_t n);
void shmfs_nodes_fini(void);

/* The backends in mount order, NULL-terminated. */
const struct shmfs_backend *const *shmfs_backends(void);

/* Fill *ref for ino; -ENOENT if the kernel names an inode we don't know. */
int shmfs_node_ref(fuse_ino_t ino, struct shmfs_ref *ref);
void shmfs_ref_clear(struct shmfs_ref *ref);
typedef struct shmfs_ref shmfs_ref;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(shmfs_ref, shmfs_ref_clear)

/* The inode for (be, path) with attributes a, created if needed, its
 * lookup count raised.  The type and the object (a's ident) are part of
 * the identity: a name that turns from a file into a symlink (by-key/),
 * or that is removed and made again, gets a new inode, never a changed
 * one, as on any filesystem. */
fuse_ino_t shmfs_node_lookup(const struct shmfs_backend *be, const char *path,
			     const struct shm_attr *a);
/* The kernel dropped n lookups of ino. */
void shmfs_node_forget(fuse_ino_t ino, uint64_t n);

/* The object behind inode ino (its kind's device and inode number, as
 * /proc/PID/maps names a native mapping of it): how a mapping through the
 * mount is told apart (procscan.h's resolver).  False if ino names none. */
bool shmfs_node_object(ino_t ino, dev_t *dev, ino_t *obj, ino_t *ns);

/* path of `name` inside directory `dir` (both backend-relative). */
char *shmfs_child_path(const char *dir, const char *name);

#endif
