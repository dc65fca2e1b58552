/* root.h - the mount's root, listed once: the kinds' directories in mount
 * order, then the files shmfs.prom, events and segments; and how a (directory,
 * name) pair becomes a backend and a path.  A leaf of the front: it
 * calls only the backends' own ops (through their tables) and the inode
 * table. */
#ifndef SHMFS_ROOT_H
#define SHMFS_ROOT_H

#include <fuse_lowlevel.h>
#include <glib.h>

#include "backend.h"

/* The kinds, NULL-terminated (set once, before the mount serves). */
void shmfs_root_set(const struct shmfs_backend *const *kinds);
const struct shmfs_backend *const *shmfs_backends(void);
const struct shmfs_backend *shmfs_backend_named(const char *name);

/* What name at the root is: a kind's directory (path "") or one of the
 * root's files; -ENOENT for anything else. */
int shmfs_root_child(const char *name, const struct shmfs_backend **be,
		     char **path);
/* The root's entries into ents (struct shm_dirent). */
void shmfs_root_list(GArray *ents);

/* The files the front adds to a kind's directory: each namespace's
 * segments file in ns/INODE.  (be, dir)'s child name as the front's
 * backend and path, -ENOENT if it is none; and those files into ents. */
int shmfs_front_child(const struct shmfs_backend *be, const char *dir,
		      const char *name, const struct shmfs_backend **fbe,
		      char **fpath);
void shmfs_front_list(const struct shmfs_backend *be, const char *dir,
		      GArray *ents);

/* -ENAMETOOLONG for a name longer than NAME_MAX, else 0. */
int shmfs_name_ok(const char *name);
/* (parent, name) as a backend and a backend-relative path. */
int shmfs_child_of(fuse_ino_t parent, const char *name,
		   const struct shmfs_backend **be, char **path);

#endif
