/* creators.c - who made each System V segment (see creators.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "proc/cgroupid.h"
#include "creators.h"
#include "dockernames.h"
#include "proc/process_events.h"
#include "sink.h"
#include "watch.h"

struct seg_key {
	ino_t ns;
	int id;
};

/* At most this many segments wait for their container's name. */
#define UNNAMED_MAX 4096

struct creator {
	char *command;
	char *container;
	char *name;   /* the container's name, "" until the engine gave one */
	guint64 seen; /* the listing that last saw it */
	bool retry;   /* its creator lived unreadable: read it again */
	struct shm_seg_seen seg; /* as first seen: for its events */
};

/* creators_lock protects by_seg, listing_ns, listing_gen.  A leaf lock:
 * /proc is read outside it. */
G_LOCK_DEFINE_STATIC(creators_lock);
static GHashTable *by_seg; /* struct seg_key * -> struct creator * */
static ino_t listing_ns;
static guint64 listing_gen;
/* The last creator a listing read, and when: the segments a listing
 * sees in a row are often one process's. */
static pid_t memo_pid;
static guint64 memo_gen;
static struct creator *memo;
/* A listing in progress holds this (listings of one namespace run one
 * at a time; another namespace's wait). */
static GMutex listing_lock;
/* The first look at the namespaces there are when the daemon starts:
 * what it finds was not made while it watched (no event). */
static bool quiet;
static time_t quiet_since; /* while quiet, made since then is an event */
static guint64 missed;
/* Segments whose creator's container had no name when first seen (the
 * engine's names may be older than the container): asked again until an
 * answer of the engine newer than that sighting (shm_creators_name). */
struct unnamed {
	struct seg_key k;
	gint64 seen; /* g_get_monotonic_time() at the first sighting */
};
static GQueue unnamed = G_QUEUE_INIT;

static guint seg_hash(gconstpointer p)
{
	const struct seg_key *k = p;

	return (guint)k->ns * 2654435761u ^ (guint)k->id;
}

static gboolean seg_equal(gconstpointer a, gconstpointer b)
{
	const struct seg_key *x = a, *y = b;

	return x->ns == y->ns && x->id == y->id;
}

static void creator_free(void *p)
{
	struct creator *c = p;

	g_free(c->command);
	g_free(c->container);
	g_free(c->name);
	g_free(c);
}

/* The event of c's segment in ns (under creators_lock: one order). */
static void emit(bool created, ino_t ns, const struct creator *c)
{
	char name[16];
	struct shm_event ev = {
		.created = created,
		.kind = "sysv",
		.ns = ns,
		.container = c->container,
		.name = name,
		.has_key = true,
		.key = c->seg.key,
		.size = c->seg.size,
		.pid = c->seg.cpid,
		.command = c->command,
	};

	/* (shm_ctime is whole seconds: one made in the second the daemon
	 * started is taken as made after.) */
	if (quiet && created && c->seg.ctime < quiet_since)
		return;
	snprintf(name, sizeof(name), "%d", c->seg.id);
	shm_watch_emit(&ev);
}

/* When pid started, in seconds since the epoch (up to a second early:
 * the boot time is whole seconds); 0 if it is gone. */
static double started(pid_t pid)
{
	static long long btime;
	char path[48], buf[1024];
	unsigned long long ticks = 0;
	const char *p;
	FILE *f;

	if (!btime) {
		char line[256];

		f = fopen("/proc/stat", "re");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "btime %lld", &btime) == 1)
				break;
		if (f)
			fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* "pid (comm) state ..."; comm may hold spaces and parentheses:
	 * field 22 counts from the last ')'. */
	if (!p || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
		   "%*d %*d %*d %*d %*d %*d %llu",
		   &ticks) != 1)
		return 0;
	return (double)btime + (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* cpid's command line and container as read when it was made or ran a
 * program, if it lived at ctime (process_events.h); NULL if not known. */
static struct creator *remembered(pid_t cpid, time_t ctime)
{
	struct creator *c = g_new0(struct creator, 1);

	if (shm_execs_lookup(cpid, ctime, &c->command, &c->container))
		return c;
	g_free(c);
	return NULL;
}

/* cpid's command line and container read now, if it lives and started
 * before the segment was made (ctime is whole seconds: before ctime + 1),
 * else it is not the creator; NULL if not.  *alive: it is the creator and
 * lives, but may have no command line for a moment (in the middle of an
 * exec, or exited and not yet reaped).  A process that took the pid within
 * two seconds of the segment's making can pass for its creator. */
static struct creator *read_live(pid_t cpid, time_t ctime, bool *alive)
{
	struct creator *c;
	double t;

	*alive = false;
	if (cpid <= 0 || !(t = started(cpid)) || t >= (double)ctime + 1)
		return NULL;
	c = g_new0(struct creator, 1);
	c->command = shm_command_of(cpid);
	c->container = ns_container_of_pid(cpid);
	if (!c->container)
		c->container = g_strdup("");
	/* Gone meanwhile (its pid maybe taken since). */
	if (started(cpid) != t) {
		creator_free(c);
		return NULL;
	}
	*alive = true;
	if (!*c->command) {
		creator_free(c);
		return NULL;
	}
	return c;
}

/* The creator of a segment, to keep: read now while it lives (what lsipc
 * shows), else as remembered (process_events.h).  Unknown (NULL, with *retry)
 * while it lives without a command line: asked again at the next sighting. */
static struct creator *read_creator(pid_t cpid, time_t ctime, bool *retry)
{
	struct creator *c = read_live(cpid, ctime, retry);

	if (c || *retry)
		return c;
	return remembered(cpid, ctime);
}

/* Replace c's command line and container with fresh's. */
static void take(struct creator *c, struct creator *fresh)
{
	if (g_strcmp0(c->container, fresh->container) != 0) {
		g_free(c->name);
		c->name = g_strdup("");
	}
	g_free(c->command);
	g_free(c->container);
	c->command = g_steal_pointer(&fresh->command);
	c->container = g_steal_pointer(&fresh->container);
}

/* Keep the name the engine gives the container of k's creator, if none is
 * kept yet; whether that is settled (docker_name_settled: seen since
 * `since`).  Asked at a segment's first sighting, at each question, and by
 * the watcher until settled (shm_creators_name); never at a listing's
 * later sightings: a container the engine does not run (another
 * runtime's) would make the engine be asked at each of them. */
static bool name_now(const struct seg_key *k, gint64 since)
{
	g_autofree char *want = NULL, *name = NULL;
	struct creator *c;
	bool settled;

	G_LOCK(creators_lock);
	c = g_hash_table_lookup(by_seg, k);
	if (c && *c->container && !*c->name)
		want = g_strdup(c->container);
	G_UNLOCK(creators_lock);
	if (!want)
		return true; /* named, no container, or gone */
	settled = docker_name_settled(want, since, &name);
	if (!name)
		return settled;
	G_LOCK(creators_lock);
	c = g_hash_table_lookup(by_seg, k);
	if (c && !*c->name && strcmp(c->container, want) == 0) {
		g_free(c->name);
		c->name = g_steal_pointer(&name);
	}
	G_UNLOCK(creators_lock);
	return true;
}

/* The strings of c asked for, new ("" for none, or c gone). */
static void give(const struct creator *c, char **command, char **container,
		 char **name)
{
	if (command)
		*command = g_strdup(c ? c->command : "");
	if (container)
		*container = g_strdup(c ? c->container : "");
	if (name)
		*name = g_strdup(c ? c->name : "");
}

/* The creator kept for segment s of ns, or one read now and kept (a
 * segment first seen: its event).  A question about the segment (gen 0)
 * reads a living creator again, as lsipc does (it may have run another
 * program since); a creator not yet readable is read again at each
 * sighting until it is, or is gone (then it is counted missed).  The
 * strings asked for are new, "" where not known. */
static void note(ino_t ns, const struct shm_seg_seen *s, guint64 gen,
		 char **command, char **container, char **name)
{
	struct seg_key k = { ns, s->id };
	struct creator *c, *fresh = NULL;
	bool first, again = false, retry = false;
	gint64 now;

	G_LOCK(creators_lock);
	if (!by_seg)
		by_seg = g_hash_table_new_full(seg_hash, seg_equal, g_free,
					       creator_free);
	c = g_hash_table_lookup(by_seg, &k);
	first = !c;
	if (c)
		again = c->retry || (!gen && s->cpid > 0);
	else if (gen && memo && memo_gen == gen && memo_pid == s->cpid) {
		fresh = g_new0(struct creator, 1);
		fresh->command = g_strdup(memo->command);
		fresh->container = g_strdup(memo->container);
	}
	G_UNLOCK(creators_lock);
	if (first && !fresh)
		fresh = read_creator(s->cpid, s->ctime, &retry);
	else if (again)
		fresh = read_live(s->cpid, s->ctime, &retry);
	if (fresh && gen && first) {
		G_LOCK(creators_lock);
		if (memo)
			creator_free(memo);
		memo = g_new0(struct creator, 1);
		memo->command = g_strdup(fresh->command);
		memo->container = g_strdup(fresh->container);
		memo_pid = s->cpid;
		memo_gen = gen;
		G_UNLOCK(creators_lock);
	}
	G_LOCK(creators_lock);
	c = g_hash_table_lookup(by_seg, &k);
	if (!c) {
		/* First seen; unknown if its creator was gone before (kept,
		 * so that it is counted once). */
		c = fresh ? g_steal_pointer(&fresh) : g_new0(struct creator, 1);
		if (!c->command) {
			c->command = g_strdup("");
			c->container = g_strdup("");
		}
		c->name = g_strdup("");
		c->seg = *s;
		c->retry = retry;
		g_hash_table_insert(by_seg, g_memdup2(&k, sizeof(k)), c);
		if (!*c->command && !retry && s->cpid > 0 && !quiet)
			missed++;
		emit(true, ns, c);
	} else if (again && fresh) {
		take(c, fresh);
		c->retry = false;
	} else if (again && c->retry && !retry) {
		/* It went before it could be read: as remembered, or
		 * missed. */
		G_UNLOCK(creators_lock);
		fresh = remembered(s->cpid, s->ctime);
		G_LOCK(creators_lock);
		/* (Forgotten meanwhile by a listing: asked again below.) */
		c = g_hash_table_lookup(by_seg, &k);
		if (c && c->retry) {
			c->retry = false;
			if (fresh)
				take(c, fresh);
			else if (!quiet)
				missed++;
		}
	}
	if (c && gen)
		c->seen = gen;
	/* A listing's later sightings ask nothing more. */
	if (!first && gen)
		give(c, command, container, name);
	G_UNLOCK(creators_lock);
	if (fresh)
		creator_free(fresh);
	if (!first && gen)
		return;
	now = g_get_monotonic_time();
	if (!name_now(&k, now) && first) {
		struct unnamed *u = g_new(struct unnamed, 1);

		u->k = k;
		u->seen = now;
		G_LOCK(creators_lock);
		if (unnamed.length < UNNAMED_MAX)
			g_queue_push_tail(&unnamed, g_steal_pointer(&u));
		G_UNLOCK(creators_lock);
		g_free(u);
	}
	G_LOCK(creators_lock);
	give(by_seg ? g_hash_table_lookup(by_seg, &k) : NULL, command,
	     container, name);
	G_UNLOCK(creators_lock);
}

void shm_creator_of(ino_t ns, const struct shm_seg_seen *s, char **command,
		    char **container, char **name)
{
	note(ns, s, 0, command, container, name);
}

void shm_creators_name(void)
{
	GQueue now = G_QUEUE_INIT;
	struct unnamed *u;

	G_LOCK(creators_lock);
	now = unnamed;
	g_queue_init(&unnamed);
	G_UNLOCK(creators_lock);
	while ((u = g_queue_pop_head(&now))) {
		if (!name_now(&u->k, u->seen)) {
			G_LOCK(creators_lock);
			if (unnamed.length < UNNAMED_MAX)
				g_queue_push_tail(&unnamed,
						  g_steal_pointer(&u));
			G_UNLOCK(creators_lock);
		}
		g_free(u);
	}
}

void shm_creators_begin(ino_t ns)
{
	g_mutex_lock(&listing_lock);
	G_LOCK(creators_lock);
	listing_ns = ns;
	listing_gen++;
	G_UNLOCK(creators_lock);
}

void shm_creators_seen(const struct shm_seg_seen *s)
{
	note(listing_ns, s, listing_gen, NULL, NULL, NULL);
}

void shm_creators_end(bool complete)
{
	GHashTableIter it;
	gpointer k, v;

	G_LOCK(creators_lock);
	if (by_seg && complete) {
		g_hash_table_iter_init(&it, by_seg);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (((struct seg_key *)k)->ns == listing_ns &&
			    ((struct creator *)v)->seen != listing_gen) {
				emit(false, listing_ns, v);
				g_hash_table_iter_remove(&it);
			}
	}
	G_UNLOCK(creators_lock);
	g_mutex_unlock(&listing_lock);
}

void shm_creators_forget_ns(ino_t ns)
{
	GHashTableIter it;
	gpointer k, v;

	g_mutex_lock(&listing_lock);
	G_LOCK(creators_lock);
	if (by_seg) {
		g_hash_table_iter_init(&it, by_seg);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (((struct seg_key *)k)->ns == ns) {
				emit(false, ns, v);
				g_hash_table_iter_remove(&it);
			}
	}
	G_UNLOCK(creators_lock);
	g_mutex_unlock(&listing_lock);
}

void shm_creators_quiet(bool on, time_t since)
{
	G_LOCK(creators_lock);
	quiet = on;
	quiet_since = since;
	G_UNLOCK(creators_lock);
}

guint64 shm_creators_missed(void)
{
	guint64 n;

	G_LOCK(creators_lock);
	n = missed;
	G_UNLOCK(creators_lock);
	return n;
}

guint shm_creators_count(void)
{
	guint n;

	G_LOCK(creators_lock);
	n = by_seg ? g_hash_table_size(by_seg) : 0;
	G_UNLOCK(creators_lock);
	return n;
}
