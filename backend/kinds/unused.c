/* unused.c - unused/: one symlink per segment that nobody uses right now,
 * to find and clean leaks:
 *
 *   unused/sysv/ID     -> ../../sysv/ID     nattch 0, not marked for
 *                                           removal, mapped by nobody
 *   unused/posix/NAME  -> ../../posix/NAME  mapped by nobody and held open
 *                                           by nobody
 *
 * Through the mount counts as a use: a process that maps (or holds open)
 * a file of the mount uses the segment behind it.  A link's mtime is the
 * last time the kernel records the segment in use (System V: the last
 * detach, else the last change or creation; POSIX: the object's mtime),
 * so `find unused -mmin +60` finds what has been idle for an hour, and rm
 * of a link removes the segment only if it is still unused then (EBUSY
 * otherwise, and nothing changes).  Who uses what comes from the /proc
 * layer (procscan.h), with every process's descriptors too: only when
 * unused/ is listed or looked up, within its freshness bound, and afresh
 * for an rm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsctx.h"
#include "posix.h"
#include "proc/procscan.h"
#include "sysv.h"

#define SYSV_DIR "sysv"
#define POSIX_DIR "posix"

static struct timespec unused_started;

static int unused_init(const struct shmfs_config *cfg)
{
	(void)cfg;
	clock_gettime(CLOCK_REALTIME, &unused_started);
	return 0;
}

/* Who uses what (maps or holds open): a snapshot of the /proc layer no
 * older than its freshness bound, or (fresh, for an rm) begun now.  A
 * reference for the caller. */
static struct shm_proc *uses(bool fresh)
{
	return shm_proc_get(SHM_PROC_MAPS | SHM_PROC_FDS,
			    fresh ? SHM_PROC_NOW : SHM_PROC_FRESH_US);
}

static void dir_attr(struct shm_attr *a)
{
	*a = (struct shm_attr){ .mode = S_IFDIR | 0755,
				.atime = unused_started,
				.mtime = unused_started,
				.ctime = unused_started };
}

/* A link to target with the segment's owner and its last use as times. */
static void link_attr(struct shm_attr *a, const char *target, uid_t uid,
		      gid_t gid, struct timespec used, struct timespec changed)
{
	*a = (struct shm_attr){
		.mode = S_IFLNK | 0777,
		.uid = uid,
		.gid = gid,
		.size = strlen(target),
		.atime = used,
		.mtime = used,
		.ctime = changed,
	};
}

/* The name after "sysv/" or "posix/" in path, or NULL. */
static const char *name_in(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/' ? path + n + 1 :
							      NULL;
}

/* ---- System V ---- */

static bool sysv_unused(const struct shmid_ds *ds, int id, struct shm_proc *set)
{
	return ds->shm_nattch == 0 && !(ds->shm_perm.mode & SHM_DEST) &&
	       !shm_proc_in_use(set, 0, (ino_t)id, shm_ctx_ipc_ns());
}

/* Where unused/KIND/NAME leads: ../../KIND/NAME (in a buffer of the
 * calling thread's, valid until its next call). */
static const char *link_target(const char *kind, const char *name)
{
	static __thread char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "../../%s/%s", kind, name);
	return buf;
}

static void sysv_link_of(struct shm_attr *a, const struct shmid_ds *ds, int id)
{
	char target[32];
	struct timespec used = { .tv_sec = ds->shm_dtime ? ds->shm_dtime :
							   ds->shm_ctime };
	struct timespec changed = { .tv_sec = ds->shm_ctime };

	snprintf(target, sizeof(target), "../../" SYSV_DIR "/%d", id);
	link_attr(a, target, ds->shm_perm.uid, ds->shm_perm.gid, used, changed);
}

struct sysv_list_ctx {
	GArray *out;
	struct shm_proc *set;
};

static bool sysv_list_row(const struct sysv_row *r, void *arg)
{
	struct sysv_list_ctx *c = arg;
	struct shmid_ds ds = { 0 };
	struct shm_attr a;
	char name[16];

	ds.shm_perm.mode = r->mode;
	ds.shm_perm.uid = r->uid;
	ds.shm_perm.gid = r->gid;
	ds.shm_nattch = r->nattch;
	ds.shm_dtime = r->dtime;
	ds.shm_ctime = r->ctime;
	if (!sysv_unused(&ds, r->id, c->set))
		return false;
	sysv_link_of(&a, &ds, r->id);
	snprintf(name, sizeof(name), "%d", r->id);
	shm_dirents_add_link(c->out, name, &a, link_target(SYSV_DIR, name));
	return false;
}

static int sysv_stat_unused(const char *name, struct shm_attr *a,
			    struct shm_proc *set)
{
	struct shmid_ds ds;
	int id = sysv_parse_id(name);
	int r = sysv_ipc_stat(id, &ds);

	if (r)
		return r;
	if (!sysv_unused(&ds, id, set))
		return -ENOENT;
	sysv_link_of(a, &ds, id);
	return 0;
}

/* IPC_RMID if still unused, checked at the last moment: a process that
 * attached (or mapped it through the mount) since gets EBUSY, and the
 * segment stays as it was. */
static int sysv_remove_unused(const char *name)
{
	g_autoptr(shm_proc) set = uses(true);
	struct shmid_ds ds;
	int id = sysv_parse_id(name);
	int r = sysv_ipc_stat(id, &ds);

	if (r)
		return r;
	if (!sysv_unused(&ds, id, set))
		return -EBUSY;
	r = sysv_ipc_stat(id, &ds);
	if (r)
		return r;
	if (ds.shm_nattch)
		return -EBUSY;
	return shmctl(id, IPC_RMID, NULL) < 0 ? sysv_errno(errno) : 0;
}

/* ---- POSIX ---- */

static bool posix_unused(const struct shm_attr *a, struct shm_proc *set)
{
	return !shm_proc_in_use(set, (dev_t)a->ident_dev, (ino_t)a->ident_ino,
				(ino_t)a->ident_ns);
}

static void posix_link_of(struct shm_attr *link, const char *name,
			  const struct shm_attr *obj)
{
	g_autofree char *target =
		g_strconcat("../../" POSIX_DIR "/", name, NULL);

	link_attr(link, target, obj->uid, obj->gid, obj->mtime, obj->ctime);
}

static int posix_stat_unused(const char *name, struct shm_attr *a,
			     struct shm_proc *set)
{
	struct shm_attr obj;
	int r = posix_backend.stat(name, &obj);

	if (r)
		return r;
	if (!S_ISREG(obj.mode) || !posix_unused(&obj, set))
		return -ENOENT;
	posix_link_of(a, name, &obj);
	return 0;
}

/* unlink if still unused.  The object is first renamed out of sight, so
 * that nobody can open it by name while the scan looks for users; if one
 * is found it gets its name back and rm fails with EBUSY. */
static int posix_remove_unused(const char *name)
{
	int dirfd = posix_dir_fd();
	struct shm_attr obj;
	char hidden[64];
	struct stat st;
	int r = posix_backend.stat(name, &obj);

	if (r)
		return r;
	snprintf(hidden, sizeof(hidden), ".shmfs-rm-%llu-%d",
		 (unsigned long long)obj.ident_ino, (int)getpid());
	if (renameat2(dirfd, name, dirfd, hidden, RENAME_NOREPLACE) < 0)
		return -errno;
	/* Still the object that was looked at (not made again meanwhile)? */
	if (fstatat(dirfd, hidden, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (uint64_t)st.st_ino == obj.ident_ino) {
		g_autoptr(shm_proc) set = uses(true);

		if (posix_unused(&obj, set))
			return unlinkat(dirfd, hidden, 0) < 0 ? -errno : 0;
	}
	/* In use (or replaced): give the name back, and nothing changed. */
	if (renameat2(dirfd, hidden, dirfd, name, RENAME_NOREPLACE) < 0)
		return -errno;
	return -EBUSY;
}

/* ---- the backend ---- */

static int unused_list(const char *dir, GArray *out)
{
	g_autoptr(shm_proc) set = NULL;
	struct shm_attr a;

	if (!dir[0]) {
		dir_attr(&a);
		shm_dirents_add(out, SYSV_DIR, &a);
		shm_dirents_add(out, POSIX_DIR, &a);
		return 0;
	}
	if (strcmp(dir, SYSV_DIR) == 0) {
		struct sysv_list_ctx c = { out, set = uses(false) };

		return sysv_scan(sysv_list_row, &c);
	}
	if (strcmp(dir, POSIX_DIR) == 0) {
		g_autoptr(GArray) objs = shm_dirents_new();
		int r = posix_backend.list("", objs);

		if (r)
			return r;
		set = uses(false);
		for (guint i = 0; i < objs->len; i++) {
			struct shm_dirent *d =
				&g_array_index(objs, struct shm_dirent, i);

			/* Objects and semaphores: the directory's own regular
			 * files (posix.h). */
			if (!S_ISREG(d->attr.mode) ||
			    !posix_unused(&d->attr, set))
				continue;
			posix_link_of(&a, d->name, &d->attr);
			shm_dirents_add_link(out, d->name, &a,
					     link_target(POSIX_DIR, d->name));
		}
		return 0;
	}
	return name_in(dir, SYSV_DIR) || name_in(dir, POSIX_DIR) ? -ENOTDIR :
								   -ENOENT;
}

static int unused_stat(const char *path, struct shm_attr *out)
{
	g_autoptr(shm_proc) set = NULL;
	const char *name;

	if (!path[0] || strcmp(path, SYSV_DIR) == 0 ||
	    strcmp(path, POSIX_DIR) == 0) {
		dir_attr(out);
		return 0;
	}
	if ((name = name_in(path, SYSV_DIR))) {
		set = uses(false);
		return sysv_stat_unused(name, out, set);
	}
	if ((name = name_in(path, POSIX_DIR)) && posix_valid_name(name)) {
		set = uses(false);
		return posix_stat_unused(name, out, set);
	}
	return -ENOENT;
}

static int unused_readlink(const char *path, char **out)
{
	struct shm_attr a;
	const char *name;
	int r = unused_stat(path, &a);

	if (r)
		return r;
	if ((name = name_in(path, SYSV_DIR)))
		*out = g_strdup(link_target(SYSV_DIR, name));
	else if ((name = name_in(path, POSIX_DIR)))
		*out = g_strdup(link_target(POSIX_DIR, name));
	else
		return -EINVAL;
	return 0;
}

static int unused_remove(const char *path)
{
	const char *name;

	if ((name = name_in(path, SYSV_DIR)))
		return sysv_remove_unused(name);
	if ((name = name_in(path, POSIX_DIR)) && posix_valid_name(name))
		return posix_remove_unused(name);
	return -ENOENT;
}

/* Nothing else can be done to a link here: the segments are changed
 * where the links lead (backend.h answers for the operations left out:
 * no metadata, nothing to open, create, truncate or set, nothing counted
 * by statfs that the kinds do not count already). */
const struct shmfs_backend unused_backend = {
	.name = "unused",
	.init = unused_init,
	.list = unused_list,
	.stat = unused_stat,
	.readlink = unused_readlink,
	.remove = unused_remove,
};
