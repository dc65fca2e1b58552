/* xattr.c - formats struct shm_meta as the user.shm.* attributes. */
#include <errno.h>
#include <string.h>

#include "xattr.h"

#define XATTR_PREFIX "user.shm."

struct xattr_field {
	const char *name; /* after the prefix */
	unsigned need;	  /* SHM_META_* bit, 0 = always present */
	void (*format)(const char *kind, const struct shm_meta *m,
		       GString *out);
};

#define FIELD_UINT(fname, expr)                                                \
	static void fmt_##fname(const char *kind, const struct shm_meta *m,    \
				GString *out)                                  \
	{                                                                      \
		(void)kind;                                                    \
		g_string_append_printf(out, "%llu",                            \
				       (unsigned long long)(expr));            \
	}

FIELD_UINT(id, m->id)
FIELD_UINT(size, m->size)
FIELD_UINT(uid, m->uid)
FIELD_UINT(gid, m->gid)
FIELD_UINT(cuid, m->cuid)
FIELD_UINT(cgid, m->cgid)
FIELD_UINT(cpid, m->cpid)
FIELD_UINT(lpid, m->lpid)
FIELD_UINT(nattch, m->nattch)
FIELD_UINT(atime, m->atime)
FIELD_UINT(dtime, m->dtime)
FIELD_UINT(ctime, m->ctime)
FIELD_UINT(rss, m->rss)
FIELD_UINT(swap, m->swap)

static void fmt_kind(const char *kind, const struct shm_meta *m, GString *out)
{
	(void)m;
	g_string_append(out, kind);
}

static void fmt_key(const char *kind, const struct shm_meta *m, GString *out)
{
	(void)kind;
	g_string_append_printf(out, "0x%08x", m->key);
}

static void fmt_perms(const char *kind, const struct shm_meta *m, GString *out)
{
	(void)kind;
	g_string_append_printf(out, "%04o", (unsigned)m->perms);
}

static void fmt_pids(const char *kind, const struct shm_meta *m, GString *out)
{
	(void)kind;
	for (guint i = 0; m->pids && i < m->pids->len; i++)
		g_string_append_printf(out, "%s%d", i ? "," : "",
				       (int)g_array_index(m->pids, pid_t, i));
}

static void fmt_path(const char *kind, const struct shm_meta *m, GString *out)
{
	(void)kind;
	g_string_append(out, m->path ? m->path : "");
}

static void fmt_status(const char *kind, const struct shm_meta *m, GString *out)
{
	const char *sep = "";

	(void)kind;
	if (m->status & SHM_STATUS_DEST) {
		g_string_append(out, "dest");
		sep = ",";
	}
	if (m->status & SHM_STATUS_LOCKED)
		g_string_append_printf(out, "%slocked", sep);
}

/* In the order getfattr -d shows them. */
static const struct xattr_field fields[] = {
	{ "kind", 0, fmt_kind },
	{ "id", SHM_META_ID, fmt_id },
	{ "key", SHM_META_KEY, fmt_key },
	{ "size", SHM_META_SIZE, fmt_size },
	{ "perms", SHM_META_PERMS, fmt_perms },
	{ "uid", SHM_META_OWNER, fmt_uid },
	{ "gid", SHM_META_OWNER, fmt_gid },
	{ "cuid", SHM_META_CREATOR, fmt_cuid },
	{ "cgid", SHM_META_CREATOR, fmt_cgid },
	{ "cpid", SHM_META_PIDS, fmt_cpid },
	{ "lpid", SHM_META_PIDS, fmt_lpid },
	{ "nattch", SHM_META_NATTCH, fmt_nattch },
	{ "pids", SHM_META_MAPPERS, fmt_pids },
	{ "atime", SHM_META_TIMES, fmt_atime },
	{ "dtime", SHM_META_TIMES, fmt_dtime },
	{ "ctime", SHM_META_TIMES, fmt_ctime },
	{ "status", SHM_META_STATUS, fmt_status },
	{ "rss", SHM_META_MEMORY, fmt_rss },
	{ "swap", SHM_META_MEMORY, fmt_swap },
	{ "path", SHM_META_PATH, fmt_path },
};

static bool field_present(const struct xattr_field *f, const struct shm_meta *m)
{
	return (m->have & f->need) == f->need;
}

void shmfs_xattr_list(const char *kind, const struct shm_meta *m, GString *out)
{
	(void)kind;
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (!field_present(&fields[i], m))
			continue;
		g_string_append(out, XATTR_PREFIX);
		g_string_append(out, fields[i].name);
		g_string_append_c(out, '\0');
	}
}

unsigned shmfs_xattr_need(const char *name)
{
	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0)
		return 0;
	name += strlen(XATTR_PREFIX);
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return fields[i].need;
	return 0;
}

int shmfs_xattr_get(const char *kind, const struct shm_meta *m,
		    const char *name, GString *out)
{
	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0)
		return -ENODATA;
	name += strlen(XATTR_PREFIX);
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (strcmp(fields[i].name, name) == 0) {
			if (!field_present(&fields[i], m))
				return -ENODATA;
			fields[i].format(kind, m, out);
			return 0;
		}
	}
	return -ENODATA;
}
