/* nsscan.h - the IPC namespaces that have a process, from the /proc layer
 * (procscan.h: one pass, one freshness rule), and the
 * containers they belong to, from their processes' cgroup paths.
 * Not part of the backend interface: ns.c's. */
#ifndef SHMFS_NSSCAN_H
#define SHMFS_NSSCAN_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <glib.h>

#include "proc/cgroupid.h"

/* One namespace. */
struct ns_info {
	ino_t ns;     /* nsfs inode number, as lsns prints it */
	GArray *pids; /* pid_t, ascending: its processes */
	/* The container of its lowest pid that has one (64 hex digits), or
	 * NULL; and every container its processes are in (char *, each
	 * once: a Kubernetes pod's containers share one namespace). */
	char *container;
	GPtrArray *containers;
	struct timespec started; /* when its lowest pid started */
};

/* A snapshot of every namespace (struct ns_info *, ascending by ns);
 * release it with ns_scan_unref. */
struct ns_scan;

/* Ages for ns_scan_get: what a listing may show, and none at all (a name
 * missing from the snapshot: a namespace shows as soon as it is asked
 * for, even if the watcher's look at the namespaces just ran). */
#define NS_SCAN_LISTING_US (1000 * 1000)
#define NS_SCAN_NOW 0

/* A snapshot at most max_age_us old: the cached one, or a new one. */
struct ns_scan *ns_scan_get(gint64 max_age_us);
void ns_scan_unref(struct ns_scan *s);
typedef struct ns_scan ns_scan;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ns_scan, ns_scan_unref)

guint ns_scan_len(const struct ns_scan *s);
const struct ns_info *ns_scan_at(const struct ns_scan *s, guint i);
/* The namespace with inode ns, or NULL. */
const struct ns_info *ns_scan_find(const struct ns_scan *s, ino_t ns);

/* How a name finds its namespace in a snapshot: by inode number, or by
 * container id (ns.c's links). */
typedef const struct ns_info *(*ns_finder)(const struct ns_scan *s,
					   const void *key);
/* The snapshot (a reference) and *info, what find gives in it; a name
 * missing from the snapshot looks again in a newer one. */
struct ns_scan *ns_scan_lookup(ns_finder find, const void *key,
			       const struct ns_info **info);
/* The same for namespace ns by its inode number. */
struct ns_scan *ns_scan_with(ino_t ns, const struct ns_info **info);

#endif
