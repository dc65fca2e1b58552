// unit_sysv.cc - the System V backend called directly, no FUSE.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "backend.h"

extern "C" {
#include "origin/creators.h"
#include "origin/origins.h"
#include "kinds/sysv.h"
}

namespace {

const struct shmfs_backend &be = sysv_backend;

class Sysv : public testing::Test {
protected:
	int id = -1;
	std::string name;
	static void SetUpTestSuite()
	{
		struct shmfs_config cfg = {};
		ASSERT_EQ(be.init(&cfg), 0);
	}
	void SetUp() override
	{
		id = shmget(IPC_PRIVATE, 5000, IPC_CREAT | 0640);
		ASSERT_GE(id, 0);
		name = std::to_string(id);
	}
	void TearDown() override
	{
		shmctl(id, IPC_RMID, nullptr);
	}
};

TEST_F(Sysv, ListHasTheSegmentWithItsAttributes)
{
	GArray *a = shm_dirents_new();
	ASSERT_EQ(be.list("", a), 0);
	bool found = false;
	for (guint i = 0; i < a->len; i++) {
		auto &d = g_array_index(a, struct shm_dirent, i);
		if (name == d.name) {
			found = true;
			EXPECT_EQ(d.attr.mode, (mode_t)(S_IFREG | 0640));
			EXPECT_EQ(d.attr.size, 5000u);
			EXPECT_FALSE(d.attr.gone);
		}
	}
	EXPECT_TRUE(found);
	g_array_unref(a);
	EXPECT_EQ(be.list(name.c_str(), shm_dirents_new()), -ENOTDIR);
}

TEST_F(Sysv, NamesMustBeCanonicalShmids)
{
	struct shm_attr a;
	EXPECT_EQ(be.stat(name.c_str(), &a), 0);
	for (std::string bad : { "x", "-0", "01", " 1", "1 ", "2147483648",
				 "99999999999999999999", "1/2" })
		EXPECT_EQ(be.stat(bad.c_str(), &a), -ENOENT) << bad;
	EXPECT_EQ(be.stat("", &a), 0);
	EXPECT_TRUE(S_ISDIR(a.mode));
}

TEST_F(Sysv, StatMatchesIpcStat)
{
	struct shm_attr a;
	struct shmid_ds ds;
	ASSERT_EQ(be.stat(name.c_str(), &a), 0);
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(a.size, ds.shm_segsz);
	EXPECT_EQ(a.uid, ds.shm_perm.uid);
	EXPECT_EQ(a.ctime.tv_sec, ds.shm_ctime);
	EXPECT_EQ(a.atime.tv_sec, ds.shm_ctime); // never attached
	EXPECT_EQ(a.blocks, (5000u + 511) / 512);
}

// The bytes an extent describes: memory, or a descriptor to read from.
static std::string extent_bytes(const struct shm_extent &x)
{
	if (x.mem)
		return std::string((const char *)x.mem, x.len);
	std::string s(x.len, '\0');
	ssize_t n = pread(x.fd, &s[0], x.len, (off_t)x.off);
	s.resize(n < 0 ? 0 : (size_t)n);
	return s;
}

TEST_F(Sysv, ReadWriteTruncateRespectTheFixedSize)
{
	struct shm_handle *h = nullptr;
	ASSERT_EQ(be.open(name.c_str(), O_RDWR, &h), 0);
	EXPECT_EQ(be.write(h, "abcdef", 6, 4996), 4);
	EXPECT_EQ(be.write(h, "x", 1, 5000), -ENOSPC);
	EXPECT_EQ(be.write(h, "x", 0, 5000), 0);
	struct shm_extent x;
	ASSERT_EQ(be.read(h, 4990, 100, &x), 0);
	EXPECT_EQ(x.len, 10u);
	EXPECT_EQ(extent_bytes(x).substr(6), "abcd");
	ASSERT_EQ(be.read(h, 5000, 100, &x), 0);
	EXPECT_EQ(x.len, 0u);
	EXPECT_EQ(be.truncate(name.c_str(), h, 4998), 0);
	ASSERT_EQ(be.read(h, 4996, 4, &x), 0);
	EXPECT_EQ(extent_bytes(x), std::string("ab\0\0", 4));
	EXPECT_EQ(be.truncate(name.c_str(), nullptr, 5001), -EFBIG);
	EXPECT_EQ(be.truncate(name.c_str(), nullptr, 4996), 0);
	EXPECT_EQ(extent_bytes(x), std::string(4, '\0'));
	be.close(h);
	ASSERT_EQ(be.open(name.c_str(), O_RDONLY, &h), 0);
	EXPECT_EQ(be.write(h, "x", 1, 0), -EBADF);
	be.close(h);
}

// The backing descriptor is the segment's memory file: its bytes, its
// size, no attachment of its own (nor has the handle one).
TEST_F(Sysv, BackingIsTheSegmentsMemoryFile)
{
	struct shm_handle *h = nullptr;
	ASSERT_EQ(be.open(name.c_str(), O_RDONLY, &h), 0);
	struct shm_backing b;
	ASSERT_EQ(be.backing(h, &b), 0);
	EXPECT_TRUE(b.writable);
	EXPECT_TRUE(b.writes_to_daemon);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_nattch, 0u);
	struct stat st;
	ASSERT_EQ(fstat(b.fd, &st), 0);
	EXPECT_EQ(st.st_size, 5000);
	EXPECT_EQ(st.st_ino, (ino_t)id); // the shm file's inode is the shmid
	char *seg = (char *)shmat(id, nullptr, 0);
	memcpy(seg + 100, "native", 6);
	char buf[6];
	EXPECT_EQ(pread(b.fd, buf, 6, 100), 6);
	EXPECT_EQ(std::string(buf, 6), "native");
	EXPECT_EQ(pwrite(b.fd, "BACK", 4, 200), 4);
	EXPECT_EQ(std::string(seg + 200, 4), "BACK");
	shmdt(seg);
	be.close(h);
	// Removed and detached: the descriptor still holds the memory.
	ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	EXPECT_EQ(pread(b.fd, buf, 6, 100), 6);
	EXPECT_EQ(std::string(buf, 6), "native");
	close(b.fd);
}

// write_changed writes only the bytes that differ from `old`: a byte
// changed natively since stays, even where it differs from both.
TEST_F(Sysv, WriteChangedLeavesUnchangedBytesAlone)
{
	char *seg = (char *)shmat(id, nullptr, 0);
	memcpy(seg + 4990, "0123456789", 10);
	struct shm_handle *h = nullptr;
	ASSERT_EQ(be.open(name.c_str(), O_RDWR, &h), 0);
	seg[4991] = 'N'; // natively, after the page was read as "0123..."
	EXPECT_EQ(be.write_changed(h, "012y456789AB", "0123456789AB", 12, 4990),
		  10); // short at the fixed end
	EXPECT_EQ(std::string(seg + 4990, 10), "0N2y456789");
	seg[4992] = 'Z';
	EXPECT_EQ(be.write_changed(h, "q", "2", 1, 4992), 1);
	EXPECT_EQ(seg[4992], 'q');
	EXPECT_EQ(be.write_changed(h, "x", "y", 1, 5000), -ENOSPC);
	be.close(h);
	shmdt(seg);
}

// A merge never shows a native reader half of an aligned int, and never
// undoes a native store to the other half of the same 8-byte word.
TEST_F(Sysv, WriteChangedKeepsAlignedWordsWhole)
{
	volatile uint32_t *seg = (volatile uint32_t *)shmat(id, nullptr, 0);
	struct shm_handle *h = nullptr;
	ASSERT_EQ(be.open(name.c_str(), O_RDWR, &h), 0);
	const uint32_t a = 0x0000ffff, b = 0x00010000; // 3 bytes differ
	seg[0] = a;
	std::atomic<bool> stop{ false };
	std::atomic<long> torn{ 0 }, reads{ 0 };
	std::thread reader([&] {
		while (!stop) {
			uint32_t v = seg[0];
			if (v != a && v != b)
				torn++;
			reads++;
		}
	});
	uint32_t other = 0;
	for (int i = 0; i < 200000; i++) {
		uint32_t now = i % 2 ? a : b, was = i % 2 ? b : a;
		seg[1] = ++other; // natively, the word's other half
		ASSERT_EQ(be.write_changed(h, &now, &was, 4, 0), 4);
	}
	stop = true;
	reader.join();
	EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
	EXPECT_EQ(seg[1], other);
	be.close(h);
	shmdt((const void *)seg);
}

// An open maps nothing in the daemon: nattch does not count it, and its
// address space does not grow.
TEST_F(Sysv, OpenAttachesNothing)
{
	struct shm_handle *h = nullptr;
	struct shmid_ds ds;
	ASSERT_EQ(be.open(name.c_str(), O_RDWR, &h), 0);
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_nattch, 0u);
	EXPECT_EQ(ds.shm_lpid, getpid()); // the open's brief attachment
	be.close(h);
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_nattch, 0u);
}

// Removed while open: the name is gone at once (nothing attaches it), and
// the handle keeps the bytes and answers fstat as it was, as a removed
// file's open descriptor does.
TEST_F(Sysv, RemovedButOpenKeepsItsBytes)
{
	struct shm_handle *h = nullptr;
	struct shm_attr a;
	struct shm_extent x;
	ASSERT_EQ(be.open(name.c_str(), O_RDWR, &h), 0);
	ASSERT_EQ(be.write(h, "kept", 4, 10), 4);
	ASSERT_EQ(be.remove(name.c_str()), 0);
	EXPECT_EQ(be.stat(name.c_str(), &a), -ENOENT);
	ASSERT_EQ(be.fstat(h, &a), 0);
	EXPECT_EQ(a.size, 5000u);
	ASSERT_EQ(be.read(h, 10, 4, &x), 0);
	EXPECT_EQ(extent_bytes(x), "kept");
	struct shm_meta m;
	EXPECT_EQ(be.meta(name.c_str(), 0, &m), -ENOENT);
	EXPECT_EQ(be.remove(name.c_str()), -ENOENT);
	be.close(h);
}

TEST_F(Sysv, SetattrIsIpcSet)
{
	struct shmid_ds ds;
	struct shm_set mode = { 0604, (uid_t)-1, (gid_t)-1, nullptr };
	struct shm_set sticky = { 01604, (uid_t)-1, (gid_t)-1, nullptr };
	struct shm_set owner = { -1, 12, (gid_t)-1, nullptr };
	EXPECT_EQ(be.setattr(name.c_str(), &mode), 0);
	EXPECT_EQ(be.setattr(name.c_str(), &sticky), -EINVAL);
	EXPECT_EQ(be.setattr(name.c_str(), &owner), 0);
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0604u);
	EXPECT_EQ(ds.shm_perm.uid, 12u);
	EXPECT_EQ(ds.shm_perm.gid, 0u);
	struct timespec tv[2] = {};
	struct shm_set times = { -1, (uid_t)-1, (gid_t)-1, tv };
	EXPECT_EQ(be.setattr(name.c_str(), &times), -EPERM);
	// Refused as a whole: the times make the mode change fail too.
	struct shm_set both = { 0640, (uid_t)-1, (gid_t)-1, tv };
	EXPECT_EQ(be.setattr(name.c_str(), &both), -EPERM);
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0604u);
	struct shm_handle *h = nullptr;
	EXPECT_EQ(be.create("", "7", 0600, O_RDWR, 0, 0, &h), -EPERM);
}

TEST_F(Sysv, MetaMatchesIpcStat)
{
	struct shm_meta m;
	struct shmid_ds ds;
	ASSERT_EQ(be.meta(name.c_str(), 0, &m), 0);
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(m.id, id);
	EXPECT_EQ(m.key, 0u);
	EXPECT_EQ(m.size, 5000u);
	EXPECT_EQ(m.perms, 0640u);
	EXPECT_EQ(m.cpid, ds.shm_cpid);
	EXPECT_EQ(m.nattch, 0u);
	EXPECT_EQ(m.ctime, ds.shm_ctime);
	EXPECT_EQ(m.status, 0u);
	EXPECT_EQ(m.pids, nullptr); // not asked for: no /proc scan
	EXPECT_TRUE(m.have & SHM_META_MAPPERS);
	shm_meta_clear(&m);
	ASSERT_EQ(be.meta(name.c_str(), SHM_META_MAPPERS, &m), 0);
	ASSERT_NE(m.pids, nullptr);
	EXPECT_EQ(m.pids->len, 0u);
	void *p = shmat(id, nullptr, SHM_RDONLY);
	shm_meta_clear(&m);
	ASSERT_EQ(be.meta(name.c_str(), SHM_META_MAPPERS, &m), 0);
	ASSERT_EQ(m.pids->len, 1u);
	EXPECT_EQ(g_array_index(m.pids, pid_t, 0), getpid());
	shm_meta_clear(&m);
	shmdt(p);
}

TEST_F(Sysv, ByKeyLinksAndPendingCreation)
{
	int keyed = shmget(0x5eed0002, 100, IPC_CREAT | IPC_EXCL | 0600);
	ASSERT_GE(keyed, 0);
	struct shm_attr a;
	ASSERT_EQ(be.stat("by-key", &a), 0);
	EXPECT_TRUE(S_ISDIR(a.mode));
	ASSERT_EQ(be.stat("by-key/0x5eed0002", &a), 0);
	EXPECT_TRUE(S_ISLNK(a.mode));
	char *target = nullptr;
	ASSERT_EQ(be.readlink("by-key/0x5eed0002", &target), 0);
	EXPECT_EQ(std::string(target), "../" + std::to_string(keyed));
	g_free(target);
	EXPECT_EQ(be.stat("by-key/0x5eed0003", &a), -ENOENT);
	struct shm_handle *h = nullptr;
	EXPECT_EQ(be.create("by-key", "0x5eed0002", 0600, O_RDWR, 0, 0, &h),
		  -EEXIST);
	EXPECT_EQ(be.create("by-key", "0x0", 0600, O_RDWR, 0, 0, &h), -EINVAL);
	// Pending: a regular file of size 0 until its first write.
	ASSERT_EQ(be.create("by-key", "0x5eed0003", 0640, O_RDWR, 0, 0, &h), 0);
	ASSERT_EQ(be.stat("by-key/0x5eed0003", &a), 0);
	EXPECT_TRUE(S_ISREG(a.mode));
	EXPECT_EQ(a.size, 0u);
	EXPECT_EQ(shmget(0x5eed0003, 0, 0), -1);
	EXPECT_EQ(be.write(h, "abc", 3, 2), 3);
	int made = shmget(0x5eed0003, 0, 0);
	ASSERT_GE(made, 0);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(made, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_segsz, 5u);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0640u);
	EXPECT_EQ(be.write(h, "d", 1, 5), -ENOSPC);
	be.close(h);
	ASSERT_EQ(be.stat("by-key/0x5eed0003", &a), 0);
	EXPECT_TRUE(S_ISLNK(a.mode));
	EXPECT_EQ(be.remove("by-key/0x5eed0003"), 0);
	EXPECT_EQ(shmget(0x5eed0003, 0, 0), -1);
	shmctl(keyed, IPC_RMID, nullptr);
}

TEST_F(Sysv, StatfsCountsUsage)
{
	struct shm_usage u = {};
	struct shm_info use;
	struct shminfo lim;
	long page = sysconf(_SC_PAGESIZE);
	ASSERT_GE(shmctl(0, SHM_INFO, (struct shmid_ds *)&use), 0);
	ASSERT_GE(shmctl(0, IPC_INFO, (struct shmid_ds *)&lim), 0);
	ASSERT_EQ(be.statfs(&u), 0);
	EXPECT_GT(u.total_bytes, 0u);
	// What ipcs -u says: pages in use, ids in use of shmmni.
	EXPECT_EQ(u.used_bytes, (uint64_t)use.shm_tot * (uint64_t)page);
	EXPECT_GE(use.used_ids, 1); // this fixture's segment
	EXPECT_EQ(u.total_files, lim.shmmni);
	EXPECT_EQ(u.free_files, lim.shmmni - (unsigned long)use.used_ids);
}

} // namespace

// Every row of the kernel's /proc/sysvipc/shm parses as sscanf reads it
// (the parser it replaced); the header, a short line and a number past its
// field's range do not parse.
TEST_F(Sysv, RowsParseAsTheKernelWritesThem)
{
	std::ifstream f("/proc/sysvipc/shm");
	std::string line;
	int rows = 0;
	bool ours = false;
	ASSERT_TRUE(std::getline(f, line));
	struct sysv_row r;
	EXPECT_FALSE(sysv_parse_row(line.c_str(), &r)); // the header
	while (std::getline(f, line)) {
		struct sysv_row w = {};
		ASSERT_EQ(sscanf(line.c_str(),
				 "%d %d %o %llu %d %d %lu %u %u %u %u %lld "
				 "%lld %lld %llu %llu",
				 &w.key, &w.id, &w.mode, &w.size, &w.cpid,
				 &w.lpid, &w.nattch, &w.uid, &w.gid, &w.cuid,
				 &w.cgid, &w.atime, &w.dtime, &w.ctime, &w.rss,
				 &w.swap),
			  16)
			<< line;
		memset(&r, 0xa5, sizeof(r));
		ASSERT_TRUE(sysv_parse_row(line.c_str(), &r)) << line;
		EXPECT_EQ(r.key, w.key);
		EXPECT_EQ(r.id, w.id);
		EXPECT_EQ(r.mode, w.mode);
		EXPECT_EQ(r.size, w.size);
		EXPECT_EQ(r.cpid, w.cpid);
		EXPECT_EQ(r.lpid, w.lpid);
		EXPECT_EQ(r.nattch, w.nattch);
		EXPECT_EQ(r.uid, w.uid);
		EXPECT_EQ(r.gid, w.gid);
		EXPECT_EQ(r.cuid, w.cuid);
		EXPECT_EQ(r.cgid, w.cgid);
		EXPECT_EQ(r.atime, w.atime);
		EXPECT_EQ(r.dtime, w.dtime);
		EXPECT_EQ(r.ctime, w.ctime);
		EXPECT_EQ(r.rss, w.rss);
		EXPECT_EQ(r.swap, w.swap);
		ours |= r.id == id;
		rows++;
	}
	EXPECT_GE(rows, 1);
	EXPECT_TRUE(ours); // the fixture's segment
	// A key is signed; the mode octal.
	ASSERT_TRUE(sysv_parse_row("-1 7 1600 4096 10 11 2 0 0 0 0 1 2 3 "
				   "4096 0\n",
				   &r));
	EXPECT_EQ(r.key, -1);
	EXPECT_EQ(r.id, 7);
	EXPECT_EQ(r.mode, 01600u);
	EXPECT_EQ(r.nattch, 2u);
	EXPECT_EQ(r.ctime, 3);
	EXPECT_FALSE(sysv_parse_row("1 7 600 4096 10 11 2 0 0 0 0 1 2 3 4096",
				    &r)); // no swap
	EXPECT_FALSE(sysv_parse_row(
		"1 2147483648 600 4096 10 11 2 0 0 0 0 1 2 3 4096 0", &r));
	EXPECT_FALSE(sysv_parse_row(
		"1 7 600 4096 10 11 2 4294967296 0 0 0 1 2 3 4096 0", &r));
	EXPECT_FALSE(sysv_parse_row("1 7 9 4096 10 11 2 0 0 0 0 1 2 3 4096 0",
				    &r)); // 9 is no octal digit
	EXPECT_FALSE(sysv_parse_row("", &r));
}

// creators.h: a creator is read while it lives and kept after it is
// gone; a process that started after the segment was made is never taken
// for its creator; a listing forgets the segments it no longer sees.
TEST(Creators, KeptWhileTheSegmentIsListedAndNoLonger)
{
	const ino_t ns = 4242; // a namespace of this test's own
	int ready[2];
	ASSERT_EQ(pipe(ready), 0);
	pid_t child = fork();
	if (child == 0) {
		char c;
		(void)!read(ready[0], &c, 1);
		_exit(0);
	}
	ASSERT_GT(child, 0);
	// The child's command line is this process's (it only forked).
	char *self = shm_command_of(getpid());
	std::string want = self;
	g_free(self);
	ASSERT_FALSE(want.empty());
	char *cmd = nullptr, *ctr = nullptr, *name = nullptr;
	guint before = shm_origins_count(SHM_ORIGIN_SYSV);
	auto seg = [](int id, pid_t cpid, time_t ctime) {
		return shm_seg_seen{ id, 0, 4096, cpid, ctime };
	};
	shm_seg_seen s1 = seg(1, child, time(nullptr));
	shm_creator_of(ns, &s1, &cmd, &ctr, &name);
	EXPECT_EQ(cmd, want);
	EXPECT_STREQ(ctr, "");
	EXPECT_STREQ(name, ""); // no container, no name
	g_free(cmd);
	g_free(ctr);
	g_free(name);
	(void)!write(ready[1], "x", 1);
	waitpid(child, nullptr, 0);
	shm_creator_of(ns, &s1, &cmd, nullptr, nullptr);
	EXPECT_EQ(cmd, want); // kept
	g_free(cmd);
	// This process started long after 1970: not a creator then.
	shm_seg_seen s2 = seg(2, getpid(), 1000);
	shm_creator_of(ns, &s2, &cmd, nullptr, nullptr);
	EXPECT_STREQ(cmd, "");
	g_free(cmd);
	EXPECT_EQ(shm_origins_count(SHM_ORIGIN_SYSV), before + 2);
	// A listing that sees segment 3 only: 1 and 2 are forgotten, 3 read.
	shm_seg_seen s3 = seg(3, getpid(), time(nullptr));
	shm_creators_begin(ns);
	shm_creators_seen(&s3);
	shm_creators_end(true);
	EXPECT_EQ(shm_origins_count(SHM_ORIGIN_SYSV), before + 1);
	// A listing that failed forgets nothing.
	shm_creators_begin(ns);
	shm_creators_end(false);
	EXPECT_EQ(shm_origins_count(SHM_ORIGIN_SYSV), before + 1);
	shm_creator_of(ns, &s1, &cmd, nullptr, nullptr);
	EXPECT_STREQ(cmd, ""); // forgotten, and its creator gone
	g_free(cmd);
	shm_creators_begin(ns);
	shm_creators_end(true);
	EXPECT_EQ(shm_origins_count(SHM_ORIGIN_SYSV), before);
	close(ready[0]);
	close(ready[1]);
}

// The one store of origins keeps each kind's objects apart by identity,
// counts a POSIX object's names, and drops one namespace's records only.
TEST(Origins, OneStoreKeyedByIdentityForEveryKind)
{
	guint sysv0 = shm_origins_count(SHM_ORIGIN_SYSV);
	guint posix0 = shm_origins_count(SHM_ORIGIN_POSIX);
	shm_origin_id seg = { SHM_ORIGIN_SYSV, 777001, 5 };
	shm_origin_id obj = { SHM_ORIGIN_POSIX, 777001, 5 }; // same numbers
	shm_origins_lock();
	shm_origin *o = shm_origin_add(&seg);
	o->ns = 777001;
	o->pid = 11;
	shm_origin_set_creator(o, g_strdup("maker"), g_strdup("c1"));
	g_free(o->cname);
	o->cname = g_strdup("box");
	shm_origin *p = shm_origin_add(&obj);
	p->ns = 777002;
	p->links++; // a second name
	EXPECT_NE(shm_origin_find(&seg), shm_origin_find(&obj));
	EXPECT_EQ(shm_origin_find(&seg)->pid, 11);
	EXPECT_EQ(shm_origin_find(&obj)->pid, 0);
	EXPECT_STREQ(shm_origin_find(&obj)->command, "");
	// The same container keeps its name; another forgets it.
	shm_origin_set_creator(o, g_strdup("maker2"), g_strdup("c1"));
	EXPECT_STREQ(o->cname, "box");
	shm_origin_set_creator(o, g_strdup("maker3"), g_strdup("c2"));
	EXPECT_STREQ(o->cname, "");
	char *cmd = nullptr, *ctr = nullptr, *name = nullptr;
	shm_origin_give(nullptr, &cmd, &ctr, &name);
	EXPECT_STREQ(cmd, "");
	EXPECT_STREQ(ctr, "");
	EXPECT_STREQ(name, "");
	g_free(cmd);
	g_free(ctr);
	g_free(name);
	shm_origins_unlock();
	EXPECT_EQ(shm_origins_count(SHM_ORIGIN_SYSV), sysv0 + 1);
	EXPECT_EQ(shm_origins_count(SHM_ORIGIN_POSIX), posix0 + 1);
	// Dropping namespace 777002's System V records leaves both.
	auto all = [](shm_origin *, void *) { return true; };
	shm_origins_lock();
	shm_origins_drop_if(SHM_ORIGIN_SYSV, 777002, all, nullptr);
	EXPECT_NE(shm_origin_find(&seg), nullptr);
	EXPECT_NE(shm_origin_find(&obj), nullptr);
	shm_origins_drop_if(SHM_ORIGIN_SYSV, 777001, all, nullptr);
	EXPECT_EQ(shm_origin_find(&seg), nullptr);
	shm_origin_drop(&obj);
	EXPECT_EQ(shm_origin_find(&obj), nullptr);
	shm_origins_unlock();
	EXPECT_EQ(shm_origins_count(SHM_ORIGIN_SYSV), sysv0);
	EXPECT_EQ(shm_origins_count(SHM_ORIGIN_POSIX), posix0);
}
