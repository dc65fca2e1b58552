/* textfile.h - a read-only file whose text is made when it is opened
 * (shmfs.prom, segments): the open holds the text, counted in the
 * opener's share of such texts (caller_limits.h), and reads are served
 * from it.  The handle ops of such a file's backend. */
#ifndef SHMFS_TEXTFILE_H
#define SHMFS_TEXTFILE_H

#include "backend.h"

/* The attributes of such a file: read-only, times now, ctime `born`;
 * size (0 before it is opened: made when read, as /proc's). */
void shmfs_text_attr(struct timespec born, uint64_t size, struct shm_attr *out);
/* A handle holding text (taken): 0, or -ENOMEM past the caller's share
 * (text is freed). */
int shmfs_text_open(GString *text, struct shm_handle **out);
void shmfs_text_close(struct shm_handle *h);
/* How long its text is. */
size_t shmfs_text_len(const struct shm_handle *h);
int shmfs_text_read(struct shm_handle *h, uint64_t off, size_t size,
		    struct shm_extent *out);

#endif
