/* shmcycle - for make bench: what a program does to /dev/shm, in a loop,
 * timed.  Run it where /dev/shm is the directory to measure (tmpfs, or
 * shmfs's posix/ bound over it in a mount namespace of its own).
 *
 *   shmcycle shm N   N times: shm_open(O_CREAT|O_EXCL|O_RDWR), ftruncate
 *                    to 4 KiB, mmap MAP_SHARED, touch it, munmap, close,
 *                    shm_unlink (a glibc/Python/PyTorch shm object's life)
 *   shmcycle sem N   N times: sem_open(O_CREAT|O_EXCL), sem_post,
 *                    sem_wait, sem_close, sem_unlink
 *
 * Prints the cycles a second.  Exit status 1, and why, on the first
 * failed call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what, const char *name)
{
	fprintf(stderr, "shmcycle: %s %s: %s\n", what, name, strerror(errno));
	return 1;
}

static int shm_cycle(const char *name)
{
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	char *p;

	if (fd < 0)
		return fail("shm_open", name);
	if (ftruncate(fd, 4096) < 0)
		return fail("ftruncate", name);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap", name);
	p[0] = 1;
	munmap(p, 4096);
	close(fd);
	if (shm_unlink(name) < 0)
		return fail("shm_unlink", name);
	return 0;
}

static int sem_cycle(const char *name)
{
	sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);

	if (s == SEM_FAILED)
		return fail("sem_open", name);
	if (sem_post(s) < 0 || sem_wait(s) < 0)
		return fail("sem_post/sem_wait", name);
	sem_close(s);
	if (sem_unlink(name) < 0)
		return fail("sem_unlink", name);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	char name[64];
	long n;
	int (*cycle)(const char *);

	if (argc != 3 || (strcmp(argv[1], "shm") && strcmp(argv[1], "sem")) ||
	    (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: shmcycle shm|sem N\n");
		return 2;
	}
	cycle = strcmp(argv[1], "shm") == 0 ? shm_cycle : sem_cycle;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "/shmcycle-%d-%ld", (int)getpid(),
			 i);
		if (cycle(name))
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", (double)n / ((double)(b.tv_sec - a.tv_sec) +
				      (double)(b.tv_nsec - a.tv_nsec) / 1e9));
	return 0;
}
