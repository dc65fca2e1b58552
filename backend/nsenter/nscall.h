/* nscall.h - one backend call run inside an IPC namespace, by a pool
 * thread that has entered it (nspool.h), and the handles of files opened
 * there.  The kinds need not know namespaces exist.  Not part of the
 * backend interface: ns.c's.
 */
#ifndef SHMFS_NSCALL_H
#define SHMFS_NSCALL_H

#include <sys/types.h>

#include "backend.h"
#include "caller.h"

struct shm_proc;

enum ns_op {
	OP_LIST,
	OP_STAT,
	OP_META,
	OP_READLINK,
	OP_OPEN,
	OP_CREATE,
	OP_CLOSE,
	OP_FSTAT,
	OP_READ,
	OP_WRITE,
	OP_WRITE_CHANGED,
	OP_BACKING,
	OP_TRUNCATE,
	OP_REMOVE,
	OP_SETATTR,
	OP_DIR_USAGE,
	OP_FN, /* fn(out): a function of the caller's own */
};

/* One backend call and its arguments; out is the op's output. */
struct ns_call {
	enum ns_op op;
	const struct shmfs_backend *be;
	const char *path;
	const char *name;
	struct shm_handle *h;
	int flags;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	unsigned want;
	uint64_t off;
	size_t size;
	const void *buf, *old;
	const struct shm_set *set;
	void *out;
	int (*fn)(void *out); /* OP_FN */
	ssize_t written;
	bool brief; /* a periodic call: see ns_pool_run_brief */
	/* Whom the asking thread served (ns_call_in sets it). */
	struct shm_caller caller;
	bool has_caller;
	struct shm_proc *pinned; /* the asker's snapshot pass (procscan.h) */
	gint64 cpu_us;		 /* brief: the CPU the pool spent on it */
};

/* Run c inside namespace ns: -ENOENT once the namespace has no process
 * (if the process chosen to enter it by exits, another is chosen). */
int ns_call_in(ino_t ns, struct ns_call *c);

/* A handle of namespace ns's file, wrapping the kind's own handle. */
struct shm_handle *ns_handle_new(ino_t ns, const struct shmfs_backend *be,
				 struct shm_handle *inner);
/* The kind's own handle inside h. */
struct shm_handle *ns_handle_inner(struct shm_handle *h);
/* The handle operations, each run inside the handle's namespace.  Closing
 * a handle whose namespace is gone releases only the daemon's own
 * descriptors and attachment, in the calling thread. */
void ns_close(struct shm_handle *h);
int ns_fstat(struct shm_handle *h, struct shm_attr *out);
int ns_read(struct shm_handle *h, uint64_t off, size_t size,
	    struct shm_extent *out);
ssize_t ns_write(struct shm_handle *h, const void *buf, size_t size,
		 uint64_t off);
ssize_t ns_write_changed(struct shm_handle *h, const void *buf, const void *old,
			 size_t size, uint64_t off);
int ns_backing(struct shm_handle *h, struct shm_backing *out);
int ns_fallocate(struct shm_handle *h, int mode, uint64_t off, uint64_t len);
/* -ENOSYS where the kind has no seek: the front answers as for none. */
int64_t ns_seek(struct shm_handle *h, int64_t off, int whence);

#endif
