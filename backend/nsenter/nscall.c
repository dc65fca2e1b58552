/* nscall.c - calls run inside a namespace (see nscall.h). */
#define _GNU_SOURCE
#include <errno.h>

#include "nscall.h"
#include "nsctx.h"
#include "nspool.h"
#include "nsscan.h"
#include "proc/procscan.h"

/* A handle of a namespace's segment: the kind's own handle and where it
 * lives. */
struct shm_handle {
	const struct shmfs_backend *be;
	struct shm_handle *inner;
	ino_t ns;
};

/* A process of namespace ns to enter it by: its lowest pid.  -ENOENT if
 * the namespace has no process.  `again`: the one chosen before was
 * gone, look at /proc now. */
static int target_of(ino_t ns, bool again, struct ns_target *t)
{
	const struct ns_info *info;
	g_autoptr(ns_scan) s = NULL;

	if (again) {
		s = ns_scan_get(NS_SCAN_NOW);
		info = ns_scan_find(s, ns);
	} else {
		s = ns_scan_with(ns, &info);
	}
	if (!info)
		return -ENOENT;
	t->ns = ns;
	t->pid = g_array_index(info->pids, pid_t, 0);
	return 0;
}

static int call(struct ns_call *c)
{
	const struct shmfs_backend *be = c->be;
	ssize_t w;

	switch (c->op) {
	case OP_LIST:
		return shm_be_list(be, c->path, c->out);
	case OP_STAT:
		return be->stat(c->path, c->out);
	case OP_META:
		return shm_be_meta(be, c->path, c->want, c->out);
	case OP_READLINK:
		return shm_be_readlink(be, c->path, c->out);
	case OP_OPEN:
		return shm_be_open(be, c->path, c->flags, c->out);
	case OP_CREATE:
		return shm_be_create(be, c->path, c->name, c->mode, c->flags,
				     c->uid, c->gid, c->out);
	case OP_CLOSE:
		be->close(c->h);
		return 0;
	case OP_FSTAT:
		return be->fstat(c->h, c->out);
	case OP_READ:
		return be->read(c->h, c->off, c->size, c->out);
	case OP_WRITE:
	case OP_WRITE_CHANGED:
		w = c->op == OP_WRITE ?
			    shm_be_write(be, c->h, c->buf, c->size, c->off) :
			    shm_be_write_changed(be, c->h, c->buf, c->old,
						 c->size, c->off);
		c->written = w;
		return w < 0 ? (int)w : 0;
	case OP_BACKING:
		return shm_be_backing(be, c->h, c->out);
	case OP_TRUNCATE:
		return shm_be_truncate(be, c->path, c->h, c->off);
	case OP_REMOVE:
		return shm_be_remove(be, c->path);
	case OP_SETATTR:
		return shm_be_setattr(be, c->path, c->set);
	case OP_DIR_USAGE:
		return shm_be_dir_usage(be, c->path, c->out);
	case OP_FN:
		return c->fn(c->out);
	}
	return -EINVAL;
}

/* On the pool thread: the call serves whom its asker served. */
static int call_in_ns(void *arg)
{
	struct ns_call *c = arg;
	int r;

	shm_caller_set(c->has_caller ? &c->caller : NULL);
	shm_proc_pin(c->pinned);
	r = call(c);
	shm_proc_pin(NULL);
	shm_caller_set(NULL);
	return r;
}

/* Whether the caller may reach namespace ns's objects: as natively,
 * through /proc/PID/root of a process in it, which needs ptrace read
 * access to that process (root always). */
static bool may_enter(ino_t ns)
{
	g_autoptr(ns_scan) s = NULL;
	const struct ns_info *info = NULL;

	if (!shm_caller_unprivileged())
		return true;
	/* Its own namespace: it is there natively. */
	if (shm_caller()->pid > 0 && shm_ipc_ns_of_pid(shm_caller()->pid) == ns)
		return true;
	s = ns_scan_with(ns, &info);
	if (!info)
		return false;
	/* (A bounded look: a caller with no process among the first few
	 * hundred of a namespace is refused, never made to cost a scan.) */
	for (guint i = 0; i < info->pids->len && i < 256; i++)
		if (shm_caller_may_trace(g_array_index(info->pids, pid_t, i)))
			return true;
	return false;
}

int ns_call_in(ino_t ns, struct ns_call *c)
{
	const struct shm_caller *k = shm_caller();
	struct ns_target t;

	/* A handle's calls were allowed when it was opened. */
	if (!c->h && !may_enter(ns))
		return -EACCES;

	c->has_caller = k != NULL;
	if (k)
		c->caller = *k;
	c->pinned = shm_proc_pinned();

	for (int fresh = 0; fresh < 2; fresh++) {
		int r = target_of(ns, fresh, &t);

		if (r)
			return r;
		r = c->brief ?
			    ns_pool_run_brief(&t, call_in_ns, c, &c->cpu_us) :
			    ns_pool_run(&t, call_in_ns, c);
		if (r != -ESRCH)
			return r;
	}
	return -ENOENT;
}

struct shm_handle *ns_handle_inner(struct shm_handle *h)
{
	return h->inner;
}

struct shm_handle *ns_handle_new(ino_t ns, const struct shmfs_backend *be,
				 struct shm_handle *inner)
{
	struct shm_handle *h = g_new0(struct shm_handle, 1);

	h->be = be;
	h->inner = inner;
	h->ns = ns;
	return h;
}

void ns_close(struct shm_handle *h)
{
	struct ns_call c = { .op = OP_CLOSE, .be = h->be, .h = h->inner };

	if (ns_call_in(h->ns, &c) != 0)
		h->be->close(h->inner); /* the namespace is gone */
	g_free(h);
}

/* A call on an open handle, inside its namespace. */
static int handle_call(struct shm_handle *h, struct ns_call *c)
{
	c->be = h->be;
	c->h = h->inner;
	return ns_call_in(h->ns, c);
}

/* fallocate and seek act on the descriptor the kind opened inside the
 * namespace: no need to enter it again. */
int ns_fallocate(struct shm_handle *h, int mode, uint64_t off, uint64_t len)
{
	return shm_be_fallocate(h->be, h->inner, mode, off, len);
}

int64_t ns_seek(struct shm_handle *h, int64_t off, int whence)
{
	return h->be->seek ? h->be->seek(h->inner, off, whence) : -ENOSYS;
}

int ns_fstat(struct shm_handle *h, struct shm_attr *out)
{
	return handle_call(h, &(struct ns_call){ .op = OP_FSTAT, .out = out });
}

int ns_read(struct shm_handle *h, uint64_t off, size_t size,
	    struct shm_extent *out)
{
	return handle_call(h, &(struct ns_call){
				      .op = OP_READ,
				      .off = off,
				      .size = size,
				      .out = out,
			      });
}

ssize_t ns_write(struct shm_handle *h, const void *buf, size_t size,
		 uint64_t off)
{
	struct ns_call c = {
		.op = OP_WRITE, .buf = buf, .size = size, .off = off
	};
	int r = handle_call(h, &c);

	return r ? r : c.written;
}

ssize_t ns_write_changed(struct shm_handle *h, const void *buf, const void *old,
			 size_t size, uint64_t off)
{
	struct ns_call c = { .op = OP_WRITE_CHANGED,
			     .buf = buf,
			     .old = old,
			     .size = size,
			     .off = off };
	int r = handle_call(h, &c);

	return r ? r : c.written;
}

int ns_backing(struct shm_handle *h, struct shm_backing *out)
{
	return handle_call(h,
			   &(struct ns_call){ .op = OP_BACKING, .out = out });
}
