// allns.h - what the --all-namespaces tests share (mount_allns.cc,
// mount_allns_life.cc): "containers" made as Docker makes them (a private
// IPC namespace and a private mount namespace with its own tmpfs on
// /dev/shm, one of them run by an unprivileged uid, one in a cgroup named
// as Docker names its scopes), a child that setns into one to give the
// native view, and the fixture that mounts with --all-namespaces.
#ifndef SHMFS_TEST_ALLNS_H
#define SHMFS_TEST_ALLNS_H
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "harness.h"

using namespace shmfs_test;

namespace {

const uid_t kUser = 1000;
const uid_t kNobody = 65534;
const key_t kSharedKey = 0x5a0001; // the same key in every container

inline ino_t ns_of(pid_t pid)
{
	struct stat st;
	std::string p = "/proc/" + std::to_string(pid) + "/ns/ipc";
	return stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

inline std::string self_ns()
{
	return std::to_string(ns_of(getpid()));
}

// Inside a new container (or, without mounts, only a new IPC namespace),
// as uid: the segments and the object Box describes; ids[] their shmids,
// -1 on failure.
void box_inside(const std::string &tag, uid_t uid, int mode, bool mounts,
		int ids[2])
{
	ids[0] = ids[1] = -1;
	if (unshare(CLONE_NEWIPC | (mounts ? CLONE_NEWNS : 0)) < 0)
		return;
	if (mounts &&
	    (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
	     mount("shm", "/dev/shm", "tmpfs", 0, "size=16m,mode=1777") < 0))
		return;
	if (setgroups(0, nullptr) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
		return;
	// As a process of that user's that exec'd a program: its user may
	// ptrace-read it, so may reach its namespace (/proc/PID/root).
	prctl(PR_SET_DUMPABLE, 1);
	umask(0);
	int a = shmget(IPC_PRIVATE, 4096, IPC_CREAT | mode);
	int k = shmget(kSharedKey, 8192, IPC_CREAT | mode);
	char *p = a >= 0 ? (char *)shmat(a, nullptr, 0) : (char *)-1;
	char *q = k >= 0 ? (char *)shmat(k, nullptr, 0) : (char *)-1;
	if (p == (char *)-1 || q == (char *)-1)
		return;
	std::string sa = tag + "-a", sk = tag + "-k", so = tag + "-posix";
	memcpy(p, sa.data(), sa.size()); // stays attached
	memcpy(q, sk.data(), sk.size());
	shmdt(q);
	if (mounts) {
		int fd = shm_open("/obj", O_CREAT | O_RDWR, mode);
		bool ok = fd >= 0 &&
			  write(fd, so.data(), so.size()) == (ssize_t)so.size();
		if (fd >= 0)
			close(fd);
		if (!ok)
			return;
	}
	ids[0] = a;
	ids[1] = k;
}

// A container: a child in its own IPC and mount namespaces with a tmpfs
// on /dev/shm.  It makes, as uid:
//   - segment "a" (IPC_PRIVATE, 4096 bytes, mode) holding "<tag>-a",
//     which it keeps attached;
//   - segment "k" (kSharedKey, 8192 bytes, mode) holding "<tag>-k";
//   - /dev/shm/obj (mode) holding "<tag>-posix" (with mounts only);
// and then waits until it is told to end.
struct Box {
	pid_t pid = -1;
	int a = -1, k = -1;
	std::string tag, scope;
	int ctl[2] = { -1, -1 };

	bool start(const std::string &t, uid_t uid, int mode, std::string *err,
		   bool mounts = true)
	{
		int res[2];
		tag = t;
		if (pipe(ctl) < 0 || pipe(res) < 0)
			return false;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(ctl[1]);
			close(res[0]);
			int ids[2];
			box_inside(tag, uid, mode, mounts, ids);
			(void)!write(res[1], ids, sizeof(ids));
			char c;
			(void)!read(ctl[0], &c, 1); // until told to end
			_exit(0);
		}
		close(ctl[0]);
		close(res[1]);
		int ids[2];
		bool ok = read(res[0], ids, sizeof(ids)) == sizeof(ids) &&
			  ids[0] >= 0 && ids[1] >= 0;
		close(res[0]);
		if (!ok) {
			*err = "the container could not be made";
			return false;
		}
		a = ids[0];
		k = ids[1];
		return true;
	}

	// Put the container in a cgroup named as Docker names its scopes.
	bool dockerize(const std::string &root, const std::string &id)
	{
		std::string dir = root + "/system.slice";
		mkdir(dir.c_str(), 0755);
		scope = dir + "/docker-" + id + ".scope";
		if (mkdir(scope.c_str(), 0755) < 0)
			return false;
		std::ofstream procs(scope + "/cgroup.procs");
		procs << pid << std::endl;
		return procs.good();
	}

	std::string ns() const
	{
		return std::to_string(ns_of(pid));
	}

	void end()
	{
		if (pid > 0) {
			(void)!write(ctl[1], "x", 1);
			close(ctl[1]);
			waitpid(pid, nullptr, 0);
			pid = -1;
		}
		// The cgroup can go once its last process has.
		for (int i = 0; !scope.empty() && i < 100; i++) {
			if (rmdir(scope.c_str()) == 0 || errno == ENOENT)
				scope.clear();
			else
				usleep(10000);
		}
	}

	~Box()
	{
		end();
	}
};

// fn run by a child inside pid's IPC namespace; what it returns.
inline std::string in_ns(pid_t pid, const std::function<std::string()> &fn)
{
	return in_child([&] {
		std::string p = "/proc/" + std::to_string(pid) + "/ns/ipc";
		int fd = open(p.c_str(), O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWIPC) < 0)
			return std::string("setns: ") + strerror(errno);
		return fn();
	});
}

// The first n bytes of segment id of pid's namespace, read natively.
inline std::string native_bytes(pid_t pid, int id, size_t n)
{
	return in_ns(pid, [&] {
		char *p = (char *)shmat(id, nullptr, SHM_RDONLY);
		if (p == (char *)-1)
			return std::string("shmat: ") + strerror(errno);
		std::string s(p, n);
		shmdt(p);
		return s;
	});
}

// IPC_STAT of id in pid's namespace: "mode uid gid size", or the errno.
inline std::string native_stat(pid_t pid, int id)
{
	return in_ns(pid, [&] {
		struct shmid_ds ds;
		if (shmctl(id, IPC_STAT, &ds) < 0)
			return std::string("errno=") + std::to_string(errno);
		char b[96];
		snprintf(b, sizeof(b), "%o %u %u %zu",
			 (unsigned)ds.shm_perm.mode & 0777,
			 (unsigned)ds.shm_perm.uid, (unsigned)ds.shm_perm.gid,
			 (size_t)ds.shm_segsz);
		return std::string(b);
	});
}

// Ids in pid's namespace, sorted, as /proc/sysvipc/shm has them.
inline std::vector<std::string> native_ids(pid_t pid)
{
	std::string text = in_ns(pid, [] {
		std::ifstream in("/proc/sysvipc/shm");
		std::string line, out;
		std::getline(in, line); // header
		while (std::getline(in, line)) {
			std::istringstream f(line);
			std::string key, id;
			f >> key >> id;
			out += id + "\n";
		}
		return out;
	});
	std::vector<std::string> v;
	std::istringstream f(text);
	for (std::string id; std::getline(f, id);)
		v.push_back(id);
	std::sort(v.begin(), v.end());
	return v;
}

inline std::string croot(const Box &b, const std::string &name)
{
	return "/proc/" + std::to_string(b.pid) + "/root/dev/shm/" + name;
}

inline int err_of(int r)
{
	return r < 0 ? errno : 0;
}

// Every IPC namespace that has a process, from /proc, as lsns sees them.
inline std::map<std::string, std::vector<pid_t>> proc_namespaces()
{
	std::map<std::string, std::vector<pid_t>> out;
	for (auto &name : list_dir("/proc")) {
		char *end;
		long pid = strtol(name.c_str(), &end, 10);
		if (*end || pid <= 0)
			continue;
		ino_t ns = ns_of((pid_t)pid);
		if (ns)
			out[std::to_string(ns)].push_back((pid_t)pid);
	}
	for (auto &e : out)
		std::sort(e.second.begin(), e.second.end());
	return out;
}

class AllNs : public MountTest {
protected:
	Box b1, b2, bu;
	std::vector<std::string> mount_args() override
	{
		return { "--all-namespaces" };
	}
	void SetUp() override
	{
		std::string err;
		if (!namespaces_available(&err))
			GTEST_SKIP() << err;
		MountTest::SetUp();
		ASSERT_TRUE(b1.start("one", 0, 0644, &err)) << err;
		ASSERT_TRUE(b2.start("two", 0, 0644, &err)) << err;
		ASSERT_TRUE(bu.start("user", kUser, 0600, &err)) << err;
	}
	void TearDown() override
	{
		b1.end();
		b2.end();
		bu.end();
		MountTest::TearDown();
	}
	std::string at(const Box &b, const std::string &rel)
	{
		return m.path("ns/" + b.ns() + "/" + rel);
	}
};

} // namespace

#endif
