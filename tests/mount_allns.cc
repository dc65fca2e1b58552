// mount_allns.cc - --all-namespaces: every container's shared memory from
// the host, in ns/INODE/.  "Containers" are made as Docker makes them: a
// private IPC namespace and a private mount namespace with its own tmpfs
// on /dev/shm, one of them run by an unprivileged uid, one in a cgroup
// named as Docker names its scopes.  Every answer is compared with the
// native view from inside that namespace (a child that setns into it, or
// /proc/PID/root/dev/shm).

#include "allns.h"

using namespace shmfs_test;

TEST_F(AllNs, ListsEveryNamespaceThatHasAProcess)
{
	// ns/ has exactly the namespaces /proc has (lsns's list), and
	// by-container/.  A namespace of the machine may come or go
	// meanwhile: the two views are compared until they agree.
	std::vector<std::string> want, got;
	for (int i = 0; i < 5; i++) {
		want = { "by-container", "by-name" };
		for (auto &e : proc_namespaces())
			want.push_back(e.first);
		std::sort(want.begin(), want.end());
		got = list_dir(m.path("ns"));
		if (got == want)
			break;
		usleep(300000);
	}
	EXPECT_EQ(got, want);
	for (auto *b : { &b1, &b2, &bu, (Box *)nullptr }) {
		std::string ns = b ? b->ns() : self_ns();
		EXPECT_EQ(std::count(got.begin(), got.end(), ns), 1) << ns;
	}
	// lsns agrees on ours.
	std::string lsns = run("lsns -t ipc -n -o NS");
	EXPECT_NE(lsns.find(b1.ns()), std::string::npos) << lsns;
	// Each holds the three kinds; posix/ is the container's /dev/shm.
	EXPECT_EQ(list_dir(at(b1, "")),
		  (std::vector<std::string>{ "posix", "segments", "sysv",
					     "unused" }));
	struct stat st;
	ASSERT_EQ(stat(at(b1, "posix").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode, (mode_t)(S_IFDIR | 01777));
	// Nothing is made, removed or changed above the kinds.
	EXPECT_EQ(err_of(mkdir(m.path("ns/x").c_str(), 0755)), EPERM);
	EXPECT_EQ(
		err_of(open(m.path("ns/f").c_str(), O_CREAT | O_WRONLY, 0644)),
		EPERM);
	EXPECT_EQ(err_of(open(at(b1, "f").c_str(), O_CREAT | O_WRONLY, 0644)),
		  EPERM);
	EXPECT_EQ(err_of(rmdir(at(b1, "sysv").c_str())), EPERM);
	// Names that cannot be a namespace.
	for (const char *bad :
	     { "ns/0", "ns/01", "ns/abc", "ns/99999999999", "ns/4026531839x",
	       // 2^64 + 4026531839: no alias by wrapping
	       "ns/18446744077736083455" }) {
		EXPECT_EQ(err_of(stat(m.path(bad).c_str(), &st)), ENOENT)
			<< bad;
	}
	EXPECT_EQ(err_of(stat(at(b1, "nokind").c_str(), &st)), ENOENT);
}

TEST_F(AllNs, EachNamespaceShowsItsOwnSegments)
{
	// unused/ first, before any open here: "k" is attached by nobody,
	// "a" by its container; nobody holds obj.
	EXPECT_EQ(list_dir(at(b1, "unused/sysv")),
		  std::vector<std::string>{ std::to_string(b1.k) });
	EXPECT_EQ(list_dir(at(b1, "unused/posix")),
		  std::vector<std::string>{ "obj" });
	// find holds its directories open in the mount while unused/ scans
	// every process's descriptors: the scan must not wait for the mount
	// (it once did, forever).
	EXPECT_EQ(run("timeout 20 find " + at(b1, "unused") +
		      " -type l -printf '%P\\n' | sort; echo rc=$?"),
		  "posix/obj\nsysv/" + std::to_string(b1.k) + "\nrc=0\n");
	for (Box *b : { &b1, &b2, &bu }) {
		SCOPED_TRACE(b->tag);
		// Exactly the namespace's ids, as its /proc/sysvipc/shm.
		std::vector<std::string> want = native_ids(b->pid);
		want.push_back("by-key");
		std::sort(want.begin(), want.end());
		EXPECT_EQ(list_dir(at(*b, "sysv")), want);
		char key[16];
		snprintf(key, sizeof(key), "0x%08x", (unsigned)kSharedKey);
		EXPECT_EQ(list_dir(at(*b, "sysv/by-key")),
			  std::vector<std::string>{ key });
		char target[32] = { 0 };
		ASSERT_GT(readlink(at(*b, std::string("sysv/by-key/") + key)
					   .c_str(),
				   target, sizeof(target) - 1),
			  0);
		EXPECT_EQ(std::string(target), "../" + std::to_string(b->k));
		EXPECT_EQ(list_dir(at(*b, "posix")),
			  std::vector<std::string>{ "obj" });
		if (b == &bu)
			continue; // read below, as its owner
		std::string sa = at(*b, "sysv/" + std::to_string(b->a));
		std::string sk = at(*b, "sysv/" + std::to_string(b->k));
		// The kernel's metadata of that namespace's segment (before
		// any open here attaches it too).
		EXPECT_EQ(get_xattr(sa, "user.shm.kind"), "sysv");
		EXPECT_EQ(get_xattr(sk, "user.shm.key"), key);
		EXPECT_EQ(get_xattr(sa, "user.shm.nattch"), "1");
		EXPECT_EQ(get_xattr(sa, "user.shm.cpid"),
			  std::to_string(b->pid));
		// The container's process attaches it: its host pid.
		EXPECT_EQ(get_xattr(sa, "user.shm.pids"),
			  std::to_string(b->pid));
		EXPECT_EQ(get_xattr(sk, "user.shm.pids"), "");
		EXPECT_EQ(get_xattr(at(*b, "posix/obj"), "user.shm.kind"),
			  "posix");
		EXPECT_EQ(get_xattr(at(*b, "posix/obj"), "user.shm.path"),
			  croot(*b, "obj"));
		EXPECT_EQ(read_file(sa).substr(0, b->tag.size() + 2),
			  b->tag + "-a");
		EXPECT_EQ(read_file(sk).size(), 8192u);
		EXPECT_EQ(read_file(at(*b, "posix/obj")), b->tag + "-posix");
	}
	// Same shmids, same key in each container, different segments.
	EXPECT_EQ(b1.a, b2.a);
	EXPECT_NE(read_file(at(b1, "sysv/" + std::to_string(b1.a))),
		  read_file(at(b2, "sysv/" + std::to_string(b2.a))));
	// The unprivileged container's are its user's.
	struct stat st;
	ASSERT_EQ(stat(at(bu, "sysv/" + std::to_string(bu.a)).c_str(), &st), 0);
	EXPECT_EQ(st.st_uid, kUser);
	EXPECT_EQ(st.st_mode, (mode_t)(S_IFREG | 0600));
	ASSERT_EQ(stat(at(bu, "posix/obj").c_str(), &st), 0);
	EXPECT_EQ(st.st_uid, kUser);
}

TEST_F(AllNs, EveryCallActsInsideItsNamespaceAndOnlyThere)
{
	int host = make_sysv(8192, 0644); // a host segment beside them
	std::string hostb = sysv_bytes(host);
	std::string a1 = at(b1, "sysv/" + std::to_string(b1.a));
	std::string k1 = at(b1, "sysv/" + std::to_string(b1.k));

	// write
	int fd = open(a1.c_str(), O_WRONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(pwrite(fd, "WRITTEN", 7, 0), 7);
	close(fd);
	EXPECT_EQ(native_bytes(b1.pid, b1.a, 7), "WRITTEN");
	EXPECT_EQ(native_bytes(b2.pid, b2.a, 5), "two-a");
	EXPECT_EQ(sysv_bytes(host), hostb);

	// mmap: the namespace's own pages, both ways.
	fd = open(k1.c_str(), O_RDWR);
	ASSERT_GE(fd, 0);
	char *p = (char *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(std::string(p, 5), "one-k");
	memcpy(p + 100, "via-map", 7);
	msync(p, 8192, MS_SYNC);
	EXPECT_EQ(native_bytes(b1.pid, b1.k, 107).substr(100), "via-map");
	munmap(p, 8192);
	close(fd);
	EXPECT_EQ(native_bytes(b2.pid, b2.k, 107).substr(100),
		  std::string(7, '\0'));

	// chmod, chown
	ASSERT_EQ(chmod(k1.c_str(), 0640), 0);
	ASSERT_EQ(chown(k1.c_str(), 4242, 4343), 0);
	EXPECT_EQ(native_stat(b1.pid, b1.k), "640 4242 4343 8192");
	EXPECT_EQ(native_stat(b2.pid, b2.k), "644 0 0 8192");

	// create, write and truncate a POSIX object
	std::string made = at(b1, "posix/made");
	fd = open(made.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(write(fd, "0123456789", 10), 10);
	close(fd);
	ASSERT_EQ(truncate(made.c_str(), 4), 0);
	EXPECT_EQ(read_file(croot(b1, "made")), "0123");
	struct stat st;
	EXPECT_EQ(err_of(stat(croot(b2, "made").c_str(), &st)), ENOENT);
	EXPECT_EQ(err_of(stat("/dev/shm/made", &st)), ENOENT);

	// create a System V segment by key
	std::string byk = at(b1, "sysv/by-key/0x00abcdef");
	fd = open(byk.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(write(fd, "keyed", 5), 5);
	close(fd);
	std::string id = in_ns(
		b1.pid, [] { return std::to_string(shmget(0xabcdef, 0, 0)); });
	ASSERT_NE(id, "-1");
	EXPECT_EQ(native_stat(b1.pid, atoi(id.c_str())), "600 0 0 5");
	EXPECT_EQ(native_bytes(b1.pid, atoi(id.c_str()), 5), "keyed");
	EXPECT_EQ(in_ns(b2.pid,
			[] { return std::to_string(shmget(0xabcdef, 0, 0)); }),
		  "-1");
	EXPECT_EQ(shmget(0xabcdef, 0, 0), -1);
	EXPECT_TRUE(list_dir(at(b2, "sysv/by-key")) ==
		    std::vector<std::string>{ "0x005a0001" });

	// rm
	ASSERT_EQ(unlink(k1.c_str()), 0);
	EXPECT_EQ(native_stat(b1.pid, b1.k), "errno=22"); // EINVAL: gone
	EXPECT_EQ(native_stat(b2.pid, b2.k), "644 0 0 8192");
	ASSERT_EQ(unlink(made.c_str()), 0);
	EXPECT_EQ(err_of(stat(croot(b1, "made").c_str(), &st)), ENOENT);
	ASSERT_EQ(unlink(at(b1, "sysv/" + id).c_str()), 0);
	EXPECT_EQ(native_stat(b1.pid, atoi(id.c_str())), "errno=22");
	// The host's segment is as it was.
	EXPECT_EQ(sysv_bytes(host), hostb);
	EXPECT_FALSE(proc_sysv_row(host).empty());
}

TEST_F(AllNs, ThePermissionRulesHold)
{
	std::string ua = at(bu, "sysv/" + std::to_string(bu.a));
	std::string uo = at(bu, "posix/obj");
	// Its owner reads it; another user meets the segment's mode.
	EXPECT_EQ(as_user(kUser, kUser,
			  [&] {
				  int e;
				  std::string s = read_file(ua, &e);
				  return e			    ? e :
					 s.substr(0, 6) == "user-a" ? 0 :
								      99;
			  }),
		  0);
	EXPECT_EQ(as_user(kUser, kUser,
			  [&] {
				  int e;
				  std::string s = read_file(uo, &e);
				  return e ? e : s == "user-posix" ? 0 : 99;
			  }),
		  0);
	// Another user cannot reach the namespace at all, as natively its
	// /proc/PID/root is closed to them: EACCES for every call.
	std::string proot = "/proc/" + std::to_string(bu.pid) + "/root/dev/shm";
	EXPECT_EQ(
		as_user(kNobody, kNobody,
			[&] { return err_of(open(proot.c_str(), O_RDONLY)); }),
		EACCES);
	EXPECT_EQ(as_user(kNobody, kNobody,
			  [&] { return err_of(open(ua.c_str(), O_RDONLY)); }),
		  EACCES);
	EXPECT_EQ(as_user(kNobody, kNobody,
			  [&] { return err_of(open(uo.c_str(), O_RDONLY)); }),
		  EACCES);
	// (rm and chmod of another's file: the kernel's sticky and owner
	// rules answer EPERM before the request reaches the daemon.)
	EXPECT_EQ(as_user(kNobody, kNobody,
			  [&] { return err_of(unlink(ua.c_str())); }),
		  EPERM);
	EXPECT_EQ(as_user(kNobody, kNobody,
			  [&] { return err_of(unlink(uo.c_str())); }),
		  EPERM);
	EXPECT_EQ(as_user(kNobody, kNobody,
			  [&] { return err_of(chmod(ua.c_str(), 0666)); }),
		  EPERM);
	EXPECT_EQ(native_stat(bu.pid, bu.a), "600 1000 1000 4096");
	std::string nb = at(bu, "posix/nb");
	EXPECT_EQ(as_user(kNobody, kNobody,
			  [&] {
				  return err_of(open(nb.c_str(),
						     O_CREAT | O_WRONLY, 0640));
			  }),
		  EACCES);
	struct stat st;
	EXPECT_EQ(err_of(stat(croot(bu, "nb").c_str(), &st)), ENOENT);
	// Its own user, who may, meets the kernel's rules there: what it
	// creates in its container's /dev/shm is its own.
	EXPECT_EQ(as_user(kUser, kUser,
			  [&] {
				  int fd = open(nb.c_str(), O_CREAT | O_WRONLY,
						0640);
				  if (fd < 0)
					  return errno;
				  close(fd);
				  return 0;
			  }),
		  0);
	ASSERT_EQ(stat(croot(bu, "nb").c_str(), &st), 0);
	EXPECT_EQ(st.st_uid, kUser);
	EXPECT_EQ(st.st_mode, (mode_t)(S_IFREG | 0640));
	EXPECT_EQ(as_user(kUser, kUser,
			  [&] { return err_of(chmod(ua.c_str(), 0640)); }),
		  0);
	EXPECT_EQ(native_stat(bu.pid, bu.a), "640 1000 1000 4096");
	EXPECT_EQ(as_user(kUser, kUser,
			  [&] { return err_of(unlink(uo.c_str())); }),
		  0);
	EXPECT_EQ(err_of(stat(croot(bu, "obj").c_str(), &st)), ENOENT);
}
