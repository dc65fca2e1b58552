/* ops.c - the FUSE low-level ops table, and the ops on names, attributes
 * and xattrs: find the node, call its backend, send exactly one reply.
 * Directories are in dir.c, open files and their I/O in file.c.  Errors
 * from backends arrive as -errno and become a reply only in
 * shmfs_reply_err(). */
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
#include "log.h"
#include "metrics.h"
#include "passthrough.h"
#include "xattr.h"

/* The errnos a backend gives in the normal course of things. */
static bool errno_expected(int err)
{
	switch (err) {
	case 0:
	case ENOENT:
	case EACCES:
	case EPERM:
	case EINVAL:
	case ENOSPC:
	case EFBIG:
	case EEXIST:
	case ENODATA:
	case ERANGE:
	case ENOTSUP:
	case ENOTDIR:
	case EISDIR:
	case EXDEV:
	case ENAMETOOLONG:
	case ENOTEMPTY:
	case ESTALE:
		return true;
	default:
		return false;
	}
}

void shmfs_reply_err(fuse_req_t req, int r, const char *op, const char *path)
{
	int err = r < 0 ? -r : r;

	shmfs_metrics_error(err);
	if (err && (shmfs_log_verbose() || !errno_expected(err)))
		shmfs_log("%s %s: %s", op, path ? path : "", strerror(err));
	fuse_reply_err(req, err);
}

void shmfs_attr_to_stat(const struct shm_attr *a, fuse_ino_t ino,
			struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink_set ? a->nlink : S_ISDIR(a->mode) ? 2 : 1;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = 4096;
	st->st_atim = a->atime;
	st->st_mtim = a->mtime;
	st->st_ctim = a->ctime;
}

static void root_attr(fuse_req_t req, struct shm_attr *a)
{
	struct timespec t = shmfs_state_of(req)->started;

	*a = (struct shm_attr){
		.mode = S_IFDIR | 0755, .atime = t, .mtime = t, .ctime = t
	};
}

/* The backend path a link at `path` points to ("by-key/0x1" -> "../7"
 * gives "7"); NULL if it leaves the backend's directory. */
static char *link_target_path(const struct shmfs_ref *ref)
{
	g_autofree char *target = NULL, *full = NULL;
	g_autofree char *dir = g_path_get_dirname(ref->path);
	g_auto(GStrv) parts = NULL;
	GPtrArray *out;

	if (!ref->be->readlink || ref->be->readlink(ref->path, &target) != 0 ||
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

/* Attributes of what ref names: through the caller's open file when it
 * gives one, else by name, else (removed, or removed and made again, but
 * still open) through any open file of the inode, as fstat on a removed
 * file works natively.  A file
 * whose name has become a link (a pending by-key/ file that is now a
 * segment) is what the link points to. */
static int ref_attr(fuse_req_t req, fuse_ino_t ino, const struct shmfs_ref *ref,
		    struct fuse_file_info *fi, struct shm_attr *a)
{
	struct shmfs_file *f = shmfs_file_of(fi);
	int r;

	if (!ref->be) {
		root_attr(req, a);
		return 0;
	}
	if (f && f->be == ref->be)
		return f->be->fstat(f->h, a);
	r = ref->be->stat(ref->path, a);
	if (r == 0 && S_ISLNK(a->mode) && ref->type == S_IFREG) {
		g_autofree char *target = link_target_path(ref);

		r = target ? ref->be->stat(target, a) : -ENOENT;
	}
	if (r == 0 && (a->mode & S_IFMT) != ref->type)
		r = -ENOENT;
	/* The name now means another object: this inode's is removed.
	 * Unless it is still open, ESTALE makes the kernel look the name up
	 * again (as for a stale NFS handle) rather than fail the caller. */
	else if (r == 0 && shmfs_ref_other_object(ref, a))
		r = -ESTALE;
	if (r == -ENOENT || r == -ESTALE) {
		int o = shmfs_io_fstat(ino, a);

		if (o != -ENOENT)
			r = o;
	}
	return r;
}

void shmfs_fill_entry(fuse_req_t req, struct fuse_entry_param *e,
		      fuse_ino_t ino, const struct shm_attr *a)
{
	double t = shmfs_state_of(req)->timeout;

	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->attr_timeout = t;
	e->entry_timeout = t;
	shmfs_attr_to_stat(a, ino, &e->attr);
}

const struct shmfs_backend *shmfs_backend_named(const char *name)
{
	for (const struct shmfs_backend *const *b = shmfs_backends(); *b; b++)
		if (strcmp((*b)->name, name) == 0)
			return *b;
	return NULL;
}

int shmfs_root_child(const char *name, const struct shmfs_backend **be,
		     char **path)
{
	if (shmfs_metrics_name(name)) {
		*be = &shmfs_metrics_file;
		*path = g_strdup(name);
		return 0;
	}
	*be = shmfs_backend_named(name);
	*path = g_strdup("");
	return *be ? 0 : -ENOENT;
}

int shmfs_name_ok(const char *name)
{
	/* The kernel lets FUSE names reach 1024 bytes; tmpfs stops at
	 * NAME_MAX, and so does every call here. */
	return strlen(name) > NAME_MAX ? -ENAMETOOLONG : 0;
}

int shmfs_child_of(fuse_ino_t parent, const char *name,
		   const struct shmfs_backend **be, char **path)
{
	g_auto(shmfs_ref) ref = { 0 };
	int r = shmfs_name_ok(name);

	if (r == 0)
		r = shmfs_node_ref(parent, &ref);
	if (r)
		return r;
	if (!ref.be)
		return shmfs_root_child(name, be, path);
	*be = ref.be;
	*path = shmfs_child_path(ref.path, name);
	return 0;
}

static void shmfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
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
	shmfs_fill_entry(req, &e, shmfs_node_lookup(be, path, &a), &a);
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
	shmfs_io_negotiate(conn, st->passthrough);
}

static void shmfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	g_auto(shmfs_ref) ref = { 0 };
	g_autofree char *target = NULL;
	int r = shmfs_node_ref(ino, &ref);

	if (r == 0)
		r = ref.be && ref.be->readlink ?
			    ref.be->readlink(ref.path, &target) :
			    -EINVAL;
	if (r)
		return shmfs_reply_err(req, r, "readlink", ref.path);
	fuse_reply_readlink(req, target);
}

static void shmfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			  const char *name)
{
	(void)link, (void)parent;
	shmfs_reply_err(req, -EPERM, "symlink", name);
}

static void shmfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	shmfs_node_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void shmfs_forget_multi(fuse_req_t req, size_t count,
			       struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		shmfs_node_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void shmfs_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	g_auto(shmfs_ref) ref = { 0 };
	struct shm_attr a = { 0 };
	struct stat st;
	int r = shmfs_node_ref(ino, &ref);

	if (r == 0)
		r = ref_attr(req, ino, &ref, fi, &a);
	if (r)
		return shmfs_reply_err(req, r, "getattr", ref.path);
	shmfs_attr_to_stat(&a, ino, &st);
	fuse_reply_attr(req, &st, shmfs_state_of(req)->timeout);
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
 * that a refused change leaves the later ones undone. */
static int setattr_apply(fuse_ino_t ino, const struct shmfs_ref *ref,
			 struct stat *attr, int valid,
			 struct fuse_file_info *fi)
{
	const struct shmfs_backend *be = ref->be;
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
		r = be->setattr(ref->path, &set);
	if (!r && (valid & FUSE_SET_ATTR_SIZE)) {
		struct shmfs_file *f = shmfs_file_of(fi);

		r = be->truncate(ref->path, f ? f->h : NULL,
				 (uint64_t)attr->st_size);
		if (!r)
			shmfs_shadow_truncate(ino, (uint64_t)attr->st_size);
	}
	if (!r && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		tv[0] = setattr_time(valid, FUSE_SET_ATTR_ATIME,
				     FUSE_SET_ATTR_ATIME_NOW, attr->st_atim);
		tv[1] = setattr_time(valid, FUSE_SET_ATTR_MTIME,
				     FUSE_SET_ATTR_MTIME_NOW, attr->st_mtim);
		r = be->setattr(ref->path, &(struct shm_set){ .mode = -1,
							      .uid = (uid_t)-1,
							      .gid = (gid_t)-1,
							      .times = tv });
	}
	return r;
}

static void shmfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int valid, struct fuse_file_info *fi)
{
	g_auto(shmfs_ref) ref = { 0 };
	struct shm_attr a = { 0 };
	struct stat st;
	int r = shmfs_node_ref(ino, &ref);

	if (r == 0 && (!ref.be || !ref.path[0]))
		r = -EPERM; /* the directories are the mount's own */
	if (r == 0)
		r = setattr_apply(ino, &ref, attr, valid, fi);
	if (r == 0)
		r = ref_attr(req, ino, &ref, fi, &a);
	if (r)
		return shmfs_reply_err(req, r, "setattr", ref.path);
	shmfs_attr_to_stat(&a, ino, &st);
	fuse_reply_attr(req, &st, shmfs_state_of(req)->timeout);
}

/* The session ends (unmount or a signal) with files possibly still open:
 * detach and close them. */
static void shmfs_destroy(void *userdata)
{
	(void)userdata;
	shmfs_io_drain();
}

static void shmfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const struct shmfs_backend *be;
	g_autofree char *path = NULL;
	int r = shmfs_child_of(parent, name, &be, &path);

	if (r == 0 && !path[0])
		r = -EPERM; /* a backend's own directory */
	if (r == 0)
		r = be->remove(path);
	shmfs_reply_err(req, r, "unlink", name);
}

static void shmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	shmfs_reply_err(req, -EPERM, "rmdir", name);
}

static void shmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode)
{
	(void)parent, (void)mode;
	shmfs_reply_err(req, -EPERM, "mkdir", name);
}

static void shmfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	(void)parent, (void)newparent, (void)newname, (void)flags;
	/* EXDEV makes mv copy and remove, which works wherever create does. */
	shmfs_reply_err(req, -EXDEV, "rename", name);
}

static void shmfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct shm_usage u = { 0 };
	struct statvfs sv = { 0 };
	const unsigned long bs = 4096;

	(void)ino;
	for (const struct shmfs_backend *const *b = shmfs_backends(); *b; b++) {
		int r = (*b)->statfs(&u);

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

/* The metadata of a segment, with the costly fields in `want`;
 * -ENODATA for directories. */
static int ino_meta(fuse_ino_t ino, unsigned want, struct shmfs_ref *ref,
		    struct shm_meta *m)
{
	int r = shmfs_node_ref(ino, ref);

	if (r)
		return r;
	if (!ref->be || ref->type != S_IFREG)
		return -ENODATA;
	return ref->be->meta(ref->path, want, m);
}

/* user.shm.io: the data path of a file's opens (passthrough.h), and at
 * the mount's root the path of the mount.  Into s when given; -ENODATA
 * for other directories and links. */
static int io_xattr(fuse_ino_t ino, GString *s)
{
	g_auto(shmfs_ref) ref = { 0 };
	int r = shmfs_node_ref(ino, &ref);

	if (r)
		return r;
	if (ref.be && ref.type != S_IFREG)
		return -ENODATA;
	if (s)
		g_string_append(s, ref.be ? shmfs_io_name(ino) :
				   shmfs_io_mount_passthrough() ?
					    "passthrough" :
					    "fallback");
	return 0;
}

/* The limits and use of a kind's directory (sysv/, posix/); -ENODATA for
 * every other inode. */
static int ino_dir_usage(fuse_ino_t ino, struct shm_dir_usage *u)
{
	g_auto(shmfs_ref) ref = { 0 };
	int r = shmfs_node_ref(ino, &ref);

	if (r)
		return r;
	if (!ref.be || ref.type != S_IFDIR || !ref.be->dir_usage)
		return -ENODATA;
	return ref.be->dir_usage(ref.path, u);
}

/* Reply with text, or its length when size is 0 (the xattr protocol). */
static void reply_xattr_text(fuse_req_t req, const GString *s, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, s->len);
	else if (size < s->len)
		shmfs_reply_err(req, -ERANGE, "xattr", NULL);
	else
		fuse_reply_buf(req, s->str, s->len);
}

static void shmfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   size_t size)
{
	g_auto(shmfs_ref) ref = { 0 };
	g_autoptr(GString) s = g_string_new(NULL);
	g_auto(shm_meta) m = { 0 };
	g_auto(shm_dir_usage) u = { 0 };
	int r;

	/* ls -l asks every file for security.selinux and its ACL: "not
	 * supported" for the namespaces we keep nothing in, which ls
	 * remembers for the whole filesystem (one round trip per listing,
	 * not two per file); "no such attribute" for other user.* names.
	 * No backend call either way. */
	if (strncmp(name, "user.", 5) != 0)
		return shmfs_reply_err(req, -ENOTSUP, "getxattr", name);
	if (strncmp(name, "user.shm.", 9) != 0)
		return shmfs_reply_err(req, -ENODATA, "getxattr", name);
	if (strcmp(name, SHMFS_XATTR_IO) == 0)
		r = io_xattr(ino, s);
	else if ((r = ino_meta(ino, shmfs_xattr_need(name), &ref, &m)) == 0)
		r = shmfs_xattr_get(m.kind ? m.kind : ref.be->name, &m, name,
				    s);
	else if (r == -ENODATA && (r = ino_dir_usage(ino, &u)) == 0)
		r = shmfs_xattr_dir_get(&u, name, s);
	if (r)
		return shmfs_reply_err(req, r, "getxattr", ref.path);
	reply_xattr_text(req, s, size);
}

static void shmfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	g_auto(shmfs_ref) ref = { 0 };
	g_autoptr(GString) s = g_string_new(NULL);
	g_auto(shm_dir_usage) u = { 0 };
	g_auto(shm_meta) m = { 0 };
	int r = ino_meta(ino, 0, &ref, &m);

	if (r == 0)
		shmfs_xattr_list(m.kind ? m.kind : ref.be->name, &m, s);
	else if (r != -ENODATA)
		return shmfs_reply_err(req, r, "listxattr", ref.path);
	else if (ino_dir_usage(ino, &u) == 0)
		shmfs_xattr_dir_list(&u, s);
	if (io_xattr(ino, NULL) == 0)
		g_string_append_len(s, SHMFS_XATTR_IO, sizeof(SHMFS_XATTR_IO));
	reply_xattr_text(req, s, size);
}

/* The user.shm.* names are read-only views and there are no others.
 * ENOTSUP (not EPERM) so that cp -a and mv, which copy xattrs, stay quiet. */
static void shmfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   const char *value, size_t size, int flags)
{
	(void)ino, (void)value, (void)size, (void)flags;
	shmfs_reply_err(req, -ENOTSUP, "setxattr", name);
}

static void shmfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	shmfs_reply_err(req, -ENOTSUP, "removexattr", name);
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
	.open = shmfs_open,
	.create = shmfs_create,
	.read = shmfs_read,
	.write = shmfs_write,
	.flush = shmfs_flush,
	.fsync = shmfs_fsync,
	.release = shmfs_release,
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
