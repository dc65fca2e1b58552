/* nsscan.c - see nsscan.h. */
#define _GNU_SOURCE
#include <string.h>

#include "nsscan.h"
#include "proc/procscan.h"

struct ns_scan {
	gint refs;
	gint64 at;	 /* when its pass began (monotonic microseconds) */
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

static gint info_cmp(gconstpointer a, gconstpointer b)
{
	const struct ns_info *x = *(struct ns_info *const *)a;
	const struct ns_info *y = *(struct ns_info *const *)b;

	return (x->ns > y->ns) - (x->ns < y->ns);
}

/* A task's container into info, each once. */
static void add_container(struct ns_info *info, const char *id)
{
	for (guint k = 0; k < info->containers->len; k++)
		if (strcmp(id, g_ptr_array_index(info->containers, k)) == 0)
			return;
	if (!info->container)
		info->container = g_strdup(id);
	g_ptr_array_add(info->containers, g_strdup(id));
}

/* The namespaces of one pass of the /proc layer (its tasks come
 * ascending by pid, so each namespace's pids do too, and its first task
 * is its lowest pid). */
static struct ns_scan *scan_of(const struct shm_proc *p)
{
	g_autoptr(GHashTable) by_ns =
		g_hash_table_new(g_int64_hash, g_int64_equal);
	const GArray *tasks = shm_proc_tasks(p);
	struct ns_scan *s = g_new0(struct ns_scan, 1);

	s->refs = 1;
	s->at = shm_proc_began(p);
	s->list = g_ptr_array_new_with_free_func(info_free);
	for (guint i = 0; i < tasks->len; i++) {
		const struct shm_task *t =
			&g_array_index(tasks, struct shm_task, i);
		gint64 ns = (gint64)t->ns;
		struct ns_info *info = g_hash_table_lookup(by_ns, &ns);

		if (!info) {
			info = g_new0(struct ns_info, 1);
			info->ns = t->ns;
			info->pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
			info->containers =
				g_ptr_array_new_with_free_func(g_free);
			info->started = t->started;
			g_ptr_array_add(s->list, info);
			g_hash_table_insert(by_ns, (gint64 *)&info->ns, info);
		}
		g_array_append_val(info->pids, t->pid);
		if (t->container)
			add_container(info, t->container);
	}
	g_ptr_array_sort(s->list, info_cmp);
	return s;
}

/* The namespaces of a pass of the /proc layer begun at most max_age_us
 * before now (procscan.h's single flight and freshness), made once per
 * pass and shared. */
struct ns_scan *ns_scan_get(gint64 max_age_us)
{
	g_autoptr(shm_proc) p = shm_proc_get(SHM_PROC_TASKS, max_age_us);
	struct ns_scan *s = NULL;

	G_LOCK(scan_lock);
	if (cached && cached->at == shm_proc_began(p)) {
		s = cached;
		g_atomic_int_inc(&s->refs);
	}
	G_UNLOCK(scan_lock);
	if (s)
		return s;
	s = scan_of(p);
	G_LOCK(scan_lock);
	if (!cached || cached->at <= s->at) {
		ns_scan_unref(cached);
		cached = s;
		g_atomic_int_inc(&s->refs);
	}
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
 * missing from the snapshot looks again in one begun after it was asked
 * for (single flight: many misses at once share it). */
struct ns_scan *ns_scan_lookup(ns_finder find, const void *key,
			       const struct ns_info **info)
{
	struct ns_scan *s = ns_scan_get(NS_SCAN_LISTING_US);

	*info = find(s, key);
	if (!*info) {
		ns_scan_unref(s);
		s = ns_scan_get(NS_SCAN_NOW);
		*info = find(s, key);
	}
	return s;
}

struct ns_scan *ns_scan_with(ino_t ns, const struct ns_info **info)
{
	return ns_scan_lookup(by_inode, &ns, info);
}
