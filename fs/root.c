/* root.c - the mount's root (see root.h). */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "events.h"
#include "inode.h"
#include "metrics.h"
#include "root.h"
#include "segments.h"

static const struct shmfs_backend *const *kinds;

/* The root's files, after the kinds' directories. */
static const struct {
	const char *name;
	const struct shmfs_backend *be;
} files[] = {
	{ METRICS_FILE_NAME, &shmfs_metrics_file },
	{ EVENTS_FILE_NAME, &shmfs_events_file },
	{ SEGMENTS_FILE_NAME, &shmfs_segments_file },
};

/* Whether (be, dir) is a namespace's directory in ns/ ("INODE"), which
 * holds that namespace's segments file besides its kinds. */
static bool ns_dir(const struct shmfs_backend *be, const char *dir)
{
	if (strcmp(be->name, "ns") != 0 || !*dir)
		return false;
	for (const char *c = dir; *c; c++)
		if (*c < '0' || *c > '9')
			return false;
	return true;
}

int shmfs_front_child(const struct shmfs_backend *be, const char *dir,
		      const char *name, const struct shmfs_backend **fbe,
		      char **fpath)
{
	if (!ns_dir(be, dir) || strcmp(name, SEGMENTS_FILE_NAME) != 0)
		return -ENOENT;
	*fbe = &shmfs_segments_file;
	*fpath = g_strdup_printf("%s/%s", dir, name);
	return 0;
}

void shmfs_front_list(const struct shmfs_backend *be, const char *dir,
		      GArray *ents)
{
	g_autofree char *path = NULL;
	struct shm_attr a;

	if (!ns_dir(be, dir))
		return;
	path = g_strdup_printf("%s/%s", dir, SEGMENTS_FILE_NAME);
	if (shmfs_segments_file.stat(path, &a) == 0)
		shm_dirents_add(ents, SEGMENTS_FILE_NAME, &a);
}

void shmfs_root_set(const struct shmfs_backend *const *k)
{
	kinds = k;
}

const struct shmfs_backend *const *shmfs_backends(void)
{
	return kinds;
}

const struct shmfs_backend *shmfs_backend_named(const char *name)
{
	for (const struct shmfs_backend *const *b = kinds; b && *b; b++)
		if (strcmp((*b)->name, name) == 0)
			return *b;
	return NULL;
}

int shmfs_root_child(const char *name, const struct shmfs_backend **be,
		     char **path)
{
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		if (strcmp(name, files[i].name) == 0) {
			*be = files[i].be;
			*path = g_strdup(name);
			return 0;
		}
	}
	*be = shmfs_backend_named(name);
	*path = g_strdup("");
	return *be ? 0 : -ENOENT;
}

void shmfs_root_list(GArray *ents)
{
	struct shm_attr a;

	for (const struct shmfs_backend *const *b = kinds; b && *b; b++)
		if ((*b)->stat("", &a) == 0)
			shm_dirents_add(ents, (*b)->name, &a);
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		if (files[i].be->stat(files[i].name, &a) == 0)
			shm_dirents_add(ents, files[i].name, &a);
}

int shmfs_name_ok(const char *name)
{
	/* The kernel lets FUSE names reach 1024 bytes; tmpfs stops at
	 * NAME_MAX, and so does every call here. */
	return strlen(name) > NAME_MAX ? -ENAMETOOLONG : 0;
}

int shmfs_child_of(fuse_ino_t parent, const char *name,
		   const struct shmfs_backend **be, char **path)
{
	g_autoptr(shmfs_inode) dir = NULL;
	int r = shmfs_name_ok(name);

	if (r)
		return r;
	dir = shmfs_inode_get(parent);
	if (!dir)
		return -ENOENT;
	if (!dir->be)
		return shmfs_root_child(name, be, path);
	if (shmfs_front_child(dir->be, shmfs_inode_path(dir), name, be, path) ==
	    0)
		return 0;
	*be = dir->be;
	*path = shmfs_child_path(shmfs_inode_path(dir), name);
	return 0;
}
