/* xattr.c - formats struct shm_meta as the user.shm.* attributes. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "xattr.h"

#define XATTR_PREFIX "user.shm."

struct xattr_field {
	const char *name; /* after the prefix */
	unsigned need;	  /* SHM_META_* bit, 0 = always present */
	void (*format)(const char *kind, const struct shm_meta *m,
		       GString *out);
	bool number; /* a JSON number in a snapshot's row, else a string */
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
FIELD_UINT(value, m->sem_value)

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

static void fmt_name(const char *kind, const struct shm_meta *m, GString *out)
{
	(void)kind;
	g_string_append(out, m->sem_name ? m->sem_name : "");
}

static void fmt_command(const char *kind, const struct shm_meta *m,
			GString *out)
{
	(void)kind;
	g_string_append(out, m->command ? m->command : "");
}

static void fmt_creator_container(const char *kind, const struct shm_meta *m,
				  GString *out)
{
	(void)kind;
	g_string_append(out, m->creator_container ? m->creator_container : "");
}

static void fmt_creator_container_name(const char *kind,
				       const struct shm_meta *m, GString *out)
{
	(void)kind;
	g_string_append(out, m->creator_container_name ?
				     m->creator_container_name :
				     "");
}

/* As lsipc's STATUS column: comma-separated, in this order. */
static void fmt_status(const char *kind, const struct shm_meta *m, GString *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} flags[] = {
		{ SHM_STATUS_DEST, "dest" },
		{ SHM_STATUS_LOCKED, "locked" },
		{ SHM_STATUS_HUGETLB, "hugetlb" },
		{ SHM_STATUS_NORESERVE, "noreserve" },
	};
	const char *sep = "";

	(void)kind;
	for (size_t i = 0; i < G_N_ELEMENTS(flags); i++) {
		if (m->status & flags[i].bit) {
			g_string_append_printf(out, "%s%s", sep, flags[i].name);
			sep = ",";
		}
	}
}

/* In the order getfattr -d shows them. */
static const struct xattr_field fields[] = {
	{ "kind", 0, fmt_kind, false },
	{ "id", SHM_META_ID, fmt_id, true },
	{ "key", SHM_META_KEY, fmt_key, false },
	{ "size", SHM_META_SIZE, fmt_size, true },
	{ "perms", SHM_META_PERMS, fmt_perms, false },
	{ "uid", SHM_META_OWNER, fmt_uid, true },
	{ "gid", SHM_META_OWNER, fmt_gid, true },
	{ "cuid", SHM_META_CREATOR, fmt_cuid, true },
	{ "cgid", SHM_META_CREATOR, fmt_cgid, true },
	{ "cpid", SHM_META_CPID, fmt_cpid, true },
	{ "lpid", SHM_META_PIDS, fmt_lpid, true },
	{ "command", SHM_META_COMMAND, fmt_command, false },
	{ "creator.container", SHM_META_COMMAND, fmt_creator_container, false },
	{ "creator.container.name", SHM_META_COMMAND,
	  fmt_creator_container_name, false },
	{ "nattch", SHM_META_NATTCH, fmt_nattch, true },
	{ "pids", SHM_META_MAPPERS, fmt_pids, false },
	{ "atime", SHM_META_TIMES, fmt_atime, true },
	{ "dtime", SHM_META_TIMES, fmt_dtime, true },
	{ "ctime", SHM_META_TIMES, fmt_ctime, true },
	{ "status", SHM_META_STATUS, fmt_status, false },
	{ "rss", SHM_META_MEMORY, fmt_rss, true },
	{ "swap", SHM_META_MEMORY, fmt_swap, true },
	{ "path", SHM_META_PATH, fmt_path, false },
	{ "name", SHM_META_SEM, fmt_name, false },
	{ "value", SHM_META_SEM, fmt_value, true },
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

/* s as a JSON string.  A name need not be UTF-8 (a file name is bytes):
 * where s is not, each byte past ASCII is written as the code point of
 * that number (as Latin-1 would read it). */
void shmfs_json_string(GString *out, const char *s)
{
	bool utf8 = g_utf8_validate(s, -1, NULL);

	g_string_append_c(out, '"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (!utf8 && *c >= 0x80)
			g_string_append_printf(out, "\\u%04x", *c);
		else if (*c == '"' || *c == '\\')
			g_string_append_printf(out, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			g_string_append_printf(out, "\\u%04x", *c);
		else
			g_string_append_c(out, (char)*c);
	}
	g_string_append_c(out, '"');
}

void shmfs_xattr_json(const char *kind, const struct shm_meta *m, GString *out)
{
	g_autoptr(GString) v = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (!field_present(&fields[i], m))
			continue;
		g_string_append_c(out, ',');
		shmfs_json_string(out, fields[i].name);
		g_string_append_c(out, ':');
		if (fields[i].format == fmt_pids) {
			g_string_append_c(out, '[');
			fmt_pids(kind, m, out);
			g_string_append_c(out, ']');
			continue;
		}
		g_string_truncate(v, 0);
		fields[i].format(kind, m, v);
		if (fields[i].number)
			g_string_append(out, v->str);
		else
			shmfs_json_string(out, v->str);
	}
}

/* The directory attributes, each with the SHM_DIR_* group it belongs to
 * and where its number is. */
static const struct {
	const char *name; /* after the prefix */
	unsigned group;
	size_t offset;
} dir_fields[] = {
	{ "limit.shmmax", SHM_DIR_SYSV,
	  offsetof(struct shm_dir_usage, shmmax) },
	{ "limit.shmall", SHM_DIR_SYSV,
	  offsetof(struct shm_dir_usage, shmall) },
	{ "limit.shmmni", SHM_DIR_SYSV,
	  offsetof(struct shm_dir_usage, shmmni) },
	{ "limit.shmmin", SHM_DIR_SYSV,
	  offsetof(struct shm_dir_usage, shmmin) },
	{ "used.segments", SHM_DIR_SYSV,
	  offsetof(struct shm_dir_usage, segments) },
	{ "used.pages", SHM_DIR_SYSV, offsetof(struct shm_dir_usage, pages) },
	{ "used.resident", SHM_DIR_SYSV,
	  offsetof(struct shm_dir_usage, resident) },
	{ "used.swapped", SHM_DIR_SYSV,
	  offsetof(struct shm_dir_usage, swapped) },
	{ "limit.bytes", SHM_DIR_FILES,
	  offsetof(struct shm_dir_usage, bytes_total) },
	{ "used.bytes", SHM_DIR_FILES,
	  offsetof(struct shm_dir_usage, bytes_used) },
	{ "limit.inodes", SHM_DIR_FILES,
	  offsetof(struct shm_dir_usage, inodes_total) },
	{ "used.inodes", SHM_DIR_FILES,
	  offsetof(struct shm_dir_usage, inodes_used) },
	{ "used.objects", SHM_DIR_FILES,
	  offsetof(struct shm_dir_usage, objects) },
};

/* An IPC namespace's directory: whose it is, as text. */
static void fmt_ns_pids(const struct shm_dir_usage *u, GString *out)
{
	for (guint i = 0; u->ns_pids && i < u->ns_pids->len; i++)
		g_string_append_printf(
			out, "%s%d", i ? "," : "",
			(int)g_array_index(u->ns_pids, pid_t, i));
}

static void fmt_ns_command(const struct shm_dir_usage *u, GString *out)
{
	g_string_append(out, u->ns_command ? u->ns_command : "");
}

static void fmt_ns_container(const struct shm_dir_usage *u, GString *out)
{
	g_string_append(out, u->ns_container ? u->ns_container : "");
}

static void fmt_ns_container_name(const struct shm_dir_usage *u, GString *out)
{
	g_string_append(out, u->ns_container_name ? u->ns_container_name : "");
}

static const struct {
	const char *name; /* after the prefix */
	void (*format)(const struct shm_dir_usage *u, GString *out);
} ns_fields[] = {
	{ "ns.pids", fmt_ns_pids },
	{ "ns.command", fmt_ns_command },
	{ "ns.container", fmt_ns_container },
	{ "ns.container.name", fmt_ns_container_name },
};

void shmfs_xattr_dir_list(const struct shm_dir_usage *u, GString *out)
{
	for (size_t i = 0;
	     (u->have & SHM_DIR_NS) && i < G_N_ELEMENTS(ns_fields); i++) {
		g_string_append(out, XATTR_PREFIX);
		g_string_append(out, ns_fields[i].name);
		g_string_append_c(out, '\0');
	}
	for (size_t i = 0; i < G_N_ELEMENTS(dir_fields); i++) {
		if (!(u->have & dir_fields[i].group))
			continue;
		g_string_append(out, XATTR_PREFIX);
		g_string_append(out, dir_fields[i].name);
		g_string_append_c(out, '\0');
	}
}

int shmfs_xattr_dir_get(const struct shm_dir_usage *u, const char *name,
			GString *out)
{
	if (strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) != 0)
		return -ENODATA;
	name += strlen(XATTR_PREFIX);
	for (size_t i = 0;
	     (u->have & SHM_DIR_NS) && i < G_N_ELEMENTS(ns_fields); i++) {
		if (strcmp(ns_fields[i].name, name) == 0) {
			ns_fields[i].format(u, out);
			return 0;
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(dir_fields); i++) {
		if (strcmp(dir_fields[i].name, name) != 0 ||
		    !(u->have & dir_fields[i].group))
			continue;
		g_string_append_printf(
			out, "%llu",
			(unsigned long long)*(
				const uint64_t *)((const char *)u +
						  dir_fields[i].offset));
		return 0;
	}
	return -ENODATA;
}
