/* bgthread.h - a background thread of a backend's own that polls a pipe to
 * learn when to end (watch.c, process_events.c), and the CPU a thread has used
 * (the watcher's budget, counted in the namespace pool's threads too).  Not
 * part of the backend interface.
 */
#ifndef SHMFS_STOPPER_H
#define SHMFS_STOPPER_H

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

struct shm_stopper {
	GThread *thread;
	int fd[2]; /* fd[0] becomes readable when the thread must end */
};

#define SHM_STOPPER_INIT                                                       \
	{                                                                      \
		NULL,                                                          \
		{                                                              \
			-1, -1                                                 \
		}                                                              \
	}

/* The CPU the calling thread has used, in microseconds. */
static inline gint64 shm_thread_cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (gint64)t.tv_sec * G_USEC_PER_SEC + t.tv_nsec / 1000;
}

/* Start fn on a thread named name: 0 or -errno. */
static inline int shm_stopper_start(struct shm_stopper *s, const char *name,
				    GThreadFunc fn)
{
	if (pipe2(s->fd, O_CLOEXEC) < 0)
		return -errno;
	s->thread = g_thread_try_new(name, fn, NULL, NULL);
	return s->thread ? 0 : -EAGAIN;
}

/* Tell the thread to end, wait for it, and close the pipe. */
static inline void shm_stopper_stop(struct shm_stopper *s)
{
	if (s->thread) {
		(void)!write(s->fd[1], "", 1);
		g_thread_join(s->thread);
		s->thread = NULL;
	}
	for (int i = 0; i < 2; i++)
		if (s->fd[i] >= 0)
			close(s->fd[i]);
	s->fd[0] = s->fd[1] = -1;
}

#endif
