/* atomic_add.c - tests/docker.sh's helper, built static so that it runs
 * in a container of a bare Debian image: N atomic increments of the
 * 64-bit counter at the start of a shared mapping, then the counter.
 *
 *   atomic_add FILE N [after]     a MAP_SHARED mapping of FILE
 *   atomic_add shm:ID N [after]   an attachment of System V segment ID
 *
 * "after": begin once the counter is not 0 (another adder has begun), so
 * that two adders overlap however long each takes to start. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t *p;
	long n;

	if (argc < 3 || argc > 4 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: atomic_add FILE|shm:ID N [after]\n");
		return 2;
	}
	if (strncmp(argv[1], "shm:", 4) == 0) {
		p = shmat(atoi(argv[1] + 4), NULL, 0);
		if (p == (void *)-1) {
			perror("shmat");
			return 1;
		}
	} else {
		int fd = open(argv[1], O_RDWR);

		p = fd < 0 ? MAP_FAILED :
			     mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			perror(argv[1]);
			return 1;
		}
	}
	while (argc == 4 && __atomic_load_n(p, __ATOMIC_SEQ_CST) == 0)
		;
	for (long i = 0; i < n; i++)
		__atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
	printf("%llu\n",
	       (unsigned long long)__atomic_load_n(p, __ATOMIC_SEQ_CST));
	return 0;
}
