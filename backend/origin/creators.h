/* creators.h - who made each System V segment, remembered while the
 * daemon runs, so that a leaked segment can still be traced after its
 * creator is gone (user.shm.command, user.shm.creator.container,
 * user.shm.creator.container.name).
 *
 * The kernel keeps only the creator's pid (shm_cpid); its command line
 * and container are in /proc only while it lives, and the pid may then
 * be reused by another process.  So the daemon reads them the first
 * time it sees a segment (a listing of its directory, or a question
 * about it) while the creator lives, and keeps them: a process that has
 * the pid but started after the segment was created is not its creator
 * and is never read (the kernel's times are whole seconds: one that took
 * the pid within two seconds of the segment's making can pass for it).  A
 * segment whose creator exited before the daemon first saw it keeps "" (as
 * lsipc shows); the watcher (watch.h) looks often, so that few are.  What
 * is read is kept in the one store of origins (origins.h), bounded by the
 * segments that exist: a listing forgets the ones gone from it (the events
 * file keeps a bounded tail of them).  Not part of the backend interface:
 * sysv's.
 */
#ifndef SHMFS_CREATORS_H
#define SHMFS_CREATORS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <glib.h>

/* A segment as a listing or IPC_STAT sees it. */
struct shm_seg_seen {
	int id;
	uint32_t key;
	uint64_t size;
	pid_t cpid;
	time_t ctime; /* shm_ctime: made then, or changed by IPC_SET */
};

/* Segment s of IPC namespace ns: its creator's command line, container id
 * and that container's name (new strings, "" when unknown), read now if
 * not yet known and the creator still lives.  The name is the engine's
 * (dockernames.h), asked while the container runs and kept after it is
 * gone.  A segment seen for the first time is an event (watch.h). */
void shm_creator_of(ino_t ns, const struct shm_seg_seen *s, char **command,
		    char **container, char **name);

/* A listing of ns saw these segments: remember their creators where not
 * yet known; begin with shm_creators_begin, end with shm_creators_end
 * (which forgets the segments of ns the listing did not see: each is an
 * event). */
void shm_creators_begin(ino_t ns);
void shm_creators_seen(const struct shm_seg_seen *s);
void shm_creators_end(bool complete); /* false: the listing failed */
/* Namespace ns is gone, and its segments with it. */
void shm_creators_forget_ns(ino_t ns);
/* While on, segments seen for the first time are no event unless made
 * (shm_ctime) at `since` or later: the first look at the namespaces there
 * are when the daemon starts. */
void shm_creators_quiet(bool on, time_t since);
/* Segments first seen after their creator had exited. */
guint64 shm_creators_missed(void);

#endif
