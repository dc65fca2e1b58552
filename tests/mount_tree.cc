// mount_tree.cc - posix/ is /dev/shm for every program: the calls on names
// (link, rename with every flag, mkdir/rmdir, symlink/readlink, mknod of
// FIFOs and sockets) and the regular-file calls in subdirectories, run
// natively on /dev/shm and through posix/ (and ns/SELF/posix/), as root
// and as nobody, every answer compared; the sticky directory's rules; and
// attempts to make the daemon reach outside the POSIX directory.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "harness.h"
#include "trace.h"

using namespace shmfs_test;

namespace {

const uid_t kNobody = 65534;

// A Sequence (trace.h) here: calls under a name prefix p (p itself,
// p + "-x", ...).

class Tree : public MountTest {
protected:
	// The directory a sequence runs in through the mount, beside
	// /dev/shm natively.
	virtual std::string mounted_dir()
	{
		return m.path("posix");
	}
	void TearDown() override
	{
		run("rm -rf /dev/shm/shmfs-tree-*");
		MountTest::TearDown();
	}
	std::string run_in(const std::string &dir, const Sequence &seq,
			   uid_t uid, const char *tag)
	{
		std::string s =
			run_traced(dir + "/shmfs-tree-" + tag, seq, uid, 022);
		run("rm -rf /dev/shm/shmfs-tree-" + std::string(tag) + "*");
		return s;
	}
	void compare(const std::string &name, const Sequence &seq,
		     uid_t uid = 0)
	{
		std::string native = run_in("/dev/shm", seq, uid, "n");
		std::string mount = run_in(mounted_dir(), seq, uid, "m");
		// The tags only keep the two runs' names apart (a link's
		// text names its target).
		for (size_t at;
		     (at = mount.find("shmfs-tree-m")) != std::string::npos;)
			mount[at + 11] = 'n';
		expect_same_traces(native, mount, uid,
				   name + " as uid " + std::to_string(uid) +
					   ": /dev/shm natively against " +
					   mounted_dir());
	}
	void compare_both(const std::string &name, const Sequence &seq)
	{
		compare(name, seq, 0);
		compare(name, seq, kNobody);
	}
};

int mk_file(const std::string &path, const char *text, mode_t mode = 0644)
{
	int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, mode);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

int rename2(const std::string &a, const std::string &b, unsigned flags)
{
	return renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), flags);
}

void directories(const std::string &p, Trace &t)
{
	for (mode_t mode : { 0755, 0700, 01777, 02775, 0 }) {
		std::string d = p + "-" + std::to_string(mode);
		t.ret("mkdir", mkdir(d.c_str(), mode));
		t.lstat_of("made", d);
		t.ret("rmdir", rmdir(d.c_str()));
	}
	t.ret("mkdir", mkdir(p.c_str(), 0755));
	t.ret("mkdir again", mkdir(p.c_str(), 0755));
	t.ret("mkdir sub", mkdir((p + "/a").c_str(), 0700));
	t.ret("mkdir deeper", mkdir((p + "/a/b").c_str(), 0750));
	t.ret("mkdir under nothing", mkdir((p + "/x/y").c_str(), 0755));
	t.lstat_of("parent", p);
	t.lstat_of("sub", p + "/a");
	t.ret("rmdir not empty", rmdir((p + "/a").c_str()));
	t.ret("file", mk_file(p + "/a/f", "x"));
	t.ret("mkdir under a file", mkdir((p + "/a/f/z").c_str(), 0755));
	t.ret("rmdir a file", rmdir((p + "/a/f").c_str()));
	t.ret("unlink a dir", unlink((p + "/a/b").c_str()));
	t.ret("rmdir missing", rmdir((p + "/nothing").c_str()));
	t.ret("rmdir deeper", rmdir((p + "/a/b").c_str()));
	t.ret("unlink file", unlink((p + "/a/f").c_str()));
	t.ret("rmdir sub", rmdir((p + "/a").c_str()));
	t.lstat_of("parent after", p);
	t.ret("rmdir", rmdir(p.c_str()));
	t.lstat_of("gone", p);
}

void setgid_directory(const std::string &p, Trace &t)
{
	t.ret("mkdir", mkdir(p.c_str(), 0777));
	t.ret("chown", chown(p.c_str(), (uid_t)-1, 100)); // group users
	t.ret("chmod", chmod(p.c_str(), 02777));
	t.lstat_of("setgid dir", p);
	t.ret("mkdir in it", mkdir((p + "/d").c_str(), 0755));
	t.lstat_of("inherits", p + "/d");
	t.ret("file in it", mk_file(p + "/f", "x", 0640));
	t.lstat_of("file", p + "/f");
	t.ret("fifo in it", mkfifo((p + "/q").c_str(), 0600));
	t.lstat_of("fifo", p + "/q");
	t.ret("symlink in it", symlink("f", (p + "/l").c_str()));
	t.lstat_of("link", p + "/l");
	run("rm -rf '" + p + "'");
}

void links(const std::string &p, Trace &t)
{
	t.ret("file", mk_file(p, "hello"));
	t.ret("link", link(p.c_str(), (p + "-b").c_str()));
	t.lstat_of("first", p);
	t.lstat_of("second", p + "-b");
	t.ret("link again", link(p.c_str(), (p + "-b").c_str()));
	t.ret("link missing", link((p + "-none").c_str(), (p + "-c").c_str()));
	t.ret("write through one", truncate((p + "-b").c_str(), 2));
	// Both names are one inode, in the mount too: seen at once.
	t.stat_of("seen through the other", p);
	t.ret("mkdir", mkdir((p + "-d").c_str(), 0755));
	t.ret("link a dir", link((p + "-d").c_str(), (p + "-e").c_str()));
	t.ret("link into dir", link(p.c_str(), (p + "-d/in").c_str()));
	t.lstat_of("three names", p + "-d/in");
	t.ret("unlink one", unlink(p.c_str()));
	t.lstat_of("two left", p + "-b");
	t.ret("unlink", unlink((p + "-b").c_str()));
	t.ret("unlink", unlink((p + "-d/in").c_str()));
	t.ret("rmdir", rmdir((p + "-d").c_str()));
}

void renames(const std::string &p, Trace &t)
{
	std::string a = p + "-a", b = p + "-b", d = p + "-d", e = p + "-e";
	t.ret("file a", mk_file(a, "aaa"));
	t.ret("file b", mk_file(b, "bb"));
	t.ret("mkdir d", mkdir(d.c_str(), 0755));
	t.ret("mkdir e", mkdir(e.c_str(), 0700));
	t.ret("file in e", mk_file(e + "/x", "x"));
	t.ret("rename a c", rename(a.c_str(), (p + "-c").c_str()));
	t.lstat_of("a", a);
	t.stat_of("c", p + "-c");
	t.ret("rename c over b", rename((p + "-c").c_str(), b.c_str()));
	t.stat_of("b now", b);
	t.ret("file a", mk_file(a, "a2"));
	t.ret("noreplace", rename2(a, b, RENAME_NOREPLACE));
	t.ret("noreplace free", rename2(a, p + "-f", RENAME_NOREPLACE));
	t.ret("back", rename2(p + "-f", a, 0));
	t.ret("exchange", rename2(a, b, RENAME_EXCHANGE));
	t.stat_of("a after", a);
	t.stat_of("b after", b);
	t.ret("exchange file and dir", rename2(a, d, RENAME_EXCHANGE));
	t.lstat_of("a is dir", a);
	t.lstat_of("d is file", d);
	t.ret("exchange back", rename2(a, d, RENAME_EXCHANGE));
	t.ret("exchange missing", rename2(a, p + "-none", RENAME_EXCHANGE));
	t.ret("both flags", rename2(a, b, RENAME_EXCHANGE | RENAME_NOREPLACE));
	t.ret("file onto dir", rename(a.c_str(), d.c_str()));
	t.ret("dir onto file", rename(d.c_str(), a.c_str()));
	t.ret("dir onto non-empty", rename(d.c_str(), e.c_str()));
	t.ret("non-empty onto empty", rename(e.c_str(), d.c_str()));
	t.lstat_of("moved dir", d);
	t.stat_of("its file", d + "/x");
	t.ret("dir into itself", rename(d.c_str(), (d + "/sub").c_str()));
	t.ret("across dirs", rename(a.c_str(), (d + "/a").c_str()));
	t.stat_of("arrived", d + "/a");
	t.ret("and back", rename((d + "/a").c_str(), a.c_str()));
	t.ret("to itself", rename(a.c_str(), a.c_str()));
	t.ret("missing", rename((p + "-none").c_str(), a.c_str()));
	t.ret("into missing dir", rename(a.c_str(), (p + "-no/a").c_str()));
	t.ret("rename dir", rename(d.c_str(), e.c_str()));
	t.ret("open moved", mk_file(e + "/new", "n"));
	t.stat_of("reached by new name", e + "/x");
	run("rm -rf '" + a + "' '" + b + "' '" + d + "' '" + e + "'");
}

void symlinks_and_nodes(const std::string &p, Trace &t)
{
	t.ret("file", mk_file(p, "target text"));
	t.ret("symlink", symlink((p.substr(p.rfind('/') + 1)).c_str(),
				 (p + "-l").c_str()));
	t.lstat_of("link", p + "-l");
	t.stat_of("followed", p + "-l");
	t.ret("read through", (long)read_file(p + "-l").size());
	t.ret("symlink again", symlink("x", (p + "-l").c_str()));
	t.ret("dangling", symlink("/nonexistent/x", (p + "-dang").c_str()));
	t.lstat_of("dangling", p + "-dang");
	t.stat_of("dangling followed", p + "-dang");
	t.ret("long target",
	      symlink(std::string(4000, 'z').c_str(), (p + "-long").c_str()));
	t.lstat_of("long", p + "-long");
	t.ret("lchown", lchown((p + "-l").c_str(), 0, 0));
	t.ret("mkfifo", mkfifo((p + "-q").c_str(), 0640));
	t.lstat_of("fifo", p + "-q");
	t.ret("mkfifo again", mkfifo((p + "-q").c_str(), 0640));
	t.ret("chmod fifo", chmod((p + "-q").c_str(), 0600));
	t.lstat_of("fifo", p + "-q");
	t.ret("mknod socket", mknod((p + "-s").c_str(), S_IFSOCK | 0600, 0));
	t.lstat_of("socket", p + "-s");
	t.ret("mknod char",
	      mknod((p + "-c").c_str(), S_IFCHR | 0600, makedev(1, 3)));
	t.lstat_of("char", p + "-c");
	for (const char *s : { "", "-l", "-dang", "-long", "-q", "-s", "-c" })
		t.ret("unlink", unlink((p + s).c_str()));
}

void files_in_subdirectories(const std::string &p, Trace &t)
{
	t.ret("mkdir", mkdir(p.c_str(), 0755));
	t.ret("mkdir", mkdir((p + "/s").c_str(), 0777));
	std::string f = p + "/s/f";
	int fd = open(f.c_str(), O_CREAT | O_EXCL | O_RDWR, 0640);
	t.ret("create", fd >= 0 ? 0 : -1);
	t.ret("write", write(fd, "0123456789", 10));
	t.ret("pwrite far", pwrite(fd, "x", 1, 100000));
	t.fstat_of("grown", fd);
	t.ret("ftruncate", ftruncate(fd, 5));
	close(fd);
	t.lstat_of("file", f);
	t.ret("read", (long)read_file(f).size());
	t.ret("chmod", chmod(f.c_str(), 0600));
	t.ret("truncate", truncate(f.c_str(), 3));
	t.lstat_of("file", f);
	int tr = open(f.c_str(), O_RDWR | O_TRUNC);
	t.ret("O_TRUNC", tr >= 0);
	if (tr >= 0)
		close(tr);
	t.ret("O_EXCL", open(f.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600));
	t.ret("open dir for writing", open((p + "/s").c_str(), O_RDWR));
	t.ret("unlink", unlink(f.c_str()));
	t.ret("rmdir", rmdir((p + "/s").c_str()));
	t.ret("rmdir", rmdir(p.c_str()));
}

TEST_F(Tree, MkdirAndRmdir)
{
	compare_both("directories", directories);
	compare("setgid directory", setgid_directory);
}

TEST_F(Tree, HardLinks)
{
	compare_both("links", links);
}

TEST_F(Tree, RenameWithEveryFlag)
{
	compare_both("renames", renames);
}

TEST_F(Tree, SymlinksFifosSocketsDevices)
{
	compare_both("symlinks and nodes", symlinks_and_nodes);
}

TEST_F(Tree, RegularFileCallsInSubdirectories)
{
	compare_both("files in subdirectories", files_in_subdirectories);
}

// Which of a directory's times each call on its names changes, and the
// times of what it moves or links.
TEST_F(Tree, WhichTimesChange)
{
	compare("times", [](const std::string &p, Trace &t) {
		std::string d = p + "-d";
		mkdir(d.c_str(), 0777);
		mk_file(d + "/f", "x");
		auto step = [&](const char *what, const std::string &of,
				const std::function<void()> &fn) {
			t.out << what << " " << changed_times(of, fn) << "\n";
		};
		step("mkdir", d, [&] { mkdir((d + "/s").c_str(), 0755); });
		step("rmdir", d, [&] { rmdir((d + "/s").c_str()); });
		step("link dir", d,
		     [&] { link((d + "/f").c_str(), (d + "/g").c_str()); });
		step("link file", d + "/f",
		     [&] { link((d + "/f").c_str(), (d + "/h").c_str()); });
		step("rename dir", d,
		     [&] { rename((d + "/g").c_str(), (d + "/i").c_str()); });
		step("rename file", d + "/f",
		     [&] { rename((d + "/h").c_str(), (d + "/j").c_str()); });
		step("symlink", d, [&] { symlink("f", (d + "/l").c_str()); });
		step("unlink", d, [&] { unlink((d + "/l").c_str()); });
	});
}

// The sticky /dev/shm: another user's entries cannot be removed, renamed
// or replaced, as root's can by root.
TEST_F(Tree, StickyDirectoryRules)
{
	for (const char *tag : { "n", "m" }) {
		std::string v = "/dev/shm/shmfs-tree-" + std::string(tag);
		ASSERT_EQ(mk_file(v + "-victim", "root's"), 0);
		ASSERT_EQ(mkdir((v + "-rootdir").c_str(), 0777), 0);
	}
	auto seq = [](const std::string &p, Trace &t) {
		t.ret("own file", mk_file(p + "-mine", "mine"));
		t.ret("unlink root's", unlink((p + "-victim").c_str()));
		t.ret("rename root's",
		      rename((p + "-victim").c_str(), (p + "-x").c_str()));
		t.ret("replace root's",
		      rename((p + "-mine").c_str(), (p + "-victim").c_str()));
		t.ret("exchange with root's",
		      rename2(p + "-mine", p + "-victim", RENAME_EXCHANGE));
		t.ret("link root's",
		      link((p + "-victim").c_str(), (p + "-l").c_str()));
		t.ret("rmdir root's", rmdir((p + "-rootdir").c_str()));
		t.ret("into root's dir", mk_file(p + "-rootdir/f", "x"));
		t.ret("chmod root's", chmod((p + "-victim").c_str(), 0777));
		t.ret("rename own",
		      rename((p + "-mine").c_str(), (p + "-mine2").c_str()));
		t.ret("unlink own", unlink((p + "-mine2").c_str()));
		t.ret("unlink in root's dir",
		      unlink((p + "-rootdir/f").c_str()));
	};
	// run_in removes the names after each run: make them for both.
	std::string native = in_child([&] {
		if (setgid(kNobody) || setuid(kNobody))
			return std::string();
		Trace t;
		seq("/dev/shm/shmfs-tree-n", t);
		return t.out.str();
	});
	std::string mount = in_child([&] {
		if (setgid(kNobody) || setuid(kNobody))
			return std::string();
		Trace t;
		seq(mounted_dir() + "/shmfs-tree-m", t);
		return t.out.str();
	});
	EXPECT_EQ(mount, native);
	EXPECT_NE(native.find("unlink root's -> -1 (EPERM)"), std::string::npos)
		<< native;
}

// ns/INODE/posix/ of the daemon's own namespace is /dev/shm too, with the
// same tree semantics.
class TreeNs : public Tree {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "--all-namespaces" };
	}
	std::string mounted_dir() override
	{
		struct stat st;
		if (stat("/proc/self/ns/ipc", &st) != 0)
			return "/nonexistent";
		return m.path("ns/" + std::to_string(st.st_ino) + "/posix");
	}
};

TEST_F(TreeNs, NamespacePosixIsATreeToo)
{
	std::string why;
	if (!namespaces_available(&why))
		GTEST_SKIP() << why;
	compare("directories", directories);
	compare("renames", renames);
	compare("links", links);
	compare("symlinks and nodes", symlinks_and_nodes);
	compare_both("files in subdirectories", files_in_subdirectories);
}

// A link out of the directory is followed by the caller's kernel, never
// by the daemon: whatever the caller does through the mount while a
// directory is swapped for a link to a root-only directory outside, the
// outside is untouched (the caller, nobody, could not have changed it).
TEST_F(Tree, NothingOutsideThePosixDirectoryIsTouched)
{
	char tmpl[] = "/tmp/shmfs-outside.XXXXXX";
	ASSERT_NE(mkdtemp(tmpl), nullptr);
	std::string out = tmpl;
	chmod(out.c_str(), 0755);
	ASSERT_EQ(mk_file(out + "/victim", "keep", 0644), 0);
	std::string before = run("ls -la --time-style=+%s.%N '" + out + "'");

	std::string d = "/dev/shm/shmfs-tree-race";
	ASSERT_EQ(mkdir(d.c_str(), 0777), 0);
	pid_t swapper = fork();
	if (swapper == 0) {
		// Natively, as fast as it can: the directory, then a link.
		std::string tmp = d + "-tmp";
		if (symlink(out.c_str(), tmp.c_str()) != 0)
			_exit(1);
		for (;;)
			renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, d.c_str(),
				  RENAME_EXCHANGE);
	}
	std::string via = mounted_dir() + "/shmfs-tree-race";
	std::string attempts = in_child([&] {
		if (setgid(kNobody) || setuid(kNobody))
			return std::string();
		int tries = 0;
		for (int i = 0; i < 3000; i++) {
			std::string n = via + "/victim";
			tries++;
			mk_file(n, "evil", 0666);
			chmod(n.c_str(), 0777);
			truncate(n.c_str(), 0);
			unlink(n.c_str());
			mkdir((via + "/dir").c_str(), 0777);
			rmdir((via + "/dir").c_str());
			symlink("x", (via + "/sym").c_str());
			unlink((via + "/sym").c_str());
			rename((via + "/a").c_str(), (via + "/victim").c_str());
			link((via + "/a").c_str(), (via + "/hard").c_str());
		}
		return std::to_string(tries);
	});
	kill(swapper, SIGKILL);
	waitpid(swapper, nullptr, 0);
	EXPECT_EQ(attempts, "3000");
	EXPECT_EQ(run("ls -la --time-style=+%s.%N '" + out + "'"), before);
	EXPECT_EQ(read_file(out + "/victim"), "keep");
	run("rm -rf '" + out + "' " + d + " " + d + "-tmp");
}

} // namespace
