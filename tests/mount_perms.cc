// mount_perms.cc - an unprivileged user through the mount meets exactly
// the rules it meets natively (shmat, shm_open, IPC_RMID, IPC_SET).
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

const uid_t kNobody = 65534;
const gid_t kNogroup = 65534;

class Perms : public MountTest {};

int open_err(const std::string &path, int flags)
{
	int fd = open(path.c_str(), flags);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

int shmat_err(int id, int flags)
{
	void *p = shmat(id, nullptr, flags);
	if (p == (void *)-1)
		return errno;
	shmdt(p);
	return 0;
}

TEST_F(Perms, ReadAndWriteFollowTheSegmentMode)
{
	int priv = make_sysv(4096, 0600), shared = make_sysv(4096, 0644);
	make_posix("shmfs-test-priv", 10, 0600);
	make_posix("shmfs-test-shared", 10, 0644);
	// Native first: what shmat and shm_open allow nobody.
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] { return shmat_err(priv, SHM_RDONLY); }),
		  EACCES);
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] { return shmat_err(shared, SHM_RDONLY); }),
		  0);
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] { return shmat_err(shared, 0); }),
		  EACCES);
	// The mount says the same.
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] { return open_err(sysv_path(priv), O_RDONLY); }),
		  EACCES);
	EXPECT_EQ(
		as_user(kNobody, kNogroup,
			[&] { return open_err(sysv_path(shared), O_RDONLY); }),
		0);
	EXPECT_EQ(
		as_user(kNobody, kNogroup,
			[&] { return open_err(sysv_path(shared), O_WRONLY); }),
		EACCES);
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] {
				  return open_err(posix_path("shmfs-test-priv"),
						  O_RDONLY);
			  }),
		  EACCES);
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] {
				  return open_err(
					  posix_path("shmfs-test-shared"),
					  O_RDONLY);
			  }),
		  0);
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] {
				  return open_err(
					  posix_path("shmfs-test-shared"),
					  O_RDWR);
			  }),
		  EACCES);
	// Looking is allowed to anyone, as ipcs is.
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] {
				  struct stat st;
				  return stat(sysv_path(priv).c_str(), &st) ?
						 errno :
						 0;
			  }),
		  0);
}

TEST_F(Perms, OnlyTheOwnerRemovesOrChanges)
{
	int id = make_sysv(4096, 0666);
	make_posix("shmfs-test-other", 10, 0666);
	auto nobody = [&](const std::function<int()> &fn) {
		return as_user(kNobody, kNogroup, fn);
	};
	// Natively nobody can neither IPC_RMID nor IPC_SET root's segment.
	EXPECT_EQ(nobody([&] {
			  return shmctl(id, IPC_RMID, nullptr) ? errno : 0;
		  }),
		  EPERM);
	EXPECT_EQ(nobody([&] {
			  return unlink(sysv_path(id).c_str()) ? errno : 0;
		  }),
		  EPERM);
	EXPECT_EQ(nobody([&] {
			  return chmod(sysv_path(id).c_str(), 0600) ? errno : 0;
		  }),
		  EPERM);
	EXPECT_EQ(nobody([&] {
			  return chown(sysv_path(id).c_str(), kNobody, -1) ?
					 errno :
					 0;
		  }),
		  EPERM);
	EXPECT_EQ(
		nobody([&] {
			return unlink(posix_path("shmfs-test-other").c_str()) ?
				       errno :
				       0;
		}),
		EPERM);
	EXPECT_EQ(nobody([&] {
			  return chmod(posix_path("shmfs-test-other").c_str(),
				       0600) ?
					 errno :
					 0;
		  }),
		  EPERM);
	struct shmid_ds ds;
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0666u);
	// Once the segment is nobody's, nobody may change and remove it.
	ASSERT_EQ(chown(sysv_path(id).c_str(), kNobody, kNogroup), 0);
	EXPECT_EQ(nobody([&] {
			  return chmod(sysv_path(id).c_str(), 0600) ? errno : 0;
		  }),
		  0);
	ASSERT_EQ(shmctl(id, IPC_STAT, &ds), 0);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0600u);
	EXPECT_EQ(nobody([&] {
			  return unlink(sysv_path(id).c_str()) ? errno : 0;
		  }),
		  0);
	EXPECT_TRUE(proc_sysv_row(id).empty());
}

TEST_F(Perms, WhatAUserCreatesIsTheirs)
{
	posix.push_back("shmfs-test-mine");
	EXPECT_EQ(as_user(kNobody, kNogroup,
			  [&] {
				  int fd = open(
					  posix_path("shmfs-test-mine").c_str(),
					  O_CREAT | O_EXCL | O_WRONLY, 0600);
				  if (fd < 0)
					  return errno;
				  int r = write(fd, "mine", 4) == 4 ? 0 : EIO;
				  close(fd);
				  return r;
			  }),
		  0);
	struct stat st;
	ASSERT_EQ(stat("/dev/shm/shmfs-test-mine", &st), 0);
	EXPECT_EQ(st.st_uid, kNobody);
	EXPECT_EQ(st.st_gid, kNogroup);
	EXPECT_EQ(st.st_mode & 07777, 0600u);
	EXPECT_EQ(read_file("/dev/shm/shmfs-test-mine"), "mine");
	// and another user cannot read it.
	EXPECT_EQ(as_user(1, 1,
			  [&] {
				  return open_err(posix_path("shmfs-test-mine"),
						  O_RDONLY);
			  }),
		  EACCES);
}

} // namespace
