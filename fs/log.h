/* log.h - the daemon's log: stderr in the foreground, syslog once
 * daemonized.  One line per event. */
#ifndef SHMFS_LOG_H
#define SHMFS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include <glib.h>

/* verbose: also log the errors callers meet in the normal course of
 * things (ENOENT, EACCES, ...), not only the unexpected ones. */
void shmfs_log_init(bool to_syslog, bool verbose);
bool shmfs_log_verbose(void);
/* Whether lines go to syslog (daemonized) rather than stderr. */
bool shmfs_log_syslog(void);
void shmfs_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void shmfs_logv(const char *fmt, va_list ap) G_GNUC_PRINTF(1, 0);

#endif
