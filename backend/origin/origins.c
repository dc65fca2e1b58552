/* origins.c - the one store of who made each object (see origins.h). */
#include <string.h>

#include "dockernames.h"
#include "origins.h"
#include "sink.h"

/* At most this many records wait for their container's name. */
#define UNNAMED_MAX 4096

G_LOCK_DEFINE_STATIC(origins_lock);
static GHashTable *by_id; /* struct shm_origin_id * -> struct shm_origin * */
static guint counts[SHM_ORIGIN_POSIX + 1]; /* records of each kind */
/* Records whose creator's container had no name when asked (the engine's
 * names may be older than the container): asked again until an answer
 * of the engine newer than that first question. */
struct unnamed {
	struct shm_origin_id id;
	gint64 since;
};
static GQueue unnamed = G_QUEUE_INIT;

static guint id_hash(gconstpointer p)
{
	const struct shm_origin_id *k = p;

	return (guint)(k->a * 2654435761u) ^ (guint)k->b ^ (guint)(k->b >> 32) ^
	       (guint)k->kind << 28;
}

static gboolean id_equal(gconstpointer x, gconstpointer y)
{
	const struct shm_origin_id *a = x, *b = y;

	return a->kind == b->kind && a->a == b->a && a->b == b->b;
}

static void origin_free(void *p)
{
	struct shm_origin *o = p;

	g_free(o->command);
	g_free(o->container);
	g_free(o->cname);
	g_free(o->name);
	g_free(o->rcommand);
	g_free(o->rcontainer);
	g_free(o->rcname);
	g_free(o);
}

void shm_origins_lock(void)
{
	G_LOCK(origins_lock);
}

void shm_origins_unlock(void)
{
	G_UNLOCK(origins_lock);
}

struct shm_origin *shm_origin_find(const struct shm_origin_id *id)
{
	return by_id ? g_hash_table_lookup(by_id, id) : NULL;
}

struct shm_origin *shm_origin_add(const struct shm_origin_id *id)
{
	struct shm_origin *o = g_new0(struct shm_origin, 1);

	if (!by_id)
		by_id = g_hash_table_new_full(id_hash, id_equal, g_free,
					      origin_free);
	o->command = g_strdup("");
	o->container = g_strdup("");
	o->cname = g_strdup("");
	o->name = g_strdup("");
	o->rcommand = g_strdup("");
	o->rcontainer = g_strdup("");
	o->rcname = g_strdup("");
	o->links = 1;
	if (!g_hash_table_contains(by_id, id))
		counts[id->kind]++;
	g_hash_table_replace(by_id, g_memdup2(id, sizeof(*id)), o);
	return o;
}

void shm_origin_drop(const struct shm_origin_id *id)
{
	if (by_id && g_hash_table_remove(by_id, id))
		counts[id->kind]--;
}

void shm_origins_drop_if(enum shm_origin_kind kind, ino_t ns,
			 bool (*gone)(struct shm_origin *, void *), void *data)
{
	GHashTableIter it;
	gpointer k, v;

	if (!by_id)
		return;
	g_hash_table_iter_init(&it, by_id);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct shm_origin_id *id = k;
		struct shm_origin *o = v;

		if (id->kind == kind && o->ns == ns && gone(o, data)) {
			g_hash_table_iter_remove(&it);
			counts[kind]--;
		}
	}
}

void shm_origin_set_creator(struct shm_origin *o, char *command,
			    char *container)
{
	if (g_strcmp0(o->container, container) != 0) {
		g_free(o->cname);
		o->cname = g_strdup("");
	}
	g_free(o->command);
	g_free(o->container);
	o->command = command ? command : g_strdup("");
	o->container = container ? container : g_strdup("");
}

void shm_origin_set_remover(struct shm_origin *o, pid_t pid, char *command,
			    char *container)
{
	g_free(o->rcommand);
	g_free(o->rcontainer);
	g_free(o->rcname);
	o->rpid = pid;
	o->rcommand = command ? command : g_strdup("");
	o->rcontainer = container ? container : g_strdup("");
	/* (The engine's names answer from memory: no wait.) */
	o->rcname = *o->rcontainer ? docker_name_of(o->rcontainer) : NULL;
	if (!o->rcname)
		o->rcname = g_strdup("");
}

void shm_origin_emit(const struct shm_origin *o, bool created, const char *kind,
		     ino_t ns, const char *name)
{
	struct shm_event ev = {
		.created = created,
		.kind = kind,
		.ns = ns,
		.container = o->container,
		.name = name,
		.has_key = o->has_key,
		.key = o->key,
		.size = o->size,
		.pid = o->pid,
		.command = o->command,
		.rpid = o->rpid,
		.rcommand = o->rcommand,
		.rcontainer = o->rcontainer,
		.rcontainer_name = o->rcname,
	};

	shm_watch_emit(&ev);
}

void shm_origin_give(const struct shm_origin *o, char **command,
		     char **container, char **cname)
{
	if (command)
		*command = g_strdup(o ? o->command : "");
	if (container)
		*container = g_strdup(o ? o->container : "");
	if (cname)
		*cname = g_strdup(o ? o->cname : "");
}

bool shm_origin_name(const struct shm_origin_id *id, gint64 since, bool later)
{
	g_autofree char *want = NULL, *name = NULL;
	struct shm_origin *o;
	bool settled;

	G_LOCK(origins_lock);
	o = shm_origin_find(id);
	if (o && *o->container && !*o->cname)
		want = g_strdup(o->container);
	G_UNLOCK(origins_lock);
	if (!want)
		return true; /* named, no container, or gone */
	settled = docker_name_settled(want, since, &name);
	G_LOCK(origins_lock);
	o = shm_origin_find(id);
	if (name && o && !*o->cname && strcmp(o->container, want) == 0) {
		g_free(o->cname);
		o->cname = g_steal_pointer(&name);
	}
	if (!name && !settled && later && unnamed.length < UNNAMED_MAX) {
		struct unnamed *u = g_new(struct unnamed, 1);

		u->id = *id;
		u->since = since;
		g_queue_push_tail(&unnamed, u);
	}
	G_UNLOCK(origins_lock);
	return name || settled;
}

void shm_origins_name(void)
{
	GQueue now;
	struct unnamed *u;

	G_LOCK(origins_lock);
	now = unnamed;
	g_queue_init(&unnamed);
	G_UNLOCK(origins_lock);
	while ((u = g_queue_pop_head(&now))) {
		shm_origin_name(&u->id, u->since, true);
		g_free(u);
	}
}

guint shm_origins_count(enum shm_origin_kind kind)
{
	guint n;

	G_LOCK(origins_lock);
	n = counts[kind];
	G_UNLOCK(origins_lock);
	return n;
}
