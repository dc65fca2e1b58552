/* metrics.c - shmfs.prom at the mount's root: shared memory and the
 * daemon's health in Prometheus' text exposition format, so that
 * node_exporter's textfile collector pointed at the mount root serves it.
 *
 * The text is made when the file is opened (no background work), from the
 * kinds' own listings and limits and from the daemon's counters; it is
 * read through FUSE without the page cache (its size is unknown before).
 * One series per kind, never one per segment.  It presents itself as a
 * backend, the front's own, reached by name at the root only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "caller_limits.h"
#include "counters.h"
#include "events.h"
#include "metrics.h"
#include "prune.h"
#include "proc/procscan.h"
#include "shmfs.h"
#include "textfile.h"

#define METRICS_FILE METRICS_FILE_NAME

static struct timespec metrics_started;

bool shmfs_metrics_name(const char *name)
{
	return strcmp(name, METRICS_FILE) == 0;
}

struct kind_figures {
	uint64_t segments, bytes, unused, unused_bytes;
	uint64_t semaphores, unused_semaphores; /* counted apart */
};

/* Segments and bytes of a kind (regular files of its directory). */
static void count_kind(const struct shmfs_backend *be, struct kind_figures *k)
{
	g_autoptr(GArray) ents = shm_dirents_new();

	if (shm_be_list(be, "", ents) != 0)
		return;
	for (guint i = 0; i < ents->len; i++) {
		const struct shm_dirent *d =
			&g_array_index(ents, struct shm_dirent, i);

		if (!S_ISREG(d->attr.mode))
			continue;
		if (d->attr.semaphore) {
			k->semaphores++;
			continue;
		}
		k->segments++;
		k->bytes += d->attr.size;
	}
}

/* The unused ones (unused/KIND), with their sizes from the kind itself. */
static void count_unused(const struct shmfs_backend *unused,
			 const struct shmfs_backend *be, struct kind_figures *k)
{
	g_autoptr(GArray) ents = shm_dirents_new();
	struct shm_attr a;

	if (!unused || shm_be_list(unused, be->name, ents) != 0)
		return;
	for (guint i = 0; i < ents->len; i++) {
		const struct shm_dirent *d =
			&g_array_index(ents, struct shm_dirent, i);

		if (be->stat(d->name, &a) != 0)
			continue; /* gone meanwhile */
		if (a.semaphore) {
			k->unused_semaphores++;
			continue;
		}
		k->unused++;
		k->unused_bytes += a.size;
	}
}

static void family(GString *t, const char *name, const char *type,
		   const char *help)
{
	g_string_append_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
}

static void sample(GString *t, const char *name, const char *labels, uint64_t v)
{
	g_string_append_printf(t, "%s%s %llu\n", name, labels ? labels : "",
			       (unsigned long long)v);
}

/* The kinds whose files are segments, in mount order (at most 4). */
static size_t counted_kinds(const struct shmfs_backend *out[4])
{
	size_t n = 0;

	for (const struct shmfs_backend *const *b = shmfs_backends();
	     *b && n < 4; b++)
		if ((*b)->segments)
			out[n++] = *b;
	return n;
}

/* One namespace's figures (ns/INODE/...), read through its kinds. */
struct ns_figures {
	char *ns, *container;
	struct shm_dir_usage posix;
	bool has_posix;
	uint64_t sysv_segments, sysv_bytes;
	uint64_t unused[2], unused_bytes[2]; /* sysv, posix */
};

/* Regular files of dir (ns/-relative) and their sizes; links followed
 * to their kind's file when `base` is given (unused/KIND lists links). */
static void count_dir(const struct shmfs_backend *ns, const char *dir,
		      const char *base, uint64_t *n, uint64_t *bytes)
{
	g_autoptr(GArray) ents = shm_dirents_new();
	struct shm_attr a;

	if (shm_be_list(ns, dir, ents) != 0)
		return;
	for (guint i = 0; i < ents->len; i++) {
		const struct shm_dirent *d =
			&g_array_index(ents, struct shm_dirent, i);
		g_autofree char *p = NULL;

		if (base) {
			p = g_strconcat(base, "/", d->name, NULL);
			if (ns->stat(p, &a) != 0 || a.semaphore)
				continue; /* gone meanwhile */
		} else {
			if (!S_ISREG(d->attr.mode))
				continue;
			a = d->attr;
		}
		(*n)++;
		*bytes += a.size;
	}
}

/* One sample per namespace and kind of its unused segments (bytes: their
 * sizes). */
static void unused_samples(GString *t, GPtrArray *all, const char *metric,
			   bool bytes)
{
	char labels[200];

	for (guint i = 0; i < all->len; i++) {
		struct ns_figures *f = all->pdata[i];

		for (int k = 0; k < 2; k++) {
			snprintf(labels, sizeof(labels),
				 "{ns=\"%s\",container=\"%s\",kind=\"%s\"}",
				 f->ns, f->container, k ? "posix" : "sysv");
			sample(t, metric, labels,
			       bytes ? f->unused_bytes[k] : f->unused[k]);
		}
	}
}

/* Per IPC namespace (with --all-namespaces): one series set per live
 * namespace, labelled with its inode number and its container id ("" for
 * none); a namespace's series go with it. */
static void ns_series(GString *t)
{
	const struct shmfs_backend *ns = shmfs_backend_named("ns");
	g_autoptr(GArray) ents = NULL;
	g_autoptr(GPtrArray) all = NULL;
	char labels[200];

	if (!ns)
		return;
	ents = shm_dirents_new();
	all = g_ptr_array_new();
	if (shm_be_list(ns, "", ents) != 0)
		return;
	for (guint i = 0; i < ents->len; i++) {
		const char *name =
			g_array_index(ents, struct shm_dirent, i).name;
		struct ns_figures *f;
		g_auto(shm_dir_usage) who = { 0 };
		g_autofree char *sysv = NULL, *px = NULL, *us = NULL,
				*up = NULL, *bs = NULL, *bp = NULL;

		if (!g_ascii_isdigit(name[0]))
			continue; /* by-container/ */
		if (shm_be_dir_usage(ns, name, &who) != 0)
			continue; /* gone meanwhile */
		f = g_new0(struct ns_figures, 1);
		f->ns = g_strdup(name);
		f->container =
			g_strdup(who.ns_container ? who.ns_container : "");
		px = g_strconcat(name, "/posix", NULL);
		f->has_posix = shm_be_dir_usage(ns, px, &f->posix) == 0 &&
			       (f->posix.have & SHM_DIR_FILES);
		sysv = g_strconcat(name, "/sysv", NULL);
		count_dir(ns, sysv, NULL, &f->sysv_segments, &f->sysv_bytes);
		us = g_strconcat(name, "/unused/sysv", NULL);
		bs = g_strconcat(name, "/sysv", NULL);
		count_dir(ns, us, bs, &f->unused[0], &f->unused_bytes[0]);
		up = g_strconcat(name, "/unused/posix", NULL);
		bp = g_strconcat(name, "/posix", NULL);
		count_dir(ns, up, bp, &f->unused[1], &f->unused_bytes[1]);
		g_ptr_array_add(all, f);
	}
#define PER_NS(metric, type, help, cond, value)                                \
	do {                                                                   \
		family(t, metric, type, help);                                 \
		for (guint i = 0; i < all->len; i++) {                         \
			struct ns_figures *f = all->pdata[i];                  \
			if (!(cond))                                           \
				continue;                                      \
			snprintf(labels, sizeof(labels),                       \
				 "{ns=\"%s\",container=\"%s\"}", f->ns,        \
				 f->container);                                \
			sample(t, metric, labels, (value));                    \
		}                                                              \
	} while (0)
	PER_NS("shmfs_namespace_posix_size_bytes", "gauge",
	       "Size of each IPC namespace's /dev/shm (its container's "
	       "--shm-size), one series per live namespace.",
	       f->has_posix, f->posix.bytes_total);
	PER_NS("shmfs_namespace_posix_used_bytes", "gauge",
	       "Bytes used in each namespace's /dev/shm (df).", f->has_posix,
	       f->posix.bytes_used);
	PER_NS("shmfs_namespace_posix_objects", "gauge",
	       "POSIX objects in each namespace's /dev/shm.", f->has_posix,
	       f->posix.objects);
	PER_NS("shmfs_namespace_sysv_segments", "gauge",
	       "System V segments of each namespace (its ipcs -m).", true,
	       f->sysv_segments);
	PER_NS("shmfs_namespace_sysv_bytes", "gauge",
	       "Their sizes added up, in bytes.", true, f->sysv_bytes);
#undef PER_NS
	family(t, "shmfs_namespace_unused_segments", "gauge",
	       "Each namespace's segments nobody uses (its unused/), by kind.");
	unused_samples(t, all, "shmfs_namespace_unused_segments", false);
	family(t, "shmfs_namespace_unused_bytes", "gauge",
	       "The sizes of each namespace's unused segments, by kind.");
	unused_samples(t, all, "shmfs_namespace_unused_bytes", true);
	for (guint i = 0; i < all->len; i++) {
		struct ns_figures *f = all->pdata[i];

		shm_dir_usage_clear(&f->posix);
		g_free(f->ns);
		g_free(f->container);
		g_free(f);
	}
}

/* The watcher and the events file (watch.c, events.c). */
static void watch_series(GString *t)
{
	struct shm_watch_stats w;
	uint64_t written, dropped;

	shm_watch_counts(&w);
	shmfs_events_counts(&written, &dropped);
	family(t, "shmfs_watch_rounds_total", "counter",
	       "Rounds of the watcher over every IPC namespace's System V "
	       "table.");
	sample(t, "shmfs_watch_rounds_total", NULL, w.passes);
	family(t, "shmfs_watch_full_reads_total", "counter",
	       "System V tables the watcher read whole (one moved, or a "
	       "safety interval passed).");
	sample(t, "shmfs_watch_full_reads_total", NULL, w.full_scans);
	family(t, "shmfs_watch_interval_seconds", "gauge",
	       "Time between the watcher's rounds now: a System V segment's "
	       "creator that lives less can be missed (at most 1% of a core "
	       "is spent).");
	g_string_append_printf(t, "shmfs_watch_interval_seconds %.6f\n",
			       w.interval);
	family(t, "shmfs_watch_posix_dirs", "gauge",
	       "POSIX directories watched with inotify.");
	sample(t, "shmfs_watch_posix_dirs", NULL, w.posix_dirs);
	family(t, "shmfs_creators_missed_total", "counter",
	       "System V segments first seen after their creator had "
	       "exited: their command line is not known.");
	sample(t, "shmfs_creators_missed_total", NULL, w.creators_missed);
	family(t, "shmfs_watch_source", "gauge",
	       "Where who made and removed each segment comes from: 1 for "
	       "the source in use (ebpf: the kernel's calls, traced; proc: "
	       "/proc and fanotify, creators only).");
	sample(t, "shmfs_watch_source", "{source=\"ebpf\"}", w.traced);
	sample(t, "shmfs_watch_source", "{source=\"proc\"}", !w.traced);
	family(t, "shmfs_trace_hooks", "gauge",
	       "Where the eBPF tracer runs: 1 for the hooks in use (calls: "
	       "the calls' own functions, nothing else pays; syscalls: the "
	       "tracepoints of every system call).");
	sample(t, "shmfs_trace_hooks", "{hooks=\"calls\"}",
	       w.traced && strcmp(w.trace_hooks, "calls") == 0);
	sample(t, "shmfs_trace_hooks", "{hooks=\"syscalls\"}",
	       w.traced && strcmp(w.trace_hooks, "syscalls") == 0);
	family(t, "shmfs_trace_events_total", "counter",
	       "Calls the eBPF tracer reported (segments made and removed).");
	sample(t, "shmfs_trace_events_total", NULL, w.trace_events);
	family(t, "shmfs_trace_lost_total", "counter",
	       "Calls the kernel could not report: its ring was full.");
	sample(t, "shmfs_trace_lost_total", NULL, w.trace_lost);
	family(t, "shmfs_events_total", "counter",
	       "Lines written to the events file (segments made or "
	       "removed).");
	sample(t, "shmfs_events_total", NULL, written);
	family(t, "shmfs_events_dropped_total", "counter",
	       "Lines dropped from the events file's ring, oldest first.");
	sample(t, "shmfs_events_dropped_total", NULL, dropped);
}

static GString *make_text(void)
{
	const struct shmfs_backend *kinds[4];
	const struct shmfs_backend *unused = shmfs_backend_named("unused");
	size_t nk = counted_kinds(kinds);
	struct kind_figures k[4] = { { 0 } };
	struct shm_dir_usage su = { 0 }, pu = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	GString *t = g_string_new(NULL);
	char labels[64];
	struct timespec now;

	for (size_t i = 0; i < nk; i++) {
		struct shm_dir_usage u = { 0 };

		count_kind(kinds[i], &k[i]);
		count_unused(unused, kinds[i], &k[i]);
		/* The System V limits, and the POSIX directory's size. */
		if (shm_be_dir_usage(kinds[i], "", &u) != 0)
			continue;
		if (u.have & SHM_DIR_SYSV)
			su = u;
		else if (u.have & SHM_DIR_FILES)
			pu = u;
		else
			shm_dir_usage_clear(&u);
	}

#define PER_KIND(metric, field, help)                                          \
	do {                                                                   \
		family(t, metric, "gauge", help);                              \
		for (size_t i = 0; i < nk; i++) {                              \
			snprintf(labels, sizeof(labels), "{kind=\"%s\"}",      \
				 kinds[i]->name);                              \
			sample(t, metric, labels, k[i].field);                 \
		}                                                              \
	} while (0)
	PER_KIND("shmfs_segments", segments,
		 "Shared memory segments (System V) and objects (POSIX).");
	PER_KIND("shmfs_segment_bytes", bytes,
		 "Their sizes added up, in bytes.");
	PER_KIND("shmfs_unused_segments", unused,
		 "Segments nobody attaches, maps or holds open (unused/).");
	PER_KIND("shmfs_unused_bytes", unused_bytes,
		 "The sizes of the unused segments added up, in bytes.");
	PER_KIND("shmfs_semaphores", semaphores,
		 "POSIX named semaphores (sem_open's files), not counted "
		 "as objects; System V semaphores are not shared memory.");
	PER_KIND("shmfs_unused_semaphores", unused_semaphores,
		 "Named semaphores nobody maps (unused/).");
#undef PER_KIND
	family(t, "shmfs_resident_bytes", "gauge",
	       "System V segments' pages in memory, in bytes (ipcs -u).");
	sample(t, "shmfs_resident_bytes", "{kind=\"sysv\"}",
	       su.resident * (uint64_t)page);
	family(t, "shmfs_swapped_bytes", "gauge",
	       "System V segments' pages in swap, in bytes (ipcs -u).");
	sample(t, "shmfs_swapped_bytes", "{kind=\"sysv\"}",
	       su.swapped * (uint64_t)page);
	family(t, "shmfs_sysv_limit_segment_bytes", "gauge",
	       "Largest System V segment allowed (kernel.shmmax).");
	sample(t, "shmfs_sysv_limit_segment_bytes", NULL, su.shmmax);
	family(t, "shmfs_sysv_limit_pages", "gauge",
	       "System V pages allowed in all (kernel.shmall).");
	sample(t, "shmfs_sysv_limit_pages", NULL, su.shmall);
	family(t, "shmfs_sysv_limit_segments", "gauge",
	       "System V segments allowed (kernel.shmmni).");
	sample(t, "shmfs_sysv_limit_segments", NULL, su.shmmni);
	family(t, "shmfs_sysv_used_pages", "gauge",
	       "System V pages allocated (ipcs -u).");
	sample(t, "shmfs_sysv_used_pages", NULL, su.pages);
	family(t, "shmfs_posix_dir_size_bytes", "gauge",
	       "Size of the POSIX directory's filesystem (df).");
	sample(t, "shmfs_posix_dir_size_bytes", NULL, pu.bytes_total);
	family(t, "shmfs_posix_dir_used_bytes", "gauge",
	       "Bytes used in the POSIX directory's filesystem (df).");
	sample(t, "shmfs_posix_dir_used_bytes", NULL, pu.bytes_used);

	ns_series(t);
	family(t, "shmfs_opens_total", "counter",
	       "Files opened through the mount, by data path.");
	sample(t, "shmfs_opens_total", "{path=\"passthrough\"}",
	       shmfs_counted_opens(SHMFS_IO_PASSTHROUGH));
	sample(t, "shmfs_opens_total", "{path=\"fallback\"}",
	       shmfs_counted_opens(SHMFS_IO_FALLBACK));
	sample(t, "shmfs_opens_total", "{path=\"direct\"}",
	       shmfs_counted_opens(SHMFS_IO_DIRECT));
	family(t, "shmfs_opens_held", "gauge",
	       "Files open through the mount by users other than root "
	       "(each holds a share: -o max_open_per_uid).");
	sample(t, "shmfs_opens_held", NULL, shmfs_opens_held());
	family(t, "shmfs_opens_refused_total", "counter",
	       "Opens refused with EMFILE: the user's share, or the pool "
	       "users share, was full.");
	sample(t, "shmfs_opens_refused_total", NULL, shmfs_opens_refused());
	family(t, "shmfs_proc_passes_total", "counter",
	       "Passes over every process's /proc maps (who maps what), "
	       "shared by every question asked meanwhile.");
	sample(t, "shmfs_proc_passes_total", NULL, shm_proc_passes());
	family(t, "shmfs_backing_files", "gauge",
	       "Backing files registered with the kernel for passthrough "
	       "(one per inode with open files) and not yet released.");
	sample(t, "shmfs_backing_files", NULL,
	       (uint64_t)shmfs_counted_backing());
	family(t, "shmfs_inodes", "gauge",
	       "Inodes the daemon keeps: those the kernel holds (looked up "
	       "and not yet forgotten) or that have open files.");
	sample(t, "shmfs_inodes", NULL, shmfs_inode_count());
	family(t, "shmfs_pruned_names_total", "counter",
	       "Names of segments gone from a listing that the kernel was "
	       "told to forget.");
	sample(t, "shmfs_pruned_names_total", NULL, shmfs_prune_count());
	watch_series(t);
	family(t, "shmfs_errors_total", "counter",
	       "Requests answered with an error, by errno.");
	for (int e = 1; e < SHMFS_ERRNO_COUNTED; e++) {
		uint64_t n = shmfs_counted_errors(e);
		const char *name = strerrorname_np(e);

		if (!n || !name)
			continue;
		snprintf(labels, sizeof(labels), "{errno=\"%s\"}", name);
		sample(t, "shmfs_errors_total", labels, n);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	family(t, "shmfs_start_time_seconds", "gauge",
	       "When the daemon mounted, in seconds since the epoch.");
	sample(t, "shmfs_start_time_seconds", NULL,
	       (uint64_t)metrics_started.tv_sec);
	return t;
}

static int metrics_init(const struct shmfs_config *cfg)
{
	(void)cfg;
	clock_gettime(CLOCK_REALTIME, &metrics_started);
	return 0;
}

static int metrics_stat(const char *path, struct shm_attr *out)
{
	if (!shmfs_metrics_name(path))
		return -ENOENT;
	shmfs_text_attr(metrics_started, 0, out);
	return 0;
}

static int metrics_open(const char *path, int flags, struct shm_handle **out)
{
	if (!shmfs_metrics_name(path))
		return -ENOENT;
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	return shmfs_text_open(make_text(), out);
}

static int metrics_fstat(struct shm_handle *h, struct shm_attr *out)
{
	int r = metrics_stat(METRICS_FILE, out);

	out->size = shmfs_text_len(h);
	return r;
}

const struct shmfs_backend shmfs_metrics_file = {
	.name = "metrics",
	.direct = true,
	.init = metrics_init,
	.stat = metrics_stat,
	.open = metrics_open,
	.close = shmfs_text_close,
	.fstat = metrics_fstat,
	.read = shmfs_text_read,
};
