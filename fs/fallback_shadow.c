/* fallback_shadow.c - kept copies of served pages (see fallback.h). */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "log.h"
#include "fallback.h"

/* Pages kept over all inodes, and files open for writing (atomics):
 * reads and writes skip every lock while nothing is open for writing. */
static gint kept;
static gint writers_total;
static gint cap_logged;

#define KEY(x) GSIZE_TO_POINTER((gsize)(x))

/* The kept pages of in, or NULL while no writer has it open.  Called
 * with in->shadow.lock held. */
static struct shmfs_shadow *shadow_of(struct shmfs_inode *in)
{
	return in->shadow.pages ? &in->shadow : NULL;
}

static void shadow_drop_pages(struct shmfs_shadow *s)
{
	g_atomic_int_add(&kept, -(gint)g_hash_table_size(s->pages));
	g_clear_pointer(&s->pages, g_hash_table_unref);
}

void shmfs_shadow_open(struct shmfs_inode *in)
{
	struct shmfs_shadow *s = &in->shadow;

	g_mutex_lock(&s->lock);
	if (!s->pages)
		s->pages = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						 NULL, g_free);
	s->writers++;
	g_atomic_int_inc(&writers_total);
	g_mutex_unlock(&s->lock);
}

void shmfs_shadow_close(struct shmfs_inode *in)
{
	struct shmfs_shadow *s = &in->shadow;

	g_mutex_lock(&s->lock);
	if (s->writers) {
		g_atomic_int_add(&writers_total, -1);
		/* The kernel wrote every dirty page back before the release. */
		if (--s->writers == 0)
			shadow_drop_pages(s);
	}
	g_mutex_unlock(&s->lock);
}

bool shmfs_shadow_active(struct shmfs_inode *in)
{
	bool r;

	if (g_atomic_int_get(&writers_total) == 0)
		return false;
	g_mutex_lock(&in->shadow.lock);
	r = shadow_of(in) != NULL;
	g_mutex_unlock(&in->shadow.lock);
	return r;
}

unsigned shmfs_shadow_writers(void)
{
	return (unsigned)g_atomic_int_get(&writers_total);
}

/* The kept page idx of s, created (zeroed) if create and under the cap;
 * NULL otherwise.  Called with s->lock held. */
static guint8 *page_of(struct shmfs_shadow *s, uint64_t idx, bool create)
{
	guint8 *p = g_hash_table_lookup(s->pages, KEY(idx));

	if (p || !create)
		return p;
	if (((size_t)g_atomic_int_add(&kept, 1) + 1) * SHMFS_PAGE >
	    SHMFS_SHADOW_CAP) {
		g_atomic_int_add(&kept, -1);
		if (g_atomic_int_compare_and_exchange(&cap_logged, 0, 1))
			shmfs_log("shadow: %u MiB of pages kept; further "
				  "pages are written back whole",
				  SHMFS_SHADOW_CAP >> 20);
		return NULL;
	}
	p = g_malloc0(SHMFS_PAGE);
	g_hash_table_insert(s->pages, KEY(idx), p);
	return p;
}

static void page_drop(struct shmfs_shadow *s, uint64_t idx)
{
	if (g_hash_table_remove(s->pages, KEY(idx)))
		g_atomic_int_add(&kept, -1);
}

void shmfs_shadow_store(struct shmfs_inode *in, uint64_t off, size_t asked,
			const void *buf, size_t len)
{
	struct shmfs_shadow *s;

	if (off % SHMFS_PAGE)
		return; /* not a page cache fill */
	g_mutex_lock(&in->shadow.lock);
	s = shadow_of(in);
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
	g_mutex_unlock(&in->shadow.lock);
}

void shmfs_shadow_patch(struct shmfs_inode *in, uint64_t off, const void *buf,
			size_t len)
{
	const guint8 *b = buf;
	struct shmfs_shadow *s;

	if (g_atomic_int_get(&writers_total) == 0)
		return;
	g_mutex_lock(&in->shadow.lock);
	s = shadow_of(in);
	/* Nothing kept yet: nothing to patch, and nothing to create (see
	 * below). */
	if (s && g_hash_table_size(s->pages) == 0)
		s = NULL;
	while (s && len) {
		uint64_t idx = off / SHMFS_PAGE;
		size_t at = off % SHMFS_PAGE;
		size_t n = MIN(SHMFS_PAGE - at, len);
		/* A page written whole is cached without a read: kept too,
		 * once the inode's pages are being read (mapped), not for a
		 * writer that only writes (cp, dd), where it would cost half
		 * the throughput. */
		guint8 *p = page_of(s, idx,
				    n == SHMFS_PAGE &&
					    g_hash_table_size(s->pages) > 0);

		if (p)
			memcpy(p + at, b, n);
		b += n, off += n, len -= n;
	}
	g_mutex_unlock(&in->shadow.lock);
}

void shmfs_shadow_truncate(struct shmfs_inode *in, uint64_t size)
{
	uint64_t first = (size + SHMFS_PAGE - 1) / SHMFS_PAGE;
	struct shmfs_shadow *s;
	GHashTableIter it;
	gpointer k, v;

	g_mutex_lock(&in->shadow.lock);
	s = shadow_of(in);
	if (s) {
		g_hash_table_iter_init(&it, s->pages);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			if ((uint64_t)GPOINTER_TO_SIZE(k) >= first) {
				g_hash_table_iter_remove(&it);
				g_atomic_int_add(&kept, -1);
			} else if ((uint64_t)GPOINTER_TO_SIZE(k) == first - 1 &&
				   size % SHMFS_PAGE) {
				memset((guint8 *)v + size % SHMFS_PAGE, 0,
				       SHMFS_PAGE - size % SHMFS_PAGE);
			}
		}
	}
	g_mutex_unlock(&in->shadow.lock);
}

/* Pages [idx, idx + n) of s that are kept, from the first: how many in a
 * row are (kept) or are not (!kept) as the first is. */
static size_t run_of(struct shmfs_shadow *s, uint64_t idx, size_t n,
		     bool *kept_run)
{
	size_t i = 1;

	*kept_run = s && page_of(s, idx, false);
	while (i < n && (s && page_of(s, idx + i, false)) == *kept_run)
		i++;
	return i;
}

/* Write b[0..n) at off, n within the pages [off/PAGE, ...) that are all
 * kept: the kept copy as `old`, then the copy becomes b. */
static ssize_t write_kept(struct shmfs_shadow *s, uint64_t off, const guint8 *b,
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
	w = shm_be_write_changed(f->inode->be, f->h, b, old, n, off);
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
	struct shmfs_inode *in = f->inode;
	struct shmfs_shadow *s;

	g_mutex_lock(&in->shadow.lock);
	s = shadow_of(in);
	while (done < len) {
		uint64_t at = off + done;
		uint64_t first = at / SHMFS_PAGE;
		uint64_t last = (off + len - 1) / SHMFS_PAGE;
		bool kept_run;
		size_t pages =
			run_of(s, first, (size_t)(last - first + 1), &kept_run);
		size_t n = MIN((first + pages) * SHMFS_PAGE - at, len - done);

		w = kept_run ? write_kept(s, at, b + done, n, f) :
			       shm_be_write(in->be, f->h, b + done, n, at);
		if (w <= 0)
			break;
		done += (size_t)w;
		if ((size_t)w < n)
			break;
	}
	g_mutex_unlock(&in->shadow.lock);
	return done ? (ssize_t)done : w;
}
