// mount_stress.cc - a randomized stress with every byte checked against a
// model.  Four worker processes share a System V segment and a POSIX
// object; each owns every fourth 4-byte granule (so every page, and every
// 8-byte word, is written by two or more of them at once) and writes its
// granules natively, with write() through the mount and through a
// MAP_SHARED mapping of the mount, reading them back every way there is.
// Each also creates, writes, truncates and removes a private POSIX object
// natively and through the mount, and keeps using a handle to it after it
// is removed.  A fixed number of operations from fixed seeds; at the end
// every byte is compared, natively and through the mount.
//
// What "reads back" must give follows the README's guarantees: at once,
// except a native write seen through the mount's cached pages and a
// mapping's unsynced write seen natively, which must arrive within the
// refresh bound (asserted < 2 s here).
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <random>
#include <string>

#include "harness.h"

using namespace shmfs_test;

namespace {

const int kWorkers = 4;
const size_t kArena = 64 * 1024;
const size_t kGranules = kArena / 4;
// Fixed by default; SHMFS_STRESS_SEED and SHMFS_STRESS_OPS explore others.
int ops_count()
{
	const char *v = getenv("SHMFS_STRESS_OPS");
	return v ? atoi(v) : 1500;
}
unsigned seed_base()
{
	const char *v = getenv("SHMFS_STRESS_SEED");
	return v ? (unsigned)atoi(v) : 1000;
}
const int kOps = ops_count();

enum Last { NONE, NATIVE, WRITE, MAPPED, SYNCED };

double now_s()
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

// One shared arena as one worker sees it.
struct Arena {
	volatile uint32_t *native = nullptr; // shmat / mmap of /dev/shm
	volatile uint32_t *mapped = nullptr; // MAP_SHARED through the mount
	int fd = -1;			     // the mount file, O_RDWR
	int direct = -1;		     // the mount file, O_DIRECT
	Last last[kGranules] = {};
	uint32_t model[kGranules] = {};
};

struct Worker {
	int w;
	std::mt19937 rng;
	Arena a[2];
	uint32_t seq = 0;
	std::string name, mpath; // private object: /dev/shm name, mount path
	std::string model;	 // its bytes; exists when has
	bool has = false;
	int fails = 0;
	double worst_wait = 0;

	Worker(int w_, unsigned seed) : w(w_), rng(seed)
	{
	}
	size_t pick(size_t n)
	{
		return rng() % n;
	}
	size_t own_granule()
	{
		return pick(kGranules / kWorkers) * kWorkers + w;
	}
	void fail(const char *what, size_t g, uint32_t want, uint32_t got)
	{
		if (fails++ < 5)
			fprintf(stderr,
				"worker %d: %s granule %zu: want %08x "
				"got %08x\n",
				w, what, g, want, got);
	}

	void write_op(Arena &ar)
	{
		int how = (int)pick(3);
		for (size_t k = 0, n = 1 + pick(8); k < n; k++) {
			size_t g = own_granule();
			uint32_t v =
				(uint32_t)(w + 1) << 24 | (++seq & 0xffffff);
			if (how == 0) {
				// A careful program syncs a mapping before it
				// writes the same bytes another way.
				if (ar.last[g] == MAPPED)
					msync_page(ar, g);
				__atomic_store_n(&ar.native[g], v,
						 __ATOMIC_RELAXED);
				ar.last[g] = NATIVE;
			} else if (how == 1) {
				if (pwrite(ar.fd, &v, 4, (off_t)(g * 4)) != 4)
					fail("pwrite", g, v, 0);
				ar.last[g] = WRITE;
			} else {
				__atomic_store_n(&ar.mapped[g], v,
						 __ATOMIC_RELAXED);
				ar.last[g] = MAPPED;
			}
			ar.model[g] = v;
		}
	}

	void msync_page(Arena &ar, size_t g)
	{
		char *page = (char *)ar.mapped + (g * 4 & ~(size_t)4095);
		if (msync(page, 4096, MS_SYNC) != 0)
			fail("msync", g, 0, (uint32_t)errno);
		for (size_t i = 0; i < 1024; i++) {
			size_t h = (g * 4 & ~(size_t)4095) / 4 + i;
			if (ar.last[h] == MAPPED)
				ar.last[h] = SYNCED;
		}
	}

	uint32_t read_via(Arena &ar, int how, size_t g)
	{
		uint32_t v = 0;
		switch (how) {
		case 0:
			return __atomic_load_n(&ar.native[g], __ATOMIC_RELAXED);
		case 1:
			return __atomic_load_n(&ar.mapped[g], __ATOMIC_RELAXED);
		case 2:
			if (pread(ar.fd, &v, 4, (off_t)(g * 4)) != 4)
				v = ~0u;
			return v;
		default:
			if (pread(ar.direct, &v, 4, (off_t)(g * 4)) != 4)
				v = ~0u;
			return v;
		}
	}

	void read_op(Arena &ar)
	{
		static const char *names[] = { "native read", "mapping read",
					       "pread", "O_DIRECT pread" };
		int how = (int)pick(4);
		for (size_t k = 0, n = 1 + pick(8); k < n; k++) {
			size_t g = own_granule();
			// Which combinations may lag (by up to the refresh).
			bool lag = (ar.last[g] == NATIVE &&
				    (how == 1 || how == 2)) ||
				   (ar.last[g] == MAPPED && how == 0);
			double t0 = now_s();
			uint32_t v = read_via(ar, how, g);
			while (v != ar.model[g] && lag && now_s() - t0 < 2) {
				usleep(1000);
				v = read_via(ar, how, g);
			}
			worst_wait = std::max(worst_wait, now_s() - t0);
			if (v != ar.model[g])
				fail(names[how], g, ar.model[g], v);
		}
	}

	// The private object: every change is checked natively and through
	// a fresh open of the mount at once.
	void check_private()
	{
		int e = 0;
		std::string via_mount = read_file(mpath, &e);
		std::string native = read_file("/dev/shm/" + name);
		if (via_mount != model || native != model || e) {
			if (fails++ < 5)
				fprintf(stderr,
					"worker %d: private object: "
					"model %zu bytes, mount %zu (err %d), "
					"native %zu\n",
					w, model.size(), via_mount.size(), e,
					native.size());
		}
	}

	void private_op()
	{
		bool mount = pick(2);
		std::string p = mount ? mpath : "/dev/shm/" + name;
		if (!has) {
			int fd = open(p.c_str(), O_CREAT | O_EXCL | O_RDWR,
				      0600);
			// The kernel may still hold the name of a natively
			// removed object for the entry timeout (0.5 s).
			for (double t0 = now_s(); fd < 0 && errno == EEXIST &&
						  mount && now_s() - t0 < 2;) {
				usleep(20000);
				fd = open(p.c_str(), O_CREAT | O_EXCL | O_RDWR,
					  0600);
			}
			model = pattern(pick(20000), (unsigned)rng());
			if (fd < 0 || write(fd, model.data(), model.size()) !=
					      (ssize_t)model.size())
				fail("create", 0, 0, (uint32_t)errno);
			close(fd);
			has = true;
		} else {
			int fd = open(p.c_str(), O_RDWR);
			int what = (int)pick(3);
			if (what == 0) { // write a range, maybe past the end
				size_t off = pick(model.size() + 5000);
				std::string d = pattern(1 + pick(9000),
							(unsigned)rng());
				if (pwrite(fd, d.data(), d.size(),
					   (off_t)off) != (ssize_t)d.size())
					fail("private pwrite", off, 0, errno);
				if (model.size() < off + d.size())
					model.resize(off + d.size(), '\0');
				model.replace(off, d.size(), d);
			} else if (what == 1) { // truncate, either way
				size_t size = pick(30000);
				if (ftruncate(fd, (off_t)size) != 0)
					fail("ftruncate", size, 0, errno);
				model.resize(size, '\0');
			} else { // remove it while a mount handle stays open
				int h = open(mpath.c_str(), O_RDWR);
				if (mount ? unlink(mpath.c_str()) :
					    shm_unlink(("/" + name).c_str()))
					fail("remove", 0, 0, errno);
				std::string got(model.size(), '\0');
				if (h < 0 ||
				    pread(h, &got[0], got.size(), 0) !=
					    (ssize_t)got.size() ||
				    got != model)
					fail("read after remove", 0, 0, 0);
				if (pwrite(h, "x", 1, 0) != 1)
					fail("write after remove", 0, 0, errno);
				close(h);
				has = false;
				model.clear();
			}
			close(fd);
		}
		if (has)
			check_private();
	}

	int run()
	{
		for (int i = 0; i < kOps; i++) {
			Arena &ar = a[pick(2)];
			int r = (int)pick(100);
			if (r < 35)
				write_op(ar);
			else if (r < 40)
				msync_page(ar, own_granule());
			else if (r < 90)
				read_op(ar);
			else
				private_op();
		}
		for (Arena &ar : a)
			msync((void *)ar.mapped, kArena, MS_SYNC);
		return fails;
	}
};

// The granules where got is not want (the first few, with both values,
// and how many in all), or "" if none is.
std::string granules_off(const std::string &got, const std::string &want)
{
	if (got.size() != want.size())
		return "size " + std::to_string(got.size()) + ", want " +
		       std::to_string(want.size());
	std::string out;
	int n = 0;
	for (size_t g = 0; g < want.size() / 4; g++) {
		uint32_t a, b;
		memcpy(&a, &got[g * 4], 4);
		memcpy(&b, &want[g * 4], 4);
		if (a == b)
			continue;
		if (n++ < 4) {
			char buf[80];
			snprintf(buf, sizeof(buf),
				 "granule %zu: %08x, want %08x; ", g, a, b);
			out += buf;
		}
	}
	return n ? out + std::to_string(n) + " granules differ" : "";
}

class Stress : public MountTest {
protected:
	// A short refresh: more invalidations racing with everything else.
	std::vector<std::string> mount_args() override
	{
		return { "-o", "refresh=20" };
	}
};

TEST_F(Stress, MixedNativeAndMountTrafficMatchesTheModel)
{
	int id = make_sysv(kArena, 0600);
	make_posix("shmfs-test-stress", kArena, 0600);
	// Where each worker leaves its final model for the parent.
	uint32_t *finals =
		(uint32_t *)mmap(nullptr, 2 * kArena, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(finals, MAP_FAILED);
	std::string files[2] = { sysv_path(id),
				 posix_path("shmfs-test-stress") };
	std::vector<pid_t> kids;
	for (int w = 0; w < kWorkers; w++) {
		posix.push_back("shmfs-test-stress-" + std::to_string(w));
		pid_t p = fork();
		if (p == 0) {
			Worker *wk = new Worker(w, seed_base() + w);
			wk->name = "shmfs-test-stress-" + std::to_string(w);
			wk->mpath = posix_path(wk->name);
			int nfd = shm_open("/shmfs-test-stress", O_RDWR, 0);
			wk->a[0].native =
				(volatile uint32_t *)shmat(id, nullptr, 0);
			wk->a[1].native = (volatile uint32_t *)mmap(
				nullptr, kArena, PROT_READ | PROT_WRITE,
				MAP_SHARED, nfd, 0);
			for (int k = 0; k < 2; k++) {
				Arena &ar = wk->a[k];
				ar.fd = open(files[k].c_str(), O_RDWR);
				ar.direct = open(files[k].c_str(),
						 O_RDONLY | O_DIRECT);
				ar.mapped = (volatile uint32_t *)mmap(
					nullptr, kArena, PROT_READ | PROT_WRITE,
					MAP_SHARED, ar.fd, 0);
				if (ar.fd < 0 || ar.direct < 0 ||
				    ar.mapped == MAP_FAILED)
					_exit(100);
			}
			int fails = wk->run();
			for (int k = 0; k < 2; k++)
				for (size_t g = w; g < kGranules; g += kWorkers)
					finals[k * kGranules + g] =
						wk->a[k].model[g];
			printf("# worker %d: %d ops, longest wait for a "
			       "lagging "
			       "read %.0f ms, %d mismatches\n",
			       w, kOps, wk->worst_wait * 1e3, fails);
			fflush(stdout);
			_exit(fails ? 1 : 0);
		}
		kids.push_back(p);
	}
	for (pid_t p : kids) {
		int st = 0;
		ASSERT_EQ(waitpid(p, &st, 0), p);
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
			<< "worker exit " << st;
	}
	// Every byte, natively and through a fresh open of the mount.
	std::string want[2];
	for (int k = 0; k < 2; k++)
		want[k].assign((const char *)(finals + k * kGranules), kArena);
	EXPECT_EQ(granules_off(sysv_bytes(id), want[0]), "");
	EXPECT_EQ(
		granules_off(read_file("/dev/shm/shmfs-test-stress"), want[1]),
		"");
	EXPECT_EQ(granules_off(read_file(files[0]), want[0]), "");
	EXPECT_EQ(granules_off(read_file(files[1]), want[1]), "");
	munmap(finals, 2 * kArena);
}

} // namespace
