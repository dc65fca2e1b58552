/* segments.c - the snapshot files (see segments.h): every segment of a
 * namespace, one JSON object per line, made when the file is opened.
 *
 * One listing of each kind and one /proc pass for the whole file
 * (shm_snapshot_begin): the rows agree with each other and with `ls -l`
 * at that moment, and a table of N segments on a host of P processes
 * costs one pass over P and N metadata questions answered from it, where
 * getfattr -d on each file costs about 40 FUSE requests per file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "shmfs.h"
#include "inode.h"
#include "root.h"
#include "segments.h"
#include "textfile.h"
#include "xattr.h"

static struct timespec segments_started;

/* Where a snapshot reads: a kind (be) at be_dir, shown in the mount at
 * shown ("sysv", "ns/4026531839/sysv"). */
struct source {
	const struct shmfs_backend *be;
	char *be_dir;
	char *shown;
	const char *kind; /* user.shm.kind where the metadata names none */
};

/* Whose namespace the rows are: the fields every row repeats. */
struct whose {
	unsigned long long ns;
	const char *container, *container_name;
};

/* The names of GArray of struct shm_dirent below be_dir, each as
 * "DIR/NAME" relative to the listed directory, into set (links and files:
 * unused/KIND's entries). */
static void names_below(const struct shmfs_backend *be, const char *be_dir,
			const char *rel, GHashTable *set, int depth)
{
	g_autoptr(GArray) ents = shm_dirents_new();

	if (depth > 64 || shm_be_list(be, be_dir, ents) != 0)
		return;
	for (guint i = 0; i < ents->len; i++) {
		const struct shm_dirent *e =
			&g_array_index(ents, struct shm_dirent, i);
		g_autofree char *p = shmfs_child_path(be_dir, e->name);
		g_autofree char *r = shmfs_child_path(rel, e->name);

		if (S_ISDIR(e->attr.mode))
			names_below(be, p, r, set, depth + 1);
		else
			g_hash_table_add(set, g_steal_pointer(&r));
	}
}

/* One row: the segment at be_path, shown at shown. */
static void row(const struct source *src, const char *be_path,
		const char *shown, const struct whose *w, GHashTable *unused,
		const char *rel, GString *out)
{
	g_auto(shm_meta) m = { 0 };

	/* Gone since the listing: not a row (as ls -l would not show it). */
	if (shm_be_meta(src->be, be_path, ~0u, &m) != 0)
		return;
	g_string_append(out, "{\"file\":");
	shmfs_json_string(out, shown);
	g_string_append_printf(out, ",\"ns\":%llu,\"container\":", w->ns);
	shmfs_json_string(out, w->container);
	g_string_append(out, ",\"container.name\":");
	shmfs_json_string(out, w->container_name);
	g_string_append_printf(out, ",\"unused\":%s",
			       unused && g_hash_table_contains(unused, rel) ?
				       "true" :
				       "false");
	shmfs_xattr_json(m.kind ? m.kind : src->kind, &m, out);
	g_string_append(out, "}\n");
}

/* Every segment below src's be_dir/dir (recursively: POSIX directories
 * and mapped files' paths). */
static void walk(const struct source *src, const char *dir,
		 const struct whose *w, GHashTable *unused, GString *out,
		 int depth)
{
	g_autoptr(GArray) ents = shm_dirents_new();
	g_autofree char *be_dir = *dir ? shmfs_child_path(src->be_dir, dir) :
					 g_strdup(src->be_dir);

	if (depth > 64 || shm_be_list(src->be, be_dir, ents) != 0)
		return;
	for (guint i = 0; i < ents->len; i++) {
		const struct shm_dirent *e =
			&g_array_index(ents, struct shm_dirent, i);
		g_autofree char *rel = shmfs_child_path(dir, e->name);
		g_autofree char *be_path = shmfs_child_path(be_dir, e->name);
		g_autofree char *shown = shmfs_child_path(src->shown, rel);

		/* System V's by-key/ holds links to its segments and names
		 * not yet made: no segment of its own. */
		if (S_ISDIR(e->attr.mode) && !*dir &&
		    strcmp(src->kind, "sysv") == 0 &&
		    strcmp(e->name, "by-key") == 0)
			continue;
		if (S_ISDIR(e->attr.mode))
			walk(src, rel, w, unused, out, depth + 1);
		else if (S_ISREG(e->attr.mode))
			row(src, be_path, shown, w, unused, rel, out);
	}
}

/* The rows of kind `kind` listed by be at be_dir ("" or "INODE/KIND"),
 * shown under prefix; unused_be lists what nobody uses at unused_dir. */
static void kind_rows(const struct shmfs_backend *be, const char *kind,
		      const char *be_dir, const char *prefix,
		      const struct shmfs_backend *unused_be,
		      const char *unused_dir, const struct whose *w,
		      GString *out)
{
	g_autoptr(GHashTable) unused =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct source src = {
		.be = be,
		.be_dir = (char *)be_dir,
		.shown = *prefix ? g_strdup_printf("%s/%s", prefix, kind) :
				   g_strdup(kind),
		.kind = kind,
	};

	if (unused_be)
		names_below(unused_be, unused_dir, "", unused, 0);
	walk(&src, "", w, unused, out, 0);
	g_free(src.shown);
}

/* Whose namespace ns is (its container and that container's name), as
 * the ns/ tree says; "" where it says nothing (no ns/). */
static void whose_ns(unsigned long long ns, struct shm_dir_usage *u,
		     struct whose *w)
{
	const struct shmfs_backend *nsbe = shmfs_backend_named("ns");
	char dir[24];

	snprintf(dir, sizeof(dir), "%llu", ns);
	w->ns = ns;
	w->container = w->container_name = "";
	if (nsbe && shm_be_dir_usage(nsbe, dir, u) == 0 &&
	    (u->have & SHM_DIR_NS)) {
		w->container = u->ns_container ? u->ns_container : "";
		w->container_name =
			u->ns_container_name ? u->ns_container_name : "";
	}
}

/* The daemon's own IPC namespace: the root's kinds'. */
static unsigned long long own_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/ipc", &st) == 0 ?
		       (unsigned long long)st.st_ino :
		       0;
}

/* The root's rows: every kind of the mount but its views of others. */
static void root_rows(GString *out)
{
	g_auto(shm_dir_usage) u = { 0 };
	const struct shmfs_backend *unused = shmfs_backend_named("unused");
	struct whose w;

	whose_ns(own_ns(), &u, &w);
	for (const struct shmfs_backend *const *b = shmfs_backends(); *b; b++) {
		if (!(*b)->list || *b == unused ||
		    strcmp((*b)->name, "ns") == 0)
			continue;
		kind_rows(*b, (*b)->name, "", "", unused, (*b)->name, &w, out);
	}
}

/* Namespace ns's rows, through ns/ (its System V segments and its
 * /dev/shm). */
static void ns_rows(const char *ns, GString *out)
{
	static const char *const kinds[] = { "sysv", "posix" };
	const struct shmfs_backend *nsbe = shmfs_backend_named("ns");
	g_auto(shm_dir_usage) u = { 0 };
	g_autofree char *prefix = g_strdup_printf("ns/%s", ns);
	struct whose w;

	whose_ns(g_ascii_strtoull(ns, NULL, 10), &u, &w);
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		g_autofree char *dir = g_strdup_printf("%s/%s", ns, kinds[i]);
		g_autofree char *udir =
			g_strdup_printf("%s/unused/%s", ns, kinds[i]);

		kind_rows(nsbe, kinds[i], dir, prefix, nsbe, udir, &w, out);
	}
}

/* The namespace a path names ("INODE/segments"), or NULL for the root's
 * ("segments"); *ok false for neither. */
static char *ns_of_path(const char *path, bool *ok)
{
	const char *slash = strchr(path, '/');

	*ok = false;
	if (!slash) {
		*ok = strcmp(path, SEGMENTS_FILE_NAME) == 0;
		return NULL;
	}
	if (strcmp(slash + 1, SEGMENTS_FILE_NAME) != 0 || slash == path)
		return NULL;
	*ok = true;
	return g_strndup(path, (size_t)(slash - path));
}

static int segments_stat(const char *path, struct shm_attr *out)
{
	g_autofree char *ns = NULL;
	struct shm_attr dir = { 0 };
	bool ok;

	ns = ns_of_path(path, &ok);
	if (!ok)
		return -ENOENT;
	/* A namespace's file goes with the namespace. */
	if (ns && (!shmfs_backend_named("ns") ||
		   shmfs_backend_named("ns")->stat(ns, &dir) != 0))
		return -ENOENT;
	shmfs_text_attr(segments_started, 0, out);
	return 0;
}

static int segments_init(const struct shmfs_config *cfg)
{
	(void)cfg;
	clock_gettime(CLOCK_REALTIME, &segments_started);
	return 0;
}

static int segments_open(const char *path, int flags, struct shm_handle **out)
{
	g_autofree char *ns = NULL;
	struct shm_attr a;
	GString *text;
	int r = segments_stat(path, &a);

	if (r)
		return r;
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	ns = ns_of_path(path, &(bool){ false });
	text = g_string_new(NULL);
	shm_snapshot_begin(
		(ns ? 0 : SHM_SNAPSHOT_MAPPED) |
		(shmfs_backend_named("ns") ? SHM_SNAPSHOT_NAMESPACES : 0));
	if (ns)
		ns_rows(ns, text);
	else
		root_rows(text);
	shm_snapshot_end();
	return shmfs_text_open(text, out);
}

static int segments_fstat(struct shm_handle *h, struct shm_attr *out)
{
	shmfs_text_attr(segments_started, shmfs_text_len(h), out);
	return 0;
}

const struct shmfs_backend shmfs_segments_file = {
	.name = "segments",
	.direct = true,
	.init = segments_init,
	.stat = segments_stat,
	.open = segments_open,
	.close = shmfs_text_close,
	.fstat = segments_fstat,
	.read = shmfs_text_read,
};
