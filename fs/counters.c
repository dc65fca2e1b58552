/* counters.c - what the front counts as it serves (see counters.h). */
#include <glib.h>

#include "counters.h"

/* Written and read with atomics: no lock. */
static guint64 opens[3]; /* by enum shmfs_io */
static guint64 errors[SHMFS_ERRNO_COUNTED];
static gint backing_files; /* registered and not yet released */

void shmfs_count_open(enum shmfs_io io)
{
	if ((unsigned)io < G_N_ELEMENTS(opens))
		__atomic_fetch_add(&opens[io], 1, __ATOMIC_RELAXED);
}

void shmfs_count_error(int err)
{
	if (err > 0 && err < SHMFS_ERRNO_COUNTED)
		__atomic_fetch_add(&errors[err], 1, __ATOMIC_RELAXED);
}

void shmfs_count_backing(int delta)
{
	g_atomic_int_add(&backing_files, delta);
}

uint64_t shmfs_counted_opens(enum shmfs_io io)
{
	return (unsigned)io < G_N_ELEMENTS(opens) ?
		       __atomic_load_n(&opens[io], __ATOMIC_RELAXED) :
		       0;
}

uint64_t shmfs_counted_errors(int err)
{
	return err > 0 && err < SHMFS_ERRNO_COUNTED ?
		       __atomic_load_n(&errors[err], __ATOMIC_RELAXED) :
		       0;
}

int shmfs_counted_backing(void)
{
	return g_atomic_int_get(&backing_files);
}
