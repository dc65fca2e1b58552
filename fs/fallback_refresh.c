/* fallback_refresh.c - the refresh thread of the fallback path (see
 * fallback.h).  It runs outside every request, where libfuse allows
 * notifications without risk of deadlock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "fallback.h"

/* refresh_lock protects stopping; refresh_cond wakes the thread early. */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t refresh_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;
static bool running;
static pthread_t refresh_thread;

/* Write every dirty page of the mount back, many pages per request.
 * Without it the invalidation below launders dirty pages one request per
 * page.  Only while a file is open for writing (nothing else can dirty a
 * page), when the mount is busy anyway: the moment the directory is open
 * here adds no "busy" to an unmount. */
static void write_back(const char *mountpoint)
{
	struct statfs sfs;
	int fd;

	if (shmfs_shadow_writers() == 0)
		return;
	fd = open(mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* Something mounted over ours is not ours to sync. */
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == FUSE_SUPER_MAGIC)
		syncfs(fd);
	close(fd);
}

/* Whether in's open files are on the fallback path. */
static bool on_fallback(struct shmfs_inode *in)
{
	bool r;

	g_mutex_lock(&in->lock);
	r = in->files->len && in->io == SHMFS_IO_FALLBACK;
	g_mutex_unlock(&in->lock);
	return r;
}

static void refresh_once(struct shmfs_state *st)
{
	g_autoptr(GPtrArray) open = shmfs_inodes_open();
	struct fuse_session *se = st->se;

	write_back(st->mountpoint);
	for (guint i = 0; i < open->len; i++) {
		struct shmfs_inode *in = open->pdata[i];
		int r;

		if (!on_fallback(in))
			continue;
		/* offset 0, length 0: the whole file's pages, unmapped from
		 * every mapping, dirty ones written back first. */
		r = fuse_lowlevel_notify_inval_inode(se, in->ino, 0, 0);
		if (r && r != -ENOENT && r != -ENODEV)
			shmfs_log("refresh %lu: %s", (unsigned long)in->ino,
				  strerror(-r));
	}
}

static void *refresh_main(void *arg)
{
	struct shmfs_state *st = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&refresh_lock);
	while (!stopping) {
		next.tv_nsec += (long)st->refresh_ms % 1000 * 1000000;
		next.tv_sec +=
			st->refresh_ms / 1000 + next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		if (pthread_cond_timedwait(&refresh_cond, &refresh_lock,
					   &next) != ETIMEDOUT)
			continue;
		pthread_mutex_unlock(&refresh_lock);
		refresh_once(st);
		pthread_mutex_lock(&refresh_lock);
	}
	pthread_mutex_unlock(&refresh_lock);
	return NULL;
}

int shmfs_refresh_start(struct shmfs_state *st)
{
	pthread_condattr_t ca;
	int r;

	if (st->refresh_ms == 0)
		return 0;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&refresh_cond);
	pthread_cond_init(&refresh_cond, &ca);
	pthread_condattr_destroy(&ca);
	r = pthread_create(&refresh_thread, NULL, refresh_main, st);
	running = r == 0;
	return -r;
}

void shmfs_refresh_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&refresh_lock);
	stopping = true;
	pthread_cond_signal(&refresh_cond);
	pthread_mutex_unlock(&refresh_lock);
	pthread_join(refresh_thread, NULL);
	running = false;
}
