/* dockernames.h - containers' names (docker ps's NAMES), from the Docker
 * engine's API over its Unix socket (GET /containers/json; DOCKER_HOST
 * if it names a unix:// socket, else /var/run/docker.sock).  Never
 * Docker's private files.
 *
 * A question never waits for the engine: it is answered from the names
 * the last answer of the engine gave, and asks a thread to ask the
 * engine again if that answer is older than DOCKER_NAMES_FRESH_US.  So a
 * container's name shows within about a second of the first question
 * after its start, and an engine that is slow, stopped or absent delays
 * nothing: names are then the last ones it gave (none if it never
 * answered), and it is asked again after the bound.  Not part of
 * the backend interface: ns.c's, and the creators' (creators.c,
 * watch_posix.c: the name of a creator's container, kept after it is
 * gone).
 */
#ifndef SHMFS_DOCKERNAMES_H
#define SHMFS_DOCKERNAMES_H

#include <stdbool.h>

#include <glib.h>

#define DOCKER_NAMES_FRESH_US (1000 * 1000)

/* The name of the container with id (64 hex digits), newly allocated
 * (without Docker's leading '/'), or NULL if the engine named none. */
char *docker_name_of(const char *id);

/* The name of the container with id as docker_name_of gives it now, and
 * whether that is final: it has one, or the engine has answered (or failed
 * to) since `since` (g_get_monotonic_time(), when the container was seen
 * running) without naming it: not one of the engine's.  Not final: ask
 * again later (the engine is asked again within the bound). */
bool docker_name_settled(const char *id, gint64 since, char **name);

/* The ids of the containers the engine named (char *, 64 hex digits)
 * -> their names, a new reference (maybe empty). */
GHashTable *docker_names(void);

/* The names in an answer of GET /containers/json (the body): id -> name,
 * a new table.  What does not parse is left out.  For the tests. */
GHashTable *docker_names_parse(const char *json);

/* Each user (ns.c, the watcher) calls init once and fini once: the thread
 * that asks the engine runs while any has not finished. */
void docker_names_init(void);
void docker_names_fini(void);

#endif
