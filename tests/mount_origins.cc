// mount_origins.cc - who made and who removed each segment, from the
// kernel's own calls (the eBPF tracer, -o trace=on, the default): every
// short-lived creator named, every remover named, each compared with what
// the test itself ran; and with -o trace=off, the old sources and the
// missed counter.
#include <errno.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "harness.h"

using namespace shmfs_test;

namespace {

class Origins : public MountTest {
protected:
	// n processes that each make one System V segment and exit at once
	// (command line "perl -e ... TAG-i"): the ids, removed by TearDown.
	std::vector<int> short_lived_sysv(int n, const std::string &tag)
	{
		std::string ids = run("for i in $(seq " + std::to_string(n) +
				      "); do perl -e 'print shmget(0, 4096, "
				      "0600|01000), qq(\\n)' " +
				      tag + "-$i; done");
		std::vector<int> made;
		for (const std::string &l : lines_of(ids)) {
			made.push_back(std::stoi(l));
			shmids.push_back(made.back());
		}
		return made;
	}
	// Whether the tracer runs; where this build has it and the kernel
	// has BTF, a daemon run as root must have loaded it.
	bool traced()
	{
		bool on =
			prom_value(m, "shmfs_watch_source{source=\"ebpf\"}") ==
			1;
		std::string v =
			run(std::string(getenv("SHMFS_BIN")) + " --version");
		bool built = v.find("segments: built in") != std::string::npos;
		if (!on && built &&
		    access("/sys/kernel/btf/vmlinux", R_OK) == 0 &&
		    geteuid() == 0)
			ADD_FAILURE() << "the tracer did not load: "
				      << read_file(m.log);
		// It runs on one set of hooks, and says which.
		long long calls = prom_value(
				  m, "shmfs_trace_hooks{hooks=\"calls\"}"),
			  sys = prom_value(
				  m, "shmfs_trace_hooks{hooks=\"syscalls\"}");
		EXPECT_EQ(calls + sys, on ? 1 : 0);
		if (on) {
			EXPECT_NE(read_file(m.log).find(
					  calls ? "(eBPF, on the calls' own "
						  "functions)" :
						  "(eBPF, on the tracepoints "
						  "of every system call)"),
				  std::string::npos)
				<< read_file(m.log);
		}
		return on;
	}
};

// 1,000 processes that each make one segment of each kind and exit at
// once: every one is named, command line and all, in its create line
// and in user.shm.command.
TEST_F(Origins, EveryShortLivedCreatorIsNamed)
{
	if (!traced())
		GTEST_SKIP() << "no-trace: the eBPF tracer cannot load here "
				"(the trace=off test covers the old sources)";
	const int n = 1000;
	std::vector<int> made = short_lived_sysv(n, "shmfs-sl");
	ASSERT_EQ(made.size(), (size_t)n);
	for (int i = 1; i <= n; i++)
		posix.push_back("shmfs-sl-" + std::to_string(i));
	run("for i in $(seq " + std::to_string(n) +
	    "); do touch /dev/shm/shmfs-sl-$i; done");
	auto sysv = event_lines(m, n, [](const std::string &l) {
		return json_field(l, "event") == "create" &&
		       json_field(l, "kind") == "sysv" &&
		       json_field(l, "command").rfind("perl -e ", 0) == 0 &&
		       json_field(l, "command").find(" shmfs-sl-") !=
			       std::string::npos;
	});
	auto px = event_lines(m, n, [](const std::string &l) {
		return json_field(l, "event") == "create" &&
		       json_field(l, "kind") == "posix" &&
		       json_field(l, "name").rfind("shmfs-sl-", 0) == 0;
	});
	// Each segment's line names its own creator.
	std::map<std::string, std::string> by_id;
	for (const std::string &l : sysv)
		by_id[json_field(l, "name")] = json_field(l, "command");
	int kept = 0;
	for (int i = 0; i < n; i++) {
		std::string want = "perl -e print shmget(0, 4096, "
				   "0600|01000), qq(\\n) shmfs-sl-" +
				   std::to_string(i + 1);
		std::string id = std::to_string(made[i]);
		kept += by_id[id] == want;
		EXPECT_EQ(by_id[id], want) << "segment " << id;
	}
	int pkept = 0;
	for (const std::string &l : px) {
		bool ok = json_field(l, "command") ==
			  "touch /dev/shm/" + json_field(l, "name");
		pkept += ok;
		EXPECT_TRUE(ok) << l;
	}
	printf("# source ebpf: %d of %d System V and %d of %d POSIX creators "
	       "named\n",
	       kept, n, pkept, n);
	EXPECT_EQ(kept, n);
	EXPECT_EQ(pkept, n);
	// The attributes say the same, after the creators are long gone.
	EXPECT_EQ(get_xattr(sysv_path(made[7]), "user.shm.command"),
		  "perl -e print shmget(0, 4096, 0600|01000), qq(\\n) "
		  "shmfs-sl-8");
	EXPECT_EQ(get_xattr(m.path("posix/shmfs-sl-9"), "user.shm.command"),
		  "touch /dev/shm/shmfs-sl-9");
	EXPECT_EQ(prom_value(m, "shmfs_trace_lost_total"), 0);
}

// A segment removed by another process than its creator names that
// process in its remove line, and keeps its creator's fields.
TEST_F(Origins, RemoversAreNamed)
{
	if (!traced())
		GTEST_SKIP() << "no-trace: the eBPF tracer cannot load here";
	int a = make_sysv(4096, 0600), b = make_sysv(4096, 0600);
	make_posix("shmfs-rm-a", 4096, 0600);
	make_posix("shmfs-rm-b", 4096, 0600);
	// Removed while attached: it goes when the last detach comes, and
	// the one who called IPC_RMID is its remover.
	void *p = shmat(b, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	std::string ra = "ipcrm -m " + std::to_string(a);
	std::string rb = "ipcrm -m " + std::to_string(b);
	run(ra + "; " + rb);
	std::this_thread::sleep_for(std::chrono::milliseconds(300));
	ASSERT_EQ(shmdt(p), 0);
	run("rm /dev/shm/shmfs-rm-a");
	run("python3 -c \"import _posixshmem; "
	    "_posixshmem.shm_unlink('/shmfs-rm-b')\"");
	auto gone = event_lines(m, 4, [&](const std::string &l) {
		std::string nm = json_field(l, "name");
		return json_field(l, "event") == "remove" &&
		       (nm == std::to_string(a) || nm == std::to_string(b) ||
			nm == "shmfs-rm-a" || nm == "shmfs-rm-b");
	});
	ASSERT_EQ(gone.size(), 4u) << read_file(m.path("events"));
	std::map<std::string, std::string> line;
	for (const std::string &l : gone)
		line[json_field(l, "name")] = l;
	const std::string me = std::to_string(getpid());
	// (cmd: the command line's end; python's first word is the path of
	// the interpreter it runs as.)
	auto check = [&](const std::string &name, const std::string &cmd) {
		const std::string &l = line[name];
		std::string rc = json_field(l, "remover_command");
		EXPECT_TRUE(rc.size() >= cmd.size() &&
			    rc.compare(rc.size() - cmd.size(), cmd.size(),
				       cmd) == 0)
			<< l;
		EXPECT_NE(json_field(l, "remover_pid"), "null") << l;
		EXPECT_NE(json_field(l, "remover_pid"), me) << l;
		EXPECT_EQ(json_field(l, "remover_container"), "") << l;
		// The creator's fields are the creator's.
		EXPECT_EQ(json_field(l, "pid"), me) << l;
		EXPECT_EQ(json_field(l, "command"), own_command()) << l;
	};
	check(std::to_string(a), ra);
	check(std::to_string(b), rb);
	check("shmfs-rm-a", "rm /dev/shm/shmfs-rm-a");
	check("shmfs-rm-b", "python3 -c import _posixshmem; "
			    "_posixshmem.shm_unlink('/shmfs-rm-b')");
	EXPECT_EQ(json_field(line[std::to_string(a)], "remover_command"), ra);
	EXPECT_EQ(json_field(line["shmfs-rm-a"], "remover_command"),
		  "rm /dev/shm/shmfs-rm-a");
	// The kernel has nothing more of them.
	struct shmid_ds ds;
	EXPECT_EQ(shmctl(a, IPC_STAT, &ds), -1);
	EXPECT_EQ(access("/dev/shm/shmfs-rm-a", F_OK), -1);
}

// A daemon started in the background (no -f) returns once it serves
// and watches: what a script makes the moment the mount command returns
// is an event, its maker named, as it would be a minute later.
TEST_F(Origins, WhatIsMadeAsTheMountCommandReturnsIsNamed)
{
	const bool on = traced();
	const char *root = getenv("SHMFS_TEST_ROOT");
	std::string dir = std::string(root ? root : "/tmp") + "/mnt.XXXXXX";
	ASSERT_NE(mkdtemp(&dir[0]), nullptr);
	// Unmounted on any exit (run-test fails a mount left behind).
	struct Unmount {
		std::string d;
		~Unmount()
		{
			run("fusermount3 -uz " + d + " 2>/dev/null");
			for (int i = 0;
			     i < 100 &&
			     !run("pgrep -f -- " + d + "$ || true").empty();
			     i++)
				std::this_thread::sleep_for(
					std::chrono::milliseconds(50));
			rmdir(d.c_str());
		}
	} unmount{ dir };
	const std::string tag = "shmfs-first-" + std::to_string(getpid());
	const std::string maker = "perl -e 'print shmget(0, 4096, 0600|01000)'";
	std::string out =
		run(std::string(getenv("SHMFS_BIN")) + " " + dir + " && " +
		    maker + " " + tag + " && touch /dev/shm/" + tag);
	ASSERT_FALSE(out.empty()) << "the mount or the maker failed";
	int id = std::stoi(out);
	shmids.push_back(id);
	posix.push_back(tag);
	Mount d;
	d.dir = dir;
	auto got = event_lines(d, 2, [&](const std::string &l) {
		std::string k = json_field(l, "kind"),
			    n = json_field(l, "name");
		return json_field(l, "event") == "create" &&
		       ((k == "sysv" && n == std::to_string(id)) ||
			(k == "posix" && n == tag));
	});
	ASSERT_EQ(got.size(), 2u) << read_file(d.path("events"));
	for (const std::string &l : got) {
		std::string cmd = json_field(l, "command");
		if (!on && cmd.empty())
			continue; // the old sources may miss a quick maker
		EXPECT_EQ(cmd, json_field(l, "kind") == "sysv" ?
				       "perl -e print shmget(0, 4096, "
				       "0600|01000) " +
					       tag :
				       "touch /dev/shm/" + tag)
			<< l;
	}
	if (on) {
		EXPECT_EQ(get_xattr(d.path("posix/" + tag), "user.shm.command"),
			  "touch /dev/shm/" + tag);
	}
	EXPECT_EQ(run("fusermount3 -u " + dir + " && echo ok"), "ok\n");
}

class SyscallsTrace : public Origins {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "-o", "trace=syscalls" };
	}
};

// With -o trace=syscalls the tracer runs on every system call's
// tracepoints even where the calls' own functions could take it (the
// default tests cover those where the kernel allows them): quick makers
// and removers of each kind are named as by the default, a name removed
// by a path relative to /dev/shm too.
TEST_F(SyscallsTrace, MakersAndRemoversAreNamedFromTheTracepoints)
{
	if (!traced())
		GTEST_SKIP() << "no-trace: the eBPF tracer cannot load here";
	EXPECT_EQ(prom_value(m, "shmfs_trace_hooks{hooks=\"syscalls\"}"), 1);
	EXPECT_EQ(prom_value(m, "shmfs_trace_hooks{hooks=\"calls\"}"), 0);
	const int n = 100;
	const std::string tag = "shmfs-sc-" + std::to_string(getpid());
	std::vector<int> made = short_lived_sysv(n, tag);
	ASSERT_EQ(made.size(), (size_t)n);
	run("for i in $(seq " + std::to_string(n) + "); do touch /dev/shm/" +
	    tag + "-$i; done");
	run("cd /dev/shm && for i in $(seq " + std::to_string(n) + "); do rm " +
	    tag + "-$i; done");
	std::string ids;
	for (int id : made)
		ids += std::to_string(id) + " ";
	run("for i in " + ids + "; do ipcrm -m $i; done");
	auto lines = event_lines(m, 4 * n, [&](const std::string &l) {
		return json_field(l, "name").rfind(tag, 0) == 0 ||
		       json_field(l, "command").find(" " + tag + "-") !=
			       std::string::npos;
	});
	ASSERT_EQ(lines.size(), (size_t)(4 * n)) << read_file(m.path("events"));
	std::map<std::string, std::string> made_by, removed_by;
	for (const std::string &l : lines) {
		std::string key =
			json_field(l, "kind") + "/" + json_field(l, "name");
		if (json_field(l, "event") == "create")
			made_by[key] = json_field(l, "command");
		else
			removed_by[key] = json_field(l, "remover_command");
	}
	for (int i = 0; i < n; i++) {
		std::string name = tag + "-" + std::to_string(i + 1);
		std::string id = std::to_string(made[i]);
		EXPECT_EQ(made_by["sysv/" + id],
			  "perl -e print shmget(0, 4096, 0600|01000), "
			  "qq(\\n) " +
				  name);
		EXPECT_EQ(removed_by["sysv/" + id], "ipcrm -m " + id);
		EXPECT_EQ(made_by["posix/" + name], "touch /dev/shm/" + name);
		EXPECT_EQ(removed_by["posix/" + name], "rm " + name);
	}
	EXPECT_EQ(prom_value(m, "shmfs_trace_lost_total"), 0);
}

class NoTrace : public Origins {
protected:
	std::vector<std::string> mount_args() override
	{
		return { "-o", "trace=off" };
	}
};

// With the tracer off, creators come from /proc as before: each
// short-lived one is kept or counted missed, and removers are unnamed.
TEST_F(NoTrace, TheOldSourcesAndTheMissedCounter)
{
	EXPECT_EQ(prom_value(m, "shmfs_watch_source{source=\"proc\"}"), 1);
	EXPECT_EQ(prom_value(m, "shmfs_watch_source{source=\"ebpf\"}"), 0);
	long long missed0 = prom_value(m, "shmfs_creators_missed_total");
	const int n = 100;
	std::vector<int> made = short_lived_sysv(n, "shmfs-nt");
	ASSERT_EQ(made.size(), (size_t)n);
	int kept = 0;
	long long missed = 0;
	for (int t = 0; t < 100; t++) {
		kept = 0;
		for (int id : made)
			kept += !get_xattr(sysv_path(id), "user.shm.command")
					 .empty();
		missed = prom_value(m, "shmfs_creators_missed_total") - missed0;
		if (kept + missed >= n)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
	EXPECT_EQ(kept + missed, n) << kept << " kept, " << missed;
	printf("# source proc: %d of %d kept, %lld counted missed\n", kept, n,
	       missed);
	int id = made[0];
	run("ipcrm -m " + std::to_string(id));
	auto gone = event_lines(m, 1, [&](const std::string &l) {
		return json_field(l, "event") == "remove" &&
		       json_field(l, "name") == std::to_string(id);
	});
	ASSERT_EQ(gone.size(), 1u);
	EXPECT_EQ(json_field(gone[0], "remover_pid"), "null");
	EXPECT_EQ(json_field(gone[0], "remover_command"), "");
	// A POSIX maker is named by fanotify's event where the kernel gives
	// one for a tmpfs (6.7 and later); the tracer, when on, does it
	// alone.
	const std::string name = "shmfs-nt-fan-" + std::to_string(getpid());
	posix.push_back(name);
	run("perl -e 'open F, \">/dev/shm/" + name + "\"; sleep 1'");
	auto pmade = event_lines(m, 1, [&](const std::string &l) {
		return json_field(l, "event") == "create" &&
		       json_field(l, "name") == name;
	});
	ASSERT_EQ(pmade.size(), 1u);
	EXPECT_EQ(json_field(pmade[0], "command"),
		  kernel_has_tmpfs_fanotify() ? "perl -e open F, \">/dev/shm/" +
							name + "\"; sleep 1" :
						"")
		<< pmade[0];
}

} // namespace
