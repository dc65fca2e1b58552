/* nsctx.c - see nsctx.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/stat.h>

#include <glib.h>

#include "nsctx.h"

static __thread ino_t ctx_ns;
static __thread int ctx_posix_fd = -1;
static __thread const char *ctx_posix_path;

/* The namespace threads that never entered another one are in: every
 * thread but the pool's starts in the daemon's namespace (options that
 * change it act before any thread exists). */
static ino_t own_ns(void)
{
	static gsize once;
	static ino_t ns;

	if (g_once_init_enter(&once)) {
		struct stat st;

		ns = stat("/proc/thread-self/ns/ipc", &st) == 0 ? st.st_ino : 0;
		g_once_init_leave(&once, 1);
	}
	return ns;
}

ino_t shm_ctx_ipc_ns(void)
{
	return ctx_ns ? ctx_ns : own_ns();
}

bool shm_ctx_foreign(void)
{
	return ctx_ns != 0;
}

int shm_ctx_posix_fd(void)
{
	return ctx_posix_fd;
}

const char *shm_ctx_posix_path(void)
{
	return ctx_posix_path;
}

void shm_ctx_set(ino_t ipc_ns, int posix_fd, const char *posix_path)
{
	ctx_ns = ipc_ns;
	ctx_posix_fd = posix_fd;
	ctx_posix_path = posix_path;
}

ino_t shm_ipc_ns_of_pid(pid_t pid)
{
	char p[48];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/ns/ipc", (int)pid);
	return stat(p, &st) == 0 ? st.st_ino : 0;
}
