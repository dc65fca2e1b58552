/* origins.h - the one store of who made each object, of every kind,
 * keyed by the object's identity and fed by every watcher: creators.c
 * (System V segments, from listings and questions) and watch_posix.c
 * (POSIX objects, from inotify and fanotify).
 *
 * A record holds the creator (pid, command line, container and that
 * container's name as the engine gives it) and what the object's events
 * say of it (namespace, name, size, key).  The container's name is asked
 * of the engine (dockernames.h) while the container runs and kept after:
 * a record whose container had no name yet is asked again each round of
 * the watcher (shm_origins_name) until the engine has answered since.
 *
 * Bounded by the objects that exist: each feeder drops an object's record
 * when the object goes.  Lost with the daemon.
 *
 * Locking: shm_origins_lock() guards every record; it is taken after the
 * watcher's and a listing's locks and before the event sink's (a feeder
 * emits an object's event with it held), never around a /proc read or a
 * question to the engine.  Calls only dockernames.h and the sink.
 */
#ifndef SHMFS_ORIGINS_H
#define SHMFS_ORIGINS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <glib.h>

enum shm_origin_kind { SHM_ORIGIN_SYSV = 1, SHM_ORIGIN_POSIX };

/* An object's identity: a System V segment is (its namespace, its id); a
 * POSIX object is (its filesystem's device, its inode). */
struct shm_origin_id {
	enum shm_origin_kind kind;
	uint64_t a, b;
};

struct shm_origin {
	/* Who made it: pid 0 and "" where not known. */
	pid_t pid;
	char *command;
	char *container;
	char *cname; /* the container's name, "" until the engine gave one */
	/* What its events say of it. */
	ino_t ns;
	char *name; /* its name in its directory */
	uint64_t size;
	bool has_key;
	uint32_t key;
	time_t made; /* System V: shm_ctime as first seen */
	/* Who removed it (trace.h): pid 0 and "" where not known. */
	pid_t rpid;
	char *rcommand;
	char *rcontainer;
	char *rcname;
	/* The feeder's own: the listing that last saw it, whether its
	 * creator is to be read again, how many names it has (0: not yet
	 * seen by its feeder, only traced). */
	guint64 seen;
	bool retry;
	guint links;
	gint64 traced; /* g_get_monotonic_time() of the traced making, or 0 */
};

void shm_origins_lock(void);
void shm_origins_unlock(void);

/* With the lock held: id's record or NULL; a new one (blank: pid 0, ""
 * strings, links 1) in place of none; forget id's record. */
struct shm_origin *shm_origin_find(const struct shm_origin_id *id);
struct shm_origin *shm_origin_add(const struct shm_origin_id *id);
void shm_origin_drop(const struct shm_origin_id *id);
/* With the lock held: drop every record of kind in namespace ns for which
 * gone(record, data) says so (gone may emit its event). */
void shm_origins_drop_if(enum shm_origin_kind kind, ino_t ns,
			 bool (*gone)(struct shm_origin *, void *), void *data);
/* With the lock held: o's creator becomes command and container (taken);
 * its container's name is forgotten if that container changed. */
void shm_origin_set_creator(struct shm_origin *o, char *command,
			    char *container);
/* With the lock held: o's remover becomes pid, command, container (taken)
 * and that container's name (taken, or NULL: asked of the engine now). */
void shm_origin_set_remover(struct shm_origin *o, pid_t pid, char *command,
			    char *container);
/* With the lock held: the event of o (made, or removed: then with its
 * remover), kind's, of namespace ns, named name in its directory. */
void shm_origin_emit(const struct shm_origin *o, bool created, const char *kind,
		     ino_t ns, const char *name);
/* With the lock held: new copies of o's strings asked for ("" where o is
 * NULL). */
void shm_origin_give(const struct shm_origin *o, char **command,
		     char **container, char **cname);

/* Without the lock: ask the engine the name of id's creator's container
 * if it has none yet; whether that is settled (an answer of the engine
 * since `since`, or nothing to ask).  Where not, `later` queues id to be
 * asked again by shm_origins_name (at most a bounded number wait). */
bool shm_origin_name(const struct shm_origin_id *id, gint64 since, bool later);
/* Ask again for every record queued (the watcher, each round). */
void shm_origins_name(void);

/* How many records of kind are kept (shmfs.prom, tests). */
guint shm_origins_count(enum shm_origin_kind kind);

#endif
