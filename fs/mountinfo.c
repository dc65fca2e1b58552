/* mountinfo.c - see mountinfo.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <glib.h>

#include "mountinfo.h"

bool shmfs_mountinfo_top(const char *mnt, char **fstype, dev_t *dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (getline(&line, &cap, f) > 0) {
		g_auto(GStrv) w = g_strsplit(line, " ", 0);
		g_autofree char *point = NULL;
		unsigned maj, min;
		char *dash;

		if (g_strv_length(w) < 5)
			continue;
		point = g_strcompress(w[4]); /* \040 and friends */
		dash = strstr(line, " - ");
		if (strcmp(point, mnt) != 0 || !dash ||
		    sscanf(w[2], "%u:%u", &maj, &min) != 2)
			continue;
		/* The last entry at mnt is the one on top. */
		found = true;
		*dev = makedev(maj, min);
		g_free(*fstype);
		*fstype = g_strndup(dash + 3, strcspn(dash + 3, " \n"));
	}
	free(line);
	fclose(f);
	return found;
}
