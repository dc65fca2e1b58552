/* sysv.c - the System V kind: segments (shmget) as files named by shmid,
 * and by-key/.  This file is the router: each path goes by a route table
 * to the half that serves it, sysv_key.c for by-key/NAME, sysv_rows.c and
 * sysv_seg.c for a shmid (what the kernel says of segments without
 * attaching, and an open segment).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "nsctx.h"
#include "origin/watch.h"
#include "sysv.h"

/* What one directory of sysv/ serves; NULL where its names have no such
 * operation (the answer is backend.h's for a missing one). */
struct sysv_route {
	const char *dir; /* "" (shmids) or SYSV_BY_KEY */
	int (*list)(GArray *out);
	int (*stat)(const char *name, struct shm_attr *out);
	int (*meta)(const char *name, unsigned want, struct shm_meta *m);
	int (*readlink)(const char *name, char **out);
	int (*open)(const char *name, int flags, struct shm_handle **out);
	int (*create)(const char *name, mode_t mode, int flags, uid_t uid,
		      gid_t gid, struct shm_handle **out);
	int (*truncate)(const char *name, struct shm_handle *h, uint64_t size);
	int (*setattr)(const char *name, const struct shm_set *set);
	int (*remove)(const char *name);
};

static int id_stat(const char *name, struct shm_attr *out)
{
	return sysv_stat_id(sysv_parse_id(name), out);
}

static int id_meta(const char *name, unsigned want, struct shm_meta *m)
{
	return sysv_meta_id(sysv_parse_id(name), want, m);
}

static int id_truncate(const char *name, struct shm_handle *h, uint64_t size)
{
	return sysv_truncate_id(sysv_parse_id(name), h, size);
}

static int id_setattr(const char *name, const struct shm_set *set)
{
	/* Segments keep no settable times. */
	if (set->times)
		return -EPERM;
	return sysv_set_id(sysv_parse_id(name), set);
}

static int id_remove(const char *name)
{
	return sysv_remove_id(sysv_parse_id(name));
}

static const struct sysv_route by_id = {
	.dir = "",
	.list = sysv_list_ids,
	.stat = id_stat,
	.meta = id_meta,
	.open = sysv_open_id,
	.truncate = id_truncate,
	.setattr = id_setattr,
	.remove = id_remove,
};

static const struct sysv_route by_key = {
	.dir = SYSV_BY_KEY,
	.list = sysv_key_list,
	.stat = sysv_key_stat,
	.meta = sysv_key_meta,
	.readlink = sysv_key_readlink,
	.open = sysv_key_open,
	.create = sysv_key_create,
	.truncate = sysv_key_truncate,
	.setattr = sysv_key_setattr,
	.remove = sysv_key_remove,
};

/* The route of a file's path, and its name there: by-key/NAME goes to
 * by_key, anything else is a shmid. */
static const struct sysv_route *route(const char *path, const char **name)
{
	size_t n = strlen(SYSV_BY_KEY);

	if (strncmp(path, SYSV_BY_KEY, n) == 0 && path[n] == '/') {
		*name = path + n + 1;
		return &by_key;
	}
	*name = path;
	return &by_id;
}

/* The route whose directory dir is, or NULL. */
static const struct sysv_route *route_of_dir(const char *dir)
{
	if (!dir[0])
		return &by_id;
	return strcmp(dir, SYSV_BY_KEY) == 0 ? &by_key : NULL;
}

static int sysv_init(const struct shmfs_config *cfg)
{
	(void)cfg;
	sysv_rows_init();
	sysv_key_init();
	shm_watch_set_sysv_look(sysv_notice);
	/* Learn the daemon's own namespace now, in the main thread. */
	shm_ctx_ipc_ns();
	return 0;
}

static void sysv_fini(void)
{
	sysv_key_fini();
}

static int sysv_list(const char *dir, GArray *out)
{
	const struct sysv_route *rt = route_of_dir(dir);
	struct shm_attr a;
	const char *name;

	if (rt == &by_id) {
		sysv_dir_attr(&a);
		shm_dirents_add(out, SYSV_BY_KEY, &a);
	}
	if (rt)
		return rt->list(out);
	rt = route(dir, &name);
	return rt == &by_id && sysv_parse_id(name) < 0 ? -ENOENT : -ENOTDIR;
}

static int sysv_stat(const char *path, struct shm_attr *out)
{
	const char *name;
	const struct sysv_route *rt = route(path, &name);

	if (route_of_dir(path)) {
		sysv_dir_attr(out);
		return 0;
	}
	return rt->stat(name, out);
}

static int sysv_meta(const char *path, unsigned want, struct shm_meta *m)
{
	const char *name;

	return route(path, &name)->meta(name, want, m);
}

static int sysv_readlink(const char *path, char **out)
{
	const char *name;
	const struct sysv_route *rt = route(path, &name);

	return rt->readlink ? rt->readlink(name, out) : -EINVAL;
}

/* by-key/ links lead to the segment; only pending files open there. */
static int sysv_open(const char *path, int flags, struct shm_handle **out)
{
	const char *name;

	return route(path, &name)->open(name, flags, out);
}

/* A shmid is chosen by the kernel, never by a name; a key is. */
static int sysv_create(const char *dir, const char *name, mode_t mode,
		       int flags, uid_t uid, gid_t gid, struct shm_handle **out)
{
	const struct sysv_route *rt = route_of_dir(dir);

	if (!rt || !rt->create)
		return -EPERM;
	return rt->create(name, mode, flags, uid, gid, out);
}

static int sysv_truncate(const char *path, struct shm_handle *h, uint64_t size)
{
	const char *name;

	return route(path, &name)->truncate(name, h, size);
}

static int sysv_setattr(const char *path, const struct shm_set *set)
{
	const char *name;
	const struct sysv_route *rt = route(path, &name);

	/* IPC_SET keeps only the nine permission bits. */
	if (set->mode >= 0 && (set->mode & ~0777))
		return -EINVAL;
	return rt->setattr(name, set);
}

static int sysv_remove(const char *path)
{
	const char *name;

	return route(path, &name)->remove(name);
}

/* sysv/: the limits and use ipcs -l and ipcs -u show. */
static int sysv_dir_usage(const char *dir, struct shm_dir_usage *out)
{
	return dir[0] ? -ENODATA : sysv_usage(out);
}

/* The handle operations: a pending by-key/ handle (id -1) is made a
 * segment by its first write, its allocation, or answers for itself
 * (sysv_key.c); a segment's handle is sysv_seg.c's. */
static int sysv_fstat(struct shm_handle *h, struct shm_attr *out)
{
	return h->id < 0 ? sysv_key_fstat(h, out) : sysv_seg_fstat(h, out);
}

static ssize_t sysv_write(struct shm_handle *h, const void *buf, size_t size,
			  uint64_t off)
{
	/* The first write to a pending segment fixes its size: its end. */
	if (h->id < 0 && h->writable && size) {
		int r = off > UINT64_MAX - size ?
				-EFBIG :
				sysv_key_materialize(h, off + size);

		if (r)
			return r;
	}
	return sysv_seg_write(h, buf, size, off);
}

static ssize_t sysv_write_changed(struct shm_handle *h, const void *buf,
				  const void *old, size_t size, uint64_t off)
{
	/* Pending: nothing there to merge with. */
	if (h->id < 0)
		return sysv_write(h, buf, size, off);
	return sysv_seg_write_changed(h, buf, old, size, off);
}

static int sysv_fallocate(struct shm_handle *h, int mode, uint64_t off,
			  uint64_t len)
{
	if (!h->writable)
		return -EBADF;
	/* A pending by-key/ file: allocating fixes its size, as a truncate
	 * does. */
	if (h->id < 0)
		return mode == 0 && off <= UINT64_MAX - len ?
			       sysv_key_materialize(h, off + len) :
			       -EOPNOTSUPP;
	return sysv_seg_fallocate(h, mode, off, len);
}

const struct shmfs_backend sysv_backend = {
	.name = "sysv",
	.segments = true,
	.init = sysv_init,
	.fini = sysv_fini,
	.list = sysv_list,
	.stat = sysv_stat,
	.meta = sysv_meta,
	.readlink = sysv_readlink,
	.open = sysv_open,
	.create = sysv_create,
	.close = sysv_close,
	.fstat = sysv_fstat,
	.read = sysv_read,
	.write = sysv_write,
	.write_changed = sysv_write_changed,
	.fallocate = sysv_fallocate,
	.seek = sysv_seek,
	.backing = sysv_backing,
	.truncate = sysv_truncate,
	.remove = sysv_remove,
	.setattr = sysv_setattr,
	.statfs = sysv_add_statfs,
	.dir_usage = sysv_dir_usage,
};
