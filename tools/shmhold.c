/* shmhold - for make bench's busy host: N sleeping processes that each
 * hold some of the given segments (a System V attachment and a MAP_SHARED
 * mapping of a POSIX object), until shmhold gets SIGTERM or SIGINT, then
 * every one of them is gone.
 *
 *   shmhold N SHMIDS-FILE POSIX-FILE   (one shmid / one path per line)
 *
 * Child i holds shmid (i mod S) and (i*7 mod S), and object (i mod P).
 * Prints "ready N" once every child holds its share.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static char **read_lines(const char *file, int *n)
{
	FILE *f = fopen(file, "re");
	char **v = NULL, *line = NULL;
	size_t cap = 0;
	ssize_t len;

	*n = 0;
	if (!f)
		return NULL;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!line[0])
			continue;
		char **w = realloc(v, sizeof(*v) * (size_t)(*n + 1));

		if (!w)
			break;
		v = w;
		v[(*n)++] = strdup(line);
	}
	free(line);
	fclose(f);
	return v;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	int n, ns, np, ready[2];
	char **ids, **paths;
	pid_t *kids;

	if (argc != 4 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: shmhold N SHMIDS-FILE POSIX-FILE\n");
		return 2;
	}
	ids = read_lines(argv[2], &ns);
	paths = read_lines(argv[3], &np);
	if (!ns || !np || pipe(ready) < 0) {
		fprintf(stderr, "shmhold: nothing to hold\n");
		return 2;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	kids = calloc((size_t)n, sizeof(*kids));
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			int fd = open(paths[i % np], O_RDWR | O_CLOEXEC);
			void *held;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			shmat(atoi(ids[i % ns]), NULL, SHM_RDONLY);
			shmat(atoi(ids[(i * 7) % ns]), NULL, SHM_RDONLY);
			held = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_SHARED,
					      fd, 0) :
					 MAP_FAILED;
			(void)held;
			(void)!write(ready[1], "x", 1);
			for (;;)
				pause();
		}
		if (kids[i] < 0) {
			n = i;
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		char c;

		(void)!read(ready[0], &c, 1);
	}
	printf("ready %d\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}
