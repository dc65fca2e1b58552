/* nodes.h - the inode table: which (backend, path) each FUSE inode names.
 *
 * Inode 1 is the mount's root; each backend's directory is a pinned node;
 * every other node lives while the kernel holds a lookup count on it and
 * is never reused, so an inode number always means one name.
 * All functions are thread-safe (one lock, nodes_lock in nodes.c; no other
 * lock is taken while it is held).
 */
#ifndef SHMFS_NODES_H
#define SHMFS_NODES_H

#include <sys/stat.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "backend.h"

/* A copy of what a node names, safe to use after the lock is dropped. */
struct shmfs_ref {
	const struct shmfs_backend *be; /* NULL for the mount's root */
	char *path;                     /* relative to the backend's dir */
	mode_t type;                    /* S_IFREG, S_IFDIR, S_IFLNK */
};

void shmfs_nodes_init(const struct shmfs_backend *const *bes, size_t n);
void shmfs_nodes_fini(void);

/* The backends in mount order, NULL-terminated. */
const struct shmfs_backend *const *shmfs_backends(void);

/* Fill *ref for ino; -ENOENT if the kernel names an inode we don't know. */
int shmfs_node_ref(fuse_ino_t ino, struct shmfs_ref *ref);
void shmfs_ref_clear(struct shmfs_ref *ref);
typedef struct shmfs_ref shmfs_ref;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(shmfs_ref, shmfs_ref_clear)

/* The inode for (be, path, type), created if needed, its lookup count
 * raised.  The type is part of the identity: a name that turns from a file
 * into a symlink (by-key/) or a directory gets a new inode, never a
 * changed one. */
fuse_ino_t shmfs_node_lookup(const struct shmfs_backend *be, const char *path,
			     mode_t type);
/* The kernel dropped n lookups of ino. */
void shmfs_node_forget(fuse_ino_t ino, uint64_t n);

/* Open files of a node, so that a segment removed while open still answers
 * fstat (the kernel sends GETATTR without the file handle). */
void shmfs_node_add_file(fuse_ino_t ino, void *file);
void shmfs_node_remove_file(fuse_ino_t ino, void *file);
/* fn(file, arg) on one open file of ino, with the table locked: fn must
 * not block or call back into this table.  -ENOENT if none is open. */
int shmfs_node_with_file(fuse_ino_t ino, int (*fn)(void *file, void *arg),
			 void *arg);

/* Take every open file out of the table and hand each to fn (the session
 * ended with files still open). */
void shmfs_nodes_drain_files(void (*fn)(void *file));

/* The inodes that have open files now, appended to out (fuse_ino_t). */
void shmfs_nodes_open_inos(GArray *out);

/* path of `name` inside directory `dir` (both backend-relative). */
char *shmfs_child_path(const char *dir, const char *name);

#endif
