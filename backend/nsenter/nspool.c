/* nspool.c - see nspool.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "nsctx.h"
#include "nspool.h"
#include "bgthread.h"

/* A thread stays in a namespace this long after its last call... */
#define LINGER_US (500 * 1000)
/* ...and, out of every namespace, exits after this long without one. */
#define IDLE_EXIT_US (10 * 1000 * 1000)

struct ns_job {
	struct ns_target t;
	int (*fn)(void *arg);
	void *arg;
	bool brief; /* leave the namespace after it, not linger */
	int result;
	gint64 cpu_us; /* the CPU it used, entering and leaving included */
	bool done;
};

struct ns_worker {
	GThread *thread;
	/* The namespace this thread is in or is about to enter for its
	 * queued jobs; 0 when it is in none (free for any). */
	ino_t assigned;
	GQueue jobs; /* struct ns_job *, all for `assigned` */
	bool running;
	bool quit;
	GCond wake;
};

/* pool_lock protects workers, every worker's fields but its thread-local
 * state, and every job's result and done.  A leaf lock: no call runs
 * under it, and nothing else is taken while it is held. */
static GMutex pool_lock;
static GCond job_done; /* a job finished, or a thread became free */
static GPtrArray *workers;
static unsigned max_workers;
static int home_fd = -1; /* the daemon's own IPC namespace */

int ns_pool_init(unsigned max)
{
	max_workers = max ? max : 1;
	home_fd = open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
	if (home_fd < 0)
		return -errno;
	workers = g_ptr_array_new();
	return 0;
}

/* What a thread holds while it is inside a namespace. */
struct entered {
	ino_t ns;
	int posix_fd;
	char posix_path[64];
};

static void leave(struct entered *e)
{
	if (!e->ns)
		return;
	/* Back home first: a thread that cannot leave must not serve. */
	if (setns(home_fd, CLONE_NEWIPC) < 0)
		g_error("nspool: cannot return to the daemon's IPC namespace: "
			"%s",
			g_strerror(errno));
	if (e->posix_fd >= 0)
		close(e->posix_fd);
	e->posix_fd = -1;
	e->ns = 0;
	shm_ctx_set(0, -1, NULL);
}

/* Enter t->ns through t->pid: 0, -ESRCH if the pid is not in it now, or
 * -errno from setns.  The descriptor setns is given is the namespace
 * whose inode number was checked, so there is no window for another. */
static int enter(struct entered *e, const struct ns_target *t)
{
	char path[64];
	struct stat st;
	int fd, r = 0;

	leave(e);
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	if (fstat(fd, &st) < 0 || st.st_ino != t->ns) {
		close(fd);
		return -ESRCH;
	}
	snprintf(e->posix_path, sizeof(e->posix_path), "/proc/%d/root/dev/shm",
		 (int)t->pid);
	/* A container without a /dev/shm has no POSIX objects: -1. */
	e->posix_fd = open(e->posix_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* The pid still names a process of t->ns: the root was its. */
	if (shm_ipc_ns_of_pid(t->pid) != t->ns)
		r = -ESRCH;
	else if (setns(fd, CLONE_NEWIPC) < 0)
		r = -errno;
	else
		e->ns = t->ns;
	close(fd);
	if (r) {
		if (e->posix_fd >= 0)
			close(e->posix_fd);
		e->posix_fd = -1;
		return r;
	}
	shm_ctx_set(e->ns, e->posix_fd, e->posix_path);
	return 0;
}

static int run_job(struct entered *e, struct ns_job *j)
{
	int r = 0;

	if (e->ns != j->t.ns)
		r = enter(e, &j->t);
	else if (shm_ipc_ns_of_pid(j->t.pid) != j->t.ns)
		r = -ESRCH; /* the namespace may have lost its last process */
	return r ? r : j->fn(j->arg);
}

/* A free thread: nothing queued, nothing running. */
static bool worker_free(const struct ns_worker *w)
{
	return g_queue_is_empty((GQueue *)&w->jobs) && !w->running;
}

static gpointer worker_main(gpointer p)
{
	struct ns_worker *w = p;
	struct entered e = { .posix_fd = -1 };
	sigset_t set;

	/* As libfuse's own threads: the main thread takes these. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	g_mutex_lock(&pool_lock);
	for (;;) {
		struct ns_job *j = g_queue_pop_head(&w->jobs);

		if (!j) {
			gint64 until = g_get_monotonic_time() +
				       (e.ns ? LINGER_US : IDLE_EXIT_US);

			if (w->quit)
				break;
			if (g_cond_wait_until(&w->wake, &pool_lock, until) ||
			    !worker_free(w) || w->quit)
				continue;
			if (!e.ns)
				break; /* idle too long */
			w->assigned = 0;
			g_cond_broadcast(&job_done);
			g_mutex_unlock(&pool_lock);
			leave(&e);
			g_mutex_lock(&pool_lock);
			continue;
		}
		w->running = true;
		g_mutex_unlock(&pool_lock);
		gint64 cpu0 = shm_thread_cpu_us();
		int r = run_job(&e, j);

		/* A brief call leaves at once unless more of its namespace's
		 * are queued (none can be queued here once unassigned). */
		if (j->brief && e.ns) {
			bool alone;

			g_mutex_lock(&pool_lock);
			alone = g_queue_is_empty(&w->jobs);
			if (alone)
				w->assigned = 0;
			g_mutex_unlock(&pool_lock);
			if (alone)
				leave(&e);
		}
		gint64 cpu = shm_thread_cpu_us() - cpu0;
		g_mutex_lock(&pool_lock);
		j->result = r;
		j->cpu_us = cpu;
		j->done = true;
		w->running = false;
		g_cond_broadcast(&job_done);
	}
	g_ptr_array_remove(workers, w);
	g_cond_broadcast(&job_done);
	g_mutex_unlock(&pool_lock);
	leave(&e);
	g_cond_clear(&w->wake);
	if (!w->quit)
		g_thread_unref(w->thread); /* nobody joins an idle exit */
	g_free(w);
	return NULL;
}

/* The thread for ns: an idle one already in it, else a free one, else a
 * new one within the bound, else a busy one in it (the call waits its
 * turn); NULL when every thread is busy elsewhere.  A busy thread in ns
 * comes last so that a call made while another of the same namespace
 * runs (a scan that looks at a file of this mount) is not queued behind
 * it.  Called with pool_lock held. */
static struct ns_worker *worker_for(ino_t ns)
{
	struct ns_worker *idle_in = NULL, *busy_in = NULL, *spare = NULL;

	for (guint i = 0; i < workers->len; i++) {
		struct ns_worker *w = g_ptr_array_index(workers, i);

		if (w->quit)
			continue;
		if (w->assigned == ns && worker_free(w) && !idle_in)
			idle_in = w;
		else if (w->assigned == ns && !busy_in)
			busy_in = w;
		else if (w->assigned != ns && worker_free(w) && !spare)
			spare = w;
	}
	if (idle_in)
		return idle_in;
	if (!spare && workers->len < max_workers) {
		spare = g_new0(struct ns_worker, 1);
		g_queue_init(&spare->jobs);
		g_cond_init(&spare->wake);
		g_ptr_array_add(workers, spare);
		spare->thread = g_thread_new("shmfs-ns", worker_main, spare);
	}
	if (spare) {
		spare->assigned = ns;
		return spare;
	}
	return busy_in;
}

static int run(const struct ns_target *t, int (*fn)(void *arg), void *arg,
	       bool brief, gint64 *cpu_us)
{
	struct ns_job j = { .t = *t, .fn = fn, .arg = arg, .brief = brief };
	struct ns_worker *w;

	g_mutex_lock(&pool_lock);
	while (!(w = worker_for(t->ns)))
		g_cond_wait(&job_done, &pool_lock);
	g_queue_push_tail(&w->jobs, &j);
	g_cond_signal(&w->wake);
	while (!j.done)
		g_cond_wait(&job_done, &pool_lock);
	g_mutex_unlock(&pool_lock);
	if (cpu_us)
		*cpu_us = j.cpu_us;
	return j.result;
}

int ns_pool_run(const struct ns_target *t, int (*fn)(void *arg), void *arg)
{
	return run(t, fn, arg, false, NULL);
}

int ns_pool_run_brief(const struct ns_target *t, int (*fn)(void *arg),
		      void *arg, gint64 *cpu_us)
{
	return run(t, fn, arg, true, cpu_us);
}

void ns_pool_counts(unsigned *threads, unsigned *entered)
{
	g_mutex_lock(&pool_lock);
	*threads = workers ? workers->len : 0;
	*entered = 0;
	for (guint i = 0; workers && i < workers->len; i++)
		if (((struct ns_worker *)g_ptr_array_index(workers, i))
			    ->assigned)
			(*entered)++;
	g_mutex_unlock(&pool_lock);
}

void ns_pool_fini(void)
{
	g_autoptr(GPtrArray) threads = g_ptr_array_new();

	if (!workers)
		return;
	g_mutex_lock(&pool_lock);
	for (guint i = 0; i < workers->len; i++) {
		struct ns_worker *w = g_ptr_array_index(workers, i);

		w->quit = true;
		g_ptr_array_add(threads, w->thread);
		g_cond_signal(&w->wake);
	}
	g_mutex_unlock(&pool_lock);
	for (guint i = 0; i < threads->len; i++)
		g_thread_join(g_ptr_array_index(threads, i));
	g_clear_pointer(&workers, g_ptr_array_unref);
	if (home_fd >= 0)
		close(home_fd);
	home_fd = -1;
}
