// mount_io.cc - reading and writing segments through the mount, compared
// byte for byte with what native attachers see.
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "harness.h"

using namespace shmfs_test;

namespace {

class Io : public MountTest {};

void sysv_put(int id, size_t off, const std::string &data)
{
	char *p = (char *)shmat(id, nullptr, 0);
	ASSERT_NE(p, (char *)-1);
	memcpy(p + off, data.data(), data.size());
	shmdt(p);
}

void posix_put(const std::string &name, size_t off, const std::string &data)
{
	int fd = shm_open(("/" + name).c_str(), O_RDWR, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pwrite(fd, data.data(), data.size(), (off_t)off),
		  (ssize_t)data.size());
	close(fd);
}

TEST_F(Io, SysvReadsTheLiveBytesOnEveryOpen)
{
	int id = make_sysv(100000, 0600);
	std::string a = pattern(100000, 1), b = pattern(100000, 2);
	sysv_put(id, 0, a);
	EXPECT_EQ(read_file(sysv_path(id)), a);
	sysv_put(id, 0, b);
	EXPECT_EQ(read_file(sysv_path(id)), b);
	// cat and dd read the same bytes as the native attacher.
	std::string want = std::string(getenv("SHMFS_TEST_ROOT")) + "/want";
	int fd = open(want.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ASSERT_EQ(write(fd, b.data(), b.size()), (ssize_t)b.size());
	close(fd);
	EXPECT_EQ(run("cat " + sysv_path(id) + " | cmp - " + want +
		      " && echo same"),
		  "same\n");
	EXPECT_EQ(run("dd if=" + sysv_path(id) +
		      " bs=7000 status=none | cmp - " + want + " && echo same"),
		  "same\n");
	unlink(want.c_str());
}

TEST_F(Io, PosixReadsTheLiveBytesOnEveryOpen)
{
	make_posix("shmfs-test-live", 70000, 0600);
	std::string a = pattern(70000, 3), b = pattern(70000, 4);
	posix_put("shmfs-test-live", 0, a);
	EXPECT_EQ(read_file(posix_path("shmfs-test-live")), a);
	posix_put("shmfs-test-live", 0, b);
	EXPECT_EQ(read_file(posix_path("shmfs-test-live")), b);
}

TEST_F(Io, PosixGrownNativelyIsReadWhole)
{
	make_posix("shmfs-test-grow", 10, 0600);
	EXPECT_EQ(read_file(posix_path("shmfs-test-grow")).size(), 10u);
	std::string big = pattern(50000, 5);
	posix_put("shmfs-test-grow", 0, big);
	EXPECT_EQ(read_file(posix_path("shmfs-test-grow")), big);
	int fd = shm_open("/shmfs-test-grow", O_RDWR, 0);
	ASSERT_EQ(ftruncate(fd, 100), 0);
	close(fd);
	EXPECT_EQ(read_file(posix_path("shmfs-test-grow")), big.substr(0, 100));
}

TEST_F(Io, WritesReachNativeAttachers)
{
	int id = make_sysv(8192, 0600);
	make_posix("shmfs-test-w", 8192, 0600);
	std::string d = pattern(3000, 6);
	for (std::string f : { sysv_path(id), posix_path("shmfs-test-w") }) {
		int fd = open(f.c_str(), O_WRONLY);
		ASSERT_GE(fd, 0) << f;
		EXPECT_EQ(pwrite(fd, d.data(), d.size(), 1000), 3000) << f;
		close(fd);
	}
	std::string s = sysv_bytes(id);
	EXPECT_EQ(s.substr(1000, 3000), d);
	EXPECT_EQ(s.substr(0, 1000), std::string(1000, '\0'));
	int fd = shm_open("/shmfs-test-w", O_RDONLY, 0);
	char buf[3000];
	EXPECT_EQ(pread(fd, buf, 3000, 1000), 3000);
	EXPECT_EQ(std::string(buf, 3000), d);
	close(fd);
}

TEST_F(Io, SysvWritesStopAtTheEndWithENOSPC)
{
	int id = make_sysv(4096, 0600);
	int fd = open(sysv_path(id).c_str(), O_WRONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(pwrite(fd, "0123456789", 10, 4090), 6);
	errno = 0;
	EXPECT_EQ(pwrite(fd, "0123456789", 10, 4096), -1);
	EXPECT_EQ(errno, ENOSPC);
	errno = 0;
	EXPECT_EQ(pwrite(fd, "x", 1, 1ll << 62), -1);
	EXPECT_EQ(errno, ENOSPC);
	close(fd);
	EXPECT_EQ(sysv_bytes(id).substr(4090), "012345");
	// A copy larger than the segment fills it and then fails.
	std::string out = run("(head -c 10000 /dev/zero | tr '\\0' 'z' > " +
			      sysv_path(id) + ") 2>&1; echo rc=$?");
	EXPECT_NE(out.find("No space left on device"), std::string::npos)
		<< out;
	EXPECT_EQ(sysv_bytes(id), std::string(4096, 'z'));
}

TEST_F(Io, SysvTruncateZeroesTheTailAndNeverResizes)
{
	int id = make_sysv(4096, 0600);
	std::string p = pattern(4096, 7);
	sysv_put(id, 0, p);
	ASSERT_EQ(truncate(sysv_path(id).c_str(), 100), 0);
	std::string s = sysv_bytes(id);
	EXPECT_EQ(s.substr(0, 100), p.substr(0, 100));
	EXPECT_EQ(s.substr(100), std::string(3996, '\0'));
	struct stat st;
	ASSERT_EQ(stat(sysv_path(id).c_str(), &st), 0);
	EXPECT_EQ(st.st_size, 4096);
	errno = 0;
	EXPECT_EQ(truncate(sysv_path(id).c_str(), 4097), -1);
	EXPECT_EQ(errno, EFBIG);
	EXPECT_EQ(truncate(sysv_path(id).c_str(), 4096), 0);
	EXPECT_EQ(sysv_bytes(id).substr(0, 100), p.substr(0, 100));
}

TEST_F(Io, EchoIntoASysvSegment)
{
	int id = make_sysv(64, 0600);
	sysv_put(id, 0, std::string(64, 'x'));
	run("echo hi > " + sysv_path(id));
	EXPECT_EQ(sysv_bytes(id), std::string("hi\n") + std::string(61, '\0'));
	// dd conv=notrunc leaves the rest alone.
	run("printf AB | dd of=" + sysv_path(id) +
	    " bs=1 seek=10 conv=notrunc status=none");
	EXPECT_EQ(sysv_bytes(id).substr(0, 12),
		  std::string("hi\n") + std::string(7, '\0') + "AB");
}

TEST_F(Io, PosixGrowsAndShrinksLikeAFile)
{
	make_posix("shmfs-test-sz", 0, 0600);
	std::string f = posix_path("shmfs-test-sz");
	struct stat st;
	ASSERT_EQ(truncate(f.c_str(), 10000), 0);
	ASSERT_EQ(stat("/dev/shm/shmfs-test-sz", &st), 0);
	EXPECT_EQ(st.st_size, 10000);
	ASSERT_EQ(truncate(f.c_str(), 10), 0);
	ASSERT_EQ(stat("/dev/shm/shmfs-test-sz", &st), 0);
	EXPECT_EQ(st.st_size, 10);
	int fd = open(f.c_str(), O_WRONLY);
	EXPECT_EQ(pwrite(fd, "hello", 5, 20000), 5);
	close(fd);
	ASSERT_EQ(stat("/dev/shm/shmfs-test-sz", &st), 0);
	EXPECT_EQ(st.st_size, 20005);
	run("echo hi > " + f);
	EXPECT_EQ(read_file("/dev/shm/shmfs-test-sz"), "hi\n");
}

TEST_F(Io, PosixCreateHonoursExclusiveAndMode)
{
	posix.push_back("shmfs-test-new");
	std::string f = posix_path("shmfs-test-new");
	int fd = open(f.c_str(), O_CREAT | O_EXCL | O_RDWR, 0640);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(write(fd, "abc", 3), 3);
	close(fd);
	struct stat st;
	ASSERT_EQ(stat("/dev/shm/shmfs-test-new", &st), 0);
	EXPECT_EQ(st.st_mode, (mode_t)(S_IFREG | 0640));
	EXPECT_EQ(st.st_uid, getuid());
	EXPECT_EQ(read_file("/dev/shm/shmfs-test-new"), "abc");
	errno = 0;
	EXPECT_EQ(open(f.c_str(), O_CREAT | O_EXCL | O_RDWR, 0640), -1);
	EXPECT_EQ(errno, EEXIST);
	fd = open(f.c_str(), O_CREAT | O_RDWR, 0600);
	EXPECT_GE(fd, 0);
	close(fd);
	// shm_open sees the object the mount made.
	fd = shm_open("/shmfs-test-new", O_RDONLY, 0);
	EXPECT_GE(fd, 0);
	close(fd);
}

TEST_F(Io, CpLoadsAConfigIntoSharedMemory)
{
	posix.push_back("shmfs-test-config");
	std::string src = std::string(getenv("SHMFS_TEST_ROOT") ?
					      getenv("SHMFS_TEST_ROOT") :
					      "/tmp") +
			  "/config.json";
	std::string data = pattern(100 * 1024, 8);
	int fd = open(src.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	ASSERT_EQ(write(fd, data.data(), data.size()), (ssize_t)data.size());
	close(fd);
	EXPECT_EQ(run("cp " + src + " " + posix_path("shmfs-test-config") +
		      " && echo ok"),
		  "ok\n");
	fd = shm_open("/shmfs-test-config", O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	void *p = mmap(nullptr, data.size(), PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(std::string((char *)p, data.size()), data);
	munmap(p, data.size());
	close(fd);
	unlink(src.c_str());
}

TEST_F(Io, CreationsThatCannotBe)
{
	errno = 0;
	EXPECT_EQ(open(m.path("sysv/12345678").c_str(), O_CREAT | O_RDWR, 0600),
		  -1);
	EXPECT_EQ(errno, EPERM);
	errno = 0;
	EXPECT_EQ(open(m.path("newkind").c_str(), O_CREAT | O_RDWR, 0600), -1);
	EXPECT_EQ(errno, EPERM);
	// Only posix/ has names of its own to make, link and remove.
	for (std::string d :
	     { m.path("sysv"), m.path("unused/posix"), m.dir }) {
		errno = 0;
		EXPECT_EQ(mkdir((d + "/d").c_str(), 0755), -1) << d;
		EXPECT_EQ(errno, EPERM) << d;
		errno = 0;
		EXPECT_EQ(mkfifo((d + "/fifo").c_str(), 0600), -1) << d;
		EXPECT_EQ(errno, EPERM) << d;
		errno = 0;
		EXPECT_EQ(symlink("x", (d + "/l").c_str()), -1) << d;
		EXPECT_EQ(errno, EPERM) << d;
	}
	errno = 0;
	EXPECT_EQ(rmdir(m.path("posix").c_str()), -1);
	EXPECT_EQ(errno, EPERM);
	make_posix("shmfs-test-ln", 1, 0600);
	errno = 0;
	EXPECT_EQ(link(posix_path("shmfs-test-ln").c_str(),
		       m.path("sysv/1").c_str()),
		  -1);
	EXPECT_EQ(errno, EXDEV);
}

// A System V segment is tmpfs memory of a fixed size: fallocate within it
// succeeds, a punched hole gives its pages back (zeros, natively too),
// allocating past the end is ENOSPC as a write there; SEEK_DATA/SEEK_HOLE
// answer as its memory file does.
TEST_F(Io, FallocateAndSeekOnASystemVSegment)
{
	int id = make_sysv(4 * 65536, 0600);
	char *p = (char *)shmat(id, nullptr, 0);
	ASSERT_NE(p, (char *)-1);
	memset(p, 'x', 4 * 65536);
	int fd = open(sysv_path(id).c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(fallocate(fd, 0, 0, 65536), 0);
	EXPECT_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    65536, 65536),
		  0);
	EXPECT_EQ(lseek(fd, 0, SEEK_DATA), 0);
	EXPECT_EQ(lseek(fd, 65536, SEEK_DATA), 2 * 65536);
	EXPECT_EQ(lseek(fd, 0, SEEK_HOLE), 65536);
	errno = 0;
	EXPECT_EQ(lseek(fd, 4 * 65536, SEEK_DATA), -1);
	EXPECT_EQ(errno, ENXIO);
	// (Reading a hole of shared memory fills it: after the seeks.)
	EXPECT_EQ(p[65536], 0);
	EXPECT_EQ(p[2 * 65536 - 1], 0);
	EXPECT_EQ(p[65535], 'x');
	EXPECT_EQ(p[2 * 65536], 'x');
	errno = 0;
	EXPECT_EQ(fallocate(fd, 0, 3 * 65536, 2 * 65536), -1);
	EXPECT_EQ(errno, ENOSPC);
	errno = 0;
	EXPECT_EQ(fallocate(fd, FALLOC_FL_KEEP_SIZE, 4 * 65536, 1), -1);
	EXPECT_EQ(errno, ENOSPC);
	// A hole past the end changes nothing and succeeds.
	EXPECT_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    4 * 65536, 65536),
		  0);
	struct stat st;
	ASSERT_EQ(fstat(fd, &st), 0);
	EXPECT_EQ(st.st_size, 4 * 65536);
	close(fd);
	int ro = open(sysv_path(id).c_str(), O_RDONLY);
	errno = 0;
	EXPECT_EQ(fallocate(ro, 0, 0, 10), -1);
	EXPECT_EQ(errno, EBADF);
	close(ro);
	shmdt(p);
}

TEST_F(Io, AbsurdOffsetsAndSizes)
{
	make_posix("shmfs-test-abs", 100, 0600);
	int id = make_sysv(4096, 0600);
	char buf[16];
	for (std::string f : { sysv_path(id), posix_path("shmfs-test-abs") }) {
		int fd = open(f.c_str(), O_RDWR);
		ASSERT_GE(fd, 0);
		EXPECT_EQ(pread(fd, buf, sizeof(buf), 1ll << 62), 0) << f;
		EXPECT_EQ(pread(fd, buf, sizeof(buf), 4096), 0) << f;
		close(fd);
	}
	// Whatever /dev/shm does natively (tmpfs takes offsets up to 2^63-1),
	// the mount does the same: same result, same errno, same size.
	int nfd = shm_open("/shmfs-test-abs", O_RDWR, 0);
	int fd = open(posix_path("shmfs-test-abs").c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	for (long long off : std::vector<long long>{
		     1ll << 40, 1ll << 62, INT64_MAX - 1, INT64_MAX }) {
		errno = 0;
		ssize_t want = pwrite(nfd, "x", 1, (off_t)off);
		int want_err = errno;
		ASSERT_EQ(ftruncate(nfd, 100), 0);
		errno = 0;
		EXPECT_EQ(pwrite(fd, "x", 1, (off_t)off), want) << off;
		EXPECT_EQ(errno, want_err) << off;
	}
	for (long long len : std::vector<long long>{ 1ll << 62, INT64_MAX }) {
		errno = 0;
		int want = ftruncate(nfd, (off_t)len);
		int want_err = errno;
		ASSERT_EQ(ftruncate(nfd, 100), 0);
		errno = 0;
		EXPECT_EQ(truncate(posix_path("shmfs-test-abs").c_str(), len),
			  want)
			<< len;
		EXPECT_EQ(errno, want_err) << len;
		ASSERT_EQ(ftruncate(nfd, 100), 0);
	}
	close(fd);
	close(nfd);
	struct stat st;
	ASSERT_EQ(stat("/dev/shm/shmfs-test-abs", &st), 0);
	EXPECT_EQ(st.st_size, 100);
}

TEST_F(Io, OneLargeWrite)
{
	make_posix("shmfs-test-big", 0, 0600);
	std::string d = pattern(16 << 20, 9);
	int fd = open(posix_path("shmfs-test-big").c_str(), O_WRONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(write(fd, d.data(), d.size()), (ssize_t)d.size());
	close(fd);
	EXPECT_EQ(read_file("/dev/shm/shmfs-test-big") == d, true);
	EXPECT_EQ(read_file(posix_path("shmfs-test-big")) == d, true);
}

TEST_F(Io, RemovedWhileOpenKeepsWorkingThroughTheHandle)
{
	int id = make_sysv(4096, 0600);
	make_posix("shmfs-test-gone", 4096, 0600);
	int sfd = open(sysv_path(id).c_str(), O_RDWR);
	int pfd = open(posix_path("shmfs-test-gone").c_str(), O_RDWR);
	ASSERT_GE(sfd, 0);
	ASSERT_GE(pfd, 0);
	ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	ASSERT_EQ(shm_unlink("/shmfs-test-gone"), 0);
	char buf[5] = { 0 };
	for (int fd : { sfd, pfd }) {
		EXPECT_EQ(pwrite(fd, "still", 5, 10), 5);
		EXPECT_EQ(pread(fd, buf, 5, 10), 5);
		EXPECT_EQ(std::string(buf, 5), "still");
		struct stat st;
		EXPECT_EQ(fstat(fd, &st), 0);
		EXPECT_EQ(st.st_size, 4096);
	}
	// An open through the mount attaches nothing (its bytes are the
	// segment's memory file): as for a removed tmpfs file, the name is
	// gone at once and the open file keeps the bytes.
	EXPECT_TRUE(proc_sysv_row(id).empty());
	close(sfd);
	close(pfd);
}

TEST_F(Io, SegmentVanishingBetweenReaddirAndOpen)
{
	int id = make_sysv(4096, 0600);
	make_posix("shmfs-test-vanish", 10, 0600);
	auto names = list_dir(m.path("sysv"));
	ASSERT_NE(std::find(names.begin(), names.end(), std::to_string(id)),
		  names.end());
	ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	ASSERT_EQ(shm_unlink("/shmfs-test-vanish"), 0);
	// The kernel may still hold the names for up to the attr timeout.
	errno = 0;
	EXPECT_EQ(open(sysv_path(id).c_str(), O_RDONLY), -1);
	EXPECT_EQ(errno, ENOENT);
	errno = 0;
	EXPECT_EQ(open(posix_path("shmfs-test-vanish").c_str(), O_RDONLY), -1);
	EXPECT_EQ(errno, ENOENT);
}

// A name removed natively while the kernel still holds it (within the
// entry timeout) is made anew by an open with O_CREAT, as on /dev/shm
// itself: the same calls on both, then the same bytes and inodes apart.
TEST_F(Io, OCreatAfterANativeRemovalMakesTheNameAgain)
{
	for (const std::string &dir :
	     { std::string("/dev/shm"), m.path("posix") }) {
		const std::string name = "shmfs-test-again";
		const std::string f = dir + "/" + name;
		posix.push_back(name);
		make_posix(name, 10, 0600);
		struct stat before, after;
		ASSERT_EQ(stat(f.c_str(), &before), 0) << f; // cached now
		ASSERT_EQ(shm_unlink(("/" + name).c_str()), 0);
		int fd = open(f.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0640);
		ASSERT_GE(fd, 0) << f << ": " << strerror(errno);
		EXPECT_EQ(write(fd, "new", 3), 3);
		close(fd);
		EXPECT_EQ(read_file("/dev/shm/" + name), "new") << f;
		ASSERT_EQ(stat(("/dev/shm/" + name).c_str(), &after), 0);
		EXPECT_EQ(after.st_mode, (mode_t)(S_IFREG | 0640)) << f;
		// Without O_CREAT, a removed name is not found.
		ASSERT_EQ(stat(f.c_str(), &before), 0);
		ASSERT_EQ(shm_unlink(("/" + name).c_str()), 0);
		errno = 0;
		EXPECT_EQ(open(f.c_str(), O_RDWR), -1) << f;
		EXPECT_EQ(errno, ENOENT) << f;
	}
	// As two other users, against the same calls natively: nobody
	// makes the name again after root removed it, and a second user's
	// O_CREAT open of nobody's file answers as on /dev/shm.
	std::map<std::string, std::vector<int>> got;
	// open(O_CREAT | O_WRONLY) of f as uid: 0 or its errno.
	auto create_as = [](uid_t uid, const std::string &f) {
		return as_user(uid, uid, [&] {
			int fd = open(f.c_str(), O_CREAT | O_WRONLY, 0600);
			if (fd < 0)
				return errno;
			close(fd);
			return 0;
		});
	};
	for (const std::string &dir :
	     { std::string("/dev/shm"), m.path("posix") }) {
		const std::string name = "shmfs-test-again-u";
		const std::string f = dir + "/" + name;
		posix.push_back(name);
		make_posix(name, 10, 0644);
		got[dir].push_back(as_user(65534, 65534, [&] {
			struct stat st;
			return stat(f.c_str(), &st) == 0 ? 0 : errno;
		}));
		shm_unlink(("/" + name).c_str());
		got[dir].push_back(create_as(65534, f));
		struct stat st;
		got[dir].push_back(stat(("/dev/shm/" + name).c_str(), &st) ==
						   0 ?
					   (int)st.st_uid :
					   -errno);
		got[dir].push_back(create_as(65533, f));
		shm_unlink(("/" + name).c_str());
	}
	EXPECT_EQ(got["/dev/shm"], (std::vector<int>{ 0, 0, 65534, EACCES }));
	EXPECT_EQ(got[m.path("posix")], got["/dev/shm"]);
}

TEST_F(Io, TruncatedUnderAReaderGivesAShortRead)
{
	make_posix("shmfs-test-shrink", 1 << 20, 0600);
	posix_put("shmfs-test-shrink", 0, pattern(1 << 20, 10));
	int fd = open(posix_path("shmfs-test-shrink").c_str(), O_RDONLY);
	ASSERT_GE(fd, 0);
	int nfd = shm_open("/shmfs-test-shrink", O_RDWR, 0);
	ASSERT_EQ(ftruncate(nfd, 4096), 0);
	close(nfd);
	std::string buf(65536, '\0');
	EXPECT_EQ(pread(fd, &buf[0], buf.size(), 0), 4096);
	EXPECT_EQ(buf.substr(0, 4096), pattern(1 << 20, 10).substr(0, 4096));
	EXPECT_EQ(pread(fd, &buf[0], buf.size(), 512 * 1024), 0);
	close(fd);
	// The daemon is still serving.
	EXPECT_EQ(read_file(posix_path("shmfs-test-shrink")),
		  pattern(1 << 20, 10).substr(0, 4096));
}

// shmbench runs every method of the seed's table through this mount and
// writes its CSV (a smoke test: nothing here is timed).
TEST_F(Io, ShmbenchRunsEveryMethod)
{
	std::string bin = getenv("SHMFS_BIN");
	std::string bench = bin.substr(0, bin.rfind('/')) + "/shmbench";
	std::string csv = m.dir + ".csv";
	// (This run's mount stands in for the fallback mount too.)
	EXPECT_EQ(run(bench + " --mount " + m.dir + " --fallback-mount " +
		      m.dir + " --sizes 4k,64k --reps 2 --csv " + csv +
		      " >/dev/null 2>&1; echo $?"),
		  "0\n");
	std::string out = read_file(csv);
	EXPECT_EQ(out.substr(0, out.find('\n')),
		  "size,reps,shm_open+mmap,open+mmap,shmget,shmfs posix,"
		  "shmfs sysv,fallback posix,fallback sysv");
	EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
	EXPECT_EQ(out.find(",-"), std::string::npos) << out; // none failed
	unlink(csv.c_str());
}

} // namespace
