/* reply.c - the helpers every op answers with: the one place a -errno
 * becomes a reply, and attributes as the kernel wants them. */
#include <errno.h>
#include <string.h>

#include "caller.h"
#include "log.h"
#include "counters.h"
#include "shmfs.h"

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

void shmfs_serve(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct shm_caller c = { ctx->uid, ctx->gid, ctx->pid };

	shm_caller_set(&c);
}

void shmfs_reply_err(fuse_req_t req, int r, const char *op, const char *path)
{
	int err = r < 0 ? -r : r;

	shmfs_count_error(err);
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
	st->st_rdev = a->rdev;
	st->st_blksize = 4096;
	st->st_atim = a->atime;
	st->st_mtim = a->mtime;
	st->st_ctim = a->ctime;
}

void shmfs_fill_entry(fuse_req_t req, struct fuse_entry_param *e,
		      fuse_ino_t ino, const struct shm_attr *a)
{
	double t = shmfs_state_of(req)->timeout;

	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->attr_timeout = a->uncached ? 0 : t;
	e->entry_timeout = t;
	shmfs_attr_to_stat(a, ino, &e->attr);
}
