// mount_mapped.cc - mapped/, who maps what (user.shm.pids, nattch, path),
// by-key/ and creation by key, with real mappers: child processes that
// mmap MAP_SHARED or shmat, then wait.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

// A process that maps a file (or attaches a segment) until destroyed.
struct Mapper : Holder {
	// fd mapped MAP_SHARED (or MAP_PRIVATE), or segment `shmid` attached.
	bool start(const std::string &path, bool shared, int shmid = -1)
	{
		return Holder::start([&] {
			if (shmid >= 0)
				return shmat(shmid, nullptr, 0) != (void *)-1;
			int fd = open(path.c_str(), O_RDWR);
			return fd >= 0 &&
			       mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
				    shared ? MAP_SHARED : MAP_PRIVATE, fd,
				    0) != MAP_FAILED;
		});
	}
};

std::string make_file(const std::string &path, const std::string &data)
{
	int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644);
	(void)!write(fd, data.data(), data.size());
	(void)!ftruncate(fd, 4096);
	close(fd);
	return path;
}

bool eventually(const std::function<bool()> &ok)
{
	for (int i = 0; i < 300; i++) {
		if (ok())
			return true;
		usleep(10000);
	}
	return false;
}

class Mapped : public MountTest {
protected:
	std::string base; // a real directory for the files of one test
	void SetUp() override
	{
		base = std::string(getenv("SHMFS_TEST_ROOT")) + "/files";
		mkdir(base.c_str(), 0755);
		MountTest::SetUp();
	}
	void TearDown() override
	{
		MountTest::TearDown();
		run("rm -rf '" + base + "'");
	}
	std::string in_mount(const std::string &real) const
	{
		return m.path("mapped" + real);
	}
};

TEST_F(Mapped, SharedMappingsAppearUnderTheirPath)
{
	// Spaces, a newline and a byte that is not UTF-8 in the name.
	std::string odd = base + "/odd name\nwith \xff byte.shm";
	std::string plain = base + "/data.shm";
	std::string priv = base + "/private.map";
	make_file(odd, "odd");
	make_file(plain, "hello");
	make_file(priv, "private");
	Mapper a, b, c;
	ASSERT_TRUE(a.start(plain, true));
	ASSERT_TRUE(b.start(odd, true));
	ASSERT_TRUE(c.start(priv, false)); // MAP_PRIVATE: not shared memory
	auto names = list_dir(in_mount(base));
	EXPECT_EQ(names, (std::vector<std::string>{
				 "data.shm", "odd name\nwith \xff byte.shm" }));
	EXPECT_EQ(read_file(in_mount(plain)).substr(0, 5), "hello");
	EXPECT_EQ(read_file(in_mount(odd)).substr(0, 3), "odd");
	std::string f = in_mount(plain);
	EXPECT_EQ(get_xattr(f, "user.shm.kind"), "mapped");
	EXPECT_EQ(get_xattr(f, "user.shm.pids"), std::to_string(a.pid));
	EXPECT_EQ(get_xattr(f, "user.shm.nattch"), "1");
	EXPECT_EQ(get_xattr(f, "user.shm.path"), plain);
	EXPECT_EQ(get_xattr(in_mount(odd), "user.shm.path"), odd);
	// Writes through the mount land in the real file.
	int fd = open(f.c_str(), O_WRONLY);
	ASSERT_EQ(pwrite(fd, "HELLO", 5, 0), 5);
	close(fd);
	EXPECT_EQ(read_file(plain).substr(0, 5), "HELLO");
	// Once nobody maps it, it drops out of the listing.
	a.stop();
	EXPECT_TRUE(eventually([&] {
		struct stat st;
		return stat(f.c_str(), &st) == -1 && errno == ENOENT;
	}));
}

TEST_F(Mapped, DeletedFilesAndPosixObjectsAreNotListedHere)
{
	std::string gone = base + "/gone.shm";
	make_file(gone, "x");
	make_posix("shmfs-test-mapped", 4096, 0600);
	Mapper a, b;
	ASSERT_TRUE(a.start(gone, true));
	ASSERT_TRUE(b.start("/dev/shm/shmfs-test-mapped", true));
	ASSERT_EQ(unlink(gone.c_str()), 0);
	struct stat st;
	EXPECT_EQ(stat(in_mount(gone).c_str(), &st), -1);
	EXPECT_EQ(stat(in_mount("/dev/shm/shmfs-test-mapped").c_str(), &st),
		  -1);
	// The POSIX object tells who maps it under posix/.
	std::string p = posix_path("shmfs-test-mapped");
	EXPECT_EQ(get_xattr(p, "user.shm.pids"), std::to_string(b.pid));
	EXPECT_EQ(get_xattr(p, "user.shm.nattch"), "1");
	EXPECT_EQ(get_xattr(p, "user.shm.path"), "/dev/shm/shmfs-test-mapped");
}

TEST_F(Mapped, SysvPidsComeFromTheMapsAndNattchFromTheKernel)
{
	int id = make_sysv(4096, 0600);
	std::string f = sysv_path(id);
	EXPECT_EQ(get_xattr(f, "user.shm.pids"), "");
	Mapper a, b;
	ASSERT_TRUE(a.start("", true, id));
	ASSERT_TRUE(b.start("", true, id));
	std::string want = std::to_string(std::min(a.pid, b.pid)) + "," +
			   std::to_string(std::max(a.pid, b.pid));
	EXPECT_EQ(get_xattr(f, "user.shm.pids"), want);
	EXPECT_EQ(get_xattr(f, "user.shm.nattch"), "2");
	EXPECT_EQ(get_xattr(f, "user.shm.nattch"), proc_sysv_row(id)["nattch"]);
	// Asking who maps it attaches nothing.
	EXPECT_EQ(proc_sysv_row(id)["nattch"], "2");
}

// How many times the daemon opens a process's maps while cmd runs.
// How many /proc/PID/maps files the daemon opened while cmd ran, counted
// by strace; -1, and a test failure, if strace did not attach to every
// thread of the daemon before cmd started.
int maps_opened(pid_t daemon, const std::string &cmd, const std::string &tmp)
{
	std::string d = std::to_string(daemon);
	std::string out = run(
		"strace -f -qq -e trace=openat -p " + d + " -o " + tmp +
		" 2>/dev/null & sp=$!; attached() { for s in /proc/" + d +
		"/task/*/status; do grep -q 'TracerPid:[[:space:]]*[1-9]' $s "
		"|| return 1; done; }; for i in $(seq 200); do attached && "
		"break; sleep 0.02; done; if attached; then { " +
		cmd +
		"; } >/dev/null 2>&1; echo attached; fi; kill -INT $sp; wait "
		"$sp; "
		"grep -c '/maps\"' " +
		tmp);
	unlink(tmp.c_str());
	if (out.rfind("attached\n", 0) != 0) {
		ADD_FAILURE() << "strace did not attach to the daemon: " << out;
		return -1;
	}
	return atoi(out.c_str() + strlen("attached\n"));
}

TEST_F(Mapped, TheProcScanHappensOnlyWhenPidsAreAsked)
{
	int id = make_sysv(4096, 0600);
	std::string tmp = m.dir + ".strace";
	// ls -l of sysv/ and posix/, and the other xattrs: no scan.
	EXPECT_EQ(maps_opened(
			  m.pid,
			  "ls -l " + m.path("sysv") + " " + m.path("posix") +
				  "; getfattr -n user.shm.nattch " +
				  sysv_path(id) +
				  "; getfattr -n user.shm.key " + sysv_path(id),
			  tmp),
		  0);
	// Asking who maps it: a scan of every process's maps.
	EXPECT_GT(maps_opened(m.pid,
			      "getfattr -n user.shm.pids " + sysv_path(id),
			      tmp),
		  1);
}

class MapDir : public Mapped {
protected:
	std::vector<std::string> mount_args() override
	{
		base = std::string(getenv("SHMFS_TEST_ROOT")) + "/files";
		mkdir(base.c_str(), 0755);
		mkdir((base + "/sub").c_str(), 0777);
		make_file(base + "/sub/unmapped.dat", "resting");
		return { "--map-dir=" + base };
	}
};

TEST_F(MapDir, EveryFileUnderAMapDirIsListed)
{
	EXPECT_EQ(list_dir(in_mount(base)), std::vector<std::string>{ "sub" });
	EXPECT_EQ(list_dir(in_mount(base + "/sub")),
		  std::vector<std::string>{ "unmapped.dat" });
	EXPECT_EQ(read_file(in_mount(base + "/sub/unmapped.dat")).substr(0, 7),
		  "resting");
	// A symlink planted there leads nowhere.
	ASSERT_EQ(symlink("/etc", (base + "/sub/escape").c_str()), 0);
	struct stat st;
	EXPECT_EQ(stat(in_mount(base + "/sub/escape/hostname").c_str(), &st),
		  -1);
	EXPECT_EQ(errno, ENOENT);
	EXPECT_EQ(list_dir(in_mount(base + "/sub")),
		  std::vector<std::string>{ "unmapped.dat" });
	// Nothing outside the visible set can be looked at.
	EXPECT_EQ(stat(m.path("mapped/etc/hostname").c_str(), &st), -1);
	EXPECT_EQ(errno, ENOENT);
}

// Mapped files map through the mount like the other kinds: MAP_SHARED
// merges with native writes to the same page, MAP_PRIVATE keeps its own.
TEST_F(MapDir, MappingsThroughTheMountMergeWithNativeOnes)
{
	std::string real = base + "/sub/shared.dat";
	make_file(real, std::string(8192, '.'));
	int nfd = open(real.c_str(), O_RDWR);
	char *native = (char *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
				    MAP_SHARED, nfd, 0);
	int fd = open(in_mount(real).c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	char *shared = (char *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
				    MAP_SHARED, fd, 0);
	char *priv = (char *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE, fd, 0);
	ASSERT_NE(shared, MAP_FAILED);
	ASSERT_NE(priv, MAP_FAILED);
	EXPECT_EQ(shared[10], '.'); // cached now
	native[10] = 'n';
	shared[11] = 's';
	priv[12] = 'p';
	ASSERT_EQ(msync(shared, 8192, MS_SYNC), 0);
	EXPECT_EQ(std::string(native + 10, 3), "ns.");
	EXPECT_EQ(read_file(real).substr(10, 3), "ns.");
	EXPECT_EQ(priv[12], 'p');
	munmap(priv, 8192);
	munmap(shared, 8192);
	munmap(native, 8192);
	close(fd);
	close(nfd);
}

// A process that maps a segment through the mount uses it as much as one
// that maps it natively: it is in user.shm.pids (and in nattch where the
// kernel keeps no count), on either data path, and the mount's own files
// never show under mapped/.
TEST_F(MapDir, MappingsThroughTheMountCountAsUsers)
{
	int id = make_sysv(8192, 0600);
	make_posix("shmfs-test-via", 8192, 0600);
	std::string real = base + "/sub/via.dat";
	make_file(real, std::string(8192, '.'));
	Mapper s, p, f, native;
	ASSERT_TRUE(s.start(sysv_path(id), true));
	ASSERT_TRUE(p.start(posix_path("shmfs-test-via"), true));
	ASSERT_TRUE(f.start(in_mount(real), true));
	ASSERT_TRUE(native.start("/dev/shm/shmfs-test-via", true));
	// A first question may be answered by a pass begun up to the
	// freshness bound (1 s, README "Busy hosts") before it, and opening
	// through mapped/ above may have begun one: ask after the bound.
	usleep(1100 * 1000);
	// The open file behind s's mapping attaches nothing in the daemon
	// (the segment's memory file): s alone maps it.
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.pids"),
		  std::to_string(s.pid));
	std::vector<pid_t> pp = { p.pid, native.pid };
	std::sort(pp.begin(), pp.end());
	EXPECT_EQ(get_xattr(posix_path("shmfs-test-via"), "user.shm.pids"),
		  std::to_string(pp[0]) + "," + std::to_string(pp[1]));
	EXPECT_EQ(get_xattr(posix_path("shmfs-test-via"), "user.shm.nattch"),
		  "2");
	EXPECT_EQ(get_xattr(in_mount(real), "user.shm.pids"),
		  std::to_string(f.pid));
	EXPECT_EQ(get_xattr(in_mount(real), "user.shm.nattch"), "1");
	// Nothing of the mount itself under mapped/.
	struct stat st;
	EXPECT_EQ(stat(in_mount(m.dir).c_str(), &st), -1);
	EXPECT_EQ(errno, ENOENT);
	std::string listing = run("find " + m.path("mapped") + " 2>&1");
	EXPECT_EQ(listing.find(m.dir + "/mapped" + m.dir), std::string::npos)
		<< listing;
	s.stop(), p.stop(), f.stop(), native.stop();
}

TEST_F(MapDir, CreateWriteChmodRmActOnTheRealFile)
{
	std::string f = in_mount(base + "/sub/new.shm");
	ASSERT_EQ(as_user(65534, 65534,
			  [&] {
				  int fd = open(f.c_str(),
						O_CREAT | O_EXCL | O_WRONLY,
						0640);
				  if (fd < 0)
					  return errno;
				  int r = write(fd, "abc", 3) == 3 ? 0 : EIO;
				  close(fd);
				  return r;
			  }),
		  0);
	struct stat st;
	ASSERT_EQ(stat((base + "/sub/new.shm").c_str(), &st), 0);
	EXPECT_EQ(st.st_uid, 65534u);
	EXPECT_EQ(st.st_mode & 07777, 0640u);
	EXPECT_EQ(read_file(base + "/sub/new.shm"), "abc");
	ASSERT_EQ(chmod(f.c_str(), 0600), 0);
	ASSERT_EQ(truncate(f.c_str(), 1), 0);
	ASSERT_EQ(stat((base + "/sub/new.shm").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0600u);
	EXPECT_EQ(st.st_size, 1);
	ASSERT_EQ(unlink(f.c_str()), 0);
	EXPECT_EQ(stat((base + "/sub/new.shm").c_str(), &st), -1);
	// Outside the map-dirs nothing is created.
	errno = 0;
	EXPECT_EQ(open(m.path("mapped/tmp/nope").c_str(), O_CREAT | O_WRONLY,
		       0600),
		  -1);
	EXPECT_EQ(errno, EPERM); // mapped/tmp is there: base is below it
	// A map-dir that disappears leaves a consistent, empty listing.
	run("rm -rf '" + base + "'");
	EXPECT_TRUE(eventually([&] {
		return stat(in_mount(base).c_str(), &st) == -1 &&
		       errno == ENOENT;
	}));
}

class ByKey : public MountTest {};

TEST_F(ByKey, OneSymlinkPerKeyedSegment)
{
	int keyed = make_sysv(4096, 0644, 0x2537);
	int priv = make_sysv(4096, 0644);
	char *p = (char *)shmat(keyed, nullptr, 0);
	strcpy(p, "by key");
	shmdt(p);
	auto names = list_dir(m.path("sysv/by-key"));
	EXPECT_NE(std::find(names.begin(), names.end(), "0x00002537"),
		  names.end());
	for (auto &n : names) // private segments have no key to be found by
		EXPECT_NE(run("readlink " + m.path("sysv/by-key/" + n)),
			  "../" + std::to_string(priv) + "\n");
	EXPECT_EQ(run("readlink " + m.path("sysv/by-key/0x00002537")),
		  "../" + std::to_string(keyed) + "\n");
	struct stat st;
	ASSERT_EQ(lstat(m.path("sysv/by-key/0x00002537").c_str(), &st), 0);
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_EQ(read_file(m.path("sysv/by-key/0x00002537")).substr(0, 6),
		  "by key");
	EXPECT_EQ(stat(m.path("sysv/by-key/0x0000dead").c_str(), &st), -1);
	EXPECT_EQ(errno, ENOENT);
}

TEST_F(ByKey, EchoCreatesASegmentSizedByItsFirstWrite)
{
	EXPECT_EQ(run("echo hello > " + m.path("sysv/by-key/0x1234") +
		      " && echo ok"),
		  "ok\n");
	int id = shmget(0x1234, 0, 0);
	ASSERT_GE(id, 0);
	shmids.push_back(id);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_segsz, 6u);
	char *p = (char *)shmat(id, nullptr, SHM_RDONLY);
	EXPECT_EQ(std::string(p, 6), "hello\n");
	shmdt(p);
	EXPECT_EQ(read_file(m.path("sysv/by-key/0x1234")), "hello\n");
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.key"), "0x00001234");
	// The key is taken now.
	errno = 0;
	EXPECT_EQ(open(m.path("sysv/by-key/0x1234").c_str(),
		       O_CREAT | O_EXCL | O_WRONLY, 0600),
		  -1);
	EXPECT_EQ(errno, EEXIST);
}

TEST_F(ByKey, TruncateFixesTheSizeAndTheCallerOwnsIt)
{
	EXPECT_EQ(as_user(65534, 65534,
			  [&] {
				  std::string f = m.path("sysv/by-key/0x5678");
				  int fd = open(f.c_str(),
						O_CREAT | O_EXCL | O_WRONLY,
						0640);
				  if (fd < 0)
					  return errno;
				  close(fd);
				  // Pending until sized: a file of size 0.
				  struct stat st;
				  if (stat(f.c_str(), &st) || st.st_size != 0)
					  return 90;
				  return truncate(f.c_str(), 1 << 20) ? errno :
									0;
			  }),
		  0);
	int id = shmget(0x5678, 0, 0);
	ASSERT_GE(id, 0);
	shmids.push_back(id);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_segsz, 1u << 20);
	EXPECT_EQ(ds.shm_perm.uid, 65534u);
	EXPECT_EQ(ds.shm_perm.gid, 65534u);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0640u);
	// Until the kernel's entry expires the name is the file it was, with
	// the segment's attributes; then it is the link.
	struct stat st;
	ASSERT_EQ(stat(m.path("sysv/by-key/0x5678").c_str(), &st), 0);
	EXPECT_EQ(st.st_size, 1 << 20);
	EXPECT_TRUE(eventually([&] {
		return run("readlink " + m.path("sysv/by-key/0x5678")) ==
		       "../" + std::to_string(id) + "\n";
	}));
	// Bad keys are refused.
	for (const char *bad : { "0x0", "0xZZ", "1234", "0x123456789" }) {
		errno = 0;
		EXPECT_EQ(
			open(m.path(std::string("sysv/by-key/") + bad).c_str(),
			     O_CREAT | O_WRONLY, 0600),
			-1)
			<< bad;
		EXPECT_EQ(errno, EINVAL) << bad;
	}
	// rm by key removes the segment, as ipcrm -M does.
	ASSERT_EQ(unlink(m.path("sysv/by-key/0x5678").c_str()), 0);
	EXPECT_EQ(shmget(0x5678, 0, 0), -1);
}

} // namespace
