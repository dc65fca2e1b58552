// child.cc - children that hold something until stopped (see child.h).
#include "child.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>
#include <unistd.h>

namespace shmfs_test {

namespace {

// fork(), or a fork that gives the child pid `as` (clone3 with set_tid,
// Linux 5.5, CAP_SYS_ADMIN): -1 with errno EEXIST if as is taken.
pid_t fork_as(pid_t as)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal,
			stack, stack_size, tls, set_tid, set_tid_size;
	} args = {};

	if (!as)
		return fork();
	args.exit_signal = SIGCHLD;
	args.set_tid = (uintptr_t)&as;
	args.set_tid_size = 1;
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

} // namespace

bool Holder::start(const std::function<bool()> &fn, pid_t as)
{
	int ready[2];
	if (pipe(ready) != 0)
		return false;
	fflush(stdout);
	pid = fork_as(as);
	if (pid == 0) {
		char c = fn() ? 'y' : 'n';
		(void)!write(ready[1], &c, 1);
		for (;;)
			pause();
	}
	char c = 0;
	if (pid > 0)
		(void)!read(ready[0], &c, 1);
	close(ready[0]);
	close(ready[1]);
	return c == 'y';
}

void at_once(int n, const std::function<void(int)> &fn)
{
	std::vector<std::thread> ts;
	std::atomic<int> ready{ 0 };

	for (int i = 0; i < n; i++)
		ts.emplace_back([&, i] {
			ready++;
			while (ready < n)
				;
			fn(i);
		});
	for (auto &t : ts)
		t.join();
}

double now_us()
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

double now_ms()
{
	return now_us() / 1e3;
}

void Holder::stop()
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, nullptr, 0);
	}
	pid = -1;
}

} // namespace shmfs_test
