/* backend.c - helpers shared by the backends: listings and stat conversion. */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "proc/procscan.h"

static void dirent_clear(void *p)
{
	struct shm_dirent *d = p;

	g_free(d->name);
	g_free(d->target);
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

void shm_dirents_add_link(GArray *a, const char *name,
			  const struct shm_attr *attr, const char *target)
{
	struct shm_dirent d = { .name = g_strdup(name),
				.attr = *attr,
				.target = g_strdup(target) };

	g_array_append_val(a, d);
}

void shm_attr_from_stat(struct shm_attr *attr, const struct stat *st)
{
	*attr = (struct shm_attr){
		.mode = st->st_mode,
		.nlink = st->st_nlink,
		.nlink_set = true,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.size = (uint64_t)st->st_size,
		.blocks = (uint64_t)st->st_blocks,
		.rdev = st->st_rdev,
		.atime = st->st_atim,
		.mtime = st->st_mtim,
		.ctime = st->st_ctim,
		.ident_dev = (uint64_t)st->st_dev,
		.ident_ino = (uint64_t)st->st_ino,
	};
}

void shm_meta_clear(struct shm_meta *m)
{
	if (m->pids)
		g_array_unref(m->pids);
	g_free(m->path);
	g_free(m->command);
	g_free(m->creator_container);
	g_free(m->creator_container_name);
	g_free(m->sem_name);
	m->pids = NULL;
	m->path = NULL;
	m->command = NULL;
	m->creator_container = NULL;
	m->creator_container_name = NULL;
	m->sem_name = NULL;
}

/* What lsipc's COMMAND column shows: the creator's command line, its
 * arguments joined by spaces, "" once the creator is gone. */
char *shm_command_of(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
	g_autofree char *text = NULL;
	gsize n = 0;

	if (pid <= 0 || !g_file_get_contents(path, &text, &n, NULL))
		return g_strdup("");
	while (n > 0 && text[n - 1] == '\0')
		n--;
	for (gsize i = 0; i < n; i++)
		if (text[i] == '\0')
			text[i] = ' ';
	return g_strndup(text, n);
}

void shm_dir_usage_clear(struct shm_dir_usage *u)
{
	g_clear_pointer(&u->ns_pids, g_array_unref);
	g_clear_pointer(&u->ns_command, g_free);
	g_clear_pointer(&u->ns_container, g_free);
	g_clear_pointer(&u->ns_container_name, g_free);
}

void shm_merge(void *dst, const void *buf, const void *old, size_t n)
{
	const unsigned char *b = buf, *o = old;
	uintptr_t start = (uintptr_t)dst, end = start + n;

	/* Every aligned word that [dst, dst + n) touches; an aligned word
	 * never straddles a page, so its bytes outside the range are mapped
	 * too, and left as they are. */
	for (uintptr_t wa = start & ~(uintptr_t)7; wa < end; wa += 8) {
		uint64_t *w = (uint64_t *)wa;
		unsigned char nb[8] = { 0 }, mb[8] = { 0 };
		uint64_t wb, mask, cur, want;

		if (wa >= start && end - wa >= 8 &&
		    memcmp(b + (wa - start), o + (wa - start), 8) == 0)
			continue; /* the common case: the word did not change */
		for (unsigned k = 0; k < 8; k++) {
			uintptr_t at = wa + k;

			if (at < start || at >= end ||
			    b[at - start] == o[at - start])
				continue;
			mb[k] = 0xff;
			nb[k] = b[at - start];
		}
		memcpy(&wb, nb, 8);
		memcpy(&mask, mb, 8);
		if (mask == 0)
			continue;
		if (mask == UINT64_MAX) {
			__atomic_store_n(w, wb, __ATOMIC_RELAXED);
			continue;
		}
		/* Some bytes of the word: swap them in with the word's other
		 * bytes as they are now, in one step, so that a reader never
		 * sees half of an aligned store and a native store to the
		 * other bytes is never undone. */
		cur = __atomic_load_n(w, __ATOMIC_RELAXED);
		do
			want = (cur & ~mask) | (wb & mask);
		while (!__atomic_compare_exchange_n(w, &cur, want, true,
						    __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED));
	}
}

void shm_snapshot_begin(unsigned what)
{
	/* Who maps and holds what (pids, nattch, unused), always; the
	 * mappings' paths and every process's namespace only where the
	 * snapshot asks for them: each is a read per process. */
	unsigned need = SHM_PROC_MAPS | SHM_PROC_FDS;

	if (what & SHM_SNAPSHOT_MAPPED)
		need |= SHM_PROC_PATHS;
	if (what & SHM_SNAPSHOT_NAMESPACES)
		need |= SHM_PROC_TASKS;
	shm_proc_pin(shm_proc_get(need, SHM_PROC_NOW));
}

void shm_snapshot_end(void)
{
	shm_proc_unref(shm_proc_pin(NULL));
}
