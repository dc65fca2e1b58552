// mount_passthrough.cc - a mapping through the mount is the segment's own
// memory (FUSE passthrough), for each kind, against native users: the same
// physical page, stores seen at once both ways, atomics exact, a
// process-shared semaphore that wakes the other side.  On the fallback run
// (SHMFS_TEST_PASSTHROUGH=off) the same tests check what the page cache
// path promises instead: a copy of the segment, kept in step within the
// refresh period.  Also: System V's fixed size, removal while mapped,
// kill -9 of the daemon under mappings, huge pages.
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

const size_t kSize = 64 * 1024;

// Microseconds until *p == want (spinning), or -1 after limit_us.
double wait_for(volatile uint64_t *p, uint64_t want, double limit_us)
{
	return wait_for_value(p, want, limit_us);
}

// The physical frame behind a mapped address (root reads pagemap).
uint64_t pfn_of(const volatile void *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	long page = sysconf(_SC_PAGESIZE);
	off_t at = (off_t)((uintptr_t)p / (uintptr_t)page * sizeof(e));
	if (fd < 0 || pread(fd, &e, sizeof(e), at) != (ssize_t)sizeof(e))
		e = 0;
	if (fd >= 0)
		close(fd);
	return (e >> 63) ? (e & ((1ull << 55) - 1)) : 0;
}

// One segment of a kind: the native side and the side through the mount,
// both mapped MAP_SHARED.
struct Sides {
	volatile char *native = nullptr;
	volatile char *mounted = nullptr;
	std::string file; // in the mount
	int fd = -1;
	size_t size = kSize;

	bool map_mounted(int flags = O_RDWR)
	{
		fd = open(file.c_str(), flags);
		if (fd < 0)
			return false;
		int prot = PROT_READ |
			   ((flags & O_ACCMODE) == O_RDONLY ? 0 : PROT_WRITE);
		void *p = mmap(nullptr, size, prot, MAP_SHARED, fd, 0);
		mounted = p == MAP_FAILED ? nullptr : (volatile char *)p;
		return mounted != nullptr;
	}
	~Sides()
	{
		if (mounted)
			munmap((void *)mounted, size);
		if (fd >= 0)
			close(fd);
	}
};

class Passthrough : public MountTest {
protected:
	std::string mapdir;
	std::vector<std::string> mount_args() override
	{
		char tmpl[] = "/tmp/shmfs-pt-map.XXXXXX";
		mapdir = mkdtemp(tmpl) ? tmpl : "/tmp";
		return { "--map-dir=" + mapdir };
	}
	void TearDown() override
	{
		MountTest::TearDown();
		run("rm -rf '" + mapdir + "'");
	}

	// Whether this mount passes through: what the run asked for, and
	// what the kernel granted (the daemon says so, once, at start).
	bool on_passthrough()
	{
		std::string root = get_xattr(m.dir, "user.shm.io");
		if (!passthrough_wanted()) {
			EXPECT_EQ(root, "fallback");
			return false;
		}
		if (root != "passthrough") {
			EXPECT_FALSE(kernel_may_pass_through())
				<< "this kernel has FUSE passthrough, but the "
				   "mount is on the fallback; daemon log:\n"
				<< read_file(m.log);
			return false;
		}
		EXPECT_NE(read_file(m.log).find("passthrough: on"),
			  std::string::npos);
		return true;
	}

	void make_sides(const std::string &kind, Sides *s)
	{
		if (kind == "sysv") {
			int id = make_sysv(s->size, 0600);
			void *p = shmat(id, nullptr, 0);
			ASSERT_NE(p, (void *)-1);
			s->native = (volatile char *)p;
			s->file = sysv_path(id);
		} else {
			std::string path;
			int fd;
			if (kind == "posix") {
				make_posix("shmfs-test-pt", s->size, 0600);
				path = "/dev/shm/shmfs-test-pt";
				s->file = posix_path("shmfs-test-pt");
			} else {
				path = mapdir + "/data";
				fd = open(path.c_str(), O_CREAT | O_RDWR, 0600);
				ASSERT_GE(fd, 0);
				ASSERT_EQ(ftruncate(fd, (off_t)s->size), 0);
				close(fd);
				s->file = m.path("mapped" + path);
			}
			fd = open(path.c_str(), O_RDWR);
			ASSERT_GE(fd, 0);
			void *p = mmap(nullptr, s->size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);
			close(fd);
			ASSERT_NE(p, MAP_FAILED);
			s->native = (volatile char *)p;
		}
		ASSERT_TRUE(s->map_mounted())
			<< s->file << ": " << strerror(errno);
	}

	void same_memory(const std::string &kind);
};

void unmap_native(const std::string &kind, Sides &s)
{
	if (kind == "sysv")
		shmdt((const void *)s.native);
	else
		munmap((void *)s.native, s.size);
}

// 10M + 10M atomic adds, one process on each side, on the word at off.
uint64_t racing_adds(volatile char *a, volatile char *b, size_t off, long each)
{
	volatile uint64_t *wa = (volatile uint64_t *)(a + off);
	volatile uint64_t *wb = (volatile uint64_t *)(b + off);
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			volatile uint64_t *w = k ? wb : wa;
			for (long i = 0; i < each; i++)
				__atomic_fetch_add(w, 1, __ATOMIC_RELAXED);
			_exit(0);
		}
	}
	for (pid_t k : kids)
		waitpid(k, nullptr, 0);
	return __atomic_load_n(wa, __ATOMIC_SEQ_CST);
}

// A process-shared semaphore in the segment, initialised on side `init`,
// waited on by a child on side `waiter`, posted from side `poster`: true
// if the post wakes the wait within 5 s.
bool sem_wakes(volatile char *init, volatile char *waiter,
	       volatile char *poster, size_t off)
{
	sem_t *si = (sem_t *)(init + off);
	if (sem_init(si, 1, 0) != 0)
		return false;
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return false;
	pid_t kid = fork();
	if (kid == 0) {
		close(pipefd[0]);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		int r = sem_timedwait((sem_t *)(waiter + off), &until);
		char c = r == 0 ? 'w' : 'x';
		(void)!write(pipefd[1], &c, 1);
		_exit(0);
	}
	close(pipefd[1]);
	// The child blocks in the futex: wait until it sleeps there.
	std::string stat = "/proc/" + std::to_string(kid) + "/wchan";
	for (int i = 0;
	     i < 500 && read_file(stat).find("futex") == std::string::npos; i++)
		usleep(10 * 1000);
	sem_post((sem_t *)(poster + off));
	char c = 0;
	(void)!read(pipefd[0], &c, 1);
	close(pipefd[0]);
	waitpid(kid, nullptr, 0);
	return c == 'w';
}

void Passthrough::same_memory(const std::string &kind)
{
	Sides s;
	make_sides(kind, &s);
	if (HasFatalFailure())
		return;
	bool pt = on_passthrough();
	volatile uint64_t *nat = (volatile uint64_t *)s.native;
	volatile uint64_t *mnt = (volatile uint64_t *)s.mounted;
	EXPECT_EQ(get_xattr(s.file, "user.shm.io"),
		  pt ? "passthrough" : "fallback");
	mnt[0] = 1; // fault both pages in
	nat[1] = 1;
	uint64_t pn = pfn_of(s.native), pm = pfn_of(s.mounted);
	ASSERT_NE(pn, 0u);
	ASSERT_NE(pm, 0u);
	if (!pt) {
		// A copy in the FUSE inode's page cache, in step within the
		// refresh period (100 ms by default; 2 s allowed here).
		EXPECT_NE(pn, pm);
		__atomic_store_n(&nat[8], 0x1234, __ATOMIC_RELEASE);
		double us = wait_for(&mnt[8], 0x1234, 2e6);
		printf("# %s, fallback: native -> mount %.0f us\n",
		       kind.c_str(), us);
		EXPECT_GE(us, 0);
		unmap_native(kind, s);
		return;
	}
	// One page, both ways, no msync.
	EXPECT_EQ(pn, pm);
	double worst = 0;
	for (uint64_t i = 1; i <= 1000; i++) {
		__atomic_store_n(&nat[8], i, __ATOMIC_RELEASE);
		double a = wait_for(&mnt[8], i, 1e6);
		__atomic_store_n(&mnt[16], i, __ATOMIC_RELEASE);
		double b = wait_for(&nat[16], i, 1e6);
		ASSERT_GE(a, 0) << "native -> mount, round " << i;
		ASSERT_GE(b, 0) << "mount -> native, round " << i;
		worst = std::max(worst, std::max(a, b));
	}
	printf("# %s: 1000 stores each way seen without msync, slowest "
	       "%.1f us\n",
	       kind.c_str(), worst);
	EXPECT_LT(worst, 100000.0); // bounded in microseconds, not a refresh
	// Atomics exact across the two sides.
	uint64_t total = racing_adds(s.native, s.mounted, 4096, 10000000);
	printf("# %s: 10M + 10M atomic adds ended at %llu\n", kind.c_str(),
	       (unsigned long long)total);
	EXPECT_EQ(total, 20000000u);
	// A process-shared semaphore wakes the other side, both ways.
	EXPECT_TRUE(sem_wakes(s.native, s.mounted, s.native, 8192))
		<< "native post -> wait through the mount";
	EXPECT_TRUE(sem_wakes(s.mounted, s.native, s.mounted, 12288))
		<< "post through the mount -> native wait";
	unmap_native(kind, s);
}

TEST_F(Passthrough, SysvMappingIsTheSegment)
{
	same_memory("sysv");
}

TEST_F(Passthrough, PosixMappingIsTheObject)
{
	same_memory("posix");
}

TEST_F(Passthrough, MappedFileMappingIsTheFile)
{
	same_memory("mapped");
}

// The seeds' producer and consumer, with their semaphores inside the
// segment: the producer maps the object through the mount, the consumer
// maps it natively; every record arrives, in order, with no msync.
TEST_F(Passthrough, ProducerConsumerWithSemaphoresInTheSegment)
{
	Sides s;
	make_sides("posix", &s);
	if (HasFatalFailure())
		return;
	if (!on_passthrough())
		GTEST_SKIP() << "fallback-pass: futexes need the same memory "
				"(the fallback's producer and consumer are in "
				"mount_usecases.cc)";
	struct Ring {
		sem_t full, empty;
		uint64_t slot[16];
	};
	Ring *prod = (Ring *)s.mounted, *cons = (Ring *)s.native;
	ASSERT_EQ(sem_init(&prod->full, 1, 0), 0);
	ASSERT_EQ(sem_init(&prod->empty, 1, 16), 0);
	const uint64_t n = 20000;
	pid_t kid = fork();
	if (kid == 0) {
		for (uint64_t i = 1; i <= n; i++) {
			sem_wait(&prod->empty);
			prod->slot[i % 16] = i * 2654435761u;
			sem_post(&prod->full);
		}
		_exit(0);
	}
	uint64_t bad = 0;
	for (uint64_t i = 1; i <= n; i++) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 10;
		ASSERT_EQ(sem_timedwait(&cons->full, &until), 0)
			<< "record " << i << " never came";
		bad += cons->slot[i % 16] != i * 2654435761u;
		sem_post(&cons->empty);
	}
	int st = 0;
	waitpid(kid, &st, 0);
	EXPECT_EQ(bad, 0u);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("# %llu records through semaphores in the segment\n",
	       (unsigned long long)n);
	unmap_native("posix", s);
}

// The size of a segment's memory file, from a native attachment's entry
// in /proc/self/map_files (root may open it).
off_t memfile_size(int id)
{
	void *p = shmat(id, nullptr, SHM_RDONLY);
	if (p == (void *)-1)
		return -1;
	std::ifstream maps("/proc/self/maps");
	std::string line;
	off_t size = -1;
	char start[32];
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)p);
	while (std::getline(maps, line)) {
		if (line.rfind(start, 0) != 0)
			continue;
		std::string range = line.substr(0, line.find(' '));
		struct stat st;
		if (stat(("/proc/self/map_files/" + range).c_str(), &st) == 0)
			size = st.st_size;
		break;
	}
	shmdt(p);
	return size;
}

sigjmp_buf bus_jump;
void on_bus(int)
{
	siglongjmp(bus_jump, 1);
}

// A store past the end of a mapping: SIGBUS, as natively.
bool store_bus(volatile char *p)
{
	struct sigaction sa = {}, old;
	sa.sa_handler = on_bus;
	sigaction(SIGBUS, &sa, &old);
	bool bus = false;
	if (sigsetjmp(bus_jump, 1))
		bus = true;
	else
		*p = 'x';
	sigaction(SIGBUS, &old, nullptr);
	return bus;
}

TEST_F(Passthrough, SysvKeepsItsSizeThroughAWritableOpen)
{
	const size_t size = 3 * 4096 + 100;
	int id = make_sysv(size, 0600);
	on_passthrough();
	ASSERT_EQ(memfile_size(id), (off_t)size);
	int fd = open(sysv_path(id).c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(pwrite(fd, "abcdef", 6, size - 2), 2); // what fits
	errno = 0;
	EXPECT_EQ(pwrite(fd, "x", 1, size), -1);
	EXPECT_EQ(errno, ENOSPC);
	errno = 0;
	EXPECT_EQ(pwrite(fd, "y", 1, 1 << 30), -1);
	EXPECT_EQ(errno, ENOSPC);
	EXPECT_EQ(ftruncate(fd, size + 1), -1);
	EXPECT_EQ(errno, EFBIG);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_segsz, size);
	EXPECT_EQ(memfile_size(id), (off_t)size);
	EXPECT_EQ(sysv_bytes(id).substr(size - 2), "ab");
	// Mapped past the end: SIGBUS on the page after the last, as
	// natively (the last page's tail is addressable, as natively).
	void *p = mmap(nullptr, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_FALSE(store_bus((volatile char *)p + 4 * 4096 - 1));
	EXPECT_TRUE(store_bus((volatile char *)p + 5 * 4096));
	munmap(p, 8 * 4096);
	// A write through the mount: read back natively at once.
	EXPECT_EQ(pwrite(fd, "MOUNT", 5, 100), 5);
	EXPECT_EQ(sysv_bytes(id).substr(100, 5), "MOUNT");
	close(fd);
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_segsz, size);
	EXPECT_EQ(memfile_size(id), (off_t)size);
}

// Reads (cat, cp) go straight to the segment; a writer's write() reaches
// a reader's mapping through the mount at once.
TEST_F(Passthrough, ReadersAndWritersShareOneBackingFile)
{
	int id = make_sysv(kSize, 0600);
	bool pt = on_passthrough();
	std::string data = pattern(kSize, 7);
	int w = open(sysv_path(id).c_str(), O_WRONLY);
	ASSERT_GE(w, 0);
	ASSERT_EQ(pwrite(w, data.data(), data.size(), 0), (ssize_t)kSize);
	EXPECT_EQ(read_file(sysv_path(id)), data);
	int r = open(sysv_path(id).c_str(), O_RDONLY);
	ASSERT_GE(r, 0);
	volatile char *map = (volatile char *)mmap(nullptr, kSize, PROT_READ,
						   MAP_SHARED, r, 0);
	ASSERT_NE((void *)map, MAP_FAILED);
	EXPECT_EQ(map[5], data[5]);
	ASSERT_EQ(pwrite(w, "Z", 1, 5), 1);
	if (pt) {
		EXPECT_EQ(map[5], 'Z');
	}
	// Many opens at once of one inode: one backing file, no EIO.
	std::vector<int> fds;
	for (int i = 0; i < 64; i++) {
		int fd = open(sysv_path(id).c_str(), i % 2 ? O_RDWR : O_RDONLY);
		EXPECT_GE(fd, 0) << "open " << i << ": " << strerror(errno);
		fds.push_back(fd);
	}
	for (int fd : fds)
		if (fd >= 0)
			close(fd);
	munmap((void *)map, kSize);
	close(r);
	close(w);
	EXPECT_EQ(sysv_bytes(id)[5], 'Z');
}

// Opens and closes do not leak the daemon's descriptors or backing ids.
TEST_F(Passthrough, OpenCloseCyclesLeakNothing)
{
	int id = make_sysv(kSize, 0600);
	make_posix("shmfs-test-cycle", kSize, 0600);
	auto fds = [&] {
		return list_dir("/proc/" + std::to_string(m.pid) + "/fd")
			.size();
	};
	for (int i = 0; i < 5; i++)
		read_file(sysv_path(id)); // warm up the daemon's threads
	size_t before = fds();
	for (int i = 0; i < 500; i++) {
		int a = open(sysv_path(id).c_str(), i % 2 ? O_RDWR : O_RDONLY);
		int b = open(posix_path("shmfs-test-cycle").c_str(), O_RDWR);
		EXPECT_GE(a, 0);
		EXPECT_GE(b, 0);
		close(a);
		close(b);
	}
	// Releases are asynchronous: wait for them (5 s at most).
	for (int i = 0; i < 500 && fds() > before + 1; i++)
		usleep(10 * 1000);
	EXPECT_LE(fds(), before + 1);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_nattch, 0u);
}

// Removed while open and mapped through the mount: the mapping and the
// descriptor keep working, as natively.
TEST_F(Passthrough, RemovedWhileMappedKeepsWorking)
{
	for (std::string kind : { "sysv", "posix" }) {
		SCOPED_TRACE(kind);
		Sides s;
		make_sides(kind, &s);
		if (HasFatalFailure())
			return;
		bool pt = on_passthrough();
		if (kind == "sysv") {
			int id =
				std::stoi(s.file.substr(s.file.rfind('/') + 1));
			ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
		} else {
			ASSERT_EQ(shm_unlink("/shmfs-test-pt"), 0);
			posix.clear();
		}
		s.mounted[10] = 'm';
		s.native[11] = 'n';
		if (pt) {
			EXPECT_EQ(s.native[10], 'm');
			EXPECT_EQ(s.mounted[11], 'n');
		}
		char buf[2];
		EXPECT_EQ(pread(s.fd, buf, 2, 10), 2);
		EXPECT_EQ(std::string(buf, 1), "m");
		EXPECT_EQ(pwrite(s.fd, "W", 1, 20), 1);
		if (pt) {
			EXPECT_EQ(s.native[20], 'W');
		}
		unmap_native(kind, s);
	}
}

// kill -9 of the daemon under mappings of the mount: on the passthrough
// path the mappings are the segments' own pages and keep working; the
// segments are intact; a new daemon mounts over the dead mount point.
TEST_F(Passthrough, DaemonKilledUnderMappings)
{
	Sides sv, px;
	make_sides("sysv", &sv);
	make_sides("posix", &px);
	if (HasFatalFailure())
		return;
	bool pt = on_passthrough();
	strcpy((char *)sv.mounted, "before");
	strcpy((char *)px.mounted, "before");
	ASSERT_EQ(msync((void *)sv.mounted, 4096, MS_SYNC), 0);
	ASSERT_EQ(msync((void *)px.mounted, 4096, MS_SYNC), 0);
	kill(m.pid, SIGKILL);
	int st;
	waitpid(m.pid, &st, 0);
	m.pid = -1;
	EXPECT_EQ(std::string((const char *)sv.native), "before");
	EXPECT_EQ(std::string((const char *)px.native), "before");
	if (pt) {
		strcpy((char *)sv.mounted + 100, "after");
		strcpy((char *)px.mounted + 100, "after");
		EXPECT_EQ(std::string((const char *)sv.native + 100), "after");
		EXPECT_EQ(std::string((const char *)px.native + 100), "after");
		sv.native[200] = 'N';
		EXPECT_EQ(sv.mounted[200], 'N');
	}
	unmap_native("sysv", sv);
	unmap_native("posix", px);
	// The mount went away with the daemon (auto-unmount) or is dead:
	// either way a new daemon mounts there.
	std::string err;
	ASSERT_TRUE(m.start({}, &err)) << err;
	int id = std::stoi(sv.file.substr(sv.file.rfind('/') + 1));
	EXPECT_EQ(read_file(sysv_path(id)).substr(0, 6), "before");
}

// A System V segment on huge pages: passed through or served by the
// fallback, never EIO; its bytes the same both ways.
TEST_F(Passthrough, HugePageSegment)
{
	std::string old = read_file("/proc/sys/vm/nr_hugepages");
	ASSERT_FALSE(old.empty());
	run("echo 4 > /proc/sys/vm/nr_hugepages");
	struct Restore {
		std::string v;
		~Restore()
		{
			run("echo " + v + " > /proc/sys/vm/nr_hugepages");
		}
	} restore{ old.substr(0, old.find('\n')) };
	long huge = 2 * 1024 * 1024;
	int id = shmget(IPC_PRIVATE, huge, IPC_CREAT | SHM_HUGETLB | 0600);
	if (id < 0 && (errno == ENOMEM || errno == EPERM))
		GTEST_SKIP() << "no huge pages could be reserved here ("
			     << strerror(errno) << ")";
	ASSERT_GE(id, 0) << strerror(errno);
	shmids.push_back(id);
	char *nat = (char *)shmat(id, nullptr, 0);
	ASSERT_NE(nat, (char *)-1);
	memcpy(nat + 5, "native", 6);
	int fd = open(sysv_path(id).c_str(), O_RDWR);
	ASSERT_GE(fd, 0) << strerror(errno);
	char buf[6];
	EXPECT_EQ(pread(fd, buf, 6, 5), 6) << strerror(errno);
	EXPECT_EQ(std::string(buf, 6), "native");
	EXPECT_EQ(pwrite(fd, "MOUNT", 5, 100), 5) << strerror(errno);
	EXPECT_EQ(std::string(nat + 100, 5), "MOUNT");
	void *p =
		mmap(nullptr, huge, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		EXPECT_EQ(std::string((char *)p + 5, 6), "native");
		munmap(p, huge);
	} else {
		EXPECT_NE(errno, EIO);
	}
	std::string path = get_xattr(sysv_path(id), "user.shm.io");
	printf("# huge page segment: %s while open\n", path.c_str());
	close(fd);
	EXPECT_EQ(read_file(sysv_path(id)).substr(5, 6), "native");
	shmdt(nat);
}

} // namespace
