/* trace.c - the eBPF program's events into the store of origins (see
 * trace.h).  Built without it (SHMFS_NO_BPF) where the build machine has
 * no clang, bpftool, libbpf or BTF: then shm_trace_start says so. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "backend.h"
#include "origins.h"
#include "trace.h"

#ifdef SHMFS_NO_BPF

bool shm_trace_built(void)
{
	return false;
}

int shm_trace_start(const char *posix_dir, bool syscalls)
{
	(void)posix_dir;
	(void)syscalls;
	return -ENOSYS;
}

const char *shm_trace_hooks(void)
{
	return NULL;
}

void shm_trace_stop(void)
{
}

bool shm_trace_active(void)
{
	return false;
}

bool shm_trace_unlinked(ino_t ns, dev_t dev, const char *name, pid_t *pid,
			char **command, char **container)
{
	(void)ns;
	(void)dev;
	(void)name;
	(void)pid;
	(void)command;
	(void)container;
	return false;
}

bool shm_trace_created(ino_t ns, dev_t dev, const char *name, pid_t *pid,
		       char **command, char **container)
{
	return shm_trace_unlinked(ns, dev, name, pid, command, container);
}

void shm_trace_watch_dev(dev_t dev)
{
	(void)dev;
}

void shm_trace_drain(void)
{
}

guint64 shm_trace_lost(void)
{
	return 0;
}

guint64 shm_trace_seen(void)
{
	return 0;
}

#else

#include <bpf/libbpf.h>
#include <poll.h>
#include <unistd.h>

#include "bgthread.h"
#include "proc/cgroupid.h"
#include "trace.skel.h"
#include "trace_event.h"

bool shm_trace_built(void)
{
	return true;
}

/* A traced object its feeder never saw is forgotten after this long. */
#define TRACED_KEEP_US (10 * G_USEC_PER_SEC)
/* At most this many such records at once (a user opening existing files
 * with O_CREAT in a loop makes one per call): past it the oldest goes. */
#define TRACED_MAX 65536

/* The records made by the trace alone, oldest first (their identities
 * and when): how they are forgotten, in order.  Under the origins'
 * lock. */
struct traced {
	struct shm_origin_id id;
	gint64 when;
};
static GQueue traced = G_QUEUE_INIT;

/* Forget the records only traced that are older than `before`, and the
 * oldest past TRACED_MAX (the origins' lock held). */
static void forget_traced(gint64 before)
{
	struct traced *t;

	while ((t = g_queue_peek_head(&traced)) &&
	       (t->when < before || traced.length > TRACED_MAX)) {
		struct shm_origin *o = shm_origin_find(&t->id);

		if (o && !o->links && o->traced == t->when)
			shm_origin_drop(&t->id);
		g_free(g_queue_pop_head(&traced));
	}
}

static struct shm_trace *skel;
static struct ring_buffer *ring;
/* ring_lock: one consumer of the ring at a time (the thread, or a
 * watcher draining it before it emits). */
static GMutex ring_lock;
static struct shm_stopper stopper = SHM_STOPPER_INIT;
static guint64 seen; /* atomic */

/* Names made (opened with O_CREAT) or unlinked in a watched /dev/shm
 * lately, and by whom, until the watcher's own event for the name asks
 * (shm_trace_created, shm_trace_unlinked): at most UNLINKS_MAX, none
 * older than TRACED_KEEP_US, in the order they came; the newest of each
 * (kind, directory, name) is found by its key in unlink_index, and stays
 * there once taken (marked so) until it ages out or a newer call of its
 * key replaces it: a table that only grows and shrinks with the queue,
 * not with every call.  Under unlinks_lock. */
struct unlink {
	/* Its key in unlink_index: */
	bool made;     /* an open with O_CREAT, else an unlink */
	bool by_dev;   /* where: a tmpfs's device, else an IPC namespace: */
	guint64 where; /* the caller's (a path under the prefix), or the
			* tmpfs of the directory it was in */
	char *name;    /* (stored after the record itself) */
	pid_t pid;
	bool taken;		   /* asked for already */
	char *command, *container; /* NULL once taken */
	gint64 when;
};
#define UNLINKS_MAX 16384
static GMutex unlinks_lock;
static GQueue unlinks = G_QUEUE_INIT;
static GHashTable *unlink_index; /* struct unlink * (the newest of a key) */

static void unlink_free(struct unlink *u)
{
	g_free(u->command);
	g_free(u->container);
	g_free(u);
}

static guint unlink_hash(gconstpointer p)
{
	const struct unlink *u = p;

	return g_str_hash(u->name) ^ (guint)(u->where * 31 + (u->where >> 32)) ^
	       (guint)u->made ^ (guint)u->by_dev << 1;
}

static gboolean unlink_equal(gconstpointer a, gconstpointer b)
{
	const struct unlink *x = a, *y = b;

	return x->made == y->made && x->by_dev == y->by_dev &&
	       x->where == y->where && strcmp(x->name, y->name) == 0;
}

/* The oldest call, out of the queue and (if still the newest of its
 * key) out of the index (unlinks_lock held). */
static void unlink_pop(void)
{
	struct unlink *u = g_queue_pop_head(&unlinks);

	if (g_hash_table_lookup(unlink_index, u) == u)
		g_hash_table_remove(unlink_index, u);
	unlink_free(u);
}

/* The kernel's dev_t (12 bits of major above 20 of minor) as ours. */
static dev_t dev_of(__u32 kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

/* Who called, as events named them in full: (pid, start) -> struct who.
 * Read only by the thread that takes events (under ring_lock); emptied
 * when it reaches WHO_MAX (a loop of one process needs one). */
struct who {
	char *command, *container;
};
#define WHO_MAX 65536
static GHashTable *whos;

static void who_free(void *p)
{
	struct who *w = p;

	g_free(w->command);
	g_free(w->container);
	g_free(w);
}

static guint who_hash(gconstpointer p)
{
	const __u64 *k = p;

	return (guint)(k[0] ^ k[1] ^ k[1] >> 32);
}

static gboolean who_equal(gconstpointer a, gconstpointer b)
{
	const __u64 *x = a, *y = b;

	return x[0] == y[0] && x[1] == y[1];
}

static char *command_of(const struct shm_trace_event *e);
static char *container_of(const struct shm_trace_event *e);

/* e's caller's command line and container (new strings): read from e,
 * or remembered from its last event in full; its comm if neither. */
static void caller_of(const struct shm_trace_event *e, char **command,
		      char **container)
{
	__u64 k[2] = { e->pid, e->start };
	struct who *w;

	if (!whos)
		whos = g_hash_table_new_full(who_hash, who_equal, g_free,
					     who_free);
	if (e->has_who) {
		if (g_hash_table_size(whos) >= WHO_MAX)
			g_hash_table_remove_all(whos);
		w = g_new0(struct who, 1);
		w->command = command_of(e);
		w->container = container_of(e);
		g_hash_table_replace(whos, g_memdup2(k, sizeof(k)), w);
	} else if (!(w = g_hash_table_lookup(whos, k))) {
		*command = g_strndup(e->comm, sizeof(e->comm));
		*container = g_strdup("");
		return;
	}
	*command = g_strdup(w->command);
	*container = g_strdup(w->container);
}

/* The caller's command line, as lsipc shows one: its argv joined by
 * spaces; its comm where it has none (a kernel thread). */
static char *command_of(const struct shm_trace_event *e)
{
	GString *s = g_string_new(NULL);
	size_t n = MIN(e->args_len, sizeof(e->args));

	for (size_t i = 0; i < n; i++)
		g_string_append_c(s, e->args[i] ? e->args[i] : ' ');
	while (s->len && s->str[s->len - 1] == ' ')
		g_string_truncate(s, s->len - 1);
	if (!s->len)
		g_string_append_len(s, e->comm, strnlen(e->comm, 16));
	return g_string_free(s, FALSE);
}

/* The caller's container, from its cgroup's last three names. */
static char *container_of(const struct shm_trace_event *e)
{
	GString *path = g_string_new("0::");
	char *id;

	for (int i = 2; i >= 0; i--) {
		size_t n = strnlen(e->cgroup[i], sizeof(e->cgroup[i]));

		if (!n || (n == 1 && e->cgroup[i][0] == '/'))
			continue;
		g_string_append_c(path, '/');
		g_string_append_len(path, e->cgroup[i], (gssize)n);
	}
	id = ns_container_of_cgroup(path->str);
	g_string_free(path, TRUE);
	return id ? id : g_strdup("");
}

/* A name made or unlinked in a watched /dev/shm: kept for the watcher. */
static void unlinked(const struct shm_trace_event *e)
{
	size_t n = strnlen(e->name, sizeof(e->name));
	const char *base = e->name;
	struct unlink *u;

	for (size_t i = 0; i < n; i++)
		if (e->name[i] == '/')
			base = e->name + i + 1;
	n -= (size_t)(base - e->name);
	u = g_malloc0(sizeof(*u) + n + 1);
	u->name = (char *)(u + 1);
	memcpy(u->name, base, n);
	u->made = e->what == SHM_TRACE_POSIX_MADE;
	u->by_dev = e->dev != 0;
	u->where = e->dev ? (guint64)dev_of(e->dev) : (guint64)e->ipc_ns;
	u->pid = (pid_t)e->pid;
	caller_of(e, &u->command, &u->container);
	u->when = g_get_monotonic_time();
	g_mutex_lock(&unlinks_lock);
	if (!unlink_index)
		unlink_index = g_hash_table_new(unlink_hash, unlink_equal);
	g_queue_push_tail(&unlinks, u);
	g_hash_table_replace(unlink_index, u, u);
	while (unlinks.length > UNLINKS_MAX ||
	       ((struct unlink *)unlinks.head->data)->when <
		       u->when - TRACED_KEEP_US)
		unlink_pop();
	g_mutex_unlock(&unlinks_lock);
}

/* The newest call of kind made on name in the /dev/shm of ns or dev,
 * taken (its caller handed over). */
static bool named(bool made, ino_t ns, dev_t dev, const char *name, pid_t *pid,
		  char **command, char **container)
{
	struct unlink by_dev = { .made = made,
				 .by_dev = true,
				 .where = (guint64)dev,
				 .name = (char *)name };
	struct unlink by_ns = { .made = made,
				.where = (guint64)ns,
				.name = (char *)name };
	struct unlink *a = NULL, *b = NULL, *u;

	g_mutex_lock(&unlinks_lock);
	if (unlink_index) {
		a = dev ? g_hash_table_lookup(unlink_index, &by_dev) : NULL;
		b = g_hash_table_lookup(unlink_index, &by_ns);
	}
	if (a && a->taken)
		a = NULL;
	if (b && b->taken)
		b = NULL;
	u = a && (!b || a->when >= b->when) ? a : b;
	if (u) {
		*pid = u->pid;
		*command = g_steal_pointer(&u->command);
		*container = g_steal_pointer(&u->container);
		/* Left to age; no longer answered. */
		u->taken = true;
	}
	g_mutex_unlock(&unlinks_lock);
	return u != NULL;
}

bool shm_trace_unlinked(ino_t ns, dev_t dev, const char *name, pid_t *pid,
			char **command, char **container)
{
	return named(false, ns, dev, name, pid, command, container);
}

bool shm_trace_created(ino_t ns, dev_t dev, const char *name, pid_t *pid,
		       char **command, char **container)
{
	return named(true, ns, dev, name, pid, command, container);
}

/* The create and remove lines of System V segment o, which no listing
 * saw (the origins' lock held: one order). */
static void emit_unseen(const struct shm_origin *o)
{
	shm_origin_emit(o, true, "sysv", o->ns, o->name);
	shm_origin_emit(o, false, "sysv", o->ns, o->name);
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct shm_trace_event *e = data;
	struct shm_origin_id id;
	struct shm_origin *o;
	char *cmd = NULL, *ctr = NULL;
	bool made;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	__atomic_fetch_add(&seen, 1, __ATOMIC_RELAXED);
	switch (e->what) {
	case SHM_TRACE_SYSV_MADE:
	case SHM_TRACE_SYSV_REMOVED:
		id = (struct shm_origin_id){ SHM_ORIGIN_SYSV, e->object_ns,
					     (uint64_t)(unsigned)e->id };
		made = e->what == SHM_TRACE_SYSV_MADE;
		break;
	case SHM_TRACE_POSIX_MADE:
	case SHM_TRACE_POSIX_REMOVED:
		unlinked(e);
		return 0;
	default:
		return 0;
	}
	caller_of(e, &cmd, &ctr);
	shm_origins_lock();
	o = shm_origin_find(&id);
	if (made && o && o->links) {
		/* Seen by its feeder already: a System V segment takes the
		 * creator it lacks if this caller is its shm_cpid; a POSIX
		 * object was an existing file opened with O_CREAT. */
		if (id.kind == SHM_ORIGIN_SYSV && o->pid == (pid_t)e->pid &&
		    !*o->command) {
			shm_origin_set_creator(o, cmd, ctr);
			cmd = ctr = NULL;
		}
	} else if (made) {
		/* Not yet seen by its feeder, which completes the record
		 * when it first sees the object (links 0 until then).  The
		 * first call that may have made it is kept: later ones
		 * (shmget of the key, open with O_CREAT) only found it. */
		if (!o || o->traced < g_get_monotonic_time() - TRACED_KEEP_US) {
			struct traced *t = g_new0(struct traced, 1);

			o = shm_origin_add(&id);
			o->links = 0;
			o->traced = g_get_monotonic_time();
			t->id = id;
			t->when = o->traced;
			g_queue_push_tail(&traced, t);
			forget_traced(0);
			g_free(o->name);
			o->name = g_strdup_printf("%d", e->id);
			o->ns = e->object_ns;
			o->has_key = true;
			o->key = e->key;
			o->size = e->size;
			o->pid = (pid_t)e->pid;
			shm_origin_set_creator(o, cmd, ctr);
			cmd = ctr = NULL;
		}
	} else if (o) {
		shm_origin_set_remover(o, (pid_t)e->pid, cmd, ctr);
		cmd = ctr = NULL;
		/* Made and removed between two looks of the watcher: it
		 * never saw the segment, the kernel did. */
		if (!o->links) {
			emit_unseen(o);
			shm_origin_drop(&id);
		}
	}
	shm_origins_unlock();
	g_free(cmd);
	g_free(ctr);
	if (made)
		shm_origin_name(&id, g_get_monotonic_time(), true);
	return 0;
}

void shm_trace_drain(void)
{
	if (!ring)
		return;
	g_mutex_lock(&ring_lock);
	ring_buffer__consume(ring);
	g_mutex_unlock(&ring_lock);
}

static gpointer trace_main(gpointer p)
{
	struct pollfd pfd[2] = {
		{ .fd = ring_buffer__epoll_fd(ring), .events = POLLIN },
		{ .fd = stopper.fd[0], .events = POLLIN },
	};
	gint64 swept = 0;

	(void)p;
	while (!(pfd[1].revents & (POLLIN | POLLHUP))) {
		gint64 now;

		(void)poll(pfd, 2, 20);
		shm_trace_drain();
		now = g_get_monotonic_time();
		if (now - swept > G_USEC_PER_SEC) {
			shm_origins_lock();
			forget_traced(now - TRACED_KEEP_US);
			shm_origins_unlock();
			swept = now;
		}
	}
	return NULL;
}

/* libbpf's messages: none, unless SHMFS_TRACE_DEBUG is set (why a load
 * failed, the verifier's log). */
static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	(void)level;
	if (!getenv("SHMFS_TRACE_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* On what the programs run: "calls" (their own functions, through
 * trampolines) or "syscalls" (every system call's tracepoints). */
static const char *hooks;

/* Open, load and attach the skeleton with the programs on the calls'
 * own functions (calls) or on every system call's tracepoints: 0, or
 * -errno. */
static int trace_load(const char *posix_dir, bool calls)
{
	int r;

	skel = shm_trace__open();
	if (!skel)
		return -(errno ? errno : EPERM);
	bpf_program__set_autoload(skel->progs.on_create, calls);
	bpf_program__set_autoload(skel->progs.on_unlink, calls);
	bpf_program__set_autoload(skel->progs.on_shmget, calls);
	bpf_program__set_autoload(skel->progs.on_shmctl, calls);
	bpf_program__set_autoload(skel->progs.on_enter, !calls);
	bpf_program__set_autoload(skel->progs.on_exit, !calls);
	/* The watched /dev/shm's path, for unlinks by absolute path (the
	 * tracepoints see paths, the calls dentries). */
	snprintf((char *)skel->rodata->prefix, sizeof(skel->rodata->prefix),
		 "%s/", posix_dir);
	skel->rodata->prefix_len = (__u32)strlen((char *)skel->rodata->prefix);
	r = shm_trace__load(skel);
	if (!r)
		r = shm_trace__attach(skel);
	if (r) {
		shm_trace__destroy(skel);
		skel = NULL;
		return r < 0 ? r : -EPERM;
	}
	hooks = calls ? "calls" : "syscalls";
	return 0;
}

int shm_trace_start(const char *posix_dir, bool syscalls)
{
	int r;

	libbpf_set_print(quiet_print);
	if (syscalls || (r = trace_load(posix_dir, true)) != 0)
		r = trace_load(posix_dir, false);
	if (r)
		return r;
	ring = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL,
				NULL);
	if (!ring) {
		r = -errno;
		shm_trace__destroy(skel);
		skel = NULL;
		return r;
	}
	r = shm_stopper_start(&stopper, "shmfs-trace", trace_main);
	if (r) {
		ring_buffer__free(ring);
		ring = NULL;
		shm_trace__destroy(skel);
		skel = NULL;
	}
	return r;
}

const char *shm_trace_hooks(void)
{
	return skel ? hooks : NULL;
}

void shm_trace_stop(void)
{
	if (!skel)
		return;
	shm_stopper_stop(&stopper);
	g_mutex_lock(&ring_lock);
	ring_buffer__free(ring);
	ring = NULL;
	g_mutex_unlock(&ring_lock);
	shm_trace__destroy(skel);
	skel = NULL;
	g_mutex_lock(&unlinks_lock);
	g_clear_pointer(&unlink_index, g_hash_table_unref);
	g_queue_clear_full(&unlinks, (GDestroyNotify)unlink_free);
	g_mutex_unlock(&unlinks_lock);
	g_clear_pointer(&whos, g_hash_table_unref);
	shm_origins_lock();
	g_queue_clear_full(&traced, g_free);
	shm_origins_unlock();
}

bool shm_trace_active(void)
{
	return skel != NULL;
}

void shm_trace_watch_dev(dev_t dev)
{
	/* The kernel's encoding (see on_event). */
	__u32 kdev = (__u32)(major(dev) << 20 | minor(dev));
	__u8 one = 1;

	if (skel)
		bpf_map__update_elem(skel->maps.watched, &kdev, sizeof(kdev),
				     &one, sizeof(one), BPF_ANY);
}

guint64 shm_trace_lost(void)
{
	__u32 zero = 0;
	__u64 n = 0;

	if (skel)
		bpf_map__lookup_elem(skel->maps.lost, &zero, sizeof(zero), &n,
				     sizeof(n), 0);
	return n;
}

guint64 shm_trace_seen(void)
{
	return __atomic_load_n(&seen, __ATOMIC_RELAXED);
}

#endif
