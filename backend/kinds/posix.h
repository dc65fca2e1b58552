/* posix.h - what other kinds may use of the POSIX kind, and what its two
 * files share (posix_tree.c: paths beneath the directory and the calls
 * that change its names).  Not part of the backend interface.
 *
 * What counts as a POSIX object: a regular file directly in the POSIX
 * directory, as shm_open names one (a name without a slash).  A named
 * semaphore (sem_open's "sem.NAME") is one too, counted apart.  Files in
 * subdirectories are the directory's like any tmpfs file (listed, read,
 * written, mapped, removed through posix/) but are no objects: unused/
 * and shmfs.prom leave them out.
 */
#ifndef SHMFS_POSIX_H
#define SHMFS_POSIX_H

#include <stdbool.h>

#include "backend.h"

/* posix_tree.c: the POSIX directory of the daemon's namespace, opened
 * once at init (0 or -errno) and closed at fini; the one the calling
 * thread acts in, open (O_DIRECTORY; -1 before init or where it has
 * none), and its path as user.shm.path shows it. */
int posix_dir_open(const char *dir);
void posix_dir_close(void);
int posix_dir_fd(void);
const char *posix_dir_path(void);
/* A name tmpfs takes for one entry: not empty, ".", ".." or past
 * NAME_MAX, no slash. */
bool posix_valid_name(const char *name);
/* A named semaphore's file name ("sem." and the name). */
bool posix_is_semaphore(const char *name);

/* Where path's last component is: the directory holding it (fd, owned
 * when own) and the component (base, inside path).  -ENOENT for a path
 * that names nothing beneath the directory, -ENOTDIR where a component
 * on the way is not a directory. */
struct posix_at {
	int fd;
	bool own;
	const char *base;
};
int posix_at(const char *path, struct posix_at *at);
void posix_at_done(struct posix_at *at);

/* The backend's setattr and tree operations, on any entry at any
 * depth. */
int posix_set(const char *path, const struct shm_set *set);
int posix_tree(const struct shm_tree_op *op);

#endif
