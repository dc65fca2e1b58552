/* startup.c - what is checked and done before a mount (see startup.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"
#include "startup.h"

/* Errors that stop the start: one line each, and exit status 1. */
int shmfs_startup_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("shmfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

int shmfs_check_fuse_device(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT)
		return shmfs_startup_error(
			"/dev/fuse: no such device (load the fuse "
			"module; give a container "
			"--device /dev/fuse)");
	if (errno == EACCES || errno == EPERM)
		return shmfs_startup_error(
			"/dev/fuse: not permitted (run as root, or "
			"let this user open /dev/fuse)");
	return shmfs_startup_error("/dev/fuse: %s", strerror(errno));
}

/* Enter the IPC namespace the options name.  Done before any thread or
 * fork exists, so every worker thread is in it (setns is per thread). */
int shmfs_enter_ipc_ns(struct shmfs_opts *o)
{
	g_autofree char *path = NULL;
	int fd, r;

	if (o->pid > 0) {
		path = g_strdup_printf("/proc/%d/ns/ipc", o->pid);
		if (!o->posix_dir)
			o->posix_dir = g_strdup_printf("/proc/%d/root/dev/shm",
						       o->pid);
	} else if (o->pid < 0) {
		return shmfs_startup_error("--pid=%d: not a process id",
					   o->pid);
	} else if (o->ipc_ns) {
		path = g_strdup(o->ipc_ns);
	} else {
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return shmfs_startup_error("IPC namespace %s: %s", path,
					   strerror(errno));
	r = setns(fd, CLONE_NEWIPC);
	close(fd);
	if (r < 0)
		return shmfs_startup_error("IPC namespace %s: %s", path,
					   errno == EINVAL ?
						   "not an IPC namespace" :
						   strerror(errno));
	return 0;
}

/* A mount point left by a daemon that died answers ENOTCONN: detach it so
 * that this daemon can mount there. */
int shmfs_check_mountpoint(const char *mnt)
{
	struct statfs sf;
	struct stat st;

	/* statfs asks the daemon of a FUSE mount every time; stat may be
	 * answered from the attributes the kernel still holds for a dead
	 * one's root (the mount then fails a moment later). */
	if ((statfs(mnt, &sf) == 0 || errno != ENOTCONN) &&
	    stat(mnt, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return shmfs_startup_error(
				"mount point %s: not a directory", mnt);
		/* fusermount3 mounts for users only where they may write. */
		if (geteuid() != 0 && access(mnt, W_OK) != 0)
			return shmfs_startup_error(
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
			return shmfs_check_mountpoint(mnt);
	}
	return shmfs_startup_error("mount point %s: %s", mnt, strerror(errno));
}

/* The write end of the starter's pipe, in the daemon until it is ready. */
static int ready_fd = -1;

/* The starter: wait for the daemon's word, or for its end. */
static _Noreturn void starter_wait(pid_t daemon, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;
	int st;

	/* A child the daemon forked may hold the pipe too: its end is
	 * also looked for. */
	for (;;) {
		if (poll(&pfd, 1, 200) > 0 && read(fd, &c, 1) == 1)
			_exit(0);
		if (waitpid(daemon, &st, WNOHANG) == daemon)
			_exit(WIFEXITED(st) && WEXITSTATUS(st) ?
				      WEXITSTATUS(st) :
				      1);
	}
}

int shmfs_daemon_start(bool foreground)
{
	int p[2];
	pid_t pid;

	if (foreground)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return shmfs_startup_error("daemon: pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return shmfs_startup_error("daemon: fork: %s", strerror(errno));
	}
	if (pid > 0) {
		close(p[1]);
		starter_wait(pid, p[0]);
	}
	close(p[0]);
	ready_fd = p[1];
	if (setsid() < 0)
		return shmfs_startup_error("daemon: setsid: %s",
					   strerror(errno));
	return 0;
}

void shmfs_daemon_ready(void)
{
	int null;

	if (chdir("/") != 0) {
		/* (/ is always there: nothing to do but go on.) */
	}
	if (ready_fd < 0)
		return;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	if (write(ready_fd, "", 1) != 1) {
		/* The starter is gone: nobody waits. */
	}
	close(ready_fd);
	ready_fd = -1;
}
