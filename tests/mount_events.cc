// mount_events.cc - `events` at the mount's root (one JSON line per segment
// made or removed) and the creators of short-lived processes' segments
// (user.shm.command after the creator is gone).  Every line is compared
// with what the test itself did natively: the ids shmget gave, the names it
// made in /dev/shm, its own pid and command line.
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

using namespace shmfs_test;

namespace {

// The watcher's figures in shmfs.prom, for a failure's message.
std::string watch_figures(const Mount &m)
{
	std::string out;
	for (const std::string &l : lines_of(read_file(m.path("shmfs.prom"))))
		if (l.compare(0, 12, "shmfs_watch_") == 0)
			out += l + "; ";
	return out;
}

class Events : public MountTest {};

// Whether some process has path open, waited for up to limit_ms.
bool someone_holds(const std::string &path, int limit_ms)
{
	for (int t = 0; t < limit_ms / 20; t++) {
		for (const std::string &pid : list_dir("/proc")) {
			if (pid.find_first_not_of("0123456789") !=
			    std::string::npos)
				continue;
			std::string fds = "/proc/" + pid + "/fd";
			for (const std::string &fd : list_dir(fds)) {
				char buf[4096];
				ssize_t n = readlink((fds + "/" + fd).c_str(),
						     buf, sizeof(buf));
				if (n > 0 &&
				    std::string(buf, (size_t)n) == path)
					return true;
			}
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	return false;
}

TEST_F(Events, AFileAtTheRootThatOnlyReads)
{
	struct stat st;
	ASSERT_EQ(stat(m.path("events").c_str(), &st), 0);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_mode & 07777, 0444u);
	std::vector<std::string> root = list_dir(m.dir);
	EXPECT_TRUE(std::find(root.begin(), root.end(), "events") !=
		    root.end());
	EXPECT_EQ(open(m.path("events").c_str(), O_WRONLY), -1);
	EXPECT_EQ(errno, EACCES);
	EXPECT_EQ(unlink(m.path("events").c_str()), -1);
	EXPECT_EQ(errno, EPERM);
	// A stream: no seek.
	int fd = open(m.path("events").c_str(), O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(lseek(fd, 0, SEEK_END), -1);
	EXPECT_EQ(errno, ESPIPE);
	close(fd);
}

// 1,000 segments of each kind, made and removed in bursts of 100: each
// change is one line, made before removed, with the segment's own key,
// size, creator pid and command line; the size of the file only grows.
TEST_F(Events, EveryChangeOnceInOrderInBursts)
{
	const int kBursts = 10, kEach = 100;
	std::string me = own_command(), tag = std::to_string(getpid());
	std::map<std::string, int> sysv_size;
	std::set<std::string> names;
	off_t last_size = 0;

	auto kinds = [&](const std::vector<std::string> &got) {
		std::map<std::string, int> n;
		for (const std::string &l : got)
			n[json_field(l, "kind") + " " +
			  json_field(l, "event")]++;
		std::string out;
		for (const auto &k : n)
			out += k.first + " " + std::to_string(k.second) + "; ";
		return out;
	};
	auto ours = [&](const std::string &l) {
		std::string k = json_field(l, "kind"),
			    n = json_field(l, "name");
		return k == "sysv" ? sysv_size.count(n) > 0 :
				     names.count(n) > 0;
	};
	for (int b = 0; b < kBursts; b++) {
		std::vector<int> ids;
		std::vector<std::string> made;
		for (int i = 0; i < kEach; i++) {
			size_t size = 4096 * (1 + (size_t)(b * kEach + i) % 5);
			int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
			ASSERT_GE(id, 0);
			ids.push_back(id);
			shmids.push_back(id); // removed by TearDown if we fail
			sysv_size[std::to_string(id)] = (int)size;
			std::string n = "evt-" + tag + "-" +
					std::to_string(b * kEach + i);
			int fd = shm_open(("/" + n).c_str(),
					  O_CREAT | O_EXCL | O_RDWR, 0600);
			ASSERT_GE(fd, 0);
			close(fd);
			posix.push_back(n);
			names.insert(n);
			made.push_back(n);
		}
		// Noticed without a listing: the watcher's own rounds.
		size_t seen =
			(size_t)(b + 1) * kEach * 2 + (size_t)b * kEach * 2;
		std::vector<std::string> got = event_lines(m, seen, ours);
		ASSERT_EQ(got.size(), seen) << "burst " << b << ": "
					    << kinds(got) << watch_figures(m);
		for (int id : ids)
			ASSERT_EQ(shmctl(id, IPC_RMID, nullptr), 0);
		for (const std::string &n : made)
			ASSERT_EQ(shm_unlink(("/" + n).c_str()), 0);
		seen += (size_t)kEach * 2;
		got = event_lines(m, seen, ours);
		ASSERT_EQ(got.size(), seen) << "burst " << b << ": "
					    << kinds(got) << watch_figures(m);
		struct stat st;
		ASSERT_EQ(stat(m.path("events").c_str(), &st), 0);
		EXPECT_GE(st.st_size, last_size);
		last_size = st.st_size;
	}
	std::vector<std::string> got =
		event_lines(m, 4 * kBursts * kEach, ours);
	ASSERT_EQ(got.size(), (size_t)4 * kBursts * kEach);
	std::map<std::string, std::vector<std::string>> per;
	std::string prev_time;
	struct stat nst;
	ASSERT_EQ(stat("/proc/self/ns/ipc", &nst), 0);
	for (const std::string &l : got) {
		std::string kind = json_field(l, "kind"),
			    n = json_field(l, "name");
		per[kind + "/" + n].push_back(json_field(l, "event"));
		EXPECT_GE(json_field(l, "time"), prev_time) << l;
		prev_time = json_field(l, "time");
		EXPECT_EQ(json_field(l, "ns"), std::to_string(nst.st_ino)) << l;
		if (kind == "sysv") {
			EXPECT_EQ(json_field(l, "key"), "0x00000000") << l;
			EXPECT_EQ(json_field(l, "size"),
				  std::to_string(sysv_size[n]))
				<< l;
			EXPECT_EQ(json_field(l, "pid"),
				  std::to_string(getpid()))
				<< l;
			EXPECT_EQ(json_field(l, "command"), me) << l;
		} else {
			EXPECT_EQ(json_field(l, "key"), "null") << l;
			EXPECT_EQ(json_field(l, "size"), "0") << l;
		}
	}
	EXPECT_EQ(per.size(), (size_t)2 * kBursts * kEach);
	for (const auto &p : per)
		EXPECT_EQ(p.second,
			  (std::vector<std::string>{ "create", "remove" }))
			<< p.first;
}

// tail -f follows the file: it sees a line soon after the change.
// Names with quotes, backslashes, control bytes and bytes that are not
// UTF-8 (any user may make such a name in /dev/shm) stay one line of
// valid JSON each, and decode to the name: the byte as \u00XX where it
// is not UTF-8, as the README says.
TEST_F(Events, HostileNamesStayOneJsonLineEach)
{
	const std::string tag = "shmfs-json-" + std::to_string(getpid());
	const std::vector<std::string> names = {
		tag + "-q\"b\\",
		tag + "-c\x01\x1f",
		tag + "-x\xff\xfe",
		tag + "-\xc3\xa9",
		tag + "-o\xc0\xaf\xed\xa0\x80\xe2\x82z",
		tag + "-\xf0\x9f\x98\x80"
	};
	for (const std::string &n : names) {
		make_posix(n, 0, 0600);
		ASSERT_EQ(unlink(("/dev/shm/" + n).c_str()), 0) << n;
	}
	auto got = event_lines(m, 2 * names.size(), [&](const std::string &l) {
		return l.find(tag) != std::string::npos;
	});
	ASSERT_EQ(got.size(), 2 * names.size()) << read_file(m.path("events"));
	std::string all;
	for (const std::string &l : got) {
		EXPECT_EQ(std::count(l.begin(), l.end(), '\n'), 0) << l;
		all += l + "\n";
	}
	const std::string file = m.dir + ".json";
	std::ofstream(file, std::ios::binary) << all;
	// Python's own parser, each name as ascii() shows it.
	std::string parsed =
		run("python3 -c 'import json, sys\n"
		    "for l in open(sys.argv[1], encoding=\"utf-8\"):\n"
		    "    e = json.loads(l)\n"
		    "    print(e[\"event\"], ascii(e[\"name\"]))' " +
		    file + " | LC_ALL=C sort");
	unlink(file.c_str());
	// (Overlong, surrogate and cut sequences are not UTF-8: byte by
	// byte.)
	std::string want;
	for (std::string ev : { "create", "remove" })
		for (std::string n : { "-\\U0001f600", "-\\xe9", "-c\\x01\\x1f",
				       "-o\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82z",
				       "-q\"b\\\\", "-x\\xff\\xfe" })
			want += ev + " '" + tag + n + "'\n";
	EXPECT_EQ(parsed, want);
}

TEST_F(Events, TailFollows)
{
	char tmpl[] = "/tmp/shmfs-tail-XXXXXX";
	int ofd = mkstemp(tmpl);
	ASSERT_GE(ofd, 0);
	pid_t tail = fork();
	if (tail == 0) {
		dup2(ofd, 1);
		execlp("timeout", "timeout", "30", "tail", "-n", "0", "-f",
		       m.path("events").c_str(), (char *)nullptr);
		_exit(127);
	}
	// tail has the file open (it then reads to the end and follows).
	ASSERT_TRUE(someone_holds(m.path("events"), 10000))
		<< "tail never opened the events file";
	std::string n = "evt-tail-" + std::to_string(getpid());
	for (int i = 0; i < 3; i++) {
		std::string name = n + "-" + std::to_string(i);
		make_posix(name, 0, 0600);
		std::string seen;
		for (int t = 0; t < 100 && seen.find("\"" + name + "\"") ==
						   std::string::npos;
		     t++) {
			std::this_thread::sleep_for(
				std::chrono::milliseconds(50));
			seen = read_file(tmpl);
		}
		EXPECT_NE(seen.find("\"name\":\"" + name + "\""),
			  std::string::npos)
			<< seen;
	}
	kill(tail, SIGTERM);
	waitpid(tail, nullptr, 0);
	close(ofd);
	unlink(tmpl);
}

class SmallRing : public Events {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "-o", "events_max=50" };
	}
};

// With room for 50 lines, 80 changes leave the newest 50: cat starts at
// the 31st, and the 30 before it are counted as dropped.
TEST_F(SmallRing, DropsTheOldestFirst)
{
	long long dropped0 = prom_value(m, "shmfs_events_dropped_total");
	long long written0 = prom_value(m, "shmfs_events_total");
	std::string tag = "evt-ring-" + std::to_string(getpid()) + "-";
	std::vector<std::string> order;
	for (int i = 0; i < 40; i++) {
		std::string n = tag + std::to_string(i);
		int fd = shm_open(("/" + n).c_str(), O_CREAT | O_RDWR, 0600);
		ASSERT_GE(fd, 0);
		close(fd);
		posix.push_back(n);
		order.push_back("create " + n);
	}
	for (int i = 0; i < 40; i++) {
		std::string n = tag + std::to_string(i);
		ASSERT_EQ(shm_unlink(("/" + n).c_str()), 0);
		order.push_back("remove " + n);
	}
	std::vector<std::string> got;
	for (int t = 0; t < 200; t++) {
		got = lines_of(read_file(m.path("events")));
		if (!got.empty() &&
		    json_field(got.back(), "name") == tag + "39" &&
		    json_field(got.back(), "event") == "remove")
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	// Read again now that no line comes: a read that ran while the last
	// lines came has them as well as the 50 before (a live stream).
	got = lines_of(read_file(m.path("events")));
	ASSERT_EQ(got.size(), 50u);
	for (size_t i = 0; i < got.size(); i++)
		EXPECT_EQ(json_field(got[i], "event") + " " +
				  json_field(got[i], "name"),
			  order[30 + i]);
	long long written = prom_value(m, "shmfs_events_total");
	EXPECT_EQ(written - written0, 80);
	EXPECT_GT(prom_value(m, "shmfs_events_dropped_total"), dropped0);
	EXPECT_EQ(prom_value(m, "shmfs_events_dropped_total"), written - 50);
}

// 100 processes that each make a System V segment and exit at once: each
// segment keeps its creator's command line after the creator has gone, or
// is counted in shmfs_creators_missed_total.
TEST_F(Events, ShortLivedCreatorsKeepTheirCommand)
{
	long long missed0 = prom_value(m, "shmfs_creators_missed_total");
	std::map<int, std::string> made; // id -> the creator's command line
	for (int i = 0; i < 100; i++) {
		std::string tag = "shmfs-autopsy-" + std::to_string(i);
		std::string prog = "print shmget(0, 4096, 0600|01000)";
		std::string out = run("perl -e '" + prog + "' " + tag);
		int id = std::stoi(out);
		ASSERT_GE(id, 0);
		shmids.push_back(id);
		made[id] = "perl -e " + prog + " " + tag;
	}
	// Every segment is known once the watcher has seen it: each is kept
	// or counted missed (waited for, 10 s at most).
	int kept = 0;
	long long missed = 0;
	for (int t = 0; t < 100; t++) {
		kept = 0;
		for (const auto &s : made) {
			std::string c = get_xattr(sysv_path(s.first),
						  "user.shm.command");
			if (c.empty())
				continue;
			EXPECT_EQ(c, s.second) << "segment " << s.first;
			kept++;
		}
		missed = prom_value(m, "shmfs_creators_missed_total") - missed0;
		if (kept + missed >= 100)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
	// None kept would say nothing of what this test is for.
	EXPECT_GT(kept, 0) << missed << " missed";
	EXPECT_EQ(kept + missed, 100)
		<< kept << " kept, " << missed << " missed";
	printf("# %d of 100 short-lived creators kept, %lld counted missed\n",
	       kept, missed);
	// They stay after a listing too, and the events agree.
	(void)list_dir(m.path("sysv"));
	for (const auto &s : made) {
		std::string c =
			get_xattr(sysv_path(s.first), "user.shm.command");
		EXPECT_TRUE(c.empty() || c == s.second);
	}
}

} // namespace

namespace {

class AllNsEvents : public Events {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "--all-namespaces" };
	}
};

// A container as Docker makes one (its own IPC and mount namespaces, a
// tmpfs on /dev/shm, a cgroup scope named by its id) with short-lived
// creators run inside it: each segment keeps its creator's command line and
// container after the creator has gone (or is counted missed), the events
// name the namespace and container, and the container's end removes its
// segments, an event each.
TEST_F(AllNsEvents, ContainerCreatorsAndTheirEnd)
{
	std::string why, cg = cgroup2_root();
	ASSERT_TRUE(namespaces_available(&why)) << why;
	ASSERT_FALSE(cg.empty()) << "no writable cgroup v2 hierarchy";
	const std::string id = "5e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b"
			       "6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d";
	int ctl[2], ready[2];
	ASSERT_EQ(pipe(ctl), 0);
	ASSERT_EQ(pipe(ready), 0);
	fflush(stdout);
	pid_t box = fork();
	if (box == 0) {
		close(ctl[1]);
		char go;
		// In its scope before its namespace exists, so that the
		// watcher never sees the namespace without its container.
		// (runc joins the cgroup after making the namespaces but
		// before the container's program runs; a namespace the
		// watcher sees in that window names no container until its
		// next look, a second later: the test made segments in it.)
		if (read(ctl[0], &go, 1) != 1)
			_exit(1);
		bool ok = unshare(CLONE_NEWIPC | CLONE_NEWNS) == 0 &&
			  mount("none", "/", nullptr, MS_REC | MS_PRIVATE,
				nullptr) == 0 &&
			  mount("shm", "/dev/shm", "tmpfs", 0,
				"size=16m,mode=1777") == 0;
		(void)!write(ready[1], ok ? "y" : "n", 1);
		char c;
		(void)!read(ctl[0], &c, 1);
		_exit(0);
	}
	close(ctl[0]);
	close(ready[1]);
	std::string scope = cg + "/system.slice/docker-" + id + ".scope";
	mkdir((cg + "/system.slice").c_str(), 0755);
	// (One left by an earlier run that was killed is empty: used.)
	bool made = mkdir(scope.c_str(), 0755) == 0 || errno == EEXIST;
	int made_err = made ? 0 : errno;
	if (made) {
		std::ofstream procs(scope + "/cgroup.procs");
		procs << box << std::endl;
	}
	(void)!write(ctl[1], "g", 1);
	char c = 0;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	auto end_box = [&] {
		if (box > 0) {
			(void)!write(ctl[1], "x", 1);
			close(ctl[1]);
			waitpid(box, nullptr, 0);
			box = -1;
		}
		for (int i = 0; made && i < 100; i++) {
			if (rmdir(scope.c_str()) == 0 || errno == ENOENT)
				made = false;
			else
				usleep(10000);
		}
	};
	if (c != 'y' || !made) {
		end_box();
		FAIL() << "the container could not be made: "
		       << (c != 'y' ? "unshare or mount" :
				      "mkdir " + scope + ": " +
					      strerror(made_err));
	}
	struct stat nst;
	ASSERT_EQ(stat(("/proc/" + std::to_string(box) + "/ns/ipc").c_str(),
		       &nst),
		  0);
	std::string ns = std::to_string(nst.st_ino);
	char script[] = "/tmp/shmfs-autopsy-XXXXXX";
	int sfd = mkstemp(script);
	ASSERT_GE(sfd, 0);
	std::string text = "echo $$ > \"$1/cgroup.procs\" && exec nsenter "
			   "--ipc=\"/proc/$2/ns/ipc\" perl -e 'print shmget(0, "
			   "4096, 0600|01000)' \"$3\"\n";
	ASSERT_EQ(write(sfd, text.data(), text.size()), (ssize_t)text.size());
	close(sfd);
	long long missed0 = prom_value(m, "shmfs_creators_missed_total");
	std::map<int, std::string> made_ids;
	for (int i = 0; i < 20; i++) {
		std::string tag = "shmfs-ctr-autopsy-" + std::to_string(i);
		std::string out =
			run("sh " + std::string(script) + " " + scope + " " +
			    std::to_string(box) + " " + tag);
		int sid = atoi(out.c_str());
		EXPECT_GE(sid, 0) << out;
		made_ids[sid] =
			"perl -e print shmget(0, 4096, 0600|01000) " + tag;
	}
	unlink(script);
	// An object in the container's own /dev/shm.
	std::string obj =
		"/proc/" + std::to_string(box) + "/root/dev/shm/evt-ctr";
	{
		std::ofstream f(obj);
		f << "x";
	}
	// The namespace is found within the watcher's look for namespaces.
	auto in_ctr = [&](const std::string &l) {
		return json_field(l, "ns") == ns;
	};
	std::vector<std::string> got = event_lines(m, 21, in_ctr);
	ASSERT_EQ(got.size(), 21u);
	int kept = 0;
	for (const auto &s : made_ids) {
		std::string p =
			m.path("ns/" + ns + "/sysv/" + std::to_string(s.first));
		std::string cmd = get_xattr(p, "user.shm.command");
		if (cmd.empty())
			continue;
		kept++;
		EXPECT_EQ(cmd, s.second);
		EXPECT_EQ(get_xattr(p, "user.shm.creator.container"), id);
		// A container the engine does not know (made here, not by
		// Docker) has no name.
		EXPECT_EQ(get_xattr(p, "user.shm.creator.container.name"), "");
	}
	long long missed =
		prom_value(m, "shmfs_creators_missed_total") - missed0;
	EXPECT_EQ(kept + missed, 20);
	printf("# %d of 20 short-lived creators in a container kept, %lld "
	       "counted missed\n",
	       kept, missed);
	for (const std::string &l : got) {
		EXPECT_EQ(json_field(l, "event"), "create") << l;
		EXPECT_EQ(json_field(l, "container"), id) << l;
		if (json_field(l, "kind") == "posix")
			EXPECT_EQ(json_field(l, "name"), "evt-ctr") << l;
		else
			EXPECT_TRUE(made_ids.count(
				std::stoi(json_field(l, "name"))))
				<< l;
	}
	// The container ends: its namespace and tmpfs go, and every segment
	// in them is a remove line.
	end_box();
	got = event_lines(m, 42, in_ctr);
	ASSERT_EQ(got.size(), 42u);
	std::map<std::string, int> removed;
	for (size_t i = 21; i < got.size(); i++) {
		EXPECT_EQ(json_field(got[i], "event"), "remove") << got[i];
		removed[json_field(got[i], "kind") + "/" +
			json_field(got[i], "name")]++;
	}
	EXPECT_EQ(removed.size(), 21u);
}

} // namespace

namespace {

// POSIX objects made by processes that exit at once: where the kernel has
// fanotify for tmpfs (6.7 and later), the events carry the creator's pid
// and command line, and the object's user.shm.command is that command
// (absent where the creator could not be read in time).
TEST_F(Events, PosixCreatorsFromFanotify)
{
	const bool fanotify = kernel_has_tmpfs_fanotify();
	const std::string prog = "open F, \">/dev/shm/\" . shift";
	std::map<std::string, std::string> made; // name -> command line
	for (int i = 0; i < 20; i++) {
		std::string name = "evt-pcreator-" + std::to_string(getpid()) +
				   "-" + std::to_string(i);
		run("perl -e '" + prog + "' " + name);
		posix.push_back(name);
		made[name] = "perl -e " + prog + " " + name;
	}
	auto ours = [&](const std::string &l) {
		return json_field(l, "kind") == "posix" &&
		       made.count(json_field(l, "name")) > 0;
	};
	std::vector<std::string> got = event_lines(m, 20, ours);
	ASSERT_EQ(got.size(), 20u);
	int named = 0;
	for (const std::string &l : got) {
		std::string n = json_field(l, "name"),
			    cmd = json_field(l, "command");
		int e = 0;
		std::string x =
			get_xattr(posix_path(n), "user.shm.command", &e);
		if (cmd.empty()) {
			EXPECT_EQ(e, ENODATA) << n;
			continue;
		}
		named++;
		EXPECT_EQ(cmd, made[n]) << l;
		EXPECT_NE(json_field(l, "pid"), "null") << l;
		EXPECT_EQ(x, made[n]);
		// The pid that made it, as the events line has it (the
		// creator is gone: nothing else can tell it).
		EXPECT_EQ(get_xattr(posix_path(n), "user.shm.cpid"),
			  json_field(l, "pid"))
			<< l;
		EXPECT_EQ(
			get_xattr(posix_path(n), "user.shm.creator.container"),
			"");
	}
	printf("# %d of 20 POSIX creators named\n", named);
	if (fanotify)
		EXPECT_GT(named, 0);
	else
		EXPECT_EQ(named, 0);
}

} // namespace
