// trace.h - what one step of a differential test answered, as text
// (mount_diff.cc, mount_tree.cc): the same sequence of calls run natively
// and through the mount must give equal traces, and a failure shows both.
// The one runner both use is run_traced: a sequence in a child as a uid,
// its trace beginning with the uid it really ran as.
#ifndef SHMFS_TEST_TRACE_H
#define SHMFS_TEST_TRACE_H

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <functional>
#include <gtest/gtest.h>
#include <sstream>
#include <string>

namespace shmfs_test {

struct Trace {
	std::ostringstream out;
	void ret(const char *what, long r)
	{
		out << what << " -> " << r;
		if (r < 0)
			out << " (" << strerrorname_np(errno) << ")";
		out << "\n";
	}
	void stat_of(const char *what, const std::string &path)
	{
		attrs_of(what, path, false);
	}
	// The entry itself (a link's own mode, and st_blocks), and a link's
	// text.
	void lstat_of(const char *what, const std::string &path)
	{
		attrs_of(what, path, true);
	}
	void attrs_of(const char *what, const std::string &path, bool entry)
	{
		struct stat st;
		if ((entry ? lstat(path.c_str(), &st) :
			     stat(path.c_str(), &st)) != 0) {
			out << what << (entry ? " lstat -> " : " stat -> ")
			    << strerrorname_np(errno) << "\n";
			return;
		}
		out << what << " mode " << std::oct << st.st_mode << std::dec
		    << " uid " << st.st_uid << " gid " << st.st_gid << " size "
		    << st.st_size << " nlink " << st.st_nlink;
		if (entry)
			out << " blocks " << st.st_blocks;
		out << "\n";
		if (entry && S_ISLNK(st.st_mode)) {
			char buf[4096];
			ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
			out << what << " -> "
			    << std::string(buf, n > 0 ? (size_t)n : 0) << "\n";
		}
	}
	void fstat_of(const char *what, int fd)
	{
		struct stat st;
		if (fstat(fd, &st) != 0) {
			out << what << " fstat -> " << strerrorname_np(errno)
			    << "\n";
			return;
		}
		out << what << " mode " << std::oct << st.st_mode << std::dec
		    << " size " << st.st_size << " nlink " << st.st_nlink
		    << "\n";
	}
};

// What a change does to a file's times.
struct Times {
	struct timespec a, m, c;
};

inline bool get_times(const std::string &path, Times *t)
{
	struct stat st;
	if (stat(path.c_str(), &st) != 0)
		return false;
	*t = { st.st_atim, st.st_mtim, st.st_ctim };
	return true;
}

inline bool same_ts(const struct timespec &x, const struct timespec &y)
{
	return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec;
}

// Which of atime, mtime, ctime fn changes, as "amc" letters.
inline std::string changed_times(const std::string &path,
				 const std::function<void()> &fn)
{
	Times before, after;
	if (!get_times(path, &before))
		return "?";
	usleep(20 * 1000); // past the timestamp granularity
	fn();
	usleep(600 * 1000); // past the attribute cache of the mount
	if (!get_times(path, &after))
		return "?";
	std::string s;
	s += same_ts(before.a, after.a) ? '-' : 'a';
	s += same_ts(before.m, after.m) ? '-' : 'm';
	s += same_ts(before.c, after.c) ? '-' : 'c';
	return s;
}

// A sequence of calls under a path (a directory, or a name prefix).
using Sequence = std::function<void(const std::string &at, Trace &t)>;

// seq at `at` in a child as uid (root: 0) under umask um (-1: as it is):
// its trace, which begins "as uid N" with the uid the child really had,
// or "setuid failed".  (in_child, harness.h, runs it.)
std::string run_traced(const std::string &at, const Sequence &seq, uid_t uid,
		       int um = -1);

// A native trace and a mount's for the same sequence: both ran, each as
// uid, and they are equal; what shows on failure names the case.
inline void expect_same_traces(const std::string &native,
			       const std::string &mount, uid_t uid,
			       const std::string &what)
{
	std::string as = "as uid " + std::to_string(uid) + "\n";
	EXPECT_EQ(native.rfind(as, 0), 0u) << what << ": " << native;
	EXPECT_EQ(mount.rfind(as, 0), 0u) << what << ": " << mount;
	EXPECT_EQ(mount, native) << what;
}

} // namespace shmfs_test

#endif
