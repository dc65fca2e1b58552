// unit_ns.cc - what ns/ stands on, without a mount: the container id a
// cgroup path names, and the pool of threads that enter IPC namespaces.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "child.h"

#include <glib.h>

extern "C" {
#include "origin/dockernames.h"
#include "nsctx.h"
#include "nsenter/nspool.h"
#include "nsenter/nsscan.h"
}

namespace {

const std::string kId = "0123456789abcdef0123456789abcdef"
			"0123456789abcdef0123456789abcdef";

std::string id_of(const std::string &cgroup)
{
	char *id = ns_container_of_cgroup(cgroup.c_str());
	std::string s = id ? id : "(none)";
	g_free(id);
	return s;
}

TEST(ContainerId, EveryRuntimesNaming)
{
	// Docker with systemd, and with cgroupfs.
	EXPECT_EQ(id_of("0::/system.slice/docker-" + kId + ".scope\n"), kId);
	EXPECT_EQ(id_of("0::/docker/" + kId + "\n"), kId);
	// containerd and CRI-O under Kubernetes, both drivers.
	EXPECT_EQ(id_of("0::/kubepods.slice/kubepods-besteffort.slice/"
			"kubepods-besteffort-pod1234_5678.slice/"
			"cri-containerd-" +
			kId + ".scope\n"),
		  kId);
	EXPECT_EQ(id_of("0::/kubepods/burstable/pod1234-5678/" + kId + "\n"),
		  kId);
	EXPECT_EQ(id_of("0::/kubepods.slice/crio-" + kId + ".scope\n"), kId);
	// Podman.
	EXPECT_EQ(id_of("0::/machine.slice/libpod-" + kId + ".scope\n"), kId);
	EXPECT_EQ(
		id_of("0::/machine.slice/libpod-" + kId + ".scope/container\n"),
		kId);
	// cgroup v1: the id is on whichever line has it.
	EXPECT_EQ(id_of("12:pids:/\n11:memory:/docker/" + kId + "\n0::/\n"),
		  kId);
}

// A process's own file, read: what the parser says of its text, "" for
// none; NULL once the process is gone.
TEST(ContainerId, OfAProcessIsWhatItsCgroupFileNames)
{
	gchar *text = nullptr;
	ASSERT_TRUE(g_file_get_contents("/proc/self/cgroup", &text, nullptr,
					nullptr));
	std::string want = id_of(text);
	g_free(text);
	char *got = ns_container_of_pid(getpid());
	ASSERT_NE(got, nullptr);
	EXPECT_EQ(std::string(got), want == "(none)" ? "" : want);
	g_free(got);

	pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0)
		_exit(0);
	ASSERT_EQ(waitpid(child, nullptr, 0), child);
	EXPECT_EQ(ns_container_of_pid(child), nullptr);
}

TEST(ContainerId, NoIdIsNone)
{
	EXPECT_EQ(id_of("0::/\n"), "(none)");
	EXPECT_EQ(id_of("0::/user.slice/user-1000.slice/session-3.scope\n"),
		  "(none)");
	EXPECT_EQ(id_of("0::/system.slice/docker.service\n"), "(none)");
	// Podman's monitor is not the container.
	EXPECT_EQ(id_of("0::/machine.slice/libpod-conmon-" + kId + ".scope\n"),
		  "(none)");
	// 63 digits, upper case, a stray character: not an id.
	EXPECT_EQ(id_of("0::/docker/" + kId.substr(1) + "\n"), "(none)");
	std::string upper = kId;
	upper[10] = 'A';
	EXPECT_EQ(id_of("0::/docker/" + upper + "\n"), "(none)");
	EXPECT_EQ(id_of("0::/docker/" + kId + "x\n"), "(none)");
	EXPECT_EQ(id_of(""), "(none)");
	EXPECT_EQ(id_of("garbage without colons"), "(none)");
}

// A child in a new IPC namespace, until destroyed.
struct NsChild : shmfs_test::Holder {
	bool start()
	{
		return Holder::start([] { return unshare(CLONE_NEWIPC) == 0; });
	}

	ino_t ns() const
	{
		return shm_ipc_ns_of_pid(pid);
	}
};

ino_t thread_ns()
{
	struct stat st;
	return stat("/proc/thread-self/ns/ipc", &st) == 0 ? st.st_ino : 0;
}

int report_ns(void *arg)
{
	ino_t *out = (ino_t *)arg;
	out[0] = thread_ns();
	out[1] = shm_ctx_ipc_ns();
	return 7;
}

class Pool : public testing::Test {
protected:
	void SetUp() override
	{
		ASSERT_EQ(ns_pool_init(2), 0);
	}
	void TearDown() override
	{
		ns_pool_fini();
	}
};

TEST_F(Pool, ACallRunsInsideTheNamespaceAndOnlyThere)
{
	NsChild c;
	ASSERT_TRUE(c.start());
	ino_t own = thread_ns();
	ASSERT_NE(c.ns(), own);
	struct ns_target t = { c.ns(), c.pid };
	ino_t seen[2] = { 0, 0 };
	EXPECT_EQ(ns_pool_run(&t, report_ns, seen), 7);
	EXPECT_EQ(seen[0], c.ns());
	EXPECT_EQ(seen[1], c.ns());
	// The caller never moved.
	EXPECT_EQ(thread_ns(), own);
	EXPECT_EQ(shm_ctx_ipc_ns(), own);
}

TEST_F(Pool, APidNoLongerInTheNamespaceIsESRCHAndNothingRuns)
{
	NsChild c;
	ASSERT_TRUE(c.start());
	ino_t seen[2] = { 0, 0 };
	// The namespace of c, named by a process that is not in it.
	struct ns_target wrong = { c.ns(), getpid() };
	EXPECT_EQ(ns_pool_run(&wrong, report_ns, seen), -ESRCH);
	EXPECT_EQ(seen[0], (ino_t)0);
	struct ns_target gone = { c.ns(), 999999999 };
	EXPECT_EQ(ns_pool_run(&gone, report_ns, seen), -ESRCH);
	EXPECT_EQ(seen[0], (ino_t)0);
}

TEST_F(Pool, BoundedAndNothingHeldOnceIdle)
{
	const int n = 6;
	std::vector<NsChild> kids(n);
	for (auto &k : kids)
		ASSERT_TRUE(k.start());
	std::atomic<int> wrong{ 0 };
	std::atomic<unsigned> most{ 0 };
	std::vector<std::thread> ts;
	for (int i = 0; i < n; i++) {
		ts.emplace_back([&, i] {
			for (int r = 0; r < 50; r++) {
				const NsChild &k = kids[(i + r) % n];
				struct ns_target t = { k.ns(), k.pid };
				ino_t seen[2];
				if (ns_pool_run(&t, report_ns, seen) != 7 ||
				    seen[0] != k.ns())
					wrong++;
				unsigned threads, entered;
				ns_pool_counts(&threads, &entered);
				if (threads > most)
					most = threads;
			}
		});
	}
	for (auto &t : ts)
		t.join();
	EXPECT_EQ(wrong.load(), 0);
	EXPECT_LE(most.load(), 2u);
	// After the linger, no thread is inside any namespace.
	unsigned threads = 0, entered = 1;
	for (int i = 0; i < 30 && entered; i++) {
		usleep(100000);
		ns_pool_counts(&threads, &entered);
	}
	EXPECT_EQ(entered, 0u);
}

// The engine's answer to GET /containers/json, as Docker 20 to 28 give
// it: each container's id and first name (without its '/'); an object
// with no name, or an id that is not 64 lowercase hex digits, is left
// out, and keys that merely end in "Id" are not ids.
TEST(DockerNames, ParsesTheEnginesContainerList)
{
	const std::string a(64, 'a'), b = kId, c(64, 'c');
	std::string json = "[{\"Id\":\"" + a +
			   "\",\"Names\":[\"/web-1\"],\"Image\":\"debian:12\","
			   "\"ImageID\":\"sha256:" +
			   c +
			   "\",\"NetworkSettings\":{\"Networks\":{\"bridge\":{"
			   "\"NetworkID\":\"" +
			   c +
			   "\"}}}},"
			   "{\"Id\":\"" +
			   b +
			   "\",\"Names\":[\"/db_main.2\",\"/alias\"]},"
			   "{\"Id\":\"" +
			   std::string(64, 'A') +
			   "\",\"Names\":[\"/upper\"]},"
			   "{\"Id\":\"" +
			   c + "\",\"Names\":[]}]";
	GHashTable *t = docker_names_parse(json.c_str());
	EXPECT_EQ(g_hash_table_size(t), 2u);
	EXPECT_STREQ((const char *)g_hash_table_lookup(t, a.c_str()), "web-1");
	EXPECT_STREQ((const char *)g_hash_table_lookup(t, b.c_str()),
		     "db_main.2");
	g_hash_table_unref(t);
	t = docker_names_parse("");
	EXPECT_EQ(g_hash_table_size(t), 0u);
	g_hash_table_unref(t);
	t = docker_names_parse("{\"message\":\"page not found\"}");
	EXPECT_EQ(g_hash_table_size(t), 0u);
	g_hash_table_unref(t);
}

} // namespace
