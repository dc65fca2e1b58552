/* refresh.c - the refresh thread (see shmfs.h).  It runs outside every
 * request, where libfuse allows notifications without risk of deadlock. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "log.h"
#include "shmfs.h"

/* refresh_lock protects stopping; refresh_cond wakes the thread early. */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t refresh_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;
static bool running;
static pthread_t refresh_thread;

static void refresh_once(struct fuse_session *se)
{
	GArray *inos = g_array_new(FALSE, FALSE, sizeof(fuse_ino_t));

	shmfs_nodes_open_inos(inos);
	for (guint i = 0; i < inos->len; i++) {
		fuse_ino_t ino = g_array_index(inos, fuse_ino_t, i);
		/* offset 0, length 0: the whole file's pages, unmapped from
		 * every mapping, dirty ones written back first. */
		int r = fuse_lowlevel_notify_inval_inode(se, ino, 0, 0);

		if (r && r != -ENOENT && r != -ENODEV)
			shmfs_log("refresh %lu: %s", (unsigned long)ino,
				  strerror(-r));
	}
	g_array_unref(inos);
}

static void *refresh_main(void *arg)
{
	struct shmfs_state *st = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&refresh_lock);
	while (!stopping) {
		next.tv_nsec += (long)st->refresh_ms % 1000 * 1000000;
		next.tv_sec += st->refresh_ms / 1000 + next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		if (pthread_cond_timedwait(&refresh_cond, &refresh_lock,
					   &next) != ETIMEDOUT)
			continue;
		pthread_mutex_unlock(&refresh_lock);
		refresh_once(st->se);
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
