/* autounmount.c - see autounmount.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib.h>

#include "autounmount.h"
#include "mountinfo.h"

/* Is the topmost mount at mnt a FUSE mount whose daemon is gone? */
static bool dead_fuse_mount(const char *mnt)
{
	g_autofree char *fstype = NULL;
	dev_t dev;
	bool fuse;
	int fd;

	fuse = shmfs_mountinfo_top(mnt, &fstype, &dev) &&
	       strncmp(fstype, "fuse", 4) == 0;
	if (!fuse)
		return false;
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	/* ENOTCONN once the connection is gone; ECONNABORTED for an open
	 * that was already waiting on the daemon when it died. */
	return errno == ENOTCONN || errno == ECONNABORTED;
}

#define WATCH_ENV "SHMFS_AUTO_UNMOUNT_FD"

/* Wait on fd for the daemon to end, then detach mnt if it is dead. */
static int watch(int fd, const char *mnt)
{
	sigset_t all;
	char c;

	/* A signal to the daemon's process group must not end the watcher
	 * before it has done its work. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	if (dead_fuse_mount(mnt))
		umount2(mnt, MNT_DETACH);
	return 0;
}

/* In the forked child: keep nothing of the daemon's (above all not
 * /dev/fuse, whose last close is what tells the kernel the daemon is
 * gone), and become a process of its own, named for what it does, that
 * `pkill shmfs` and `killall shmfs` leave alone. */
static void become_watcher(int fd, const char *mnt)
{
	char fdtext[16];
	int null;

	if (fd != 3) {
		dup2(fd, 3);
		fd = 3;
	}
	close_range(4, ~0u, 0);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		if (null > 3)
			close(null);
	}
	setsid();
	if (chdir("/") != 0)
		_exit(1);
	snprintf(fdtext, sizeof(fdtext), "%d", fd);
	setenv(WATCH_ENV, fdtext, 1);
	execl("/proc/self/exe", "auto-unmount", mnt, (char *)NULL);
	/* No exec (no /proc): watch as we are. */
	prctl(PR_SET_NAME, "auto-unmount");
	_exit(watch(fd, mnt));
}

int shmfs_autounmount_main(int argc, char **argv)
{
	const char *fd = getenv(WATCH_ENV);

	if (!fd || argc != 2)
		return -1;
	unsetenv(WATCH_ENV);
	prctl(PR_SET_NAME, "auto-unmount");
	return watch(atoi(fd), argv[1]);
}

int shmfs_autounmount_start(const char *mountpoint)
{
	int p[2];
	pid_t pid;

	/* The read end is handed on through exec; the write end stays
	 * with the daemon alone. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[1]);
		become_watcher(p[0], mountpoint);
	}
	/* The write end stays open, unused, for the daemon's lifetime. */
	close(p[0]);
	return 0;
}
