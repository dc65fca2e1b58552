/* creators.c - who made each System V segment (see creators.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "proc/cgroupid.h"
#include "creators.h"
#include "origins.h"
#include "trace.h"
#include "proc/process_events.h"
#include "watch.h"

/* A creator as read, before it is kept. */
struct creator {
	char *command;
	char *container;
};

/* The origins' lock (origins.h) protects these too. */
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

static struct shm_origin_id seg_id(ino_t ns, int id)
{
	return (struct shm_origin_id){ SHM_ORIGIN_SYSV, (uint64_t)ns,
				       (uint64_t)(unsigned)id };
}

static void creator_free(void *p)
{
	struct creator *c = p;

	g_free(c->command);
	g_free(c->container);
	g_free(c);
}

/* The event of o's segment (under the origins' lock: one order). */
static void emit(bool created, const struct shm_origin *o)
{
	/* (shm_ctime is whole seconds: one made in the second the daemon
	 * started is taken as made after.) */
	if (quiet && created && o->made < quiet_since)
		return;
	shm_origin_emit(o, created, "sysv", o->ns, o->name);
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

/* o's creator becomes fresh's. */
static void take(struct shm_origin *o, struct creator *fresh)
{
	shm_origin_set_creator(o, g_steal_pointer(&fresh->command),
			       g_steal_pointer(&fresh->container));
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
	struct shm_origin_id k = seg_id(ns, s->id);
	struct shm_origin *o;
	struct creator *fresh = NULL;
	bool first, traced, again = false, retry = false;

	/* What the kernel has reported is in the store first. */
	shm_trace_drain();
	shm_origins_lock();
	o = shm_origin_find(&k);
	/* (A record only traced: the creator is known, the segment not yet
	 * seen here.) */
	first = !o || !o->links;
	traced = o && !o->links && o->pid == s->cpid && *o->command;
	if (o && !first)
		again = o->retry || (!gen && s->cpid > 0);
	else if (gen && memo && memo_gen == gen && memo_pid == s->cpid) {
		fresh = g_new0(struct creator, 1);
		fresh->command = g_strdup(memo->command);
		fresh->container = g_strdup(memo->container);
	}
	shm_origins_unlock();
	if (first && !fresh && !traced)
		fresh = read_creator(s->cpid, s->ctime, &retry);
	else if (again)
		fresh = read_live(s->cpid, s->ctime, &retry);
	shm_origins_lock();
	if (fresh && gen && first) {
		if (memo)
			creator_free(memo);
		memo = g_new0(struct creator, 1);
		memo->command = g_strdup(fresh->command);
		memo->container = g_strdup(fresh->container);
		memo_pid = s->cpid;
		memo_gen = gen;
	}
	o = shm_origin_find(&k);
	if (!o || !o->links) {
		/* First seen; unknown if its creator was gone before (kept,
		 * so that it is counted once).  A traced creator is the
		 * kernel's own word: kept (one of another pid is not this
		 * segment's: an id used again). */
		if (!o || o->pid != s->cpid || !*o->command)
			o = shm_origin_add(&k);
		o->links = 1;
		if (fresh && !*o->command)
			take(o, fresh);
		o->pid = s->cpid;
		o->ns = ns;
		g_free(o->name);
		o->name = g_strdup_printf("%d", s->id);
		o->has_key = true;
		o->key = s->key;
		o->size = s->size;
		o->made = s->ctime;
		o->retry = retry;
		if (!*o->command && !retry && s->cpid > 0 && !quiet)
			missed++;
		emit(true, o);
	} else if (again && fresh) {
		take(o, fresh);
		o->retry = false;
	} else if (again && o->retry && !retry) {
		/* It went before it could be read: as remembered, or
		 * missed. */
		shm_origins_unlock();
		fresh = remembered(s->cpid, s->ctime);
		shm_origins_lock();
		/* (Forgotten meanwhile by a listing: asked again below.) */
		o = shm_origin_find(&k);
		if (o && o->retry) {
			o->retry = false;
			if (fresh)
				take(o, fresh);
			else if (!quiet)
				missed++;
		}
	}
	if (o && gen)
		o->seen = gen;
	/* A listing's later sightings ask nothing more. */
	if (!first && gen)
		shm_origin_give(o, command, container, name);
	shm_origins_unlock();
	if (fresh)
		creator_free(fresh);
	if (!first && gen)
		return;
	/* Named at a segment's first sighting and at each question, and by
	 * the watcher until settled; never at a listing's later sightings: a
	 * container the engine does not run (another runtime's) would make
	 * the engine be asked at each of them. */
	shm_origin_name(&k, g_get_monotonic_time(), first);
	shm_origins_lock();
	shm_origin_give(shm_origin_find(&k), command, container, name);
	shm_origins_unlock();
}

void shm_creator_of(ino_t ns, const struct shm_seg_seen *s, char **command,
		    char **container, char **name)
{
	note(ns, s, 0, command, container, name);
}

void shm_creators_begin(ino_t ns)
{
	g_mutex_lock(&listing_lock);
	shm_origins_lock();
	listing_ns = ns;
	listing_gen++;
	shm_origins_unlock();
}

void shm_creators_seen(const struct shm_seg_seen *s)
{
	note(listing_ns, s, listing_gen, NULL, NULL, NULL);
}

/* A segment gone from a listing, or with its namespace: its event.  A
 * record only traced is the trace's to forget (trace.c). */
static bool gone(struct shm_origin *o, void *unseen)
{
	if (!o->links || (unseen && o->seen == *(const guint64 *)unseen))
		return false;
	emit(false, o);
	return true;
}

void shm_creators_end(bool complete)
{
	/* Who removed what is gone: in the store before the events. */
	if (complete)
		shm_trace_drain();
	shm_origins_lock();
	if (complete)
		shm_origins_drop_if(SHM_ORIGIN_SYSV, listing_ns, gone,
				    &listing_gen);
	shm_origins_unlock();
	g_mutex_unlock(&listing_lock);
}

void shm_creators_forget_ns(ino_t ns)
{
	shm_trace_drain();
	g_mutex_lock(&listing_lock);
	shm_origins_lock();
	shm_origins_drop_if(SHM_ORIGIN_SYSV, ns, gone, NULL);
	shm_origins_unlock();
	g_mutex_unlock(&listing_lock);
}

void shm_creators_quiet(bool on, time_t since)
{
	shm_origins_lock();
	quiet = on;
	quiet_since = since;
	shm_origins_unlock();
}

guint64 shm_creators_missed(void)
{
	guint64 n;

	shm_origins_lock();
	n = missed;
	shm_origins_unlock();
	return n;
}
