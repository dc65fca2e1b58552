/* posix.c - the POSIX directory (/dev/shm unless --posix-dir says
 * otherwise) as posix/: every entry of it at any depth, with tmpfs's
 * answers, and shm_open's objects and sem_open's semaphores as what they
 * are (posix.h says which files those are).  Paths are resolved beneath
 * the directory by posix_tree.c, which also makes, links, moves and
 * removes names.  Reads and writes go through a file's descriptor, never
 * through a mapping, so a file truncated by another process gives a short
 * read rather than SIGBUS in the daemon.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fdfile.h"
#include "nsctx.h"
#include "caller.h"
#include "posix.h"
#include "origin/watch.h"

static int posix_init(const struct shmfs_config *cfg)
{
	return posix_dir_open(cfg->posix_dir ? cfg->posix_dir : "/dev/shm");
}

static void posix_fini(void)
{
	posix_dir_close();
}

bool posix_is_semaphore(const char *name)
{
	return strncmp(name, "sem.", 4) == 0 && name[4];
}

/* The attributes of st, the entry named name; top: directly in the
 * directory, where sem_open's files are. */
static void attr_of(struct shm_attr *a, const struct stat *st, bool top,
		    const char *name)
{
	shm_attr_from_stat(a, st);
	a->semaphore = top && S_ISREG(st->st_mode) && posix_is_semaphore(name);
}

/* Open an existing regular file: never through a symlink, never blocking
 * on a FIFO someone left in the directory. */
static int posix_open_fd(const char *path, int flags, int *out)
{
	struct posix_at at;
	struct stat st;
	int fd, r = posix_at(path, &at);

	if (r)
		return r;
	fd = openat(at.fd, at.base,
		    (flags & (O_ACCMODE | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC |
			    O_NONBLOCK);
	if (fd < 0)
		r = errno == ELOOP ? -ENOENT : -errno;
	posix_at_done(&at);
	if (fd < 0)
		return r;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		*out = fd;
		return 0;
	}
	r = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? -EISDIR : -ENOENT;
	close(fd);
	return r;
}

/* The directory dir, open for reading, in *out. */
static int open_dir(const char *dir, int *out)
{
	struct posix_at at;
	int r = 0;

	if (!dir[0]) {
		if (posix_dir_fd() < 0)
			return -ENOENT;
		*out = openat(posix_dir_fd(), ".",
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return *out < 0 ? -errno : 0;
	}
	r = posix_at(dir, &at);
	if (r)
		return r;
	*out = openat(at.fd, at.base,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*out < 0)
		r = errno == ELOOP ? -ENOTDIR : -errno;
	posix_at_done(&at);
	return r;
}

static int posix_list(const char *dir, GArray *out)
{
	char target[PATH_MAX];
	struct shm_attr a;
	struct dirent *de;
	struct stat st;
	int fd, r;
	DIR *d;

	/* What the watcher has queued is reported before the listing. */
	shm_watch_posix_sync();
	r = open_dir(dir, &fd);
	if (r)
		return r;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	/* readdir on a DIR of our own is thread-safe; readdir_r is deprecated.
	 */
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		ssize_t n;

		if (!posix_valid_name(de->d_name))
			continue;
		/* Entries removed since readdir are simply skipped. */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		attr_of(&a, &st, !dir[0], de->d_name);
		if (!S_ISLNK(st.st_mode)) {
			shm_dirents_add(out, de->d_name, &a);
			continue;
		}
		n = readlinkat(dirfd(d), de->d_name, target,
			       sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		shm_dirents_add_link(out, de->d_name, &a, target);
	}
	closedir(d);
	return 0;
}

static int posix_lstat(const char *path, struct stat *st)
{
	struct posix_at at;
	int r = posix_at(path, &at);

	if (r)
		return r;
	r = fstatat(at.fd, at.base, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	posix_at_done(&at);
	return r;
}

static int posix_stat(const char *path, struct shm_attr *out)
{
	struct stat st;
	int r;

	if (!path[0]) {
		if (posix_dir_fd() < 0)
			return -ENOENT;
		if (fstat(posix_dir_fd(), &st) < 0)
			return -errno;
		shm_attr_from_stat(out, &st);
		return 0;
	}
	r = posix_lstat(path, &st);
	if (r == 0)
		attr_of(out, &st, !strchr(path, '/'), path);
	return r;
}

static int posix_readlink(const char *path, char **out)
{
	char target[PATH_MAX];
	struct posix_at at;
	ssize_t n;
	int r = posix_at(path, &at);

	if (r)
		return r;
	n = readlinkat(at.fd, at.base, target, sizeof(target) - 1);
	r = n < 0 ? -errno : 0;
	posix_at_done(&at);
	if (r)
		return r;
	target[n] = '\0';
	*out = g_strdup(target);
	return 0;
}

/* A semaphore's value as sem_getvalue gives it (glibc keeps it in the low
 * 31 bits of the first word, musl in the first int beside a waiters
 * bit), read with pread: never by taking the semaphore. */
static void sem_value(const char *path, struct shm_meta *m)
{
	uint32_t v = 0;
	int fd;

	if (posix_open_fd(path, O_RDONLY, &fd) != 0)
		return;
	if (pread(fd, &v, sizeof(v), 0) == (ssize_t)sizeof(v)) {
		m->have |= SHM_META_SEM;
		m->sem_value = v & 0x7fffffff;
		m->sem_name = g_strconcat("/", path + 4, NULL);
		m->kind = "semaphore";
	}
	close(fd);
}

/* Who made object name (st), where the watcher saw it made. */
static void creator(const char *name, const struct stat *st, struct shm_meta *m)
{
	struct stat dir;
	pid_t pid;

	if (fstat(posix_dir_fd(), &dir) == 0 &&
	    shm_watch_posix_creator(dir.st_dev, dir.st_ino, name, st->st_ino,
				    &m->command, &m->creator_container,
				    &m->creator_container_name, &pid)) {
		m->have |= SHM_META_COMMAND;
		if (pid > 0) {
			m->cpid = pid;
			m->have |= SHM_META_CPID;
		}
	}
}

static int posix_meta(const char *path, unsigned want, struct shm_meta *m)
{
	struct stat st;
	int r = posix_lstat(path, &st);

	if (r)
		return r;
	if (!S_ISREG(st.st_mode))
		return -ENODATA;
	/* The kernel keeps no key, creator or attach count for these: who
	 * maps one is read from /proc, and only when asked; who made one is
	 * known where the watcher saw it made. */
	*m = (struct shm_meta){
		.have = SHM_META_SIZE | SHM_META_PERMS | SHM_META_OWNER |
			SHM_META_NATTCH | SHM_META_MAPPERS | SHM_META_PATH,
		.size = (uint64_t)st.st_size,
		.perms = st.st_mode & 07777,
		.uid = st.st_uid,
		.gid = st.st_gid,
		.path = g_strconcat(posix_dir_path(), "/", path, NULL),
	};
	if (!strchr(path, '/') && posix_is_semaphore(path))
		sem_value(path, m);
	if (!strchr(path, '/'))
		creator(path, &st, m);
	if (want & (SHM_META_NATTCH | SHM_META_MAPPERS))
		fdfile_mappers(st.st_dev, st.st_ino, want, m);
	return 0;
}

static int posix_open(const char *path, int flags, struct shm_handle **out)
{
	int fd;
	int r = SHM_AS_CALLER(posix_open_fd(path, flags, &fd));

	if (r == 0)
		*out = fdfile_handle(fd);
	return r;
}

static int create_as(const char *dir, const char *name, mode_t mode, int flags,
		     uid_t uid, gid_t gid, struct shm_handle **out)
{
	g_autofree char *path = NULL;
	struct posix_at at;
	struct stat parent;
	int fd, r;

	if (!posix_valid_name(name))
		return -EINVAL;
	path = dir[0] ? g_strconcat(dir, "/", name, NULL) : g_strdup(name);
	r = posix_at(path, &at);
	if (r)
		return r;
	/* Always exclusive: only a file this call made may be given to the
	 * caller's uid.  Had it appeared natively since the kernel's lookup,
	 * the caller's right to open it was never checked: say EEXIST. */
	fd = openat(at.fd, at.base,
		    O_CREAT | O_EXCL | (flags & O_ACCMODE) | O_NOFOLLOW |
			    O_CLOEXEC,
		    mode & 07777);
	r = fd < 0 ? -errno : 0;
	/* In a setgid directory the file takes the directory's group. */
	if (!r && fstat(at.fd, &parent) == 0 && (parent.st_mode & S_ISGID))
		gid = (gid_t)-1;
	if (!r)
		r = fdfile_adopt(fd, at.fd, at.base, mode, uid, gid, out);
	posix_at_done(&at);
	return r;
}

/* Made as the caller, in a directory the caller may write (sticky,
 * ACLs and all). */
static int posix_create(const char *dir, const char *name, mode_t mode,
			int flags, uid_t uid, gid_t gid,
			struct shm_handle **out)
{
	return SHM_AS_CALLER(create_as(dir, name, mode, flags, uid, gid, out));
}

static int posix_truncate(const char *path, struct shm_handle *h, uint64_t size)
{
	return SHM_AS_CALLER(fdfile_truncate(posix_open_fd, path, h, size));
}

static int remove_as(const char *path)
{
	struct posix_at at;
	int r = posix_at(path, &at);

	if (r)
		return r;
	r = unlinkat(at.fd, at.base, 0) < 0 ? -errno : 0;
	posix_at_done(&at);
	return r;
}

/* As the caller: /dev/shm is sticky. */
static int posix_remove(const char *path)
{
	return SHM_AS_CALLER(remove_as(path));
}

/* posix/: the POSIX directory's size and use (df's numbers) and how many
 * objects it holds. */
static int posix_dir_usage(const char *dir, struct shm_dir_usage *out)
{
	g_autoptr(GArray) objs = shm_dirents_new();
	struct statvfs sv;
	uint64_t n = 0;
	int r;

	if (dir[0])
		return -ENODATA;
	if (posix_dir_fd() < 0)
		return -ENOENT;
	if (fstatvfs(posix_dir_fd(), &sv) < 0)
		return -errno;
	r = posix_list("", objs);
	if (r)
		return r;
	for (guint i = 0; i < objs->len; i++) {
		const struct shm_attr *a =
			&g_array_index(objs, struct shm_dirent, i).attr;

		if (S_ISREG(a->mode) && !a->semaphore)
			n++;
	}
	*out = (struct shm_dir_usage){
		.have = SHM_DIR_FILES,
		.bytes_total = (uint64_t)sv.f_blocks * sv.f_frsize,
		.bytes_used =
			(uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize,
		.inodes_total = sv.f_files,
		.inodes_used = sv.f_files - sv.f_ffree,
		.objects = n,
	};
	return 0;
}

static int posix_statfs(struct shm_usage *acc)
{
	return fdfile_statfs(posix_dir_fd(), acc);
}

const struct shmfs_backend posix_backend = {
	.name = "posix",
	.segments = true,
	.init = posix_init,
	.fini = posix_fini,
	.list = posix_list,
	.stat = posix_stat,
	.meta = posix_meta,
	.open = posix_open,
	.create = posix_create,
	.close = fdfile_close,
	.fstat = fdfile_fstat,
	.read = fdfile_read,
	.write = fdfile_write,
	.write_changed = fdfile_write_changed,
	.fallocate = fdfile_fallocate,
	.seek = fdfile_seek,
	.truncate = posix_truncate,
	.remove = posix_remove,
	.setattr = posix_set,
	.tree = posix_tree,
	.readlink = posix_readlink,
	.backing = fdfile_backing,
	.statfs = posix_statfs,
	.dir_usage = posix_dir_usage,
};
