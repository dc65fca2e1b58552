// mount_start.cc - how the daemon chooses its data path when it starts:
// -o passthrough=on|off, and a daemon the kernel refuses backing files
// (no CAP_SYS_ADMIN) that falls back and says why.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "harness.h"

using namespace shmfs_test;

namespace {

// A daemon without CAP_SYS_ADMIN in the first user namespace (shmfs run
// as root of a user namespace, as in a rootless container) mounts, but
// the kernel refuses it backing files: it says so once, and serves every
// file through the page cache, correctly.
TEST(NoCapSysAdmin, TheMountFallsBackAndSaysWhy)
{
	const char *root = getenv("SHMFS_TEST_ROOT");
	std::string dir = std::string(root ? root : "/tmp") + "/nocap.XXXXXX";
	ASSERT_NE(mkdtemp(&dir[0]), nullptr);
	std::string log = dir + ".log";
	std::string bin = getenv("SHMFS_BIN");
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		execlp("unshare", "unshare", "-U", "-m", "-r", "--propagation",
		       "private", bin.c_str(), "-f", dir.c_str(), (char *)NULL);
		_exit(127);
	}
	bool up = false;
	for (int i = 0; i < 1000 && !up; i++) {
		up = read_file(log).find("passthrough:") != std::string::npos;
		usleep(10000);
	}
	EXPECT_TRUE(up) << read_file(log);
	int fd = shm_open("/shmfs-test-nocap", O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "hello", 5), 5);
	close(fd);
	std::string f = dir + "/posix/shmfs-test-nocap";
	std::string in_ns = "nsenter -t " + std::to_string(pid) + " -U -m -- ";
	EXPECT_EQ(run(in_ns + "sh -c 'exec 3<" + f + "; cat " + f +
		      "; echo; getfattr --absolute-names --only-values -n "
		      "user.shm.io " +
		      f + "' 2>&1"),
		  "hello\nfallback");
	EXPECT_NE(read_file(log).find("passthrough: the kernel refused a "
				      "backing file (EPERM: the daemon needs "
				      "CAP_SYS_ADMIN)"),
		  std::string::npos)
		<< read_file(log);
	shm_unlink("/shmfs-test-nocap");
	kill(pid, SIGTERM);
	int st = 0;
	waitpid(pid, &st, 0);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << read_file(log);
	unlink(log.c_str());
	rmdir(dir.c_str());
}

TEST(PassthroughOption, OnOffOrAStartUpError)
{
	std::string bin = getenv("SHMFS_BIN");
	EXPECT_EQ(run(bin + " -o passthrough=maybe /tmp 2>&1; echo rc=$?"),
		  "shmfs: passthrough=maybe: say on or off\nrc=1\n");
	EXPECT_NE(run(bin + " --help").find("-o passthrough=on|off"),
		  std::string::npos);
	EXPECT_NE(run(bin + " --version").find("built with libfuse 3."),
		  std::string::npos);
}

} // namespace
