/* common.c - helpers shared by the backends: listings and stat conversion. */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"

static void dirent_clear(void *p)
{
	struct shm_dirent *d = p;

	g_free(d->name);
}

GArray *shm_dirents_new(void)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct shm_dirent));

	g_array_set_clear_func(a, dirent_clear);
	return a;
}

void shm_dirents_add(GArray *a, const char *name, const struct shm_attr *attr)
{
	struct shm_dirent d = { .name = g_strdup(name), .attr = *attr };

	g_array_append_val(a, d);
}

void shm_attr_from_stat(struct shm_attr *attr, const struct stat *st)
{
	*attr = (struct shm_attr){
		.mode = st->st_mode,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.size = (uint64_t)st->st_size,
		.blocks = (uint64_t)st->st_blocks,
		.atime = st->st_atim,
		.mtime = st->st_mtim,
		.ctime = st->st_ctim,
	};
}

void shm_meta_clear(struct shm_meta *m)
{
	if (m->pids)
		g_array_unref(m->pids);
	g_free(m->path);
	m->pids = NULL;
	m->path = NULL;
}

void shm_merge(void *dst, const void *buf, const void *old, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *b = buf, *o = old;
	size_t i = 0;

	while (i < n) {
		uint64_t wb, wo;
		size_t j;

		/* Eight bytes at a time while they are the same. */
		if (n - i >= 8) {
			memcpy(&wb, b + i, 8);
			memcpy(&wo, o + i, 8);
			if (wb == wo) {
				i += 8;
				continue;
			}
		}
		for (j = i; j < n && j < i + 8; j++)
			if (b[j] != o[j])
				d[j] = b[j];
		i = j;
	}
}
