/* caller_limits.c - what one user may hold of the daemon (see caller_limits.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>

#include <glib.h>

#include "caller_limits.h"

/* open_lock protects held, held_total and the two limits (set once at
 * start, before the mount serves).  A leaf: nothing else is taken under
 * it. */
static GMutex open_lock;
static GHashTable *held; /* uid -> opens held, non-root only */
static unsigned long held_total, refused;
static unsigned long per_uid_max = 64, pool_max = 896;

unsigned long shmfs_limits_init(unsigned long per_uid)
{
	struct rlimit rl;
	unsigned long limit = 1024, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		limit = rl.rlim_cur == RLIM_INFINITY ?
				(1ul << 20) :
				(unsigned long)MIN(rl.rlim_cur, 1ul << 30);
	}
	reserve = MAX(64, limit / 8);
	/* An open may hold two descriptors (the kind's, the backing one). */
	g_mutex_lock(&open_lock);
	pool_max = limit > reserve ? (limit - reserve) / 2 : 1;
	per_uid_max = per_uid ? per_uid : MAX(16, limit / 16);
	per_uid_max = MIN(per_uid_max, pool_max);
	if (!held)
		held = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_mutex_unlock(&open_lock);
	return limit;
}

int shmfs_open_take(uid_t uid)
{
	unsigned long n;
	int r = 0;

	if (uid == 0)
		return 0;
	g_mutex_lock(&open_lock);
	if (!held)
		held = g_hash_table_new(g_direct_hash, g_direct_equal);
	n = GPOINTER_TO_SIZE(g_hash_table_lookup(held, GUINT_TO_POINTER(uid)));
	if (n >= per_uid_max || held_total >= pool_max) {
		refused++;
		r = -EMFILE;
	} else {
		g_hash_table_insert(held, GUINT_TO_POINTER(uid),
				    GSIZE_TO_POINTER(n + 1));
		held_total++;
	}
	g_mutex_unlock(&open_lock);
	return r;
}

void shmfs_open_give(uid_t uid)
{
	unsigned long n;

	if (uid == 0)
		return;
	g_mutex_lock(&open_lock);
	n = GPOINTER_TO_SIZE(g_hash_table_lookup(held, GUINT_TO_POINTER(uid)));
	if (n <= 1)
		g_hash_table_remove(held, GUINT_TO_POINTER(uid));
	else
		g_hash_table_insert(held, GUINT_TO_POINTER(uid),
				    GSIZE_TO_POINTER(n - 1));
	if (n && held_total)
		held_total--;
	g_mutex_unlock(&open_lock);
}

unsigned long shmfs_opens_held(void)
{
	unsigned long n;

	g_mutex_lock(&open_lock);
	n = held_total;
	g_mutex_unlock(&open_lock);
	return n;
}

unsigned long shmfs_opens_refused(void)
{
	unsigned long n;

	g_mutex_lock(&open_lock);
	n = refused;
	g_mutex_unlock(&open_lock);
	return n;
}

/* Bytes of texts made at open (segments, shmfs.prom) each non-root uid
 * holds: uid -> bytes.  Under open_lock. */
static GHashTable *texts;

int shmfs_text_take(uid_t uid, size_t bytes)
{
	gsize now;
	int r = 0;

	if (uid == 0)
		return 0;
	g_mutex_lock(&open_lock);
	if (!texts)
		texts = g_hash_table_new(g_direct_hash, g_direct_equal);
	now = GPOINTER_TO_SIZE(
		g_hash_table_lookup(texts, GUINT_TO_POINTER(uid)));
	if (now + bytes > SHMFS_TEXT_PER_UID) {
		refused++;
		r = -ENOMEM;
	} else {
		g_hash_table_insert(texts, GUINT_TO_POINTER(uid),
				    GSIZE_TO_POINTER(now + bytes));
	}
	g_mutex_unlock(&open_lock);
	return r;
}

void shmfs_text_give(uid_t uid, size_t bytes)
{
	gsize now;

	if (uid == 0)
		return;
	g_mutex_lock(&open_lock);
	now = texts ? GPOINTER_TO_SIZE(g_hash_table_lookup(
			      texts, GUINT_TO_POINTER(uid))) :
		      0;
	if (now <= bytes)
		g_hash_table_remove(texts, GUINT_TO_POINTER(uid));
	else
		g_hash_table_insert(texts, GUINT_TO_POINTER(uid),
				    GSIZE_TO_POINTER(now - bytes));
	g_mutex_unlock(&open_lock);
}
