// mount_diff.cc - differential tests: the same sequences of regular-file
// calls run natively (on /dev/shm, on a real file under a map-dir) and
// through the mount (posix/, mapped/), and every answer compared: return
// values, errno, mode, owner, size, nlink, and which of atime, mtime and
// ctime changed.  Run as root and again as an unprivileged user.  Where
// shmfs differs on purpose it is said here and in the README.
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <functional>
#include <sstream>

#include "harness.h"
#include "trace.h"

using namespace shmfs_test;

namespace {

const uid_t kNobody = 65534;

// A Sequence (trace.h) here: calls on files named from its path; run
// natively and through the mount, its traces must be equal.

class Diff : public MountTest {
protected:
	std::string mapdir;
	std::vector<std::string> mount_args() override
	{
		char tmpl[] = "/tmp/shmfs-diff.XXXXXX";
		mapdir = mkdtemp(tmpl) ? tmpl : "/tmp";
		chmod(mapdir.c_str(), 01777);
		return { "--map-dir=" + mapdir };
	}
	void TearDown() override
	{
		run("rm -rf /dev/shm/shmfs-diff-* '" + mapdir + "'");
		MountTest::TearDown();
	}

	// The pairs of directories to compare: /dev/shm against posix/, a
	// real directory against itself through mapped/.
	std::vector<std::pair<std::string, std::string>> dirs()
	{
		return { { "/dev/shm", m.path("posix") },
			 { mapdir, m.path("mapped" + mapdir) } };
	}

	// Run seq natively and through the mount (as uid when not root),
	// with file names made unique per run, and compare.
	void compare(const std::string &name, const Sequence &seq,
		     uid_t uid = 0)
	{
		for (auto &d : dirs()) {
			std::string native = run_as(d.first, seq, uid, "n");
			std::string mount = run_as(d.second, seq, uid, "m");
			expect_same_traces(
				native, mount, uid,
				name + " as uid " + std::to_string(uid) + ", " +
					d.first + " natively against " +
					d.second);
		}
	}

	std::string run_as(const std::string &dir, const Sequence &seq,
			   uid_t uid, const char *tag)
	{
		std::string s =
			run_traced(dir + "/shmfs-diff-" + tag, seq, uid);
		run("rm -rf " + dir + "/shmfs-diff-" + tag + "*");
		return s;
	}
};

TEST_F(Diff, CreateModesUnderEveryUmask)
{
	for (mode_t um : { 0, 002, 022, 077 }) {
		for (mode_t mode :
		     { 0666, 0644, 0600, 04777, 02770, 01777, 06755 }) {
			compare("create", [um, mode](const std::string &f,
						     Trace &t) {
				umask(um);
				int fd =
					open(f.c_str(), O_CREAT | O_RDWR, mode);
				t.ret("open", fd >= 0 ? 0 : -1);
				t.stat_of("created", f);
				close(fd);
				t.ret("creat again O_EXCL",
				      open(f.c_str(), O_CREAT | O_EXCL | O_RDWR,
					   mode));
				t.ret("creat again",
				      fd = open(f.c_str(), O_CREAT | O_RDWR,
						0600));
				if (fd >= 0)
					close(fd);
				t.stat_of("kept", f);
				unlink(f.c_str());
			});
			compare(
				"create as nobody",
				[um, mode](const std::string &f, Trace &t) {
					umask(um);
					int fd = open(f.c_str(),
						      O_CREAT | O_RDWR, mode);
					t.ret("open", fd >= 0 ? 0 : -1);
					t.stat_of("created", f);
					close(fd);
					unlink(f.c_str());
				},
				kNobody);
		}
	}
}

TEST_F(Diff, TruncateAndOTrunc)
{
	for (uid_t uid : { (uid_t)0, kNobody })
		compare(
			"truncate",
			[](const std::string &f, Trace &t) {
				int fd =
					open(f.c_str(), O_CREAT | O_RDWR, 0644);
				t.ret("write", write(fd, "0123456789", 10));
				t.ret("ftruncate grow", ftruncate(fd, 4096));
				t.fstat_of("grown", fd);
				t.ret("ftruncate same", ftruncate(fd, 4096));
				t.ret("ftruncate shrink", ftruncate(fd, 3));
				t.fstat_of("shrunk", fd);
				t.ret("truncate path", truncate(f.c_str(), 7));
				t.stat_of("by path", f);
				t.ret("ftruncate negative", ftruncate(fd, -1));
				close(fd);
				int ro = open(f.c_str(), O_RDONLY);
				t.ret("ftruncate read-only fd",
				      ftruncate(ro, 1));
				close(ro);
				int tr = open(f.c_str(), O_RDWR | O_TRUNC);
				t.ret("open O_TRUNC", tr >= 0 ? 0 : -1);
				t.fstat_of("truncated", tr);
				close(tr);
				unlink(f.c_str());
			},
			uid);
}

TEST_F(Diff, ChmodChownAndTheBitsTheyClear)
{
	compare("chmod", [](const std::string &f, Trace &t) {
		umask(0);
		int fd = open(f.c_str(), O_CREAT | O_RDWR, 0644);
		close(fd);
		for (mode_t bits : { 04755, 02755, 01755, 07777, 0, 0644 }) {
			t.ret("chmod", chmod(f.c_str(), bits));
			t.stat_of("after chmod", f);
		}
		// chown clears setuid and setgid of a file.
		t.ret("chmod 06755", chmod(f.c_str(), 06755));
		t.ret("chown", chown(f.c_str(), kNobody, kNobody));
		t.stat_of("after chown", f);
		t.ret("chown back", chown(f.c_str(), 0, 0));
		t.stat_of("after chown back", f);
		unlink(f.c_str());
	});
	// As the owner, not root: chmod of one's own file, chown refused.
	compare(
		"chmod as nobody",
		[](const std::string &f, Trace &t) {
			umask(0);
			int fd = open(f.c_str(), O_CREAT | O_RDWR, 0644);
			close(fd);
			t.ret("chmod 04755", chmod(f.c_str(), 04755));
			t.stat_of("after chmod", f);
			t.ret("chown to root", chown(f.c_str(), 0, 0));
			t.ret("chown to self",
			      chown(f.c_str(), kNobody, kNobody));
			t.stat_of("after chown to self", f);
			unlink(f.c_str());
		},
		kNobody);
}

// What clears setuid and setgid: a write, truncate, open(O_TRUNC) or
// fallocate by a process without CAP_FSETID clears setuid, and setgid
// where group-execute is set or the writer is not in the file's group;
// root's keep them.  The mount leaves the clearing to the daemon
// (FUSE_CAP_HANDLE_KILLPRIV_V2), on both data paths: each case as on
// /dev/shm, the mode read back at once (no waiting out a cache).
TEST_F(Diff, WritesClearSetuidAndSetgidAsOnDevShm)
{
	using Op = std::function<int(const std::string &)>;
	auto opened = [](const std::string &f, int flags,
			 const std::function<int(int)> &fn) {
		int fd = open(f.c_str(), flags);
		if (fd < 0)
			return errno;
		int e = fn(fd);
		close(fd);
		return e;
	};
	const std::vector<std::pair<const char *, Op>> ops = {
		{ "write",
		  [&](const std::string &f) {
			  return opened(f, O_WRONLY, [](int fd) {
				  return write(fd, "x", 1) == 1 ? 0 : errno;
			  });
		  } },
		{ "ftruncate",
		  [&](const std::string &f) {
			  return opened(f, O_WRONLY, [](int fd) {
				  return ftruncate(fd, 100) ? errno : 0;
			  });
		  } },
		{ "truncate",
		  [](const std::string &f) {
			  return truncate(f.c_str(), 50) ? errno : 0;
		  } },
		{ "O_TRUNC",
		  [&](const std::string &f) {
			  return opened(f, O_WRONLY | O_TRUNC,
					[](int) { return 0; });
		  } },
		{ "fallocate",
		  [&](const std::string &f) {
			  return opened(f, O_WRONLY, [](int fd) {
				  return fallocate(fd, 0, 0, 8192) ? errno : 0;
			  });
		  } },
	};
	// Who writes, and the group the file is in: root (keeps every bit);
	// nobody, not in the file's group (root's); nobody in it.
	struct Who {
		const char *name;
		uid_t uid;
		gid_t file_gid;
	};
	const Who whos[] = { { "root", 0, 0 },
			     { "nobody", kNobody, 0 },
			     { "nobody in the group", kNobody, kNobody } };
	for (auto &d : dirs()) {
		std::string results[2];
		int k = 0;
		for (const std::string &dir : { d.first, d.second }) {
			std::ostringstream out;
			std::string f = dir + "/shmfs-diff-suid";
			for (const Who &w : whos)
				for (mode_t mode :
				     { 04666, 02666, 02676, 06676, 06666 })
					for (auto &op : ops) {
						umask(0);
						int fd = open(f.c_str(),
							      O_CREAT | O_RDWR,
							      0666);
						ASSERT_GE(fd, 0) << f;
						close(fd);
						ASSERT_EQ(chown(f.c_str(), 0,
								w.file_gid),
							  0);
						ASSERT_EQ(
							chmod(f.c_str(), mode),
							0);
						int r = as_user(
							w.uid, w.uid, [&] {
								return op.second(
									f);
							});
						struct stat st;
						stat(f.c_str(), &st);
						out << w.name << " " << op.first
						    << " on " << std::oct
						    << mode << ": " << std::dec
						    << r << " -> " << std::oct
						    << (st.st_mode & 07777)
						    << std::dec << "\n";
						unlink(f.c_str());
					}
			results[k++] = out.str();
		}
		EXPECT_EQ(results[1], results[0])
			<< d.first << " / " << d.second;
	}
}

// A file made setuid while a writer holds it open loses the bit at that
// writer's next write, as on /dev/shm (on the passthrough path too: the
// kernel checks the mode the chmod's reply gave it).
TEST_F(Diff, SetuidMadeWhileOpenForWritingIsCleared)
{
	for (auto &d : dirs()) {
		std::string results[2];
		int k = 0;
		for (const std::string &dir : { d.first, d.second }) {
			std::string f = dir + "/shmfs-diff-held";
			umask(0);
			int fd = open(f.c_str(), O_CREAT | O_RDWR, 0666);
			ASSERT_GE(fd, 0) << f;
			close(fd);
			int go[2], ready[2];
			ASSERT_EQ(pipe(go), 0);
			ASSERT_EQ(pipe(ready), 0);
			pid_t p = fork();
			if (p == 0) {
				char c;
				if (setgid(kNobody) || setuid(kNobody))
					_exit(2);
				int w = open(f.c_str(), O_WRONLY);
				if (w < 0 || write(w, "a", 1) != 1 ||
				    write(ready[1], "r", 1) != 1 ||
				    read(go[0], &c, 1) != 1)
					_exit(3);
				_exit(write(w, "b", 1) == 1 ? 0 : 4);
			}
			char c;
			ASSERT_EQ(read(ready[0], &c, 1), 1);
			ASSERT_EQ(chmod(f.c_str(), 04666), 0);
			ASSERT_EQ(write(go[1], "g", 1), 1);
			int st = 0;
			waitpid(p, &st, 0);
			for (int x : { go[0], go[1], ready[0], ready[1] })
				close(x);
			struct stat sb;
			stat(f.c_str(), &sb);
			std::ostringstream s;
			s << "child " << st << " mode " << std::oct
			  << (sb.st_mode & 07777);
			results[k++] = s.str();
			unlink(f.c_str());
		}
		EXPECT_EQ(results[1], results[0])
			<< d.first << " / " << d.second;
	}
}

// With the clearing left to the daemon, the kernel stops asking for
// security.capability before every write: a stream of writes through
// the mount costs no request but the writes (none on the passthrough
// path).  The daemon answers those asks "not supported", counted in
// shmfs.prom's shmfs_errors_total{errno="EOPNOTSUPP"}.
TEST_F(Diff, AStreamOfWritesAsksNoSecurityCapability)
{
	auto asks = [&] {
		std::string prom = read_file(m.path("shmfs.prom"));
		std::string key = "shmfs_errors_total{errno=\"EOPNOTSUPP\"} ";
		size_t at = prom.find(key);
		return at == std::string::npos ?
			       0L :
			       atol(prom.c_str() + at + key.size());
	};
	for (auto &d : dirs()) {
		std::string f = d.second + "/shmfs-diff-stream";
		int fd = open(f.c_str(), O_CREAT | O_RDWR, 0644);
		ASSERT_GE(fd, 0) << f;
		char block[4096] = { 0 };
		ASSERT_EQ(write(fd, block, 1), 1); // the first may ask
		long before = asks();
		for (int i = 0; i < 1000; i++)
			ASSERT_EQ(write(fd, block, sizeof(block)),
				  (ssize_t)sizeof(block));
		EXPECT_EQ(asks(), before) << f;
		close(fd);
		unlink(f.c_str());
	}
}

TEST_F(Diff, UtimensAsOwnerAndAsAnotherUser)
{
	auto seq = [](const std::string &f, Trace &t) {
		struct timespec set[2] = { { 1000000, 5 }, { 2000000, 7 } };
		struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
		struct timespec omit[2] = { { 0, UTIME_OMIT }, { 3000000, 0 } };
		int fd = open(f.c_str(), O_CREAT | O_RDWR, 0666);
		close(fd);
		chmod(f.c_str(), 0666);
		t.ret("explicit", utimensat(AT_FDCWD, f.c_str(), set, 0));
		struct stat st;
		stat(f.c_str(), &st);
		t.out << "times " << st.st_atim.tv_sec << "."
		      << st.st_atim.tv_nsec << " " << st.st_mtim.tv_sec << "."
		      << st.st_mtim.tv_nsec << "\n";
		t.ret("omit atime", utimensat(AT_FDCWD, f.c_str(), omit, 0));
		stat(f.c_str(), &st);
		t.out << "times " << st.st_atim.tv_sec << " "
		      << st.st_mtim.tv_sec << "\n";
		t.ret("now", utimensat(AT_FDCWD, f.c_str(), now, 0));
		stat(f.c_str(), &st);
		t.out << "now moved mtime: " << (st.st_mtim.tv_sec > 3000000)
		      << "\n";
		// Another user with write access may set "now", not a time.
		int r = as_user(kNobody, kNobody, [&] {
			return utimensat(AT_FDCWD, f.c_str(), now, 0) ? errno :
									0;
		});
		t.out << "nobody now -> " << r << "\n";
		r = as_user(kNobody, kNobody, [&] {
			return utimensat(AT_FDCWD, f.c_str(), set, 0) ? errno :
									0;
		});
		t.out << "nobody explicit -> " << r << "\n";
		unlink(f.c_str());
	};
	compare("utimensat", seq);
}

TEST_F(Diff, WhichTimesChange)
{
	for (uid_t uid : { (uid_t)0, kNobody })
		compare(
			"times",
			[](const std::string &f, Trace &t) {
				int fd =
					open(f.c_str(), O_CREAT | O_RDWR, 0644);
				close(fd);
				t.out << "write " << changed_times(f, [&] {
					int w = open(f.c_str(), O_WRONLY);
					(void)!write(w, "abc", 3);
					close(w);
				}) << "\n";
				t.out << "ftruncate " << changed_times(f, [&] {
					int w = open(f.c_str(), O_WRONLY);
					(void)!ftruncate(w, 100);
					close(w);
				}) << "\n";
				t.out << "chmod " << changed_times(f, [&] {
					chmod(f.c_str(), 0600);
				}) << "\n";
				t.out << "chown " << changed_times(f, [&] {
					(void)!chown(f.c_str(), 0, 0);
				}) << "\n";
				t.out << "open O_TRUNC " << changed_times(f, [&] {
					close(open(f.c_str(),
						   O_WRONLY | O_TRUNC));
				}) << "\n";
				unlink(f.c_str());
			},
			uid);
}

TEST_F(Diff, UnlinkWithDescriptorsOpen)
{
	for (uid_t uid : { (uid_t)0, kNobody })
		compare(
			"unlink",
			[](const std::string &f, Trace &t) {
				int fd =
					open(f.c_str(), O_CREAT | O_RDWR, 0644);
				t.ret("write", write(fd, "hello", 5));
				t.ret("unlink", unlink(f.c_str()));
				t.fstat_of("after unlink", fd);
				char buf[8] = { 0 };
				t.ret("pread", pread(fd, buf, 5, 0));
				t.out << "bytes " << buf << "\n";
				t.ret("pwrite", pwrite(fd, "HELLO", 5, 0));
				t.ret("ftruncate", ftruncate(fd, 2));
				t.fstat_of("truncated", fd);
				t.stat_of("name", f);
				t.ret("unlink again", unlink(f.c_str()));
				close(fd);
			},
			uid);
}

TEST_F(Diff, NamesOf255And256Bytes)
{
	for (uid_t uid : { (uid_t)0, kNobody })
		compare(
			"long names",
			[](const std::string &f, Trace &t) {
				std::string dir = f.substr(0, f.rfind('/') + 1);
				std::string base = f.substr(f.rfind('/') + 1);
				std::string ok =
					dir + base +
					std::string(255 - base.size(), 'x');
				std::string bad = ok + "y";
				int fd = open(ok.c_str(), O_CREAT | O_RDWR,
					      0644);
				t.ret("create 255", fd >= 0 ? 0 : -1);
				close(fd);
				t.stat_of("255", ok);
				t.ret("chmod 255", chmod(ok.c_str(), 0600));
				t.ret("unlink 255", unlink(ok.c_str()));
				t.ret("create 256",
				      open(bad.c_str(), O_CREAT | O_RDWR,
					   0644));
				t.stat_of("256", bad);
				t.ret("chmod 256", chmod(bad.c_str(), 0600));
				t.ret("truncate 256", truncate(bad.c_str(), 0));
				t.ret("unlink 256", unlink(bad.c_str()));
				t.ret("mkdir 256", mkdir(bad.c_str(), 0755));
			},
			uid);
}

// fallocate in every mode tmpfs has (and those it refuses), SEEK_DATA and
// SEEK_HOLE, copy_file_range: results, errnos, sizes and st_blocks.
TEST_F(Diff, FallocateSeekDataAndCopyFileRange)
{
	auto blocks = [](Trace &t, const char *what, int fd) {
		struct stat st;
		if (fstat(fd, &st) == 0)
			t.out << what << " size " << st.st_size << " blocks "
			      << st.st_blocks << "\n";
	};
	auto seq = [&](const std::string &f, Trace &t) {
		int fd = open(f.c_str(), O_CREAT | O_RDWR, 0644);
		t.ret("fallocate 1M", fallocate(fd, 0, 0, 1 << 20));
		blocks(t, "allocated", fd);
		t.ret("keep size",
		      fallocate(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20));
		blocks(t, "beyond the end", fd);
		t.ret("write", pwrite(fd, "data", 4, 3 * 65536));
		t.ret("punch without keep size",
		      fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
		t.ret("punch",
		      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, 65536));
		blocks(t, "punched", fd);
		t.ret("zero range",
		      fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 4096));
		t.ret("negative offset", fallocate(fd, 0, -1, 10));
		t.ret("zero length", fallocate(fd, 0, 0, 0));
		int ro = open(f.c_str(), O_RDONLY);
		t.ret("read-only descriptor", fallocate(ro, 0, 0, 10));
		t.ret("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
		t.ret("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
		t.ret("SEEK_DATA in the data", lseek(fd, 3 * 65536, SEEK_DATA));
		t.ret("SEEK_HOLE at the end", lseek(fd, 1 << 20, SEEK_HOLE));
		t.ret("SEEK_DATA past the end",
		      lseek(fd, (1 << 20) + 1, SEEK_DATA));
		close(ro);
		// A copy to a second file, and back over part of the first.
		std::string g = f + "-copy";
		int out = open(g.c_str(), O_CREAT | O_RDWR, 0600);
		loff_t in_off = 3 * 65536 - 10, out_off = 5;
		t.ret("copy_file_range",
		      copy_file_range(fd, &in_off, out, &out_off, 100, 0));
		t.out << "offsets " << in_off << " " << out_off << "\n";
		t.out << "copied "
		      << (read_file(g) == std::string(5, '\0') +
						  std::string(10, '\0') +
						  "data" +
						  std::string(86, '\0') ?
				  "exact" :
				  "differs")
		      << "\n";
		in_off = 1 << 20;
		t.ret("copy from the end",
		      copy_file_range(fd, &in_off, out, nullptr, 10, 0));
		t.ret("copy with flags",
		      copy_file_range(fd, nullptr, out, nullptr, 10, 1));
		close(out);
		close(fd);
		unlink(g.c_str());
		unlink(f.c_str());
	};
	compare("fallocate, seek, copy", seq);
	compare("fallocate, seek, copy", seq, kNobody);
}

} // namespace
