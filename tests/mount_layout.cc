// mount_layout.cc - what ls, stat, getfattr and df show, against the
// kernel's own view (IPC_STAT, /proc/sysvipc/shm, ipcs, /dev/shm).
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include <set>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

class Layout : public MountTest {};

TEST_F(Layout, RootHasOneDirectoryPerKind)
{
	EXPECT_EQ(list_dir(m.dir),
		  (std::vector<std::string>{ "events", "mapped", "posix",
					     "segments", "shmfs.prom", "sysv",
					     "unused" }));
	struct stat st;
	ASSERT_EQ(stat(m.path("sysv").c_str(), &st), 0);
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(st.st_mode & 07777, 01777u);
	ASSERT_EQ(stat(m.path("nonesuch").c_str(), &st), -1);
	EXPECT_EQ(errno, ENOENT);
}

TEST_F(Layout, SysvListingIsProcListing)
{
	int a = make_sysv(4096, 0600), b = make_sysv(12345, 0644),
	    c = make_sysv(1 << 20, 0440);
	std::vector<std::string> want = { "by-key" };
	for (int id : proc_sysv_ids())
		want.push_back(std::to_string(id));
	std::sort(want.begin(), want.end());
	EXPECT_EQ(list_dir(m.path("sysv")), want);
	for (int id : { a, b, c }) {
		struct shmid_ds ds;
		struct stat st;
		ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
		ASSERT_EQ(stat(sysv_path(id).c_str(), &st), 0) << id;
		EXPECT_TRUE(S_ISREG(st.st_mode));
		EXPECT_EQ(st.st_mode & 07777, ds.shm_perm.mode & 0777);
		EXPECT_EQ((size_t)st.st_size, ds.shm_segsz);
		EXPECT_EQ(st.st_uid, ds.shm_perm.uid);
		EXPECT_EQ(st.st_gid, ds.shm_perm.gid);
		EXPECT_EQ(st.st_ctime, ds.shm_ctime);
	}
}

TEST_F(Layout, SegmentsMarkedForRemovalAreNotListed)
{
	int id = make_sysv(4096, 0600);
	void *p = shmat(id, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	auto names = list_dir(m.path("sysv"));
	EXPECT_EQ(std::count(names.begin(), names.end(), std::to_string(id)),
		  0);
	struct stat st;
	EXPECT_EQ(stat(sysv_path(id).c_str(), &st), -1);
	EXPECT_EQ(errno, ENOENT);
	shmdt(p);
}

TEST_F(Layout, UnparsableNamesAreENOENT)
{
	int id = make_sysv(4096, 0600);
	for (std::string n : std::vector<std::string>{
		     "abc", "0" + std::to_string(id), "+" + std::to_string(id),
		     "-1", "99999999999999999999", std::to_string(id) + " ",
		     "2147483648" }) {
		struct stat st;
		errno = 0;
		EXPECT_EQ(stat(m.path("sysv/" + n).c_str(), &st), -1) << n;
		EXPECT_EQ(errno, ENOENT) << n;
	}
}

TEST_F(Layout, PosixListingIsDevShm)
{
	make_posix("shmfs-test-a", 100, 0600);
	make_posix("shmfs-test-b", 0, 0644);
	sem_t *s = sem_open("/shmfs-test-sem", O_CREAT, 0600, 1);
	ASSERT_NE(s, SEM_FAILED);
	ASSERT_EQ(mkdir("/dev/shm/shmfs-test-dir", 0700), 0);
	ASSERT_EQ(symlink("shmfs-test-a", "/dev/shm/shmfs-test-link"), 0);
	auto names = list_dir(m.path("posix"));
	auto native_names = list_dir("/dev/shm");
	std::string kind =
		get_xattr(posix_path("sem.shmfs-test-sem"), "user.shm.kind");
	sem_close(s);
	sem_unlink("/shmfs-test-sem");
	rmdir("/dev/shm/shmfs-test-dir");
	unlink("/dev/shm/shmfs-test-link");
	// Every entry, semaphores, directories and links included.
	EXPECT_EQ(names, native_names);
	EXPECT_EQ(std::count(names.begin(), names.end(), "sem.shmfs-test-sem"),
		  1);
	EXPECT_EQ(std::count(names.begin(), names.end(), "shmfs-test-dir"), 1);
	EXPECT_EQ(kind, "semaphore");
	struct stat st, native;
	ASSERT_EQ(stat(posix_path("shmfs-test-a").c_str(), &st), 0);
	ASSERT_EQ(stat("/dev/shm/shmfs-test-a", &native), 0);
	EXPECT_EQ(st.st_mode, native.st_mode);
	EXPECT_EQ(st.st_size, 100);
	EXPECT_EQ(st.st_uid, native.st_uid);
	EXPECT_EQ(st.st_mtim.tv_sec, native.st_mtim.tv_sec);
	EXPECT_EQ(st.st_mtim.tv_nsec, native.st_mtim.tv_nsec);
}

TEST_F(Layout, NativeChangesShowWithinOneSecond)
{
	auto seen = [&](const std::string &dir, const std::string &name) {
		auto v = list_dir(m.path(dir));
		return std::find(v.begin(), v.end(), name) != v.end();
	};
	auto within = [](const std::function<bool()> &ok) {
		for (int i = 0; i < 100; i++) {
			if (ok())
				return true;
			usleep(10000);
		}
		return false;
	};
	// Make the kernel cache the names first.
	list_dir(m.path("sysv"));
	list_dir(m.path("posix"));
	int id = make_sysv(4096, 0600);
	std::string sid = std::to_string(id);
	make_posix("shmfs-test-fresh", 10, 0600);
	EXPECT_TRUE(within([&] { return seen("sysv", sid); }));
	EXPECT_TRUE(within([&] { return seen("posix", "shmfs-test-fresh"); }));
	struct stat st;
	ASSERT_EQ(stat(sysv_path(id).c_str(), &st), 0);
	ASSERT_EQ(stat(posix_path("shmfs-test-fresh").c_str(), &st), 0);
	ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	ASSERT_EQ(shm_unlink("/shmfs-test-fresh"), 0);
	EXPECT_TRUE(within([&] { return !seen("sysv", sid); }));
	EXPECT_TRUE(within([&] { return !seen("posix", "shmfs-test-fresh"); }));
	EXPECT_TRUE(within([&] {
		return stat(sysv_path(id).c_str(), &st) == -1 &&
		       errno == ENOENT;
	}));
	EXPECT_TRUE(within([&] {
		return stat(posix_path("shmfs-test-fresh").c_str(), &st) ==
			       -1 &&
		       errno == ENOENT;
	}));
}

const std::vector<std::string> kSysvNames = {
	"user.shm.kind",
	"user.shm.id",
	"user.shm.key",
	"user.shm.size",
	"user.shm.perms",
	"user.shm.uid",
	"user.shm.gid",
	"user.shm.cuid",
	"user.shm.cgid",
	"user.shm.cpid",
	"user.shm.lpid",
	"user.shm.command",
	"user.shm.creator.container",
	"user.shm.creator.container.name",
	"user.shm.nattch",
	"user.shm.pids",
	"user.shm.atime",
	"user.shm.dtime",
	"user.shm.ctime",
	"user.shm.status",
	"user.shm.rss",
	"user.shm.swap",
	"user.shm.io",
};

TEST_F(Layout, LookingNeverAttaches)
{
	int id = make_sysv(8192, 0644);
	struct shmid_ds before, after;
	ASSERT_EQ(shmctl(id, IPC_STAT, &before), 0);
	sleep(1); // so that a changed time would show
	struct stat st;
	std::vector<std::string> names = list_dir(m.path("sysv"));
	EXPECT_NE(std::find(names.begin(), names.end(), std::to_string(id)),
		  names.end());
	ASSERT_EQ(stat(sysv_path(id).c_str(), &st), 0);
	EXPECT_EQ(list_xattrs(sysv_path(id)).size(), kSysvNames.size());
	int err = -1;
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.nattch", &err), "0");
	EXPECT_EQ(err, 0);
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.pids", &err), "");
	EXPECT_EQ(err, 0);
	EXPECT_EQ(run("ls -l " + m.path("sysv") + " >/dev/null; echo $?"),
		  "0\n");
	std::string dump =
		run("getfattr --absolute-names -d " + sysv_path(id) + " 2>&1");
	EXPECT_NE(dump.find("user.shm.nattch=\"0\""), std::string::npos)
		<< dump;
	ASSERT_EQ(shmctl(id, IPC_STAT, &after), 0);
	EXPECT_EQ(after.shm_nattch, before.shm_nattch);
	EXPECT_EQ(after.shm_lpid, before.shm_lpid);
	EXPECT_EQ(after.shm_atime, before.shm_atime);
	EXPECT_EQ(after.shm_dtime, before.shm_dtime);
	EXPECT_EQ(after.shm_ctime, before.shm_ctime);
}

TEST_F(Layout, SysvXattrsAgreeWithProcAndIpcs)
{
	int id = make_sysv(3 * 4096 + 5, 0640, 0x5eed0001);
	char *p = (char *)shmat(id, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	memset(p, 1, 4096); // one resident page
	EXPECT_EQ(list_xattrs(sysv_path(id)), kSysvNames);
	auto row = proc_sysv_row(id);
	ASSERT_FALSE(row.empty());
	std::string f = sysv_path(id);
	EXPECT_EQ(get_xattr(f, "user.shm.kind"), "sysv");
	EXPECT_EQ(get_xattr(f, "user.shm.id"), std::to_string(id));
	EXPECT_EQ(get_xattr(f, "user.shm.key"), "0x5eed0001");
	EXPECT_EQ(get_xattr(f, "user.shm.size"), "12293");
	EXPECT_EQ(get_xattr(f, "user.shm.perms"), "0640");
	EXPECT_EQ(get_xattr(f, "user.shm.status"), "");
	for (const char *c :
	     { "uid", "gid", "cuid", "cgid", "cpid", "lpid", "nattch", "atime",
	       "dtime", "ctime", "rss", "swap" })
		EXPECT_EQ(get_xattr(f, std::string("user.shm.") + c), row[c])
			<< c;
	EXPECT_EQ(get_xattr(f, "user.shm.nattch"), "1");
	EXPECT_EQ(get_xattr(f, "user.shm.cpid"), std::to_string(getpid()));
	EXPECT_EQ(get_xattr(f, "user.shm.rss"), "4096");
	// ipcs -m -i prints the same numbers.
	std::string ipcs = run("ipcs -m -i " + std::to_string(id));
	EXPECT_NE(ipcs.find("bytes=12293\tlpid=" + row["lpid"] +
			    "\tcpid=" + row["cpid"] + "\tnattch=1"),
		  std::string::npos)
		<< ipcs;
	EXPECT_NE(ipcs.find("mode=0640"), std::string::npos) << ipcs;
	shmdt(p);
}

// An open file attaches nothing: IPC_RMID removes the segment at once, as
// ipcs shows (no "dest" row is left), and the open file keeps its bytes.
TEST_F(Layout, SysvRemovedUnderAnOpenFileIsGoneFromTheKernel)
{
	int id = make_sysv(4096, 0600);
	int fd = open(sysv_path(id).c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pwrite(fd, "held", 4, 0), 4);
	ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	EXPECT_TRUE(ipcs_row(id).empty());
	EXPECT_TRUE(proc_sysv_row(id).empty());
	char buf[16];
	errno = 0;
	EXPECT_EQ(fgetxattr(fd, "user.shm.status", buf, sizeof(buf)), -1);
	EXPECT_EQ(errno, ENOENT);
	EXPECT_EQ(pread(fd, buf, 4, 0), 4);
	EXPECT_EQ(std::string(buf, 4), "held");
	close(fd);
}

TEST_F(Layout, XattrProtocolErrors)
{
	int id = make_sysv(4096, 0600);
	std::string f = sysv_path(id);
	int err;
	get_xattr(f, "user.shm.nonesuch", &err);
	EXPECT_EQ(err, ENODATA);
	get_xattr(f, "user.other", &err);
	EXPECT_EQ(err, ENODATA);
	// Namespaces shmfs keeps nothing in are not supported.
	get_xattr(f, "security.selinux", &err);
	EXPECT_EQ(err, ENOTSUP);
	get_xattr(f, "system.posix_acl_access", &err);
	EXPECT_EQ(err, ENOTSUP);
	get_xattr(f, "trusted.x", &err);
	EXPECT_EQ(err, ENOTSUP);
	char small[2];
	EXPECT_EQ(getxattr(f.c_str(), "user.shm.kind", small, 2), -1);
	EXPECT_EQ(errno, ERANGE);
	EXPECT_EQ(getxattr(f.c_str(), "user.shm.kind", nullptr, 0), 4);
	// Read-only, and said so in the way cp -a and mv ignore.
	EXPECT_EQ(setxattr(f.c_str(), "user.shm.perms", "0777", 4, 0), -1);
	EXPECT_EQ(errno, ENOTSUP);
	EXPECT_EQ(removexattr(f.c_str(), "user.shm.perms"), -1);
	EXPECT_EQ(errno, ENOTSUP);
	// Directories have no metadata of a segment: sysv/ and posix/ have
	// their limits and use (below), by-key/ nothing.
	EXPECT_EQ(list_xattrs(m.path("sysv/by-key")),
		  std::vector<std::string>{});
}

// Because of that, ls -l asks the first file, not every file, for its
// SELinux label and ACL (it remembers "not supported" per filesystem).
TEST_F(Layout, LsAsksForLabelsAndAclsOncePerListing)
{
	for (int i = 0; i < 30; i++)
		make_sysv(4096, 0600);
	std::string out = run("strace -f -e trace=lgetxattr,getxattr ls -l " +
			      m.path("sysv") + " 2>&1 >/dev/null");
	size_t calls = 0;
	for (size_t at = 0;
	     (at = out.find("getxattr(", at)) != std::string::npos; at++)
		calls++;
	EXPECT_LE(calls, 4u) << out;
	EXPECT_GE(calls, 1u) << out;
}

TEST_F(Layout, PosixXattrsAreWhatIsKnown)
{
	// A request through the mount returns once the daemon serves, its
	// watcher started: the object is then made while it watches.
	(void)list_dir(m.dir);
	make_posix("shmfs-test-x", 777, 0640);
	std::string f = posix_path("shmfs-test-x");
	// Who made it is known where the watcher saw it made (fanotify).
	std::vector<std::string> want = { "user.shm.kind", "user.shm.size",
					  "user.shm.perms", "user.shm.uid",
					  "user.shm.gid" };
	if (kernel_has_tmpfs_fanotify())
		want.insert(want.end(), { "user.shm.cpid", "user.shm.command",
					  "user.shm.creator.container",
					  "user.shm.creator.container.name" });
	want.insert(want.end(), { "user.shm.nattch", "user.shm.pids",
				  "user.shm.path", "user.shm.io" });
	EXPECT_EQ(list_xattrs(f), want);
	if (kernel_has_tmpfs_fanotify()) {
		EXPECT_EQ(get_xattr(f, "user.shm.cpid"),
			  std::to_string(getpid()));
		EXPECT_EQ(get_xattr(f, "user.shm.command"), own_command());
		EXPECT_EQ(get_xattr(f, "user.shm.creator.container"), "");
		EXPECT_EQ(get_xattr(f, "user.shm.creator.container.name"), "");
	}
	EXPECT_EQ(get_xattr(f, "user.shm.kind"), "posix");
	EXPECT_EQ(get_xattr(f, "user.shm.size"), "777");
	EXPECT_EQ(get_xattr(f, "user.shm.perms"), "0640");
	EXPECT_EQ(get_xattr(f, "user.shm.uid"), std::to_string(getuid()));
	EXPECT_EQ(get_xattr(f, "user.shm.nattch"), "0");
	EXPECT_EQ(get_xattr(f, "user.shm.pids"), "");
	EXPECT_EQ(get_xattr(f, "user.shm.path"), "/dev/shm/shmfs-test-x");
	int err;
	get_xattr(f, "user.shm.id", &err);
	EXPECT_EQ(err, ENODATA);
	std::string dump = run("getfattr -d --absolute-names " + f);
	EXPECT_NE(dump.find("user.shm.perms=\"0640\""), std::string::npos)
		<< dump;
}

TEST_F(Layout, DfCountsEverySegmentAgainstTheLimits)
{
	int id = make_sysv(8 << 20, 0600);
	void *p = shmat(id, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	memset(p, 7, 8 << 20);
	// Marked for removal but still attached: still in use.
	ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	struct shm_info use;
	struct shminfo lim;
	struct statvfs dev, sv;
	ASSERT_GE(shmctl(0, SHM_INFO, (struct shmid_ds *)&use), 0);
	ASSERT_GE(shmctl(0, IPC_INFO, (struct shmid_ds *)&lim), 0);
	ASSERT_EQ(statvfs("/dev/shm", &dev), 0);
	ASSERT_EQ(statvfs(m.dir.c_str(), &sv), 0);
	long page = sysconf(_SC_PAGESIZE);
	uint64_t used = (uint64_t)use.shm_tot * page +
			(uint64_t)(dev.f_blocks - dev.f_bfree) * dev.f_frsize;
	EXPECT_EQ((uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize,
		  used / 4096 * 4096);
	EXPECT_GE((uint64_t)use.shm_tot * page, (uint64_t)(8 << 20));
	EXPECT_EQ(sv.f_files, lim.shmmni + dev.f_files);
	shmdt(p);
}

class PosixDir : public MountTest {
protected:
	std::string dir;
	std::vector<std::string> mount_args() override
	{
		dir = "/dev/shm/shmfs-test-dir." + std::to_string(getpid());
		mkdir(dir.c_str(), 0755);
		return { "--posix-dir=" + dir };
	}
	void TearDown() override
	{
		MountTest::TearDown();
		run("rm -rf " + dir);
	}
};

TEST_F(PosixDir, ListsTheGivenDirectory)
{
	ASSERT_EQ(close(open((dir + "/only-here").c_str(), O_CREAT | O_WRONLY,
			     0600)),
		  0);
	EXPECT_EQ(list_dir(m.path("posix")),
		  std::vector<std::string>{ "only-here" });
	int fd = open(posix_path("made-here").c_str(),
		      O_CREAT | O_EXCL | O_WRONLY, 0600);
	ASSERT_GE(fd, 0);
	close(fd);
	struct stat st;
	EXPECT_EQ(stat((dir + "/made-here").c_str(), &st), 0);
}

} // namespace

namespace {

// One column of segment id's row in lsipc -m, "" if empty or absent.
std::string lsipc_column(int id, const std::string &col)
{
	std::string out = run("lsipc -m --noheadings --raw -o ID," + col);
	std::istringstream rows(out);
	for (std::string line; std::getline(rows, line);) {
		std::string want = std::to_string(id) + " ";
		if (line.rfind(want, 0) == 0) {
			std::string v = line.substr(want.size());
			for (size_t at;
			     (at = v.find("\\x20")) != std::string::npos;)
				v.replace(at, 4, " ");
			return v;
		}
	}
	return "";
}

// A System V segment made by a child (*child), which then runs `sleep 30
// 1` if sleep is set, else exits; its shmid, or -1.
int sysv_by_child(pid_t *child, const char *sleep)
{
	int ready[2], id = -1;
	if (pipe(ready) != 0)
		return -1;
	*child = fork();
	if (*child == 0) {
		id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		(void)!write(ready[1], &id, sizeof(id));
		if (sleep)
			execlp(sleep, sleep, "30", "1", (char *)NULL);
		_exit(0);
	}
	if (*child < 0 || read(ready[0], &id, sizeof(id)) != sizeof(id))
		id = -1;
	close(ready[0]);
	close(ready[1]);
	return id;
}

// A process that has the pid of a creator that exited before shmfs saw
// its segment is not taken for it (lsipc, which reads /proc/CPID/cmdline,
// names that process): the creator is the one remembered from its exec
// (process_events.h), or unknown if that was missed, never the new process.
TEST_F(Layout, AReusedCreatorPidIsNotTheCreator)
{
	std::string prog = "print shmget(0, 4096, 0600|01000)";
	int id = std::stoi(run("perl -e '" + prog + "' reused-pid"));
	ASSERT_GE(id, 0);
	shmids.push_back(id);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	pid_t creator = ds.shm_cpid;
	usleep(2500 * 1000); // whoever has the pid now started 2 s after
			     // the segment (creators.h's bound)
	Holder other;
	ASSERT_TRUE(other.start([] { return true; }, creator))
		<< strerror(errno);
	ASSERT_EQ(other.pid, creator);
	std::string now = lsipc_column(id, "COMMAND");
	EXPECT_NE(now, "");
	std::string cmd = get_xattr(sysv_path(id), "user.shm.command");
	EXPECT_NE(cmd, now);
	EXPECT_TRUE(cmd.empty() || cmd == "perl -e " + prog + " reused-pid")
		<< cmd;
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.creator.container"), "");
}

// lsipc's COMMAND column while the creator lives, and kept after it is
// gone (lsipc's is "" then); STATUS as lsipc shows it.
TEST_F(Layout, CommandAndStatusAreLsipcs)
{
	pid_t creator = -1;
	int id = sysv_by_child(&creator, "sleep");
	ASSERT_GE(id, 0);
	shmids.push_back(id);
	std::string cmd;
	for (int i = 0; i < 200 && cmd != "sleep 30 1"; i++) {
		usleep(10000); // until the exec is done
		cmd = get_xattr(sysv_path(id), "user.shm.command");
	}
	EXPECT_EQ(cmd, "sleep 30 1");
	EXPECT_EQ(lsipc_column(id, "COMMAND"), "sleep 30 1");
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.creator.container"), "");
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.creator.container.name"),
		  "");
	kill(creator, SIGKILL);
	waitpid(creator, nullptr, 0);
	// The creator is gone: lsipc no longer knows it, shmfs still does.
	int err = -1;
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.command", &err),
		  "sleep 30 1");
	EXPECT_EQ(err, 0);
	EXPECT_EQ(lsipc_column(id, "COMMAND"), "");
	// Attached and removed: dest, as lsipc says.
	void *p = shmat(id, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	int fd = open(sysv_path(id).c_str(), O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
	EXPECT_EQ(lsipc_column(id, "STATUS"), "dest");
	// The removed segment is reached through the open file (fgetxattr).
	char buf[64];
	ssize_t n = fgetxattr(fd, "user.shm.status", buf, sizeof(buf));
	EXPECT_EQ(std::string(buf, n > 0 ? (size_t)n : 0), "dest");
	close(fd);
	shmdt(p);
}

uint64_t proc_number(const std::string &path)
{
	return strtoull(read_file(path).c_str(), nullptr, 10);
}

// Number after `label` in ipcs -u's output.
uint64_t ipcs_u(const std::string &label)
{
	std::string out = run("ipcs -m -u");
	size_t at = out.find(label);
	return at == std::string::npos ?
		       UINT64_MAX :
		       strtoull(out.c_str() + at + label.size(), nullptr, 10);
}

TEST_F(Layout, LimitsAndUseAreXattrsOfTheDirectories)
{
	make_sysv(3 * 4096, 0600);
	make_posix("shmfs-test-use", 10000, 0600);
	std::string sysv = m.path("sysv"), pdir = m.path("posix");
	EXPECT_EQ(get_xattr(sysv, "user.shm.limit.shmmax"),
		  std::to_string(proc_number("/proc/sys/kernel/shmmax")));
	EXPECT_EQ(get_xattr(sysv, "user.shm.limit.shmall"),
		  std::to_string(proc_number("/proc/sys/kernel/shmall")));
	EXPECT_EQ(get_xattr(sysv, "user.shm.limit.shmmni"),
		  std::to_string(proc_number("/proc/sys/kernel/shmmni")));
	EXPECT_EQ(get_xattr(sysv, "user.shm.limit.shmmin"), "1");
	EXPECT_EQ(get_xattr(sysv, "user.shm.used.segments"),
		  std::to_string(ipcs_u("segments allocated ")));
	EXPECT_EQ(get_xattr(sysv, "user.shm.used.pages"),
		  std::to_string(ipcs_u("pages allocated ")));
	EXPECT_EQ(get_xattr(sysv, "user.shm.used.resident"),
		  std::to_string(ipcs_u("pages resident  ")));
	EXPECT_EQ(get_xattr(sysv, "user.shm.used.swapped"),
		  std::to_string(ipcs_u("pages swapped   ")));
	struct statvfs sv;
	ASSERT_EQ(statvfs("/dev/shm", &sv), 0);
	EXPECT_EQ(get_xattr(pdir, "user.shm.limit.bytes"),
		  std::to_string((uint64_t)sv.f_blocks * sv.f_frsize));
	EXPECT_EQ(get_xattr(pdir, "user.shm.limit.inodes"),
		  std::to_string((uint64_t)sv.f_files));
	// Objects: the directory's own regular files, not semaphores.
	EXPECT_EQ(get_xattr(pdir, "user.shm.used.objects"),
		  std::to_string(posix_objects("/dev/shm").size()));
	EXPECT_EQ(list_xattrs(pdir),
		  (std::vector<std::string>{
			  "user.shm.limit.bytes", "user.shm.used.bytes",
			  "user.shm.limit.inodes", "user.shm.used.inodes",
			  "user.shm.used.objects" }));
	int err = 0;
	get_xattr(m.path("sysv/by-key"), "user.shm.limit.shmmax", &err);
	EXPECT_EQ(err, ENODATA);
}

} // namespace
