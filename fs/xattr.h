/* xattr.h - the user.shm.* attributes: names and text formats.
 *
 * These names and formats are a public interface (see README): values are
 * plain text without a trailing newline.
 */
#ifndef SHMFS_XATTR_H
#define SHMFS_XATTR_H

#include "backend.h"

/* The data path of a file or of the mount (answered by the front, not
 * from a backend's metadata): "passthrough" or "fallback". */
#define SHMFS_XATTR_IO "user.shm.io"

/* The names m has, each NUL-terminated, appended to out. */
void shmfs_xattr_list(const char *kind, const struct shm_meta *m, GString *out);
/* The value of `name` into out (no terminator); -ENODATA if m lacks it. */
int shmfs_xattr_get(const char *kind, const struct shm_meta *m,
		    const char *name, GString *out);

/* Every attribute m has, as `,"NAME":VALUE` after the prefix (a snapshot's
 * row, segments.h): numbers as JSON numbers, pids as an array, the rest as
 * strings whose text is the attribute's; appended to out. */
void shmfs_xattr_json(const char *kind, const struct shm_meta *m, GString *out);
/* s as a JSON string, appended to out (bytes that are not UTF-8: each as
 * the code point of its number). */
void shmfs_json_string(GString *out, const char *s);
/* The limits and use of a kind's directory (sysv/, posix/). */
void shmfs_xattr_dir_list(const struct shm_dir_usage *u, GString *out);
int shmfs_xattr_dir_get(const struct shm_dir_usage *u, const char *name,
			GString *out);

/* The SHM_META_* bits a backend must fill to give `name` (0: none
 * beyond what it always fills). */
unsigned shmfs_xattr_need(const char *name);

#endif
