// child.h - what the unit and mount tests share that needs no mount: a
// child process that holds something (a mapping, an attachment, an open
// file, a namespace) until it is stopped, and the clock and wait that
// time how soon a store is seen.
#ifndef SHMFS_TEST_CHILD_H
#define SHMFS_TEST_CHILD_H

#include <sys/types.h>
#include <unistd.h>

#include <functional>

namespace shmfs_test {

// A child that runs fn, says whether it succeeded, then holds what fn set
// up until stop() or the destructor kills it.
struct Holder {
	pid_t pid = -1;

	Holder() = default;
	Holder(const Holder &) = delete;
	Holder &operator=(const Holder &) = delete;
	Holder(Holder &&o) noexcept : pid(o.pid)
	{
		o.pid = -1;
	}
	// Whether fn returned true in the child (which then holds on); the
	// child gets pid `as` if it is not 0 and free (clone3's set_tid).
	bool start(const std::function<bool()> &fn, pid_t as = 0);
	void stop();
	~Holder()
	{
		stop();
	}
};

// fn(0) .. fn(n-1), each on a thread of its own, released together once
// all are running; returns when all are done.
void at_once(int n, const std::function<void(int)> &fn);

// The monotonic clock, in milliseconds and in microseconds.
double now_ms();
double now_us();

// Microseconds until *p == want (read atomically, polling every pause_us
// microseconds, or spinning when 0), or -1 after limit_us.
template <typename T>
double wait_for_value(const volatile T *p, T want, double limit_us,
		      unsigned pause_us = 0)
{
	double t0 = now_us();
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != want) {
		if (now_us() - t0 > limit_us)
			return -1;
		if (pause_us)
			usleep(pause_us);
	}
	return now_us() - t0;
}

} // namespace shmfs_test

#endif
