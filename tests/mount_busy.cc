// mount_busy.cc - the /proc layer on a host with many processes: every
// question about who maps what is answered from one shared pass over
// /proc, and the answers are what each process's own /proc/PID/maps says;
// and what the daemon keeps follows what exists while segments churn.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

const int kSegments = 12;

std::set<pid_t> pid_set(const std::string &csv)
{
	std::set<pid_t> out;
	std::istringstream in(csv);
	for (std::string t; std::getline(in, t, ',');)
		if (!t.empty())
			out.insert(atoi(t.c_str()));
	return out;
}

// What pid's own maps say: does it map System V segment id (a "/SYSV"
// line with the shmid as inode number), or the file (dev, ino)?
bool maps_has(pid_t pid, int id, dev_t dev, ino_t ino)
{
	std::istringstream in(
		read_file("/proc/" + std::to_string(pid) + "/maps"));
	for (std::string line; std::getline(in, line);) {
		char perms[8] = "";
		unsigned maj = 0, min = 0;
		unsigned long inode = 0;
		if (sscanf(line.c_str(), "%*x-%*x %7s %*x %x:%x %lu", perms,
			   &maj, &min, &inode) != 4 ||
		    perms[3] != 's')
			continue;
		if (id >= 0 && line.find("/SYSV") != std::string::npos &&
		    inode == (unsigned long)id)
			return true;
		if (id < 0 && makedev(maj, min) == dev && inode == ino)
			return true;
	}
	return false;
}

class Busy : public MountTest {
protected:
	std::vector<int> ids;
	std::vector<std::string> names;
	std::vector<struct stat> objs;

	void SetUp() override
	{
		MountTest::SetUp();
		if (HasFatalFailure() || IsSkipped())
			return;
		for (int i = 0; i < kSegments; i++) {
			ids.push_back(make_sysv(4096, 0600));
			names.push_back(make_posix(
				"shmfs-busy-" + std::to_string(i), 4096, 0600));
			struct stat st;
			ASSERT_EQ(
				stat(("/dev/shm/" + names.back()).c_str(), &st),
				0);
			objs.push_back(st);
		}
	}
	// A process holding segment i (attached) and object j (mapped), with
	// pid `as` if not 0.
	bool hold(Holder &h, int i, int j, pid_t as = 0)
	{
		int id = ids[(size_t)i];
		std::string path = "/dev/shm/" + names[(size_t)j];
		return h.start(
			[id, path] {
				int fd = open(path.c_str(), O_RDWR);
				return shmat(id, nullptr, SHM_RDONLY) !=
					       (void *)-1 &&
				       fd >= 0 &&
				       mmap(nullptr, 4096, PROT_READ,
					    MAP_SHARED, fd, 0) != MAP_FAILED;
			},
			as);
	}
};

// One sweep over every file while processes come and go: each answer
// names every process that held the segment throughout (as its own maps
// say), and nobody but those and the ones that came or went meanwhile.
TEST_F(Busy, ASweepAgreesWithEveryProcesssOwnMaps)
{
	std::vector<Holder> stable(24);
	for (size_t k = 0; k < stable.size(); k++)
		ASSERT_TRUE(hold(stable[k], (int)(k % kSegments),
				 (int)((k * 5) % kSegments)));
	std::atomic<bool> stop{ false };
	std::mutex mu;
	std::set<pid_t> churned;
	std::thread churn([&] {
		for (int n = 0; !stop; n++) {
			Holder h;
			if (hold(h, n % kSegments, (n * 3) % kSegments)) {
				std::lock_guard<std::mutex> g(mu);
				churned.insert(h.pid);
			}
			usleep(2000);
		}
	});
	std::vector<std::string> sysv_pids, posix_pids;
	for (int i = 0; i < kSegments; i++) {
		sysv_pids.push_back(
			get_xattr(sysv_path(ids[(size_t)i]), "user.shm.pids"));
		posix_pids.push_back(get_xattr(posix_path(names[(size_t)i]),
					       "user.shm.pids"));
	}
	stop = true;
	churn.join();
	for (int i = 0; i < kSegments; i++) {
		std::set<pid_t> want_sysv, want_posix;
		for (auto &h : stable) {
			if (maps_has(h.pid, ids[(size_t)i], 0, 0))
				want_sysv.insert(h.pid);
			if (maps_has(h.pid, -1, objs[(size_t)i].st_dev,
				     objs[(size_t)i].st_ino))
				want_posix.insert(h.pid);
		}
		ASSERT_FALSE(want_sysv.empty());
		ASSERT_FALSE(want_posix.empty());
		for (auto *pair : { &sysv_pids, &posix_pids }) {
			std::set<pid_t> got = pid_set((*pair)[(size_t)i]);
			const std::set<pid_t> &want =
				pair == &sysv_pids ? want_sysv : want_posix;
			for (pid_t p : want)
				EXPECT_TRUE(got.count(p))
					<< "segment " << i << ": " << p
					<< " missing from "
					<< (*pair)[(size_t)i];
			for (pid_t p : got)
				EXPECT_TRUE(want.count(p) || churned.count(p))
					<< "segment " << i << ": " << p
					<< " does not map it";
		}
	}
}

// Many askers at once share one pass: eight questions about eight files,
// asked together with no fresh snapshot, cost one pass; a sweep of every
// file within the bound costs none more.  (Reading shmfs.prom makes a
// pass of its own, with descriptors, for its unused figures: one each.)
TEST_F(Busy, AskersAtOnceShareOnePass)
{
	std::vector<Holder> hs(4);
	for (size_t k = 0; k < hs.size(); k++)
		ASSERT_TRUE(hold(hs[k], (int)k, (int)k));
	long long before = prom_value(m, "shmfs_proc_passes_total");
	ASSERT_GE(before, 0);
	usleep(1100 * 1000); // every snapshot is now older than the bound
	at_once(8, [&](int i) {
		get_xattr(i % 2 ? sysv_path(ids[(size_t)i]) :
				  posix_path(names[(size_t)i]),
			  "user.shm.pids");
	});
	for (int i = 8; i < kSegments; i++)
		get_xattr(posix_path(names[(size_t)i]), "user.shm.pids");
	EXPECT_EQ(prom_value(m, "shmfs_proc_passes_total") - before, 2);
}

// The freshness rule: a question asked again, or asked after the bound,
// or about a segment attached since, is answered now.
TEST_F(Busy, AnswersAreNeverOlderThanTheRuleSays)
{
	std::string p = posix_path(names[0]);
	EXPECT_EQ(get_xattr(p, "user.shm.pids"), "");
	Holder a;
	ASSERT_TRUE(hold(a, 0, 0));
	// Asked again: now.
	EXPECT_EQ(get_xattr(p, "user.shm.pids"), std::to_string(a.pid));
	// Another file, first asked after the bound: now.
	Holder b;
	ASSERT_TRUE(hold(b, 1, 1));
	usleep(1100 * 1000);
	EXPECT_EQ(get_xattr(posix_path(names[1]), "user.shm.pids"),
		  std::to_string(b.pid));
	// A System V segment attached since the last pass, never asked
	// about before: now (its attach time tells).
	EXPECT_EQ(get_xattr(posix_path(names[3]), "user.shm.pids"), "");
	Holder c;
	ASSERT_TRUE(hold(c, 2, 4));
	EXPECT_EQ(get_xattr(sysv_path(ids[2]), "user.shm.pids"),
		  std::to_string(c.pid));
}

// Processes that cannot be read or are half gone are never an error and
// never a pid: a zombie that mapped the object, and kernel threads.
TEST_F(Busy, ZombiesAndKernelThreadsAreNobody)
{
	std::string path = "/dev/shm/" + names[5];
	pid_t z = fork();
	if (z == 0) {
		int fd = open(path.c_str(), O_RDWR);
		if (fd >= 0)
			mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
		_exit(0);
	}
	ASSERT_GT(z, 0);
	// A zombie until reaped.
	for (int i = 0; i < 200; i++) {
		std::string st =
			read_file("/proc/" + std::to_string(z) + "/stat");
		if (st.find(") Z ") != std::string::npos)
			break;
		usleep(5000);
	}
	EXPECT_EQ(get_xattr(posix_path(names[5]), "user.shm.pids"), "");
	EXPECT_EQ(get_xattr(posix_path(names[5]), "user.shm.nattch"), "0");
	int err = 0;
	get_xattr(sysv_path(ids[5]), "user.shm.pids", &err);
	EXPECT_EQ(err, 0);
	waitpid(z, nullptr, 0);
}

// Every entry of sysv/ and posix/ looked up, as `ls -l` does (the kernel
// then holds each name, and the daemon its inode).
void look_up_all(const Mount &m)
{
	for (const char *dir : { "sysv", "posix" })
		for (const std::string &n : list_dir(m.path(dir))) {
			struct stat st;
			lstat(m.path(std::string(dir) + "/" + n).c_str(), &st);
		}
}

// Segments listed once and then removed natively leave the kernel's cache
// and the daemon's table at the next listing: on a host where segments
// come and go, what the daemon keeps grows with what exists, not with
// what has been.
TEST_F(Busy, RemovedSegmentsLeaveTheDaemonsTable)
{
	const int kPosix = 100, kSysv = 20;
	look_up_all(m);
	long long base = prom_value(m, "shmfs_inodes");
	std::vector<std::string> gone;
	std::vector<int> gone_ids;
	for (int i = 0; i < kPosix; i++)
		gone.push_back(make_posix("shmfs-prune-" + std::to_string(i),
					  4096, 0600));
	for (int i = 0; i < kSysv; i++)
		gone_ids.push_back(make_sysv(4096, 0600));
	look_up_all(m);
	EXPECT_EQ(prom_value(m, "shmfs_inodes"), base + kPosix + kSysv);
	long long pruned = prom_value(m, "shmfs_pruned_names_total");
	for (const std::string &n : gone)
		ASSERT_EQ(shm_unlink(("/" + n).c_str()), 0);
	for (int id : gone_ids)
		ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	look_up_all(m);
	long long now = -1;
	for (int i = 0; i < 300 && (now = prom_value(m, "shmfs_inodes")) > base;
	     i++)
		usleep(10 * 1000);
	EXPECT_EQ(now, base);
	EXPECT_EQ(prom_value(m, "shmfs_pruned_names_total") - pruned,
		  kPosix + kSysv);
}

// A pid that exits and comes back as another process between two passes
// is that other process: never the pid of a file it does not map.
TEST_F(Busy, AReusedPidIsTheProcessThatHasItNow)
{
	pid_t pid;
	{
		Holder a;
		ASSERT_TRUE(hold(a, 6, 6));
		pid = a.pid;
		EXPECT_EQ(get_xattr(posix_path(names[6]), "user.shm.pids"),
			  std::to_string(pid));
		EXPECT_EQ(get_xattr(sysv_path(ids[6]), "user.shm.pids"),
			  std::to_string(pid));
	} // killed and reaped: its pid is free
	Holder b;
	ASSERT_TRUE(hold(b, 7, 7, pid)) << strerror(errno);
	ASSERT_EQ(b.pid, pid);
	for (int i : { 6, 7 }) {
		std::string want = i == 7 ? std::to_string(pid) : "";
		EXPECT_EQ(get_xattr(posix_path(names[(size_t)i]),
				    "user.shm.pids"),
			  want);
		EXPECT_EQ(get_xattr(sysv_path(ids[(size_t)i]), "user.shm.pids"),
			  want);
		EXPECT_EQ(maps_has(pid, ids[(size_t)i], 0, 0), i == 7);
	}
}

} // namespace
