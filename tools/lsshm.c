/* lsshm - every shared memory segment of every kind in one table, as
 * util-linux's lsipc and lsfd print theirs (libsmartcols).
 *
 * It reads the snapshot files of a shmfs mount: `segments` at its root
 * (the daemon's own namespace) and, with --all-namespaces or a filter by
 * namespace or container, ns/INODE/segments of every namespace.  One read
 * per table: one listing and one /proc pass in the daemon, where
 * getfattr -d costs about 40 requests per file.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libsmartcols.h>

#ifndef LSSHM_VERSION
#define LSSHM_VERSION "unknown"
#endif
#define MAX_FIELDS 40

/* One row as the snapshot gives it: its fields' names and values (text
 * as written: numbers and booleans bare, strings unescaped, arrays as
 * comma-separated text). */
struct row {
	int n;
	char *name[MAX_FIELDS];
	char *value[MAX_FIELDS];
};

static const char *field(const struct row *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

/* ---- the snapshot's JSON lines (our own writer's: flat objects) ---- */

static void put_utf8(char **o, unsigned cp)
{
	char *p = *o;

	if (cp < 0x80) {
		*p++ = (char)cp;
	} else if (cp < 0x800) {
		*p++ = (char)(0xc0 | cp >> 6);
		*p++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*p++ = (char)(0xe0 | cp >> 12);
		*p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*p++ = (char)(0x80 | (cp & 0x3f));
	}
	*o = p;
}

/* A JSON string at *s (past its opening quote), unescaped; NULL if bad.
 * \u00XX below 0x100 is the byte XX (the writer's form of a name that is
 * not UTF-8), as the name was. */
static char *json_str(const char **s)
{
	const char *p = *s, *end = p;
	char *out, *o;

	/* Its end, to size the copy (unescaping only shortens it, but for
	 * \uXXXX above 0x7ff: 3 bytes for 6). */
	while (*end && *end != '"')
		end += end[0] == '\\' && end[1] ? 2 : 1;
	out = o = malloc((size_t)(end - p) + 1);

	if (!out)
		err(EXIT_FAILURE, "malloc");
	while (*p && *p != '"') {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u': {
			unsigned cp = 0;

			if (sscanf(p + 1, "%4x", &cp) != 1)
				goto bad;
			if (cp < 0x100)
				*o++ = (char)cp;
			else
				put_utf8(&o, cp);
			p += 4;
			break;
		}
		case '\0':
			goto bad;
		default:
			*o++ = *p;
		}
		p++;
	}
	if (*p != '"')
		goto bad;
	*o = '\0';
	*s = p + 1;
	return out;
bad:
	free(out);
	return NULL;
}

static bool parse_row(const char *s, struct row *r)
{
	memset(r, 0, sizeof(*r));
	if (*s++ != '{')
		return false;
	while (*s && *s != '}') {
		char *name, *value;

		if (*s == ',')
			s++;
		if (*s++ != '"' || !(name = json_str(&s)) || *s++ != ':')
			return false;
		if (*s == '"') {
			s++;
			value = json_str(&s);
		} else if (*s == '[') {
			const char *e = strchr(s, ']');

			if (!e)
				return false;
			value = strndup(s + 1, (size_t)(e - s - 1));
			s = e + 1;
		} else {
			size_t n = strcspn(s, ",}");

			value = strndup(s, n);
			s += n;
		}
		if (!value || r->n == MAX_FIELDS) {
			free(name);
			free(value);
			return false;
		}
		r->name[r->n] = name;
		r->value[r->n++] = value;
	}
	return *s == '}';
}

/* ---- columns ---- */

enum type { T_STR, T_NUM, T_SIZE, T_TIME, T_BOOL, T_PERMS, T_USER, T_GROUP };

struct colinfo {
	const char *name;
	double whint;
	int flags;
	enum type type;
	const char *field; /* the snapshot's, or NULL: computed */
	const char *help;
};

static const struct colinfo infos[] = {
	{ "KIND", 1, 0, T_STR, "kind", "kind: sysv, posix or mapped" },
	{ "NAME", 0.3, 0, T_STR, NULL,
	  "name in its kind's directory (id, object name, file path)" },
	{ "FILE", 0.3, 0, T_STR, "file", "the file in the mount" },
	{ "KEY", 1, 0, T_STR, "key", "System V key" },
	{ "ID", 1, SCOLS_FL_RIGHT, T_NUM, "id", "System V id" },
	{ "OWNER", 1, 0, T_USER, "uid", "owner's user name" },
	{ "UID", 1, SCOLS_FL_RIGHT, T_NUM, "uid", "owner's user id" },
	{ "GID", 1, SCOLS_FL_RIGHT, T_NUM, "gid", "owner's group id" },
	{ "GROUP", 1, 0, T_GROUP, "gid", "owner's group name" },
	{ "CUID", 1, SCOLS_FL_RIGHT, T_NUM, "cuid", "creator's user id" },
	{ "CGID", 1, SCOLS_FL_RIGHT, T_NUM, "cgid", "creator's group id" },
	{ "PERMS", 1, 0, T_PERMS, "perms", "permissions" },
	{ "SIZE", 1, SCOLS_FL_RIGHT, T_SIZE, "size", "size" },
	{ "NATTCH", 1, SCOLS_FL_RIGHT, T_NUM, "nattch",
	  "number of attached processes" },
	{ "STATUS", 1, SCOLS_FL_NOEXTREMES, T_STR, "status", "status" },
	{ "ATTACHED", 1, SCOLS_FL_RIGHT, T_TIME, "atime", "attach time" },
	{ "DETACHED", 1, SCOLS_FL_RIGHT, T_TIME, "dtime", "detach time" },
	{ "CTIME", 1, SCOLS_FL_RIGHT, T_TIME, "ctime", "last change time" },
	{ "CPID", 1, SCOLS_FL_RIGHT, T_NUM, "cpid", "PID of the creator" },
	{ "LPID", 1, SCOLS_FL_RIGHT, T_NUM, "lpid", "PID of last user" },
	{ "COMMAND", 0.3, SCOLS_FL_TRUNC, T_STR, "command",
	  "creator's command line" },
	{ "NS", 1, SCOLS_FL_RIGHT, T_NUM, "ns", "IPC namespace" },
	{ "CONTAINER", 1, 0, T_STR, "container",
	  "the namespace's container (12 digits, as docker ps)" },
	{ "CNAME", 1, 0, T_STR, "container.name",
	  "the namespace's container's name" },
	{ "UNUSED", 1, SCOLS_FL_RIGHT, T_BOOL, "unused",
	  "nobody maps it or holds it open (unused/)" },
	{ "PIDS", 0.2, SCOLS_FL_WRAP, T_STR, "pids",
	  "processes that map it now" },
	{ "RSS", 1, SCOLS_FL_RIGHT, T_SIZE, "rss", "resident memory" },
	{ "SWAP", 1, SCOLS_FL_RIGHT, T_SIZE, "swap", "swapped memory" },
	{ "PATH", 0.3, 0, T_STR, "path", "the real file (POSIX, mapped)" },
	{ "CREATOR-CONTAINER", 1, 0, T_STR, "creator.container",
	  "creator's container (12 digits)" },
	{ "CREATOR-CNAME", 1, 0, T_STR, "creator.container.name",
	  "creator's container's name" },
};

static const char *default_cols = "KIND,NAME,OWNER,PERMS,SIZE,NATTCH,STATUS,"
				  "CPID,COMMAND";

static int cols[2 * sizeof(infos) / sizeof(infos[0])];
static size_t ncols;

static int column_id(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(infos) / sizeof(infos[0]); i++)
		if (strlen(infos[i].name) == len &&
		    strncasecmp(infos[i].name, name, len) == 0)
			return (int)i;
	warnx("unknown column: %.*s", (int)len, name);
	return -1;
}

/* "A,B" or "+A,B" (added to the default), as util-linux's -o. */
static void parse_columns(const char *list)
{
	const char *p = list;

	if (*p == '+') {
		parse_columns(default_cols);
		p++;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		int id;

		if (n) {
			if ((id = column_id(p, n)) < 0)
				exit(EXIT_FAILURE);
			if (ncols == sizeof(cols) / sizeof(cols[0]))
				errx(EXIT_FAILURE, "too many columns");
			cols[ncols++] = id;
		}
		p += n + (p[n] == ',');
	}
}

/* ---- what a cell shows ---- */

static bool bytes, numeric_perms, notrunc;
static enum { TF_SHORT, TF_FULL, TF_ISO } time_format = TF_SHORT;

/* As util-linux's size_to_human_string: 4K, 1.5M. */
static char *human(unsigned long long n)
{
	static const char units[] = "BKMGTPE";
	int u = 0;
	unsigned long long whole = n, frac = 0;
	char *s;

	while (whole >= 1024 && u < 6) {
		frac = whole % 1024;
		whole /= 1024;
		u++;
	}
	if (u == 0) {
		if (asprintf(&s, "%lluB", n) < 0)
			return NULL;
		return s;
	}
	/* One decimal, rounded, dropped when it is 0. */
	frac = (frac * 10 + 512) / 1024;
	if (frac == 10) {
		whole++;
		frac = 0;
	}
	if (frac) {
		if (asprintf(&s, "%llu.%llu%c", whole, frac, units[u]) < 0)
			return NULL;
	} else if (asprintf(&s, "%llu%c", whole, units[u]) < 0) {
		return NULL;
	}
	return s;
}

static char *when(const char *v)
{
	time_t t = (time_t)strtoll(v, NULL, 10), now = time(NULL);
	struct tm tm, today;
	char buf[64];

	if (t == 0)
		return strdup("-");
	localtime_r(&t, &tm);
	localtime_r(&now, &today);
	switch (time_format) {
	case TF_ISO:
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm);
		break;
	case TF_FULL:
		strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
		break;
	default: /* as lsipc: the time today, else the date */
		if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
			strftime(buf, sizeof(buf), "%H:%M", &tm);
		else if (tm.tm_year == today.tm_year)
			strftime(buf, sizeof(buf), "%b%d", &tm);
		else
			strftime(buf, sizeof(buf), "%Y-%b%d", &tm);
	}
	return strdup(buf);
}

static char *perms_text(const char *v)
{
	unsigned m = (unsigned)strtoul(v, NULL, 8);
	char s[10];

	if (numeric_perms)
		return strdup(v);
	for (int i = 0; i < 9; i++)
		s[i] = (m & (0400u >> i)) ? "rwx"[i % 3] : '-';
	s[9] = '\0';
	return strdup(s);
}

/* The NAME column: the file less "ns/INODE/" and "KIND/". */
static char *short_name(const struct row *r)
{
	const char *f = field(r, "file"), *s;

	if (!f)
		return strdup("");
	if (strncmp(f, "ns/", 3) == 0 && (s = strchr(f + 3, '/')))
		f = s + 1;
	s = strchr(f, '/');
	return strdup(s ? s + 1 : f);
}

/* Names of ids, looked up once each (as util-linux caches them): a table
 * of 2,000 segments of one owner asks the password file once. */
struct idname {
	unsigned id;
	bool group;
	char *name;
	struct idname *next;
};
static struct idname *idnames;

static const char *id_name(unsigned id, bool group, const char *fallback)
{
	struct idname *n;

	for (n = idnames; n; n = n->next)
		if (n->id == id && n->group == group)
			return n->name;
	n = calloc(1, sizeof(*n));
	if (!n)
		err(EXIT_FAILURE, "calloc");
	n->id = id;
	n->group = group;
	/* (One thread: the non-reentrant calls are safe.) */
	if (group) {
		// cppcheck-suppress getgrgidCalled
		struct group *gr = getgrgid((gid_t)id);

		n->name = strdup(gr ? gr->gr_name : fallback);
	} else {
		// cppcheck-suppress getpwuidCalled
		struct passwd *pw = getpwuid((uid_t)id);

		n->name = strdup(pw ? pw->pw_name : fallback);
	}
	n->next = idnames;
	idnames = n;
	return n->name;
}

static const char *user_name(uid_t uid, const char *fallback)
{
	return id_name((unsigned)uid, false, fallback);
}

static const char *group_name(gid_t gid, const char *fallback)
{
	return id_name((unsigned)gid, true, fallback);
}

static char *cell_text(const struct row *r, const struct colinfo *c)
{
	const char *v = c->field ? field(r, c->field) : NULL;

	if (!c->field)
		return short_name(r);
	if (!v)
		return NULL;
	switch (c->type) {
	case T_SIZE:
		return bytes ? strdup(v) : human(strtoull(v, NULL, 10));
	case T_TIME:
		return when(v);
	case T_PERMS:
		return perms_text(v);
	case T_USER:
		return strdup(user_name((uid_t)strtoul(v, NULL, 10), v));
	case T_GROUP:
		return strdup(group_name((gid_t)strtoul(v, NULL, 10), v));
	default:
		break;
	}
	if ((strcmp(c->field, "container") == 0 ||
	     strcmp(c->field, "creator.container") == 0) &&
	    !notrunc)
		return strndup(v, 12);
	return strdup(v);
}

/* ---- reading and filtering ---- */

struct filters {
	const char *kind, *container;
	unsigned long long ns;
	bool unused, all_ns;
};

static struct row *rows;
static size_t nrows, caprows;

static bool keep(const struct row *r, const struct filters *f)
{
	const char *v;

	if (f->kind && (!(v = field(r, "kind")) || strcmp(v, f->kind) != 0))
		return false;
	if (f->unused && (!(v = field(r, "unused")) || strcmp(v, "true")))
		return false;
	if (f->ns && (!(v = field(r, "ns")) || strtoull(v, NULL, 10) != f->ns))
		return false;
	if (f->container) {
		const char *id = field(r, "container"),
			   *name = field(r, "container.name");
		size_t n = strlen(f->container);

		if (!((id && *id && n && strncmp(id, f->container, n) == 0) ||
		      (name && strcmp(name, f->container) == 0)))
			return false;
	}
	return true;
}

/* Read one snapshot file; seen: namespaces already read (the root's). */
static int read_snapshot(const char *path, const struct filters *f,
			 unsigned long long skip_ns)
{
	FILE *in = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!in)
		return -errno;
	while ((n = getline(&line, &cap, in)) > 0) {
		struct row r;
		const char *ns;

		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (!parse_row(line, &r)) {
			warnx("%s: a line that is not a segment: %.60s", path,
			      line);
			for (int i = 0; i < r.n; i++) {
				free(r.name[i]);
				free(r.value[i]);
			}
			continue;
		}
		ns = field(&r, "ns");
		if ((skip_ns && ns && strtoull(ns, NULL, 10) == skip_ns) ||
		    !keep(&r, f)) {
			for (int i = 0; i < r.n; i++) {
				free(r.name[i]);
				free(r.value[i]);
			}
			continue;
		}
		if (nrows == caprows) {
			caprows = caprows ? caprows * 2 : 64;
			rows = realloc(rows, caprows * sizeof(*rows));
			if (!rows)
				err(EXIT_FAILURE, "realloc");
		}
		rows[nrows++] = r;
	}
	free(line);
	n = ferror(in) ? -errno : 0;
	fclose(in);
	return (int)n;
}

/* The shmfs mount: the first fuse.shmfs in /proc/self/mounts. */
static char *find_mount(void)
{
	FILE *m = fopen("/proc/self/mounts", "re");
	char src[4096], dir[4096], type[256];
	char *found = NULL;

	if (!m)
		return NULL;
	while (!found &&
	       fscanf(m, "%4095s %4095s %255s %*[^\n]", src, dir, type) == 3)
		if (strcmp(type, "fuse.shmfs") == 0)
			found = strdup(dir);
	fclose(m);
	/* (/proc/self/mounts writes a space in a path as \040.) */
	if (!found)
		return NULL;
	for (char *p = strstr(found, "\\040"); p; p = strstr(p, "\\040")) {
		*p = ' ';
		memmove(p + 1, p + 4, strlen(p + 4) + 1);
	}
	return found;
}

static unsigned long long own_ns_of(const char *mnt)
{
	/* The root's rows are its own namespace's: the first row says it,
	 * else nothing needs skipping. */
	(void)mnt;
	for (size_t i = 0; i < nrows; i++) {
		const char *ns = field(&rows[i], "ns");

		if (ns)
			return strtoull(ns, NULL, 10);
	}
	return 0;
}

static void read_all(const char *mnt, const struct filters *f)
{
	char *path;
	int r;
	unsigned long long own;
	DIR *d;
	struct dirent *de;

	if (asprintf(&path, "%s/segments", mnt) < 0)
		err(EXIT_FAILURE, "asprintf");
	r = read_snapshot(path, f, 0);
	if (r)
		errx(EXIT_FAILURE, "cannot read %s: %s", path, strerror(-r));
	free(path);
	if (!f->all_ns)
		return;
	own = own_ns_of(mnt);
	if (asprintf(&path, "%s/ns", mnt) < 0)
		err(EXIT_FAILURE, "asprintf");
	d = opendir(path);
	if (!d) {
		errx(EXIT_FAILURE,
		     "%s: %s (the mount shows other namespaces only with "
		     "--all-namespaces)",
		     path, strerror(errno));
		return;
	}
	// cppcheck-suppress readdirCalled
	while ((de = readdir(d))) {
		char *file;

		if (!isdigit((unsigned char)de->d_name[0]) ||
		    (own && strtoull(de->d_name, NULL, 10) == own))
			continue;
		if (asprintf(&file, "%s/%s/segments", path, de->d_name) < 0)
			err(EXIT_FAILURE, "asprintf");
		/* A namespace gone meanwhile: no rows. */
		r = read_snapshot(file, f, 0);
		if (r && r != -ENOENT)
			warnx("cannot read %s: %s", file, strerror(-r));
		free(file);
	}
	closedir(d);
	free(path);
}

/* The mount read: global, so that an early exit leaves nothing a leak
 * checker would call lost. */
static char *mnt;

/* Everything read, and mnt (a checker of leaks reads nothing left). */
static void free_all(void)
{
	for (size_t r = 0; r < nrows; r++)
		for (int i = 0; i < rows[r].n; i++) {
			free(rows[r].name[i]);
			free(rows[r].value[i]);
		}
	free(rows);
	while (idnames) {
		struct idname *n = idnames->next;

		free(idnames->name);
		free(idnames);
		idnames = n;
	}
	free(mnt);
	mnt = NULL;
}

/* ---- the table ---- */

static int cmp_num(struct libscols_cell *a, struct libscols_cell *b, void *d)
{
	const char *x = scols_cell_get_userdata(a),
		   *y = scols_cell_get_userdata(b);
	unsigned long long p = x ? strtoull(x, NULL, 10) : 0,
			   q = y ? strtoull(y, NULL, 10) : 0;

	(void)d;
	return (p > q) - (p < q);
}

static void __attribute__((noreturn)) usage(void)
{
	FILE *o = stdout;

	fputs("\nUsage:\n lsshm [options]\n\n"
	      "Show every shared memory segment of a shmfs mount: System V,\n"
	      "POSIX objects and semaphores, mapped files.\n\n"
	      "Options:\n"
	      " -t, --kind <kind>          sysv, posix or mapped only\n"
	      " -A, --all-namespaces       every IPC namespace's (ns/)\n"
	      " -N, --namespace <inode>    that IPC namespace's only\n"
	      " -C, --container <id|name>  that container's only\n"
	      " -u, --unused               only those nobody uses\n"
	      " -o, --output <list>        the columns to show (+list adds)\n"
	      " -b, --bytes                print sizes in bytes\n"
	      " -J, --json                 use the JSON output format\n"
	      " -r, --raw                  use the raw output format\n"
	      " -l, --list                 use the list output format (the "
	      "default)\n"
	      " -n, --noheadings           don't print headings\n"
	      " -P, --numeric-perms        print numeric permissions\n"
	      "     --notruncate           don't truncate container ids\n"
	      "     --sort <column>        sort by that column\n"
	      "     --time-format <type>   short, full or iso\n"
	      "     --mount <dir>          the shmfs mount (default: the "
	      "first\n"
	      "                              fuse.shmfs in /proc/self/mounts)\n"
	      " -H, --list-columns         list the available columns\n"
	      " -h, --help                 display this help\n"
	      " -V, --version              display version\n",
	      o);
	exit(EXIT_SUCCESS);
}

static void __attribute__((noreturn)) list_columns(void)
{
	for (size_t i = 0; i < sizeof(infos) / sizeof(infos[0]); i++)
		printf("%17s  %s\n", infos[i].name, infos[i].help);
	exit(EXIT_SUCCESS);
}

int main(int argc, char **argv)
{
	enum { OPT_SORT = 256, OPT_TIME, OPT_MOUNT, OPT_NOTRUNC };
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, 't' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "namespace", required_argument, NULL, 'N' },
		{ "container", required_argument, NULL, 'C' },
		{ "unused", no_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'J' },
		{ "raw", no_argument, NULL, 'r' },
		{ "list", no_argument, NULL, 'l' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "numeric-perms", no_argument, NULL, 'P' },
		{ "notruncate", no_argument, NULL, OPT_NOTRUNC },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "time-format", required_argument, NULL, OPT_TIME },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "list-columns", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct filters f = { 0 };
	const char *outarg = NULL, *sortarg = NULL;
	bool json = false, raw = false, noheadings = false;
	struct libscols_table *tb;
	struct libscols_column *sortcol = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "t:AN:C:uo:bJrlnPHhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "sysv") && strcmp(optarg, "posix") &&
			    strcmp(optarg, "mapped"))
				errx(EXIT_FAILURE,
				     "unknown kind: %s (sysv, posix or mapped)",
				     optarg);
			f.kind = optarg;
			break;
		case 'A':
			f.all_ns = true;
			break;
		case 'N': {
			char *end;

			errno = 0;
			f.ns = strtoull(optarg, &end, 10);
			if (errno || *end || !f.ns)
				errx(EXIT_FAILURE, "invalid namespace: '%s'",
				     optarg);
			f.all_ns = true;
			break;
		}
		case 'C':
			f.container = optarg;
			f.all_ns = true;
			break;
		case 'u':
			f.unused = true;
			break;
		case 'o':
			outarg = optarg;
			break;
		case 'b':
			bytes = true;
			break;
		case 'J':
			json = true;
			break;
		case 'r':
			raw = true;
			break;
		case 'l':
			break;
		case 'n':
			noheadings = true;
			break;
		case 'P':
			numeric_perms = true;
			break;
		case OPT_NOTRUNC:
			notrunc = true;
			break;
		case OPT_SORT:
			sortarg = optarg;
			break;
		case OPT_TIME:
			if (strcmp(optarg, "short") == 0)
				time_format = TF_SHORT;
			else if (strcmp(optarg, "full") == 0)
				time_format = TF_FULL;
			else if (strcmp(optarg, "iso") == 0)
				time_format = TF_ISO;
			else
				errx(EXIT_FAILURE, "unknown time format: %s",
				     optarg);
			break;
		case OPT_MOUNT:
			mnt = strdup(optarg);
			break;
		case 'H':
			list_columns();
		case 'h':
			usage();
		case 'V':
			printf("lsshm from shmfs %s\n", LSSHM_VERSION);
			return EXIT_SUCCESS;
		default:
			fprintf(stderr,
				"Try 'lsshm --help' for more information.\n");
			return EXIT_FAILURE;
		}
	}
	if (optind < argc) {
		warnx("unexpected argument: %s", argv[optind]);
		fprintf(stderr, "Try 'lsshm --help' for more information.\n");
		return EXIT_FAILURE;
	}
	parse_columns(outarg ? outarg : default_cols);
	if (!mnt && !(mnt = find_mount()))
		errx(EXIT_FAILURE, "no shmfs mount found (give --mount DIR)");
	read_all(mnt, &f);

	scols_init_debug(0);
	tb = scols_new_table();
	if (!tb)
		err(EXIT_FAILURE, "failed to allocate output table");
	scols_table_enable_json(tb, json);
	scols_table_set_name(tb, "segments");
	scols_table_enable_raw(tb, raw);
	scols_table_enable_noheadings(tb, noheadings);
	for (size_t i = 0; i < ncols; i++) {
		const struct colinfo *ci = &infos[cols[i]];
		struct libscols_column *cl = scols_table_new_column(
			tb, ci->name, ci->whint, ci->flags);

		if (!cl)
			err(EXIT_FAILURE, "failed to allocate output column");
		if (json) {
			int t = SCOLS_JSON_STRING;

			if (ci->type == T_NUM || (ci->type == T_SIZE && bytes))
				t = SCOLS_JSON_NUMBER;
			else if (ci->type == T_BOOL)
				t = SCOLS_JSON_BOOLEAN;
			scols_column_set_json_type(cl, t);
		}
		if (ci->type == T_NUM || ci->type == T_SIZE ||
		    ci->type == T_TIME || ci->type == T_BOOL)
			scols_column_set_cmpfunc(cl, cmp_num, NULL);
		else
			scols_column_set_cmpfunc(cl, scols_cmpstr_cells, NULL);
		if (sortarg && strcasecmp(sortarg, ci->name) == 0)
			sortcol = cl;
	}
	if (sortarg && !sortcol)
		errx(EXIT_FAILURE, "unknown sort column: %s (it must be shown)",
		     sortarg);
	for (size_t r = 0; r < nrows; r++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			err(EXIT_FAILURE, "failed to allocate output line");
		for (size_t i = 0; i < ncols; i++) {
			const struct colinfo *ci = &infos[cols[i]];
			char *text = cell_text(&rows[r], ci);
			const char *raw_v =
				ci->field ? field(&rows[r], ci->field) : NULL;

			if (ci->type == T_BOOL && text && !json) {
				bool yes = strcmp(text, "true") == 0;

				free(text);
				text = strdup(yes ? "1" : "0");
			}
			if (text && scols_line_refer_data(ln, i, text))
				err(EXIT_FAILURE, "failed to add output data");
			scols_cell_set_userdata(
				scols_line_get_cell(ln, i),
				(void *)(ci->type == T_BOOL && raw_v ?
						 (strcmp(raw_v, "true") ? "0" :
									  "1") :
						 raw_v));
		}
	}
	if (sortcol)
		scols_sort_table(tb, sortcol);
	scols_print_table(tb);
	scols_unref_table(tb);
	free_all();
	return EXIT_SUCCESS;
}
