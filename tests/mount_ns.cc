// mount_ns.cc - containers without a Docker engine: namespaces made the way
// Docker makes them (a private IPC namespace, a private mount namespace with
// its own /dev/shm), a shmfs mount handed in as a volume, and a daemon
// pointed at a container with --pid / --ipc-ns.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "harness.h"

using namespace shmfs_test;

namespace {

const uid_t kNobody = 65534;

// Enter new IPC and mount namespaces whose mounts do not leak back.
int become_container()
{
	if (unshare(CLONE_NEWIPC | CLONE_NEWNS) < 0)
		return -1;
	if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
		return -1;
	// Docker gives each container its own /dev/shm.
	return mount("shm", "/dev/shm", "tmpfs", 0, "size=16m");
}

// Run fn in a fresh "container" child; what it prints to `out` comes back.
std::string in_container(const std::function<void(std::ostream &)> &fn)
{
	return in_child([&] {
		std::ostringstream out;
		if (become_container() < 0)
			out << "container: " << strerror(errno);
		else
			fn(out);
		return out.str();
	});
}

int err_of(int r)
{
	return r < 0 ? errno : 0;
}

class Volume : public MountTest {
protected:
	void SetUp() override
	{
		std::string why;
		if (!namespaces_available(&why))
			GTEST_SKIP() << why;
		MountTest::SetUp();
	}
};

TEST_F(Volume, AContainerUsesTheHostsSegmentsThroughTheVolume)
{
	int shared = make_sysv(4096, 0644), priv = make_sysv(4096, 0600);
	char *p = (char *)shmat(shared, nullptr, 0);
	ASSERT_NE(p, (char *)-1);
	strcpy(p, "host-bytes");
	make_posix("shmfs-test-vol", 5, 0644);
	std::string vol = m.dir + ".vol";
	ASSERT_EQ(mkdir(vol.c_str(), 0755), 0);
	std::string sp = vol + "/sysv/" + std::to_string(shared);
	std::string pp = vol + "/sysv/" + std::to_string(priv);

	std::string got = in_container([&](std::ostream &out) {
		// docker run -v /mnt/shm:/mnt/shm
		if (mount(m.dir.c_str(), vol.c_str(), nullptr, MS_BIND,
			  nullptr) < 0) {
			out << "bind: " << strerror(errno);
			return;
		}
		struct shmid_ds ds;
		// Natively the container sees none of the host's segments...
		out << "native_stat=" << err_of(shmctl(shared, IPC_STAT, &ds));
		out << " posix_native="
		    << err_of(access("/dev/shm/shmfs-test-vol", F_OK));
		// ...but the volume shows them all.
		out << " read=" << read_file(sp).substr(0, 10);
		int fd = open(sp.c_str(), O_WRONLY);
		out << " write=" << (pwrite(fd, "container", 9, 100) == 9);
		close(fd);
		out << " posix="
		    << read_file(vol + "/posix/shmfs-test-vol").size();
		// An unprivileged user inside meets the segment's own rules.
		out << " nobody_read=" << as_user(kNobody, kNobody, [&] {
			int e;
			std::string s = read_file(sp, &e);
			return e ? e :
				   (s.substr(0, 10) == "host-bytes" ? 0 : 99);
		});
		out << " nobody_write=" << as_user(kNobody, kNobody, [&] {
			return err_of(open(sp.c_str(), O_WRONLY));
		});
		out << " nobody_private=" << as_user(kNobody, kNobody, [&] {
			return err_of(open(pp.c_str(), O_RDONLY));
		});
		out << " nobody_rm=" << as_user(kNobody, kNobody, [&] {
			return err_of(unlink(pp.c_str()));
		});
	});
	EXPECT_EQ(got, "native_stat=22 posix_native=2 read=host-bytes write=1 "
		       "posix=5 nobody_read=0 nobody_write=13 "
		       "nobody_private=13 nobody_rm=1");
	EXPECT_EQ(std::string(p + 100, 9), "container");
	EXPECT_FALSE(proc_sysv_row(priv).empty());
	shmdt(p);
	rmdir(vol.c_str());
}

// A long-lived "container" with a segment and a POSIX object of its own.
struct Container {
	pid_t pid = -1;
	int id = -1;
	int to_child[2], from_child[2];

	bool start(std::string *err)
	{
		if (pipe(to_child) < 0 || pipe(from_child) < 0)
			return false;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			int r = become_container();
			int sid = r < 0 ? -1 :
					  shmget(0xC0417A1, 8192,
						 IPC_CREAT | 0644);
			if (sid >= 0) {
				char *p = (char *)shmat(sid, nullptr, 0);
				strcpy(p, "inside");
				shmdt(p);
				int fd = shm_open("/in-container",
						  O_CREAT | O_RDWR, 0644);
				(void)!write(fd, "posix-inside", 12);
				close(fd);
			}
			(void)!write(from_child[1], &sid, sizeof(sid));
			char c;
			(void)!read(to_child[0], &c, 1); // until told to end
			_exit(0);
		}
		if (read(from_child[0], &id, sizeof(id)) != sizeof(id) ||
		    id < 0) {
			*err = "the container could not be made";
			return false;
		}
		return true;
	}

	std::string ipcs()
	{
		return run("nsenter -t " + std::to_string(pid) +
			   " --ipc cat /proc/sysvipc/shm");
	}

	~Container()
	{
		if (pid > 0) {
			(void)!write(to_child[1], "x", 1);
			waitpid(pid, nullptr, 0);
		}
	}
};

class Target : public testing::Test {
protected:
	Container c;
	Mount m;
	int host_id = -1;
	void SetUp() override
	{
		std::string why;
		if (!namespaces_available(&why))
			GTEST_SKIP() << why;
		host_id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		ASSERT_GE(host_id, 0);
		ASSERT_TRUE(c.start(&why)) << why;
	}
	void TearDown() override
	{
		if (m.pid > 0) {
			EXPECT_EQ(m.stop(), 0) << read_file(m.log);
		}
		if (host_id >= 0)
			shmctl(host_id, IPC_RMID, nullptr);
	}
};

TEST_F(Target, PidShowsOnlyThatContainersSegments)
{
	std::string err;
	ASSERT_TRUE(m.start({ "--pid=" + std::to_string(c.pid) }, &err)) << err;
	// The container's namespace has exactly one segment: ours.
	EXPECT_EQ(list_dir(m.path("sysv")),
		  (std::vector<std::string>{ std::to_string(c.id), "by-key" }));
	std::string f = m.path("sysv/" + std::to_string(c.id));
	EXPECT_EQ(read_file(f).substr(0, 7), std::string("inside\0", 7));
	EXPECT_EQ(get_xattr(f, "user.shm.key"), "0x0c0417a1");
	EXPECT_EQ(list_dir(m.path("posix")),
		  std::vector<std::string>{ "in-container" });
	EXPECT_EQ(read_file(m.path("posix/in-container")), "posix-inside");
	// Every operation acts inside: write, chmod, create, rm.
	int fd = open(f.c_str(), O_WRONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(pwrite(fd, "written", 7, 0), 7);
	close(fd);
	ASSERT_EQ(chmod(f.c_str(), 0600), 0);
	std::string rows = c.ipcs();
	EXPECT_NE(rows.find(" 600 "), std::string::npos) << rows;
	fd = open(m.path("posix/made-from-host").c_str(), O_CREAT | O_WRONLY,
		  0600);
	ASSERT_GE(fd, 0);
	close(fd);
	struct stat st;
	std::string croot = "/proc/" + std::to_string(c.pid) + "/root/dev/shm/";
	EXPECT_EQ(stat((croot + "made-from-host").c_str(), &st), 0);
	EXPECT_EQ(stat("/dev/shm/made-from-host", &st), -1);
	ASSERT_EQ(unlink(f.c_str()), 0);
	EXPECT_EQ(c.ipcs().find("201594785"), std::string::npos); // 0xC0417A1
	// The host's own segment was never touched.
	EXPECT_FALSE(proc_sysv_row(host_id).empty());
}

TEST_F(Target, IpcNsShowsThatNamespacesSystemVSegments)
{
	std::string err;
	ASSERT_TRUE(m.start(
		{ "--ipc-ns=/proc/" + std::to_string(c.pid) + "/ns/ipc" },
		&err))
		<< err;
	EXPECT_EQ(list_dir(m.path("sysv")),
		  (std::vector<std::string>{ std::to_string(c.id), "by-key" }));
	EXPECT_EQ(
		read_file(m.path("sysv/" + std::to_string(c.id))).substr(0, 6),
		"inside");
	// POSIX objects are still the daemon's own /dev/shm.
	auto names = list_dir(m.path("posix"));
	EXPECT_EQ(std::count(names.begin(), names.end(), "in-container"), 0);
}

} // namespace
