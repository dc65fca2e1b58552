// unit_proc.cc - the /proc layer, no FUSE mount: who maps what (one pass
// shared by every asker, never older than its bound), every process with
// its namespace, and /proc/sysvipc/shm parsed column by column.
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

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <glib.h>

#include "backend.h"
#include "child.h"

extern "C" {
#include "nsctx.h"
#include "proc/procscan.h"
#include "kinds/sysv.h"
}

namespace {

bool same_file(const struct shm_mapping *m, void *arg)
{
	const struct stat *st = (const struct stat *)arg;
	return m->dev == st->st_dev && m->ino == st->st_ino;
}

std::vector<pid_t> pids_of(GArray *a)
{
	std::vector<pid_t> v((pid_t *)a->data, (pid_t *)a->data + a->len);
	g_array_unref(a);
	return v;
}

// A MAP_SHARED mapping of a file, in this process and in a child, is found
// with its path; a MAP_PRIVATE one is not.
TEST(ProcScan, FindsSharedFileMappingsWithTheirPath)
{
	char path[] = "/tmp/shmfs-unit-scan.XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 8192), 0);
	struct stat st;
	ASSERT_EQ(fstat(fd, &st), 0);
	void *shared = mmap(nullptr, 8192, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(shared, MAP_FAILED);
	int go[2];
	ASSERT_EQ(pipe(go), 0);
	pid_t kid = fork();
	if (kid == 0) {
		char c;
		close(go[1]);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	std::vector<pid_t> want = { getpid(), kid };
	std::sort(want.begin(), want.end());
	EXPECT_EQ(pids_of(shm_proc_mappers(st.st_dev, st.st_ino, 0, 1, 0)),
		  want);
	struct shm_proc *snap =
		shm_proc_get(SHM_PROC_MAPS | SHM_PROC_PATHS, SHM_PROC_NOW);
	const GArray *maps = shm_proc_maps(snap);
	bool named = false;
	for (guint i = 0; i < maps->len; i++) {
		const struct shm_mapping *m =
			&g_array_index(maps, struct shm_mapping, i);
		if (m->pid == getpid() && same_file(m, &st))
			named = m->path && strcmp(m->path, path) == 0;
	}
	EXPECT_TRUE(named);
	EXPECT_TRUE(shm_proc_in_use(snap, st.st_dev, st.st_ino, 0));
	shm_proc_unref(snap);
	close(go[1]);
	waitpid(kid, nullptr, 0);
	munmap(shared, 8192);
	// Private: not a sharer.  (Asked again: a new pass, so now.)
	void *priv = mmap(nullptr, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(priv, MAP_FAILED);
	EXPECT_EQ(pids_of(shm_proc_mappers(st.st_dev, st.st_ino, 0, 1, 0)),
		  std::vector<pid_t>{});
	munmap(priv, 8192);
	// Held open only: in use with the descriptors looked at, else not.
	snap = shm_proc_get(SHM_PROC_MAPS | SHM_PROC_FDS, SHM_PROC_NOW);
	EXPECT_TRUE(shm_proc_in_use(snap, st.st_dev, st.st_ino, 0));
	shm_proc_unref(snap);
	close(fd);
	snap = shm_proc_get(SHM_PROC_MAPS | SHM_PROC_FDS, SHM_PROC_NOW);
	EXPECT_FALSE(shm_proc_in_use(snap, st.st_dev, st.st_ino, 0));
	shm_proc_unref(snap);
	unlink(path);
}

// A System V segment is (0, shmid, namespace): this process's attachment
// is found in its own namespace's entry, in no other.
TEST(ProcScan, SysvSegmentsByShmidAndNamespace)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	void *a = shmat(id, nullptr, SHM_RDONLY);
	ASSERT_NE(a, (void *)-1);
	ino_t ns = shm_ipc_ns_of_pid(getpid());
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	gint64 attached = ((gint64)ds.shm_atime + 1) * G_USEC_PER_SEC;
	EXPECT_EQ(pids_of(shm_proc_mappers(0, (ino_t)id, ns, 1, attached)),
		  std::vector<pid_t>{ getpid() });
	EXPECT_EQ(pids_of(shm_proc_mappers(0, (ino_t)id, ns + 1, 1, attached)),
		  std::vector<pid_t>{});
	shmdt(a);
	shmctl(id, IPC_RMID, nullptr);
}

// Askers at once share the pass in progress: eight threads asking about
// eight files, with no fresh snapshot, cost one pass; a ninth question
// within the bound costs none; the same question again costs one.
TEST(ProcScan, ManyAskersShareOnePassAndARepeatLooksAgain)
{
	g_usleep(SHM_PROC_FRESH_US + 50000); // every snapshot is stale
	guint64 before = shm_proc_passes();
	shmfs_test::at_once(8, [](int i) {
		g_array_unref(shm_proc_mappers(1, 1000 + i, 0, 1, 0));
	});
	EXPECT_EQ(shm_proc_passes() - before, 1u);
	g_array_unref(shm_proc_mappers(1, 2000, 0, 1, 0));
	EXPECT_EQ(shm_proc_passes() - before, 1u);
	g_array_unref(shm_proc_mappers(1, 2000, 0, 2, 0)); // another question
	EXPECT_EQ(shm_proc_passes() - before, 1u);
	g_array_unref(shm_proc_mappers(1, 2000, 0, 1, 0)); // the same again
	EXPECT_EQ(shm_proc_passes() - before, 2u);
}

// The same pass tells which process is in which IPC namespace (ns/): this
// one and its parent, each once, in pid order; a process that exits
// before the pass is not in it.
TEST(ProcScan, TasksAreEveryProcessWithItsNamespace)
{
	struct stat self;
	ASSERT_EQ(stat("/proc/self/ns/ipc", &self), 0);
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	ASSERT_GT(dead, 0);
	waitpid(dead, nullptr, 0);
	struct shm_proc *p = shm_proc_get(SHM_PROC_TASKS, SHM_PROC_NOW);
	const GArray *t = shm_proc_tasks(p);
	int mine = 0, parent = 0;
	for (guint i = 0; i < t->len; i++) {
		const struct shm_task *k =
			&g_array_index(t, struct shm_task, i);
		if (i) {
			EXPECT_LT(g_array_index(t, struct shm_task, i - 1).pid,
				  k->pid);
		}
		EXPECT_NE(k->pid, dead);
		if (k->pid == getpid()) {
			mine++;
			EXPECT_EQ(k->ns, self.st_ino);
		}
		parent += k->pid == getppid();
	}
	EXPECT_EQ(mine, 1);
	EXPECT_EQ(parent, 1);
	EXPECT_EQ(shm_proc_maps(p)->len, 0u); // the maps were not asked for
	shm_proc_unref(p);
}

// A snapshot older than the bound is never served; SHM_PROC_NOW is a pass
// begun after the call.
TEST(ProcScan, NoAnswerIsOlderThanTheBound)
{
	struct shm_proc *a = shm_proc_get(SHM_PROC_MAPS, SHM_PROC_FRESH_US);
	struct shm_proc *b = shm_proc_get(SHM_PROC_MAPS, SHM_PROC_FRESH_US);
	EXPECT_EQ(shm_proc_began(a), shm_proc_began(b));
	gint64 t = g_get_monotonic_time();
	struct shm_proc *c = shm_proc_get(SHM_PROC_MAPS, SHM_PROC_NOW);
	EXPECT_GE(shm_proc_began(c), t);
	g_usleep(SHM_PROC_FRESH_US + 10000);
	t = g_get_monotonic_time();
	struct shm_proc *d = shm_proc_get(SHM_PROC_MAPS, SHM_PROC_FRESH_US);
	EXPECT_GE(shm_proc_began(d), t - SHM_PROC_FRESH_US);
	EXPECT_GT(shm_proc_began(d), shm_proc_began(c));
	shm_proc_unref(a);
	shm_proc_unref(b);
	shm_proc_unref(c);
	shm_proc_unref(d);
}

struct Find {
	int id;
	struct sysv_row row;
	bool found;
};

bool find_id(const struct sysv_row *r, void *arg)
{
	Find *f = (Find *)arg;
	if (r->id != f->id)
		return false;
	f->row = *r;
	f->found = true;
	return true;
}

// Every column of /proc/sysvipc/shm is read into its field: the same
// numbers as IPC_STAT.
TEST(ProcScan, SysvRowsAreParsedColumnByColumn)
{
	int id = shmget(0x5eed0777, 12345, IPC_CREAT | IPC_EXCL | 0640);
	ASSERT_GE(id, 0);
	char *p = (char *)shmat(id, nullptr, 0);
	ASSERT_NE(p, (char *)-1);
	memset(p, 1, 4096); // one resident page
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	Find f = { id, {}, false };
	ASSERT_EQ(sysv_scan(find_id, &f), 0);
	ASSERT_TRUE(f.found);
	EXPECT_EQ(f.row.key, 0x5eed0777);
	EXPECT_EQ(f.row.mode & 0777, 0640u);
	EXPECT_EQ(f.row.size, 12345u);
	EXPECT_EQ(f.row.cpid, ds.shm_cpid);
	EXPECT_EQ(f.row.lpid, ds.shm_lpid);
	EXPECT_EQ(f.row.nattch, 1u);
	EXPECT_EQ(f.row.uid, ds.shm_perm.uid);
	EXPECT_EQ(f.row.gid, ds.shm_perm.gid);
	EXPECT_EQ(f.row.cuid, ds.shm_perm.cuid);
	EXPECT_EQ(f.row.cgid, ds.shm_perm.cgid);
	EXPECT_EQ(f.row.atime, ds.shm_atime);
	EXPECT_EQ(f.row.dtime, ds.shm_dtime);
	EXPECT_EQ(f.row.ctime, ds.shm_ctime);
	EXPECT_EQ(f.row.rss, 4096u);
	EXPECT_EQ(f.row.swap, 0u);
	shmdt(p);
	shmctl(id, IPC_RMID, nullptr);
}

} // namespace
