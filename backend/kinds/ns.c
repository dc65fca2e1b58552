/* ns.c - ns/: every IPC namespace that has a process, each with its own
 * System V segments, /dev/shm and unused/ (--all-namespaces):
 *
 *   ns/INODE/sysv/...          that namespace's segments (and by-key/)
 *   ns/INODE/posix/...         its /dev/shm, as a process in it sees it
 *   ns/INODE/unused/...        what nobody there uses
 *   ns/by-container/ID -> ../INODE   ID: 12 hex digits, as docker ps
 *   ns/by-name/NAME -> ../INODE      NAME: as docker ps (dockernames.h)
 *
 * INODE is the namespace's inode number, as lsns prints it.  This file
 * is the tree; below ns/INODE/KIND it is only a door: each call goes,
 * unchanged, to the KIND backend, run inside the namespace by nscall.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "origin/dockernames.h"
#include "nsenter/nscall.h"
#include "nsenter/nspool.h"
#include "nsenter/nsscan.h"

#define BY_CONTAINER "by-container"
#define BY_NAME "by-name"
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
enum ns_where { NS_TOP, NS_LINKS, NS_LINK, NS_DIR, NS_KIND };

struct ns_links;

struct ns_path {
	enum ns_where where;
	ino_t ns;			/* NS_DIR, NS_KIND */
	const struct shmfs_backend *be; /* NS_KIND */
	const char *rest;		/* NS_KIND: the kind's own path */
	const struct ns_links *links;	/* NS_LINKS, NS_LINK */
	const char *link;		/* NS_LINK: its name */
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

/* Container id's name in by-container/: its short id, as docker ps
 * prints it. */
static char *short_id(const char *id)
{
	return g_strndup(id, SHORT_ID);
}

/* The link directories: each names a namespace by one of its containers,
 * its name there newly allocated by name_of, or NULL for none. */
static const struct ns_links {
	const char *dir;
	char *(*name_of)(const char *id);
} link_dirs[] = {
	{ BY_CONTAINER, short_id },
	{ BY_NAME, docker_name_of },
};

static int parse(const char *path, struct ns_path *p)
{
	const char *slash = strchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : strlen(path);

	*p = (struct ns_path){ .where = NS_TOP };
	if (!path[0])
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(link_dirs); i++) {
		if (n != strlen(link_dirs[i].dir) ||
		    strncmp(path, link_dirs[i].dir, n) != 0)
			continue;
		p->links = &link_dirs[i];
		if (!slash) {
			p->where = NS_LINKS;
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

/* ns/INODE lists the kinds that have a directory there. */
static int kind_dirs(void *arg)
{
	GArray *out = arg;
	struct shm_attr a;

	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (kinds[i]->stat("", &a) == 0)
			shm_dirents_add(out, kinds[i]->name, &a);
	return 0;
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

/* The namespace a link (key: its struct ns_path) names, or NULL. */
static const struct ns_info *link_ns(const struct ns_scan *s, const void *key)
{
	const struct ns_path *p = key;

	for (guint i = 0; i < ns_scan_len(s); i++) {
		const struct ns_info *info = ns_scan_at(s, i);

		for (guint k = 0; k < info->containers->len; k++) {
			g_autofree char *name = p->links->name_of(
				g_ptr_array_index(info->containers, k));

			if (name && strcmp(name, p->link) == 0)
				return info;
		}
	}
	return NULL;
}

static int list_top(GArray *out)
{
	g_autoptr(ns_scan) s = ns_scan_get(NS_SCAN_LISTING_US);
	struct shm_attr a;

	dir_attr(&a, ns_started);
	for (size_t i = 0; i < G_N_ELEMENTS(link_dirs); i++)
		shm_dirents_add(out, link_dirs[i].dir, &a);
	for (guint i = 0; i < ns_scan_len(s); i++) {
		const struct ns_info *info = ns_scan_at(s, i);
		char name[24];

		dir_attr(&a, info->started);
		snprintf(name, sizeof(name), "%lu", (unsigned long)info->ns);
		shm_dirents_add(out, name, &a);
	}
	return 0;
}

static int list_links(const struct ns_links *links, GArray *out)
{
	g_autoptr(ns_scan) s = ns_scan_get(NS_SCAN_LISTING_US);
	g_autoptr(GHashTable) seen =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct shm_attr a;

	for (guint i = 0; i < ns_scan_len(s); i++) {
		const struct ns_info *info = ns_scan_at(s, i);

		for (guint k = 0; k < info->containers->len; k++) {
			char *id = links->name_of(
				g_ptr_array_index(info->containers, k));
			char target[24];

			if (!id || !g_hash_table_add(seen, id))
				continue;
			link_attr(&a, info);
			/* The target as listed, for the readlink after it. */
			snprintf(target, sizeof(target), "../%lu",
				 (unsigned long)info->ns);
			shm_dirents_add_link(out, id, &a, target);
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
	case NS_LINKS:
		return list_links(p.links, out);
	case NS_LINK:
		return -ENOTDIR;
	case NS_DIR:
		return ns_call_in(p.ns, &(struct ns_call){ .op = OP_FN,
							   .fn = kind_dirs,
							   .out = out });
	case NS_KIND:
		break;
	}
	return ns_call_in(p.ns, &(struct ns_call){
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
	case NS_LINKS:
		dir_attr(out, ns_started);
		return 0;
	case NS_LINK:
		s = ns_scan_lookup(link_ns, &p, &info);
		if (!info)
			return -ENOENT;
		link_attr(out, info);
		return 0;
	case NS_DIR:
		s = ns_scan_with(p.ns, &info);
		if (!info)
			return -ENOENT;
		dir_attr(out, info->started);
		return 0;
	case NS_KIND:
		break;
	}
	return ns_call_in(p.ns, &(struct ns_call){
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
	r = ns_call_in(p.ns, &(struct ns_call){ .op = OP_META,
						.be = p.be,
						.path = p.rest,
						.want = want,
						.out = out });
	if (!out->kind) /* a kind's own word for it stays (a semaphore) */
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
		s = ns_scan_lookup(link_ns, &p, &info);
		if (!info)
			return -ENOENT;
		*out = g_strdup_printf("../%lu", (unsigned long)info->ns);
		return 0;
	}
	if (p.where != NS_KIND)
		return -EINVAL;
	return ns_call_in(p.ns, &(struct ns_call){ .op = OP_READLINK,
						   .be = p.be,
						   .path = p.rest,
						   .out = out });
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
	r = ns_call_in(p.ns, &(struct ns_call){ .op = OP_OPEN,
						.be = p.be,
						.path = p.rest,
						.flags = flags,
						.out = &in });
	if (r == 0)
		*out = ns_handle_new(p.ns, p.be, in);
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
	r = ns_call_in(p.ns, &(struct ns_call){ .op = OP_CREATE,
						.be = p.be,
						.path = p.rest,
						.name = name,
						.mode = mode,
						.flags = flags,
						.uid = uid,
						.gid = gid,
						.out = &in });
	if (r == 0)
		*out = ns_handle_new(p.ns, p.be, in);
	return r;
}

static int ns_truncate(const char *path, struct shm_handle *h, uint64_t size)
{
	struct ns_path p;
	int r = kind_path(path, &p);

	if (r)
		return r;
	return ns_call_in(p.ns,
			  &(struct ns_call){ .op = OP_TRUNCATE,
					     .be = p.be,
					     .path = p.rest,
					     .h = h ? ns_handle_inner(h) : NULL,
					     .off = size });
}

static int ns_remove(const char *path)
{
	struct ns_path p;
	int r = kind_path(path, &p);

	if (r)
		return r;
	return ns_call_in(p.ns, &(struct ns_call){
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
	return ns_call_in(p.ns, &(struct ns_call){
					.op = OP_SETATTR,
					.be = p.be,
					.path = p.rest,
					.set = set,
				});
}

/* A tree operation and the kind it is for, run in the namespace. */
struct tree_call {
	const struct shmfs_backend *be;
	struct shm_tree_op op;
};

static int tree_in_ns(void *arg)
{
	struct tree_call *c = arg;

	return shm_be_tree(c->be, &c->op);
}

/* Both names of a link or rename must be in one namespace's one kind:
 * EXDEV otherwise, as between two filesystems. */
static int ns_tree(const struct shm_tree_op *op)
{
	struct tree_call c = { .op = *op };
	struct ns_path p, q;
	int r = kind_path(op->path, &p);

	/* Nothing is made, moved or removed above ns/INODE/KIND/. */
	if (r)
		return op->what == SHM_RENAME ? -EXDEV : -EPERM;
	if (op->what == SHM_LINK || op->what == SHM_RENAME) {
		if (kind_path(op->to, &q) != 0 || q.ns != p.ns || q.be != p.be)
			return -EXDEV;
		c.op.to = q.rest;
	}
	c.be = p.be;
	c.op.path = p.rest;
	return ns_call_in(
		p.ns,
		&(struct ns_call){ .op = OP_FN, .fn = tree_in_ns, .out = &c });
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
		return ns_call_in(p.ns, &(struct ns_call){ .op = OP_DIR_USAGE,
							   .be = p.be,
							   .path = p.rest,
							   .out = out });
	if (p.where != NS_DIR)
		return -ENODATA;
	s = ns_scan_with(p.ns, &info);
	if (!info)
		return -ENOENT;
	*out = (struct shm_dir_usage){
		.have = SHM_DIR_NS,
		.ns_pids = g_array_ref(info->pids),
		.ns_command = command_of(g_array_index(info->pids, pid_t, 0)),
		.ns_container =
			g_strdup(info->container ? info->container : ""),
		.ns_container_name = docker_name_of(info->container),
	};
	if (!out->ns_container_name)
		out->ns_container_name = g_strdup("");
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
	docker_names_init();
	return ns_pool_init(NS_THREADS);
}

static void ns_fini(void)
{
	ns_pool_fini();
	docker_names_fini();
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
	.fallocate = ns_fallocate,
	.seek = ns_seek,
	.backing = ns_backing,
	.truncate = ns_truncate,
	.remove = ns_remove,
	.setattr = ns_setattr,
	.tree = ns_tree,
	.statfs = ns_statfs,
	.dir_usage = ns_dir_usage,
};
