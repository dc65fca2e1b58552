// unit_front.cc - the front's own machinery, no FUSE mount: the fallback's
// page shadow and the inode table (the /proc layer: unit_proc.cc).
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include <algorithm>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

// The C and C++-aware headers first, so that the extern "C" block below
// only wraps our own.
#define FUSE_USE_VERSION 316
#include <fuse_lowlevel.h>
#include <glib.h>

#include "backend.h"
#include "child.h"

extern "C" {
#include "caller_limits.h"
#include "fallback.h"
#include "nsctx.h"
#include "proc/procscan.h"
#include "kinds/sysv.h"
}

namespace {

// A backend that records what a write-back hands it.
struct Call {
	std::string kind; // "write" or "changed"
	uint64_t off;
	std::string buf, old;
};
std::vector<Call> calls;

ssize_t rec_write(struct shm_handle *, const void *buf, size_t n, uint64_t off)
{
	calls.push_back(
		{ "write", off, std::string((const char *)buf, n), "" });
	return (ssize_t)n;
}

ssize_t rec_changed(struct shm_handle *, const void *buf, const void *old,
		    size_t n, uint64_t off)
{
	calls.push_back({ "changed", off, std::string((const char *)buf, n),
			  std::string((const char *)old, n) });
	return (ssize_t)n;
}

struct shmfs_backend recorder()
{
	struct shmfs_backend b = {};
	b.name = "rec";
	b.write = rec_write;
	b.write_changed = rec_changed;
	return b;
}

const struct shmfs_backend rec_kind = recorder();
const struct shmfs_backend *const rec_kinds[] = { &rec_kind, nullptr };

class Shadow : public testing::Test {
protected:
	struct shmfs_file f = {};
	struct shmfs_inode *in = nullptr, *other = nullptr;
	void SetUp() override
	{
		calls.clear();
		shmfs_root_set(rec_kinds);
		shmfs_nodes_init(rec_kinds, 1);
		struct shm_attr a = {};
		a.mode = S_IFREG | 0600;
		in = shmfs_inode_get(
			shmfs_inode_lookup(FUSE_ROOT_ID, &rec_kind, "f", &a));
		other = shmfs_inode_get(
			shmfs_inode_lookup(FUSE_ROOT_ID, &rec_kind, "g", &a));
		f.kind = SHMFS_FH_FILE;
		f.inode = in;
		f.refs = 1;
	}
	void TearDown() override
	{
		EXPECT_EQ(shmfs_shadow_writers(), 0u);
		shmfs_inode_unref(in);
		shmfs_inode_unref(other);
		shmfs_nodes_fini();
	}
	std::string page(char c)
	{
		return std::string(SHMFS_PAGE, c);
	}
};

TEST_F(Shadow, KeepsPagesOnlyWhileAWriterHasTheFileOpen)
{
	EXPECT_FALSE(shmfs_shadow_active(in));
	shmfs_shadow_open(in);
	EXPECT_TRUE(shmfs_shadow_active(in));
	EXPECT_FALSE(shmfs_shadow_active(other));
	EXPECT_EQ(shmfs_shadow_writers(), 1u);
	shmfs_shadow_open(in);
	shmfs_shadow_close(in);
	EXPECT_TRUE(shmfs_shadow_active(in));
	shmfs_shadow_close(in);
	EXPECT_FALSE(shmfs_shadow_active(in));
	EXPECT_EQ(shmfs_shadow_writers(), 0u);
}

// A kept page is written back as "only what differs from the copy"; a
// page never read is written whole; the copy follows what was written.
TEST_F(Shadow, WriteBackMergesKeptPagesAndWritesOthersWhole)
{
	shmfs_shadow_open(in);
	std::string p0 = page('a');
	shmfs_shadow_store(in, 0, SHMFS_PAGE, p0.data(), p0.size());
	std::string dirty = page('a') + page('b');
	dirty[7] = 'X';
	EXPECT_EQ(shmfs_shadow_write_back(&f, 0, dirty.data(), dirty.size()),
		  (ssize_t)dirty.size());
	ASSERT_EQ(calls.size(), 2u);
	EXPECT_EQ(calls[0].kind, "changed");
	EXPECT_EQ(calls[0].off, 0u);
	EXPECT_EQ(calls[0].old, page('a'));
	EXPECT_EQ(calls[0].buf, dirty.substr(0, SHMFS_PAGE));
	EXPECT_EQ(calls[1].kind, "write"); // page 1 was never read
	EXPECT_EQ(calls[1].off, (uint64_t)SHMFS_PAGE);
	// The copy of page 0 is now what was written back.
	calls.clear();
	EXPECT_EQ(shmfs_shadow_write_back(&f, 0, dirty.data(), SHMFS_PAGE),
		  (ssize_t)SHMFS_PAGE);
	ASSERT_EQ(calls.size(), 1u);
	EXPECT_EQ(calls[0].old, dirty.substr(0, SHMFS_PAGE));
	shmfs_shadow_close(in);
}

// A short fill (the end of the file) keeps zeros past it; write() through
// the mount patches the copy; a truncate zeroes the tail of the last page
// and forgets the pages past it.
TEST_F(Shadow, ShortFillsPatchesAndTruncation)
{
	shmfs_shadow_open(in);
	std::string two = page('c') + std::string(100, 'd');
	shmfs_shadow_store(in, 0, 2 * SHMFS_PAGE, two.data(), two.size());
	shmfs_shadow_patch(in, 10, "PATCH", 5);
	std::string now = page('c') + page('e');
	shmfs_shadow_write_back(&f, 0, now.data(), now.size());
	ASSERT_EQ(calls.size(), 1u); // both pages kept: one merge
	std::string want = page('c') + std::string(100, 'd') +
			   std::string(SHMFS_PAGE - 100, '\0');
	memcpy(&want[10], "PATCH", 5);
	EXPECT_EQ(calls[0].old, want);
	calls.clear();
	shmfs_shadow_truncate(in, 50);
	shmfs_shadow_write_back(&f, 0, now.data(), now.size());
	ASSERT_EQ(calls.size(), 2u);
	std::string t = now.substr(0, 50) + std::string(SHMFS_PAGE - 50, '\0');
	EXPECT_EQ(calls[0].old, t); // the copy after the last write-back, cut
	EXPECT_EQ(calls[1].kind, "write"); // page 1 forgotten
	shmfs_shadow_close(in);
}

// Reads that are not page cache fills (an offset inside a page) are not
// kept.
TEST_F(Shadow, OnlyPageAlignedFillsAreKept)
{
	shmfs_shadow_open(in);
	std::string p = page('z');
	shmfs_shadow_store(in, 100, SHMFS_PAGE, p.data(), p.size());
	shmfs_shadow_write_back(&f, 0, p.data(), p.size());
	ASSERT_EQ(calls.size(), 1u);
	EXPECT_EQ(calls[0].kind, "write");
	shmfs_shadow_close(in);
}

// ---- the inode table ----

struct shmfs_backend fake_kind(const char *name)
{
	struct shmfs_backend b = {};
	b.name = name;
	return b;
}

struct shmfs_backend kind_a = fake_kind("a"), kind_b = fake_kind("b");
const struct shmfs_backend *const kinds[] = { &kind_a, &kind_b, nullptr };

class Nodes : public testing::Test {
protected:
	void SetUp() override
	{
		shmfs_root_set(kinds);
		shmfs_nodes_init(kinds, 2);
	}
	void TearDown() override
	{
		shmfs_nodes_fini();
	}
	static struct shm_attr file(uint64_t ino)
	{
		struct shm_attr a = {};
		a.mode = S_IFREG | 0644;
		a.ident_dev = 7;
		a.ident_ino = ino;
		return a;
	}
};

TEST_F(Nodes, RootAndOneDirectoryPerKindArePinned)
{
	struct shmfs_inode *in = shmfs_inode_get(FUSE_ROOT_ID);
	ASSERT_NE(in, nullptr);
	EXPECT_EQ(in->be, nullptr);
	EXPECT_EQ(in->type, (mode_t)S_IFDIR);
	shmfs_inode_unref(in);
	in = shmfs_inode_get(FUSE_ROOT_ID + 1);
	ASSERT_NE(in, nullptr);
	EXPECT_EQ(in->be, &kind_a);
	EXPECT_STREQ(in->path, "");
	shmfs_inode_unref(in);
	shmfs_inode_forget(FUSE_ROOT_ID + 1, 1000);
	in = shmfs_inode_get(FUSE_ROOT_ID + 1);
	EXPECT_NE(in, nullptr);
	shmfs_inode_unref(in);
	EXPECT_EQ(shmfs_inode_get(99999), nullptr);
	EXPECT_EQ(shmfs_backends()[1], &kind_b);
}

// As passthrough_hp: an inode the kernel forgets while a file of it is
// open stays (its release is still to come), and goes with the release;
// a reference taken before outlives both.
TEST_F(Nodes, ForgetKeepsAnInodeWhileFilesAreOpen)
{
	struct shm_attr f1 = file(100);
	fuse_ino_t a = shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "x", &f1);
	struct shmfs_inode *in = shmfs_inode_get(a);
	ASSERT_NE(in, nullptr);
	shmfs_inode_opened(in);
	shmfs_inode_forget(a, 1);
	struct shmfs_inode *again = shmfs_inode_get(a);
	EXPECT_EQ(again, in);
	shmfs_inode_unref(again);
	// Looked up again meanwhile: the same inode, not a new number.
	EXPECT_EQ(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "x", &f1), a);
	shmfs_inode_forget(a, 1);
	GPtrArray *open = shmfs_inodes_open();
	ASSERT_EQ(open->len, 1u);
	EXPECT_EQ(open->pdata[0], in);
	g_ptr_array_unref(open);
	shmfs_inode_released(in);
	EXPECT_EQ(shmfs_inode_get(a), nullptr);
	open = shmfs_inodes_open();
	EXPECT_EQ(open->len, 0u);
	g_ptr_array_unref(open);
	EXPECT_STREQ(in->path, "x"); // still ours: we hold a reference
	shmfs_inode_unref(in);
}

// A listing that no longer has a name the kernel holds in that directory
// hands it to prune.h: told deleted where the kernel can hold the inode
// under that name only; only dropped where it may hold it elsewhere too
// (another directory) or the name is another object's now; once each.
static std::map<std::string, std::pair<fuse_ino_t, bool>>
unlisted(fuse_ino_t dir, GHashTable *listed)
{
	std::map<std::string, std::pair<fuse_ino_t, bool>> out;
	GArray *a = shmfs_inode_unlisted(dir, listed);
	for (guint i = 0; i < a->len; i++) {
		const struct shmfs_unlisted *u =
			&g_array_index(a, struct shmfs_unlisted, i);
		EXPECT_EQ(u->parent, dir);
		out[u->name] = { u->ino, u->deleted };
	}
	g_array_unref(a);
	return out;
}

TEST_F(Nodes, WhatAListingNoLongerHasIsPruned)
{
	struct shm_attr f1 = file(100), f2 = file(200), f3 = file(300);
	const fuse_ino_t d1 = FUSE_ROOT_ID + 1, d2 = FUSE_ROOT_ID + 2;
	fuse_ino_t gone = shmfs_inode_lookup(d1, &kind_a, "gone", &f1);
	fuse_ino_t kept = shmfs_inode_lookup(d1, &kind_a, "kept", &f2);
	fuse_ino_t both = shmfs_inode_lookup(d1, &kind_a, "both", &f3);
	EXPECT_EQ(shmfs_inode_lookup(d2, &kind_a, "both", &f3), both);
	struct shm_attr other = file(400);
	GHashTable *listed = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(listed, (gpointer) "kept", &f2);
	auto u = unlisted(d1, listed);
	ASSERT_EQ(u.size(), 2u);
	EXPECT_EQ(u["gone"], std::make_pair(gone, true));
	EXPECT_EQ(u["both"], std::make_pair(both, false));
	EXPECT_TRUE(unlisted(d1, listed).empty()); // handed over once
	// kept is another object's name now: dropped, not told deleted.
	g_hash_table_insert(listed, (gpointer) "kept", &other);
	u = unlisted(d1, listed);
	ASSERT_EQ(u.size(), 1u);
	EXPECT_EQ(u["kept"], std::make_pair(kept, false));
	// both is still held in d2; d2's listing hands it over there.
	g_hash_table_remove_all(listed);
	u = unlisted(d2, listed);
	ASSERT_EQ(u.size(), 1u);
	EXPECT_EQ(u["both"].first, both);
	g_hash_table_unref(listed);
	shmfs_inode_forget(gone, 1);
	shmfs_inode_forget(kept, 1);
	shmfs_inode_forget(both, 2);
}

TEST_F(Nodes, OneInodePerNameTypeAndObject)
{
	struct shm_attr f1 = file(100), f2 = file(200), link = {};
	link.mode = S_IFLNK | 0777;
	fuse_ino_t a = shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "x", &f1);
	EXPECT_EQ(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "x", &f1),
		  a); // same again
	EXPECT_NE(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_b, "x", &f1),
		  a); // other kind
	EXPECT_NE(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "y", &f1),
		  a); // other name
	EXPECT_NE(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "x", &link),
		  a); // a link now
	fuse_ino_t again = shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "x", &f2);
	EXPECT_NE(again, a); // removed and made again: another object
	struct shmfs_inode *in = shmfs_inode_get(a);
	ASSERT_NE(in, nullptr);
	EXPECT_STREQ(in->path, "x");
	EXPECT_EQ(in->type, (mode_t)S_IFREG);
	EXPECT_EQ(in->ident_ino, 100u);
	EXPECT_FALSE(shmfs_inode_other_object(in, &f1));
	EXPECT_TRUE(shmfs_inode_other_object(in, &f2));
	struct shm_attr unknown = {}; // a kind that keeps no identity
	unknown.mode = S_IFREG;
	EXPECT_FALSE(shmfs_inode_other_object(in, &unknown));
	shmfs_inode_unref(in);
	// Two lookups of a, two forgets: gone, and the number never reused.
	shmfs_inode_forget(a, 1);
	in = shmfs_inode_get(a);
	ASSERT_NE(in, nullptr);
	shmfs_inode_unref(in);
	shmfs_inode_forget(a, 1);
	EXPECT_EQ(shmfs_inode_get(a), nullptr);
	EXPECT_GT(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "x", &f1), again);
}

// A directory the kind gives no object for is its name; one it does
// (posix/'s) is that object: removed and made again, a new inode.
TEST_F(Nodes, DirectoriesAreTheirNameOrTheirObject)
{
	struct shm_attr d1 = {}, d2 = {};
	d1.mode = d2.mode = S_IFDIR | 0755;
	EXPECT_EQ(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "dir", &d1),
		  shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "dir", &d2));
	d1.ident_dev = d2.ident_dev = 9;
	d1.ident_ino = 1;
	d2.ident_ino = 2;
	EXPECT_NE(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "dir2", &d1),
		  shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "dir2", &d2));
	char *p = shmfs_child_path("", "n");
	EXPECT_STREQ(p, "n");
	g_free(p);
}

// A rename moves the inodes of the names it moved, beneath a directory
// too; an exchange moves both ways.  Each is then found by its new name.
TEST_F(Nodes, ARenameMovesTheInodes)
{
	struct shm_attr d = {}, f = {}, g = {};
	d.mode = S_IFDIR | 0755;
	f.mode = g.mode = S_IFREG | 0644;
	f.ident_dev = g.ident_dev = 7;
	f.ident_ino = 1;
	g.ident_ino = 2;
	fuse_ino_t dir = shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "a", &d);
	fuse_ino_t file = shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "a/f", &f);
	fuse_ino_t other = shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "ab", &g);
	shmfs_inodes_renamed(&kind_a, "a", "b", false);
	struct shmfs_inode *in = shmfs_inode_get(file);
	ASSERT_NE(in, nullptr);
	EXPECT_STREQ(shmfs_inode_path(in), "b/f");
	shmfs_inode_unref(in);
	EXPECT_EQ(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "b", &d), dir);
	EXPECT_EQ(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "b/f", &f), file);
	// "ab" is not beneath "a".
	EXPECT_EQ(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "ab", &g), other);
	shmfs_inodes_renamed(&kind_a, "b/f", "ab", true);
	EXPECT_EQ(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "ab", &f), file);
	EXPECT_EQ(shmfs_inode_lookup(FUSE_ROOT_ID, &kind_a, "b/f", &g), other);
	char *p = shmfs_child_path("", "n");
	EXPECT_STREQ(p, "n");
	g_free(p);
	p = shmfs_child_path("a/b", "n");
	EXPECT_STREQ(p, "a/b/n");
	g_free(p);
}

// The texts made at open (segments, shmfs.prom) one user holds are
// bounded; root's are not, and what is given back can be taken again.
TEST(TextShare, EachUserHoldsABoundedAmountOfMadeTexts)
{
	const uid_t u = 4242;
	ASSERT_EQ(shmfs_text_take(u, SHMFS_TEXT_PER_UID - 10), 0);
	EXPECT_EQ(shmfs_text_take(u, 11), -ENOMEM);
	EXPECT_EQ(shmfs_text_take(u + 1, 11), 0); // another user's share
	EXPECT_EQ(shmfs_text_take(0, SHMFS_TEXT_PER_UID * 4), 0);
	shmfs_text_give(u, 100);
	EXPECT_EQ(shmfs_text_take(u, 11), 0);
	shmfs_text_give(u, SHMFS_TEXT_PER_UID - 10 - 100 + 11);
	EXPECT_EQ(shmfs_text_take(u, SHMFS_TEXT_PER_UID), 0);
	shmfs_text_give(u, SHMFS_TEXT_PER_UID);
	shmfs_text_give(u + 1, 11);
}

} // namespace
