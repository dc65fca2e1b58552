/* sink.c - where every event goes (see sink.h). */
#include <time.h>

#include "sink.h"

/* sink_lock protects sink and containers.  A leaf: taken under the
 * emitters' own locks, it takes none. */
G_LOCK_DEFINE_STATIC(sink_lock);
static shm_event_sink sink;
static GHashTable *containers; /* ino_t * -> char * */

void shm_sink_set(shm_event_sink fn)
{
	G_LOCK(sink_lock);
	sink = fn;
	if (!fn)
		g_clear_pointer(&containers, g_hash_table_destroy);
	G_UNLOCK(sink_lock);
}

void shm_sink_container(ino_t ns, const char *container)
{
	G_LOCK(sink_lock);
	if (!containers)
		containers = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						   g_free, g_free);
	if (container)
		g_hash_table_replace(containers, g_memdup2(&ns, sizeof(ns)),
				     g_strdup(container));
	else
		g_hash_table_remove(containers, &ns);
	G_UNLOCK(sink_lock);
}

void shm_watch_emit(struct shm_event *ev)
{
	g_autofree char *container = NULL;
	shm_event_sink fn;

	clock_gettime(CLOCK_REALTIME, &ev->when);
	G_LOCK(sink_lock);
	fn = sink;
	if (!ev->container || !*ev->container) {
		const char *c =
			containers ? g_hash_table_lookup(containers, &ev->ns) :
				     NULL;

		container = g_strdup(c ? c : "");
		ev->container = container;
	}
	G_UNLOCK(sink_lock);
	if (fn)
		fn(ev);
}
