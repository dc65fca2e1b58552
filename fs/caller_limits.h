/* caller_limits.h - what one user may hold of the daemon.
 *
 * Every open through the mount holds descriptors in the daemon (the
 * kind's own, and a backing one on the passthrough path), and an open
 * directory its listing: both count.  At start the
 * daemon raises its soft RLIMIT_NOFILE to the hard limit; of that, a
 * reserve of an eighth (at least 64) is kept for the daemon's own calls
 * and root's opens, the rest is shared by every other uid, and no one uid
 * but root holds more than its share (-o max_open_per_uid, default a
 * sixteenth of the limit, at least 16).  An open past either gets EMFILE,
 * for that caller alone.
 */
#ifndef SHMFS_CALLER_LIMITS_H
#define SHMFS_CALLER_LIMITS_H

#include <stdbool.h>
#include <sys/types.h>

/* Raise the descriptor limit and set the shares; per_uid 0: the
 * default.  Returns the limit in force. */
unsigned long shmfs_limits_init(unsigned long per_uid);
/* One open for uid: 0, or -EMFILE past its share or the shared pool. */
int shmfs_open_take(uid_t uid);
/* That open ended. */
void shmfs_open_give(uid_t uid);
/* The texts made when a file is opened (segments, shmfs.prom) that one
 * uid other than root may hold at once, in all: past it the open gets
 * ENOMEM, for that caller alone (its own open files hold the rest). */
#define SHMFS_TEXT_PER_UID ((size_t)64 << 20)
/* uid holds bytes more of them: 0, or -ENOMEM past its share. */
int shmfs_text_take(uid_t uid, size_t bytes);
/* It no longer does. */
void shmfs_text_give(uid_t uid, size_t bytes);
/* Opens held by non-root uids now (shmfs.prom). */
unsigned long shmfs_opens_held(void);
/* Opens refused for a full share or pool since the start. */
unsigned long shmfs_opens_refused(void);

#endif
