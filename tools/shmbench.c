/* shmbench - the seed article's shared memory benchmark, extended to shmfs.
 *
 *   shmbench [--mount DIR] [--fallback-mount DIR] [--sizes LIST]
 *            [--reps N] [--csv FILE] [--plot FILE]
 *   shmbench figures --mount DIR [--fallback-mount DIR]
 *                    [--list-mount DIR --pid PID] [--bindfs DIR] [--runs N]
 *                    [--map-file FILE]
 *
 * Table 1 is the seed's method: map SIZE bytes as an int array and loop
 * write-all, read-all, REPS times; milliseconds per method (the fastest
 * of five runs, the methods taken in turn): shm_open+mmap,
 * open+mmap (a file in /var/tmp), shmget+shmat, and the same loop on a
 * MAP_SHARED mapping through the shmfs mount of a POSIX object and of a
 * System V segment (msync'd at the end, so the bytes reach the segment),
 * then through --fallback-mount (a mount with -o passthrough=off), and the
 * mount's two columns as ratios to the native column of their kind.
 * Table 2 is read()/write() throughput through the mount against the same
 * POSIX object read or written directly in /dev/shm.
 *
 * `figures` prints the make bench lines: each figure as a ratio to its
 * reference, raw numbers beside it, the median of --runs runs.  The
 * 10,000-segment listing and the daemon's RSS use --list-mount, a daemon
 * (pid --pid) that serves nothing else, so that its RSS is its own and not
 * segments it attached for the throughput figures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* What this run made and must undo however it ends (exit, die, SIGINT,
 * SIGTERM; SIGPIPE is ignored, so a closed pipe only quiets the output):
 * System V segments, objects in /dev/shm, kernel.shmmni. */
static int made_ids[10016];
static volatile int n_made;
static long shmmni_restore = -1;

static void remember_id(int id)
{
	if (id >= 0 && n_made < (int)(sizeof(made_ids) / sizeof(made_ids[0])))
		made_ids[n_made++] = id;
}

/* Remove the segment remembered last. */
static void forget_last_id(void)
{
	if (n_made > 0)
		shmctl(made_ids[--n_made], IPC_RMID, NULL);
}

static void write_shmmni(long v)
{
	char text[32];
	int fd = open("/proc/sys/kernel/shmmni", O_WRONLY);
	int n = snprintf(text, sizeof(text), "%ld\n", v);

	if (fd >= 0) {
		if (write(fd, text, (size_t)n) != n)
			n = -1;
		close(fd);
	}
}

/* Async-signal-safe: syscalls only. */
static void cleanup(void)
{
	while (n_made > 0)
		shmctl(made_ids[--n_made], IPC_RMID, NULL);
	unlink("/dev/shm/shmbench-1g");
	unlink("/dev/shm/shmbench-rw");
	unlink("/dev/shm/shmbench");
	if (shmmni_restore > 0)
		write_shmmni(shmmni_restore);
	shmmni_restore = -1;
}

static void on_signal(int sig)
{
	cleanup();
	_exit(128 + sig);
}

static void die(const char *what)
{
	fprintf(stderr, "shmbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The seed's loop: write every int, read every int, reps times. */
static double loop_ms(volatile int *a, size_t size, long reps)
{
	size_t n = size / sizeof(int);
	long sum = 0;
	double t0 = now();

	for (long r = 0; r < reps; r++) {
		for (size_t i = 0; i < n; i++)
			a[i] = (int)(i + (size_t)r);
		for (size_t i = 0; i < n; i++)
			sum += a[i];
	}
	if (sum == 42) /* keep the reads */
		fputc(' ', stderr);
	return (now() - t0) * 1000;
}

/* Map fd (already sized) MAP_SHARED and time the loop, msync included. */
static double mapped_ms(int fd, size_t size, long reps)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	double t0, ms;

	if (p == MAP_FAILED)
		die("mmap");
	t0 = now();
	loop_ms(p, size, reps);
	msync(p, size, MS_SYNC);
	ms = (now() - t0) * 1000;
	munmap(p, size);
	return ms;
}

static int sized_file(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		die(path);
	return fd;
}

/* The POSIX object /shmbench, SIZE bytes, open read-write. */
static int posix_object(size_t size)
{
	int fd = shm_open("/shmbench", O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		die("shm_open");
	return fd;
}

/* Open the file `rel` (posix/NAME, sysv/ID) in the mount read-write. */
static int open_in_mount(const char *mnt, const char *rel)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", mnt, rel);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die(path);
	return fd;
}

enum {
	M_SHM_OPEN,
	M_OPEN,
	M_SHMGET,
	M_MNT_POSIX,
	M_MNT_SYSV,
	M_FB_POSIX,
	M_FB_SYSV,
	M_COUNT
};
static const char *method_names[M_COUNT] = {
	"shm_open+mmap", "open+mmap",	   "shmget",	    "shmfs posix",
	"shmfs sysv",	 "fallback posix", "fallback sysv",
};

static double run_method(int m, const char *mnt, size_t size, long reps)
{
	char path[64];
	double ms = -1;
	int fd, id;
	void *p;

	switch (m) {
	case M_SHM_OPEN:
		fd = posix_object(size);
		ms = mapped_ms(fd, size, reps);
		close(fd);
		shm_unlink("/shmbench");
		break;
	case M_OPEN:
		fd = sized_file("/var/tmp/shmbench.map", size);
		ms = mapped_ms(fd, size, reps);
		close(fd);
		unlink("/var/tmp/shmbench.map");
		break;
	case M_SHMGET:
		id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
		remember_id(id);
		p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
		if (p == (void *)-1)
			die("shmget");
		ms = loop_ms(p, size, reps);
		shmdt(p);
		forget_last_id();
		break;
	case M_FB_POSIX:
	case M_MNT_POSIX:
		close(posix_object(size));
		fd = open_in_mount(mnt, "posix/shmbench");
		ms = mapped_ms(fd, size, reps);
		close(fd);
		shm_unlink("/shmbench");
		break;
	case M_FB_SYSV:
	case M_MNT_SYSV:
		id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
		if (id < 0)
			die("shmget");
		remember_id(id);
		snprintf(path, sizeof(path), "sysv/%d", id);
		fd = open_in_mount(mnt, path);
		ms = mapped_ms(fd, size, reps);
		close(fd);
		forget_last_id();
		break;
	}
	return ms;
}

/* MB/s of reading (or writing) the whole of path in bs-byte calls. */
static double stream_mbs(const char *path, size_t total, size_t bs, bool wr)
{
	char *buf = aligned_alloc(4096, bs);
	int fd = open(path, wr ? O_WRONLY : O_RDONLY);
	size_t done = 0;
	double t0;

	if (fd < 0 || !buf)
		die(path);
	memset(buf, 'w', bs);
	t0 = now();
	while (done < total) {
		ssize_t n = wr ? pwrite(fd, buf, bs, (off_t)done) :
				 pread(fd, buf, bs, (off_t)done);

		if (n <= 0)
			die(path);
		done += (size_t)n;
	}
	if (wr)
		fsync(fd);
	t0 = now() - t0;
	close(fd);
	free(buf);
	return (double)total / MIB / t0;
}

static void make_object(const char *name, size_t size)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		die(path);
	/* Real pages, not holes: fill it. */
	char *p = mmap(NULL, size, PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, 'x', size);
	munmap(p, size);
	close(fd);
}

static size_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k':
	case 'K':
		v *= 1024;
		break;
	case 'm':
	case 'M':
		v *= MIB;
		break;
	case 'g':
	case 'G':
		v *= MIB * 1024;
		break;
	}
	return (size_t)v;
}

static void fmt_size(size_t s, char *out, size_t n)
{
	if (s >= 1 << 20)
		snprintf(out, n, "%zuM", s >> 20);
	else
		snprintf(out, n, "%zuk", s >> 10);
}

static void plot(const char *csv, const char *out)
{
	char cmd[8192];

	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		fprintf(stderr, "shmbench: no gnuplot (apt-get install "
				"gnuplot-nox): no chart\n");
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "gnuplot -e \"set terminal %s size 900,500; set output '%s';"
		 " set termoption noenhanced; set datafile separator ','; set "
		 "logscale xy; set key left;"
		 " set xlabel 'segment size (bytes)';"
		 " set ylabel 'ns per byte and pass';"
		 " set title 'write-all + read-all loop (seed method)';"
		 " plot for [c=3:9] '%s' using 1:(column(c)*1e6/(\\$1*\\$2))"
		 " with linespoints title columnheader(c)\"",
		 strstr(out, ".svg") ? "svg" : "pngcairo", out, csv);
	if (system(cmd) != 0)
		fprintf(stderr, "shmbench: gnuplot failed\n");
}

static int cmp_double(const void *a, const void *b);

#define CELL_RUNS 5

/* One row of table 1: each cell the fastest of CELL_RUNS runs, the
 * methods taken in turn within each round, so that the machine's slow and
 * fast moments fall on every method alike.  The fastest, not the median:
 * on a shared machine a run is only ever slowed down by others. */
static void method_row(const char *mnt, const char *fb_mnt, size_t size,
		       long reps, double *ms)
{
	double v[M_COUNT][CELL_RUNS];

	for (int r = 0; r < CELL_RUNS; r++) {
		for (int m = 0; m < M_COUNT; m++) {
			const char *at = m >= M_FB_POSIX ? fb_mnt : mnt;

			v[m][r] = at || m < M_MNT_POSIX ?
					  run_method(m, at, size, reps) :
					  -1;
		}
	}
	for (int m = 0; m < M_COUNT; m++) {
		qsort(v[m], CELL_RUNS, sizeof(double), cmp_double);
		ms[m] = v[m][0];
	}
}

static int tables(const char *mnt, const char *fb_mnt, const char *sizes,
		  long reps_opt, const char *csv, const char *png)
{
	double ms[M_COUNT];

	char *list = strdup(sizes), *tok, *save = NULL;
	FILE *c = NULL;
	char sz[32];

	if (csv && !(c = fopen(csv, "w")))
		die(csv);
	printf("Table 1: seed method, ms for REPS x (write all, read all)\n");
	printf("%8s %8s", "size", "reps");
	for (int m = 0; m < M_COUNT; m++)
		printf(" %14s", method_names[m]);
	printf(" %8s %8s\n", "posix/n", "sysv/n");
	if (c) {
		fprintf(c, "size,reps");
		for (int m = 0; m < M_COUNT; m++)
			fprintf(c, ",%s", method_names[m]);
		fprintf(c, "\n");
	}
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t size = parse_size(tok);
		/* About 256 MiB of loop traffic per cell unless told. */
		long reps = reps_opt > 0 ?
				    reps_opt :
				    (long)((256 * MIB) / (double)size + 0.5);

		if (reps < 1)
			reps = 1;
		fmt_size(size, sz, sizeof(sz));
		printf("%8s %8ld", sz, reps);
		if (c)
			fprintf(c, "%zu,%ld", size, reps);
		method_row(mnt, fb_mnt, size, reps, ms);
		for (int m = 0; m < M_COUNT; m++) {
			printf(" %14.1f", ms[m]);
			if (c)
				fprintf(c, ",%.3f", ms[m]);
		}
		fflush(stdout);
		/* The mount's mappings against the native ones of their
		 * kind (passthrough target: within 1.1). */
		printf(" %8.2f %8.2f\n", ms[M_MNT_POSIX] / ms[M_SHM_OPEN],
		       ms[M_MNT_SYSV] / ms[M_SHMGET]);
		if (c)
			fprintf(c, "\n");
	}
	free(list);
	if (mnt) {
		size_t total = 256 << 20;
		char via[4096];

		make_object("shmbench-rw", total);
		snprintf(via, sizeof(via), "%s/posix/shmbench-rw", mnt);
		printf("\nTable 2: read()/write() of a 256 MiB POSIX object, "
		       "MB/s\n%8s %12s %12s %12s %12s\n",
		       "block", "read direct", "read shmfs", "write direct",
		       "write shmfs");
		for (size_t bs = 4096; bs <= (1 << 20); bs *= 16) {
			fmt_size(bs, sz, sizeof(sz));
			printf("%8s %12.0f %12.0f %12.0f %12.0f\n", sz,
			       stream_mbs("/dev/shm/shmbench-rw", total, bs, 0),
			       stream_mbs(via, total, bs, 0),
			       stream_mbs("/dev/shm/shmbench-rw", total, bs, 1),
			       stream_mbs(via, total, bs, 1));
		}
		unlink("/dev/shm/shmbench-rw");
	}
	if (c)
		fclose(c);
	if (png && csv)
		plot(csv, png);
	else if (png)
		fprintf(stderr, "shmbench: --plot needs --csv\n");
	return 0;
}

/* ---- figures for make bench ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	/* v holds n >= 1 values (RUNS_MAX >= runs >= 1, checked in main). */
	// cppcheck-suppress uninitvar
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* 4 KiB preads at random offsets per second, over count reads. */
static double randread_ops(const char *path, size_t size, long count)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	uint64_t x = 12345;
	double t0;

	if (fd < 0)
		die(path);
	t0 = now();
	for (long i = 0; i < count; i++) {
		/* 64-bit LCG, high bits: every page of the file can come up. */
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		off_t off = (off_t)(((x >> 33) % (size / 4096)) * 4096);

		if (pread(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf))
			die("pread");
	}
	t0 = now() - t0;
	close(fd);
	return (double)count / t0;
}

/* stream_mbs writing 4 KiB blocks while another process stats the file
 * every 10 ms (each stat past the attribute timeout refreshes the
 * kernel's attributes, as a monitor would). */
static double stat_while(const char *path, size_t total)
{
	pid_t p = fork();
	double r;

	if (p == 0) {
		struct stat st;

		for (;;) {
			stat(path, &st);
			usleep(10000);
		}
	}
	if (p < 0)
		die("fork");
	r = stream_mbs(path, total, 4096, 1);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	return r;
}

/* open(O_RDWR) and close of path per second, over count of them. */
static double opens_per_s(const char *path, long count)
{
	double t0 = now();

	for (long i = 0; i < count; i++) {
		int fd = open(path, O_RDWR);

		if (fd < 0)
			die(path);
		close(fd);
	}
	return (double)count / (now() - t0);
}

/* Seconds for a shell command, its output thrown away. */
static double cmd_seconds(const char *cmd)
{
	char full[8192];
	double t0 = now();

	snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
	if (system(full) != 0)
		fprintf(stderr, "shmbench: '%s' failed\n", cmd);
	return now() - t0;
}

/* MB/s of cp of a size-byte file from /dev/shm into dir (a POSIX
 * directory: the mount's posix/, or /dev/shm itself). */
static double cp_mbs(const char *dir, size_t size)
{
	char cmd[8192], dst[4096];
	double t;

	make_object("shmbench-cp-src", size);
	snprintf(dst, sizeof(dst), "%s%s/shmbench-cp-dst", dir,
		 strcmp(dir, "/dev/shm") ? "/posix" : "");
	unlink(dst);
	snprintf(cmd, sizeof(cmd), "cp /dev/shm/shmbench-cp-src %s", dst);
	t = cmd_seconds(cmd);
	unlink(dst);
	unlink("/dev/shm/shmbench-cp-src");
	return (double)size / MIB / t;
}

/* MB/s of one fallocate of size bytes into a new POSIX object in dir (as
 * cp_mbs), or (punch) of punching a hole over all of a filled one. */
static double falloc_mbs(const char *dir, size_t size, bool punch)
{
	char path[4096];
	double t;
	int fd;

	snprintf(path, sizeof(path), "%s%s/shmbench-falloc", dir,
		 strcmp(dir, "/dev/shm") ? "/posix" : "");
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || (punch && fallocate(fd, 0, 0, (off_t)size) < 0))
		die(path);
	t = now();
	if (fallocate(fd,
		      punch ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : 0, 0,
		      (off_t)size) < 0)
		die("fallocate");
	t = now() - t;
	close(fd);
	unlink(path);
	return (double)size / MIB / t;
}

static void line(const char *what, double a, double b, const char *unit,
		 const char *target)
{
	printf("%-60s %6.2f %-7s (%.1f / %.1f %s)\n", what, a / b, target, a, b,
	       unit);
	fflush(stdout);
}

/* MB/s of copying all of System V segment id in bs-byte memcpy calls,
 * out of it (read) or into it (write), the attachment's pages faulted in
 * first, outside the timing: the best a native program attached to the
 * segment does, for scale. */
static double sysv_memcpy_mbs(int id, size_t total, size_t bs, bool wr)
{
	char *buf = aligned_alloc(4096, bs);
	volatile char *seg = shmat(id, NULL, 0);
	char sink = 0;
	double t0;

	if (!buf || seg == (void *)-1)
		die("shmat");
	memset(buf, 'w', bs);
	for (size_t i = 0; i < total; i += 4096)
		sink ^= seg[i];
	buf[0] = sink ? 'w' : 'w';
	t0 = now();
	for (size_t done = 0; done < total; done += bs) {
		if (wr)
			memcpy((char *)seg + done, buf, bs);
		else
			memcpy(buf, (char *)seg + done, bs);
	}
	t0 = now() - t0;
	shmdt((void *)seg);
	free(buf);
	return (double)total / MIB / t0;
}

/* The path of System V segment id's memory file, the shmem file behind
 * an attachment (/proc/self/map_files, root only): read() and write() of
 * it are the native read() and write() of the segment, the reference for
 * the mount's.  *addr is the attachment, to shmdt when done. */
static char *sysv_memfile(int id, void **addr, char *out, size_t n)
{
	struct shmid_ds ds;
	long page = sysconf(_SC_PAGESIZE);

	*addr = shmat(id, NULL, 0);
	if (*addr == (void *)-1 || shmctl(id, IPC_STAT, &ds) < 0)
		die("shmat");
	snprintf(out, n, "/proc/self/map_files/%lx-%lx",
		 (unsigned long)(uintptr_t)*addr,
		 (unsigned long)((uintptr_t)*addr +
				 ((ds.shm_segsz + (size_t)page - 1) &
				  ~((size_t)page - 1))));
	return out;
}

#define RUNS_MAX 15

/* The median of runs of f over the two paths a and b. */
#define MEDIANS(ra, rb, runs, fa, fb)                                          \
	do {                                                                   \
		double va_[RUNS_MAX], vb_[RUNS_MAX];                           \
		for (int i_ = 0; i_ < (runs); i_++) {                          \
			va_[i_] = (fa);                                        \
			vb_[i_] = (fb);                                        \
		}                                                              \
		ra = median(va_, runs);                                        \
		rb = median(vb_, runs);                                        \
	} while (0)

/* A file under the mounts' --map-dir (make bench's, on a tmpfs), 256 MiB:
 * the mapped-file write rows; NULL leaves them out. */
static const char *map_file;

/* Rows 3i-3k: write() of 256 MiB into map_file through mnt's mapped/ and
 * natively, at three block sizes. */
static void mapped_writes(const char *mnt, int runs)
{
	char via[8192];
	double a, b;

	if (!map_file)
		return;
	snprintf(via, sizeof(via), "%s/mapped%s", mnt, map_file);
	for (size_t bs = 4096; bs <= (1 << 20); bs *= 16) {
		char what[128];

		MEDIANS(a, b, runs, stream_mbs(via, 256 * MIB, bs, 1),
			stream_mbs(map_file, 256 * MIB, bs, 1));
		snprintf(what, sizeof(what),
			 "3%c write() 256 MiB mapped file, %zu KiB: mount / "
			 "native",
			 bs == 4096  ? 'i' :
			 bs == 65536 ? 'j' :
				       'k',
			 bs / 1024);
		line(what, a, b, "MB/s", ">= 0.9");
	}
}

struct data_figs {
	double read, write, sysv_write, rand, rand_native;
};

/* Figures 1-5 for one mount: reads and writes through it against the
 * same calls on the native object of the same kind (/dev/shm, the System
 * V segment's memory file), 1 GiB each. */
static void data_figures(const char *mnt, int id, int runs,
			 struct data_figs *out)
{
	const size_t gib = 1ul << 30;
	char via[4096], sysv[4096], memfile[128], io[32] = "?";
	double a, b;
	void *att;

	sysv_memfile(id, &att, memfile, sizeof(memfile));
	snprintf(via, sizeof(via), "%s/posix/shmbench-1g", mnt);
	snprintf(sysv, sizeof(sysv), "%s/sysv/%d", mnt, id);
	ssize_t n = getxattr(mnt, "user.shm.io", io, sizeof(io) - 1);
	io[n > 0 ? n : 1] = '\0';
	printf("== %s, data path: %s\n", mnt, io);
	MEDIANS(a, b, runs, stream_mbs(via, gib, 1 << 20, 0),
		stream_mbs("/dev/shm/shmbench-1g", gib, 1 << 20, 0));
	line("1 seq read 1 GiB POSIX, 1 MiB blocks: mount / /dev/shm", a, b,
	     "MB/s", ">= 0.9");
	out->read = a;
	MEDIANS(a, b, runs, stream_mbs(sysv, gib, 1 << 20, 0),
		stream_mbs(memfile, gib, 1 << 20, 0));
	line("2 seq read 1 GiB System V, read-only open: mount / native", a, b,
	     "MB/s", ">= 0.85");
	MEDIANS(a, b, runs, stream_mbs(via, gib, 1 << 20, 1),
		stream_mbs("/dev/shm/shmbench-1g", gib, 1 << 20, 1));
	line("3 seq write 1 GiB POSIX, 1 MiB blocks: mount / /dev/shm", a, b,
	     "MB/s", ">= 0.9");
	out->write = a;
	for (size_t bs = 4096; bs <= (1 << 20); bs *= 16) {
		char what[128];

		MEDIANS(a, b, runs, stream_mbs(via, 256 * MIB, bs, 1),
			stream_mbs("/dev/shm/shmbench-1g", 256 * MIB, bs, 1));
		snprintf(what, sizeof(what),
			 "3%c write() 256 MiB POSIX, %zu KiB blocks: mount / "
			 "/dev/shm",
			 bs == 4096  ? 'a' :
			 bs == 65536 ? 'b' :
				       'c',
			 bs / 1024);
		line(what, a, b, "MB/s", ">= 0.9");
	}
	mapped_writes(mnt, runs);
	MEDIANS(a, b, runs, stat_while(via, 256 * MIB),
		stat_while("/dev/shm/shmbench-1g", 256 * MIB));
	line("3d the same, 4 KiB, stat() every 10 ms meanwhile", a, b, "MB/s",
	     ">= 0.8");
	MEDIANS(a, b, runs, cp_mbs(mnt, 256 * MIB),
		cp_mbs("/dev/shm", 256 * MIB));
	line("3f cp of a 256 MiB file into posix/ / into /dev/shm", a, b,
	     "MB/s", ">= 0.9");
	MEDIANS(a, b, runs, falloc_mbs(mnt, 64 * MIB, 0),
		falloc_mbs("/dev/shm", 64 * MIB, 0));
	line("3g fallocate 64 MiB, POSIX: mount / /dev/shm", a, b, "MB/s",
	     ">= 0.83");
	MEDIANS(a, b, runs, falloc_mbs(mnt, 64 * MIB, 1),
		falloc_mbs("/dev/shm", 64 * MIB, 1));
	line("3h punch a 64 MiB hole, POSIX: mount / /dev/shm", a, b, "MB/s",
	     ">= 0.83");
	MEDIANS(a, b, runs, opens_per_s(via, 20000),
		opens_per_s("/dev/shm/shmbench-1g", 20000));
	line("3e open+close per second, POSIX: mount / /dev/shm", a, b, "ops/s",
	     ">= 0.1");
	MEDIANS(a, b, runs, stream_mbs(sysv, gib, 1 << 20, 1),
		stream_mbs(memfile, gib, 1 << 20, 1));
	line("4 seq write 1 GiB System V (via the daemon): mount / native", a,
	     b, "MB/s", ">= 0.35");
	out->sysv_write = a;
	MEDIANS(a, b, runs, randread_ops(via, gib, 100000),
		randread_ops("/dev/shm/shmbench-1g", gib, 100000));
	line("5 random 4 KiB preads per second: mount / /dev/shm", a, b,
	     "ops/s", ">= 0.8");
	out->rand = a;
	out->rand_native = b;
	shmdt(att);
}

static int figures(const char *mnt, const char *fb_mnt, const char *list_mnt,
		   pid_t daemon, const char *bindfs, int runs)
{
	const size_t gib = 1ul << 30;
	struct data_figs pt, fb;
	char bvia[4096], cmd[8192];
	double a, b;
	int id;
	void *p;

	make_object("shmbench-1g", gib);
	snprintf(bvia, sizeof(bvia), "%s/shmbench-1g", bindfs ? bindfs : "");
	id = shmget(IPC_PRIVATE, gib, IPC_CREAT | 0600);
	remember_id(id);
	p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	if (p == (void *)-1)
		die("shmget 1 GiB");
	memset(p, 's', gib);
	shmdt(p);

	printf("figure (shmfs / reference: above 1 is faster for "
	       "throughput)         ratio target  (raw)\n");
	data_figures(mnt, id, runs, &pt);
	if (fb_mnt)
		data_figures(fb_mnt, id, runs, &fb);
	MEDIANS(a, b, runs, sysv_memcpy_mbs(id, gib, 1 << 20, 0),
		sysv_memcpy_mbs(id, gib, 1 << 20, 1));
	printf("(for scale: memcpy from and to a System V attachment already "
	       "faulted in: %.0f and %.0f MB/s)\n",
	       a, b);

	/* 10,000 System V segments: ls -l through the mount vs ipcs -m. */
	FILE *f = fopen("/proc/sys/kernel/shmmni", "r");
	long shmmni = 4096;
	int listed = n_made;

	if (f) {
		if (fscanf(f, "%ld", &shmmni) != 1)
			shmmni = 4096;
		fclose(f);
	}
	if (shmmni < 11000) {
		shmmni_restore = shmmni;
		write_shmmni(32768);
	}
	for (int i = 0; i < 10000; i++) {
		int sid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);

		if (sid < 0)
			die("shmget (10,000 segments)");
		remember_id(sid);
	}
	snprintf(cmd, sizeof(cmd), "ls -l %s/sysv", list_mnt);
	printf("== listings\n");
	MEDIANS(a, b, runs,
		(sleep(1), usleep(100 * 1000), cmd_seconds(cmd) * 1000),
		cmd_seconds("ipcs -m") * 1000);
	line("6 ls -l sysv/ with 10,000 segments / ipcs -m", a, b, "ms",
	     "<= 1.0");
	if (daemon > 0) {
		char st[64], l[256];
		long hwm = -1;

		snprintf(st, sizeof(st), "/proc/%d/status", daemon);
		f = fopen(st, "r");
		while (f && fgets(l, sizeof(l), f))
			if (sscanf(l, "VmHWM: %ld kB", &hwm) == 1)
				break;
		if (f)
			fclose(f);
		printf("%-60s %6.1f MiB (<= 64; a daemon that served only "
		       "the listings)\n",
		       "7 daemon peak RSS with 10,000 segments listed",
		       hwm / 1024.0);
	}
	while (n_made > listed)
		shmctl(made_ids[--n_made], IPC_RMID, NULL);
	if (shmmni_restore > 0)
		write_shmmni(shmmni_restore);
	shmmni_restore = -1;

	if (bindfs) {
		double br, bw, brr;

		printf("== against bindfs over /dev/shm (the FUSE peer), %s\n",
		       mnt);
		MEDIANS(br, bw, runs, stream_mbs(bvia, gib, 1 << 20, 0),
			stream_mbs(bvia, gib, 1 << 20, 1));
		MEDIANS(brr, a, runs, randread_ops(bvia, gib, 100000), 0);
		line("8a seq read POSIX: shmfs / bindfs", pt.read, br, "MB/s",
		     "> 1");
		line("8b seq write POSIX: shmfs / bindfs", pt.write, bw, "MB/s",
		     "> 1");
		line("8c seq write System V (via the daemon): shmfs / bindfs",
		     pt.sysv_write, bw, "MB/s", "> 1");
		line("8d random 4 KiB preads: shmfs / bindfs", pt.rand, brr,
		     "ops/s", "> 1");
		(void)a;
	}
	shmctl(id, IPC_RMID, NULL);
	unlink("/dev/shm/shmbench-1g");
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: shmbench [--mount DIR] [--sizes 4k,16k,...] [--reps "
		"N]\n"
		"                [--csv FILE] [--plot FILE.png|.svg]\n"
		"                [--fallback-mount DIR]\n"
		"       shmbench figures --mount DIR [--fallback-mount DIR]\n"
		"                [--list-mount DIR --pid PID] [--bindfs DIR]\n"
		"                [--runs N] [--map-file FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mount", required_argument, NULL, 'm' },
		{ "sizes", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "csv", required_argument, NULL, 'c' },
		{ "plot", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, 'P' },
		{ "list-mount", required_argument, NULL, 'L' },
		{ "bindfs", required_argument, NULL, 'b' },
		{ "fallback-mount", required_argument, NULL, 'F' },
		{ "runs", required_argument, NULL, 'n' },
		{ "map-file", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *mnt = NULL, *csv = NULL, *png = NULL, *bindfs = NULL;
	const char *list_mnt = NULL, *fb_mnt = NULL;
	const char *sizes = "4k,16k,64k,256k,1M,4M,16M,32M";
	long reps = 0;
	int runs = 5, o;
	pid_t pid = 0;
	bool fig = argc > 1 && strcmp(argv[1], "figures") == 0;

	if (fig) {
		argv++;
		argc--;
	}
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'm':
			mnt = optarg;
			break;
		case 's':
			sizes = optarg;
			break;
		case 'r':
			reps = atol(optarg);
			break;
		case 'c':
			csv = optarg;
			break;
		case 'p':
			png = optarg;
			break;
		case 'P':
			pid = atoi(optarg);
			break;
		case 'L':
			list_mnt = optarg;
			break;
		case 'b':
			bindfs = optarg;
			break;
		case 'F':
			fb_mnt = optarg;
			break;
		case 'n':
			runs = atoi(optarg);
			break;
		case 'M':
			map_file = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || runs < 1 || runs > RUNS_MAX)
		usage();
	if (fig)
		return mnt ? figures(mnt, fb_mnt, list_mnt ? list_mnt : mnt,
				     pid, bindfs, runs) :
			     (usage(), 2);
	return tables(mnt, fb_mnt, sizes, reps, csv, png);
}
