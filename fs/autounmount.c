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
#include <unistd.h>

#include <glib.h>

#include "autounmount.h"

/* Is the topmost mount at mnt a FUSE mount whose daemon is gone? */
static bool dead_fuse_mount(const char *mnt)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool fuse = false;
	int fd;

	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		g_auto(GStrv) w = g_strsplit(line, " ", 0);
		g_autofree char *point = NULL;
		char *dash;

		if (g_strv_length(w) < 5)
			continue;
		point = g_strcompress(w[4]); /* \040 and friends */
		if (strcmp(point, mnt) != 0)
			continue;
		dash = strstr(line, " - ");
		/* The last entry at mnt is the one on top. */
		fuse = dash && strncmp(dash + 3, "fuse", 4) == 0;
	}
	free(line);
	fclose(f);
	if (!fuse)
		return false;
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == ENOTCONN;
}

static void watch(int fd, const char *mnt)
{
	sigset_t all;
	char c;
	int null;

	/* Nothing of the daemon's: above all not /dev/fuse, whose last close
	 * is what tells the kernel the daemon is gone. */
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0u, 0);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		if (null > 2)
			close(null);
	}
	/* A signal to the daemon's process group must not end the watcher
	 * before it has done its work. */
	setsid();
	if (chdir("/") != 0)
		_exit(1);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	if (dead_fuse_mount(mnt))
		umount2(mnt, MNT_DETACH);
	_exit(0);
}

int shmfs_autounmount_start(const char *mountpoint)
{
	int p[2];
	pid_t pid;

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
		watch(p[0], mountpoint);
	}
	/* The write end stays open, unused, for the daemon's lifetime. */
	close(p[0]);
	return 0;
}
