/* cgroupid.c - see cgroupid.h. */
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "cgroupid.h"

static bool is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
			return false;
	return true;
}

/* One path component as a container id: "ID", or ID with a runtime's
 * prefix and ".scope". */
static char *component_id(const char *c, size_t n)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-",
						"crio-", "libpod-", "" };
	const char *suffix = ".scope";
	size_t sn = strlen(suffix);

	if (n > sn && memcmp(c + n - sn, suffix, sn) == 0)
		n -= sn;
	for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
		size_t pn = strlen(prefixes[i]);

		if (n >= pn && memcmp(c, prefixes[i], pn) == 0 &&
		    is_hex64(c + pn, n - pn))
			return g_strndup(c + pn, n - pn);
	}
	return NULL;
}

char *ns_container_of_cgroup(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l; l++) {
		/* "hierarchy:controllers:path" */
		const char *path = strchr(*l, ':');

		if (!path || !(path = strchr(path + 1, ':')))
			continue;
		path++;
		for (const char *end = path + strlen(path); end > path;) {
			const char *start = end;

			while (start > path && start[-1] != '/')
				start--;
			char *id = component_id(start, (size_t)(end - start));

			if (id)
				return id;
			end = start > path ? start - 1 : path;
		}
	}
	return NULL;
}

char *ns_container_of_pid(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cgroup", pid);
	g_autofree char *text = NULL;
	char *id;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	id = ns_container_of_cgroup(text);
	return id ? id : g_strdup("");
}
