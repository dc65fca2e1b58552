/* ns.c - ns/: every IPC namespace that has a process, each with its own
 * System V segments, /dev/shm and unused/ (--all-namespaces):
 *
 *   ns/INODE/sysv/...          that namespace's segments (and by-key/)
 *   ns/INODE/posix/...         its /dev/shm, as a process in it sees it
 *   ns/INODE/unused/...        what nobody there uses
 *   ns/by-container/ID -> ../INODE   ID: 12 hex digits, as docker ps
 *
 * INODE is the namespace's inode number, as lsns prints it.  Below
 * ns/INODE/KIND this backend is only a door: each call goes, unchanged,
 * to the KIND backend, run by a pool thread that has entered the
 * namespace (nspool.h), so the kinds need not know namespaces exist.  The
 * one exception is closing a handle of a namespace that is gone: that
 * releases only the daemon's own descriptors and attachment, in the
 * calling thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "nspool.h"
#include "nsscan.h"

#define BY_CONTAINER "by-container"
#define SHORT_ID 12
/* Pool threads: enough that a few namespaces are served side by side,
 * few enough that hundreds of containers cost no more. */
#define NS_THREADS 4

static struct timespec ns_started;

static const struct shmfs_backend *const kinds[] = {
	&sysv_backend,
	&posix_backend,
	&unused_backend,
};

/* Where a path is. */
enum ns_where { NS_TOP, NS_BY_CONTAINER, NS_LINK, NS_DIR, NS_KIND };

struct ns_path {
	enum ns_where where;
	ino_t ns;			/* NS_DIR, NS_KIND */
	const struct shmfs_backend *be; /* NS_KIND */
	const char *rest;		/* NS_KIND: the kind's own path */
	const char *link;		/* NS_LINK: the short id */
};

/* A namespace's inode number in canonical decimal, or 0. */
static ino_t parse_ns(const char *s, size_t n)
{
	unsigned long long v = 0;

	if (n == 0 || n > 10 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v > UINT_MAX ? 0 : (ino_t)v;
}

static int parse(const char *path, struct ns_path *p)
{
	const char *slash = strchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : strlen(path);

	*p = (struct ns_path){ .where = NS_TOP };
	if (!path[0])
		return 0;
	if (n == strlen(BY_CONTAINER) && strncmp(path, BY_CONTAINER, n) == 0) {
		if (!slash) {
			p->where = NS_BY_CONTAINER;
			return 0;
		}
		if (strchr(slash + 1, '/'))
			return -ENOENT;
		p->where = NS_LINK;
		p->link = slash + 1;
		return 0;
	}
	p->ns = parse_ns(path, n);
	if (!p->ns)
		return -ENOENT;
	p->where = NS_DIR;
	if (!slash)
		return 0;
	const char *kind = slash + 1;
	const char *end = strchr(kind, '/');
	size_t kn = end ? (size_t)(end - kind) : strlen(kind);

	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (strlen(kinds[i]->name) == kn &&
		    strncmp(kinds[i]->name, kind, kn) == 0) {
			p->where = NS_KIND;
			p->be = kinds[i];
			p->rest = end ? end + 1 : "";
			return 0;
		}
	}
	return -ENOENT;
}

/* How a name finds its namespace in a snapshot: by inode number, or by
 * container id (link_ns below). */
typedef const struct ns_info *(*ns_finder)(const struct ns_scan *s,
					   const void *key);

static const struct ns_info *by_inode(const struct ns_scan *s, const void *key)
{
	return ns_scan_find(s, *(const ino_t *)key);
}

/* The snapshot (a reference) and *info, what find gives in it; a name
 * missing from the snapshot looks again in a newer one. */
static struct ns_scan *scan_lookup(ns_finder find, const void *key,
				   const struct ns_info **info)
{
	struct ns_scan *s = ns_scan_get(NS_SCAN_LISTING_US);

	*info = find(s, key);
	if (!*info) {
		ns_scan_unref(s);
		s = ns_scan_get(NS_SCAN_MISS_US);
		*info = find(s, key);
	}
	return s;
}

static struct ns_scan *scan_with(ino_t ns, const struct ns_info **info)
{
	return scan_lookup(by_inode, &ns, info);
}

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
		s = scan_with(ns, &info);
	}
	if (!info)
		return -ENOENT;
	t->ns = ns;
	t->pid = g_array_index(info->pids, pid_t, 0);
	return 0;
}

/* ---- calls run inside a namespace ---- */

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
	OP_KIND_DIRS,
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
	ssize_t written;
};

/* A handle of a namespace's segment: the kind's own handle and where it
 * lives. */
struct shm_handle {
	const struct shmfs_backend *be;
	struct shm_handle *inner;
	ino_t ns;
};

/* ns/INODE lists the kinds that have a directory there. */
static int kind_dirs(GArray *out)
{
	struct shm_attr a;

	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (kinds[i]->stat("", &a) == 0)
			shm_dirents_add(out, kinds[i]->name, &a);
	return 0;
}

static int call_in_ns(void *arg)
{
	struct ns_call *c = arg;
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
	case OP_KIND_DIRS:
		return kind_dirs(c->out);
	}
	return -EINVAL;
}

/* Run c inside namespace ns: -ENOENT once the namespace has no process
 * (if the process chosen to enter it by exits, another is chosen). */
static int run_in(ino_t ns, struct ns_call *c)
{
	struct ns_target t;

	for (int fresh = 0; fresh < 2; fresh++) {
		int r = target_of(ns, fresh, &t);

		if (r)
			return r;
		r = ns_pool_run(&t, call_in_ns, c);
		if (r != -ESRCH)
			return r;
	}
	return -ENOENT;
}

/* ---- ns/ itself ---- */

static void dir_attr(struct shm_attr *a, struct timespec t)
{
	*a = (struct shm_attr){
		.mode = S_IFDIR | 0755, .atime = t, .mtime = t, .ctime = t
	};
}

static void link_attr(struct shm_attr *a, const struct ns_info *info)
{
	char target[32];

	snprintf(target, sizeof(target), "../%lu", (unsigned long)info->ns);
	*a = (struct shm_attr){ .mode = S_IFLNK | 0777,
				.size = strlen(target),
				.atime = info->started,
				.mtime = info->started,
				.ctime = info->started };
}

/* The namespace a by-container/ link (key: its name) names, or NULL. */
static const struct ns_info *link_ns(const struct ns_scan *s, const void *key)
{
	const char *id = key;

	if (strlen(id) != SHORT_ID)
		return NULL;
	for (guint i = 0; i < ns_scan_len(s); i++) {
		const struct ns_info *info = ns_scan_at(s, i);

		for (guint k = 0; k < info->containers->len; k++)
			if (strncmp(g_ptr_array_index(info->containers, k), id,
				    SHORT_ID) == 0)
				return info;
	}
	return NULL;
}

static int list_top(GArray *out)
{
	g_autoptr(ns_scan) s = ns_scan_get(NS_SCAN_LISTING_US);
	struct shm_attr a;

	dir_attr(&a, ns_started);
	shm_dirents_add(out, BY_CONTAINER, &a);
	for (guint i = 0; i < ns_scan_len(s); i++) {
		const struct ns_info *info = ns_scan_at(s, i);
		char name[24];

		dir_attr(&a, info->started);
		snprintf(name, sizeof(name), "%lu", (unsigned long)info->ns);
		shm_dirents_add(out, name, &a);
	}
	return 0;
}

static int list_by_container(GArray *out)
{
	g_autoptr(ns_scan) s = ns_scan_get(NS_SCAN_LISTING_US);
	g_autoptr(GHashTable) seen =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct shm_attr a;

	for (guint i = 0; i < ns_scan_len(s); i++) {
		const struct ns_info *info = ns_scan_at(s, i);

		for (guint k = 0; k < info->containers->len; k++) {
			char *id = g_strndup(
				g_ptr_array_index(info->containers, k),
				SHORT_ID);

			if (!g_hash_table_add(seen, id))
				continue;
			link_attr(&a, info);
			shm_dirents_add(out, id, &a);
		}
	}
	return 0;
}

static int ns_list(const char *dir, GArray *out)
{
	struct ns_path p;
	int r = parse(dir, &p);

	if (r)
		return r;
	switch (p.where) {
	case NS_TOP:
		return list_top(out);
	case NS_BY_CONTAINER:
		return list_by_container(out);
	case NS_LINK:
		return -ENOTDIR;
	case NS_DIR:
		return run_in(p.ns, &(struct ns_call){ .op = OP_KIND_DIRS,
						       .out = out });
	case NS_KIND:
		break;
	}
	return run_in(p.ns, &(struct ns_call){
				    .op = OP_LIST,
				    .be = p.be,
				    .path = p.rest,
				    .out = out,
			    });
}

static int ns_stat(const char *path, struct shm_attr *out)
{
	g_autoptr(ns_scan) s = NULL;
	const struct ns_info *info = NULL;
	struct ns_path p;
	int r = parse(path, &p);

	if (r)
		return r;
	switch (p.where) {
	case NS_TOP:
	case NS_BY_CONTAINER:
		dir_attr(out, ns_started);
		return 0;
	case NS_LINK:
		s = scan_lookup(link_ns, p.link, &info);
		if (!info)
			return -ENOENT;
		link_attr(out, info);
		return 0;
	case NS_DIR:
		s = scan_with(p.ns, &info);
		if (!info)
			return -ENOENT;
		dir_attr(out, info->started);
		return 0;
	case NS_KIND:
		break;
	}
	return run_in(p.ns, &(struct ns_call){
				    .op = OP_STAT,
				    .be = p.be,
				    .path = p.rest,
				    .out = out,
			    });
}

/* Kind-level calls: -EPERM above ns/INODE/KIND/ (nothing can be made,
 * changed or removed there). */
static int kind_path(const char *path, struct ns_path *p)
{
	int r = parse(path, p);

	if (r)
		return r;
	return p->where == NS_KIND ? 0 : -EPERM;
}

static int ns_meta(const char *path, unsigned want, struct shm_meta *out)
{
	struct ns_path p;
	int r = parse(path, &p);

	if (r)
		return r;
	if (p.where != NS_KIND)
		return -ENODATA;
	r = run_in(p.ns, &(struct ns_call){ .op = OP_META,
					    .be = p.be,
					    .path = p.rest,
					    .want = want,
					    .out = out });
	out->kind = p.be->name;
	return r;
}

static int ns_readlink(const char *path, char **out)
{
	g_autoptr(ns_scan) s = NULL;
	const struct ns_info *info;
	struct ns_path p;
	int r = parse(path, &p);

	if (r)
		return r;
	if (p.where == NS_LINK) {
		s = scan_lookup(link_ns, p.link, &info);
		if (!info)
			return -ENOENT;
		*out = g_strdup_printf("../%lu", (unsigned long)info->ns);
		return 0;
	}
	if (p.where != NS_KIND)
		return -EINVAL;
	return run_in(p.ns, &(struct ns_call){ .op = OP_READLINK,
					       .be = p.be,
					       .path = p.rest,
					       .out = out });
}

static struct shm_handle *wrap(const struct ns_path *p, struct shm_handle *in)
{
	struct shm_handle *h = g_new0(struct shm_handle, 1);

	h->be = p->be;
	h->inner = in;
	h->ns = p->ns;
	return h;
}

static int ns_open(const char *path, int flags, struct shm_handle **out)
{
	struct shm_handle *in = NULL;
	struct ns_path p;
	int r = parse(path, &p);

	if (r)
		return r;
	if (p.where != NS_KIND)
		return -EISDIR;
	r = run_in(p.ns, &(struct ns_call){ .op = OP_OPEN,
					    .be = p.be,
					    .path = p.rest,
					    .flags = flags,
					    .out = &in });
	if (r == 0)
		*out = wrap(&p, in);
	return r;
}

static int ns_create(const char *dir, const char *name, mode_t mode, int flags,
		     uid_t uid, gid_t gid, struct shm_handle **out)
{
	struct shm_handle *in = NULL;
	struct ns_path p;
	int r = kind_path(dir, &p);

	if (r)
		return r;
	r = run_in(p.ns, &(struct ns_call){ .op = OP_CREATE,
					    .be = p.be,
					    .path = p.rest,
					    .name = name,
					    .mode = mode,
					    .flags = flags,
					    .uid = uid,
					    .gid = gid,
					    .out = &in });
	if (r == 0)
		*out = wrap(&p, in);
	return r;
}

static void ns_close(struct shm_handle *h)
{
	struct ns_call c = { .op = OP_CLOSE, .be = h->be, .h = h->inner };

	if (run_in(h->ns, &c) != 0)
		h->be->close(h->inner); /* the namespace is gone */
	g_free(h);
}

/* A call on an open handle, inside its namespace. */
static int handle_call(struct shm_handle *h, struct ns_call *c)
{
	c->be = h->be;
	c->h = h->inner;
	return run_in(h->ns, c);
}

static int ns_fstat(struct shm_handle *h, struct shm_attr *out)
{
	return handle_call(h, &(struct ns_call){ .op = OP_FSTAT, .out = out });
}

static int ns_read(struct shm_handle *h, uint64_t off, size_t size,
		   struct shm_extent *out)
{
	return handle_call(h, &(struct ns_call){
				      .op = OP_READ,
				      .off = off,
				      .size = size,
				      .out = out,
			      });
}

static ssize_t ns_write(struct shm_handle *h, const void *buf, size_t size,
			uint64_t off)
{
	struct ns_call c = {
		.op = OP_WRITE, .buf = buf, .size = size, .off = off
	};
	int r = handle_call(h, &c);

	return r ? r : c.written;
}

static ssize_t ns_write_changed(struct shm_handle *h, const void *buf,
				const void *old, size_t size, uint64_t off)
{
	struct ns_call c = { .op = OP_WRITE_CHANGED,
			     .buf = buf,
			     .old = old,
			     .size = size,
			     .off = off };
	int r = handle_call(h, &c);

	return r ? r : c.written;
}

static int ns_backing(struct shm_handle *h, struct shm_backing *out)
{
	return handle_call(h,
			   &(struct ns_call){ .op = OP_BACKING, .out = out });
}

static int ns_truncate(const char *path, struct shm_handle *h, uint64_t size)
{
	struct ns_path p;
	int r = kind_path(path, &p);

	if (r)
		return r;
	return run_in(p.ns, &(struct ns_call){ .op = OP_TRUNCATE,
					       .be = p.be,
					       .path = p.rest,
					       .h = h ? h->inner : NULL,
					       .off = size });
}

static int ns_remove(const char *path)
{
	struct ns_path p;
	int r = kind_path(path, &p);

	if (r)
		return r;
	return run_in(p.ns, &(struct ns_call){
				    .op = OP_REMOVE,
				    .be = p.be,
				    .path = p.rest,
			    });
}

static int ns_setattr(const char *path, const struct shm_set *set)
{
	struct ns_path p;
	int r = kind_path(path, &p);

	if (r)
		return r;
	return run_in(p.ns, &(struct ns_call){
				    .op = OP_SETATTR,
				    .be = p.be,
				    .path = p.rest,
				    .set = set,
			    });
}

/* What lsns shows as COMMAND: the command line, or the name of a process
 * that has none (a kernel thread: the host namespace's lowest pid). */
static char *command_of(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/comm", (int)pid);
	char *cmd = shm_command_of(pid);
	char *name = NULL;

	if (cmd[0] || !g_file_get_contents(path, &name, NULL, NULL))
		return cmd;
	g_free(cmd);
	return g_strchomp(name);
}

/* ns/INODE tells whose namespace it is; ns/INODE/KIND is the kind's. */
static int ns_dir_usage(const char *dir, struct shm_dir_usage *out)
{
	g_autoptr(ns_scan) s = NULL;
	const struct ns_info *info;
	struct ns_path p;
	int r = parse(dir, &p);

	if (r)
		return r;
	if (p.where == NS_KIND)
		return run_in(p.ns, &(struct ns_call){ .op = OP_DIR_USAGE,
						       .be = p.be,
						       .path = p.rest,
						       .out = out });
	if (p.where != NS_DIR)
		return -ENODATA;
	s = scan_with(p.ns, &info);
	if (!info)
		return -ENOENT;
	*out = (struct shm_dir_usage){
		.have = SHM_DIR_NS,
		.ns_pids = g_array_ref(info->pids),
		.ns_command = command_of(g_array_index(info->pids, pid_t, 0)),
		.ns_container =
			g_strdup(info->container ? info->container : ""),
	};
	return 0;
}

/* Every segment is already counted at the top level (the daemon's
 * namespace) or belongs to another namespace's limits: statfs adds
 * nothing. */
static int ns_statfs(struct shm_usage *acc)
{
	(void)acc;
	return 0;
}

static int ns_init(const struct shmfs_config *cfg)
{
	(void)cfg;
	clock_gettime(CLOCK_REALTIME, &ns_started);
	return ns_pool_init(NS_THREADS);
}

static void ns_fini(void)
{
	ns_pool_fini();
}

const struct shmfs_backend ns_backend = {
	.name = "ns",
	.init = ns_init,
	.fini = ns_fini,
	.list = ns_list,
	.stat = ns_stat,
	.meta = ns_meta,
	.readlink = ns_readlink,
	.open = ns_open,
	.create = ns_create,
	.close = ns_close,
	.fstat = ns_fstat,
	.read = ns_read,
	.write = ns_write,
	.write_changed = ns_write_changed,
	.backing = ns_backing,
	.truncate = ns_truncate,
	.remove = ns_remove,
	.setattr = ns_setattr,
	.statfs = ns_statfs,
	.dir_usage = ns_dir_usage,
};
