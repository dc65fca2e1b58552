// mount_unused.cc - unused/: the segments nobody uses, found and cleaned
// with ls, find and rm, against real holders (processes that attach, map
// natively or through the mount, or hold a descriptor).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

bool map_shared(const std::string &path)
{
	int fd = open(path.c_str(), O_RDWR);
	return fd >= 0 && mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0) != MAP_FAILED;
}

class Unused : public MountTest {
protected:
	std::string link(const std::string &rel)
	{
		return m.path("unused/" + rel);
	}
	// Whether rel is listed in unused/ (after the 1 s the scan is kept).
	bool listed(const std::string &dir, const std::string &name)
	{
		std::vector<std::string> v = list_dir(m.path("unused/" + dir));
		return std::find(v.begin(), v.end(), name) != v.end();
	}
	void past_the_scan()
	{
		usleep(1100 * 1000);
	}
};

TEST_F(Unused, ListsWhatNobodyUsesAndNothingElse)
{
	int idle = make_sysv(4096, 0600), attached = make_sysv(4096, 0600),
	    via_mount = make_sysv(4096, 0600), dest = make_sysv(4096, 0600);
	for (const char *n :
	     { "shmfs-test-idle", "shmfs-test-mapped", "shmfs-test-open",
	       "shmfs-test-mountmap", "shmfs-test-mountopen" })
		make_posix(n, 4096, 0600);
	Holder h1, h2, h3, h4, h5, h6;
	ASSERT_TRUE(h1.start(
		[&] { return shmat(attached, nullptr, 0) != (void *)-1; }));
	ASSERT_TRUE(h2.start([&] { return map_shared(sysv_path(via_mount)); }));
	ASSERT_TRUE(h3.start(
		[&] { return map_shared("/dev/shm/shmfs-test-mapped"); }));
	ASSERT_TRUE(h4.start([&] {
		return open("/dev/shm/shmfs-test-open", O_RDONLY) >= 0;
	}));
	ASSERT_TRUE(h5.start(
		[&] { return map_shared(posix_path("shmfs-test-mountmap")); }));
	ASSERT_TRUE(h6.start([&] {
		return open(posix_path("shmfs-test-mountopen").c_str(),
			    O_RDONLY) >= 0;
	}));
	void *p = shmat(dest, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	ASSERT_EQ(shmctl(dest, IPC_RMID, nullptr), 0);
	past_the_scan();
	EXPECT_TRUE(listed("sysv", std::to_string(idle)));
	EXPECT_FALSE(listed("sysv", std::to_string(attached)));
	EXPECT_FALSE(listed("sysv", std::to_string(via_mount)));
	EXPECT_FALSE(listed("sysv", std::to_string(dest)));
	EXPECT_TRUE(listed("posix", "shmfs-test-idle"));
	EXPECT_FALSE(listed("posix", "shmfs-test-mapped"));
	EXPECT_FALSE(listed("posix", "shmfs-test-open"));
	EXPECT_FALSE(listed("posix", "shmfs-test-mountmap"));
	EXPECT_FALSE(listed("posix", "shmfs-test-mountopen"));
	// The links lead to the segments' files.
	char target[64] = { 0 };
	ASSERT_GT(readlink(link("sysv/" + std::to_string(idle)).c_str(), target,
			   sizeof(target) - 1),
		  0);
	EXPECT_EQ(std::string(target), "../../sysv/" + std::to_string(idle));
	struct stat st;
	ASSERT_EQ(stat(link("posix/shmfs-test-idle").c_str(), &st), 0);
	EXPECT_EQ(st.st_size, 4096); // through the link: the object
	shmdt(p);
}

// The link's mtime is the segment's last use; find -mmin +60 finds what has
// been idle for an hour and -delete removes exactly that.
TEST_F(Unused, FindMminDeleteCleansWhatIsIdle)
{
	make_posix("shmfs-test-old", 4096, 0600);
	make_posix("shmfs-test-new", 4096, 0600);
	struct timespec old[2] = { { time(nullptr) - 7200, 0 },
				   { time(nullptr) - 7200, 0 } };
	ASSERT_EQ(utimensat(AT_FDCWD, "/dev/shm/shmfs-test-old", old, 0), 0);
	int used = make_sysv(4096, 0600);
	void *p = shmat(used, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	shmdt(p); // dtime: now
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(used, IPC_STAT, &ds), 0);
	struct stat st;
	ASSERT_EQ(lstat(link("sysv/" + std::to_string(used)).c_str(), &st), 0);
	EXPECT_EQ(st.st_mtime, ds.shm_dtime);
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_EQ(lstat(link("posix/shmfs-test-old").c_str(), &st), 0);
	EXPECT_EQ(st.st_mtime, old[1].tv_sec);
	EXPECT_EQ(run("find " + m.path("unused") +
		      " -mmin +60 -name 'shmfs-test-*'"),
		  link("posix/shmfs-test-old") + "\n");
	EXPECT_EQ(run("find " + m.path("unused") +
		      " -mmin +60 -name 'shmfs-test-*' -delete; echo $?"),
		  "0\n");
	EXPECT_NE(access("/dev/shm/shmfs-test-old", F_OK), 0);
	EXPECT_EQ(access("/dev/shm/shmfs-test-new", F_OK), 0);
	EXPECT_EQ(shmctl(used, IPC_STAT, &ds), 0);
}

// rm of a link removes the segment only if it is still unused: someone
// who attached or opened it since the listing makes rm fail with EBUSY,
// and the segment stays as it was.
TEST_F(Unused, RmRacingANewUserGetsEbusyAndChangesNothing)
{
	int id = make_sysv(4096, 0600);
	make_posix("shmfs-test-race", 4096, 0600);
	std::string sl = link("sysv/" + std::to_string(id));
	std::string pl = link("posix/shmfs-test-race");
	struct stat st;
	ASSERT_EQ(lstat(sl.c_str(), &st), 0); // the kernel has the names now
	ASSERT_EQ(lstat(pl.c_str(), &st), 0);
	Holder a, o;
	ASSERT_TRUE(
		a.start([&] { return shmat(id, nullptr, 0) != (void *)-1; }));
	ASSERT_TRUE(o.start(
		[&] { return open("/dev/shm/shmfs-test-race", O_RDWR) >= 0; }));
	errno = 0;
	EXPECT_EQ(unlink(sl.c_str()), -1);
	EXPECT_EQ(errno, EBUSY);
	errno = 0;
	EXPECT_EQ(unlink(pl.c_str()), -1);
	EXPECT_EQ(errno, EBUSY);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.mode & SHM_DEST, 0u);
	EXPECT_EQ(ds.shm_nattch, 1u);
	EXPECT_EQ(access("/dev/shm/shmfs-test-race", F_OK), 0);
	// No trace of the attempt (the object was out of sight meanwhile).
	for (const std::string &n : list_dir("/dev/shm"))
		EXPECT_NE(n.rfind(".shmfs-rm-", 0), 0u) << n;
	// Once they are gone, rm removes them.
	a.stop();
	o.stop();
	past_the_scan();
	EXPECT_EQ(unlink(link("sysv/" + std::to_string(id)).c_str()), 0);
	EXPECT_EQ(unlink(link("posix/shmfs-test-race").c_str()), 0);
	EXPECT_EQ(shmctl(id, IPC_STAT, &ds), -1);
	EXPECT_NE(access("/dev/shm/shmfs-test-race", F_OK), 0);
}

TEST_F(Unused, NothingCanBeMadeOrChangedThere)
{
	errno = 0;
	EXPECT_EQ(open(link("posix/new").c_str(), O_CREAT | O_RDWR, 0600), -1);
	EXPECT_EQ(errno, EPERM);
	errno = 0;
	EXPECT_EQ(symlink("x", link("sysv/1").c_str()), -1);
	EXPECT_EQ(errno, EPERM);
	errno = 0;
	EXPECT_EQ(unlink(link("sysv/99999999").c_str()), -1);
	EXPECT_EQ(errno, ENOENT);
}

int maps_opened(pid_t daemon, const std::string &cmd, const std::string &tmp)
{
	std::string out =
		run("timeout -s INT 3 strace -f -qq -e trace=openat -p " +
		    std::to_string(daemon) + " -o " + tmp + " & sleep 1; " +
		    cmd + " >/dev/null 2>&1; wait; grep -c '/maps\"' " + tmp);
	unlink(tmp.c_str());
	return atoi(out.c_str());
}

// The scan of every process runs for unused/ only.
TEST_F(Unused, TheScanRunsOnlyForUnused)
{
	make_sysv(4096, 0600);
	std::string tmp = m.dir + ".strace";
	EXPECT_EQ(maps_opened(m.pid,
			      "ls -l " + m.path("sysv") + " " + m.path("posix"),
			      tmp),
		  0);
	EXPECT_GT(maps_opened(m.pid, "ls -l " + m.path("unused/sysv"), tmp), 1);
}

} // namespace

namespace {

// A listing shows what it saw: the links it listed read back as listed
// for the attribute timeout, even if their segments went meanwhile (ls -l
// under churn shows the entry, never "cannot read symbolic link"); after
// the timeout a gone link is gone.
TEST_F(Unused, ALinkReadsBackAsListedUntilTheTimeout)
{
	std::vector<std::string> names;
	for (int i = 0; i < 20; i++)
		names.push_back(make_posix(
			"shmfs-test-listed-" + std::to_string(i), 4096, 0600));
	std::vector<std::string> seen = list_dir(m.path("unused/posix"));
	for (auto &n : names)
		ASSERT_NE(std::find(seen.begin(), seen.end(), n), seen.end())
			<< n;
	for (auto &n : names)
		ASSERT_EQ(shm_unlink(("/" + n).c_str()), 0);
	for (auto &n : names) {
		char buf[256];
		ssize_t len =
			readlink(link("posix/" + n).c_str(), buf, sizeof(buf));
		ASSERT_GT(len, 0) << n << ": " << strerror(errno);
		EXPECT_EQ(std::string(buf, (size_t)len), "../../posix/" + n);
	}
	usleep(700 * 1000); // past the default 0.5 s timeout
	char buf[256];
	errno = 0;
	EXPECT_EQ(readlink(link("posix/" + names[0]).c_str(), buf, sizeof(buf)),
		  -1);
	EXPECT_EQ(errno, ENOENT);
}

} // namespace
