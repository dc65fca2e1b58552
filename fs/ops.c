/* ops.c - the FUSE low-level ops table, and the ops on names and
 * attributes: find the inode, call its backend, send exactly one reply.
 * Directories are in dir.c, open files and their I/O in file.c, xattrs in
 * xattr_ops.c.  Errors from backends arrive as -errno and become a reply
 * only in shmfs_reply_err() (reply.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fallback.h"
#include "killpriv.h"
#include "log.h"
#include "events.h"
#include "passthrough.h"

static void root_attr(fuse_req_t req, struct shm_attr *a)
{
	struct timespec t = shmfs_state_of(req)->started;

	*a = (struct shm_attr){
		.mode = S_IFDIR | 0755, .atime = t, .mtime = t, .ctime = t
	};
}

/* The backend path a link at `path` points to ("by-key/0x1" -> "../7"
 * gives "7"); NULL if it leaves the backend's directory. */
static char *link_target_path(const struct shmfs_inode *in)
{
	g_autofree char *target = NULL, *full = NULL;
	g_autofree char *dir = g_path_get_dirname(shmfs_inode_path(in));
	g_auto(GStrv) parts = NULL;
	GPtrArray *out;

	if (shm_be_readlink(in->be, shmfs_inode_path(in), &target) != 0 ||
	    target[0] == '/')
		return NULL;
	full = strcmp(dir, ".") == 0 ? g_strdup(target) :
				       g_strconcat(dir, "/", target, NULL);
	out = g_ptr_array_new();
	parts = g_strsplit(full, "/", -1);
	for (char **p = parts; *p; p++) {
		if (strcmp(*p, "..") == 0) {
			if (out->len == 0) {
				g_ptr_array_free(out, TRUE);
				return NULL;
			}
			g_ptr_array_remove_index(out, out->len - 1);
		} else if (**p && strcmp(*p, ".") != 0) {
			g_ptr_array_add(out, *p);
		}
	}
	g_ptr_array_add(out, NULL);
	char *joined = g_strjoinv("/", (char **)out->pdata);

	g_ptr_array_free(out, TRUE);
	return joined;
}

/* Attributes of what in names: through the caller's open file when it
 * gives one, else by name, else (removed, or removed and made again, but
 * still open) through any open file of the inode, as fstat on a removed
 * file works natively.  A file whose name has become a link (a pending
 * by-key/ file that is now a segment) is what the link points to. */
static int inode_attr(fuse_req_t req, struct shmfs_inode *in,
		      struct fuse_file_info *fi, struct shm_attr *a)
{
	struct shmfs_file *f = shmfs_file_of(fi);
	int r;

	if (!in->be) {
		root_attr(req, a);
		return 0;
	}
	if (f && f->inode->be == in->be)
		return in->be->fstat(f->h, a);
	r = in->be->stat(shmfs_inode_path(in), a);
	if (r == 0 && S_ISLNK(a->mode) && in->type == S_IFREG) {
		g_autofree char *target = link_target_path(in);

		r = target ? in->be->stat(target, a) : -ENOENT;
	}
	if (r == 0 && (a->mode & S_IFMT) != in->type)
		r = -ENOENT;
	/* The name now means another object: this inode's is removed.
	 * Unless it is still open, ESTALE makes the kernel look the name up
	 * again (as for a stale NFS handle) rather than fail the caller. */
	else if (r == 0 && shmfs_inode_other_object(in, a))
		r = -ESTALE;
	if (r == -ENOENT || r == -ESTALE) {
		int o = shmfs_file_fstat_any(in, a);

		if (o != -ENOENT)
			r = o;
	}
	return r;
}

int shmfs_inode_still_named(struct shmfs_inode *in)
{
	struct shm_attr a;
	int r;

	if (!in->be || !in->ident_dev)
		return 0;
	r = in->be->stat(shmfs_inode_path(in), &a);
	if (r == 0 && (a.gone || shmfs_inode_other_object(in, &a)))
		r = -ENOENT;
	return r;
}

static void shmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	shmfs_serve(req);
	const struct shmfs_backend *be;
	g_autofree char *path = NULL;
	struct fuse_entry_param e;
	struct shm_attr a;
	int r;

	r = shmfs_child_of(parent, name, &be, &path);
	if (r == 0)
		r = be->stat(path, &a);
	if (r == 0 && a.gone)
		r = -ENOENT;
	if (r)
		return shmfs_reply_err(req, r, "lookup", name);
	shmfs_fill_entry(req, &e, shmfs_inode_lookup(parent, be, path, &a), &a);
	fuse_reply_entry(req, &e);
}

/* Negotiate with the kernel: passthrough where it can and the mount
 * wants it; reads the daemon serves from a descriptor go fd -> pipe ->
 * /dev/fuse by splice instead of through a buffer. */
static void shmfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct shmfs_state *st = userdata;

	shmfs_io_want(conn, FUSE_CAP_SPLICE_WRITE);
	shmfs_io_want(conn, FUSE_CAP_SPLICE_MOVE);
	/* No security.capability asked before every write; setuid and
	 * setgid are then ours to clear (killpriv.h). */
	shmfs_io_want(conn, FUSE_CAP_HANDLE_KILLPRIV_V2);
	shmfs_io_negotiate(conn, st->passthrough);
}

/* A link listed within the attribute timeout answers with the target
 * its listing saw (dir.c), so that ls -l shows what it listed. */
static void shmfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);
	gint64 timeout_us = (gint64)(shmfs_state_of(req)->timeout * 1e6);
	g_autofree char *target = in ? shmfs_inode_link(in, timeout_us) : NULL;
	int r = 0;

	if (!in)
		r = -ENOENT;
	else if (!target)
		r = in->be ? shm_be_readlink(in->be, shmfs_inode_path(in),
					     &target) :
			     -EINVAL;
	if (r)
		return shmfs_reply_err(req, r, "readlink",
				       in ? shmfs_inode_path(in) : NULL);
	fuse_reply_readlink(req, target);
}

static void shmfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	shmfs_inode_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void shmfs_forget_multi(fuse_req_t req, size_t count,
			       struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		shmfs_inode_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void shmfs_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);
	struct shm_attr a = { 0 };
	struct stat st;
	int r = in ? inode_attr(req, in, fi, &a) : -ENOENT;

	/* A name removed natively since the kernel cached it: ESTALE, as
	 * open answers (file.c), so that a path walk that asked (a
	 * permission check refreshing the attributes) looks the name up
	 * again instead of failing with ENOENT (an open with O_CREAT then
	 * makes it); a stat of it still ends in ENOENT.  Not when asked
	 * through an open file (a read's refresh): nothing would look the
	 * name up again, and the caller gets ENOENT as before. */
	if (r == -ENOENT && in && in->be && !fi)
		r = -ESTALE;
	if (r)
		return shmfs_reply_err(req, r, "getattr",
				       in ? shmfs_inode_path(in) : NULL);
	shmfs_attr_to_stat(&a, ino, &st);
	fuse_reply_attr(req, &st,
			a.uncached ? 0 : shmfs_state_of(req)->timeout);
}

static struct timespec setattr_time(int valid, int set_bit, int now_bit,
				    struct timespec t)
{
	if (valid & now_bit)
		return (struct timespec){ .tv_nsec = UTIME_NOW };
	if (valid & set_bit)
		return t;
	return (struct timespec){ .tv_nsec = UTIME_OMIT };
}

/* Mode and owner, then size, then times: stops at the first error, so
 * that a refused change leaves the later ones undone.  Then setuid and
 * setgid where the kernel asks for them to be cleared (killpriv.h): a
 * SETATTR that changes nothing, or a truncate with FATTR_KILL_SUIDGID
 * (chown's own clearing is the backend's chown). */
static int setattr_apply(fuse_req_t req, struct shmfs_inode *in,
			 struct stat *attr, int valid,
			 struct fuse_file_info *fi)
{
	const struct shmfs_backend *be = in->be;
	struct shm_set set = { .mode = -1, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct timespec tv[2];
	int r = 0;

	if (valid & FUSE_SET_ATTR_MODE)
		set.mode = (int)(attr->st_mode & 07777);
	if (valid & FUSE_SET_ATTR_UID)
		set.uid = attr->st_uid;
	if (valid & FUSE_SET_ATTR_GID)
		set.gid = attr->st_gid;
	if (set.mode >= 0 || set.uid != (uid_t)-1 || set.gid != (gid_t)-1)
		r = shm_be_setattr(be, shmfs_inode_path(in), &set);
	if (!r && (valid & FUSE_SET_ATTR_SIZE)) {
		struct shmfs_file *f = shmfs_file_of(fi);

		r = shm_be_truncate(be, shmfs_inode_path(in), f ? f->h : NULL,
				    (uint64_t)attr->st_size);
		if (!r)
			shmfs_shadow_truncate(in, (uint64_t)attr->st_size);
	}
	if (!r && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		tv[0] = setattr_time(valid, FUSE_SET_ATTR_ATIME,
				     FUSE_SET_ATTR_ATIME_NOW, attr->st_atim);
		tv[1] = setattr_time(valid, FUSE_SET_ATTR_MTIME,
				     FUSE_SET_ATTR_MTIME_NOW, attr->st_mtim);
		r = shm_be_setattr(be, shmfs_inode_path(in),
				   &(struct shm_set){ .mode = -1,
						      .uid = (uid_t)-1,
						      .gid = (gid_t)-1,
						      .times = tv });
	}
	if (!r &&
	    (valid == 0 ||
	     ((valid & FUSE_SET_ATTR_SIZE) &&
	      (valid & (FUSE_SET_ATTR_KILL_SUID | FUSE_SET_ATTR_KILL_SGID)))))
		r = shmfs_kill_suidgid(req, in, false);
	return r;
}

static void shmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int valid, struct fuse_file_info *fi)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);
	struct shmfs_file *f = shmfs_file_of(fi);
	struct shm_attr a = { 0 };
	struct stat st;
	int r = in ? 0 : -ENOENT;

	if (r == 0 && (!in->be || !shmfs_inode_path(in)[0]))
		r = -EPERM; /* the directories are the mount's own */
	/* ftruncate acts through the caller's open file, as on a removed
	 * file natively; anything else by name, only while the name still
	 * means this inode's object. */
	if (r == 0 && !(f && f->inode == in))
		r = shmfs_inode_still_named(in);
	if (r == 0)
		r = setattr_apply(req, in, attr, valid, fi);
	if (r == 0)
		r = inode_attr(req, in, fi, &a);
	if (r)
		return shmfs_reply_err(req, r, "setattr",
				       in ? shmfs_inode_path(in) : NULL);
	shmfs_attr_to_stat(&a, ino, &st);
	fuse_reply_attr(req, &st, shmfs_state_of(req)->timeout);
}

/* The session ends (unmount or a signal) with files possibly still open:
 * detach and close them. */
static void shmfs_destroy(void *userdata)
{
	(void)userdata;
	shmfs_files_drain();
}

static void shmfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	shmfs_serve(req);
	const struct shmfs_backend *be;
	g_autofree char *path = NULL;
	int r = shmfs_child_of(parent, name, &be, &path);

	if (r == 0 && !path[0])
		r = -EPERM; /* a backend's own directory */
	if (r == 0)
		r = shm_be_remove(be, path);
	shmfs_reply_err(req, r, "unlink", name);
}

/* The filesystem a directory of files lives on (posix/, a namespace's
 * posix/) answers df for itself and everything beneath it, as a tmpfs
 * does: the size and use of that directory's filesystem.  0 and *sv, or
 * -ENODATA where the path is under no such directory. */
static int files_dir_statfs(struct shmfs_inode *in, struct statvfs *sv)
{
	g_autofree char *path = g_strdup(shmfs_inode_path(in));

	for (;;) {
		g_auto(shm_dir_usage) u = { 0 };
		char *slash;

		if (shm_be_dir_usage(in->be, path, &u) == 0 &&
		    (u.have & SHM_DIR_FILES)) {
			const unsigned long bs = 4096;

			*sv = (struct statvfs){
				.f_bsize = bs,
				.f_frsize = bs,
				.f_blocks = u.bytes_total / bs,
				.f_bfree = (u.bytes_total - u.bytes_used) / bs,
				.f_bavail = (u.bytes_total - u.bytes_used) / bs,
				.f_files = u.inodes_total,
				.f_ffree = u.inodes_total - u.inodes_used,
				.f_favail = u.inodes_total - u.inodes_used,
				.f_namemax = 255,
			};
			return 0;
		}
		if (!path[0])
			return -ENODATA;
		slash = strrchr(path, '/');
		if (slash)
			*slash = '\0';
		else
			path[0] = '\0';
	}
}

static void shmfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	shmfs_serve(req);
	g_autoptr(shmfs_inode) in = shmfs_inode_get(ino);
	struct shm_usage u = { 0 };
	struct statvfs sv = { 0 };
	const unsigned long bs = 4096;

	if (in && in->be && files_dir_statfs(in, &sv) == 0)
		return (void)fuse_reply_statfs(req, &sv);
	for (const struct shmfs_backend *const *b = shmfs_backends(); *b; b++) {
		int r = shm_be_statfs(*b, &u);

		if (r)
			shmfs_log("statfs %s: %s", (*b)->name, strerror(-r));
	}
	sv.f_bsize = bs;
	sv.f_frsize = bs;
	sv.f_blocks = u.total_bytes / bs;
	sv.f_bfree = u.used_bytes >= u.total_bytes ?
			     0 :
			     (u.total_bytes - u.used_bytes) / bs;
	sv.f_bavail = sv.f_bfree;
	sv.f_files = u.total_files;
	sv.f_ffree = u.free_files;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

/* clang-format off: aligned, as libfuse lays out its tables */
static const struct fuse_lowlevel_ops shmfs_ops = {
	.init = shmfs_init,
	.destroy = shmfs_destroy,
	.lookup = shmfs_lookup,
	.forget = shmfs_forget,
	.forget_multi = shmfs_forget_multi,
	.getattr = shmfs_getattr,
	.setattr = shmfs_setattr,
	.readlink = shmfs_readlink,
	.symlink = shmfs_symlink,
	.mknod = shmfs_mknod,
	.mkdir = shmfs_mkdir,
	.unlink = shmfs_unlink,
	.rmdir = shmfs_rmdir,
	.rename = shmfs_rename,
	.link = shmfs_link,
	.open = shmfs_open,
	.create = shmfs_create,
	.read = shmfs_read,
	.write = shmfs_write,
	.fsync = shmfs_fsync,
	.release = shmfs_release,
	.fallocate = shmfs_fallocate,
	.lseek = shmfs_lseek,
	.copy_file_range = shmfs_copy_file_range,
	.opendir = shmfs_opendir,
	.readdir = shmfs_readdir,
	.readdirplus = shmfs_readdirplus,
	.releasedir = shmfs_releasedir,
	.statfs = shmfs_statfs,
	.getxattr = shmfs_getxattr,
	.listxattr = shmfs_listxattr,
	.setxattr = shmfs_setxattr,
	.removexattr = shmfs_removexattr,
};
/* clang-format on */

const struct fuse_lowlevel_ops *shmfs_lowlevel_ops(void)
{
	return &shmfs_ops;
}
