/* main.c - options, mounting, the session loop, and a clean exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shmfs.h"

/* Seconds the kernel may cache names and attributes: short enough that a
 * segment created or removed natively shows within one second. */
#define SHMFS_DEFAULT_TIMEOUT 0.5

struct shmfs_opts {
	char *posix_dir;
	double timeout;
};

#define SHMFS_OPT(t, p) { t, offsetof(struct shmfs_opts, p), 1 }
static const struct fuse_opt shmfs_opt_spec[] = {
	SHMFS_OPT("--posix-dir=%s", posix_dir),
	SHMFS_OPT("posix_dir=%s", posix_dir),
	SHMFS_OPT("timeout=%lf", timeout),
	FUSE_OPT_END
};

static const struct shmfs_backend *const backends[] = {
	&sysv_backend,
	&posix_backend,
	NULL,
};

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n\n"
	       "Shows System V and POSIX shared memory segments as files.\n\n"
	       "shmfs options:\n"
	       "    --posix-dir=DIR        POSIX objects live here "
	       "(default /dev/shm)\n"
	       "    -o posix_dir=DIR       the same\n"
	       "    -o timeout=SECONDS     kernel cache of names and "
	       "attributes (default %.1f)\n\n",
	       prog, SHMFS_DEFAULT_TIMEOUT);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* A mount point left by a daemon that died answers ENOTCONN: detach it so
 * that this daemon can mount there. */
static int check_mountpoint(const char *mnt)
{
	struct stat st;

	if (stat(mnt, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		fprintf(stderr, "shmfs: mount point %s: not a directory\n",
			mnt);
		return -1;
	}
	if (errno == ENOTCONN) {
		fprintf(stderr,
			"shmfs: %s: stale mount of a dead daemon, detaching\n",
			mnt);
		if (umount2(mnt, MNT_DETACH) == 0 ||
		    system("fusermount3 -uz -- \"$SHMFS_STALE\"") == 0)
			return check_mountpoint(mnt);
	}
	fprintf(stderr, "shmfs: mount point %s: %s\n", mnt, strerror(errno));
	return -1;
}

static int init_backends(const struct shmfs_config *cfg)
{
	for (size_t i = 0; backends[i]; i++) {
		int r = backends[i]->init(cfg);

		if (r) {
			fprintf(stderr, "shmfs: %s: %s\n", backends[i]->name,
				strerror(-r));
			return -1;
		}
	}
	return 0;
}

static void fini_backends(void)
{
	for (size_t i = 0; backends[i]; i++)
		backends[i]->fini();
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct shmfs_opts opts = { .timeout = SHMFS_DEFAULT_TIMEOUT };
	struct fuse_cmdline_opts cmd = { 0 };
	struct shmfs_state state = { 0 };
	struct fuse_loop_config *loop = NULL;
	struct fuse_session *se = NULL;
	int ret = 1;

	/* Both parsers print what they refused (an unknown option, a mount
	 * point that does not exist) before failing. */
	if (fuse_opt_parse(&args, &opts, shmfs_opt_spec, NULL) != 0 ||
	    fuse_parse_cmdline(&args, &cmd) != 0)
		goto out_args;
	if (cmd.show_help) {
		usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (cmd.show_version) {
		printf("shmfs %s\n", SHMFS_VERSION);
		printf("FUSE library version %s\n", fuse_pkgversion());
		ret = 0;
		goto out_args;
	}
	if (!cmd.mountpoint) {
		fprintf(stderr, "shmfs: no mount point (usage: %s [options] "
				"MOUNTPOINT)\n", argv[0]);
		goto out_args;
	}
	if (opts.timeout < 0) {
		fprintf(stderr, "shmfs: timeout must be >= 0\n");
		goto out_args;
	}
	setenv("SHMFS_STALE", cmd.mountpoint, 1);
	if (check_mountpoint(cmd.mountpoint) != 0)
		goto out_args;

	/* As root, let every user in and let the kernel hold each of them to
	 * the segment's own mode and owner. */
	fuse_opt_add_arg(&args, "-ofsname=shmfs,subtype=shmfs");
	fuse_opt_add_arg(&args, geteuid() == 0 ?
					"-oallow_other,default_permissions" :
					"-odefault_permissions");

	struct shmfs_config cfg = { .posix_dir = opts.posix_dir };

	if (init_backends(&cfg) != 0)
		goto out_args;
	shmfs_nodes_init(backends, G_N_ELEMENTS(backends) - 1);
	clock_gettime(CLOCK_REALTIME, &state.started);
	state.timeout = opts.timeout;

	se = fuse_session_new(&args, shmfs_lowlevel_ops(),
			      sizeof(struct fuse_lowlevel_ops), &state);
	if (!se)
		goto out_nodes;
	state.se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, cmd.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(cmd.foreground);

	if (cmd.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, cmd.clone_fd);
		fuse_loop_cfg_set_max_threads(loop, cmd.max_threads);
		ret = fuse_session_loop_mt(se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	/* Unmounted, or stopped by SIGINT/SIGTERM/SIGHUP: a clean exit. */
	if (ret == SIGINT || ret == SIGTERM || ret == SIGHUP)
		ret = 0;
	ret = ret ? 1 : 0;
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
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
