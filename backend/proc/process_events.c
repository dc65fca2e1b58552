/* process_events.c - command lines and containers read at fork and exec, kept a
 * while after exit (see process_events.h).
 *
 * The proc connector sends an event for every fork, exec and exit on the
 * host; a thread of its own reads them.  A fork copies the parent's entry
 * (read from /proc if the parent is not known), an exec reads the new
 * command line: both while the process surely lives, microseconds after
 * the event.  An exit moves the entry to a tail of SHM_EXECS_EXITED, the
 * oldest forgotten first.  What this costs grows with the processes made,
 * not with the segments: two small /proc reads an exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "cgroupid.h"
#include "process_events.h"
#include "bgthread.h"

struct proc_entry {
	pid_t pid;
	char *command;
	char *container;
	double born; /* seconds since the epoch: when seen made */
	double died; /* 0 while it lives */
	guint64 ts;  /* the kernel's time of the event that made it */
};

/* execs_lock protects live, exited and order.  A leaf. */
G_LOCK_DEFINE_STATIC(execs_lock);
static GHashTable *live;   /* pid -> struct proc_entry * */
static GHashTable *exited; /* pid -> struct proc_entry * (the last) */
static GQueue order;	   /* exited entries, oldest first */
static guint64 lost;
/* read_lock makes one reader of the socket at a time; taken before
 * execs_lock. */
static GMutex read_lock;

static int sock = -1;
static struct shm_stopper stopper = SHM_STOPPER_INIT;

static void entry_free(void *p)
{
	struct proc_entry *e = p;

	if (!e)
		return;
	g_free(e->command);
	g_free(e->container);
	g_free(e);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* pid's entry read from /proc now; NULL if it is gone. */
static struct proc_entry *read_entry(pid_t pid)
{
	struct proc_entry *e = g_new0(struct proc_entry, 1);

	e->pid = pid;
	e->born = now_s();
	e->command = shm_command_of(pid);
	e->container = ns_container_of_pid(pid);
	if (!e->container || !*e->command) {
		entry_free(e);
		return NULL;
	}
	return e;
}

/* The kernel sends each CPU's events as they happen: a child's exec (or
 * exit) on one CPU can arrive before its fork on another.  So every entry
 * keeps the time of the event that made it (ts), and an older event never
 * overwrites a newer one; an exec whose command line could not be read,
 * and an exit that came first, leave an entry whose command is NULL: not
 * known, and never taken from what the process forked from. */

/* Move pid's live entry (or a new unknown one) to the exited tail. */
static void retire(pid_t pid, guint64 ts)
{
	struct proc_entry *e = NULL, *prev;

	if (!g_hash_table_steal_extended(live, GINT_TO_POINTER(pid), NULL,
					 (gpointer *)&e)) {
		e = g_new0(struct proc_entry, 1);
		e->pid = pid;
		e->ts = ts;
	}
	e->died = now_s();
	prev = g_hash_table_lookup(exited, GINT_TO_POINTER(pid));
	if (prev)
		g_queue_remove(&order, prev);
	g_hash_table_replace(exited, GINT_TO_POINTER(pid), e);
	g_queue_push_tail(&order, e);
	if (order.length > SHM_EXECS_EXITED) {
		struct proc_entry *o = g_queue_pop_head(&order);

		g_hash_table_remove(exited, GINT_TO_POINTER(o->pid));
	}
}

/* Whether an event at ts about pid comes after everything known of it
 * (execs_lock held). */
static bool newest(pid_t pid, guint64 ts)
{
	struct proc_entry *l = g_hash_table_lookup(live, GINT_TO_POINTER(pid));
	struct proc_entry *x =
		g_hash_table_lookup(exited, GINT_TO_POINTER(pid));

	return (!l || l->ts < ts) && (!x || x->ts < ts);
}

static void on_fork(pid_t parent, pid_t child, guint64 ts)
{
	struct proc_entry *p, *e = NULL;
	bool copied = false;

	G_LOCK(execs_lock);
	if (!newest(child, ts)) {
		G_UNLOCK(execs_lock);
		return;
	}
	p = g_hash_table_lookup(live, GINT_TO_POINTER(parent));
	if (p && p->command) {
		e = g_new0(struct proc_entry, 1);
		e->pid = child;
		e->command = g_strdup(p->command);
		e->container = g_strdup(p->container);
		e->born = now_s();
		copied = true;
	}
	G_UNLOCK(execs_lock);
	if (!copied)
		e = read_entry(child);
	if (!e)
		return;
	e->ts = ts;
	G_LOCK(execs_lock);
	if (newest(child, ts))
		g_hash_table_replace(live, GINT_TO_POINTER(child), e);
	else
		entry_free(e);
	G_UNLOCK(execs_lock);
}

static void on_exec(pid_t pid, guint64 ts)
{
	struct proc_entry *e = read_entry(pid);
	struct proc_entry *old;

	G_LOCK(execs_lock);
	if (!newest(pid, ts)) {
		G_UNLOCK(execs_lock);
		entry_free(e);
		return;
	}
	/* Gone before its new command line could be read: what it forked
	 * from is not what it ran, so it is not known. */
	if (!e) {
		e = g_new0(struct proc_entry, 1);
		e->pid = pid;
		e->born = now_s();
	}
	e->ts = ts;
	/* The same process: it was born when it forked. */
	old = g_hash_table_lookup(live, GINT_TO_POINTER(pid));
	if (old)
		e->born = old->born;
	g_hash_table_replace(live, GINT_TO_POINTER(pid), e);
	G_UNLOCK(execs_lock);
}

static void on_exit_(pid_t pid, guint64 ts)
{
	struct proc_entry *l;

	G_LOCK(execs_lock);
	l = g_hash_table_lookup(live, GINT_TO_POINTER(pid));
	/* A newer process has the pid already: this exit is an older one's. */
	if (!l || l->ts < ts)
		retire(pid, ts);
	G_UNLOCK(execs_lock);
}

static void handle(const struct proc_event *ev)
{
	guint64 ts = ev->timestamp_ns;

	switch (ev->what) {
	case PROC_EVENT_FORK:
		/* A thread is no process. */
		if (ev->event_data.fork.child_pid ==
		    ev->event_data.fork.child_tgid)
			on_fork(ev->event_data.fork.parent_tgid,
				ev->event_data.fork.child_tgid, ts);
		break;
	case PROC_EVENT_EXEC:
		on_exec(ev->event_data.exec.process_tgid, ts);
		break;
	case PROC_EVENT_EXIT:
		if (ev->event_data.exit.process_pid ==
		    ev->event_data.exit.process_tgid)
			on_exit_(ev->event_data.exit.process_tgid, ts);
		break;
	default:
		break;
	}
}

/* Every event queued now, handled in order (one reader at a time: the
 * thread, or a question that must see what is queued, shm_execs_lookup). */
static void drain(void)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;

	g_mutex_lock(&read_lock);
	while (sock >= 0 &&
	       (n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno == ENOBUFS) {
				G_LOCK(execs_lock);
				lost++;
				G_UNLOCK(execs_lock);
				continue;
			}
			break;
		}
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			struct cn_msg *m = NLMSG_DATA(h);
			struct proc_event ev;

			if (h->nlmsg_type != NLMSG_DONE ||
			    m->id.idx != CN_IDX_PROC ||
			    m->len < sizeof(struct proc_event))
				continue;
			/* The event follows a 20-byte header: copied out to
			 * be aligned. */
			memcpy(&ev, m->data, sizeof(ev));
			handle(&ev);
		}
	}
	g_mutex_unlock(&read_lock);
}

static gpointer execs_main(gpointer p)
{
	(void)p;
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = stopper.fd[0], .events = POLLIN },
			{ .fd = sock, .events = POLLIN },
		};

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return NULL;
		if (fds[0].revents)
			return NULL;
		if (fds[1].revents)
			drain();
	}
}

/* Ask the connector for process events. */
static int listen_events(void)
{
	struct {
		struct nlmsghdr h;
		struct cn_msg m;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req = {
		.h = { .nlmsg_len = sizeof(req),
		       .nlmsg_type = NLMSG_DONE,
		       .nlmsg_pid = 0 },
		.m = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC },
		       .len = sizeof(enum proc_cn_mcast_op) },
		.op = PROC_CN_MCAST_LISTEN,
	};

	return send(sock, &req, sizeof(req), 0) < 0 ? -errno : 0;
}

int shm_execs_start(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = CN_IDX_PROC };
	int size = 4 << 20, r = 0;

	live = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
				     entry_free);
	exited = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
				       entry_free);
	g_queue_init(&order);
	sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (sock < 0)
		return -errno;
	/* A burst of forks must not overflow it (as root: past rmem_max). */
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		(void)setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof(size));
	if (bind(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (r = listen_events()) != 0 ||
	    (r = shm_stopper_start(&stopper, "shmfs-execs", execs_main)) != 0) {
		r = r ? r : -errno;
		shm_execs_stop();
		return r ? r : -EIO;
	}
	return 0;
}

void shm_execs_stop(void)
{
	shm_stopper_stop(&stopper);
	g_mutex_lock(&read_lock);
	if (sock >= 0)
		close(sock);
	sock = -1;
	g_mutex_unlock(&read_lock);
	G_LOCK(execs_lock);
	g_queue_clear(&order);
	if (live)
		g_hash_table_unref(live);
	if (exited)
		g_hash_table_unref(exited);
	live = exited = NULL;
	G_UNLOCK(execs_lock);
}

/* e lived at ctime (whole seconds: from ctime to ctime + 1). */
static bool lived_at(const struct proc_entry *e, time_t ctime)
{
	return e && e->command && e->born < (double)ctime + 1 &&
	       (!e->died || e->died >= (double)ctime);
}

bool shm_execs_lookup(pid_t pid, time_t ctime, char **command, char **container)
{
	struct proc_entry *e = NULL;
	bool found = false;

	/* The events of what pid did before the question (an exec that
	 * replaced what it forked from) are queued: handled first. */
	drain();
	G_LOCK(execs_lock);
	if (live) {
		e = g_hash_table_lookup(live, GINT_TO_POINTER(pid));
		if (!lived_at(e, ctime))
			e = g_hash_table_lookup(exited, GINT_TO_POINTER(pid));
	}
	if (lived_at(e, ctime)) {
		*command = g_strdup(e->command);
		*container = g_strdup(e->container);
		found = true;
	}
	G_UNLOCK(execs_lock);
	return found;
}

bool shm_execs_describe(pid_t pid, char **command, char **container)
{
	struct proc_entry *e = pid > 0 ? read_entry(pid) : NULL;

	if (e) {
		*command = g_steal_pointer(&e->command);
		*container = g_steal_pointer(&e->container);
		entry_free(e);
		return true;
	}
	return pid > 0 && shm_execs_lookup(pid, time(NULL), command, container);
}

void shm_execs_counts(guint *kept, guint64 *lost_out)
{
	G_LOCK(execs_lock);
	*kept = live ? g_hash_table_size(live) + g_hash_table_size(exited) : 0;
	*lost_out = lost;
	G_UNLOCK(execs_lock);
}
