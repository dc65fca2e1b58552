/* main.c - options, mounting, the session loop, and a clean exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autounmount.h"
#include "fallback.h"
#include "caller_limits.h"
#include "log.h"
#include "events.h"
#include "metrics.h"
#include "mountinfo.h"
#include "proc/procscan.h"
#include "prune.h"
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
	GPtrArray *words;     /* the arguments that are no options */
};

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

/* The kinds in mount order; ns/ only with --all-namespaces. */
static const struct shmfs_backend *backends[] = {
	&sysv_backend,	 &posix_backend, &mapped_backend,
	&unused_backend, NULL,		 NULL,
};
static size_t n_backends = 4;

static void usage(const char *prog)
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
	       "    -d, -o debug        log every FUSE request (implies -f)\n"
	       "    -s                  single-threaded\n"
	       "    -o OPT[,OPT...]     FUSE mount options, see "
	       "mount.fuse3(8)\n"
	       "    -h, --help; -V, --version  this text; the versions of "
	       "shmfs and libfuse\n",
	       prog, SHMFS_DEFAULT_TIMEOUT, SHM_WATCH_DEFAULT_MS,
	       EVENTS_DEFAULT_MAX, SHMFS_DEFAULT_REFRESH);
}

/* Errors that stop the start: one line each, and exit status 1. */
static int startup_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int startup_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("shmfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

static int check_fuse_device(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT)
		return startup_error("/dev/fuse: no such device (load the fuse "
				     "module; give a container "
				     "--device /dev/fuse)");
	if (errno == EACCES || errno == EPERM)
		return startup_error(
			"/dev/fuse: not permitted (run as root, or "
			"let this user open /dev/fuse)");
	return startup_error("/dev/fuse: %s", strerror(errno));
}

/* Enter the IPC namespace the options name.  Done before any thread or
 * fork exists, so every worker thread is in it (setns is per thread). */
static int enter_ipc_ns(struct shmfs_opts *o)
{
	g_autofree char *path = NULL;
	int fd, r;

	if (o->pid > 0) {
		path = g_strdup_printf("/proc/%d/ns/ipc", o->pid);
		if (!o->posix_dir)
			o->posix_dir = g_strdup_printf("/proc/%d/root/dev/shm",
						       o->pid);
	} else if (o->pid < 0) {
		return startup_error("--pid=%d: not a process id", o->pid);
	} else if (o->ipc_ns) {
		path = g_strdup(o->ipc_ns);
	} else {
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return startup_error("IPC namespace %s: %s", path,
				     strerror(errno));
	r = setns(fd, CLONE_NEWIPC);
	close(fd);
	if (r < 0)
		return startup_error("IPC namespace %s: %s", path,
				     errno == EINVAL ? "not an IPC namespace" :
						       strerror(errno));
	return 0;
}

/* A mount point left by a daemon that died answers ENOTCONN: detach it so
 * that this daemon can mount there. */
static int check_mountpoint(const char *mnt)
{
	struct stat st;

	if (stat(mnt, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return startup_error("mount point %s: not a directory",
					     mnt);
		/* fusermount3 mounts for users only where they may write. */
		if (geteuid() != 0 && access(mnt, W_OK) != 0)
			return startup_error(
				"mount point %s: not permitted "
				"(a user needs write access to it; "
				"or run as root)",
				mnt);
		return 0;
	}
	if (errno == ENOTCONN) {
		fprintf(stderr,
			"shmfs: %s: stale mount of a dead daemon, detaching\n",
			mnt);
		if (umount2(mnt, MNT_DETACH) == 0 ||
		    system("fusermount3 -uz -- \"$SHMFS_STALE\"") == 0)
			return check_mountpoint(mnt);
	}
	return startup_error("mount point %s: %s", mnt, strerror(errno));
}

static int init_backends(const struct shmfs_config *cfg)
{
	for (size_t i = 0; backends[i]; i++) {
		int r = shm_be_init(backends[i], cfg);

		if (r)
			return startup_error("%s: %s", backends[i]->name,
					     strerror(-r));
	}
	return 0;
}

/* libfuse's own messages: on stderr as libfuse prints them, or to syslog
 * once daemonized.  It reports a refused backing file at every open;
 * passthrough.c says why, once.  errno is kept: callers read it after a
 * libfuse call that logged. */
static bool fuse_debug;
static void fuse_log_hook(enum fuse_log_level level, const char *fmt,
			  va_list ap)
{
	int e = errno;

	if ((level <= FUSE_LOG_ERR || fuse_debug) &&
	    strncmp(fmt, "fuse: passthrough_", 18) != 0) {
		if (shmfs_log_syslog())
			shmfs_logv(fmt, ap);
		else
			vfprintf(stderr, fmt, ap);
	}
	errno = e;
}

/* Mappings of the mount's own files are mappings of the segments behind
 * them: tell the /proc scans which device is ours (from mountinfo: the
 * mount itself cannot be asked before it serves). */
static void own_mount(const char *mountpoint)
{
	g_autofree char *fstype = NULL;
	dev_t dev;

	if (shmfs_mountinfo_top(mountpoint, &fstype, &dev) &&
	    strcmp(fstype, "fuse.shmfs") == 0)
		shm_scan_own_mount(dev, shmfs_node_object);
	else
		shmfs_log("%s: not found in mountinfo: mappings through the "
			  "mount are left out of user.shm.pids",
			  mountpoint);
}

static void fini_backends(void)
{
	for (size_t i = 0; backends[i]; i++)
		shm_be_fini(backends[i]);
}

static int run(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct shmfs_opts opts = {
		.timeout = SHMFS_DEFAULT_TIMEOUT,
		.refresh_ms = SHMFS_DEFAULT_REFRESH,
		.watch_ms = SHM_WATCH_DEFAULT_MS,
		.events_max = EVENTS_DEFAULT_MAX,
		.map_dirs = g_ptr_array_new_with_free_func(g_free),
		.words = g_ptr_array_new_with_free_func(g_free)
	};
	g_autofree char *fsname = NULL;
	struct fuse_cmdline_opts cmd = { 0 };
	struct shmfs_state state = { 0 };
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	bool max_threads_set = false;
	int ret = 1;

	if (join_values(argc, argv, &args) != 0)
		goto out_args;
	for (int i = 1; i < argc; i++)
		max_threads_set |= strstr(argv[i], "max_threads=") != NULL;
	/* Both parsers print what they refused (an unknown option, a mount
	 * point that does not exist) before failing. */
	if (fuse_opt_parse(&args, &opts, shmfs_opt_spec, shmfs_opt_proc) != 0)
		goto out_args;
	/* [SOURCE] MOUNTPOINT: mount.fuse3 (mount -t fuse.shmfs, fstab)
	 * passes the source word first. */
	if (opts.words->len > 2) {
		startup_error("too many arguments: %s (usage: %s [options] "
			      "[SOURCE] MOUNTPOINT)",
			      (char *)opts.words->pdata[2], argv[0]);
		goto out_args;
	}
	if (opts.words->len)
		fuse_opt_add_arg(&args, g_ptr_array_index(opts.words,
							  opts.words->len - 1));
	fsname = g_strdup_printf(
		"-ofsname=%s",
		opts.words->len == 2 ? (char *)opts.words->pdata[0] : "shmfs");
	if (strchr(fsname, ',')) {
		startup_error("SOURCE %s: no commas", fsname + 9);
		goto out_args;
	}
	if (fuse_parse_cmdline(&args, &cmd) != 0)
		goto out_args;
	if (cmd.show_help) {
		usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (cmd.show_version) {
		printf("shmfs %s\n", SHMFS_VERSION);
		printf("FUSE library version %s (built with libfuse %d.%d, "
		       "passthrough API)\n",
		       fuse_pkgversion(), FUSE_MAJOR_VERSION,
		       FUSE_MINOR_VERSION);
		ret = 0;
		goto out_args;
	}
	if (!cmd.mountpoint) {
		startup_error("no mount point (usage: %s [options] [SOURCE] "
			      "MOUNTPOINT)",
			      argv[0]);
		goto out_args;
	}
	if (opts.timeout < 0) {
		startup_error("timeout must be >= 0");
		goto out_args;
	}
	if (opts.refresh_ms < 0) {
		startup_error("refresh must be >= 0 (milliseconds)");
		goto out_args;
	}
	if (opts.watch_ms < 0) {
		startup_error("watch must be >= 0 (milliseconds)");
		goto out_args;
	}
	if (opts.events_max < 1 || opts.events_max > 10000000) {
		startup_error("events_max must be 1 to 10000000 (lines)");
		goto out_args;
	}
	if (opts.max_open_per_uid < 0) {
		startup_error("max_open_per_uid must be >= 0 (0: the default)");
		goto out_args;
	}
	if (opts.passthrough && strcmp(opts.passthrough, "on") != 0 &&
	    strcmp(opts.passthrough, "off") != 0) {
		startup_error("passthrough=%s: say on or off",
			      opts.passthrough);
		goto out_args;
	}
	setenv("SHMFS_STALE", cmd.mountpoint, 1);
	if (check_mountpoint(cmd.mountpoint) != 0 || check_fuse_device() != 0 ||
	    enter_ipc_ns(&opts) != 0)
		goto out_args;

	/* As root, let every user in and let the kernel hold each of them to
	 * the segment's own mode and owner; and unmount if the daemon dies
	 * (a watcher process, see autounmount.h), so that nobody meets a
	 * dead mount. */
	fuse_opt_add_arg(&args, fsname);
	if (geteuid() == 0) {
		fuse_opt_add_arg(&args, "-oallow_other,default_permissions");
	} else {
		fuse_opt_add_arg(&args, "-odefault_permissions");
	}

	g_ptr_array_add(opts.map_dirs, NULL);
	struct shmfs_config cfg = {
		.posix_dir = opts.posix_dir,
		.map_dirs = (const char *const *)opts.map_dirs->pdata,
		.all_namespaces = opts.all_namespaces != 0,
	};

	if (opts.all_namespaces)
		backends[n_backends++] = &ns_backend;
	if (init_backends(&cfg) != 0 || shmfs_metrics_file.init(&cfg) != 0)
		goto out_args;
	shmfs_limits_init((unsigned long)opts.max_open_per_uid);
	shmfs_root_set(backends);
	shmfs_nodes_init(backends, n_backends);
	shmfs_events_init((unsigned)opts.events_max);
	clock_gettime(CLOCK_REALTIME, &state.started);
	state.timeout = opts.timeout;
	state.refresh_ms = (unsigned)opts.refresh_ms;
	state.passthrough =
		!opts.passthrough || strcmp(opts.passthrough, "off") != 0;
	fuse_debug = cmd.debug;
	fuse_set_log_func(fuse_log_hook);

	se = fuse_session_new(&args, shmfs_lowlevel_ops(),
			      sizeof(struct fuse_lowlevel_ops), &state);
	if (!se)
		goto out_nodes;
	state.se = se;
	state.mountpoint = cmd.mountpoint;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	/* The watcher is forked before the mount exists, so that no moment
	 * of the mount is unwatched; the daemon (after fuse_daemonize's
	 * fork too) holds the other end of its pipe. */
	if (geteuid() == 0 && !opts.no_auto_unmount &&
	    shmfs_autounmount_start(cmd.mountpoint) != 0) {
		startup_error("auto-unmount: cannot start the watcher");
		goto out_signals;
	}
	if (fuse_session_mount(se, cmd.mountpoint) != 0) {
		startup_error("cannot mount at %s", cmd.mountpoint);
		goto out_signals;
	}
	own_mount(cmd.mountpoint);
	fuse_daemonize(cmd.foreground);
	shmfs_log_init(!cmd.foreground, opts.verbose);
	/* After daemonizing: a thread would not survive its fork. */
	if (shmfs_refresh_start(&state) != 0)
		shmfs_log("refresh thread: not started");
	if (shmfs_prune_start(se) != 0)
		shmfs_log("prune thread: not started");
	/* Before the first request: what is there now is no event. */
	if (shm_watch_start(&cfg, (unsigned)opts.watch_ms, shmfs_events_add,
			    &state.started) != 0)
		shmfs_log("watcher: not started (listings still notice)");

	if (cmd.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, cmd.clone_fd);
		fuse_loop_cfg_set_max_threads(
			loop, max_threads_set ? cmd.max_threads :
						SHMFS_DEFAULT_THREADS);
		ret = fuse_session_loop_mt(se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	/* Unmounted, or stopped by SIGINT/SIGTERM/SIGHUP: a clean exit. */
	if (ret == SIGINT || ret == SIGTERM || ret == SIGHUP)
		ret = 0;
	ret = ret ? 1 : 0;
	shmfs_refresh_stop();
	shmfs_prune_stop();
	shm_watch_stop();
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_nodes:
	shmfs_nodes_fini();
	fini_backends();
out_args:
	free(opts.posix_dir);
	free(opts.ipc_ns);
	free(opts.passthrough);
	g_ptr_array_unref(opts.map_dirs);
	g_ptr_array_unref(opts.words);
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}

int main(int argc, char *argv[])
{
	/* The auto-unmount watcher is this binary again (autounmount.h). */
	int watcher = shmfs_autounmount_main(argc, argv);

	return watcher >= 0 ? watcher : run(argc, argv);
}
