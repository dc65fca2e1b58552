/* log.c - see log.h.  Set once in main before any worker thread starts. */
#include <stdarg.h>
#include <stdio.h>
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

bool shmfs_log_verbose(void)
{
	return verbose;
}

void shmfs_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(LOG_WARNING, fmt, ap);
	} else {
		/* One write per line, so threads' lines never interleave. */
		char line[1024];

		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "shmfs: %s\n", line);
	}
	va_end(ap);
}
