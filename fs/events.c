/* events.c - `events`: one JSON line per segment made or removed, as the
 * watcher (backend.h: shm_watch_start) or a listing notices it, in a ring
 * of the newest events_max lines.
 *
 * The file is a stream, read in order (no seek), served without the page
 * cache: an open starts at the oldest line kept, and each read goes on
 * from where the last stopped, so `cat` shows what is kept and `tail -f`
 * (which polls: FUSE sends no inotify events) follows it.  Its size is
 * the bytes written since the daemon started, which only grows (tail
 * takes a smaller size for a truncation), and its mtime the last line's
 * time; the kernel keeps neither.  A reader slower than the ring loses
 * the lines dropped under it and goes on from the oldest kept.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "events.h"

struct line {
	uint64_t off; /* in the stream since the start */
	size_t len;
	char text[];
};

/* ring_lock protects the ring and its counts.  A leaf: the watcher calls
 * shmfs_events_add under its own locks. */
G_LOCK_DEFINE_STATIC(ring_lock);
static struct line **ring;
static unsigned cap = EVENTS_DEFAULT_MAX;
static unsigned head, count;
static uint64_t total, written, dropped;
static struct timespec last, started;

/* A reader: where its offset 0 is in the stream (ring_lock protects it:
 * reads of one descriptor may come at once). */
struct shm_handle {
	uint64_t base;
};

void shmfs_events_init(unsigned max)
{
	clock_gettime(CLOCK_REALTIME, &started);
	last = started;
	cap = max ? max : 1;
	ring = g_new0(struct line *, cap);
}

/* Byte c as \u00XX at w; past it. */
static char *put_u00(char *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	memcpy(w, "\\u00", 4);
	w[4] = hex[c >> 4];
	w[5] = hex[c & 0xf];
	return w + 6;
}

/* s as a JSON string: UTF-8 as it is, each byte of anything else as
 * \u00XX, control characters, quote and backslash escaped.  Written in
 * one pass into room made once. */
static void json_str(GString *out, const char *s)
{
	size_t n = strlen(s), at = out->len;
	const char *end = s + n;
	char *w;

	/* At most 6 bytes out for a byte in, and the two quotes. */
	g_string_set_size(out, at + 6 * n + 2);
	w = out->str + at;
	*w++ = '"';
	while (s < end) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x80) {
			gunichar u = g_utf8_get_char_validated(s, end - s);
			int len = g_utf8_skip[c];

			if (u == (gunichar)-1 || u == (gunichar)-2) {
				w = put_u00(w, c);
				s++;
			} else {
				memcpy(w, s, (size_t)len);
				w += len;
				s += len;
			}
		} else if (c < 0x20) {
			w = put_u00(w, c);
			s++;
		} else {
			if (c == '"' || c == '\\')
				*w++ = '\\';
			*w++ = (char)c;
			s++;
		}
	}
	*w++ = '"';
	g_string_truncate(out, (gsize)(w - out->str));
}

/* The literal s, its length known when compiled. */
#define APPEND_LIT(t, s) g_string_append_len((t), "" s, sizeof(s) - 1)

/* v in decimal, at least width digits (zeros before). */
static void append_uint(GString *t, uint64_t v, int width)
{
	char d[24];
	int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	while (n)
		g_string_append_c(t, d[--n]);
}

/* An event's time as RFC 3339 in UTC, to the nanosecond.  The text up
 * to the second is kept per thread: a burst of events shares it. */
static void append_time(GString *t, const struct timespec *when)
{
	static __thread time_t sec = -1;
	static __thread char upto[64];
	struct tm tm;

	if (when->tv_sec != sec) {
		gmtime_r(&when->tv_sec, &tm);
		snprintf(upto, sizeof(upto), "%04d-%02d-%02dT%02d:%02d:%02d.",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
		sec = when->tv_sec;
	}
	g_string_append(t, upto);
	append_uint(t, (uint64_t)when->tv_nsec, 9);
	g_string_append_c(t, 'Z');
}

/* ,"name": (a literal) */
#define field(t, name) APPEND_LIT((t), ",\"" name "\":")

/* ,"name":"v" (NULL as ""), and ,"name":pid (null if none); name a
 * literal. */
#define field_str(t, name, v)                                                  \
	do {                                                                   \
		field((t), name);                                              \
		json_str((t), (v) ? (v) : "");                                 \
	} while (0)
#define field_pid(t, name, pid)                                                \
	do {                                                                   \
		field((t), name);                                              \
		append_pid((t), (pid));                                        \
	} while (0)

static void append_pid(GString *t, pid_t pid)
{
	if (pid > 0)
		append_uint(t, (uint64_t)pid, 1);
	else
		APPEND_LIT(t, "null");
}

/* "0x" and v in 8 hexadecimal digits. */
static void append_key(GString *t, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	char d[10] = { '0', 'x' };

	for (int i = 0; i < 8; i++)
		d[9 - i] = hex[(v >> (4 * i)) & 0xf];
	g_string_append_len(t, d, sizeof(d));
}

static void format(GString *t, const struct shm_event *ev)
{
	APPEND_LIT(t, "{\"time\":\"");
	append_time(t, &ev->when);
	if (ev->created)
		APPEND_LIT(t, "\",\"event\":\"create\",\"kind\":\"");
	else
		APPEND_LIT(t, "\",\"event\":\"remove\",\"kind\":\"");
	g_string_append(t, ev->kind);
	APPEND_LIT(t, "\",\"ns\":");
	append_uint(t, (uint64_t)ev->ns, 1);
	field_str(t, "container", ev->container);
	field_str(t, "name", ev->name);
	field(t, "key");
	if (ev->has_key) {
		g_string_append_c(t, '"');
		append_key(t, ev->key);
		g_string_append_c(t, '"');
	} else {
		APPEND_LIT(t, "null");
	}
	field(t, "size");
	append_uint(t, ev->size, 1);
	field_pid(t, "pid", ev->pid);
	field_str(t, "command", ev->command);
	/* Who removed it, where the kernel said (trace.h): the creator's
	 * fields above are kept as they are. */
	if (!ev->created) {
		field_pid(t, "remover_pid", ev->rpid);
		field_str(t, "remover_command", ev->rcommand);
		field_str(t, "remover_container", ev->rcontainer);
		field_str(t, "remover_container_name", ev->rcontainer_name);
	}
	APPEND_LIT(t, "}\n");
}

static void line_buf_free(gpointer t)
{
	g_string_free(t, TRUE);
}

/* Each thread's buffer for the line it formats, kept (freed when the
 * thread ends): a line allocates only itself. */
static GPrivate line_buf = G_PRIVATE_INIT(line_buf_free);

void shmfs_events_add(const struct shm_event *ev)
{
	GString *t = g_private_get(&line_buf);
	struct line *l;

	if (!t) {
		t = g_string_sized_new(512);
		g_private_set(&line_buf, t);
	}
	g_string_truncate(t, 0);
	format(t, ev);
	l = g_malloc(sizeof(*l) + t->len);
	l->len = t->len;
	memcpy(l->text, t->str, t->len);
	G_LOCK(ring_lock);
	if (!ring) {
		G_UNLOCK(ring_lock);
		g_free(l);
		return;
	}
	if (count == cap) {
		g_free(ring[head]);
		head = (head + 1) % cap;
		count--;
		dropped++;
	}
	l->off = total;
	ring[(head + count) % cap] = l;
	count++;
	total += l->len;
	written++;
	last = ev->when;
	G_UNLOCK(ring_lock);
}

void shmfs_events_counts(uint64_t *w, uint64_t *d)
{
	G_LOCK(ring_lock);
	*w = written;
	*d = dropped;
	G_UNLOCK(ring_lock);
}

static uint64_t oldest(void)
{
	return count ? ring[head]->off : total;
}

/* The kept line holding stream offset off (oldest() <= off < total). */
static unsigned line_at(uint64_t off)
{
	unsigned lo = 0, hi = count - 1;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo + 1) / 2;

		if (ring[(head + mid) % cap]->off <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static bool events_name(const char *path)
{
	return strcmp(path, EVENTS_FILE_NAME) == 0;
}

static int events_stat(const char *path, struct shm_attr *out)
{
	if (!events_name(path))
		return -ENOENT;
	G_LOCK(ring_lock);
	*out = (struct shm_attr){ .mode = S_IFREG | 0444,
				  .size = total,
				  .atime = last,
				  .mtime = last,
				  .ctime = started,
				  .uncached = true };
	G_UNLOCK(ring_lock);
	return 0;
}

static int events_open(const char *path, int flags, struct shm_handle **out)
{
	if (!events_name(path))
		return -ENOENT;
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	*out = g_new0(struct shm_handle, 1);
	G_LOCK(ring_lock);
	(*out)->base = oldest();
	G_UNLOCK(ring_lock);
	return 0;
}

static void events_close(struct shm_handle *h)
{
	g_free(h);
}

static int events_fstat(struct shm_handle *h, struct shm_attr *out)
{
	(void)h;
	return events_stat(EVENTS_FILE_NAME, out);
}

/* Each read copies into a buffer of its own (the extent owns it): reads of
 * one descriptor may be served at once. */
static int events_read(struct shm_handle *h, uint64_t off, size_t size,
		       struct shm_extent *out)
{
	GString *buf = g_string_new(NULL);
	uint64_t at;

	*out = (struct shm_extent){ .fd = -1 };
	G_LOCK(ring_lock);
	at = h->base + off;
	/* Dropped under a slow reader: it goes on from the oldest kept. */
	if (at < oldest()) {
		h->base += oldest() - at;
		at = oldest();
	}
	if (at < total) {
		for (unsigned i = line_at(at); i < count && buf->len < size;
		     i++) {
			const struct line *l = ring[(head + i) % cap];
			size_t skip = at > l->off ? at - l->off : 0;
			size_t n = MIN(l->len - skip, size - buf->len);

			g_string_append_len(buf, l->text + skip, n);
		}
	}
	G_UNLOCK(ring_lock);
	out->len = buf->len;
	out->mem = out->owned = g_string_free(buf, FALSE);
	return 0;
}

const struct shmfs_backend shmfs_events_file = {
	.name = "events",
	.direct = true,
	.stream = true,
	.stat = events_stat,
	.open = events_open,
	.close = events_close,
	.fstat = events_fstat,
	.read = events_read,
};
