/* caller.c - who the calling thread acts for (see caller.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib.h>

#include "caller.h"

static __thread struct shm_caller current;
static __thread bool serving;
static __thread bool switched; /* the thread has the caller's ids now */

/* The daemon's own ids, as every thread starts with them. */
static gsize daemon_once;
static uid_t daemon_uid;
static gid_t daemon_gid;
static gid_t daemon_groups[64];
static size_t daemon_ngroups;
static bool can_switch;

static void daemon_ids(void)
{
	if (g_once_init_enter(&daemon_once)) {
		int n = getgroups(G_N_ELEMENTS(daemon_groups), daemon_groups);

		daemon_uid = geteuid();
		daemon_gid = getegid();
		daemon_ngroups = n > 0 ? (size_t)n : 0;
		/* Only a daemon running as root can act as someone else;
		 * one running as a user serves that user alone. */
		can_switch = daemon_uid == 0;
		g_once_init_leave(&daemon_once, 1);
	}
}

void shm_caller_set(const struct shm_caller *c)
{
	serving = c != NULL;
	if (c)
		current = *c;
}

const struct shm_caller *shm_caller(void)
{
	return serving ? &current : NULL;
}

bool shm_caller_unprivileged(void)
{
	return serving && current.uid != 0;
}

/* The supplementary groups of the caller's thread (its /proc status
 * line): n, or 0 if it is gone (then it has none here: less, never
 * more, than it has). */
static int caller_groups(pid_t pid, gid_t *out, int max)
{
	g_autofree char *text = NULL;
	char path[64];
	const char *line;
	int n = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)pid);
	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		if (!g_file_get_contents(path, &text, NULL, NULL))
			return 0;
	}
	line = strstr(text, "\nGroups:");
	if (!line)
		return 0;
	line += 8;
	while (n < max) {
		char *end;
		unsigned long g;

		while (*line == ' ' || *line == '\t')
			line++;
		if (*line < '0' || *line > '9')
			break;
		g = strtoul(line, &end, 10);
		out[n++] = (gid_t)g;
		line = end;
	}
	return n;
}

int shm_as_caller(struct shm_as *s)
{
	gid_t groups[NGROUPS_MAX];
	int n;

	s->switched = false;
	daemon_ids();
	/* Root, nobody, or the caller already (a nested call): as is. */
	if (!serving || current.uid == 0 || !can_switch || switched)
		return 0;
	n = caller_groups(current.pid, groups, NGROUPS_MAX);
	/* Raw calls: glibc's wrappers would change every thread. */
	if (syscall(SYS_setgroups, (size_t)n, groups) < 0)
		return -errno;
	if (syscall(SYS_setresgid, (gid_t)-1, current.gid, (gid_t)-1) < 0 ||
	    syscall(SYS_setresuid, (uid_t)-1, current.uid, (uid_t)-1) < 0) {
		int e = errno;

		syscall(SYS_setresgid, (gid_t)-1, daemon_gid, (gid_t)-1);
		syscall(SYS_setgroups, daemon_ngroups, daemon_groups);
		return -e;
	}
	s->switched = switched = true;
	return 0;
}

void shm_as_daemon(struct shm_as *s)
{
	int e = errno;

	if (!s->switched || !switched)
		return;
	/* The uid first: back to root, the thread may set the rest. */
	if (syscall(SYS_setresuid, (uid_t)-1, daemon_uid, (uid_t)-1) < 0 ||
	    syscall(SYS_setresgid, (gid_t)-1, daemon_gid, (gid_t)-1) < 0 ||
	    syscall(SYS_setgroups, daemon_ngroups, daemon_groups) < 0)
		abort(); /* a thread left as a user must not serve again */
	s->switched = switched = false;
	errno = e;
}

bool shm_caller_pause(void)
{
	struct shm_as s = { .switched = true };

	if (!switched)
		return false;
	shm_as_daemon(&s);
	return true;
}

void shm_caller_resume(bool paused)
{
	struct shm_as s;

	if (paused && shm_as_caller(&s) != 0)
		abort(); /* it was the caller a moment ago */
}

/* As the caller: /proc/PID/root is readable exactly to those who may
 * ptrace-read PID, with their file system ids. */
static bool traceable(pid_t pid)
{
	char path[64], buf[PATH_MAX];

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	return readlink(path, buf, sizeof(buf)) >= 0;
}

bool shm_caller_may_trace(pid_t pid)
{
	struct shm_as as;
	bool ok;

	if (!shm_caller_unprivileged())
		return true;
	if (shm_as_caller(&as) != 0)
		return false;
	ok = traceable(pid);
	shm_as_daemon(&as);
	return ok;
}

void shm_caller_keep_traceable(GArray *pids)
{
	struct shm_as as;
	guint kept = 0;

	if (!shm_caller_unprivileged() || !pids->len)
		return;
	if (shm_as_caller(&as) != 0) {
		g_array_set_size(pids, 0);
		return;
	}
	for (guint i = 0; i < pids->len; i++) {
		pid_t pid = g_array_index(pids, pid_t, i);

		if (traceable(pid))
			g_array_index(pids, pid_t, kept++) = pid;
	}
	shm_as_daemon(&as);
	g_array_set_size(pids, kept);
}
