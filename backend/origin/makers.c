/* makers.c - who made each name in a watched /dev/shm, from fanotify
 * (see makers.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "makers.h"
#include "proc/process_events.h"

#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID 0x200
#endif
/* Creators noticed and not yet matched with their name's inotify event:
 * more is a flood nobody reads, and is dropped. */
#define PENDING_MAX 65536

static int fan_fd = -1;
static GHashTable *pending; /* "FID/name" -> pid */

/* fanotify's name of a directory: its filesystem id and file handle, in
 * hex. */
static char *fid_text(const void *fsid, const struct file_handle *fh)
{
	GString *t = g_string_new(NULL);

	for (size_t i = 0; i < sizeof(fsid_t); i++)
		g_string_append_printf(t, "%02x",
				       ((const unsigned char *)fsid)[i]);
	g_string_append_printf(t, ":%x:", (unsigned)fh->handle_type);
	for (unsigned i = 0; i < fh->handle_bytes; i++)
		g_string_append_printf(t, "%02x", fh->f_handle[i]);
	return g_string_free(t, FALSE);
}

/* The name fanotify's events give path, or NULL if it cannot. */
static char *fid_of(const char *path)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h = { .fh.handle_bytes = MAX_HANDLE_SZ };
	struct statfs sf;
	int mnt;

	if (statfs(path, &sf) < 0 ||
	    (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, AT_HANDLE_FID) <
		     0 &&
	     name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0) < 0))
		return NULL;
	return fid_text(&sf.f_fsid, &h.fh);
}

/* Every FAN_CREATE queued now, into pending (watch_lock held). */
static void fan_drain(void)
{
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n;

	while (fan_fd >= 0 && (n = read(fan_fd, buf, sizeof(buf))) > 0) {
		/* Events are 4-byte aligned, their header has a 64-bit field:
		 * each header is copied out. */
		for (ssize_t at = 0;
		     at + (ssize_t)FAN_EVENT_METADATA_LEN <= n;) {
			struct fanotify_event_metadata m;
			const struct fanotify_event_info_fid *fid;
			const struct file_handle *fh;
			g_autofree char *key = NULL;

			memcpy(&m, buf + at, sizeof(m));
			if (m.event_len < FAN_EVENT_METADATA_LEN ||
			    at + (ssize_t)m.event_len > n)
				break;
			fid = (const void *)(buf + at + m.metadata_len);
			at += m.event_len;
			if (m.vers != FANOTIFY_METADATA_VERSION ||
			    m.metadata_len + sizeof(*fid) > m.event_len ||
			    fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME)
				continue;
			fh = (const struct file_handle *)fid->handle;
			key = fid_text(&fid->fsid, fh);
			if (g_hash_table_size(pending) >= PENDING_MAX)
				g_hash_table_remove_all(pending);
			g_hash_table_replace(
				pending,
				g_strdup_printf("%s/%s", key,
						(const char *)fh->f_handle +
							fh->handle_bytes),
				GINT_TO_POINTER(m.pid));
		}
	}
}

/* Who each process is, as /proc said in this pass over the names (one
 * read of inotify's events, or one listing): a burst of names made by one
 * process costs one look, which would read the same at any of them (all
 * come after the names were made).  pid -> struct seen_pid *; under
 * watch_lock. */
struct seen_pid {
	char *command, *container;
};
static GHashTable *seen_pids;

static void seen_pid_free(gpointer p)
{
	struct seen_pid *s = p;

	g_free(s->command);
	g_free(s->container);
	g_free(s);
}

void shm_makers_pass(void)
{
	if (seen_pids && g_hash_table_size(seen_pids))
		g_hash_table_remove_all(seen_pids);
}

/* pid's command line and container (new strings), or false. */
static bool describe(pid_t pid, char **command, char **container)
{
	struct seen_pid *s;

	if (!seen_pids)
		seen_pids = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						  NULL, seen_pid_free);
	s = g_hash_table_lookup(seen_pids, GINT_TO_POINTER(pid));
	if (!s) {
		s = g_new0(struct seen_pid, 1);
		if (!shm_execs_describe(pid, &s->command, &s->container)) {
			g_free(s);
			return false;
		}
		g_hash_table_insert(seen_pids, GINT_TO_POINTER(pid), s);
	}
	*command = g_strdup(s->command);
	*container = g_strdup(s->container);
	return true;
}

bool shm_makers_of(const char *fid, const char *name, pid_t *pid,
		   char **command, char **container)
{
	g_autofree char *key = NULL;
	gpointer stolen, v;

	if (fan_fd < 0)
		return false;
	fan_drain();
	key = g_strdup_printf("%s/%s", fid, name);
	if (!g_hash_table_steal_extended(pending, key, &stolen, &v))
		return false;
	g_free(stolen);
	*pid = GPOINTER_TO_INT(v);
	return describe(*pid, command, container);
}

int shm_makers_init(void)
{
	fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME |
				       FAN_CLOEXEC | FAN_NONBLOCK,
			       O_RDONLY);
	if (fan_fd < 0)
		return -errno;
	pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return 0;
}

char *shm_makers_watch(const char *path)
{
	if (fan_fd < 0 || fanotify_mark(fan_fd, FAN_MARK_ADD, FAN_CREATE,
					AT_FDCWD, path) != 0)
		return NULL;
	return fid_of(path);
}

void shm_makers_fini(void)
{
	if (fan_fd >= 0)
		close(fan_fd);
	fan_fd = -1;
	g_clear_pointer(&pending, g_hash_table_unref);
	g_clear_pointer(&seen_pids, g_hash_table_unref);
}
