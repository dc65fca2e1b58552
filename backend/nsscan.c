/* nsscan.c - see nsscan.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nsctx.h"
#include "nsscan.h"

struct ns_scan {
	gint refs;
	gint64 at;	 /* monotonic microseconds */
	GPtrArray *list; /* struct ns_info *, ascending by ns */
};

/* scan_lock protects cached.  A leaf lock: a user takes a reference and
 * reads the snapshot unlocked (a snapshot never changes). */
G_LOCK_DEFINE_STATIC(scan_lock);
static struct ns_scan *cached;

static void info_free(void *p)
{
	struct ns_info *i = p;

	g_array_unref(i->pids);
	g_free(i->container);
	g_ptr_array_unref(i->containers);
	g_free(i);
}

void ns_scan_unref(struct ns_scan *s)
{
	if (s && g_atomic_int_dec_and_test(&s->refs)) {
		g_ptr_array_unref(s->list);
		g_free(s);
	}
}

static bool is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
			return false;
	return true;
}

/* One path component as a container id: "ID", or ID with a runtime's
 * prefix and ".scope". */
static char *component_id(const char *c, size_t n)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-",
						"crio-", "libpod-", "" };
	const char *suffix = ".scope";
	size_t sn = strlen(suffix);

	if (n > sn && memcmp(c + n - sn, suffix, sn) == 0)
		n -= sn;
	for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
		size_t pn = strlen(prefixes[i]);

		if (n >= pn && memcmp(c, prefixes[i], pn) == 0 &&
		    is_hex64(c + pn, n - pn))
			return g_strndup(c + pn, n - pn);
	}
	return NULL;
}

char *ns_container_of_cgroup(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l; l++) {
		/* "hierarchy:controllers:path" */
		const char *path = strchr(*l, ':');

		if (!path || !(path = strchr(path + 1, ':')))
			continue;
		path++;
		for (const char *end = path + strlen(path); end > path;) {
			const char *start = end;

			while (start > path && start[-1] != '/')
				start--;
			char *id = component_id(start, (size_t)(end - start));

			if (id)
				return id;
			end = start > path ? start - 1 : path;
		}
	}
	return NULL;
}

static char *container_of_pid(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cgroup", (int)pid);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return ns_container_of_cgroup(text);
}

static gint info_cmp(gconstpointer a, gconstpointer b)
{
	const struct ns_info *x = *(struct ns_info *const *)a;
	const struct ns_info *y = *(struct ns_info *const *)b;

	return (x->ns > y->ns) - (x->ns < y->ns);
}

static gint pid_cmp(gconstpointer a, gconstpointer b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Who is in which namespace, and in which containers. */
static void add_containers(struct ns_info *info)
{
	for (guint i = 0; i < info->pids->len; i++) {
		char *id =
			container_of_pid(g_array_index(info->pids, pid_t, i));
		bool seen = false;

		if (!id)
			continue;
		for (guint k = 0; k < info->containers->len && !seen; k++)
			seen = strcmp(id, g_ptr_array_index(info->containers,
							    k)) == 0;
		if (!info->container)
			info->container = g_strdup(id);
		if (seen)
			g_free(id);
		else
			g_ptr_array_add(info->containers, id);
	}
}

static struct ns_scan *scan_now(void)
{
	g_autoptr(GHashTable) by_ns =
		g_hash_table_new(g_int64_hash, g_int64_equal);
	struct ns_scan *s = g_new0(struct ns_scan, 1);
	struct dirent *de;
	DIR *d;

	s->refs = 1;
	s->list = g_ptr_array_new_with_free_func(info_free);
	d = opendir("/proc");
	// cppcheck-suppress readdirCalled
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		gint64 ns;
		struct ns_info *info;

		if (*end || pid <= 0)
			continue;
		ns = (gint64)shm_ipc_ns_of_pid((pid_t)pid);
		if (!ns)
			continue; /* exited meanwhile */
		info = g_hash_table_lookup(by_ns, &ns);
		if (!info) {
			info = g_new0(struct ns_info, 1);
			info->ns = (ino_t)ns;
			info->pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
			info->containers =
				g_ptr_array_new_with_free_func(g_free);
			g_ptr_array_add(s->list, info);
			g_hash_table_insert(by_ns, (gint64 *)&info->ns, info);
		}
		g_array_append_val(info->pids, (pid_t){ (pid_t)pid });
	}
	if (d)
		closedir(d);
	g_ptr_array_sort(s->list, info_cmp);
	for (guint i = 0; i < s->list->len; i++) {
		struct ns_info *info = g_ptr_array_index(s->list, i);
		g_autofree char *proc = NULL;
		struct stat st;

		g_array_sort(info->pids, pid_cmp);
		proc = g_strdup_printf(
			"/proc/%d", (int)g_array_index(info->pids, pid_t, 0));
		if (stat(proc, &st) == 0)
			info->started = st.st_mtim;
		add_containers(info);
	}
	s->at = g_get_monotonic_time();
	return s;
}

struct ns_scan *ns_scan_get(gint64 max_age_us)
{
	struct ns_scan *s = NULL;

	G_LOCK(scan_lock);
	if (cached && g_get_monotonic_time() - cached->at < max_age_us) {
		s = cached;
		g_atomic_int_inc(&s->refs);
	}
	G_UNLOCK(scan_lock);
	if (s)
		return s;
	s = scan_now();
	G_LOCK(scan_lock);
	ns_scan_unref(cached);
	cached = s;
	g_atomic_int_inc(&s->refs);
	G_UNLOCK(scan_lock);
	return s;
}

guint ns_scan_len(const struct ns_scan *s)
{
	return s->list->len;
}

const struct ns_info *ns_scan_at(const struct ns_scan *s, guint i)
{
	return g_ptr_array_index(s->list, i);
}

const struct ns_info *ns_scan_find(const struct ns_scan *s, ino_t ns)
{
	for (guint i = 0; i < s->list->len; i++) {
		const struct ns_info *info = g_ptr_array_index(s->list, i);

		if (info->ns == ns)
			return info;
	}
	return NULL;
}

static const struct ns_info *by_inode(const struct ns_scan *s, const void *key)
{
	return ns_scan_find(s, *(const ino_t *)key);
}

/* The snapshot (a reference) and *info, what find gives in it; a name
 * missing from the snapshot looks again in a newer one. */
struct ns_scan *ns_scan_lookup(ns_finder find, const void *key,
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

struct ns_scan *ns_scan_with(ino_t ns, const struct ns_info **info)
{
	return ns_scan_lookup(by_inode, &ns, info);
}
