// mount_limits.cc - no unprivileged user can crash, stall or bloat the
// daemon: concurrent reads of one descriptor, opens of huge segments,
// descriptors, pending by-key/ names and /proc passes, each tried as an
// unprivileged uid while root (and another uid) must keep working.
#include <errno.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <grp.h>
#include <unistd.h>

#include <linux/aio_abi.h>
#include <sys/syscall.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

const uid_t kNobody = 65534;
const gid_t kNogroup = 65534;
const uid_t kOther = 65533;

// A number from the daemon's /proc/PID/status line `key` (kB), or -1.
long status_kb(pid_t pid, const std::string &key)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/status");
	for (std::string line; std::getline(in, line);)
		if (line.rfind(key + ":", 0) == 0)
			return atol(line.c_str() + key.size() + 1);
	return -1;
}

// The value of a sample in shmfs.prom, or -1.
double prom_value(const std::string &text, const std::string &series)
{
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);)
		if (line.rfind(series + " ", 0) == 0)
			return atof(line.c_str() + series.size() + 1);
	return -1;
}

class Limits : public MountTest {
protected:
	// The daemon still serves: a stat of the root answers.
	void expect_serving()
	{
		struct stat st;
		EXPECT_EQ(stat(m.dir.c_str(), &st), 0) << m.log;
		EXPECT_EQ(kill(m.pid, 0), 0) << "the daemon died\n" << m.log;
	}
};

// Many reads of one `events` descriptor at once (the kernel takes no
// position lock for a stream): each is served apart, nobody's reads end
// well and the daemon lives (under ASan, a shared buffer was a
// use-after-free).
TEST_F(Limits, ConcurrentReadsOfOneEventsDescriptor)
{
	// A request through the mount has returned: the watcher watches.
	// Objects made one by one until the ring holds 8 kB of lines.
	(void)read_file(m.path("shmfs.prom"));
	struct stat st = {};
	for (int i = 0; i < 500 && st.st_size < 8000; i++) {
		if (i < 200)
			make_posix("shmfs-test-ev" + std::to_string(i), 16,
				   0600);
		stat(m.path("events").c_str(), &st);
		usleep(20000);
	}
	ASSERT_GE(st.st_size, 8000) << "the watcher wrote no lines";
	std::string events = m.path("events");
	int r = as_user(kNobody, kNogroup, [&] {
		int fd = open(events.c_str(), O_RDONLY);
		if (fd < 0)
			return errno;
		// io_submit: sixteen reads in flight on the one descriptor
		// (read(2) from threads would be serialised by its position).
		aio_context_t ctx = 0;
		if (syscall(SYS_io_setup, 64, &ctx) < 0)
			return errno;
		std::vector<std::vector<char>> bufs(16);
		int bad = 0;
		for (int round = 0; round < 100 && !bad; round++) {
			struct iocb cbs[16], *list[16];
			for (int i = 0; i < 16; i++) {
				bufs[i].resize(i % 2 ? 1 << 20 : 4096);
				cbs[i] = {};
				cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
				cbs[i].aio_fildes = (uint32_t)fd;
				cbs[i].aio_buf =
					(uint64_t)(uintptr_t)bufs[i].data();
				cbs[i].aio_nbytes = bufs[i].size();
				list[i] = &cbs[i];
			}
			long n = syscall(SYS_io_submit, ctx, 16, list);
			if (n < 0) {
				bad = errno;
				break;
			}
			struct io_event evs[16];
			long got = 0;
			while (got < n) {
				long k = syscall(SYS_io_getevents, ctx, 1,
						 n - got, evs, nullptr);
				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0) {
					bad = errno;
					break;
				}
				for (long e = 0; e < k; e++)
					if ((long)evs[e].res < 0)
						bad = (int)-(long)evs[e].res;
				got += k;
			}
		}
		syscall(SYS_io_destroy, ctx);
		close(fd);
		return bad;
	});
	EXPECT_EQ(r, 0) << strerror(r);
	expect_serving();
	// Every line still whole JSON, as one reader sees it.
	std::string text = read_file(events);
	EXPECT_FALSE(text.empty());
	EXPECT_EQ(text.back(), '\n');
}

// Segments made with SHM_NORESERVE cost nothing: opening them must not
// fill the daemon's address space (an open held one attachment of the
// whole segment), and root's open of a small segment keeps working.
TEST_F(Limits, OpensOfHugeSegmentsMapNothing)
{
	std::vector<int> ids;
	for (int shift = 46; shift >= 12; shift -= 2) {
		int id = shmget(IPC_PRIVATE, (size_t)1 << shift,
				IPC_CREAT | SHM_NORESERVE | 0600);
		ASSERT_GE(id, 0)
			<< "shmget 2^" << shift << ": " << strerror(errno);
		shmids.push_back(id);
		struct shmid_ds ds;
		ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
		ds.shm_perm.uid = kNobody;
		ASSERT_EQ(shmctl(id, IPC_SET, &ds), 0);
		ids.push_back(id);
	}
	long before = status_kb(m.pid, "VmSize");
	Holder h;
	ASSERT_TRUE(h.start([&] {
		if (setgid(kNogroup) || setuid(kNobody))
			return false;
		// Twice each: every open was an attachment of its own.
		for (int round = 0; round < 2; round++)
			for (int id : ids)
				if (open(sysv_path(id).c_str(), O_RDWR) < 0)
					return false;
		return true;
	})) << "nobody could not open its own segments";
	long during = status_kb(m.pid, "VmSize");
	// What is open maps nothing: the daemon's size does not follow the
	// 2 x 85 TiB opened (allow 1 GiB for threads and allocations).
	EXPECT_LT(during - before, 1L << 20) << before << " kB -> " << during;
	int mine = make_sysv(4096, 0600);
	int fd = open(sysv_path(mine).c_str(), O_RDWR);
	EXPECT_GE(fd, 0) << strerror(errno);
	EXPECT_EQ(pwrite(fd, "root", 4, 0), 4);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(sysv_bytes(mine).substr(0, 4), "root");
	h.stop();
	expect_serving();
}

// An open through the mount of a removed segment is an open file of a
// removed file: its bytes stay while it is open, and it counts in no
// nattch (the daemon attaches nothing while a file is open).
TEST_F(Limits, AnOpenHoldsNoAttachment)
{
	int id = make_sysv(8192, 0600);
	int fd = open(sysv_path(id).c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(proc_sysv_row(id)["nattch"], "0");
	EXPECT_EQ(pwrite(fd, "kept", 4, 8000), 4);
	EXPECT_EQ(sysv_bytes(id).substr(8000, 4), "kept");
	// truncate zeroes the tail, through the memory file.
	EXPECT_EQ(ftruncate(fd, 8001), 0);
	std::string b = sysv_bytes(id);
	EXPECT_EQ(b.substr(8000, 4), std::string("k\0\0\0", 4));
	EXPECT_EQ(b.size(), 8192u);
	close(fd);
}

// One uid's opens end in EMFILE at its share; another uid's and root's
// opens go on working meanwhile; and the daemon's soft descriptor limit
// is its hard one.
class LimitsShare : public Limits {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "-o", "max_open_per_uid=50" };
	}
};

TEST_F(LimitsShare, OneUidsOpensEndAtItsShare)
{
	make_posix("shmfs-test-share", 10, 0666);
	std::string f = posix_path("shmfs-test-share");
	std::string dir = m.path("posix");
	std::string lim =
		read_file("/proc/" + std::to_string(m.pid) + "/limits");
	unsigned long soft = 0, hard = 0;
	size_t at = lim.find("Max open files");
	ASSERT_NE(at, std::string::npos);
	sscanf(lim.c_str() + at + 14, "%lu %lu", &soft, &hard);
	EXPECT_EQ(soft, hard);
	Holder h;
	ASSERT_TRUE(h.start([&] {
		if (setgroups(0, nullptr) || setgid(kNogroup) ||
		    setuid(kNobody))
			return false;
		for (int i = 0; i < 50; i++)
			if (open(f.c_str(), O_RDONLY) < 0)
				return false;
		errno = 0;
		if (open(f.c_str(), O_RDONLY) >= 0 || errno != EMFILE)
			return false;
		// An open directory keeps its listing: it counts too.
		errno = 0;
		return open(dir.c_str(), O_RDONLY | O_DIRECTORY) < 0 &&
		       errno == EMFILE;
	})) << "nobody's 51st open (of a file, then of a directory) was not "
	       "EMFILE";
	EXPECT_EQ(as_user(kOther, kNogroup,
			  [&] {
				  int fd = open(f.c_str(), O_RDWR);
				  if (fd < 0)
					  return errno;
				  close(fd);
				  return 0;
			  }),
		  0);
	EXPECT_EQ(read_file(f).size(), 10u);
	std::string prom = read_file(m.path("shmfs.prom"));
	EXPECT_EQ(prom_value(prom, "shmfs_opens_held"), 50);
	EXPECT_GE(prom_value(prom, "shmfs_opens_refused_total"), 1);
	h.stop();
	// The share comes back when the files close.
	for (int i = 0; i < 100; i++) {
		if (prom_value(read_file(m.path("shmfs.prom")),
			       "shmfs_opens_held") == 0)
			break;
		usleep(20000);
	}
	EXPECT_EQ(
		prom_value(read_file(m.path("shmfs.prom")), "shmfs_opens_held"),
		0);
}

// Pending by-key/ files live only in the daemon: one uid may keep a
// sixteenth of kernel.shmmni of them, then ENOSPC (shmget's answer past
// shmmni); root still makes one.
TEST_F(Limits, PendingByKeyNamesAreBounded)
{
	unsigned long shmmni =
		strtoul(read_file("/proc/sys/kernel/shmmni").c_str(), 0, 10);
	ASSERT_GT(shmmni, 0u);
	unsigned long share = std::max(1ul, shmmni / 16);
	std::string dir = m.path("sysv/by-key/");
	// Keys no segment here has.
	auto name = [&](unsigned long i) {
		char b[16];
		snprintf(b, sizeof(b), "0x%08lx", 0x5e000000ul + i);
		return dir + b;
	};
	int r = as_user(kNobody, kNogroup, [&] {
		for (unsigned long i = 0; i < share; i++) {
			int fd = open(name(i).c_str(),
				      O_CREAT | O_EXCL | O_WRONLY, 0600);
			if (fd < 0)
				return 100 + (errno & 0x3f);
			close(fd);
		}
		errno = 0;
		int fd = open(name(share).c_str(), O_CREAT | O_EXCL | O_WRONLY,
			      0600);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		return errno;
	});
	EXPECT_EQ(r, ENOSPC);
	int fd = open(name(share + 1).c_str(), O_CREAT | O_EXCL | O_WRONLY,
		      0600);
	EXPECT_GE(fd, 0) << strerror(errno);
	if (fd >= 0)
		close(fd);
	for (unsigned long i = 0; i <= share + 1; i++)
		unlink(name(i).c_str());
	// Nothing was made in the kernel.
	for (unsigned long i = 0; i <= share + 1; i++)
		EXPECT_LT(shmget((key_t)(0x5e000000ul + i), 0, 0), 0);
}

// A question asked again needs a new pass each time; askers in a loop
// may not start them more often than procscan.h's bound, and root's
// listing meanwhile answers.
TEST_F(Limits, AskingAgainStartsBoundedPasses)
{
	make_posix("shmfs-test-pids", 4096, 0644);
	std::string f = posix_path("shmfs-test-pids");
	double before = prom_value(read_file(m.path("shmfs.prom")),
				   "shmfs_proc_passes_total");
	double t0 = now_ms();
	// 16 askers as nobody, each for 2 s (so that none outlives the test).
	std::vector<pid_t> askers;
	for (int i = 0; i < 16; i++) {
		pid_t p = fork();
		if (p == 0) {
			if (setgid(kNogroup) || setuid(kNobody))
				_exit(1);
			char v[256];
			while (now_ms() - t0 < 2000)
				getxattr(f.c_str(), "user.shm.pids", v,
					 sizeof(v));
			_exit(0);
		}
		askers.push_back(p);
	}
	usleep(500 * 1000);
	double worst = 0;
	for (int i = 0; i < 20; i++) {
		double s = now_ms();
		EXPECT_FALSE(list_dir(m.path("posix")).empty());
		worst = std::max(worst, now_ms() - s);
		usleep(50 * 1000);
	}
	for (pid_t p : askers) {
		int st = 0;
		EXPECT_EQ(waitpid(p, &st, 0), p);
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	double took = now_ms() - t0;
	double after = prom_value(read_file(m.path("shmfs.prom")),
				  "shmfs_proc_passes_total");
	// At most one pass per SHM_PROC_GAP_US (50 ms), and one more.
	EXPECT_LE(after - before, took / 50 + 2)
		<< (after - before) << " passes in " << took << " ms";
	EXPECT_GT(after - before, 0);
	RecordProperty("worst_listing_ms", std::to_string(worst));
	expect_serving();
}

} // namespace
