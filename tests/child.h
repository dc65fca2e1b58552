// child.h - what the unit and mount tests share that needs no mount: a
// child process that holds something (a mapping, an attachment, an open
// file, a namespace) until it is stopped.
#ifndef SHMFS_TEST_CHILD_H
#define SHMFS_TEST_CHILD_H

#include <sys/types.h>

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
	// Whether fn returned true in the child (which then holds on).
	bool start(const std::function<bool()> &fn);
	void stop();
	~Holder()
	{
		stop();
	}
};

} // namespace shmfs_test

#endif
