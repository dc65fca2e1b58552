/* posix.h - what other kinds may use of the POSIX kind: its directory.
 * Not part of the backend interface. */
#ifndef SHMFS_POSIX_H
#define SHMFS_POSIX_H

#include <stdbool.h>

/* The POSIX directory, open (O_DIRECTORY); -1 before init. */
int posix_dir_fd(void);
/* A name shm_open could have made, and not a semaphore's. */
bool posix_valid_name(const char *name);

#endif
