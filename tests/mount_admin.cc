// mount_admin.cc - rm, chmod, chown, touch, rename and the daemon's own
// life: each compared with the kernel's view afterwards.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

using namespace shmfs_test;

namespace {

class Admin : public MountTest {};

TEST_F(Admin, RmIsIpcRmidAndShmUnlink)
{
	int id = make_sysv(4096, 0600);
	make_posix("shmfs-test-rm", 10, 0600);
	EXPECT_EQ(run("rm " + sysv_path(id) + " " +
		      posix_path("shmfs-test-rm") + " && echo ok"),
		  "ok\n");
	EXPECT_TRUE(proc_sysv_row(id).empty());
	struct shmid_ds ds;
	EXPECT_EQ(shmctl(id, IPC_STAT, &ds), -1);
	EXPECT_EQ(shm_open("/shmfs-test-rm", O_RDONLY, 0), -1);
	EXPECT_EQ(errno, ENOENT);
	errno = 0;
	EXPECT_EQ(unlink(sysv_path(id).c_str()), -1);
	EXPECT_EQ(errno, ENOENT);
	errno = 0;
	EXPECT_EQ(unlink(m.path("sysv").c_str()), -1);
	EXPECT_EQ(errno, EISDIR);
	errno = 0;
	EXPECT_EQ(rmdir(m.path("sysv").c_str()), -1);
	EXPECT_EQ(errno, EPERM);
}

TEST_F(Admin, RmOfAnAttachedSegmentMarksItForRemoval)
{
	int id = make_sysv(4096, 0600);
	void *p = shmat(id, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	ASSERT_EQ(unlink(sysv_path(id).c_str()), 0);
	auto row = proc_sysv_row(id);
	ASSERT_FALSE(row.empty());
	EXPECT_EQ(strtoul(row["perms"].c_str(), nullptr, 8) & SHM_DEST,
		  (unsigned long)SHM_DEST);
	// ipcs lists it, marked for removal, still attached once.
	EXPECT_EQ(ipcs_row(id), (std::vector<std::string>{
					"0x00000000", std::to_string(id),
					"root", "600", "4096", "1", "dest" }));
	shmdt(p);
	EXPECT_TRUE(proc_sysv_row(id).empty());
}

TEST_F(Admin, ChmodIsIpcSetAndFchmod)
{
	int id = make_sysv(4096, 0600);
	make_posix("shmfs-test-mode", 10, 0600);
	ASSERT_EQ(chmod(sysv_path(id).c_str(), 0644), 0);
	ASSERT_EQ(chmod(posix_path("shmfs-test-mode").c_str(), 0640), 0);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0644u);
	struct stat st;
	ASSERT_EQ(stat("/dev/shm/shmfs-test-mode", &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0640u);
	ASSERT_EQ(stat(sysv_path(id).c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0644u);
	std::vector<std::string> row = ipcs_row(id);
	ASSERT_EQ(row.size(), 6u);
	EXPECT_EQ(row[3], "644");
	// IPC_SET has nine permission bits and no more.
	errno = 0;
	EXPECT_EQ(chmod(sysv_path(id).c_str(), 04644), -1);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(Admin, ChownIsIpcSetAndFchown)
{
	int id = make_sysv(4096, 0600);
	make_posix("shmfs-test-own", 10, 0600);
	ASSERT_EQ(chown(sysv_path(id).c_str(), 65534, 65534), 0);
	ASSERT_EQ(chown(posix_path("shmfs-test-own").c_str(), 65534, -1), 0);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.uid, 65534u);
	EXPECT_EQ(ds.shm_perm.gid, 65534u);
	EXPECT_EQ(ds.shm_perm.cuid, 0u); // the creator stays
	struct stat st;
	ASSERT_EQ(stat("/dev/shm/shmfs-test-own", &st), 0);
	EXPECT_EQ(st.st_uid, 65534u);
	EXPECT_EQ(st.st_gid, 0u);
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.uid"), "65534");
	EXPECT_EQ(get_xattr(sysv_path(id), "user.shm.cuid"), "0");
}

TEST_F(Admin, TimesAreSettableOnlyWhereTheKindKeepsThem)
{
	int id = make_sysv(4096, 0600);
	make_posix("shmfs-test-time", 10, 0600);
	struct timespec tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	errno = 0;
	EXPECT_EQ(utimensat(AT_FDCWD, sysv_path(id).c_str(), tv, 0), -1);
	EXPECT_EQ(errno, EPERM);
	EXPECT_EQ(utimensat(AT_FDCWD, posix_path("shmfs-test-time").c_str(), tv,
			    0),
		  0);
	struct stat st;
	ASSERT_EQ(stat("/dev/shm/shmfs-test-time", &st), 0);
	EXPECT_EQ(st.st_mtime, 1000000000);
}

// A rename in posix/ is the directory's own (atomic: the same inode
// under the new name); across kinds, or where a kind's names are the
// kernel's (sysv/), EXDEV makes mv copy and remove instead.
TEST_F(Admin, RenameIsTheDirectorysOwnOrAsksForACopy)
{
	make_posix("shmfs-test-mv", 5, 0600);
	posix.push_back("shmfs-test-mv2");
	struct stat before, st;
	ASSERT_EQ(stat("/dev/shm/shmfs-test-mv", &before), 0);
	EXPECT_EQ(rename(posix_path("shmfs-test-mv").c_str(),
			 posix_path("shmfs-test-mv2").c_str()),
		  0);
	ASSERT_EQ(stat("/dev/shm/shmfs-test-mv2", &st), 0);
	EXPECT_EQ(st.st_ino, before.st_ino);
	EXPECT_EQ(st.st_size, 5);
	EXPECT_EQ(stat("/dev/shm/shmfs-test-mv", &st), -1);
	ASSERT_EQ(stat(posix_path("shmfs-test-mv2").c_str(), &st), 0);
	EXPECT_EQ(st.st_size, 5);
	int id = make_sysv(4096, 0600);
	errno = 0;
	EXPECT_EQ(rename(sysv_path(id).c_str(), m.path("sysv/1").c_str()), -1);
	EXPECT_EQ(errno, EXDEV);
	errno = 0;
	EXPECT_EQ(rename(posix_path("shmfs-test-mv2").c_str(),
			 m.path("sysv/1").c_str()),
		  -1);
	EXPECT_EQ(errno, EXDEV);
}

// The daemon exits 0 whether it is unmounted or told to stop, and the
// segments outlive it untouched.
class Lifecycle : public testing::Test {};

// SIGTERM to m's daemon: its exit status within 20 s (-1 if it did not
// exit normally by then).
int sigterm_and_wait(Mount &m)
{
	int st = 0;
	bool exited = false;
	pid_t pid = m.pid;
	if (kill(pid, SIGTERM) != 0)
		return -1;
	// (20 s: under SANITIZE=1 on a loaded machine the leak check at exit
	// alone can take seconds; a hang is the watchdog's.)
	for (int i = 0; i < 2000 && !exited; i++) {
		exited = waitpid(pid, &st, WNOHANG) == pid;
		if (!exited)
			usleep(10000);
	}
	if (!exited)
		return -1; // the watchdog and teardown deal with it
	m.pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST_F(Lifecycle, SigtermUnmountsAndExitsZero)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	Mount m;
	std::string err;
	ASSERT_TRUE(m.start({}, &err)) << err;
	int fd = open(m.path("sysv/" + std::to_string(id)).c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(pwrite(fd, "kept", 4, 0), 4);
	close(fd);
	EXPECT_EQ(sigterm_and_wait(m), 0);
	std::string mi = read_file("/proc/self/mountinfo");
	EXPECT_EQ(mi.find(m.dir + " "), std::string::npos);
	rmdir(m.dir.c_str());
	char *p = (char *)shmat(id, nullptr, SHM_RDONLY);
	ASSERT_NE(p, (char *)-1);
	EXPECT_EQ(std::string(p, 4), "kept");
	shmdt(p);
	shmctl(id, IPC_RMID, nullptr);
}

// Told to stop while files are still open (and one mapped): it closes
// them itself and exits 0 (under SANITIZE=1 also: nothing leaked).
TEST_F(Lifecycle, SigtermWithFilesStillOpenExitsZero)
{
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	Mount m;
	std::string err;
	ASSERT_TRUE(m.start({}, &err)) << err;
	int fd = open(m.path("sysv/" + std::to_string(id)).c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	char *map = (char *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
	ASSERT_NE(map, MAP_FAILED);
	map[0] = 'm'; // a kept page and a dirty one
	ASSERT_EQ(msync(map, 8192, MS_SYNC), 0);
	EXPECT_EQ(sigterm_and_wait(m), 0) << read_file(m.log);
	munmap(map, 8192);
	close(fd);
	umount2(m.dir.c_str(), MNT_DETACH);
	rmdir(m.dir.c_str());
	unlink(m.log.c_str());
	char *p = (char *)shmat(id, nullptr, SHM_RDONLY);
	ASSERT_NE(p, (char *)-1);
	EXPECT_EQ(p[0], 'm');
	shmdt(p);
	shmctl(id, IPC_RMID, nullptr);
}

// Whether nothing is mounted at dir any more within a second.
bool unmounted_soon(const std::string &dir)
{
	for (int i = 0; i < 100; i++) {
		if (read_file("/proc/self/mountinfo").find(" " + dir + " ") ==
		    std::string::npos)
			return true;
		usleep(10000);
	}
	return false;
}

TEST_F(Lifecycle, ADeadDaemonsMountGoesAwayByItself)
{
	Mount a;
	std::string err;
	ASSERT_TRUE(a.start({}, &err)) << err;
	ASSERT_EQ(kill(a.pid, SIGKILL), 0);
	waitpid(a.pid, nullptr, 0);
	a.pid = -1;
	// auto_unmount (the default as root): no "Transport endpoint is not
	// connected" for anyone, the directory is a plain directory again.
	EXPECT_TRUE(unmounted_soon(a.dir));
	struct stat st;
	EXPECT_EQ(stat(a.dir.c_str(), &st), 0);
	rmdir(a.dir.c_str());
}

// The watcher that unmounts after a crash is a process of its own, named
// for what it does, so that `killall -9 shmfs` and `pkill shmfs` kill the
// daemon and leave the watcher to clean up; and it leaves with the daemon.
TEST_F(Lifecycle, TheAutoUnmountWatcherIsNotNamedShmfs)
{
	Mount a;
	std::string err;
	ASSERT_TRUE(a.start({}, &err)) << err;
	// (It names itself once it runs: until then /proc calls it "exe".)
	std::string kids;
	for (int i = 0; i < 300; i++) {
		kids = run("ps -o pid=,comm=,args= --ppid " +
			   std::to_string(a.pid));
		if (kids.find("auto-unmount    auto-unmount") !=
		    std::string::npos)
			break;
		usleep(10000);
	}
	EXPECT_NE(kids.find("auto-unmount    auto-unmount " + a.dir),
		  std::string::npos)
		<< kids;
	EXPECT_EQ(kids.find(" shmfs "), std::string::npos) << kids;
	pid_t watcher = atoi(kids.c_str());
	ASSERT_GT(watcher, 0);
	// A signal to the daemon's process group leaves it alone...
	EXPECT_EQ(kill(watcher, SIGTERM), 0);
	usleep(100 * 1000);
	EXPECT_EQ(kill(watcher, 0), 0);
	// ...and it does its work when the daemon dies.
	ASSERT_EQ(kill(a.pid, SIGKILL), 0);
	waitpid(a.pid, nullptr, 0);
	a.pid = -1;
	EXPECT_TRUE(unmounted_soon(a.dir));
	// Gone, or a zombie its new parent has not reaped yet.
	auto running = [watcher] {
		std::string st =
			read_file("/proc/" + std::to_string(watcher) + "/stat");
		size_t paren = st.rfind(')');
		return paren != std::string::npos && st[paren + 2] != 'Z';
	};
	for (int i = 0; i < 100 && running(); i++)
		usleep(10000);
	EXPECT_FALSE(running()) << "the watcher outlived its work";
	rmdir(a.dir.c_str());
}

// --pid PID, --ipc-ns PATH, --posix-dir DIR and --map-dir DIR take their
// value as the next word too, as GNU tools do.
TEST_F(Lifecycle, OptionsTakeTheirValueAfterASpace)
{
	std::string dir = std::string(getenv("SHMFS_TEST_ROOT")) + "/spaced";
	ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
	ASSERT_EQ(
		close(open((dir + "/file").c_str(), O_CREAT | O_WRONLY, 0644)),
		0);
	std::string pdir = std::string(getenv("SHMFS_TEST_ROOT")) + "/objs";
	ASSERT_EQ(mkdir(pdir.c_str(), 0755), 0);
	ASSERT_EQ(
		close(open((pdir + "/obj").c_str(), O_CREAT | O_WRONLY, 0644)),
		0);
	Mount a;
	std::string err;
	ASSERT_TRUE(a.start({ "--pid", std::to_string(getpid()), "--map-dir",
			      dir, "--posix-dir", pdir, "--ipc-ns",
			      "/proc/self/ns/ipc" },
			    &err))
		<< err;
	EXPECT_EQ(list_dir(a.path("mapped" + dir)),
		  (std::vector<std::string>{ "file" }));
	EXPECT_EQ(list_dir(a.path("posix")),
		  (std::vector<std::string>{ "obj" }));
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	struct stat st;
	EXPECT_EQ(stat(a.path("sysv/" + std::to_string(id)).c_str(), &st), 0);
	shmctl(id, IPC_RMID, nullptr);
	EXPECT_EQ(a.stop(), 0) << read_file(a.log);
}

TEST_F(Lifecycle, ADeadMountIsReplacedByTheNextDaemon)
{
	Mount a;
	std::string err;
	ASSERT_TRUE(a.start({ "--no-auto-unmount" }, &err)) << err;
	// Without auto_unmount a dead daemon leaves its mount behind.
	ASSERT_EQ(kill(a.pid, SIGKILL), 0);
	waitpid(a.pid, nullptr, 0);
	a.pid = -1;
	struct stat st;
	errno = 0;
	EXPECT_EQ(stat(a.dir.c_str(), &st), -1);
	EXPECT_EQ(errno, ENOTCONN);
	// A new daemon on the same mount point detaches the dead mount.
	// It daemonizes: the command returns 0 once mounted.
	EXPECT_EQ(run(std::string(getenv("SHMFS_BIN")) + " " + a.dir +
		      " 2>&1; echo rc=$?"),
		  "shmfs: " + a.dir +
			  ": stale mount of a dead daemon, "
			  "detaching\nrc=0\n");
	EXPECT_EQ(list_dir(a.dir),
		  (std::vector<std::string>{ "events", "mapped", "posix",
					     "segments", "shmfs.prom", "sysv",
					     "unused" }));
	EXPECT_EQ(run("fusermount3 -u " + a.dir + " && echo ok"), "ok\n");
	rmdir(a.dir.c_str());
}

TEST_F(Lifecycle, StartUpMistakesSayWhatAndExitNonZero)
{
	std::string bin = getenv("SHMFS_BIN");
	EXPECT_EQ(run(bin + " /nonexistent/mnt 2>&1; echo rc=$?"),
		  "fuse: bad mount point `/nonexistent/mnt': No such file or "
		  "directory\nrc=1\n");
	// One line that names the mistake and points to --help.
	EXPECT_EQ(run(bin + " --no-such-option /tmp 2>&1; echo rc=$?"),
		  "shmfs: unknown option --no-such-option (see shmfs --help)"
		  "\nrc=1\n");
	EXPECT_EQ(run(bin + " -x /tmp 2>&1; echo rc=$?"),
		  "shmfs: unknown option -x (see shmfs --help)\nrc=1\n");
	for (std::string opt :
	     { "--pid", "--ipc-ns", "--posix-dir", "--map-dir", "-o" })
		EXPECT_EQ(run(bin + " /tmp " + opt + " 2>&1; echo rc=$?"),
			  "shmfs: " + opt +
				  " needs a value (see shmfs --help)"
				  "\nrc=1\n");
	EXPECT_EQ(run(bin + " /etc/hostname 2>&1; echo rc=$?"),
		  "shmfs: mount point /etc/hostname: not a directory\nrc=1\n");
	EXPECT_EQ(run(bin + " 2>&1; echo rc=$?").find("no mount point"), 7u);
	EXPECT_EQ(run(bin + " --posix-dir=/nonexistent /tmp 2>&1; echo rc=$?"),
		  "shmfs: posix: No such file or directory\nrc=1\n");
	EXPECT_EQ(run(bin + " --ipc-ns=/etc/hostname /tmp 2>&1; echo rc=$?"),
		  "shmfs: IPC namespace /etc/hostname: not an IPC namespace\n"
		  "rc=1\n");
	EXPECT_EQ(
		run(bin + " --pid=999999999 /tmp 2>&1; echo rc=$?"),
		"shmfs: IPC namespace /proc/999999999/ns/ipc: No such file or "
		"directory\nrc=1\n");
	EXPECT_EQ(run(bin + " -o timeout=-1 /tmp 2>&1; echo rc=$?"),
		  "shmfs: timeout must be >= 0\nrc=1\n");
	// No /dev/fuse, as in a container started without --device /dev/fuse.
	std::string out = run("unshare -m sh -c 'mount -t tmpfs none /dev && " +
			      bin + " /tmp' 2>&1; echo rc=$?");
	EXPECT_EQ(out,
		  "shmfs: /dev/fuse: no such device (load the fuse module; "
		  "give a container --device /dev/fuse)\nrc=1\n");
	// A user may not mount on a directory that is not theirs.
	std::string root = getenv("SHMFS_TEST_ROOT");
	run("cp " + bin + " " + root + "/shmfs-copy");
	EXPECT_EQ(run("setpriv --reuid=65534 --regid=65534 --clear-groups " +
		      root + "/shmfs-copy " + root + " 2>&1; echo rc=$?"),
		  "shmfs: mount point " + root +
			  ": not permitted (a user needs "
			  "write access to it; or run as root)\nrc=1\n");
	// Where /dev/fuse is root's alone, a user meets that first.
	struct stat fst;
	if (stat("/dev/fuse", &fst) == 0 && !(fst.st_mode & S_IROTH)) {
		std::string own = root + "/users-own";
		mkdir(own.c_str(), 0755);
		chown(own.c_str(), 65534, 65534);
		EXPECT_EQ(
			run("setpriv --reuid=65534 --regid=65534 "
			    "--clear-groups " +
			    root + "/shmfs-copy " + own + " 2>&1; echo rc=$?"),
			"shmfs: /dev/fuse: not permitted (run as root, or let "
			"this user open /dev/fuse)\nrc=1\n");
		rmdir(own.c_str());
	}
	// --version and --help answer and exit 0; help fits on a screen.
	EXPECT_EQ(run(bin + " --version | head -1"), "shmfs 0.2.0\n");
	std::string help = run(bin + " --help; echo rc=$?");
	EXPECT_NE(help.find("--posix-dir"), std::string::npos);
	EXPECT_NE(help.find("--pid=PID"), std::string::npos);
	EXPECT_NE(help.find("rc=0"), std::string::npos);
	EXPECT_LE(std::count(help.begin(), help.end(), '\n'), 24);
}

TEST_F(Lifecycle, VerboseLogsCallerErrorsAndQuietDoesNot)
{
	for (bool verbose : { false, true }) {
		Mount m;
		std::string err;
		ASSERT_TRUE(m.start(verbose ? std::vector<std::string>{ "-v" } :
					      std::vector<std::string>{},
				    &err))
			<< err;
		struct stat st;
		EXPECT_EQ(stat(m.path("sysv/424242").c_str(), &st), -1);
		EXPECT_EQ(m.stop(), 0);
		std::string log = read_file(m.log);
		EXPECT_EQ(log.find("shmfs: lookup 424242: No such file or "
				   "directory") != std::string::npos,
			  verbose)
			<< log;
		unlink(m.log.c_str());
	}
}

} // namespace
