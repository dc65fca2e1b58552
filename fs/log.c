/* log.c - see log.h.  Set once in main before any worker thread starts. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static bool use_syslog;
static bool verbose;

void shmfs_log_init(bool to_syslog, bool be_verbose)
{
	use_syslog = to_syslog;
	verbose = be_verbose;
	if (use_syslog)
		openlog("shmfs", LOG_PID, LOG_DAEMON);
}

bool shmfs_log_syslog(void)
{
	return use_syslog;
}

bool shmfs_log_verbose(void)
{
	return verbose;
}

void shmfs_logv(const char *fmt, va_list ap)
{
	/* One write per line, so threads' lines never interleave. */
	char line[1024];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (use_syslog)
		syslog(LOG_WARNING, "%s", line);
	else
		fprintf(stderr, "shmfs: %s\n", line);
}

void shmfs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	shmfs_logv(fmt, ap);
	va_end(ap);
}
