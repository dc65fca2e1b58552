// mount_replies.cc - opens whose reply the kernel never takes.  An open
// that the daemon answers after its caller is gone (killed while the
// daemon is slowed in open) or after the connection is aborted must leave
// nothing behind: no use of the request after its reply was refused (ASan
// in make check SANITIZE=1 reports one), no backing file still registered,
// and a daemon that exits 0.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "harness.h"

using namespace shmfs_test;

namespace {

// How long the daemon waits in every open before its reply.
const int kDelayMs = 400;

// The gauge's value in shmfs.prom, or -1.
long gauge(const Mount &m, const std::string &name)
{
	std::istringstream in(read_file(m.path("shmfs.prom")));
	for (std::string line; std::getline(in, line);)
		if (line.rfind(name + " ", 0) == 0)
			return atol(line.c_str() + name.size() + 1);
	return -1;
}

// A child that opens path and holds it; killed by the caller.
pid_t opener(const std::string &path)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path.c_str(), O_RDWR);
		if (fd < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	return pid;
}

// Wait until pid is inside openat (the open the daemon holds back), as
// /proc/PID/syscall shows it, then a little more for the request to
// reach the daemon.
void wait_blocked(pid_t pid)
{
	std::string want = std::to_string(SYS_openat) + " ";
	std::string now;
	for (int i = 0; i < 200; i++) {
		now = read_file("/proc/" + std::to_string(pid) + "/syscall");
		if (now.rfind(want, 0) == 0)
			break;
		usleep(5000);
	}
	ASSERT_EQ(now.rfind(want, 0), 0u) << now;
	usleep(kDelayMs * 1000 / 4);
}

class Replies : public testing::Test {
protected:
	Mount m;
	std::string name = "shmfs-replies-" + std::to_string(getpid());

	void SetUp() override
	{
		setenv("SHMFS_DEBUG_OPEN_DELAY_MS",
		       std::to_string(kDelayMs).c_str(), 1);
		std::string err;
		bool ok = m.start({}, &err);
		unsetenv("SHMFS_DEBUG_OPEN_DELAY_MS");
		ASSERT_TRUE(ok) << err;
		int fd = open(("/dev/shm/" + name).c_str(),
			      O_RDWR | O_CREAT | O_EXCL, 0600);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
		close(fd);
	}
	void TearDown() override
	{
		unlink(("/dev/shm/" + name).c_str());
		if (m.pid > 0) {
			EXPECT_EQ(m.stop(), 0) << read_file(m.log);
		}
	}
};

// An opener killed while the daemon holds its open back: the kernel still
// takes the reply (the request was in userspace) and releases the file
// when the killed process goes.  Nothing stays registered.
TEST_F(Replies, OpenersKilledMidOpenLeaveNoBackingFile)
{
	std::string path = m.path("posix/" + name);
	for (int i = 0; i < 5; i++) {
		pid_t pid = opener(path);
		ASSERT_GT(pid, 0);
		wait_blocked(pid);
		kill(pid, SIGKILL);
		int st;
		ASSERT_EQ(waitpid(pid, &st, 0), pid);
		EXPECT_TRUE(WIFSIGNALED(st));
	}
	// The releases are asynchronous: they come within moments.
	long left = -1;
	for (int i = 0; i < 100 && left != 0; i++) {
		left = gauge(m, "shmfs_backing_files");
		if (left != 0)
			usleep(20000);
	}
	EXPECT_EQ(left, 0);
	// And the file still opens and reads as before.
	EXPECT_EQ(read_file(path).size(), (size_t)1 << 20);
	EXPECT_EQ(gauge(m, "shmfs_backing_files"), 0);
}

// The connection aborted (echo 1 > /sys/fs/fuse/connections/N/abort)
// while the daemon is in an open: its reply is refused, the daemon closes
// what it opened for that reply through the session (never through the
// freed request) and exits 0.
TEST_F(Replies, AnOpenWhoseReplyIsRefusedIsClosedWithoutTheRequest)
{
	bool mounted_ctl = false;
	struct stat st;
	if (stat("/sys/fs/fuse/connections", &st) != 0)
		GTEST_SKIP() << "no /sys/fs/fuse/connections (fusectl)";
	std::string probe =
		run("findmnt -n -o FSTYPE /sys/fs/fuse/connections");
	if (probe.find("fusectl") == std::string::npos) {
		ASSERT_EQ(mount("fusectl", "/sys/fs/fuse/connections",
				"fusectl", 0, nullptr),
			  0)
			<< strerror(errno);
		mounted_ctl = true;
	}
	ASSERT_EQ(stat(m.dir.c_str(), &st), 0);
	std::string abort_file = "/sys/fs/fuse/connections/" +
				 std::to_string(minor(st.st_dev)) + "/abort";

	pid_t pid = opener(m.path("posix/" + name));
	ASSERT_GT(pid, 0);
	wait_blocked(pid);
	{
		std::ofstream ab(abort_file);
		ab << "1";
		ab.close();
		ASSERT_TRUE(ab) << abort_file;
	}
	int wst;
	ASSERT_EQ(waitpid(pid, &wst, 0), pid);
	// The aborted open failed for the caller.
	EXPECT_TRUE(WIFEXITED(wst) && WEXITSTATUS(wst) == 1);
	// The daemon ran its failed-reply path: it says so, then ends.
	for (int i = 0; i < 200; i++) {
		if (read_file(m.log).find("the kernel took no reply") !=
		    std::string::npos)
			break;
		usleep(10000);
	}
	EXPECT_NE(read_file(m.log).find("the kernel took no reply"),
		  std::string::npos)
		<< read_file(m.log);
	EXPECT_EQ(m.stop(), 0) << read_file(m.log);
	if (mounted_ctl)
		umount("/sys/fs/fuse/connections");
}

} // namespace
