// unit_posix.cc - the POSIX backend on a private directory, no FUSE.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "backend.h"

namespace {

const struct shmfs_backend &be = posix_backend;

class Posix : public testing::Test {
protected:
	std::string dir;
	void SetUp() override
	{
		char t[] = "/dev/shm/shmfs-unit.XXXXXX";
		ASSERT_NE(mkdtemp(t), nullptr);
		dir = t;
		struct shmfs_config cfg = {};
		cfg.posix_dir = dir.c_str();
		ASSERT_EQ(be.init(&cfg), 0);
	}
	void TearDown() override
	{
		be.fini();
		std::string cmd = "rm -rf " + dir;
		ASSERT_EQ(system(cmd.c_str()), 0);
	}
	void put(const std::string &name, const std::string &data)
	{
		int fd = open((dir + "/" + name).c_str(),
			      O_CREAT | O_TRUNC | O_WRONLY, 0600);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(write(fd, data.data(), data.size()),
			  (ssize_t)data.size());
		close(fd);
	}
	std::vector<std::string> names()
	{
		std::vector<std::string> v;
		GArray *a = shm_dirents_new();
		EXPECT_EQ(be.list("", a), 0);
		for (guint i = 0; i < a->len; i++)
			v.push_back(
				g_array_index(a, struct shm_dirent, i).name);
		g_array_unref(a);
		std::sort(v.begin(), v.end());
		return v;
	}
};

TEST_F(Posix, ListsEveryEntryAndOpensOnlyRegularFiles)
{
	put("obj", "x");
	put("sem.lock", "");
	ASSERT_EQ(symlink("obj", (dir + "/link").c_str()), 0);
	ASSERT_EQ(mkfifo((dir + "/fifo").c_str(), 0600), 0);
	ASSERT_EQ(mkdir((dir + "/sub").c_str(), 0700), 0);
	EXPECT_EQ(names(), (std::vector<std::string>{ "fifo", "link", "obj",
						      "sem.lock", "sub" }));
	struct shm_attr a;
	struct shm_handle *h;
	ASSERT_EQ(be.stat("link", &a), 0);
	EXPECT_TRUE(S_ISLNK(a.mode));
	ASSERT_EQ(be.stat("fifo", &a), 0);
	EXPECT_TRUE(S_ISFIFO(a.mode));
	ASSERT_EQ(be.stat("sem.lock", &a), 0);
	EXPECT_TRUE(a.semaphore);
	ASSERT_EQ(be.stat("obj", &a), 0);
	EXPECT_FALSE(a.semaphore);
	char *t = nullptr;
	ASSERT_EQ(be.readlink("link", &t), 0);
	EXPECT_STREQ(t, "obj");
	g_free(t);
	EXPECT_EQ(be.open("link", O_RDONLY, &h), -ENOENT); // never followed
	EXPECT_EQ(be.open("fifo", O_RDONLY, &h), -ENOENT); // and no hang
	EXPECT_EQ(be.open("sub", O_RDONLY, &h), -EISDIR);
	EXPECT_EQ(be.open("../etc", O_RDONLY, &h), -ENOENT);
	EXPECT_EQ(be.open("link/x", O_RDONLY, &h), -ENOTDIR);
	EXPECT_EQ(be.stat("sub/../obj", &a), -ENOENT);
	EXPECT_EQ(be.remove("sub"), -EISDIR);
}

// A path never leaves the directory: no "..", and a link on the way is
// not a directory, even one pointing at a directory inside.
TEST_F(Posix, PathsStayBeneathTheDirectory)
{
	ASSERT_EQ(mkdir((dir + "/d").c_str(), 0700), 0);
	ASSERT_EQ(symlink("/etc", (dir + "/out").c_str()), 0);
	ASSERT_EQ(symlink("d", (dir + "/in").c_str()), 0);
	struct shm_attr a;
	EXPECT_EQ(be.stat("out/passwd", &a), -ENOTDIR);
	EXPECT_EQ(be.stat("in", &a), 0);
	struct shm_tree_op op = {};
	op.what = SHM_MKDIR;
	op.path = "out/x";
	op.mode = S_IFDIR | 0755;
	EXPECT_EQ(be.tree(&op), -ENOTDIR);
	op.path = "in/x";
	EXPECT_EQ(be.tree(&op), -ENOTDIR);
	op.path = "d/x";
	EXPECT_EQ(be.tree(&op), 0);
	op.what = SHM_RENAME;
	op.path = "d/x";
	op.to = "../x";
	EXPECT_EQ(be.tree(&op), -ENOENT);
	op.to = "out/x";
	EXPECT_EQ(be.tree(&op), -ENOTDIR);
	struct shm_set set = { 0600, (uid_t)-1, (gid_t)-1, nullptr };
	EXPECT_EQ(be.setattr("out/passwd", &set), -ENOTDIR);
	EXPECT_EQ(be.setattr("out", &set), -EOPNOTSUPP); // a link's own mode
	struct stat st;
	ASSERT_EQ(stat((dir + "/d/x").c_str(), &st), 0);
}

TEST_F(Posix, CreateIsExclusiveAndOwned)
{
	struct shm_handle *h = nullptr;
	ASSERT_EQ(be.create("", "new", 0640, O_RDWR, 65534, 65534, &h), 0);
	EXPECT_EQ(be.write(h, "hello", 5, 0), 5);
	struct shm_attr a;
	ASSERT_EQ(be.fstat(h, &a), 0);
	EXPECT_EQ(a.uid, 65534u);
	EXPECT_EQ(a.mode & 07777, 0640u);
	EXPECT_EQ(a.size, 5u);
	be.close(h);
	EXPECT_EQ(be.create("", "new", 0640, O_RDWR, 0, 0, &h), -EEXIST);
	ASSERT_EQ(be.create("", "sem.x", 0640, O_RDWR, 0, 0, &h), 0);
	be.close(h);
	EXPECT_EQ(be.create("", "..", 0640, O_RDWR, 0, 0, &h), -EINVAL);
	EXPECT_EQ(be.create("", std::string(300, 'n').c_str(), 0640, O_RDWR, 0,
			    0, &h),
		  -EINVAL);
}

TEST_F(Posix, ReadsComeFromTheFdAndShortAtTheEnd)
{
	put("obj", "0123456789");
	struct shm_handle *h = nullptr;
	ASSERT_EQ(be.open("obj", O_RDONLY, &h), 0);
	struct shm_extent x;
	ASSERT_EQ(be.read(h, 4, 100, &x), 0);
	EXPECT_EQ(x.mem, nullptr);
	char buf[100];
	EXPECT_EQ(pread(x.fd, buf, x.len, (off_t)x.off), 6);
	EXPECT_EQ(be.write(h, "x", 1, 0), -EBADF);
	be.close(h);
}

// The same merge through a mapping of the file; past the end (the file
// shrank natively) nothing is written and the file keeps its size.
TEST_F(Posix, WriteChangedLeavesUnchangedBytesAlone)
{
	put("obj", std::string(10000, '.'));
	struct shm_handle *h = nullptr;
	ASSERT_EQ(be.open("obj", O_RDWR, &h), 0);
	int fd = open((dir + "/obj").c_str(), O_RDWR);
	ASSERT_EQ(pwrite(fd, "N", 1, 4097), 1);
	std::string old(8, '.'), now = "a.b.....";
	EXPECT_EQ(be.write_changed(h, now.data(), old.data(), 8, 4096), 8);
	char got[8];
	ASSERT_EQ(pread(fd, got, 8, 4096), 8);
	EXPECT_EQ(std::string(got, 8), "aNb.....");
	ASSERT_EQ(ftruncate(fd, 4100), 0);
	EXPECT_EQ(be.write_changed(h, now.data(), old.data(), 8, 4096), 4);
	EXPECT_EQ(be.write_changed(h, now.data(), old.data(), 8, 8192), 0);
	struct stat st;
	ASSERT_EQ(fstat(fd, &st), 0);
	EXPECT_EQ(st.st_size, 4100);
	// Opened write-only the file cannot be mapped: one pwrite per run.
	struct shm_handle *w = nullptr;
	ASSERT_EQ(be.open("obj", O_WRONLY, &w), 0);
	ASSERT_EQ(pwrite(fd, "M", 1, 1), 1);
	EXPECT_EQ(be.write_changed(w, "x.y", "...", 3, 0), 3);
	ASSERT_EQ(pread(fd, got, 3, 0), 3);
	EXPECT_EQ(std::string(got, 3), "xMy");
	be.close(w);
	be.close(h);
	close(fd);
}

TEST_F(Posix, TruncateChmodChownRemove)
{
	put("obj", "0123456789");
	EXPECT_EQ(be.truncate("obj", nullptr, 3), 0);
	EXPECT_EQ(be.truncate("obj", nullptr, UINT64_MAX), -EFBIG);
	struct shm_set mode = { 0604, (uid_t)-1, (gid_t)-1, nullptr };
	struct shm_set owner = { -1, 7, 8, nullptr };
	EXPECT_EQ(be.setattr("obj", &mode), 0);
	EXPECT_EQ(be.setattr("obj", &owner), 0);
	struct stat st;
	ASSERT_EQ(stat((dir + "/obj").c_str(), &st), 0);
	EXPECT_EQ(st.st_size, 3);
	EXPECT_EQ(st.st_mode & 07777, 0604u);
	EXPECT_EQ(st.st_uid, 7u);
	EXPECT_EQ(st.st_gid, 8u);
	struct shm_meta m;
	ASSERT_EQ(be.meta("obj", 0, &m), 0);
	EXPECT_EQ(m.have, (unsigned)(SHM_META_SIZE | SHM_META_PERMS |
				     SHM_META_OWNER | SHM_META_NATTCH |
				     SHM_META_MAPPERS | SHM_META_PATH));
	EXPECT_EQ(m.perms, 0604u);
	EXPECT_EQ(std::string(m.path), dir + "/obj");
	EXPECT_EQ(m.pids, nullptr);
	shm_meta_clear(&m);
	EXPECT_EQ(be.remove("obj"), 0);
	EXPECT_EQ(be.remove("obj"), -ENOENT);
	EXPECT_EQ(names(), std::vector<std::string>{});
}

TEST_F(Posix, StatfsIsTheDirectorysFilesystem)
{
	struct shm_usage u = {};
	ASSERT_EQ(be.statfs(&u), 0);
	EXPECT_GT(u.total_bytes, 0u);
	EXPECT_GT(u.total_files, 0u);
}

TEST(PosixInit, MissingDirectoryIsAnError)
{
	struct shmfs_config cfg = {};
	cfg.posix_dir = "/nonexistent/shm";
	EXPECT_EQ(be.init(&cfg), -ENOENT);
}

} // namespace
