/* fallback_shadow.c - kept copies of served pages (see fallback.h). */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "log.h"
#include "fallback.h"

struct shadow {
	unsigned writers;  /* open files with write access */
	GHashTable *pages; /* page index -> g_malloc'd SHMFS_PAGE bytes */
};

/* shadow_lock protects shadows, every shadow and its pages and kept;
 * writers_total changes under it too, and is read without it (atomically)
 * so that reads and writes skip the lock while nothing is open for
 * writing. */
G_LOCK_DEFINE_STATIC(shadow_lock);
static GHashTable *shadows; /* ino -> struct shadow */
static size_t kept;	    /* pages kept, over all inodes */
static gint writers_total;
static bool cap_logged;

#define KEY(x) GSIZE_TO_POINTER((gsize)(x))

static void shadow_free(void *p)
{
	struct shadow *s = p;

	kept -= g_hash_table_size(s->pages);
	g_hash_table_unref(s->pages);
	g_free(s);
}

/* Called with shadow_lock held. */
static struct shadow *shadow_of(fuse_ino_t ino)
{
	return shadows ? g_hash_table_lookup(shadows, KEY(ino)) : NULL;
}

void shmfs_shadow_fini(void)
{
	G_LOCK(shadow_lock);
	g_clear_pointer(&shadows, g_hash_table_unref);
	g_atomic_int_set(&writers_total, 0);
	G_UNLOCK(shadow_lock);
}

void shmfs_shadow_open(fuse_ino_t ino)
{
	struct shadow *s;

	G_LOCK(shadow_lock);
	if (!shadows)
		shadows = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						NULL, shadow_free);
	s = shadow_of(ino);
	if (!s) {
		s = g_new0(struct shadow, 1);
		s->pages = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						 NULL, g_free);
		g_hash_table_insert(shadows, KEY(ino), s);
	}
	s->writers++;
	g_atomic_int_inc(&writers_total);
	G_UNLOCK(shadow_lock);
}

void shmfs_shadow_close(fuse_ino_t ino)
{
	struct shadow *s;

	G_LOCK(shadow_lock);
	s = shadow_of(ino);
	if (s) {
		g_atomic_int_add(&writers_total, -1);
		/* The kernel wrote every dirty page back before the release. */
		if (--s->writers == 0)
			g_hash_table_remove(shadows, KEY(ino));
	}
	G_UNLOCK(shadow_lock);
}

bool shmfs_shadow_active(fuse_ino_t ino)
{
	bool r;

	if (g_atomic_int_get(&writers_total) == 0)
		return false;
	G_LOCK(shadow_lock);
	r = shadow_of(ino) != NULL;
	G_UNLOCK(shadow_lock);
	return r;
}

unsigned shmfs_shadow_writers(void)
{
	return (unsigned)g_atomic_int_get(&writers_total);
}

/* The kept page idx of s, created (zeroed) if create and under the cap;
 * NULL otherwise.  Called with shadow_lock held. */
static guint8 *page_of(struct shadow *s, uint64_t idx, bool create)
{
	guint8 *p = g_hash_table_lookup(s->pages, KEY(idx));

	if (p || !create)
		return p;
	if ((kept + 1) * SHMFS_PAGE > SHMFS_SHADOW_CAP) {
		if (!cap_logged)
			shmfs_log("shadow: %u MiB of pages kept; further "
				  "pages are written back whole",
				  SHMFS_SHADOW_CAP >> 20);
		cap_logged = true;
		return NULL;
	}
	p = g_malloc0(SHMFS_PAGE);
	g_hash_table_insert(s->pages, KEY(idx), p);
	kept++;
	return p;
}

static void page_drop(struct shadow *s, uint64_t idx)
{
	if (g_hash_table_remove(s->pages, KEY(idx)))
		kept--;
}

void shmfs_shadow_store(fuse_ino_t ino, uint64_t off, size_t asked,
			const void *buf, size_t len)
{
	struct shadow *s;

	if (off % SHMFS_PAGE)
		return; /* not a page cache fill */
	G_LOCK(shadow_lock);
	s = shadow_of(ino);
	for (size_t at = 0; s && at < asked; at += SHMFS_PAGE) {
		uint64_t idx = (off + at) / SHMFS_PAGE;
		guint8 *p = page_of(s, idx, true);
		size_t n = at < len ? MIN(SHMFS_PAGE, len - at) : 0;

		if (!p) {
			/* Not kept: an older copy must not stand for it. */
			page_drop(s, idx);
			continue;
		}
		memcpy(p, (const guint8 *)buf + at, n);
		memset(p + n, 0, SHMFS_PAGE - n);
	}
	G_UNLOCK(shadow_lock);
}

void shmfs_shadow_patch(fuse_ino_t ino, uint64_t off, const void *buf,
			size_t len)
{
	const guint8 *b = buf;
	struct shadow *s;

	if (g_atomic_int_get(&writers_total) == 0)
		return;
	G_LOCK(shadow_lock);
	s = shadow_of(ino);
	/* Nothing kept yet: nothing to patch, and nothing to create (see
	 * below). */
	if (s && g_hash_table_size(s->pages) == 0)
		s = NULL;
	while (s && len) {
		uint64_t idx = off / SHMFS_PAGE;
		size_t in = off % SHMFS_PAGE;
		size_t n = MIN(SHMFS_PAGE - in, len);
		/* A page written whole is cached without a read: kept too,
		 * once the inode's pages are being read (mapped), not for a
		 * writer that only writes (cp, dd), where it would cost half
		 * the throughput. */
		guint8 *p = page_of(s, idx,
				    n == SHMFS_PAGE &&
					    g_hash_table_size(s->pages) > 0);

		if (p)
			memcpy(p + in, b, n);
		b += n, off += n, len -= n;
	}
	G_UNLOCK(shadow_lock);
}

void shmfs_shadow_truncate(fuse_ino_t ino, uint64_t size)
{
	uint64_t first = (size + SHMFS_PAGE - 1) / SHMFS_PAGE;
	GHashTableIter it;
	struct shadow *s;
	gpointer k, v;

	G_LOCK(shadow_lock);
	s = shadow_of(ino);
	if (s) {
		g_hash_table_iter_init(&it, s->pages);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			if ((uint64_t)GPOINTER_TO_SIZE(k) >= first) {
				g_hash_table_iter_remove(&it);
				kept--;
			} else if ((uint64_t)GPOINTER_TO_SIZE(k) == first - 1 &&
				   size % SHMFS_PAGE) {
				memset((guint8 *)v + size % SHMFS_PAGE, 0,
				       SHMFS_PAGE - size % SHMFS_PAGE);
			}
		}
	}
	G_UNLOCK(shadow_lock);
}

/* Pages [idx, idx + n) of s that are kept, from the first: how many in a
 * row are (kept) or are not (!kept) as the first is. */
static size_t run_of(struct shadow *s, uint64_t idx, size_t n, bool *kept_run)
{
	size_t i = 1;

	*kept_run = s && page_of(s, idx, false);
	while (i < n && (s && page_of(s, idx + i, false)) == *kept_run)
		i++;
	return i;
}

/* Write b[0..n) at off, n within the pages [off/PAGE, ...) that are all
 * kept: the kept copy as `old`, then the copy becomes b. */
static ssize_t write_kept(struct shadow *s, uint64_t off, const guint8 *b,
			  size_t n, struct shmfs_file *f)
{
	g_autofree guint8 *old = g_malloc(n);
	ssize_t w;
	size_t i, c;

	for (i = 0; i < n; i += c) {
		uint64_t at = off + i;
		size_t in = at % SHMFS_PAGE;

		c = MIN(SHMFS_PAGE - in, n - i);
		memcpy(old + i, page_of(s, at / SHMFS_PAGE, false) + in, c);
	}
	w = f->be->write_changed(f->h, b, old, n, off);
	for (i = 0; w > 0 && i < (size_t)w; i += c) {
		uint64_t at = off + i;
		size_t in = at % SHMFS_PAGE;

		c = MIN(SHMFS_PAGE - in, (size_t)w - i);
		memcpy(page_of(s, at / SHMFS_PAGE, false) + in, b + i, c);
	}
	return w;
}

ssize_t shmfs_shadow_write_back(struct shmfs_file *f, uint64_t off,
				const void *buf, size_t len)
{
	const guint8 *b = buf;
	size_t done = 0;
	ssize_t w = 0;
	struct shadow *s;

	G_LOCK(shadow_lock);
	s = shadow_of(f->ino);
	while (done < len) {
		uint64_t at = off + done;
		uint64_t first = at / SHMFS_PAGE;
		uint64_t last = (off + len - 1) / SHMFS_PAGE;
		bool kept_run;
		size_t pages =
			run_of(s, first, (size_t)(last - first + 1), &kept_run);
		size_t n = MIN((first + pages) * SHMFS_PAGE - at, len - done);

		w = kept_run ? write_kept(s, at, b + done, n, f) :
			       f->be->write(f->h, b + done, n, at);
		if (w <= 0)
			break;
		done += (size_t)w;
		if ((size_t)w < n)
			break;
	}
	G_UNLOCK(shadow_lock);
	return done ? (ssize_t)done : w;
}
