/* dockernames.c - containers' names from the Docker engine (see
 * dockernames.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dockernames.h"

#define ENGINE_TIMEOUT_MS 1000
#define ANSWER_MAX (16u << 20)

/* names_lock protects names, answered_at, asking, stopping and thread;
 * names_cond wakes the thread. */
static GMutex names_lock;
static GCond names_cond;
static GHashTable *names; /* id -> name; replaced, never changed */
static gint64 answered_at;
static bool asking, stopping;
static GThread *thread;
static int users; /* docker_names_init calls not yet finished */

static bool is_id(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
			return false;
	return true;
}

/* A container name as the engine gives it: [a-zA-Z0-9][a-zA-Z0-9_.-]*,
 * so no JSON escape can be in it. */
static bool name_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

GHashTable *docker_names_parse(const char *json)
{
	GHashTable *out =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	const char *p = json;

	/* Each container's object: "Id":"<64 hex>", then "Names":["/NAME"
	 * before the next object's "Id". */
	while ((p = strstr(p, "\"Id\":\""))) {
		const char *id = p + 6, *next, *n, *e;

		p = id;
		if (strlen(id) < 65 || !is_id(id) || id[64] != '"')
			continue;
		next = strstr(id, "\"Id\":\"");
		n = strstr(id, "\"Names\":[\"/");
		if (!n || (next && n > next))
			continue;
		n += 11;
		for (e = n; name_char(*e); e++)
			;
		if (e == n || *e != '"')
			continue;
		g_hash_table_replace(out, g_strndup(id, 64),
				     g_strndup(n, (size_t)(e - n)));
	}
	return out;
}

static const char *socket_path(void)
{
	const char *h = getenv("DOCKER_HOST");

	if (h && g_str_has_prefix(h, "unix://"))
		return h + 7;
	return "/var/run/docker.sock";
}

/* The body of the engine's answer to GET /containers/json, or NULL (no
 * engine, an error, or no answer within ENGINE_TIMEOUT_MS). */
static char *ask_engine(void)
{
	static const char req[] = "GET /containers/json HTTP/1.0\r\n"
				  "Host: docker\r\n\r\n";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	gint64 deadline = g_get_monotonic_time() + ENGINE_TIMEOUT_MS * 1000;
	g_autoptr(GString) in = g_string_new(NULL);
	const char *body;
	char buf[65536];
	int fd;

	if (strlen(socket_path()) >= sizeof(sa.sun_path))
		return NULL;
	strcpy(sa.sun_path, socket_path());
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return NULL;
	if ((connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	     errno != EINPROGRESS) ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(req) - 1) {
		close(fd);
		return NULL;
	}
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || in->len + (size_t)n > ANSWER_MAX) {
			if (n == 0) { /* the whole answer */
				close(fd);
				fd = -1;
			}
			break;
		}
		g_string_append_len(in, buf, n);
	}
	if (fd >= 0) { /* cut short */
		close(fd);
		return NULL;
	}
	if (!g_str_has_prefix(in->str, "HTTP/1.") ||
	    strncmp(in->str + 8, " 200 ", 5) != 0 ||
	    !(body = strstr(in->str, "\r\n\r\n")))
		return NULL;
	return g_strdup(body + 4);
}

static gpointer names_main(gpointer data)
{
	(void)data;
	g_mutex_lock(&names_lock);
	while (!stopping) {
		if (!asking) {
			g_cond_wait(&names_cond, &names_lock);
			continue;
		}
		g_mutex_unlock(&names_lock);
		g_autofree char *body = ask_engine();
		GHashTable *fresh = body ? docker_names_parse(body) : NULL;

		g_mutex_lock(&names_lock);
		/* No answer: the last names stay, asked again after the
		 * bound. */
		if (fresh) {
			g_hash_table_unref(names);
			names = fresh;
		}
		answered_at = g_get_monotonic_time();
		asking = false;
	}
	g_mutex_unlock(&names_lock);
	return NULL;
}

GHashTable *docker_names(void)
{
	GHashTable *t;

	g_mutex_lock(&names_lock);
	if (!names)
		names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	if (thread && !asking &&
	    g_get_monotonic_time() - answered_at > DOCKER_NAMES_FRESH_US) {
		asking = true;
		g_cond_signal(&names_cond);
	}
	t = g_hash_table_ref(names);
	g_mutex_unlock(&names_lock);
	return t;
}

bool docker_name_settled(const char *id, gint64 since, char **name)
{
	gint64 answered;

	g_mutex_lock(&names_lock);
	answered = answered_at;
	g_mutex_unlock(&names_lock);
	*name = docker_name_of(id);
	return *name || answered > since;
}

char *docker_name_of(const char *id)
{
	g_autoptr(GHashTable) t = docker_names();
	const char *n = id ? g_hash_table_lookup(t, id) : NULL;

	return n ? g_strdup(n) : NULL;
}

void docker_names_init(void)
{
	g_mutex_lock(&names_lock);
	if (users++) {
		g_mutex_unlock(&names_lock);
		return;
	}
	stopping = false;
	answered_at = 0;
	if (!names)
		names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	thread = g_thread_try_new("shmfs-docker", names_main, NULL, NULL);
	g_mutex_unlock(&names_lock);
}

void docker_names_fini(void)
{
	GThread *t;

	g_mutex_lock(&names_lock);
	if (users == 0 || --users) {
		g_mutex_unlock(&names_lock);
		return;
	}
	stopping = true;
	g_cond_signal(&names_cond);
	t = g_steal_pointer(&thread);
	g_mutex_unlock(&names_lock);
	if (t)
		g_thread_join(t);
	g_mutex_lock(&names_lock);
	g_clear_pointer(&names, g_hash_table_unref);
	g_mutex_unlock(&names_lock);
}
