// mount_devshm.cc - real programs with /dev/shm bound to the mount's posix/
// in a private mount namespace (what a container gets from
// -v /mnt/shm/posix:/dev/shm): glibc's named semaphores between a process
// there and one on the real /dev/shm, Python's multiprocessing, and a
// named semaphore seen as what it is (listed, its value, who maps it,
// unused/ once its users are gone).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "harness.h"

using namespace shmfs_test;

namespace {

class DevShm : public MountTest {
protected:
	void SetUp() override
	{
		MountTest::SetUp();
		std::string why;
		if (!HasFatalFailure() && !IsSkipped() &&
		    !namespaces_available(&why))
			GTEST_SKIP() << why;
	}
	void TearDown() override
	{
		run("rm -f /dev/shm/sem.shmfs-test-*");
		MountTest::TearDown();
	}
	// In this (forked) process: a mount namespace of its own whose
	// /dev/shm is the mount's posix/.
	bool bind_devshm()
	{
		return unshare(CLONE_NEWNS) == 0 &&
		       mount("none", "/", nullptr, MS_REC | MS_PRIVATE,
			     nullptr) == 0 &&
		       mount(m.path("posix").c_str(), "/dev/shm", nullptr,
			     MS_BIND, nullptr) == 0;
	}
	// Whether a mapping through the mount is the object's own memory,
	// so that a futex is shared with a native process (passthrough).
	bool same_memory()
	{
		return get_xattr(m.dir, "user.shm.io") == "passthrough";
	}
};

struct timespec in_secs(int s)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += s;
	return t;
}

// sem_open makes sem.NAME through a temporary name and link(2); sem_post
// and sem_wait are futexes on the mapped sem_t.  One side natively, the
// other through the mount where the mapping is the same memory (on the
// fallback path, both sides through the mount).
TEST_F(DevShm, NamedSemaphoresAcrossTheMount)
{
	const char *name = "/shmfs-test-sem", *back = "/shmfs-test-back";
	bool native_peer = same_memory();
	int ready[2];
	ASSERT_EQ(pipe(ready), 0);
	pid_t creator = fork();
	if (creator == 0) {
		// Through the mount: made, then three posts waited for, then
		// one posted back.
		close(ready[0]);
		sem_t *s = bind_devshm() ?
				   sem_open(name, O_CREAT | O_EXCL, 0600, 0) :
				   SEM_FAILED;
		sem_t *b = sem_open(back, O_CREAT | O_EXCL, 0600, 0);
		char ok = s != SEM_FAILED && b != SEM_FAILED ? 'y' : 'n';
		if (write(ready[1], &ok, 1) != 1 || ok != 'y')
			_exit(2);
		for (int i = 0; i < 3; i++) {
			struct timespec t = in_secs(10);
			if (sem_timedwait(s, &t) != 0)
				_exit(3);
		}
		int v = -1;
		sem_getvalue(s, &v);
		sem_post(b);
		_exit(v == 0 ? 0 : 4);
	}
	close(ready[1]);
	char ok = 0;
	ASSERT_EQ(read(ready[0], &ok, 1), 1);
	close(ready[0]);
	ASSERT_EQ(ok, 'y');
	struct stat st;
	ASSERT_EQ(stat("/dev/shm/sem.shmfs-test-sem", &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0600u);
	EXPECT_EQ(st.st_size, 32);
	std::string peer = in_child([&] {
		if (!native_peer && !bind_devshm())
			return std::string("no bind");
		sem_t *s = sem_open(name, 0), *b = sem_open(back, 0);
		if (s == SEM_FAILED || b == SEM_FAILED)
			return std::string("sem_open: ") + strerror(errno);
		for (int i = 0; i < 3; i++)
			sem_post(s);
		// The creator's post back, once it has taken all three.
		struct timespec t = in_secs(10);
		int r = sem_timedwait(b, &t);
		int v = -1;
		sem_getvalue(s, &v);
		sem_close(s);
		sem_close(b);
		return std::string(r == 0 ? "woken" : strerror(errno)) +
		       " value " + std::to_string(v);
	});
	EXPECT_EQ(peer, "woken value 0")
		<< (native_peer ? "native peer" : "peer through the mount");
	int status = -1;
	EXPECT_EQ(waitpid(creator, &status, 0), creator);
	EXPECT_EQ(status, 0) << "the creator took its three posts";
	EXPECT_EQ(sem_unlink(name), 0);
	EXPECT_EQ(sem_unlink(back), 0);
}

TEST_F(DevShm, PythonMultiprocessingWorks)
{
	std::string script =
		"import multiprocessing as mp\n"
		"def sq(x): return x * x\n"
		"if __name__ == '__main__':\n"
		"    l = mp.Lock()\n"
		"    with l: pass\n"
		"    q = mp.Queue(); q.put('item'); print(q.get())\n"
		"    with mp.Pool(2) as p: print(sum(p.map(sq, range(10))))\n"
		"    from multiprocessing import shared_memory as sm\n"
		"    s = sm.SharedMemory(create=True, size=4096)\n"
		"    s.buf[0] = 7; print(s.buf[0]); s.close(); s.unlink()\n";
	std::string out = in_child([&] {
		if (!bind_devshm())
			return std::string("no bind");
		return run("timeout 60 python3 -c \"" + script +
			   "\" 2>&1; echo rc=$?");
	});
	EXPECT_EQ(out, "item\n285\n7\nrc=0\n");
}

// A semaphore is a kind of its own: its name as sem_open takes it, its
// value read as sem_getvalue reads it, who maps it; in unused/ once
// nobody does, and removable there; counted apart in shmfs.prom.
TEST_F(DevShm, ASemaphoreIsListedWithItsValueAndFoundUnused)
{
	const char *name = "/shmfs-test-val";
	std::string f = posix_path("sem.shmfs-test-val");
	Holder h;
	ASSERT_TRUE(h.start([&] {
		sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0640, 3);
		if (s == SEM_FAILED)
			return false;
		return sem_wait(s) == 0; // holds 1 of 3: value 2
	}));
	EXPECT_EQ(get_xattr(f, "user.shm.kind"), "semaphore");
	EXPECT_EQ(get_xattr(f, "user.shm.name"), name);
	EXPECT_EQ(get_xattr(f, "user.shm.value"), "2");
	EXPECT_EQ(get_xattr(f, "user.shm.pids"), std::to_string(h.pid));
	EXPECT_EQ(get_xattr(f, "user.shm.perms"), "0640");
	auto names = list_dir(m.path("posix"));
	EXPECT_EQ(std::count(names.begin(), names.end(), "sem.shmfs-test-val"),
		  1);
	std::string prom = read_file(m.path("shmfs.prom"));
	EXPECT_NE(prom.find("shmfs_semaphores{kind=\"posix\"} "),
		  std::string::npos);
	names = list_dir(m.path("unused/posix"));
	EXPECT_EQ(std::count(names.begin(), names.end(), "sem.shmfs-test-val"),
		  0);
	h.stop();
	std::string u = m.path("unused/posix/sem.shmfs-test-val");
	struct stat st;
	double t0 = now_ms();
	while (lstat(u.c_str(), &st) != 0 && now_ms() - t0 < 3000)
		usleep(100 * 1000);
	ASSERT_EQ(lstat(u.c_str(), &st), 0) << "not in unused/ after 3 s";
	EXPECT_EQ(get_xattr(f, "user.shm.value"), "2"); // what it was left at
	EXPECT_EQ(unlink(u.c_str()), 0);
	EXPECT_EQ(stat("/dev/shm/sem.shmfs-test-val", &st), -1);
	EXPECT_EQ(errno, ENOENT);
}

} // namespace
