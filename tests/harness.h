// harness.h - mounting shmfs for a test (harness.cc), and native helpers to
// compare with (native.cc).
//
// Every mount runs the real daemon (SHMFS_BIN) in the foreground, waits for
// it with a time limit while checking that it has not died, and is always
// unmounted: by the fixture's TearDown, by an atexit handler, or by a
// SIGTERM/SIGALRM handler that detaches it and kills the daemon.
#ifndef SHMFS_TEST_HARNESS_H
#define SHMFS_TEST_HARNESS_H

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace shmfs_test {

struct Mount {
	std::string dir;
	pid_t pid = -1;
	std::string log;     // the daemon's stderr
	pid_t watchdog = -1; // kills a daemon that outlives its deadline

	Mount() = default;
	Mount(const Mount &) = delete;
	Mount &operator=(const Mount &) = delete;
	~Mount()
	{
		end_watchdog();
	}
	void end_watchdog();

	// Start the daemon with extra args at dir (a new directory when dir
	// is empty); false (and a message) on failure.
	bool start(const std::vector<std::string> &args, std::string *err);
	// Unmount and wait: the daemon's exit status (0 expected), or -1.
	int stop();
	std::string path(const std::string &rel) const
	{
		return dir + "/" + rel;
	}
};

// A fixture with a mounted shmfs and segments it cleans up.
class MountTest : public testing::Test {
protected:
	Mount m;
	std::vector<int> shmids;	// removed in TearDown
	std::vector<std::string> posix; // names removed in TearDown

	virtual std::vector<std::string> mount_args()
	{
		return {};
	}
	void SetUp() override;
	void TearDown() override;

	// Native creation, remembered for clean-up.
	int make_sysv(size_t size, int mode, key_t key = 0 /* IPC_PRIVATE */);
	std::string make_posix(const std::string &name, size_t size, int mode);
	std::string sysv_path(int id) const;
	std::string posix_path(const std::string &name) const;
};

// Whether this run's mounts ask for passthrough (SHMFS_TEST_PASSTHROUGH
// is not "off"); make check runs the mount tests both ways.
bool passthrough_wanted();
// Whether this kernel has FUSE passthrough at all (6.9 and later).
bool kernel_may_pass_through();
// Whether this kernel's fanotify reports names made in a tmpfs directory
// (FAN_REPORT_DFID_NAME needs tmpfs's fsid: 6.7 and later).
bool kernel_has_tmpfs_fanotify();
// This process's command line as lsipc shows one: arguments joined by
// spaces.
std::string own_command();
// In a test of the passthrough pass: skip it (with the reason beginning
// "no-passthrough:") when the mount at dir was not granted passthrough on
// a kernel that has none, fail it when the kernel has it.  So a kernel
// without passthrough reports that pass as skipped instead of running
// the fallback twice, and a kernel with it can never do so.
void require_granted_passthrough(const std::string &dir,
				 const std::string &log);

// Run fn in a child as uid:gid (no supplementary groups); its result
// (an errno, 0 for success) is returned.  -1 if the child died.
int as_user(uid_t uid, gid_t gid, const std::function<int()> &fn);

// The text of a string or number field of one JSON line ("null" for a
// null), with the escapes \" and \\ undone; "" if absent.
std::string json_field(const std::string &line, const std::string &name);
// text's lines.
std::vector<std::string> lines_of(const std::string &text);
// The value of the sample `series` (name and labels, as printed) in the
// mount's shmfs.prom; -1 if absent.
long long prom_value(const Mount &m, const std::string &series);
// The lines of the mount's events file that pick chooses, once there
// are n of them (waited for 20 s at most).
std::vector<std::string>
event_lines(const Mount &m, size_t n,
	    const std::function<bool(const std::string &)> &pick);

// Names in a directory, without "." and "..", sorted.
std::vector<std::string> list_dir(const std::string &dir);
// The POSIX objects listed in dir: regular files not named "sem.*" (of
// links to them, with links: unused/posix).
std::vector<std::string> posix_objects(const std::string &dir,
				       bool links = false);
// Whole contents of a file, or "" with *err set.
std::string read_file(const std::string &path, int *err = nullptr);
// One row of /proc/sysvipc/shm as column name -> text, empty if absent.
std::map<std::string, std::string> proc_sysv_row(int id);
// The fields of segment id's row in `ipcs -m` (key, shmid, owner, perms,
// bytes, nattch, status), empty if it has none.
std::vector<std::string> ipcs_row(int id);
// Ids in /proc/sysvipc/shm that are not marked for removal, sorted.
std::vector<int> proc_sysv_ids();
// The xattr's value, or "" with *err = errno.
std::string get_xattr(const std::string &path, const std::string &name,
		      int *err = nullptr);
std::vector<std::string> list_xattrs(const std::string &path);
// n pseudo-random bytes, the same for the same seed.
std::string pattern(size_t n, unsigned seed);
// The whole of System V segment id, read natively ("" if it is gone).
std::string sysv_bytes(int id);
// Output of a shell command.
std::string run(const std::string &cmd);
// The cgroup v2 hierarchy (pure or hybrid), where a Docker-named scope can
// be made; "" if there is none.
std::string cgroup2_root();
// Can this kernel give us the namespaces a container has (a new IPC and
// mount namespace)?  If not, why.
bool namespaces_available(std::string *why);
// What fn returns, run in a forked child (which may change its namespaces
// or ids freely); "" and a test failure if the child died or exited
// non-zero.
std::string in_child(const std::function<std::string()> &fn);

} // namespace shmfs_test

#endif
