/* main.c - the run: options (options.c) and start-up checks
 * (startup.c), the kinds, mounting, the session loop, and a clean exit. */
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
#include "options.h"
#include "proc/procscan.h"
#include "prune.h"
#include "segments.h"
#include "shmfs.h"
#include "startup.h"

/* The kinds in mount order; ns/ only with --all-namespaces. */
static const struct shmfs_backend *backends[] = {
	&sysv_backend,	 &posix_backend, &mapped_backend,
	&unused_backend, NULL,		 NULL,
};
static size_t n_backends = 4;

/* Once, at start: whether the kernel names who makes and removes
 * segments (backend.h: shm_watch_counts), and if not, why. */
static void log_trace(void)
{
	struct shm_watch_stats w;

	shm_watch_counts(&w);
	if (w.traced)
		shmfs_log("trace: on: the kernel names who makes and removes "
			  "each segment (eBPF, on the %s)",
			  strcmp(w.trace_hooks, "calls") == 0 ?
				  "calls' own functions" :
				  "tracepoints of every system call");
	else if (w.trace_error)
		shmfs_log("trace: off (%s): creators from /proc and "
			  "fanotify, removers not named",
			  strerror(-w.trace_error));
}

static int init_backends(const struct shmfs_config *cfg)
{
	for (size_t i = 0; backends[i]; i++) {
		int r = shm_be_init(backends[i], cfg);

		if (r)
			return shmfs_startup_error("%s: %s", backends[i]->name,
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
	bool max_threads_set = false, watching;
	int ret = 1;

	if (shmfs_options_parse(argc, argv, &args, &opts) != 0)
		goto out_args;
	for (int i = 1; i < argc; i++)
		max_threads_set |= strstr(argv[i], "max_threads=") != NULL;
	/* [SOURCE] MOUNTPOINT: mount.fuse3 (mount -t fuse.shmfs, fstab)
	 * passes the source word first. */
	if (opts.words->len > 2) {
		shmfs_startup_error(
			"too many arguments: %s (usage: %s [options] "
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
		shmfs_startup_error("SOURCE %s: no commas", fsname + 9);
		goto out_args;
	}
	if (fuse_parse_cmdline(&args, &cmd) != 0)
		goto out_args;
	if (cmd.show_help) {
		shmfs_usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (cmd.show_version) {
		printf("shmfs %s\n", SHMFS_VERSION);
		printf("FUSE library version %s (built with libfuse %d.%d, "
		       "passthrough API)\n",
		       fuse_pkgversion(), FUSE_MAJOR_VERSION,
		       FUSE_MINOR_VERSION);
		printf("eBPF tracer of who makes and removes segments: %s\n",
		       shm_trace_built() ? "built in" : "not built");
		ret = 0;
		goto out_args;
	}
	if (!cmd.mountpoint) {
		shmfs_startup_error(
			"no mount point (usage: %s [options] [SOURCE] "
			"MOUNTPOINT)",
			argv[0]);
		goto out_args;
	}
	if (shmfs_options_check(&opts) != 0)
		goto out_args;
	setenv("SHMFS_STALE", cmd.mountpoint, 1);
	if (shmfs_check_mountpoint(cmd.mountpoint) != 0 ||
	    shmfs_check_fuse_device() != 0 || shmfs_enter_ipc_ns(&opts) != 0 ||
	    shmfs_daemon_start(cmd.foreground) != 0)
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
		.no_trace = opts.trace && strcmp(opts.trace, "off") == 0,
		.trace_syscalls =
			opts.trace && strcmp(opts.trace, "syscalls") == 0,
	};

	if (opts.all_namespaces)
		backends[n_backends++] = &ns_backend;
	if (init_backends(&cfg) != 0 || shmfs_metrics_file.init(&cfg) != 0 ||
	    shmfs_segments_file.init(&cfg) != 0)
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
	/* The auto-unmount watcher is forked before the mount exists, so
	 * that no moment of the mount is unwatched, and before any thread;
	 * the daemon holds the other end of its pipe. */
	if (geteuid() == 0 && !opts.no_auto_unmount &&
	    shmfs_autounmount_start(cmd.mountpoint) != 0) {
		shmfs_startup_error("auto-unmount: cannot start the watcher");
		goto out_signals;
	}
	/* Before the mount: what is there now is no event, and everything
	 * made once the mount is seen is one (and its maker named). */
	watching = shm_watch_start(&cfg, (unsigned)opts.watch_ms,
				   shmfs_events_add, &state.started) == 0;
	if (fuse_session_mount(se, cmd.mountpoint) != 0) {
		shmfs_startup_error("cannot mount at %s", cmd.mountpoint);
		goto out_watch;
	}
	own_mount(cmd.mountpoint);
	if (shmfs_refresh_start(&state) != 0)
		shmfs_log("refresh thread: not started");
	if (shmfs_prune_start(se) != 0)
		shmfs_log("prune thread: not started");
	shmfs_log_init(!cmd.foreground, opts.verbose);
	shmfs_daemon_ready();
	if (!watching)
		shmfs_log("watcher: not started (listings still notice)");
	else
		log_trace();

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
	fuse_session_unmount(se);
out_watch:
	shm_watch_stop();
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
	free(opts.trace);
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
