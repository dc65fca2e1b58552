/* ops.c - the FUSE low-level operations: find the node, call its backend,
 * send exactly one reply.  Errors from backends arrive as -errno and are
 * turned into a reply only in reply_err(). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "shadow.h"
#include "shmfs.h"
#include "xattr.h"

/* fi->fh is one of these two; `kind` tells which (setattr may pass a
 * directory's handle). */
enum { SHMFS_FH_FILE = 1, SHMFS_FH_DIR };

/* An open file. */
struct shmfs_file {
	int kind; /* SHMFS_FH_FILE */
	fuse_ino_t ino;
	const struct shmfs_backend *be;
	struct shm_handle *h;
	bool writer; /* opened for writing: counted in shadow.c */
};

/* An open directory: a snapshot of its entries, so offsets stay valid. */
struct shmfs_dir {
	int kind; /* SHMFS_FH_DIR */
	const struct shmfs_backend *be; /* of the entries; NULL at the root */
	char *path;
	GArray *ents; /* struct shm_dirent, "." and ".." first */
};

static struct shmfs_state *state_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The open file behind fi, or NULL (no handle, or a directory's). */
static struct shmfs_file *file_of(const struct fuse_file_info *fi)
{
	struct shmfs_file *f = fi ? (struct shmfs_file *)fi->fh : NULL;

	return f && f->kind == SHMFS_FH_FILE ? f : NULL;
}

/* The errnos a backend gives in the normal course of things. */
static bool errno_expected(int err)
{
	switch (err) {
	case 0: case ENOENT: case EACCES: case EPERM: case EINVAL: case ENOSPC:
	case EFBIG: case EEXIST: case ENODATA: case ERANGE: case ENOTSUP:
	case ENOTDIR: case EISDIR: case EXDEV: case ENAMETOOLONG:
	case ENOTEMPTY:
		return true;
	default:
		return false;
	}
}

/* The one place a backend's -errno becomes a reply. */
static void reply_err(fuse_req_t req, int r, const char *op, const char *path)
{
	int err = r < 0 ? -r : r;

	if (err && (shmfs_log_verbose() || !errno_expected(err)))
		shmfs_log("%s %s: %s", op, path ? path : "", strerror(err));
	fuse_reply_err(req, err);
}

static void attr_to_stat(const struct shm_attr *a, fuse_ino_t ino,
			 struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = a->mode;
	st->st_nlink = S_ISDIR(a->mode) ? 2 : 1;
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
	struct timespec t = state_of(req)->started;

	*a = (struct shm_attr){ .mode = S_IFDIR | 0755,
				.atime = t, .mtime = t, .ctime = t };
}

static int file_fstat(void *file, void *a)
{
	struct shmfs_file *f = file;

	return f->be->fstat(f->h, a);
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
	full = strcmp(dir, ".") == 0 ? g_strdup(target)
				     : g_strconcat(dir, "/", target, NULL);
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
 * gives one, else by name, else (removed but still open) through any open
 * file of the inode, as fstat on a removed file works natively.  A file
 * whose name has become a link (a pending by-key/ file that is now a
 * segment) is what the link points to. */
static int ref_attr(fuse_req_t req, fuse_ino_t ino,
		    const struct shmfs_ref *ref, struct fuse_file_info *fi,
		    struct shm_attr *a)
{
	struct shmfs_file *f = file_of(fi);
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
	if (r == -ENOENT)
		r = shmfs_node_with_file(ino, file_fstat, a);
	return r;
}

static void fill_entry(fuse_req_t req, struct fuse_entry_param *e,
		       fuse_ino_t ino, const struct shm_attr *a)
{
	double t = state_of(req)->timeout;

	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->attr_timeout = t;
	e->entry_timeout = t;
	attr_to_stat(a, ino, &e->attr);
}

static const struct shmfs_backend *backend_named(const char *name)
{
	for (const struct shmfs_backend *const *b = shmfs_backends(); *b; b++)
		if (strcmp((*b)->name, name) == 0)
			return *b;
	return NULL;
}

/* Resolve (parent, name) to a backend and a backend-relative path. */
static int child_of(fuse_ino_t parent, const char *name,
		    const struct shmfs_backend **be, char **path)
{
	g_auto(shmfs_ref) ref = { 0 };
	int r = shmfs_node_ref(parent, &ref);

	if (r)
		return r;
	if (!ref.be) {
		*be = backend_named(name);
		*path = g_strdup("");
		return *be ? 0 : -ENOENT;
	}
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

	r = child_of(parent, name, &be, &path);
	if (r == 0)
		r = be->stat(path, &a);
	if (r == 0 && a.gone)
		r = -ENOENT;
	if (r)
		return reply_err(req, r, "lookup", name);
	fill_entry(req, &e, shmfs_node_lookup(be, path, a.mode), &a);
	fuse_reply_entry(req, &e);
}

/* Negotiate with the kernel: reads from a POSIX object or mapped file go
 * fd -> pipe -> /dev/fuse by splice instead of through a buffer. */
static void shmfs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_SPLICE_MOVE)
		conn->want |= FUSE_CAP_SPLICE_MOVE;
}

static void shmfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	g_auto(shmfs_ref) ref = { 0 };
	g_autofree char *target = NULL;
	int r = shmfs_node_ref(ino, &ref);

	if (r == 0)
		r = ref.be && ref.be->readlink ?
			    ref.be->readlink(ref.path, &target) : -EINVAL;
	if (r)
		return reply_err(req, r, "readlink", ref.path);
	fuse_reply_readlink(req, target);
}

static void shmfs_symlink(fuse_req_t req, const char *link,
			  fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent;
	reply_err(req, -EPERM, "symlink", name);
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
		return reply_err(req, r, "getattr", ref.path);
	attr_to_stat(&a, ino, &st);
	fuse_reply_attr(req, &st, state_of(req)->timeout);
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

/* chmod, chown, truncate and utimens, in that order; stops at the first
 * error so that a refused change leaves the others undone. */
static int setattr_apply(fuse_ino_t ino, const struct shmfs_ref *ref,
			 struct stat *attr, int valid,
			 struct fuse_file_info *fi)
{
	const struct shmfs_backend *be = ref->be;
	int r = 0;

	if (valid & FUSE_SET_ATTR_MODE)
		r = be->chmod(ref->path, attr->st_mode & 07777);
	if (!r && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = be->chown(ref->path,
			      (valid & FUSE_SET_ATTR_UID) ? attr->st_uid
							  : (uid_t)-1,
			      (valid & FUSE_SET_ATTR_GID) ? attr->st_gid
							  : (gid_t)-1);
	if (!r && (valid & FUSE_SET_ATTR_SIZE)) {
		struct shmfs_file *f = file_of(fi);

		r = be->truncate(ref->path, f ? f->h : NULL,
				 (uint64_t)attr->st_size);
		if (!r)
			shmfs_shadow_truncate(ino, (uint64_t)attr->st_size);
	}
	if (!r && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		struct timespec tv[2] = {
			setattr_time(valid, FUSE_SET_ATTR_ATIME,
				     FUSE_SET_ATTR_ATIME_NOW, attr->st_atim),
			setattr_time(valid, FUSE_SET_ATTR_MTIME,
				     FUSE_SET_ATTR_MTIME_NOW, attr->st_mtim),
		};

		r = be->utimens(ref->path, tv);
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
		return reply_err(req, r, "setattr", ref.path);
	attr_to_stat(&a, ino, &st);
	fuse_reply_attr(req, &st, state_of(req)->timeout);
}

static void dir_free(struct shmfs_dir *d)
{
	if (!d)
		return;
	g_array_unref(d->ents);
	g_free(d->path);
	g_free(d);
}

typedef struct shmfs_dir shmfs_dir;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(shmfs_dir, dir_free)

static void dir_add_dots(struct shmfs_dir *d)
{
	struct shm_attr dot = { .mode = S_IFDIR };

	shm_dirents_add(d->ents, ".", &dot);
	shm_dirents_add(d->ents, "..", &dot);
}

/* The mount's root lists one directory per backend. */
static int dir_fill_root(struct shmfs_dir *d)
{
	struct shm_attr a;

	for (const struct shmfs_backend *const *b = shmfs_backends(); *b;
	     b++) {
		if ((*b)->stat("", &a) == 0)
			shm_dirents_add(d->ents, (*b)->name, &a);
	}
	return 0;
}

static void shmfs_opendir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	g_auto(shmfs_ref) ref = { 0 };
	g_autoptr(shmfs_dir) d = NULL;
	int r = shmfs_node_ref(ino, &ref);

	if (r)
		return reply_err(req, r, "opendir", NULL);
	d = g_new0(struct shmfs_dir, 1);
	d->kind = SHMFS_FH_DIR;
	d->be = ref.be;
	d->path = g_strdup(ref.path);
	d->ents = shm_dirents_new();
	dir_add_dots(d);
	r = ref.be ? ref.be->list(ref.path, d->ents) : dir_fill_root(d);
	if (r)
		return reply_err(req, r, "opendir", ref.path);
	fi->fh = (uint64_t)(uintptr_t)g_steal_pointer(&d);
	if (fuse_reply_open(req, fi) == -ENOENT)
		dir_free((struct shmfs_dir *)fi->fh); /* interrupted */
}

static bool is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* Where an entry of d lives: (backend, path) for a lookup. */
static void dir_child(const struct shmfs_dir *d, const char *name,
		      const struct shmfs_backend **be, char **path)
{
	if (d->be) {
		*be = d->be;
		*path = shmfs_child_path(d->path, name);
	} else {
		*be = backend_named(name);
		*path = g_strdup("");
	}
}

static void do_readdir(fuse_req_t req, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct shmfs_dir *d = (struct shmfs_dir *)fi->fh;
	g_autofree char *buf = g_malloc(size);
	size_t pos = 0;

	for (guint i = (guint)off; i < d->ents->len; i++) {
		struct shm_dirent *de = &g_array_index(d->ents, struct shm_dirent,
							i);
		const struct shmfs_backend *be;
		g_autofree char *path = NULL;
		struct fuse_entry_param e;
		fuse_ino_t ino = 0;
		size_t n;

		if (plus && !is_dot(de->name)) {
			dir_child(d, de->name, &be, &path);
			ino = shmfs_node_lookup(be, path, de->attr.mode);
		}
		fill_entry(req, &e, ino, &de->attr);
		if (!plus || is_dot(de->name)) {
			/* glibc skips d_ino 0: give any non-zero number. */
			e.attr.st_ino = FUSE_ROOT_ID;
			e.ino = 0;
		}
		n = plus ? fuse_add_direntry_plus(req, buf + pos, size - pos,
						  de->name, &e, i + 1)
			 : fuse_add_direntry(req, buf + pos, size - pos,
					     de->name, &e.attr, i + 1);
		if (n > size - pos) {
			if (ino)
				shmfs_node_forget(ino, 1);
			break;
		}
		pos += n;
	}
	fuse_reply_buf(req, buf, pos);
}

static void shmfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			  off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, off, fi, false);
}

static void shmfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			      off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	do_readdir(req, size, off, fi, true);
}

static void shmfs_releasedir(fuse_req_t req, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	(void)ino;
	dir_free((struct shmfs_dir *)fi->fh);
	fuse_reply_err(req, 0);
}

/* Close an open file that is no longer in the node table. */
static void file_free(void *file)
{
	struct shmfs_file *f = file;

	if (f->writer)
		shmfs_shadow_close(f->ino);
	f->be->close(f->h);
	g_free(f);
}

/* Hand h to the kernel as fi->fh; close it if the open was interrupted. */
static void reply_open(fuse_req_t req, fuse_ino_t ino,
		       const struct shmfs_backend *be, struct shm_handle *h,
		       struct fuse_file_info *fi, const struct shm_attr *created)
{
	struct shmfs_file *f = g_new0(struct shmfs_file, 1);
	struct fuse_entry_param e;
	int r;

	f->kind = SHMFS_FH_FILE;
	f->ino = ino;
	f->be = be;
	f->h = h;
	f->writer = (fi->flags & O_ACCMODE) != O_RDONLY;
	fi->fh = (uint64_t)(uintptr_t)f;
	shmfs_node_add_file(ino, f);
	/* Before the reply: the kernel drops the cached pages when it gets
	 * it, and every page it reads after that must be kept. */
	if (f->writer)
		shmfs_shadow_open(ino);
	/* Segments change under us: every open starts from the live bytes. */
	fi->keep_cache = 0;
	if (created) {
		fill_entry(req, &e, ino, created);
		r = fuse_reply_create(req, &e, fi);
	} else {
		r = fuse_reply_open(req, fi);
	}
	if (r == -ENOENT) {
		shmfs_node_remove_file(ino, f);
		file_free(f);
		if (created)
			shmfs_node_forget(ino, 1);
	}
}

static void shmfs_open(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	g_auto(shmfs_ref) ref = { 0 };
	struct shm_handle *h = NULL;
	int r = shmfs_node_ref(ino, &ref);

	if (r == 0 && (!ref.be || !ref.path[0]))
		r = -EISDIR;
	if (r == 0)
		r = ref.be->open(ref.path, fi->flags, &h);
	if (r)
		return reply_err(req, r, "open", ref.path);
	/* The size may have changed natively since the kernel cached it:
	 * drop the cached attributes so this open's reads see the new end. */
	fuse_lowlevel_notify_inval_inode(state_of(req)->se, ino, -1, 0);
	reply_open(req, ino, ref.be, h, fi, NULL);
}

/* Create name in parent for the caller: the backend's create, then the
 * new file's attributes and inode.  On success *h is open. */
static int create_in(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, int flags, const struct shmfs_backend **be,
		     struct shm_handle **h, fuse_ino_t *ino, struct shm_attr *a)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	g_auto(shmfs_ref) ref = { 0 };
	g_autofree char *path = NULL;
	int r = shmfs_node_ref(parent, &ref);

	if (r)
		return r;
	if (!ref.be)
		return -EPERM; /* no new kinds at the root */
	r = ref.be->create(ref.path, name, mode, flags, ctx->uid, ctx->gid, h);
	if (r)
		return r;
	r = ref.be->fstat(*h, a);
	if (r) {
		ref.be->close(*h);
		return r;
	}
	*be = ref.be;
	path = shmfs_child_path(ref.path, name);
	*ino = shmfs_node_lookup(ref.be, path, a->mode);
	return 0;
}

static void shmfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode, struct fuse_file_info *fi)
{
	const struct shmfs_backend *be;
	struct shm_handle *h;
	struct shm_attr a;
	fuse_ino_t ino;
	int r = create_in(req, parent, name, mode, fi->flags, &be, &h, &ino, &a);

	if (r)
		return reply_err(req, r, "create", name);
	reply_open(req, ino, be, h, fi, &a);
}

static void shmfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, dev_t rdev)
{
	const struct shmfs_backend *be;
	struct fuse_entry_param e;
	struct shm_handle *h;
	struct shm_attr a;
	fuse_ino_t ino;
	int r;

	(void)rdev;
	/* Only regular files are segments; mknod(S_IFREG) is a create. */
	r = S_ISREG(mode) ? create_in(req, parent, name, mode, O_RDONLY, &be,
				      &h, &ino, &a)
			  : -EPERM;
	if (r)
		return reply_err(req, r, "mknod", name);
	be->close(h);
	fill_entry(req, &e, ino, &a);
	if (fuse_reply_entry(req, &e) == -ENOENT)
		shmfs_node_forget(ino, 1);
}

/* A copy of x's bytes (short at an fd's end of file); *n its length. */
static void *extent_copy(const struct shm_extent *x, size_t *n)
{
	guint8 *buf = g_malloc(x->len);
	ssize_t r;

	if (x->mem) {
		memcpy(buf, x->mem, x->len);
		*n = x->len;
		return buf;
	}
	*n = 0;
	while (*n < x->len) {
		r = pread(x->fd, buf + *n, x->len - *n, (off_t)(x->off + *n));
		if (r > 0)
			*n += (size_t)r;
		else if (r == 0 || errno != EINTR)
			break;
	}
	return buf;
}

static void shmfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct shmfs_file *f = (struct shmfs_file *)fi->fh;
	struct fuse_bufvec bv;
	struct shm_extent x;
	g_autofree void *copy = NULL;
	int r;

	if (off < 0)
		return reply_err(req, -EINVAL, "read", NULL);
	r = f->be->read(f->h, (uint64_t)off, size, &x);
	if (r)
		return reply_err(req, r, "read", NULL);
	/* A page cache fill (O_DIRECT reads go around the cache): reply with
	 * exactly the bytes kept for the write-back. */
	if (!(fi->flags & O_DIRECT) && shmfs_shadow_active(ino)) {
		size_t n = 0;

		copy = x.len ? extent_copy(&x, &n) : NULL;
		shmfs_shadow_store(ino, (uint64_t)off, size, copy, n);
		x.mem = copy;
		x.len = n;
	}
	if (x.len == 0)
		return (void)fuse_reply_buf(req, NULL, 0);
	bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT(x.len);
	if (x.mem) {
		bv.buf[0].mem = (void *)x.mem;
	} else {
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = x.fd;
		bv.buf[0].pos = (off_t)x.off;
	}
	fuse_reply_data(req, &bv, x.mem ? FUSE_BUF_NO_SPLICE : FUSE_BUF_SPLICE_MOVE);
}

static ssize_t file_write(void *file, const void *buf, size_t size,
			  uint64_t off)
{
	struct shmfs_file *f = file;

	return f->be->write(f->h, buf, size, off);
}

static ssize_t file_write_changed(void *file, const void *buf,
				  const void *old, size_t size, uint64_t off)
{
	struct shmfs_file *f = file;

	return f->be->write_changed(f->h, buf, old, size, off);
}

static void shmfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			size_t size, off_t off, struct fuse_file_info *fi)
{
	struct shmfs_file *f = (struct shmfs_file *)fi->fh;
	ssize_t n;

	if (off < 0)
		return reply_err(req, -EINVAL, "write", NULL);
	if (fi->writepage) {
		/* Dirty pages of a mapping: only the bytes it changed. */
		struct shmfs_shadow_sink sink = { file_write,
						  file_write_changed, f };

		n = shmfs_shadow_write_back(ino, (uint64_t)off, buf, size,
					    &sink);
	} else {
		n = f->be->write(f->h, buf, size, (uint64_t)off);
		if (n > 0)
			shmfs_shadow_patch(ino, (uint64_t)off, buf, (size_t)n);
	}
	if (n < 0)
		return reply_err(req, (int)n,
				 fi->writepage ? "write-back" : "write", NULL);
	fuse_reply_write(req, (size_t)n);
}

/* Segments are memory: there is nothing to flush or sync. */
static void shmfs_flush(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	fuse_reply_err(req, 0);
}

static void shmfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0);
}

static void shmfs_release(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct shmfs_file *f = (struct shmfs_file *)fi->fh;

	shmfs_node_remove_file(ino, f);
	file_free(f);
	fuse_reply_err(req, 0);
}

/* The session ends (unmount or a signal) with files possibly still open:
 * detach and close them. */
static void shmfs_destroy(void *userdata)
{
	(void)userdata;
	shmfs_nodes_drain_files(file_free);
}

static void shmfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const struct shmfs_backend *be;
	g_autofree char *path = NULL;
	int r = child_of(parent, name, &be, &path);

	if (r == 0 && !path[0])
		r = -EPERM; /* a backend's own directory */
	if (r == 0)
		r = be->remove(path);
	reply_err(req, r, "unlink", name);
}

static void shmfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	reply_err(req, -EPERM, "rmdir", name);
}

static void shmfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode)
{
	(void)parent, (void)mode;
	reply_err(req, -EPERM, "mkdir", name);
}

static void shmfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	(void)parent, (void)newparent, (void)newname, (void)flags;
	/* EXDEV makes mv copy and remove, which works wherever create does. */
	reply_err(req, -EXDEV, "rename", name);
}

static void shmfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct shm_usage u = { 0 };
	struct statvfs sv = { 0 };
	const unsigned long bs = 4096;

	(void)ino;
	for (const struct shmfs_backend *const *b = shmfs_backends(); *b;
	     b++) {
		int r = (*b)->statfs(&u);

		if (r)
			shmfs_log("statfs %s: %s", (*b)->name, strerror(-r));
	}
	sv.f_bsize = bs;
	sv.f_frsize = bs;
	sv.f_blocks = u.total_bytes / bs;
	sv.f_bfree = u.used_bytes >= u.total_bytes ?
			     0 : (u.total_bytes - u.used_bytes) / bs;
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

/* Reply with text, or its length when size is 0 (the xattr protocol). */
static void reply_xattr_text(fuse_req_t req, const GString *s, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, s->len);
	else if (size < s->len)
		reply_err(req, -ERANGE, "xattr", NULL);
	else
		fuse_reply_buf(req, s->str, s->len);
}

static void shmfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   size_t size)
{
	g_auto(shmfs_ref) ref = { 0 };
	g_autoptr(GString) s = g_string_new(NULL);
	g_auto(shm_meta) m = { 0 };
	int r;

	/* ls -l asks every file for security.selinux and its ACL: "not
	 * supported" for the namespaces we keep nothing in, which ls
	 * remembers for the whole filesystem (one round trip per listing,
	 * not two per file); "no such attribute" for other user.* names.
	 * No backend call either way. */
	if (strncmp(name, "user.", 5) != 0)
		return reply_err(req, -ENOTSUP, "getxattr", name);
	if (strncmp(name, "user.shm.", 9) != 0)
		return reply_err(req, -ENODATA, "getxattr", name);
	r = ino_meta(ino, shmfs_xattr_need(name), &ref, &m);

	if (r == 0)
		r = shmfs_xattr_get(ref.be->name, &m, name, s);
	if (r)
		return reply_err(req, r, "getxattr", ref.path);
	reply_xattr_text(req, s, size);
}

static void shmfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	g_auto(shmfs_ref) ref = { 0 };
	g_autoptr(GString) s = g_string_new(NULL);
	g_auto(shm_meta) m = { 0 };
	int r = ino_meta(ino, 0, &ref, &m);

	if (r == 0)
		shmfs_xattr_list(ref.be->name, &m, s);
	else if (r != -ENODATA)
		return reply_err(req, r, "listxattr", ref.path);
	reply_xattr_text(req, s, size);
}

/* The user.shm.* names are read-only views and there are no others.
 * ENOTSUP (not EPERM) so that cp -a and mv, which copy xattrs, stay quiet. */
static void shmfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   const char *value, size_t size, int flags)
{
	(void)ino, (void)value, (void)size, (void)flags;
	reply_err(req, -ENOTSUP, "setxattr", name);
}

static void shmfs_removexattr(fuse_req_t req, fuse_ino_t ino,
			      const char *name)
{
	(void)ino;
	reply_err(req, -ENOTSUP, "removexattr", name);
}

static const struct fuse_lowlevel_ops shmfs_ops = {
	.init         = shmfs_init,
	.destroy      = shmfs_destroy,
	.lookup       = shmfs_lookup,
	.forget       = shmfs_forget,
	.forget_multi = shmfs_forget_multi,
	.getattr      = shmfs_getattr,
	.setattr      = shmfs_setattr,
	.readlink     = shmfs_readlink,
	.symlink      = shmfs_symlink,
	.mknod        = shmfs_mknod,
	.mkdir        = shmfs_mkdir,
	.unlink       = shmfs_unlink,
	.rmdir        = shmfs_rmdir,
	.rename       = shmfs_rename,
	.open         = shmfs_open,
	.create       = shmfs_create,
	.read         = shmfs_read,
	.write        = shmfs_write,
	.flush        = shmfs_flush,
	.fsync        = shmfs_fsync,
	.release      = shmfs_release,
	.opendir      = shmfs_opendir,
	.readdir      = shmfs_readdir,
	.readdirplus  = shmfs_readdirplus,
	.releasedir   = shmfs_releasedir,
	.statfs       = shmfs_statfs,
	.getxattr     = shmfs_getxattr,
	.listxattr    = shmfs_listxattr,
	.setxattr     = shmfs_setxattr,
	.removexattr  = shmfs_removexattr,
};

const struct fuse_lowlevel_ops *shmfs_lowlevel_ops(void)
{
	return &shmfs_ops;
}
