// mount_backup.cc - tools/shmfs-backup: save every kind, remove it all,
// restore, and compare bytes, keys, modes and owners with the originals.
#include <errno.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

using namespace shmfs_test;

namespace {

int sysv_with(size_t size, int mode, key_t key, const std::string &data)
{
	int id = shmget(key, size, IPC_CREAT | IPC_EXCL | mode);
	if (id < 0)
		return -1;
	char *p = (char *)shmat(id, nullptr, 0);
	memcpy(p, data.data(), data.size());
	shmdt(p);
	return id;
}

// The private segment of this size and content, or -1.
int find_private(size_t size, const std::string &data)
{
	for (int id : proc_sysv_ids()) {
		auto row = proc_sysv_row(id);
		if (row["key"] == "0" && row["size"] == std::to_string(size) &&
		    sysv_bytes(id) == data)
			return id;
	}
	return -1;
}

class Backup : public MountTest {
protected:
	std::string base, dir, tool;
	std::vector<std::string> mount_args() override
	{
		std::string root = getenv("SHMFS_TEST_ROOT");
		base = root + "/files";
		dir = root + "/backup";
		mkdir(base.c_str(), 0755);
		const char *t = getenv("SHMFS_TOOLS");
		tool = std::string(t ? t : "tools") + "/shmfs-backup";
		return { "--map-dir=" + base };
	}
};

TEST_F(Backup, SaveRemoveEverythingRestore)
{
	const key_t key = 0x5eedb001;
	std::string keyed_data = pattern(10000, 1),
		    priv_data = pattern(5000, 2), posix_data = pattern(3000, 3),
		    mapped_data = pattern(2000, 4);
	int keyed = sysv_with(10000, 0640, key, keyed_data);
	int priv = sysv_with(5000, 0600, IPC_PRIVATE, priv_data);
	ASSERT_GE(keyed, 0);
	ASSERT_GE(priv, 0);
	shmids = { keyed, priv };
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(keyed, IPC_STAT, &ds), 0);
	ds.shm_perm.uid = 65534;
	ds.shm_perm.gid = 65534;
	ASSERT_EQ(shmctl(keyed, IPC_SET, &ds), 0);
	const std::string pname = "shmfs-test-bk a\nb";
	make_posix(pname, 0, 0604);
	std::string ppath = "/dev/shm/" + pname;
	int fd = open(ppath.c_str(), O_WRONLY);
	ASSERT_EQ(write(fd, posix_data.data(), posix_data.size()), 3000);
	ASSERT_EQ(fchown(fd, 65534, 65534), 0);
	close(fd);
	std::string mpath = base + "/keep.dat";
	fd = open(mpath.c_str(), O_CREAT | O_WRONLY, 0640);
	ASSERT_EQ(write(fd, mapped_data.data(), mapped_data.size()), 2000);
	close(fd);

	std::string saved =
		run(tool + " save " + dir + " " + m.dir + " 2>&1; echo rc=$?");
	ASSERT_NE(saved.find("saved "), std::string::npos) << saved;
	ASSERT_NE(saved.find("rc=0"), std::string::npos) << saved;

	// The kernel has seen the names (cached links included)...
	run("ls -lR " + m.dir + "/sysv >/dev/null");
	// ...and everything goes, as at a reboot.
	ASSERT_EQ(shmctl(keyed, IPC_RMID, nullptr), 0);
	ASSERT_EQ(shmctl(priv, IPC_RMID, nullptr), 0);
	ASSERT_EQ(unlink(ppath.c_str()), 0);
	ASSERT_EQ(unlink(mpath.c_str()), 0);
	ASSERT_EQ(shmget(key, 0, 0), -1);

	std::string out = run(tool + " restore " + dir + " " + m.dir +
			      " 2>&1; echo rc=$?");
	EXPECT_NE(out.find("rc=0"), std::string::npos) << out;

	int k = shmget(key, 0, 0);
	ASSERT_GE(k, 0) << out;
	shmids.push_back(k);
	ASSERT_EQ(shmctl(k, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_segsz, 10000u);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0640u);
	EXPECT_EQ(ds.shm_perm.uid, 65534u);
	EXPECT_EQ(ds.shm_perm.gid, 65534u);
	EXPECT_TRUE(sysv_bytes(k) == keyed_data);

	int p = find_private(5000, priv_data);
	ASSERT_GE(p, 0) << out;
	shmids.push_back(p);
	EXPECT_NE(out.find("restored as shmid " + std::to_string(p)),
		  std::string::npos)
		<< out;
	ASSERT_EQ(shmctl(p, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0600u);

	struct stat st;
	ASSERT_EQ(stat(ppath.c_str(), &st), 0) << out;
	EXPECT_EQ(st.st_mode & 07777, 0604u);
	EXPECT_EQ(st.st_uid, 65534u);
	EXPECT_TRUE(read_file(ppath) == posix_data);
	ASSERT_EQ(stat(mpath.c_str(), &st), 0) << out;
	EXPECT_EQ(st.st_mode & 07777, 0640u);
	EXPECT_TRUE(read_file(mpath) == mapped_data);

	// A second restore leaves what exists alone.
	out = run(tool + " restore " + dir + " " + m.dir + " 2>&1; echo rc=$?");
	EXPECT_NE(out.find("exists: System V key 0x5eedb001"),
		  std::string::npos)
		<< out;
	EXPECT_NE(out.find("exists: " + m.dir + "/posix/" + pname),
		  std::string::npos)
		<< out;
	EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
	// Private segments have no name to be found by: made anew each time.
	for (int id : proc_sysv_ids())
		if (id != p && proc_sysv_row(id)["key"] == "0" &&
		    sysv_bytes(id) == priv_data)
			shmids.push_back(id);
}

TEST_F(Backup, MistakesAreReported)
{
	EXPECT_EQ(run(tool + " save 2>&1; echo rc=$?"),
		  "shmfs-backup: usage: shmfs-backup save|restore DIR [MOUNT]\n"
		  "rc=2\n");
	EXPECT_EQ(run(tool + " save " + dir + " /tmp 2>&1; echo rc=$?"),
		  "shmfs-backup: /tmp is not a shmfs mount\nrc=2\n");
	EXPECT_EQ(run(tool + " restore /nonexistent " + m.dir +
		      " 2>&1; echo rc=$?"),
		  "shmfs-backup: no manifest in /nonexistent\nrc=2\n");
}

} // namespace
