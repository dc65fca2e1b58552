// mount_lsshm.cc - the snapshot files (segments, ns/INODE/segments) and
// lsshm: each row is its file's user.shm.* attributes, the rows are what
// ls -l shows of each kind, and lsshm prints what lsipc prints for the
// same System V segments.
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

using namespace shmfs_test;

namespace {

// One row of a snapshot: its fields as text (strings unescaped for the
// plain ASCII this test makes, arrays without brackets).
using Row = std::map<std::string, std::string>;

Row parse_row(const std::string &line)
{
	Row r;
	size_t i = 1;
	while (i < line.size() && line[i] != '}') {
		if (line[i] == ',')
			i++;
		size_t e = line.find('"', i + 1);
		std::string key = line.substr(i + 1, e - i - 1);
		i = e + 2; // past '"' and ':'
		std::string v;
		if (line[i] == '"') {
			for (i++; line[i] != '"'; i++) {
				if (line[i] == '\\')
					i++;
				v += line[i];
			}
			i++;
		} else if (line[i] == '[') {
			e = line.find(']', i);
			v = line.substr(i + 1, e - i - 1);
			i = e + 1;
		} else {
			e = line.find_first_of(",}", i);
			v = line.substr(i, e - i);
			i = e;
		}
		r[key] = v;
	}
	return r;
}

std::map<std::string, Row> rows_of(const std::string &text)
{
	std::map<std::string, Row> rows;
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);) {
		Row r = parse_row(line);
		rows[r["file"]] = r;
	}
	return rows;
}

std::string lsshm()
{
	std::string bin = getenv("SHMFS_BIN");
	return bin.substr(0, bin.rfind('/')) + "/lsshm";
}

class Snapshot : public MountTest {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "--all-namespaces" };
	}
};

// Each row holds exactly its file's attributes, as getfattr gives them,
// and the kernel's own numbers.
TEST_F(Snapshot, EachRowIsItsFilesAttributes)
{
	int idle = make_sysv(3 * 4096, 0640);
	int used = make_sysv(4096, 0600);
	void *p = shmat(used, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	make_posix("shmfs-test-snap", 10000, 0644);
	sem_t *sem = sem_open("/shmfs-test-snapsem", O_CREAT, 0600, 3);
	ASSERT_NE(sem, SEM_FAILED);
	struct stat st;
	ASSERT_EQ(stat(m.path("segments").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode, (mode_t)(S_IFREG | 0444));
	errno = 0;
	EXPECT_EQ(open(m.path("segments").c_str(), O_WRONLY), -1);
	EXPECT_EQ(errno, EACCES);

	// The files of each kind ls -l shows, just before and just after.
	auto listing = [&]() {
		std::set<std::string> names;
		struct stat e;
		for (const std::string &n : list_dir(m.path("sysv")))
			if (n != "by-key")
				names.insert("sysv/" + n);
		for (const std::string &n : list_dir(m.path("posix")))
			if (lstat(m.path("posix/" + n).c_str(), &e) == 0 &&
			    S_ISREG(e.st_mode))
				names.insert("posix/" + n);
		return names;
	};
	std::set<std::string> before = listing();
	auto rows = rows_of(read_file(m.path("segments")));
	std::set<std::string> after = listing();
	const std::vector<std::string> ours = {
		"sysv/" + std::to_string(idle), "sysv/" + std::to_string(used),
		"posix/shmfs-test-snap", "posix/sem.shmfs-test-snapsem"
	};
	for (const std::string &f : ours) {
		ASSERT_TRUE(rows.count(f)) << f;
		Row &r = rows[f];
		std::vector<std::string> names = list_xattrs(m.path(f));
		size_t attrs = 0;
		for (const std::string &x : names) {
			if (x.rfind("user.shm.", 0) != 0 || x == "user.shm.io")
				continue;
			attrs++;
			std::string k = x.substr(9);
			ASSERT_TRUE(r.count(k)) << f << " lacks " << k;
			EXPECT_EQ(r[k], get_xattr(m.path(f), x))
				<< f << " " << k;
		}
		// Its attributes and the five of where it is, no more.
		EXPECT_EQ(r.size(), attrs + 5) << f;
	}
	// The kernel's numbers.
	for (int id : { idle, used }) {
		Row &r = rows["sysv/" + std::to_string(id)];
		auto k = proc_sysv_row(id);
		EXPECT_EQ(r["size"], k["size"]);
		EXPECT_EQ(r["cpid"], k["cpid"]);
		EXPECT_EQ(r["nattch"], k["nattch"]);
		EXPECT_EQ(strtoul(r["perms"].c_str(), nullptr, 8),
			  strtoul(k["perms"].c_str(), nullptr, 8) & 0777);
		EXPECT_EQ(r["command"], own_command());
	}
	EXPECT_EQ(rows["posix/sem.shmfs-test-snapsem"]["value"], "3");
	// unused/ and the rows agree.
	struct stat ls;
	EXPECT_EQ(rows["sysv/" + std::to_string(idle)]["unused"], "true");
	EXPECT_EQ(lstat(m.path("unused/sysv/" + std::to_string(idle)).c_str(),
			&ls),
		  0);
	EXPECT_EQ(rows["sysv/" + std::to_string(used)]["unused"], "false");
	// The namespace is the daemon's (and this test's) own.
	struct stat ns;
	ASSERT_EQ(stat("/proc/self/ns/ipc", &ns), 0);
	for (auto &kv : rows)
		EXPECT_EQ(kv.second["ns"], std::to_string(ns.st_ino));
	// The rows are ls -l's files of each kind, no more, no fewer: every
	// file listed before and after is a row, and every row was listed
	// before or after (other processes may make and remove meanwhile).
	for (const std::string &f : before) {
		if (after.count(f)) {
			EXPECT_TRUE(rows.count(f)) << f << " listed, not a row";
		}
	}
	for (auto &kv : rows) {
		if (kv.first.rfind("mapped/", 0) != 0) {
			EXPECT_TRUE(before.count(kv.first) ||
				    after.count(kv.first))
				<< kv.first << " a row, never listed";
		}
	}
	EXPECT_GE(rows.size(), 4u);
	shmdt(p);
	sem_close(sem);
	sem_unlink("/shmfs-test-snapsem");
}

// A namespace's own file in ns/ holds the same rows as the root's for
// the same namespace.
TEST_F(Snapshot, EachNamespaceHasItsOwnFile)
{
	int id = make_sysv(4096, 0600);
	struct stat ns;
	ASSERT_EQ(stat("/proc/self/ns/ipc", &ns), 0);
	std::string dir = "ns/" + std::to_string(ns.st_ino);
	std::vector<std::string> in = list_dir(m.path(dir));
	EXPECT_NE(std::find(in.begin(), in.end(), "segments"), in.end());
	auto rows = rows_of(read_file(m.path(dir + "/segments")));
	Row &r = rows[dir + "/sysv/" + std::to_string(id)];
	EXPECT_EQ(r["kind"], "sysv");
	EXPECT_EQ(r["size"], "4096");
	EXPECT_EQ(r["id"], std::to_string(id));
	struct stat st;
	errno = 0;
	EXPECT_EQ(stat(m.path("ns/1/segments").c_str(), &st), -1);
	EXPECT_EQ(errno, ENOENT);
	errno = 0;
	EXPECT_EQ(stat(m.path("ns/by-name/segments").c_str(), &st), -1);
	EXPECT_EQ(errno, ENOENT);
}

// lsshm prints, for the System V segments, what lsipc prints of them.
TEST_F(Snapshot, LsshmAgreesWithLsipc)
{
	std::vector<int> ids = { make_sysv(4096, 0600),
				 make_sysv(3 * 4096, 0644, 0x5eed1234) };
	const std::string cols = "ID,KEY,OWNER,PERMS,SIZE,NATTCH,CPID,LPID,"
				 "COMMAND";
	std::string ours = run(lsshm() + " --mount " + m.dir +
			       " -t sysv -r -n -b -o " + cols);
	std::string theirs = run("lsipc -m -r --noheadings -b -o " + cols);
	for (int id : ids) {
		auto line_of = [&](const std::string &text) {
			std::istringstream in(text);
			for (std::string l; std::getline(in, l);)
				if (l.rfind(std::to_string(id) + " ", 0) == 0)
					return l;
			return std::string();
		};
		ASSERT_NE(line_of(theirs), "");
		EXPECT_EQ(line_of(ours), line_of(theirs));
	}
}

TEST_F(Snapshot, LsshmOptionsAndErrors)
{
	int idle = make_sysv(4096, 0600);
	int used = make_sysv(4096, 0600);
	void *p = shmat(used, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	std::string base = lsshm() + " --mount " + m.dir;
	// --unused: only those nobody uses.
	std::string u = run(base + " -u -t sysv -r -n -o ID,UNUSED");
	EXPECT_NE(u.find(std::to_string(idle) + " 1\n"), std::string::npos);
	EXPECT_EQ(u.find(std::to_string(used) + " "), std::string::npos);
	// --json is JSON, numbers as numbers.
	EXPECT_EQ(run(base +
		      " -J -t sysv -o ID,SIZE,UNUSED -b | python3 -c "
		      "'import json,sys; d=json.load(sys.stdin); "
		      "r=[x for x in d[\"segments\"] if x[\"id\"]==" +
		      std::to_string(idle) +
		      "]; print(r[0][\"size\"], r[0][\"unused\"])'"),
		  "4096 True\n");
	// Sorted numerically.
	std::string sorted = run(base + " -t sysv -r -n -o ID --sort ID");
	std::vector<long> v;
	std::istringstream in(sorted);
	for (std::string l; std::getline(in, l);)
		v.push_back(atol(l.c_str()));
	EXPECT_TRUE(std::is_sorted(v.begin(), v.end())) << sorted;
	// Errors as util-linux gives them.
	EXPECT_EQ(run(base + " -o ID,BOGUS 2>&1; echo rc=$?"),
		  "lsshm: unknown column: BOGUS\nrc=1\n");
	EXPECT_EQ(run("{ " + base +
		      " --bogus 2>&1 >/dev/null; echo rc=$?; } | tail -2"),
		  "Try 'lsshm --help' for more information.\nrc=1\n");
	EXPECT_EQ(run(lsshm() + " --mount /nonexistent 2>&1; echo rc=$?"),
		  "lsshm: cannot read /nonexistent/segments: No such file or "
		  "directory\nrc=1\n");
	shmdt(p);
}

} // namespace

namespace {

// As a user other than root, and while root reads it too, the file gives
// that user no more than getfattr gives it on the same files: a segment
// this (root) test maps shows no pid to nobody, and root's own read is
// unchanged by the other reader.
TEST_F(Snapshot, AsAnotherUserNoMoreThanItsAttributes)
{
	int id = make_sysv(4096, 0644);
	void *p = shmat(id, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	std::string f = "sysv/" + std::to_string(id);
	std::string as_nobody = "runuser -u nobody -- ";
	std::string mine;
	std::thread root([&] { mine = read_file(m.path("segments")); });
	std::string theirs = run(as_nobody + "cat " + m.path("segments"));
	root.join();
	auto r = rows_of(theirs)[f];
	ASSERT_EQ(r["id"], std::to_string(id)) << theirs.substr(0, 300);
	// Natively nobody cannot read this process's maps: no pid.
	EXPECT_EQ(r["pids"], run(as_nobody +
				 "getfattr --absolute-names --only-values -n "
				 "user.shm.pids " +
				 m.path(f)));
	EXPECT_EQ(r["pids"], "");
	EXPECT_EQ(r["nattch"], "1");
	// Root sees itself.
	EXPECT_EQ(rows_of(mine)[f]["pids"], std::to_string(getpid()));
	shmdt(p);
}

} // namespace
