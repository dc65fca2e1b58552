// unit_xattr.cc - the text of the user.shm.* attributes.
#include <errno.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include "xattr.h"
}

namespace {

std::string get(const struct shm_meta &m, const char *name, int *err = nullptr)
{
	GString *s = g_string_new(nullptr);
	int r = shmfs_xattr_get("sysv", &m, name, s);
	if (err)
		*err = r;
	std::string out(s->str, s->len);
	g_string_free(s, TRUE);
	return out;
}

TEST(Xattr, Formats)
{
	struct shm_meta m = {};
	m.have = ~0u;
	m.id = 32769;
	m.key = 0x2537;
	m.perms = 0644;
	m.size = 1ull << 40;
	m.status = SHM_STATUS_DEST | SHM_STATUS_LOCKED;
	m.atime = 0;
	EXPECT_EQ(get(m, "user.shm.kind"), "sysv");
	EXPECT_EQ(get(m, "user.shm.id"), "32769");
	EXPECT_EQ(get(m, "user.shm.key"), "0x00002537");
	EXPECT_EQ(get(m, "user.shm.perms"), "0644");
	EXPECT_EQ(get(m, "user.shm.size"), "1099511627776");
	EXPECT_EQ(get(m, "user.shm.status"), "dest,locked");
	EXPECT_EQ(get(m, "user.shm.atime"), "0");
	m.status = SHM_STATUS_LOCKED;
	EXPECT_EQ(get(m, "user.shm.status"), "locked");
	m.status = 0;
	EXPECT_EQ(get(m, "user.shm.status"), "");
	m.key = 0xffffffffu;
	EXPECT_EQ(get(m, "user.shm.key"), "0xffffffff");
}

TEST(Xattr, OnlyWhatIsKnown)
{
	struct shm_meta m = {};
	m.have = SHM_META_SIZE;
	int err;
	get(m, "user.shm.nattch", &err);
	EXPECT_EQ(err, -ENODATA);
	get(m, "user.shm.bogus", &err);
	EXPECT_EQ(err, -ENODATA);
	get(m, "trusted.shm.size", &err);
	EXPECT_EQ(err, -ENODATA);
	EXPECT_EQ(get(m, "user.shm.size", &err), "0");
	EXPECT_EQ(err, 0);
	GString *s = g_string_new(nullptr);
	shmfs_xattr_list("posix", &m, s);
	EXPECT_EQ(std::string(s->str, s->len),
		  std::string("user.shm.kind\0user.shm.size\0", 28));
	g_string_free(s, TRUE);
}

} // namespace
