// mount_metrics.cc - shmfs.prom at the mount's root: the numbers agree with
// the kernel's own view, promtool accepts the file, and node_exporter's
// textfile collector pointed at the mount serves it over loopback.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "harness.h"

using namespace shmfs_test;

namespace {

class Metrics : public MountTest {
protected:
	std::string prom()
	{
		return read_file(m.path("shmfs.prom"));
	}
};

// The value of the sample `series` (name and labels, as printed).
double value_of(const std::string &text, const std::string &series)
{
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);)
		if (line.rfind(series + " ", 0) == 0)
			return atof(line.c_str() + series.size() + 1);
	return -1;
}

TEST_F(Metrics, AFileAtTheRootThatOnlyReads)
{
	struct stat st;
	ASSERT_EQ(stat(m.path("shmfs.prom").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode, (mode_t)(S_IFREG | 0444));
	std::vector<std::string> root = list_dir(m.dir);
	EXPECT_NE(std::find(root.begin(), root.end(), "shmfs.prom"),
		  root.end());
	errno = 0;
	EXPECT_EQ(open(m.path("shmfs.prom").c_str(), O_WRONLY), -1);
	EXPECT_EQ(errno, EACCES);
	errno = 0;
	EXPECT_EQ(unlink(m.path("shmfs.prom").c_str()), -1);
	EXPECT_EQ(errno, EPERM);
	EXPECT_EQ(run("promtool check metrics < " + m.path("shmfs.prom") +
		      " 2>&1; echo rc=$?"),
		  "rc=0\n");
}

TEST_F(Metrics, NumbersAgreeWithTheKernel)
{
	int idle = make_sysv(3 * 4096, 0600), used = make_sysv(5 * 4096, 0600);
	make_posix("shmfs-test-metrics", 10000, 0600);
	void *p = shmat(used, nullptr, 0);
	ASSERT_NE(p, (void *)-1);
	usleep(1100 * 1000); // past the scan unused/ keeps
	std::string text = prom();
	// Every segment of the kernel's list, and their sizes.
	double segs = 0, bytes = 0;
	for (int id : proc_sysv_ids()) {
		segs++;
		bytes += atof(proc_sysv_row(id)["size"].c_str());
	}
	EXPECT_EQ(value_of(text, "shmfs_segments{kind=\"sysv\"}"), segs);
	EXPECT_EQ(value_of(text, "shmfs_segment_bytes{kind=\"sysv\"}"), bytes);
	EXPECT_EQ(value_of(text, "shmfs_segments{kind=\"posix\"}"),
		  (double)posix_objects(m.path("posix")).size());
	EXPECT_EQ(value_of(text, "shmfs_unused_segments{kind=\"sysv\"}"),
		  (double)list_dir(m.path("unused/sysv")).size());
	EXPECT_EQ(value_of(text, "shmfs_unused_segments{kind=\"posix\"}"),
		  (double)posix_objects(m.path("unused/posix"), true).size());
	std::vector<std::string> unused = list_dir(m.path("unused/sysv"));
	EXPECT_NE(std::find(unused.begin(), unused.end(), std::to_string(idle)),
		  unused.end());
	EXPECT_EQ(std::find(unused.begin(), unused.end(), std::to_string(used)),
		  unused.end());
	EXPECT_EQ(value_of(text, "shmfs_sysv_limit_segments"),
		  atof(read_file("/proc/sys/kernel/shmmni").c_str()));
	EXPECT_EQ(value_of(text, "shmfs_sysv_limit_segment_bytes"),
		  atof(read_file("/proc/sys/kernel/shmmax").c_str()));
	// The daemon's health: opens by path, errors by errno.
	read_file(posix_path("shmfs-test-metrics"));
	read_file(m.path("posix/shmfs-test-no-such"));
	text = prom();
	double opened =
		value_of(text, "shmfs_opens_total{path=\"passthrough\"}") +
		value_of(text, "shmfs_opens_total{path=\"fallback\"}");
	EXPECT_GE(opened, 1);
	EXPECT_GE(value_of(text, "shmfs_errors_total{errno=\"ENOENT\"}"), 1);
	shmdt(p);
}

// node_exporter, as Debian ships it, with its textfile collector pointed
// at the mount root: a scrape over loopback serves shmfs's series.
TEST_F(Metrics, NodeExporterServesTheFile)
{
	make_sysv(4096, 0600);
	const std::string port = "19" + std::to_string(100 + getpid() % 800);
	pid_t ne = fork();
	if (ne == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execlp("prometheus-node-exporter", "prometheus-node-exporter",
		       ("--web.listen-address=127.0.0.1:" + port).c_str(),
		       "--collector.disable-defaults", "--collector.textfile",
		       ("--collector.textfile.directory=" + m.dir).c_str(),
		       (char *)NULL);
		_exit(127);
	}
	std::string scrape;
	for (int i = 0; i < 100; i++) {
		scrape = run("curl -s http://127.0.0.1:" + port + "/metrics");
		if (scrape.find("shmfs_segments") != std::string::npos)
			break;
		usleep(100 * 1000);
	}
	kill(ne, SIGTERM);
	waitpid(ne, nullptr, 0);
	double n = (double)proc_sysv_ids().size();
	EXPECT_EQ(value_of(scrape, "shmfs_segments{kind=\"sysv\"}"), n)
		<< scrape.substr(0, 2000);
	// The collector read it without complaint.
	EXPECT_NE(scrape.find("node_textfile_scrape_error 0"),
		  std::string::npos)
		<< scrape.substr(0, 2000);
}

} // namespace
