// native.cc - see harness.h: the native view a test compares with (ipcs,
// /proc/sysvipc/shm, xattrs, directory listings), running as another uid
// or in a child or a namespace, and the traced runs of trace.h.
#include "harness.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sched.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <chrono>
#include <sstream>
#include <thread>

namespace shmfs_test {

int as_user(uid_t uid, gid_t gid, const std::function<int()> &fn)
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		if (setgroups(0, nullptr) || setgid(gid) || setuid(uid))
			_exit(255);
		_exit(fn() & 0xff);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<std::string> posix_objects(const std::string &dir, bool links)
{
	std::vector<std::string> v;
	for (auto &n : list_dir(dir)) {
		struct stat st;
		std::string p = dir + "/" + n;
		if (n.rfind("sem.", 0) == 0)
			continue;
		if ((links ? stat(p.c_str(), &st) : lstat(p.c_str(), &st)) ==
			    0 &&
		    S_ISREG(st.st_mode))
			v.push_back(n);
	}
	return v;
}

std::vector<std::string> list_dir(const std::string &dir)
{
	std::vector<std::string> v;
	DIR *d = opendir(dir.c_str());
	if (!d)
		return v;
	// cppcheck-suppress readdirCalled ; one thread reads this DIR
	while (struct dirent *de = readdir(d)) {
		std::string n = de->d_name;
		if (n != "." && n != "..")
			v.push_back(n);
	}
	closedir(d);
	std::sort(v.begin(), v.end());
	return v;
}

std::string read_file(const std::string &path, int *err)
{
	std::string s;
	int fd = open(path.c_str(), O_RDONLY);
	if (fd < 0) {
		if (err)
			*err = errno;
		return s;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		s.append(buf, (size_t)n);
	if (err)
		*err = n < 0 ? errno : 0;
	close(fd);
	return s;
}

std::map<std::string, std::string> proc_sysv_row(int id)
{
	std::ifstream f("/proc/sysvipc/shm");
	std::string header, line;
	std::getline(f, header);
	std::vector<std::string> cols;
	std::istringstream hs(header);
	for (std::string c; hs >> c;)
		cols.push_back(c);
	while (std::getline(f, line)) {
		std::istringstream ls(line);
		std::vector<std::string> vals;
		for (std::string v; ls >> v;)
			vals.push_back(v);
		if (vals.size() == cols.size() &&
		    vals[1] == std::to_string(id)) {
			std::map<std::string, std::string> row;
			for (size_t i = 0; i < cols.size(); i++)
				row[cols[i]] = vals[i];
			return row;
		}
	}
	return {};
}

std::vector<std::string> ipcs_row(int id)
{
	std::istringstream out(run("ipcs -m"));
	std::string line;
	while (std::getline(out, line)) {
		std::istringstream ls(line);
		std::vector<std::string> f;
		for (std::string w; ls >> w;)
			f.push_back(w);
		if (f.size() >= 6 && f[1] == std::to_string(id))
			return f;
	}
	return {};
}

std::vector<int> proc_sysv_ids()
{
	std::ifstream f("/proc/sysvipc/shm");
	std::string line;
	std::vector<int> ids;
	std::getline(f, line);
	while (std::getline(f, line)) {
		std::istringstream ls(line);
		long key;
		int id;
		unsigned perms;
		if (ls >> key >> id >> std::oct >> perms && !(perms & SHM_DEST))
			ids.push_back(id);
	}
	std::sort(ids.begin(), ids.end());
	return ids;
}

std::string get_xattr(const std::string &path, const std::string &name,
		      int *err)
{
	char buf[4096];
	ssize_t n = getxattr(path.c_str(), name.c_str(), buf, sizeof(buf));
	if (err)
		*err = n < 0 ? errno : 0;
	return n < 0 ? std::string() : std::string(buf, (size_t)n);
}

std::vector<std::string> list_xattrs(const std::string &path)
{
	char buf[8192];
	ssize_t n = listxattr(path.c_str(), buf, sizeof(buf));
	std::vector<std::string> v;
	for (ssize_t i = 0; i < n;) {
		std::string s(buf + i);
		v.push_back(s);
		i += (ssize_t)s.size() + 1;
	}
	return v;
}

std::string pattern(size_t n, unsigned seed)
{
	std::string s(n, '\0');
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		s[i] = (char)(seed >> 16);
	}
	return s;
}

std::string sysv_bytes(int id)
{
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) < 0)
		return "";
	char *p = (char *)shmat(id, nullptr, SHM_RDONLY);
	if (p == (char *)-1)
		return "";
	std::string s(p, ds.shm_segsz);
	shmdt(p);
	return s;
}

std::string run(const std::string &cmd)
{
	std::string out;
	FILE *p = popen(cmd.c_str(), "r");
	if (!p)
		return out;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		out.append(buf, n);
	pclose(p);
	return out;
}

std::string cgroup2_root()
{
	std::ifstream in("/proc/self/mountinfo");
	std::string line;
	while (std::getline(in, line)) {
		size_t dash = line.find(" - cgroup2 ");
		if (dash == std::string::npos)
			continue;
		std::istringstream f(line);
		std::string id, parent, devno, root, point;
		f >> id >> parent >> devno >> root >> point;
		if (root == "/" && access(point.c_str(), W_OK) == 0)
			return point;
	}
	return "";
}

bool namespaces_available(std::string *why)
{
	pid_t p = fork();
	if (p == 0)
		_exit(unshare(CLONE_NEWIPC | CLONE_NEWNS) == 0 ? 0 : errno);
	int st = 0;
	waitpid(p, &st, 0);
	int e = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (e)
		*why = std::string("unshare(CLONE_NEWIPC|CLONE_NEWNS): ") +
		       strerror(e);
	return e == 0;
}

std::string in_child(const std::function<std::string()> &fn)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return "";
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		close(pfd[0]);
		std::string s = fn();
		(void)!write(pfd[1], s.data(), s.size());
		_exit(0);
	}
	close(pfd[1]);
	std::string s;
	char buf[4096];
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		s.append(buf, (size_t)n);
	close(pfd[0]);
	int st = 0;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
		ADD_FAILURE()
			<< "in_child: the child "
			<< (WIFSIGNALED(st) ?
				    "was killed by signal " +
					    std::to_string(WTERMSIG(st)) :
				    "exited " +
					    std::to_string(WEXITSTATUS(st)));
		return "";
	}
	return s;
}

} // namespace shmfs_test

namespace shmfs_test {

std::string run_traced(const std::string &at, const Sequence &seq, uid_t uid,
		       int um)
{
	return in_child([&] {
		if (uid && (setgid(uid) || setuid(uid)))
			return std::string("setuid failed");
		if (um >= 0)
			umask((mode_t)um);
		Trace t;
		// Proof that it ran, and as whom.
		t.out << "as uid " << geteuid() << "\n";
		seq(at, t);
		return t.out.str();
	});
}

std::string json_field(const std::string &line, const std::string &name)
{
	std::string key = "\"" + name + "\":";
	size_t at = line.find(key);
	if (at == std::string::npos)
		return "";
	at += key.size();
	if (line[at] != '"') {
		size_t end = line.find_first_of(",}", at);
		return line.substr(at, end - at);
	}
	std::string out;
	for (size_t i = at + 1; i < line.size() && line[i] != '"'; i++) {
		if (line[i] == '\\' && i + 1 < line.size())
			i++;
		out += line[i];
	}
	return out;
}

std::vector<std::string> lines_of(const std::string &text)
{
	std::vector<std::string> out;
	std::istringstream in(text);
	for (std::string l; std::getline(in, l);)
		out.push_back(l);
	return out;
}

std::vector<std::string>
event_lines(const Mount &m, size_t n,
	    const std::function<bool(const std::string &)> &pick)
{
	std::vector<std::string> got;
	for (int i = 0; i < 400; i++) {
		got.clear();
		for (const std::string &l :
		     lines_of(read_file(m.path("events"))))
			if (pick(l))
				got.push_back(l);
		if (got.size() >= n)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	}
	return got;
}

long long prom_value(const Mount &m, const std::string &series)
{
	for (const std::string &l : lines_of(read_file(m.path("shmfs.prom"))))
		if (l.compare(0, series.size() + 1, series + " ") == 0)
			return std::stoll(l.substr(series.size() + 1));
	return -1;
}

} // namespace shmfs_test
