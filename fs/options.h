/* options.h - shmfs's command line: its own options (--opt VALUE, and
 * each also as -o opt=VALUE), libfuse's passed on to it, any other
 * refused in one line, and --help. */
#ifndef SHMFS_OPTIONS_H
#define SHMFS_OPTIONS_H

#include <glib.h>

#include "shmfs.h"

/* Seconds the kernel may cache names and attributes: short enough that a
 * segment created or removed natively shows within one second. */
#define SHMFS_DEFAULT_TIMEOUT 0.5
/* Milliseconds between page cache refreshes of open files (0: never). */
#define SHMFS_DEFAULT_REFRESH 100
/* Worker threads at most, unless -o max_threads says: libfuse's 10 let a
 * few callers waiting for a /proc pass hold every thread. */
#define SHMFS_DEFAULT_THREADS 64

struct shmfs_opts {
	GPtrArray *map_dirs; /* --map-dir, repeatable */
	char *posix_dir;
	char *ipc_ns;
	int pid;
	double timeout;
	int refresh_ms;
	int verbose;
	int no_auto_unmount;
	int all_namespaces;
	int watch_ms;	      /* the watcher's round, at least; 0: none */
	int events_max;	      /* lines the events file keeps */
	int max_open_per_uid; /* caller_limits.h; 0: the default */
	char *passthrough;    /* "on" (default) or "off" */
	char *trace;	      /* "on" (default) or "off": eBPF (trace.h) */
	GPtrArray *words;     /* the arguments that are no options */
};

/* argv into args (what libfuse is given next) and o: 0, or -1 after one
 * line saying what was refused. */
int shmfs_options_parse(int argc, char **argv, struct fuse_args *args,
			struct shmfs_opts *o);
/* The values' own rules (ranges, words): 0, or -1 after one line. */
int shmfs_options_check(const struct shmfs_opts *o);
/* --help's text, on stdout. */
void shmfs_usage(const char *prog);

#endif
