/* shmattack - what an unprivileged user may try against a shmfs mount, for
 * make bench (tools/bench-attack.sh): each attack runs for SECONDS, as
 * whoever runs it, and stops by itself.
 *
 *   shmattack events MOUNT SECONDS   16 reads at once on one descriptor
 *                                    of MOUNT/events (io_submit), again
 *   shmattack huge MOUNT SECONDS     SHM_NORESERVE segments of 64 TiB
 *                                    down to 4 KiB, each opened twice
 *                                    through MOUNT and held
 *   shmattack fds FILE SECONDS       open FILE until refused, and hold
 *   shmattack bykey MOUNT SECONDS    files in MOUNT/sysv/by-key/ until
 *                                    refused, then again
 *   shmattack pids FILE SECONDS      ask user.shm.pids of FILE in a loop
 *
 * Prints one line: what it did and the first error it met.  Exit 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int first_err;

static void note(int e)
{
	if (!first_err)
		first_err = e;
}

static long events(const char *mnt, double end)
{
	static char bufs[16][1 << 20];
	char path[4096];
	aio_context_t ctx = 0;
	long reads = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/events", mnt);
	fd = open(path, O_RDONLY);
	if (fd < 0 || syscall(SYS_io_setup, 64, &ctx) < 0) {
		note(errno);
		return 0;
	}
	while (now() < end) {
		struct iocb cbs[16], *list[16];
		struct io_event evs[16];
		long n, got = 0;

		for (int i = 0; i < 16; i++) {
			memset(&cbs[i], 0, sizeof(cbs[i]));
			cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
			cbs[i].aio_fildes = (uint32_t)fd;
			cbs[i].aio_buf = (uint64_t)(uintptr_t)bufs[i];
			cbs[i].aio_nbytes = i % 2 ? sizeof(bufs[i]) : 4096;
			list[i] = &cbs[i];
		}
		n = syscall(SYS_io_submit, ctx, 16, list);
		if (n < 0) {
			note(errno);
			break;
		}
		while (got < n) {
			long k = syscall(SYS_io_getevents, ctx, 1, n - got, evs,
					 NULL);

			if (k < 0 && errno != EINTR) {
				note(errno);
				break;
			}
			for (long e = 0; e < k; e++)
				if ((long)evs[e].res < 0)
					note((int)-(long)evs[e].res);
			got += k > 0 ? k : 0;
		}
		reads += got;
	}
	syscall(SYS_io_destroy, ctx);
	close(fd);
	return reads;
}

static long huge(const char *mnt, double end)
{
	char path[4096];
	long opens = 0;
	int ids[32], n = 0;

	for (int shift = 46; shift >= 12; shift -= 2) {
		int id = shmget(IPC_PRIVATE, (size_t)1 << shift,
				IPC_CREAT | SHM_NORESERVE | 0600);

		if (id < 0) {
			note(errno);
			continue;
		}
		ids[n++] = id;
		for (int k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "%s/sysv/%d", mnt, id);
			/* Held until the process exits. */
			int fd = open(path, O_RDWR);

			if (fd < 0)
				note(errno);
			else
				opens++;
		}
	}
	while (now() < end)
		usleep(100000);
	for (int i = 0; i < n; i++)
		shmctl(ids[i], IPC_RMID, NULL);
	return opens;
}

static long fds(const char *file, double end)
{
	long opens = 0;

	while (now() < end) {
		/* Held until the process exits. */
		int fd = open(file, O_RDONLY);

		if (fd >= 0) {
			opens++;
			continue;
		}
		note(errno);
		if (errno != EMFILE && errno != ENFILE)
			break;
		usleep(100000);
	}
	return opens;
}

static long bykey(const char *mnt, double end)
{
	char path[4096];
	long made = 0;
	unsigned key = 0x7a000000u + ((unsigned)getpid() << 12 & 0xfffff000u);

	while (now() < end) {
		int fd;

		snprintf(path, sizeof(path), "%s/sysv/by-key/0x%08x", mnt,
			 key + (unsigned)made);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
		if (fd >= 0) {
			close(fd);
			made++;
			continue;
		}
		note(errno);
		usleep(100000);
	}
	for (long i = 0; i < made; i++) {
		snprintf(path, sizeof(path), "%s/sysv/by-key/0x%08x", mnt,
			 key + (unsigned)i);
		unlink(path);
	}
	return made;
}

static long pids(const char *file, double end)
{
	char v[4096];
	long asked = 0;

	while (now() < end) {
		if (getxattr(file, "user.shm.pids", v, sizeof(v)) < 0)
			note(errno);
		asked++;
	}
	return asked;
}

int main(int argc, char **argv)
{
	double end;
	long n;

	if (argc != 4) {
		fprintf(stderr, "usage: shmattack events|huge|fds|bykey|pids "
				"MOUNT|FILE SECONDS\n");
		return 2;
	}
	end = now() + atof(argv[3]);
	if (strcmp(argv[1], "events") == 0)
		n = events(argv[2], end);
	else if (strcmp(argv[1], "huge") == 0)
		n = huge(argv[2], end);
	else if (strcmp(argv[1], "fds") == 0)
		n = fds(argv[2], end);
	else if (strcmp(argv[1], "bykey") == 0)
		n = bykey(argv[2], end);
	else if (strcmp(argv[1], "pids") == 0)
		n = pids(argv[2], end);
	else
		return 2;
	printf("%s: %ld done, first error: %s\n", argv[1], n,
	       first_err ? strerror(first_err) : "none");
	return 0;
}
