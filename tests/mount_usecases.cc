// mount_usecases.cc - the seed articles' four uses of shared memory, end to
// end through a real mount against native attachers: producer/consumer
// with a POSIX semaphore (both directions), parent and child sharing a
// mapping of the mount under a native watcher, 200 read-only mappers of
// one config, and a daemon killed in the middle of heavy writes.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "harness.h"

using namespace shmfs_test;

namespace {

const size_t kRec = 64;	   // one record
const size_t kSlots = 256; // records in the ring: 16 KiB, four pages

// Record seq: its number, then bytes that depend on it, into r (kRec
// bytes).  Allocates nothing: a child forked from this multi-threaded
// process may not call malloc (another thread may have held its lock at
// the fork; under ASan a writer then waited forever).
void fill_record(uint32_t seq, char *r)
{
	memcpy(r, &seq, 4);
	for (size_t k = 4; k < kRec; k++)
		r[k] = (char)(seq * 31 + k * 7);
}

std::string record(uint32_t seq)
{
	std::string r(kRec, '\0');
	fill_record(seq, &r[0]);
	return r;
}

double now_s()
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

// Exit status of child pid (-1 if it did not exit normally).
int wait_child(pid_t pid)
{
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Wait for pid up to secs; a process still there then is reported (where
// the kernel holds it) and killed, so that a stuck process fails the test
// with a reason instead of hanging it.  Its exit status, or -1.
int wait_bounded(pid_t pid, const char *what, double secs)
{
	int st = 0;
	for (int i = 0; i < secs * 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(10000);
	}
	std::string p = "/proc/" + std::to_string(pid);
	ADD_FAILURE() << what << " " << pid << " still running after " << secs
		      << " s: state " << read_file(p + "/stat") << "wchan "
		      << read_file(p + "/wchan") << "\nstack\n"
		      << read_file(p + "/stack");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

// Two named semaphores guarding a ring of kSlots records.
struct Ring {
	sem_t *full = SEM_FAILED, *empty = SEM_FAILED;
	bool open()
	{
		sem_unlink("/shmfs-test-full");
		sem_unlink("/shmfs-test-empty");
		full = sem_open("/shmfs-test-full", O_CREAT | O_EXCL, 0600, 0);
		empty = sem_open("/shmfs-test-empty", O_CREAT | O_EXCL, 0600,
				 kSlots);
		return full != SEM_FAILED && empty != SEM_FAILED;
	}
	// sem_wait with a deadline, so that a lost wake-up fails the test.
	static bool wait(sem_t *s)
	{
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 10;
		while (sem_timedwait(s, &t) < 0)
			if (errno != EINTR)
				return false;
		return true;
	}
	~Ring()
	{
		if (full != SEM_FAILED)
			sem_close(full);
		if (empty != SEM_FAILED)
			sem_close(empty);
		sem_unlink("/shmfs-test-full");
		sem_unlink("/shmfs-test-empty");
	}
};

class UseCase : public MountTest {};

// 1a. The producer writes through the mount, half of the records with
// write() and half through a MAP_SHARED mapping of the mount + msync; the
// consumer reads the POSIX object natively (shm_open + mmap).
TEST_F(UseCase, ProducerThroughTheMountConsumerNative)
{
	const uint32_t n = 4000;
	make_posix("shmfs-test-ring", kSlots * kRec, 0600);
	Ring ring;
	ASSERT_TRUE(ring.open());
	pid_t producer = fork();
	if (producer == 0) {
		int fd = open(posix_path("shmfs-test-ring").c_str(), O_RDWR);
		char *map =
			(char *)mmap(nullptr, kSlots * kRec,
				     PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (fd < 0 || map == MAP_FAILED)
			_exit(2);
		for (uint32_t i = 0; i < n; i++) {
			std::string r = record(i);
			size_t at = i % kSlots * kRec;
			if (!Ring::wait(ring.empty))
				_exit(3);
			if (i % 2 == 0) {
				if (pwrite(fd, r.data(), kRec, (off_t)at) !=
				    (ssize_t)kRec)
					_exit(4);
			} else {
				memcpy(map + at, r.data(), kRec);
				char *page = map + (at & ~(size_t)4095);
				if (msync(page, 4096, MS_SYNC) != 0)
					_exit(5);
			}
			sem_post(ring.full);
		}
		_exit(0);
	}
	int nfd = shm_open("/shmfs-test-ring", O_RDONLY, 0);
	const char *native = (const char *)mmap(nullptr, kSlots * kRec,
						PROT_READ, MAP_SHARED, nfd, 0);
	ASSERT_NE(native, MAP_FAILED);
	uint32_t got = 0, bad = 0;
	for (; got < n; got++) {
		if (!Ring::wait(ring.full))
			break;
		if (std::string(native + got % kSlots * kRec, kRec) !=
		    record(got))
			bad++;
		sem_post(ring.empty);
	}
	EXPECT_EQ(wait_child(producer), 0);
	EXPECT_EQ(got, n);
	EXPECT_EQ(bad, 0u);
	munmap((void *)native, kSlots * kRec);
	close(nfd);
}

// 1b. The reverse: the producer writes a System V segment natively
// (shmat); the consumer reads through the mount, with an O_DIRECT
// descriptor held open (every read asks the daemon) and, every 100
// records, with a fresh open (which drops the kernel's cached pages).
TEST_F(UseCase, ProducerNativeConsumerThroughTheMount)
{
	const uint32_t n = 4000;
	int id = make_sysv(kSlots * kRec, 0600);
	Ring ring;
	ASSERT_TRUE(ring.open());
	pid_t producer = fork();
	if (producer == 0) {
		char *seg = (char *)shmat(id, nullptr, 0);
		if (seg == (char *)-1)
			_exit(2);
		for (uint32_t i = 0; i < n; i++) {
			if (!Ring::wait(ring.empty))
				_exit(3);
			memcpy(seg + i % kSlots * kRec, record(i).data(), kRec);
			sem_post(ring.full);
		}
		_exit(0);
	}
	int fd = open(sysv_path(id).c_str(), O_RDONLY | O_DIRECT);
	ASSERT_GE(fd, 0);
	uint32_t got = 0, bad = 0, bad_fresh = 0;
	for (; got < n; got++) {
		char buf[kRec];
		off_t at = (off_t)(got % kSlots * kRec);
		if (!Ring::wait(ring.full))
			break;
		if (pread(fd, buf, kRec, at) != (ssize_t)kRec ||
		    std::string(buf, kRec) != record(got))
			bad++;
		if (got % 100 == 0) {
			int f = open(sysv_path(id).c_str(), O_RDONLY);
			if (pread(f, buf, kRec, at) != (ssize_t)kRec ||
			    std::string(buf, kRec) != record(got))
				bad_fresh++;
			close(f);
		}
		sem_post(ring.empty);
	}
	EXPECT_EQ(wait_child(producer), 0);
	EXPECT_EQ(got, n);
	EXPECT_EQ(bad, 0u);
	EXPECT_EQ(bad_fresh, 0u);
	close(fd);
}

// 2. A parent maps a file of the mount MAP_SHARED and forks; parent and
// child play ping-pong through the mapping while a native process watches
// the segment (shmat): each counter it sees only moves forward, never past
// the end, and it sees the end.  (Pages reach the segment as write-backs:
// the order of stores to different words within one is not kept, so the
// watcher checks each counter on its own.)
TEST_F(UseCase, ParentAndChildShareAMappingUnderANativeWatcher)
{
	const uint32_t rounds = 2000;
	int id = make_sysv(4096, 0600);
	pid_t watcher = fork();
	if (watcher == 0) {
		volatile uint32_t *seg =
			(volatile uint32_t *)shmat(id, nullptr, SHM_RDONLY);
		if (seg == (volatile uint32_t *)-1)
			_exit(2);
		uint32_t last_ping = 0, last_pong = 0;
		double t0 = now_s();
		while (now_s() - t0 < 30) {
			uint32_t ping = seg[0], pong = seg[16];
			if (ping < last_ping || pong < last_pong)
				_exit(10); // went backwards
			if (ping > rounds || pong > rounds)
				_exit(11); // a value nobody stored
			last_ping = ping, last_pong = pong;
			if (ping == rounds && pong == rounds)
				_exit(0);
			usleep(100);
		}
		_exit(12); // never saw the end
	}
	int fd = open(sysv_path(id).c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	volatile uint32_t *map = (volatile uint32_t *)mmap(
		nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE((void *)map, MAP_FAILED);
	pid_t child = fork();
	if (child == 0) {
		for (uint32_t k = 1; k <= rounds; k++) {
			double t0 = now_s();
			while (map[0] != k)
				if (now_s() - t0 > 10)
					_exit(3);
			map[16] = k;
		}
		_exit(0);
	}
	bool stuck = false;
	for (uint32_t k = 1; k <= rounds && !stuck; k++) {
		map[0] = k;
		double t0 = now_s();
		while (map[16] != k && !stuck)
			stuck = now_s() - t0 > 10;
	}
	EXPECT_FALSE(stuck);
	EXPECT_EQ(wait_child(child), 0);
	// No msync: the refresh brings the last round to the watcher.
	EXPECT_EQ(wait_child(watcher), 0);
	munmap((void *)map, 4096);
	close(fd);
}

// A file's Rss, Shared_Clean and private kB in /proc/pid/smaps.
struct Smaps {
	long rss = -1, shared = 0, priv = 0;
	uintptr_t start = 0; // of the mapping
};

Smaps smaps_of(pid_t pid, const std::string &path)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/smaps");
	std::string line;
	Smaps s;
	bool in = false;
	while (std::getline(f, line)) {
		std::istringstream ss(line);
		std::string key, perms;
		ss >> key >> perms;
		if (perms.size() == 4 && (perms[3] == 's' || perms[3] == 'p')) {
			// A mapping's first line: range perms offset dev inode
			// path
			in = line.size() > path.size() &&
			     line.compare(line.size() - path.size(),
					  path.size(), path) == 0;
			if (in)
				s.start = strtoull(key.c_str(), nullptr, 16);
			continue;
		}
		if (!in)
			continue;
		long kb = atol(perms.c_str());
		if (key == "Rss:")
			s.rss = kb;
		else if (key == "Shared_Clean:" || key == "Shared_Dirty:")
			s.shared += kb;
		else if (key == "Private_Clean:" || key == "Private_Dirty:")
			s.priv += kb;
	}
	return s;
}

// The physical frames behind pages [start, start + n pages) of pid (root
// reads them from /proc/pid/pagemap), added to frames.
void frames_of(pid_t pid, uintptr_t start, size_t pages,
	       std::set<uint64_t> *frames)
{
	int fd = open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(),
		      O_RDONLY);
	for (size_t i = 0; fd >= 0 && i < pages; i++) {
		uint64_t e = 0;
		off_t at = (off_t)((start / 4096 + i) * 8);
		if (pread(fd, &e, 8, at) == 8 && (e >> 63))
			frames->insert(e & ((1ULL << 55) - 1));
	}
	if (fd >= 0)
		close(fd);
}

// Of n one-byte answers on fd ('y' or 'n'), how many are 'y'; stops
// early at end of file.
int count_yes(int fd, int n)
{
	int good = 0;
	for (int i = 0; i < n; i++) {
		char c = 0;
		if (read(fd, &c, 1) != 1)
			break;
		good += c == 'y';
	}
	return good;
}

class ReadOnlyConfig : public MountTest {
protected:
	// Nothing changes the config natively: without the refresh the
	// mappers' pages stay put while their memory is counted.
	std::vector<std::string> mount_args() override
	{
		return { "-o", "refresh=0" };
	}
};

// 3. cp a 100 KiB config into posix/; 200 processes map it read-only
// through the mount and check every byte; together they use one copy.
TEST_F(ReadOnlyConfig, TwoHundredMappersShareOneCopy)
{
	const size_t size = 100 * 1024;
	const int procs = 200;
	std::string src = m.dir + ".config";
	std::string data = pattern(size, 3);
	{
		std::ofstream(src, std::ios::binary) << data;
	}
	posix.push_back("shmfs-test-config");
	ASSERT_EQ(run("cp " + src + " " + posix_path("shmfs-test-config") +
		      " && echo ok"),
		  "ok\n");
	unlink(src.c_str());
	std::string path = posix_path("shmfs-test-config");
	int ready[2], go[2], bye[2];
	ASSERT_EQ(pipe(ready), 0);
	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(bye), 0);
	std::vector<pid_t> kids;
	for (int i = 0; i < procs; i++) {
		pid_t p = fork();
		if (p == 0) {
			close(go[1]);
			close(bye[1]);
			int fd = open(path.c_str(), O_RDONLY);
			const char *map = (const char *)mmap(
				nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
			char ok = map != MAP_FAILED && memcmp(map, data.data(),
							      size) == 0 ?
					  'y' :
					  'n';
			if (write(ready[1], &ok, 1) != 1)
				_exit(2);
			char c;
			// Every open dropped the cached pages: touch them again
			// once all 200 have opened, then hold them.
			if (read(go[0], &c, 1) != 1)
				_exit(3);
			ok = map != MAP_FAILED && memcmp(map, data.data(),
							 size) == 0 ?
				     'y' :
				     'n';
			if (write(ready[1], &ok, 1) != 1)
				_exit(2);
			if (read(bye[0], &c, 1) !=
			    0) // until the parent is done
				_exit(3);
			_exit(0);
		}
		kids.push_back(p);
	}
	close(go[0]);
	close(bye[0]);
	close(ready[1]); // a child that dies ends the reads below
	EXPECT_EQ(count_yes(ready[0], procs), procs);
	ASSERT_EQ(write(go[1], std::string(procs, 'g').data(), procs), procs);
	EXPECT_EQ(count_yes(ready[0], procs), procs);
	long rss = 0, shared = 0, priv = 0;
	std::set<uint64_t> frames;
	for (pid_t p : kids) {
		Smaps s = smaps_of(p, path);
		EXPECT_EQ(s.rss, (long)(size / 1024)) << "pid " << p;
		rss += s.rss, shared += s.shared, priv += s.priv;
		frames_of(p, s.start, size / 4096, &frames);
	}
	// The object's own pages, mapped natively: on the passthrough path
	// the mappers' pages are these; on the fallback they are a copy.
	std::set<uint64_t> own;
	{
		int fd = shm_open("/shmfs-test-config", O_RDONLY, 0);
		void *p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		ASSERT_NE(p, MAP_FAILED);
		for (size_t i = 0; i < size; i += 4096)
			(void)*(volatile const char *)((const char *)p + i);
		frames_of(getpid(), (uintptr_t)p, size / 4096, &own);
		munmap(p, size);
	}
	bool pt = get_xattr(path, "user.shm.io") == "passthrough";
	printf("# %d mappers of a %zu KiB config: Rss %ld KiB counted per "
	       "process, %ld KiB of it shared, %ld KiB private; %zu distinct "
	       "pages behind all of them: %s\n",
	       procs, size / 1024, rss, shared, priv, frames.size(),
	       pt ? "the object's own pages in /dev/shm, no copy" :
		    "one copy in the page cache, besides the object's own");
	EXPECT_EQ(frames == own, pt);
	EXPECT_EQ(priv, 0);
	EXPECT_EQ(shared, rss);
	EXPECT_EQ(frames.size(), size / 4096); // one copy, shared by all
	close(go[1]);
	close(bye[1]);		  // they exit
	std::map<int, int> exits; // status -> children
	for (pid_t p : kids)
		exits[wait_child(p)]++;
	EXPECT_EQ(exits, (std::map<int, int>{ { 0, procs } }));
	close(ready[0]);
}

// 4. kill -9 the daemon in the middle of heavy writes through the mount.
// Every write that returned (write(): its return; a mapping: msync's) is
// in the segment, the segments keep their size, and a new daemon mounts
// over the dead mount point with no manual unmount.
class CrashSurvival : public testing::Test {
protected:
	std::vector<int> ids;
	~CrashSurvival() override
	{
		for (int id : ids)
			shmctl(id, IPC_RMID, nullptr);
		shm_unlink("/shmfs-test-crash");
	}

	void crash_and_remount(const std::vector<std::string> &args);
};

void CrashSurvival::crash_and_remount(const std::vector<std::string> &args)
{
	const size_t size = 8 << 20, recs = size / kRec;
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	ids.push_back(id);
	shm_unlink("/shmfs-test-crash");
	int pfd = shm_open("/shmfs-test-crash", O_CREAT | O_RDWR, 0600);
	ASSERT_EQ(ftruncate(pfd, (off_t)size), 0);
	close(pfd);

	Mount a;
	std::string err;
	ASSERT_TRUE(a.start(args, &err)) << err;
	std::string files[2] = { a.path("sysv/" + std::to_string(id)),
				 a.path("posix/shmfs-test-crash") };
	// Two writers per file: one with write(), one through a mapping;
	// each reports every acknowledged record on its pipe.
	int acks[2];
	ASSERT_EQ(pipe(acks), 0);
	std::vector<pid_t> writers;
	for (int w = 0; w < 4; w++) {
		pid_t p = fork();
		if (p == 0) {
			close(acks[0]);
			signal(SIGBUS, SIG_DFL);
			int fd = open(files[w / 2].c_str(), O_RDWR);
			if (fd < 0)
				_exit(2);
			bool mapped = w % 2;
			char *map = mapped ?
					    (char *)mmap(nullptr, size,
							 PROT_READ | PROT_WRITE,
							 MAP_SHARED, fd, 0) :
					    nullptr;
			if (map == MAP_FAILED)
				_exit(2);
			// Writer w owns the records i with i % 2 == w % 2.
			for (uint32_t i = w % 2; i < recs; i += 2) {
				char r[kRec];
				fill_record(i, r);
				size_t at = i * kRec;
				if (mapped) {
					memcpy(map + at, r, kRec);
					if (msync(map + (at & ~(size_t)4095),
						  4096, MS_SYNC) != 0)
						_exit(0);
				} else if (pwrite(fd, r, kRec, (off_t)at) !=
					   (ssize_t)kRec) {
					_exit(0);
				}
				uint32_t ack[2] = { (uint32_t)(w / 2), i };
				if (write(acks[1], ack, sizeof(ack)) !=
				    sizeof(ack))
					_exit(0);
			}
			_exit(0);
		}
		writers.push_back(p);
	}
	close(acks[1]);
	// Let them run until plenty is acknowledged on both files, then
	// kill the daemon.
	std::vector<std::vector<uint32_t>> acked(2);
	uint32_t ack[2];
	while (std::min(acked[0].size(), acked[1].size()) < 2000 &&
	       read(acks[0], ack, sizeof(ack)) == sizeof(ack))
		acked[ack[0]].push_back(ack[1]);
	ASSERT_EQ(kill(a.pid, SIGKILL), 0);
	wait_bounded(a.pid, "the killed daemon", 30);
	a.pid = -1;
	// The writers stop at their first failed write (passthrough writers
	// may finish their records first): read their acks until they are
	// all gone, or until none has said anything for 60 s (one is stuck:
	// wait_bounded says where).
	struct pollfd pw = { acks[0], POLLIN, 0 };
	while (poll(&pw, 1, 60 * 1000) > 0 &&
	       read(acks[0], ack, sizeof(ack)) == sizeof(ack))
		acked[ack[0]].push_back(ack[1]);
	for (pid_t p : writers)
		wait_bounded(p, "writer", 1);
	close(acks[0]);
	// Natively: every acknowledged record, whole.
	std::string bytes[2] = { sysv_bytes(id), "" };
	{
		std::ifstream f("/dev/shm/shmfs-test-crash", std::ios::binary);
		std::stringstream ss;
		ss << f.rdbuf();
		bytes[1] = ss.str();
	}
	for (int k = 0; k < 2; k++) {
		ASSERT_EQ(bytes[k].size(), size) << files[k];
		size_t missing = 0;
		for (uint32_t i : acked[k])
			missing += bytes[k].compare(i * kRec, kRec,
						    record(i)) != 0;
		printf("# %s: %zu writes acknowledged before the kill, %zu "
		       "missing\n",
		       k ? "posix" : "sysv", acked[k].size(), missing);
		EXPECT_GT(acked[k].size(), 0u);
		EXPECT_EQ(missing, 0u);
	}
	// A new daemon on the same directory: no manual unmount first.
	Mount b;
	b.dir = a.dir;
	ASSERT_TRUE(b.start({}, &err)) << err;
	EXPECT_EQ(read_file(b.path("posix/shmfs-test-crash")), bytes[1]);
	EXPECT_EQ(read_file(b.path("sysv/" + std::to_string(id))), bytes[0]);
	EXPECT_EQ(b.stop(), 0) << read_file(b.log);
	unlink(a.log.c_str());
	unlink(b.log.c_str());
}

// With auto_unmount (the default as root) the dead mount goes by itself.
TEST_F(CrashSurvival, KillDashNineUnderHeavyWrites)
{
	crash_and_remount({});
}

// Without it the dead mount stays (ENOTCONN) and the next daemon detaches
// it.
TEST_F(CrashSurvival, KillDashNineWithoutAutoUnmount)
{
	crash_and_remount({ "--no-auto-unmount" });
}

} // namespace
