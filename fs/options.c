/* options.c - shmfs's command line (see options.h). */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "options.h"
#include "startup.h"

#define SHMFS_OPT(t, p)                                                        \
	{                                                                      \
		t, offsetof(struct shmfs_opts, p), 1                           \
	}
enum { KEY_MAP_DIR = 1 };
static const struct fuse_opt shmfs_opt_spec[] = {
	/* (--opt VALUE is made --opt=VALUE first: see join_values.) */
	SHMFS_OPT("--posix-dir=%s", posix_dir),
	SHMFS_OPT("posix_dir=%s", posix_dir),
	SHMFS_OPT("--ipc-ns=%s", ipc_ns),
	SHMFS_OPT("ipc_ns=%s", ipc_ns),
	SHMFS_OPT("--pid=%d", pid),
	SHMFS_OPT("pid=%d", pid),
	SHMFS_OPT("timeout=%lf", timeout),
	SHMFS_OPT("refresh=%d", refresh_ms),
	SHMFS_OPT("passthrough=%s", passthrough),
	SHMFS_OPT("watch=%d", watch_ms),
	SHMFS_OPT("trace=%s", trace),
	SHMFS_OPT("events_max=%d", events_max),
	SHMFS_OPT("max_open_per_uid=%d", max_open_per_uid),
	SHMFS_OPT("-v", verbose),
	SHMFS_OPT("--verbose", verbose),
	SHMFS_OPT("verbose", verbose),
	SHMFS_OPT("--no-auto-unmount", no_auto_unmount),
	SHMFS_OPT("no_auto_unmount", no_auto_unmount),
	SHMFS_OPT("--all-namespaces", all_namespaces),
	SHMFS_OPT("all_namespaces", all_namespaces),
	FUSE_OPT_KEY("--map-dir=", KEY_MAP_DIR),
	FUSE_OPT_KEY("map_dir=", KEY_MAP_DIR),
	FUSE_OPT_END
};

/* Our options that take a value: --opt VALUE, as GNU tools take them,
 * is made --opt=VALUE before parsing (a libfuse template with a space
 * would also take "--pid=1" as the value "=1"). */
static const char *const valued[] = { "--posix-dir", "--ipc-ns", "--pid",
				      "--map-dir", NULL };
/* The dash options libfuse's own command line takes (fuse_parse_cmdline);
 * any other is a mistake. */
static const char *const fuse_dash_opts[] = {
	"-f", "-d", "-s", "-h", "--help", "-V", "--version", NULL
};

static bool listed(const char *const *list, const char *arg)
{
	for (; *list; list++)
		if (strcmp(*list, arg) == 0)
			return true;
	return false;
}

/* The command line into out, --opt VALUE made --opt=VALUE for our valued
 * options; a valued option, or -o, left without its value is one line
 * and -1. */
static int join_values(int argc, char **argv, struct fuse_args *out)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool ours = i > 0 && listed(valued, a);
		int r;

		if (i > 0 && (ours || strcmp(a, "-o") == 0) && i + 1 == argc) {
			fprintf(stderr,
				"shmfs: %s needs a value (see shmfs --help)\n",
				a);
			return -1;
		}
		if (ours) {
			g_autofree char *joined =
				g_strconcat(a, "=", argv[++i], NULL);

			r = fuse_opt_add_arg(out, joined);
		} else {
			r = fuse_opt_add_arg(out, a);
		}
		if (r != 0)
			return -1;
	}
	return 0;
}

/* The -o options libfuse itself takes (mount.c, helper.c, fuse_lowlevel.c
 * of 3.14 to 3.18); a name ending in '=' takes a value. */
static const char *const fuse_o_opts[] = { "allow_other",
					   "allow_root",
					   "auto_unmount",
					   "blkdev",
					   "blksize=",
					   "default_permissions",
					   "fsname=",
					   "subtype=",
					   "max_read=",
					   "context=",
					   "fscontext=",
					   "defcontext=",
					   "rootcontext=",
					   "user=",
					   "ro",
					   "rw",
					   "suid",
					   "nosuid",
					   "dev",
					   "nodev",
					   "exec",
					   "noexec",
					   "async",
					   "sync",
					   "dirsync",
					   "atime",
					   "noatime",
					   "diratime",
					   "nodiratime",
					   "relatime",
					   "norelatime",
					   "strictatime",
					   "nostrictatime",
					   "symfollow",
					   "nosymfollow",
					   "debug",
					   "clone_fd",
					   "max_idle_threads=",
					   "max_threads=",
					   NULL };

/* And those of libfuse 3.18: FUSE over io_uring (kernel 6.14+, with the
 * fuse module's enable_uring set). */
static const char *const fuse_o_opts_318[] = {
#if FUSE_MINOR_VERSION >= 18
	"io_uring", "io_uring_q_depth=",
#endif
	NULL
};

static bool fuse_o_opt_in(const char *const *opts, const char *arg)
{
	for (const char *const *o = opts; *o; o++) {
		size_t n = strlen(*o);

		if ((*o)[n - 1] == '=' ? strncmp(arg, *o, n) == 0 :
					 strcmp(arg, *o) == 0)
			return true;
	}
	return false;
}

static bool fuse_o_opt(const char *arg)
{
	return fuse_o_opt_in(fuse_o_opts, arg) ||
	       fuse_o_opt_in(fuse_o_opts_318, arg);
}

/* fuse_opt_parse's callback: collect the repeatable --map-dir and the
 * words (source and mount point), drop mount(8)'s x-* comments, and
 * refuse an unknown option, dashed or -o, in one line that points to
 * --help. */
static int shmfs_opt_proc(void *data, const char *arg, int key,
			  struct fuse_args *outargs)
{
	struct shmfs_opts *o = data;
	const char *dir;

	(void)outargs;
	if (key == KEY_MAP_DIR) {
		dir = strchr(arg, '=') + 1; /* "--map-dir=DIR", "map_dir=DIR" */
		g_ptr_array_add(o->map_dirs, g_strdup(dir));
		return 0;
	}
	if (key == FUSE_OPT_KEY_NONOPT) {
		g_ptr_array_add(o->words, g_strdup(arg));
		return 0;
	}
	if (key == FUSE_OPT_KEY_OPT && arg[0] != '-' &&
	    strncmp(arg, "x-", 2) == 0)
		return 0; /* fstab's x-systemd.*, x-gvfs-* and the like */
	if (key == FUSE_OPT_KEY_OPT &&
	    (arg[0] == '-' ? !listed(fuse_dash_opts, arg) : !fuse_o_opt(arg))) {
		fprintf(stderr,
			"shmfs: unknown option %s%s (see shmfs --help)\n",
			arg[0] == '-' ? "" : "-o ", arg);
		return -1;
	}
	return 1;
}

void shmfs_usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n"
	       "Shows shared memory segments as files; SOURCE names the "
	       "mount (its fsname).\n"
	       "Every --option=VALUE is also -o option=VALUE "
	       "(--map-dir: -o map_dir=DIR).\n\n"
	       "    --posix-dir=DIR     POSIX objects live in DIR "
	       "(default /dev/shm)\n"
	       "    --map-dir=DIR       list every file under DIR in mapped/ "
	       "(repeatable)\n"
	       "    --ipc-ns=PATH       IPC namespace PATH's segments "
	       "(/proc/PID/ns/ipc)\n"
	       "    --pid=PID           PID's IPC namespace and its "
	       "/dev/shm (a container's)\n"
	       "    --all-namespaces    ns/: every IPC namespace, every "
	       "container's (host only)\n"
	       "    -o timeout=SECONDS  kernel cache of names and attributes "
	       "(default %.1f)\n"
	       "    -o passthrough=on|off  off: every file through the page "
	       "cache (default on)\n"
	       "    -o watch=MS         look for new segments every MS "
	       "(default %d; 0: never)\n"
	       "    -o trace=on|off|syscalls  off: no eBPF; syscalls: on "
	       "every system call\n"
	       "    -o events_max=N     the events file keeps the newest N "
	       "lines (default %d)\n"
	       "    -o max_open_per_uid=N  files a user but root may hold "
	       "open (default fd limit/16)\n"
	       "    -o refresh=MS       page cache path: segments and "
	       "mappings agree within MS\n"
	       "                        (default %d; 0: only at "
	       "open/msync/close)\n"
	       "    --no-auto-unmount   keep the mount if the daemon dies "
	       "(root: unmount)\n"
	       "    -v, --verbose       also log the errors callers meet\n"
	       "    -f                  stay in the foreground, log to "
	       "stderr (else syslog)\n"
	       "    -d, -o debug; -s    log every FUSE request (implies -f); "
	       "one thread\n"
	       "    -o OPT[,OPT...]     FUSE mount options, see "
	       "mount.fuse3(8)\n"
	       "    -h, --help; -V, --version  this text; the versions of "
	       "shmfs and libfuse\n",
	       prog, SHMFS_DEFAULT_TIMEOUT, SHM_WATCH_DEFAULT_MS,
	       EVENTS_DEFAULT_MAX, SHMFS_DEFAULT_REFRESH);
}

int shmfs_options_parse(int argc, char **argv, struct fuse_args *args,
			struct shmfs_opts *o)
{
	if (join_values(argc, argv, args) != 0)
		return -1;
	/* fuse_opt_parse prints what it refused before failing. */
	return fuse_opt_parse(args, o, shmfs_opt_spec, shmfs_opt_proc) != 0 ?
		       -1 :
		       0;
}

int shmfs_options_check(const struct shmfs_opts *o)
{
	if (o->timeout < 0)
		return shmfs_startup_error("timeout must be >= 0");
	if (o->refresh_ms < 0)
		return shmfs_startup_error(
			"refresh must be >= 0 (milliseconds)");
	if (o->watch_ms < 0)
		return shmfs_startup_error("watch must be >= 0 (milliseconds)");
	if (o->events_max < 1 || o->events_max > 10000000)
		return shmfs_startup_error(
			"events_max must be 1 to 10000000 (lines)");
	if (o->max_open_per_uid < 0)
		return shmfs_startup_error(
			"max_open_per_uid must be >= 0 (0: the default)");
	if (o->trace && strcmp(o->trace, "on") != 0 &&
	    strcmp(o->trace, "off") != 0 && strcmp(o->trace, "syscalls") != 0)
		return shmfs_startup_error("trace=%s: say on, off or syscalls",
					   o->trace);
	if (o->passthrough && strcmp(o->passthrough, "on") != 0 &&
	    strcmp(o->passthrough, "off") != 0)
		return shmfs_startup_error("passthrough=%s: say on or off",
					   o->passthrough);
	return 0;
}
