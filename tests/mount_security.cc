// mount_security.cc - through the mount, nobody does more than natively:
// two unprivileged uids (A, B) and a group G; each case is run natively
// and through the mount, and the outcomes (errno, bytes, owner, mode) are
// compared.  Stale inodes never act on a new object, ACLs deny as they do
// on /dev/shm, System V's creator's group counts, ns/ is only for those
// who could enter the namespace, and user.shm.pids shows only processes
// whose maps the caller could read.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

const uid_t kA = 65501, kB = 65502;
const gid_t kGA = 65501, kG = 65510;

// fn in a child as uid:gid with the supplementary groups given; its result
// (an errno, 0 for success) is returned, -1 if the child died.
int as(uid_t uid, gid_t gid, std::vector<gid_t> groups,
       const std::function<int()> &fn)
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		if (setgroups(groups.size(), groups.data()) || setgid(gid) ||
		    setuid(uid))
			_exit(255);
		_exit(fn() & 0xff);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int err_of(int r)
{
	return r < 0 ? errno : 0;
}

int open_err(const std::string &path, int flags, mode_t mode = 0)
{
	int fd = open(path.c_str(), flags, mode);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

// Mode, owner and bytes of a file, as one string to compare.
std::string state_of(const std::string &path)
{
	struct stat st;
	if (stat(path.c_str(), &st) < 0)
		return "errno=" + std::to_string(errno);
	char b[64];
	snprintf(b, sizeof(b), "%o %u:%u ", st.st_mode & 07777, st.st_uid,
		 st.st_gid);
	return b + read_file(path);
}

void write_file(const std::string &path, const std::string &text, mode_t mode,
		uid_t uid = 0, gid_t gid = 0)
{
	int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, mode);
	ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
	ASSERT_EQ(write(fd, text.data(), text.size()), (ssize_t)text.size());
	ASSERT_EQ(fchmod(fd, mode), 0);
	ASSERT_EQ(fchown(fd, uid, gid), 0);
	close(fd);
}

class Security : public MountTest {
protected:
	std::vector<std::string> names;
	std::string dev(const std::string &n)
	{
		names.push_back(n);
		return "/dev/shm/" + n;
	}
	void TearDown() override
	{
		for (auto &n : names)
			unlink(("/dev/shm/" + n).c_str());
		MountTest::TearDown();
	}
};

// A removes its file while it still holds it open, and root makes a new
// 0600 file of the same name: A's fchown and fchmod of its descriptor
// must not reach root's file (natively they change only the dead one).
TEST_F(Security, AStaleDescriptorNeverChangesTheNewObject)
{
	for (bool mount : { false, true }) {
		std::string n = mount ? "shmfs-sec-tx-m" : "shmfs-sec-tx-n";
		std::string d = dev(n);
		std::string via = mount ? posix_path(n) : d;
		int ctl[2], res[2];
		ASSERT_EQ(pipe(ctl), 0);
		ASSERT_EQ(pipe(res), 0);
		pid_t p = fork();
		if (p == 0) {
			char c = 0;
			if (setgroups(0, nullptr) || setgid(kGA) || setuid(kA))
				_exit(1);
			int fd = open(via.c_str(), O_CREAT | O_EXCL | O_RDWR,
				      0644);
			if (fd < 0 || unlink(via.c_str()) < 0)
				_exit(2);
			(void)!write(res[1], &c, 1);
			(void)!read(ctl[0], &c, 1); // root has made its own
			int e1 = err_of(fchown(fd, kA, kGA));
			int e2 = err_of(fchmod(fd, 0666));
			char buf[16] = { 0 };
			(void)!pread(fd, buf, sizeof(buf), 0);
			_exit(strstr(buf, "secret") ? 3 :
			      e1 == EPERM	    ? 4 :
			      e2 == EPERM	    ? 5 :
						      0);
		}
		char c;
		ASSERT_EQ(read(res[0], &c, 1), 1);
		write_file(d, "secret", 0600);
		ASSERT_EQ(write(ctl[1], &c, 1), 1);
		int st = 0;
		waitpid(p, &st, 0);
		close(ctl[0]), close(ctl[1]), close(res[0]), close(res[1]);
		ASSERT_TRUE(WIFEXITED(st));
		EXPECT_NE(WEXITSTATUS(st), 3) << "A read root's secret";
		EXPECT_EQ(state_of(d), "600 0:0 secret")
			<< (mount ? "through the mount" : "natively");
	}
}

// Within the kernel's name cache: A looked posix/N up, the name then
// became root's.  A's rm is EPERM (sticky /dev/shm) and A's O_TRUNC open
// EACCES, as natively, and root's file keeps its bytes.
TEST_F(Security, ANameCachedByAMeansNoMoreThanNatively)
{
	for (bool mount : { false, true }) {
		std::string ua = mount ? "shmfs-sec-ua-m" : "shmfs-sec-ua-n";
		std::string ub = mount ? "shmfs-sec-ub-m" : "shmfs-sec-ub-n";
		std::string da = dev(ua), db = dev(ub);
		std::string va = mount ? posix_path(ua) : da;
		std::string vb = mount ? posix_path(ub) : db;
		write_file(da, "mine", 0644, kA, kGA);
		write_file(db, "mine", 0644, kA, kGA);
		int ctl[2], res[2];
		ASSERT_EQ(pipe(ctl), 0);
		ASSERT_EQ(pipe(res), 0);
		pid_t p = fork();
		if (p == 0) {
			char c = 0;
			struct stat st;
			if (setgroups(0, nullptr) || setgid(kGA) || setuid(kA))
				_exit(1);
			// Looked up through the mount: the kernel caches it.
			if (stat(va.c_str(), &st) || stat(vb.c_str(), &st))
				_exit(2);
			(void)!write(res[1], &c, 1);
			(void)!read(ctl[0], &c, 1);
			int e1 = err_of(unlink(va.c_str()));
			int e2 = open_err(vb, O_WRONLY | O_TRUNC);
			_exit(e1 == EPERM && e2 == EACCES ? 0 :
			      e1 != EPERM		  ? 10 + e1 :
							    100 + e2);
		}
		char c;
		ASSERT_EQ(read(res[0], &c, 1), 1);
		ASSERT_EQ(unlink(da.c_str()), 0);
		ASSERT_EQ(unlink(db.c_str()), 0);
		write_file(da, "root-a", 0600);
		write_file(db, "root-b", 0644);
		ASSERT_EQ(write(ctl[1], &c, 1), 1);
		int st = 0;
		waitpid(p, &st, 0);
		close(ctl[0]), close(ctl[1]), close(res[0]), close(res[1]);
		ASSERT_TRUE(WIFEXITED(st));
		EXPECT_EQ(WEXITSTATUS(st), 0)
			<< (mount ? "through the mount" : "natively");
		EXPECT_EQ(state_of(da), "600 0:0 root-a");
		EXPECT_EQ(state_of(db), "644 0:0 root-b");
	}
}

// An ACL that denies a user or a group its read, on a file whose mode
// would let it: EACCES natively and through the mount (posix/ and
// mapped/).
TEST_F(Security, AclsDenyAsOnDevShm)
{
	std::string n = "shmfs-sec-acl";
	std::string d = dev(n);
	write_file(d, "acl-bytes", 0644);
	ASSERT_EQ(run("setfacl -m u:" + std::to_string(kA) + ":--- " + d +
		      " && setfacl -m g:" + std::to_string(kG) + ":--- " + d +
		      " && echo ok"),
		  "ok\n");
	for (const std::string &path : { d, posix_path(n) }) {
		EXPECT_EQ(as(kA, kGA, {},
			     [&] { return open_err(path, O_RDONLY); }),
			  EACCES)
			<< path;
		EXPECT_EQ(as(kB, kG, { kG },
			     [&] { return open_err(path, O_RDONLY); }),
			  EACCES)
			<< path;
		// Nobody else is denied.
		EXPECT_EQ(as(kB, kGA, {},
			     [&] { return open_err(path, O_RDONLY); }),
			  0)
			<< path;
	}
	// A mapped file with the same ACL, under mapped/.
	const char *troot = getenv("SHMFS_TEST_ROOT");
	std::string f = std::string(troot ? troot : "/tmp") + "/sec-acl-mapped";
	write_file(f, "acl-bytes", 0644);
	ASSERT_EQ(run("setfacl -m u:" + std::to_string(kA) + ":--- " + f +
		      " && echo ok"),
		  "ok\n");
	Holder h;
	ASSERT_TRUE(h.start([&] {
		int fd = open(f.c_str(), O_RDONLY);
		return fd >= 0 && mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd,
				       0) != MAP_FAILED;
	}));
	std::string mp = m.path("mapped" + f);
	struct stat st;
	for (int i = 0; i < 50 && stat(mp.c_str(), &st) != 0; i++)
		usleep(50000);
	ASSERT_EQ(stat(mp.c_str(), &st), 0);
	for (const std::string &path : { f, mp }) {
		EXPECT_EQ(as(kA, kGA, {},
			     [&] { return open_err(path, O_RDONLY); }),
			  EACCES)
			<< path;
		EXPECT_EQ(as(kB, kGA, {},
			     [&] { return open_err(path, O_RDONLY); }),
			  0)
			<< path;
	}
	h.stop();
	unlink(f.c_str());
}

// System V grants group rights to the segment's group and to its
// creator's group: mode 0604 with cgid G and gid 0 denies a member of G
// (natively shmat is EACCES), though "other" could read.
TEST_F(Security, SystemVCreatorsGroupCounts)
{
	int ids[1] = { -1 };
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	pid_t p = fork();
	if (p == 0) {
		if (setegid(kG) < 0)
			_exit(1);
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0604);
		struct shmid_ds ds;
		if (id < 0 || shmctl(id, IPC_STAT, &ds) < 0)
			_exit(2);
		ds.shm_perm.gid = 0;
		if (shmctl(id, IPC_SET, &ds) < 0)
			_exit(3);
		(void)!write(fds[1], &id, sizeof(id));
		_exit(0);
	}
	int st = 0;
	waitpid(p, &st, 0);
	ASSERT_EQ(read(fds[0], ids, sizeof(ids)), (ssize_t)sizeof(int));
	close(fds[0]), close(fds[1]);
	shmids.push_back(ids[0]);
	auto row = proc_sysv_row(ids[0]);
	ASSERT_EQ(row["cgid"], std::to_string(kG));
	ASSERT_EQ(row["gid"], "0");
	int native = as(kA, kGA, { kG }, [&] {
		void *a = shmat(ids[0], nullptr, SHM_RDONLY);
		if (a == (void *)-1)
			return errno;
		shmdt(a);
		return 0;
	});
	EXPECT_EQ(native, EACCES);
	EXPECT_EQ(as(kA, kGA, { kG },
		     [&] { return open_err(sysv_path(ids[0]), O_RDONLY); }),
		  native);
	// Someone in neither group reads it, as natively.
	EXPECT_EQ(as(kB, kGA, {},
		     [&] { return open_err(sysv_path(ids[0]), O_RDONLY); }),
		  0);
}

// The sticky directory: B cannot remove, rename over or chmod A's object,
// natively or through the mount; A can.
TEST_F(Security, StickyRulesAreTheKernels)
{
	for (bool mount : { false, true }) {
		std::string n = mount ? "shmfs-sec-st-m" : "shmfs-sec-st-n";
		std::string d = dev(n);
		std::string via = mount ? posix_path(n) : d;
		std::string other = via + "-b";
		dev(n + "-b");
		write_file(d, "a's", 0666, kA, kGA);
		EXPECT_EQ(as(kB, kGA, {},
			     [&] { return err_of(unlink(via.c_str())); }),
			  EPERM);
		EXPECT_EQ(as(kB, kGA, {},
			     [&] { return err_of(chmod(via.c_str(), 0600)); }),
			  EPERM);
		EXPECT_EQ(as(kB, kGA, {},
			     [&] {
				     int fd = open(other.c_str(),
						   O_CREAT | O_WRONLY, 0644);
				     if (fd < 0)
					     return errno;
				     close(fd);
				     return err_of(rename(other.c_str(),
							  via.c_str()));
			     }),
			  EPERM);
		EXPECT_EQ(state_of(d), "666 65501:65501 a's");
		EXPECT_EQ(as(kA, kGA, {},
			     [&] { return err_of(unlink(via.c_str())); }),
			  0);
	}
}

// user.shm.pids names only processes whose maps the caller could read:
// root's mapper is hidden from A (natively /proc/PID/maps is EACCES for
// A), A's own is not; root sees both.
TEST_F(Security, PidsShowWhatTheCallerCouldReadInProc)
{
	std::string n = "shmfs-sec-pids";
	std::string d = dev(n);
	write_file(d, std::string(4096, 'x'), 0644);
	auto mapper = [&](uid_t uid) {
		return [&, uid] {
			if (uid && (setgroups(0, nullptr) || setgid(kGA) ||
				    setuid(uid)))
				return false;
			prctl(PR_SET_DUMPABLE, 1);
			int fd = open(d.c_str(), O_RDONLY);
			return fd >= 0 && mmap(nullptr, 4096, PROT_READ,
					       MAP_SHARED, fd, 0) != MAP_FAILED;
		};
	};
	Holder root_map, a_map;
	ASSERT_TRUE(root_map.start(mapper(0)));
	ASSERT_TRUE(a_map.start(mapper(kA)));
	std::string f = posix_path(n);
	std::string lo = std::to_string(std::min(root_map.pid, a_map.pid));
	std::string hi = std::to_string(std::max(root_map.pid, a_map.pid));
	EXPECT_EQ(get_xattr(f, "user.shm.pids"), lo + "," + hi);
	std::string rootmaps =
		"/proc/" + std::to_string(root_map.pid) + "/maps";
	EXPECT_EQ(as(kA, kGA, {}, [&] { return open_err(rootmaps, O_RDONLY); }),
		  EACCES);
	std::string want = std::to_string(a_map.pid);
	EXPECT_EQ(as(kA, kGA, {},
		     [&] {
			     return get_xattr(f, "user.shm.pids") == want ? 0 :
									    1;
		     }),
		  0);
	EXPECT_EQ(
		as(kB, kGA, {},
		   [&] { return get_xattr(f, "user.shm.pids") == "" ? 0 : 1; }),
		0);
}

// ns/ only for those who could enter: a namespace whose only process is
// root's is EACCES for A (natively /proc/PID/root is), open to root.
class SecurityNs : public Security {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "--all-namespaces" };
	}
};

TEST_F(SecurityNs, OtherUsersNamespacesAreClosed)
{
	std::string why;
	if (!namespaces_available(&why))
		GTEST_SKIP() << why;
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	Holder box;
	ASSERT_TRUE(box.start([&] {
		if (unshare(CLONE_NEWIPC) < 0)
			return false;
		int id = shmget(0x5ec0de, 4096, IPC_CREAT | 0666);
		return id >= 0;
	}));
	struct stat st;
	std::string nsp = "/proc/" + std::to_string(box.pid) + "/ns/ipc";
	ASSERT_EQ(stat(nsp.c_str(), &st), 0);
	std::string top = m.path("ns/" + std::to_string(st.st_ino));
	std::string key = top + "/sysv/by-key/0x005ec0de";
	std::string made = top + "/sysv/by-key/0x005ec0df";
	std::string root = "/proc/" + std::to_string(box.pid) + "/root/";
	// Natively A cannot reach it.
	EXPECT_EQ(as(kA, kGA, {},
		     [&] {
			     char b[256];
			     return readlink(root.c_str(), b, sizeof(b)) < 0 ?
					    errno :
					    0;
		     }),
		  EACCES);
	EXPECT_EQ(as(kA, kGA, {}, [&] { return open_err(key, O_RDONLY); }),
		  EACCES);
	EXPECT_EQ(as(kA, kGA, {},
		     [&] {
			     int fd = open(made.c_str(), O_CREAT | O_WRONLY,
					   0666);
			     if (fd < 0)
				     return errno;
			     int e = write(fd, "x", 1) < 0 ? errno : 0;
			     close(fd);
			     return e ? e : 99;
		     }),
		  EACCES);
	EXPECT_EQ(
		as(kA, kGA, {},
		   [&] { return list_dir(top + "/sysv").empty() ? errno : 0; }),
		EACCES);
	// Root reads the segment, a 0666 one.
	int e = 0;
	EXPECT_EQ(read_file(key, &e).size(), 4096u) << strerror(e);
	box.stop();
}

} // namespace

namespace {

// Hard links of every type are one inode, as in tmpfs (pjdfstest's link
// and rename cases), and mknod keeps the device numbers.
TEST_F(Security, SpecialFilesKeepTheirIdentity)
{
	std::string fifo = posix_path("shmfs-sec-fifo"),
		    link2 = posix_path("shmfs-sec-fifo2"),
		    devn = posix_path("shmfs-sec-null");
	dev("shmfs-sec-fifo"), dev("shmfs-sec-fifo2"), dev("shmfs-sec-null");
	ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0) << strerror(errno);
	ASSERT_EQ(link(fifo.c_str(), link2.c_str()), 0) << strerror(errno);
	ASSERT_EQ(chmod(fifo.c_str(), 0600), 0);
	ASSERT_EQ(chown(link2.c_str(), kA, kGA), 0);
	struct stat a, b, n;
	ASSERT_EQ(lstat(fifo.c_str(), &a), 0);
	ASSERT_EQ(lstat(link2.c_str(), &b), 0);
	ASSERT_EQ(lstat("/dev/shm/shmfs-sec-fifo", &n), 0);
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_nlink, 2u);
	EXPECT_EQ(b.st_mode, (mode_t)(S_IFIFO | 0600));
	EXPECT_EQ(a.st_uid, kA);
	EXPECT_EQ(n.st_mode, a.st_mode);
	EXPECT_EQ(n.st_uid, a.st_uid);
	ASSERT_EQ(unlink(fifo.c_str()), 0);
	ASSERT_EQ(lstat(link2.c_str(), &b), 0);
	EXPECT_EQ(b.st_nlink, 1u);
	ASSERT_EQ(mknod(devn.c_str(), S_IFCHR | 0644, makedev(1, 3)), 0)
		<< strerror(errno);
	ASSERT_EQ(lstat(devn.c_str(), &a), 0);
	ASSERT_EQ(lstat("/dev/shm/shmfs-sec-null", &n), 0);
	EXPECT_EQ(a.st_rdev, makedev(1, 3));
	EXPECT_EQ(a.st_rdev, n.st_rdev);
}

} // namespace
