// harness.cc - see harness.h.
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sched.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace shmfs_test {

namespace {

// Mounts that must be torn down if the test process ends abnormally.
// Written only by the main thread; read by the handlers below.
struct Live {
	char dir[4096];
	volatile pid_t pid;
};
Live live[8];

void emergency_teardown()
{
	for (Live &l : live) {
		if (l.pid > 0) {
			umount2(l.dir, MNT_DETACH);
			kill(l.pid, SIGKILL);
			l.pid = 0;
		}
	}
}

void on_fatal_signal(int sig)
{
	emergency_teardown();
	signal(sig, SIG_DFL);
	raise(sig);
}

void install_handlers()
{
	static bool done;
	if (done)
		return;
	done = true;
	atexit(emergency_teardown);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGINT, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);
}

Live *live_slot(pid_t pid)
{
	for (Live &l : live)
		if (l.pid == pid)
			return &l;
	return nullptr;
}

// Mount ids of the shmfs mounts at dir.
std::vector<std::string> mounts_at(const std::string &dir)
{
	std::ifstream f("/proc/self/mountinfo");
	std::string line;
	std::vector<std::string> ids;
	while (std::getline(f, line)) {
		std::istringstream ss(line);
		std::string id, parent, dev, root, mnt;
		ss >> id >> parent >> dev >> root >> mnt;
		if (mnt == dir &&
		    line.find(" - fuse.shmfs ") != std::string::npos)
			ids.push_back(id);
	}
	return ids;
}

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U /* Linux 6.8 */
#endif

// The kernel's never-reused id of the shmfs mount on top at dir, or 0
// where there is none or the kernel has no such id.  One descriptor
// names the mount for both of its ids, the reusable one that mountinfo
// shows (to tell that it is a shmfs mount at dir, not the directory
// under a mount detached meanwhile) and the unique one.  From cached
// attributes: a dead FUSE mount, or one being set up, is never asked.
uint64_t mount_unique_id(const std::string &dir)
{
	int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct statx id, unique;
	bool ok = statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
			STATX_MNT_ID, &id) == 0 &&
		  (id.stx_mask & STATX_MNT_ID) &&
		  statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
			STATX_MNT_ID_UNIQUE, &unique) == 0 &&
		  (unique.stx_mask & STATX_MNT_ID_UNIQUE);
	// (Read while fd pins the mount, whose id is then nobody else's.)
	auto shmfs = mounts_at(dir);
	close(fd);
	if (!ok || std::find(shmfs.begin(), shmfs.end(),
			     std::to_string(id.stx_mnt_id)) == shmfs.end())
		return 0;
	return unique.stx_mnt_id;
}

// Whether a shmfs mount other than those in `before` is at dir.
bool is_mounted(const std::string &dir,
		const std::vector<std::string> &before = {})
{
	for (const std::string &id : mounts_at(dir))
		if (std::find(before.begin(), before.end(), id) == before.end())
			return true;
	return false;
}

int run_argv(std::vector<std::string> argv)
{
	pid_t p = fork();
	if (p == 0) {
		std::vector<char *> a;
		for (auto &s : argv)
			a.push_back(&s[0]);
		a.push_back(nullptr);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execvp(a[0], a.data());
		_exit(127);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

double seconds_env(const char *name, double dflt)
{
	const char *v = getenv(name);
	return v ? atof(v) : dflt;
}

// Kills the daemon of a mount that outlives its deadline, so that a hung
// FUSE request fails the test instead of hanging it.  A process, not a
// thread: tests fork workers, and a child forked while another thread of
// its parent held an allocator lock (ASan's, at a thread's start) waits
// for that lock forever in its first malloc.  Ended with its mount
// (Mount::stop, or ~Mount where a test reaped the daemon itself).
// Started for a daemon: the watchdog's pid.
pid_t watchdog_start(pid_t daemon, const std::string &dir, double secs)
{
	// Everything the child needs, made before the fork: after it the
	// child only sleeps, writes, kills and unmounts.
	char msg[600];
	int n = snprintf(msg, sizeof(msg),
			 "# watchdog: mount %s still busy after "
			 "%gs: killing the daemon\n",
			 dir.c_str(), secs);
	std::string target = dir;
	struct timespec left = { (time_t)secs,
				 (long)((secs - (time_t)secs) * 1e9) };
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	if (write(1, msg, (size_t)std::max(n, 0)) < 0)
		_exit(1);
	kill(daemon, SIGKILL);
	umount2(target.c_str(), MNT_DETACH);
	_exit(0);
}

} // namespace

bool Mount::start(const std::vector<std::string> &args, std::string *err)
{
	install_handlers();
	const char *root = getenv("SHMFS_TEST_ROOT");
	std::string tmpl = std::string(root ? root : "/tmp") + "/mnt.XXXXXX";
	if (dir.empty() && !mkdtemp(&tmpl[0])) {
		*err = std::string("mkdtemp: ") + strerror(errno);
		return false;
	}
	if (dir.empty())
		dir = tmpl;
	chmod(dir.c_str(), 0755); // other users' tests must reach the mount
	log = dir + ".log";
	const char *bin = getenv("SHMFS_BIN");
	std::string binpath = bin ? bin : "build/shmfs";

	// A dead mount may still be at dir: wait for a new one.  The daemon
	// detaches it first, and the kernel may give the new mount the same
	// mount id: where it can, the never-reused id tells them apart.
	std::vector<std::string> before = mounts_at(dir);
	uint64_t unique_before = before.empty() ? 0 : mount_unique_id(dir);
	Live *slot = live_slot(0);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		std::vector<std::string> argv = { binpath, "-f" };
		// make check runs the mount tests once per data path; a
		// fixture's own -o passthrough= comes later and wins.
		if (!passthrough_wanted())
			argv.insert(argv.end(), { "-o", "passthrough=off" });
		argv.insert(argv.end(), args.begin(), args.end());
		argv.push_back(dir);
		std::vector<char *> a;
		for (auto &s : argv)
			a.push_back(&s[0]);
		a.push_back(nullptr);
		execv(a[0], a.data());
		perror("execv");
		_exit(127);
	}
	if (slot) {
		snprintf(slot->dir, sizeof(slot->dir), "%s", dir.c_str());
		slot->pid = pid;
	}
	double limit = seconds_env("SHMFS_TEST_MOUNT_WAIT", 10);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pid = -1;
			if (slot)
				slot->pid = 0;
			*err = "daemon died before mounting: " + read_file(log);
			return false;
		}
		if (is_mounted(dir, before))
			break;
		if (unique_before) {
			uint64_t now_id = mount_unique_id(dir);
			if (now_id && now_id != unique_before)
				break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > limit) {
			*err = "mount did not appear in time: " +
			       read_file(log);
			stop();
			return false;
		}
		usleep(5000);
	}
	watchdog = watchdog_start(pid, dir,
				  seconds_env("SHMFS_TEST_MOUNT_LIMIT", 120));
	return true;
}

void Mount::end_watchdog()
{
	if (watchdog <= 0)
		return;
	kill(watchdog, SIGKILL);
	waitpid(watchdog, nullptr, 0);
	watchdog = -1;
}

int Mount::stop()
{
	end_watchdog();
	if (pid <= 0)
		return -1;
	if (run_argv({ "fusermount3", "-u", dir }) != 0)
		run_argv({ "fusermount3", "-uz", dir });
	int st = 0, result = -1;
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			result = WIFEXITED(st) ? WEXITSTATUS(st) :
						 128 + WTERMSIG(st);
			break;
		}
		usleep(10000);
	}
	if (result < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		umount2(dir.c_str(), MNT_DETACH);
	}
	if (Live *slot = live_slot(pid))
		slot->pid = 0;
	pid = -1;
	rmdir(dir.c_str());
	return result;
}

void MountTest::SetUp()
{
	umask(0);
	std::string err;
	ASSERT_TRUE(m.start(mount_args(), &err)) << err;
	require_granted_passthrough(m.dir, m.log);
}

// Whether the running kernel is at least maj.min.
static bool kernel_at_least(int want_maj, int want_min)
{
	struct utsname u;
	int maj = 0, min = 0;
	uname(&u);
	sscanf(u.release, "%d.%d", &maj, &min);
	return maj > want_maj || (maj == want_maj && min >= want_min);
}

bool kernel_may_pass_through()
{
	return kernel_at_least(6, 9);
}

bool kernel_has_tmpfs_fanotify()
{
	return kernel_at_least(6, 7);
}

std::string own_command()
{
	std::string raw = read_file("/proc/self/cmdline");
	while (!raw.empty() && raw.back() == '\0')
		raw.pop_back();
	for (char &c : raw)
		if (c == '\0')
			c = ' ';
	return raw;
}

void require_granted_passthrough(const std::string &dir, const std::string &log)
{
	if (!passthrough_wanted())
		return;
	// The mount's root says what the mount got (user.shm.io); a fixture
	// that asks for passthrough=off itself is on the fallback on purpose.
	std::string root = get_xattr(dir, "user.shm.io");
	if (root == "passthrough" ||
	    read_file(log).find("passthrough: off") != std::string::npos)
		return;
	if (kernel_may_pass_through())
		FAIL() << "this kernel has FUSE passthrough, but the mount is "
			  "on the fallback; daemon log:\n"
		       << read_file(log);
	GTEST_SKIP() << "no-passthrough: the kernel grants no FUSE "
			"passthrough, so this pass would be the fallback again";
}

void MountTest::TearDown()
{
	for (int id : shmids)
		shmctl(id, IPC_RMID, nullptr);
	for (auto &n : posix)
		shm_unlink(("/" + n).c_str());
	if (m.pid <= 0)
		return; // skipped before it mounted
	int status = m.stop();
	// Read after the exit: sanitizer reports are written then.
	EXPECT_EQ(status, 0) << "daemon log:\n" << read_file(m.log);
	unlink(m.log.c_str());
}

int MountTest::make_sysv(size_t size, int mode, key_t key)
{
	int id = shmget(key, size, IPC_CREAT | IPC_EXCL | mode);
	EXPECT_GE(id, 0) << "shmget: " << strerror(errno);
	if (id >= 0)
		shmids.push_back(id);
	return id;
}

std::string MountTest::make_posix(const std::string &name, size_t size,
				  int mode)
{
	int fd =
		shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, mode);
	EXPECT_GE(fd, 0) << "shm_open " << name << ": " << strerror(errno);
	if (fd >= 0) {
		EXPECT_EQ(ftruncate(fd, (off_t)size), 0);
		close(fd);
		posix.push_back(name);
	}
	return name;
}

std::string MountTest::sysv_path(int id) const
{
	return m.path("sysv/" + std::to_string(id));
}

std::string MountTest::posix_path(const std::string &name) const
{
	return m.path("posix/" + name);
}

bool passthrough_wanted()
{
	const char *v = getenv("SHMFS_TEST_PASSTHROUGH");
	return !v || std::string(v) != "off";
}

} // namespace shmfs_test
