// mount_mmap.cc - mappings of files in the mount against native attachers:
// what reaches whom, and how soon (the bounds the README's table states).
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

// Milliseconds until *p == want, or -1 after limit_ms.
double wait_for(volatile char *p, char want, double limit_ms)
{
	double us = wait_for_value(p, want, limit_ms * 1e3, 200);
	return us < 0 ? -1 : us / 1e3;
}

// A System V segment attached natively and mapped through the mount.
struct Pair {
	int id = -1;
	volatile char *native = nullptr, *mapped = nullptr;
	int fd = -1;
	bool open(const std::string &mnt, int flags = MAP_SHARED)
	{
		id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
		native = (volatile char *)shmat(id, nullptr, 0);
		fd = ::open((mnt + "/sysv/" + std::to_string(id)).c_str(),
			    O_RDWR);
		void *m = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, flags, fd,
			       0);
		mapped = m == MAP_FAILED ? nullptr : (volatile char *)m;
		return id >= 0 && fd >= 0 && mapped;
	}
	~Pair()
	{
		if (mapped)
			munmap((void *)mapped, 8192);
		if (fd >= 0)
			close(fd);
		if (native)
			shmdt((void *)native);
		if (id >= 0)
			shmctl(id, IPC_RMID, nullptr);
	}
};

class Mmap : public MountTest {};

// The default refresh (100 ms) bounds both directions; the test allows
// 1 s so that a loaded machine does not fail it.
TEST_F(Mmap, NativeWritesReachAMappingWithinTheRefresh)
{
	Pair p;
	ASSERT_TRUE(p.open(m.dir));
	EXPECT_EQ(p.mapped[0], 0); // faulted in: the kernel caches the page
	p.native[0] = 'N';
	double ms = wait_for(p.mapped, 'N', 1000);
	printf("# native -> mapping through the mount: %.0f ms\n", ms);
	EXPECT_GE(ms, 0);
	// And read() and every new open see it at once.
	EXPECT_EQ(read_file(sysv_path(p.id)).substr(0, 1), "N");
}

TEST_F(Mmap, MappedWritesReachTheSegmentWithinTheRefresh)
{
	Pair p;
	ASSERT_TRUE(p.open(m.dir));
	p.mapped[100] = 'M';
	double ms = wait_for(p.native + 100, 'M', 1000);
	printf("# mapping through the mount -> native: %.0f ms\n", ms);
	EXPECT_GE(ms, 0);
}

// read() on a descriptor held open is answered from the same cached pages
// as a mapping: it follows native writes within the refresh too.
TEST_F(Mmap, HeldOpenReadSeesNativeWritesWithinTheRefresh)
{
	Pair p;
	ASSERT_TRUE(p.open(m.dir));
	char c = 1;
	ASSERT_EQ(pread(p.fd, &c, 1, 7), 1);
	EXPECT_EQ(c, 0);
	p.native[7] = 'R';
	double t0 = now_ms();
	while (c != 'R' && now_ms() - t0 < 1000) {
		usleep(200);
		ASSERT_EQ(pread(p.fd, &c, 1, 7), 1);
	}
	printf("# native -> read() on a descriptor held open: %.0f ms\n",
	       now_ms() - t0);
	EXPECT_EQ(c, 'R');
}

TEST_F(Mmap, PosixObjectsToo)
{
	make_posix("shmfs-test-mmap", 8192, 0600);
	int nfd = shm_open("/shmfs-test-mmap", O_RDWR, 0);
	volatile char *native = (volatile char *)mmap(
		nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, nfd, 0);
	int fd = open(posix_path("shmfs-test-mmap").c_str(), O_RDWR);
	volatile char *mapped = (volatile char *)mmap(
		nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE((void *)mapped, MAP_FAILED);
	EXPECT_EQ(mapped[10], 0);
	native[10] = 'P';
	EXPECT_GE(wait_for(mapped + 10, 'P', 1000), 0);
	mapped[20] = 'Q';
	EXPECT_GE(wait_for(native + 20, 'Q', 1000), 0);
	munmap((void *)mapped, 8192);
	munmap((void *)native, 8192);
	close(fd);
	close(nfd);
}

sigjmp_buf bus_jump;
volatile sig_atomic_t bus_seen;

void on_bus(int)
{
	bus_seen = bus_seen + 1;
	siglongjmp(bus_jump, 1);
}

// A POSIX object shrunk and regrown natively, again and again, while a
// client writes through a mapping of the mount and another reads through
// the mount: the client gets SIGBUS past the end, as natively; the daemon
// (which merges write-backs into a mapping of its own) keeps serving and
// exits cleanly.
TEST_F(Mmap, TruncationUnderAMappingLeavesTheDaemonServing)
{
	const size_t size = 1 << 20;
	make_posix("shmfs-test-shrink", size, 0600);
	std::string path = posix_path("shmfs-test-shrink");
	int out[2];
	ASSERT_EQ(pipe(out), 0);
	pid_t client = fork();
	if (client == 0) {
		signal(SIGBUS, on_bus);
		int fd = open(path.c_str(), O_RDWR);
		volatile char *map = (volatile char *)mmap(
			nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			0);
		if (map == MAP_FAILED)
			_exit(2);
		volatile long stores = 0;
		volatile unsigned r = 1;
		double t0 = now_ms();
		while (now_ms() - t0 < 2000) {
			r = r * 1103515245 + 12345;
			size_t at = (r >> 8) % size;
			if (sigsetjmp(bus_jump, 1) == 0) {
				map[at] = (char)r;
				stores = stores + 1;
				if (stores % 64 == 0)
					msync((void *)(map +
						       (at & ~(size_t)4095)),
					      4096, MS_SYNC);
			}
		}
		long res[2] = { stores, (long)bus_seen };
		if (write(out[1], res, sizeof(res)) != sizeof(res))
			_exit(3);
		_exit(0);
	}
	close(out[1]);
	int nfd = shm_open("/shmfs-test-shrink", O_RDWR, 0);
	ASSERT_GE(nfd, 0);
	unsigned r = 7;
	long reads = 0, read_errors = 0;
	double t0 = now_ms();
	while (now_ms() - t0 < 2000) {
		r = r * 1103515245 + 12345;
		ASSERT_EQ(ftruncate(nfd, (off_t)((r >> 8) % size)), 0);
		std::string got = read_file(path); // short now, never an error
		reads++;
		read_errors += got.size() > size;
		ASSERT_EQ(ftruncate(nfd, (off_t)size), 0);
		usleep(500);
	}
	long res[2] = { 0, 0 };
	EXPECT_EQ(read(out[0], res, sizeof(res)), (ssize_t)sizeof(res));
	int st = 0;
	ASSERT_EQ(waitpid(client, &st, 0), client);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
	printf("# %ld stores through the mapping, %ld SIGBUS in the client; "
	       "%ld reads through the mount meanwhile\n",
	       res[0], res[1], reads);
	EXPECT_GT(res[0], 0);
	EXPECT_EQ(read_errors, 0);
	// Still serving, and the object is whole.
	EXPECT_EQ(waitpid(m.pid, &st, WNOHANG), 0);
	EXPECT_EQ(read_file(path).size(), size);
	EXPECT_EQ(list_dir(m.dir),
		  (std::vector<std::string>{ "events", "mapped", "posix",
					     "segments", "shmfs.prom", "sysv",
					     "unused" }));
	close(nfd);
	close(out[0]);
}

// The page cache path's own mechanism (write-back at msync/fsync/close,
// the kept pages), on that path whatever the run: with passthrough there
// is no cache to write back.
class MmapNoRefresh : public MountTest {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "-o", "refresh=0", "-o", "passthrough=off" };
	}
};

// Without the refresh, write-back happens when the caller asks for it.
TEST_F(MmapNoRefresh, MsyncAndFsyncWriteBackAtOnce)
{
	Pair p;
	ASSERT_TRUE(p.open(m.dir));
	p.mapped[1] = 'a';
	ASSERT_EQ(msync((void *)p.mapped, 8192, MS_SYNC), 0);
	EXPECT_EQ(p.native[1], 'a');
	p.mapped[2] = 'b';
	ASSERT_EQ(fsync(p.fd), 0);
	EXPECT_EQ(p.native[2], 'b');
	// ...and nothing else: a native change stays unseen by the mapping
	// (this is what the refresh is for).
	p.native[3] = 'c';
	EXPECT_EQ(wait_for(p.mapped + 3, 'c', 300), -1);
}

// O_DIRECT reads go around the cached pages: native writes at once.
TEST_F(MmapNoRefresh, ODirectReadsSeeNativeWritesAtOnce)
{
	Pair p;
	ASSERT_TRUE(p.open(m.dir));
	int dfd = open(sysv_path(p.id).c_str(), O_RDONLY | O_DIRECT);
	ASSERT_GE(dfd, 0);
	char c = 1, d = 1;
	ASSERT_EQ(pread(p.fd, &c, 1, 9), 1);
	ASSERT_EQ(pread(dfd, &d, 1, 9), 1);
	EXPECT_EQ(c, 0);
	EXPECT_EQ(d, 0);
	p.native[9] = 'D';
	ASSERT_EQ(pread(dfd, &d, 1, 9), 1);
	EXPECT_EQ(d, 'D');
	ASSERT_EQ(pread(p.fd, &c, 1, 9), 1);
	EXPECT_EQ(c, 0); // the cached page, with no refresh to drop it
	close(dfd);
}

TEST_F(MmapNoRefresh, CloseWritesBack)
{
	Pair p;
	ASSERT_TRUE(p.open(m.dir));
	p.mapped[5] = 'z';
	munmap((void *)p.mapped, 8192);
	p.mapped = nullptr;
	close(p.fd);
	p.fd = -1;
	EXPECT_GE(wait_for(p.native + 5, 'z', 1000), 0);
}

// A page written back from the mount changes only the bytes the mapping
// changed: native writes to the same page since the kernel read it stay.
TEST_F(MmapNoRefresh, WriteBackKeepsNativeBytesOfTheSamePage)
{
	Pair p;
	ASSERT_TRUE(p.open(m.dir));
	EXPECT_EQ(p.mapped[0], 0); // the page is cached now
	p.native[1] = 'N';
	p.native[4095] = 'E';
	p.mapped[2] = 'M';
	p.mapped[4094] = 'm';
	ASSERT_EQ(msync((void *)p.mapped, 8192, MS_SYNC), 0);
	EXPECT_EQ(std::string((const char *)p.native, 4),
		  std::string("\0NM\0", 4));
	EXPECT_EQ(p.native[4094], 'm');
	EXPECT_EQ(p.native[4095], 'E');
	// A write() through the mount is in the kernel's page too: a later
	// write-back of that page neither repeats nor undoes it.
	int fd = open(sysv_path(p.id).c_str(), O_WRONLY);
	ASSERT_EQ(pwrite(fd, "W", 1, 3), 1);
	close(fd);
	EXPECT_EQ(p.mapped[3], 'W');
	p.native[3] = 'n'; // natively after it
	p.mapped[5] = '5';
	ASSERT_EQ(msync((void *)p.mapped, 8192, MS_SYNC), 0);
	EXPECT_EQ(p.native[3], 'n');
	EXPECT_EQ(p.native[5], '5');
}

TEST_F(MmapNoRefresh, WriteBackOfPosixObjectsKeepsNativeBytesToo)
{
	make_posix("shmfs-test-merge", 8192, 0600);
	int nfd = shm_open("/shmfs-test-merge", O_RDWR, 0);
	char *native = (char *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
				    MAP_SHARED, nfd, 0);
	int fd = open(posix_path("shmfs-test-merge").c_str(), O_RDWR);
	char *mapped = (char *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
				    MAP_SHARED, fd, 0);
	ASSERT_NE(mapped, MAP_FAILED);
	EXPECT_EQ(mapped[4096], 0);
	memset(native + 4096, 'n', 100);
	memset(mapped + 4196, 'm', 100);
	ASSERT_EQ(fsync(fd), 0);
	EXPECT_EQ(std::string(native + 4096, 200),
		  std::string(100, 'n') + std::string(100, 'm'));
	munmap(mapped, 8192);
	munmap(native, 8192);
	close(fd);
	close(nfd);
}

// A segment removed natively while mapped through the mount keeps
// working through that mapping, as a native attachment does.
TEST_F(Mmap, ARemovedSegmentKeepsWorkingThroughItsMapping)
{
	Pair p;
	ASSERT_TRUE(p.open(m.dir));
	ASSERT_EQ(shmctl(p.id, IPC_RMID, nullptr), 0);
	p.mapped[30] = 'r';
	ASSERT_EQ(msync((void *)p.mapped, 8192, MS_SYNC), 0);
	EXPECT_EQ(p.native[30], 'r');
	p.native[31] = 'R';
	EXPECT_GE(wait_for(p.mapped + 31, 'R', 1000), 0);
	p.id = -1; // gone already
}

TEST_F(Mmap, PrivateMappingsSeeTheBytesAndKeepTheirWrites)
{
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	char *seg = (char *)shmat(id, nullptr, 0);
	strcpy(seg, "seen");
	int fd = open(sysv_path(id).c_str(), O_RDWR);
	char *priv = (char *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE, fd, 0);
	ASSERT_NE(priv, MAP_FAILED);
	EXPECT_EQ(std::string(priv, 4), "seen");
	priv[0] = 'X';
	ASSERT_EQ(msync(priv, 8192, MS_SYNC), 0);
	usleep(300 * 1000); // past a refresh
	EXPECT_EQ(seg[0], 's');
	EXPECT_EQ(priv[0], 'X');
	munmap(priv, 8192);
	close(fd);
	shmdt(seg);
	shmctl(id, IPC_RMID, nullptr);
}

TEST_F(Mmap, BadRefreshIsAStartUpError)
{
	std::string bin = getenv("SHMFS_BIN");
	EXPECT_EQ(run(bin + " -o refresh=-5 /tmp 2>&1; echo rc=$?"),
		  "shmfs: refresh must be >= 0 (milliseconds)\nrc=1\n");
}

} // namespace
