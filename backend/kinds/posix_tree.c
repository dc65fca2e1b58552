/* posix_tree.c - paths beneath the POSIX directory, and the calls that
 * make, remove, link and move names there (see posix.h).
 *
 * Every path is resolved one component at a time from the directory
 * opened at init, each component opened O_PATH | O_NOFOLLOW |
 * O_DIRECTORY: a symbolic link on the way is never followed (the
 * caller's kernel resolves links before it asks the daemon, so a path
 * that needs one is not a path the kernel sends), and nothing outside
 * the directory is reached, whatever is renamed or swapped meanwhile.
 * The last component is then used with the *at calls, none of which
 * follows it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller.h"
#include "nsctx.h"
#include "posix.h"

/* The POSIX directory, opened once at init, and its path; read-only
 * afterwards. */
static int posix_dirfd = -1;
static char *posix_dirname;

int posix_dir_open(const char *dir)
{
	posix_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (posix_dirfd < 0)
		return -errno;
	posix_dirname = g_strdup(dir);
	return 0;
}

void posix_dir_close(void)
{
	if (posix_dirfd >= 0)
		close(posix_dirfd);
	posix_dirfd = -1;
	g_clear_pointer(&posix_dirname, g_free);
}

int posix_dir_fd(void)
{
	return shm_ctx_foreign() ? shm_ctx_posix_fd() : posix_dirfd;
}

const char *posix_dir_path(void)
{
	return shm_ctx_foreign() ? shm_ctx_posix_path() : posix_dirname;
}

bool posix_valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= NAME_MAX && !strchr(name, '/') &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Every component of path a name tmpfs takes. */
static bool valid_path(const char *path)
{
	const char *p = path;

	if (!path[0] || strlen(path) >= PATH_MAX)
		return false;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char name[NAME_MAX + 1];

		if (n == 0 || n > NAME_MAX)
			return false;
		memcpy(name, p, n);
		name[n] = '\0';
		if (!posix_valid_name(name))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

int posix_at(const char *path, struct posix_at *at)
{
	const char *last = strrchr(path, '/');
	const char *p = path;
	int fd = posix_dir_fd();

	*at = (struct posix_at){ .fd = -1 };
	if (fd < 0 || !valid_path(path))
		return -ENOENT;
	at->fd = fd;
	at->base = last ? last + 1 : path;
	while (last && p < last) {
		const char *slash = strchr(p, '/');
		char name[NAME_MAX + 1];
		size_t n = (size_t)(slash - p);
		int next;

		memcpy(name, p, n);
		name[n] = '\0';
		next = openat(at->fd, name,
			      O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;

			posix_at_done(at);
			/* A link where a directory should be: not one. */
			return e == ELOOP ? -ENOTDIR : -e;
		}
		posix_at_done(at);
		at->fd = next;
		at->own = true;
		p = slash + 1;
	}
	return 0;
}

void posix_at_done(struct posix_at *at)
{
	if (at->own && at->fd >= 0)
		close(at->fd);
	at->fd = -1;
	at->own = false;
}

/* /proc/self/fd/FD: reaches the object of an O_PATH descriptor itself
 * (chmod and utimensat have no AT_EMPTY_PATH before Linux 6.6). */
static void self_fd(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* Mode, owner and times of the object fd (O_PATH) is, named base in
 * dirfd: a symbolic link's own owner and times; its mode cannot
 * change. */
static int set_on(int fd, int dirfd, const char *base,
		  const struct shm_set *set)
{
	char self[32];
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	self_fd(fd, self);
	if (set->mode >= 0) {
		if (S_ISLNK(st.st_mode))
			return -EOPNOTSUPP;
		if (chmod(self, (mode_t)set->mode & 07777) < 0)
			return -errno;
	}
	if ((set->uid != (uid_t)-1 || set->gid != (gid_t)-1) &&
	    fchownat(fd, "", set->uid, set->gid, AT_EMPTY_PATH) < 0)
		return -errno;
	if (set->times) {
		int r = S_ISLNK(st.st_mode) ?
				utimensat(dirfd, base, set->times,
					  AT_SYMLINK_NOFOLLOW) :
				utimensat(AT_FDCWD, self, set->times, 0);

		if (r < 0)
			return -errno;
	}
	return 0;
}

static int set_as(const char *path, const struct shm_set *set)
{
	struct posix_at at;
	int fd, r = posix_at(path, &at);

	if (r)
		return r;
	fd = openat(at.fd, at.base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	r = fd < 0 ? -errno : set_on(fd, at.fd, at.base, set);
	if (fd >= 0)
		close(fd);
	posix_at_done(&at);
	return r;
}

/* As the caller: only the owner (or root) changes mode, owner and times,
 * and the kernel says which group a user may give. */
int posix_set(const char *path, const struct shm_set *set)
{
	return SHM_AS_CALLER(set_as(path, set));
}

/* What the daemon made at base in dirfd becomes the caller's, as if the
 * caller had made it: owned by uid, and by gid unless the directory is
 * setgid (then its group, as the kernel gave it); mode exactly as asked
 * (the daemon's umask and chown's clearing undone), plus the setgid bit a
 * directory inherits.  Undone (removed) if that fails. */
static int own_new(int dirfd, const char *base, mode_t type, mode_t mode,
		   uid_t uid, gid_t gid)
{
	struct stat dir, st;
	int fd, r = 0;

	if (fstat(dirfd, &dir) < 0)
		return -errno;
	fd = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != type) {
		/* Replaced natively meanwhile: not ours to change. */
		close(fd);
		return -EEXIST;
	}
	if (fchownat(fd, "", uid, (dir.st_mode & S_ISGID) ? (gid_t)-1 : gid,
		     AT_EMPTY_PATH) < 0)
		r = -errno;
	if (!r && type != S_IFLNK) {
		char self[32];
		mode_t m = mode & 07777;

		if (type == S_IFDIR && (dir.st_mode & S_ISGID))
			m |= S_ISGID;
		self_fd(fd, self);
		if (chmod(self, m) < 0)
			r = -errno;
	}
	close(fd);
	if (r)
		unlinkat(dirfd, base, type == S_IFDIR ? AT_REMOVEDIR : 0);
	return r;
}

static int make(const struct shm_tree_op *op, const struct posix_at *at)
{
	mode_t type;
	int r;

	switch (op->what) {
	case SHM_MKDIR:
		type = S_IFDIR;
		r = mkdirat(at->fd, at->base, op->mode & 07777);
		break;
	case SHM_SYMLINK:
		type = S_IFLNK;
		r = symlinkat(op->to, at->fd, at->base);
		break;
	default: /* SHM_MKNOD */
		type = op->mode & S_IFMT;
		if (type == S_IFREG || type == S_IFDIR || type == S_IFLNK)
			return -EINVAL;
		r = mknodat(at->fd, at->base, op->mode, op->rdev);
		break;
	}
	if (r < 0)
		return -errno;
	return own_new(at->fd, at->base, type, op->mode, op->uid, op->gid);
}

/* link and rename: two names, both beneath the directory. */
static int relink(const struct shm_tree_op *op, const struct posix_at *at)
{
	struct posix_at to;
	int r = posix_at(op->to, &to);

	if (r)
		return r;
	if (op->what == SHM_LINK)
		r = linkat(at->fd, at->base, to.fd, to.base, 0);
	else
		r = renameat2(at->fd, at->base, to.fd, to.base, op->flags);
	r = r < 0 ? -errno : 0;
	posix_at_done(&to);
	return r;
}

static int tree_as(const struct shm_tree_op *op)
{
	struct posix_at at;
	int r = posix_at(op->path, &at);

	if (r)
		return r;
	switch (op->what) {
	case SHM_RMDIR:
		r = unlinkat(at.fd, at.base, AT_REMOVEDIR) < 0 ? -errno : 0;
		break;
	case SHM_LINK:
	case SHM_RENAME:
		r = relink(op, &at);
		break;
	default:
		r = make(op, &at);
		break;
	}
	posix_at_done(&at);
	return r;
}

/* As the caller: names are made, linked, renamed and removed under the
 * kernel's rules for that user (sticky directories, protected_hardlinks,
 * ACLs). */
int posix_tree(const struct shm_tree_op *op)
{
	return SHM_AS_CALLER(tree_as(op));
}
