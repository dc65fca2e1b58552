// SPDX-License-Identifier: GPL-2.0
/* trace.bpf.c - who makes and removes shared memory, from the system
 * calls themselves (see trace.h).  Two sets of programs, one loaded
 * (trace.c): on the calls' own functions (fentry/fexit: BPF trampolines,
 * where the kernel lets them attach; nothing else pays), or on the raw
 * sys_enter and sys_exit tracepoints (no tracefs, no kprobes, no
 * trampolines needed; every system call pays a test of its number):
 *
 *   shmget with IPC_CREAT or IPC_PRIVATE that returned an id: a segment
 *     perhaps made (the daemon keeps it where the caller is the segment's
 *     shm_cpid: the kernel's own word);
 *   shmctl(IPC_RMID) that succeeded: who removed a segment;
 *   a file made or unlinked in a watched /dev/shm: on the calls, the
 *     kernel's security_inode_create and security_inode_unlink of a
 *     directory in a watched tmpfs (its name); on the tracepoints, the
 *     entry of open, openat, openat2, creat with O_CREAT, and of unlink,
 *     unlinkat, of a path absolute under the watched prefix or relative
 *     to a directory in a watched tmpfs.  Either comes before inotify
 *     reports the name made or removed, where the daemon takes it.
 *
 * Each event carries the calling process: its pid, command line (the
 * first bytes of its argv), cgroup (its directory and two parents' names:
 * the container) and IPC namespace, read at the call, so that a process
 * that exits at once is still named.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "trace_event.h"

char LICENSE[] SEC("license") = "GPL";

#if defined(__TARGET_ARCH_x86)
#define NR_open 2
#define NR_creat 85
#define NR_unlink 87
#define NR_openat 257
#define NR_unlinkat 263
#define NR_openat2 437
#define NR_shmget 29
#define NR_shmctl 31
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#define SYS_PREFIX "__x64_"
#elif defined(__TARGET_ARCH_arm64)
#define NR_open -1
#define NR_creat -1
#define NR_unlink -1
#define NR_openat 56
#define NR_unlinkat 35
#define NR_openat2 437
#define NR_shmget 194
#define NR_shmctl 195
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#define SYS_PREFIX "__arm64_"
#else
#error "trace.bpf.c: no system call numbers for this architecture"
#endif

#define IPC_PRIVATE 0
#define IPC_CREAT 01000
#define IPC_RMID 0
#define O_CREAT 0100
#define AT_FDCWD -100

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* The devices (the kernel's s_dev) of the tmpfs the daemon watches. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} watched SEC(".maps");

/* An unlink's path and its directory's tmpfs, read at its entry. */
struct pending {
	__u32 dev;
	char path[SHM_TRACE_NAME];
};

/* Scratch for an entry's path (too large for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending);
} scratch SEC(".maps");

/* The caller this CPU's last event named in full: its next events skip
 * reading its command line and cgroup again (a loop in one process). */
struct last_who {
	__u32 pid;
	__u64 start, cgroup_id, mm, arg_start;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct last_who);
} last SEC(".maps");

/* Events the ring had no room for. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* The watched /dev/shm's path with a trailing '/' ("/dev/shm/"), set by
 * the daemon before it loads the program. */
const volatile char prefix[64] = "/dev/shm/";
const volatile __u32 prefix_len = 9;

struct kernfs_node___old {
	struct kernfs_node *parent;
};

static const struct kernfs_node *kn_parent(const struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((const struct kernfs_node___old *)kn, parent);
}

static bool dev_watched(__u32 dev)
{
	return bpf_map_lookup_elem(&watched, &dev) != NULL;
}

/* The file of descriptor fd of the current process, or NULL. */
static struct file *fd_file(struct task_struct *task, int fd)
{
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= max)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Fill e with the calling process: in full unless this CPU's last event
 * named the same one (same process, program and cgroup).  ipc_ns: the
 * caller's IPC namespace, read once by the caller. */
static void who(struct shm_trace_event *e, struct task_struct *task,
		__u32 ipc_ns)
{
	const struct kernfs_node *kn;
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start = mm ? BPF_CORE_READ(mm, arg_start) : 0;
	unsigned long end;
	struct last_who *l;
	__u32 zero = 0;

	e->comm[0] = '\0';
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ipc_ns = ipc_ns;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->start = BPF_CORE_READ(task, group_leader, start_time);
	e->args_len = 0;
	l = bpf_map_lookup_elem(&last, &zero);
	if (l && l->pid == e->pid && l->start == e->start &&
	    l->cgroup_id == e->cgroup_id && l->mm == (__u64)mm &&
	    l->arg_start == start) {
		e->has_who = 0;
		return;
	}
	e->has_who = 1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	end = mm ? BPF_CORE_READ(mm, arg_end) : 0;
	if (end > start) {
		__u32 n = end - start;

		if (n > SHM_TRACE_ARGS - 1)
			n = SHM_TRACE_ARGS - 1;
		n &= SHM_TRACE_ARGS - 1; /* (a bound the verifier sees) */
		if (bpf_probe_read_user(e->args, n, (void *)start) == 0)
			e->args_len = n;
	}
	kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	for (int i = 0; i < 3; i++) {
		const char *name = kn ? BPF_CORE_READ(kn, name) : NULL;

		e->cgroup[i][0] = '\0';
		if (name)
			bpf_probe_read_kernel_str(e->cgroup[i],
						  sizeof(e->cgroup[i]), name);
		kn = kn ? kn_parent(kn) : NULL;
	}
	if (l) {
		l->pid = e->pid;
		l->start = e->start;
		l->cgroup_id = e->cgroup_id;
		l->mm = (__u64)mm;
		l->arg_start = start;
	}
}

/* Submit e without waking the daemon: it drains the ring every 20 ms
 * (4 MiB: 4,600 events, 230,000 a second) and before each event it
 * writes, so a wake-up per call (a context switch each, on the caller's
 * time) buys nothing. */
static void submit(struct shm_trace_event *e)
{
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static struct shm_trace_event *reserve(void)
{
	struct shm_trace_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u32 zero = 0;

	if (!e) {
		__u64 *n = bpf_map_lookup_elem(&lost, &zero);

		if (n)
			__sync_fetch_and_add(n, 1);
	}
	return e;
}

/* A new event of kind what in the ring, its object's fields empty, or
 * NULL (the ring is full). */
static struct shm_trace_event *new_event(__u32 what)
{
	struct shm_trace_event *e = reserve();

	if (!e)
		return NULL;
	e->what = what;
	e->id = -1;
	e->key = 0;
	e->size = 0;
	e->object_ns = 0;
	e->ino = 0;
	e->dev = 0;
	e->name[0] = '\0';
	return e;
}

/* Whether path (read into p->path) names something in a watched
 * /dev/shm: under the prefix, or relative to a directory (dfd, or the
 * working directory) in a watched tmpfs (then p->dev is that tmpfs). */
static bool path_watched(struct task_struct *task, struct pending *p, int dfd)
{
	struct dentry *dir;

	if (p->path[0] == '/') {
		for (int i = 0; i < 63; i++) {
			if (i >= prefix_len)
				return true;
			if (p->path[i] != prefix[i])
				return false;
		}
		return false;
	}
	if (dfd == AT_FDCWD) {
		dir = BPF_CORE_READ(task, fs, pwd.dentry);
	} else {
		struct file *f = fd_file(task, dfd);

		if (!f)
			return false;
		dir = BPF_CORE_READ(f, f_path.dentry);
	}
	if (!dir)
		return false;
	p->dev = BPF_CORE_READ(dir, d_sb, s_dev);
	return dev_watched(p->dev);
}

/* --- The calls themselves (fentry/fexit: BPF trampolines, Linux 5.5+ on
 * x86, 6.0+ on arm64): each program runs only on the call it names, so
 * that the rest of the machine's system calls pay nothing.  The daemon
 * loads these where it can, the tracepoints above and below where it
 * cannot (trace.c). --- */

/* A name made (its inode about to be created: open with O_CREAT of a
 * new name, creat, mknod of a regular file) or unlinked in a directory
 * of a watched tmpfs: the event of kind what, named by its directory's
 * tmpfs and its own name, before the kernel reports the change to
 * inotify (both hooks run first). */
static int dentry_event(struct inode *dir, struct dentry *dentry, __u32 what)
{
	struct task_struct *task;
	struct shm_trace_event *e;
	__u32 dev = BPF_CORE_READ(dir, i_sb, s_dev);

	if (!dev_watched(dev))
		return 0;
	e = new_event(what);
	if (!e)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	e->dev = dev;
	if (bpf_probe_read_kernel_str(e->name, sizeof(e->name),
				      BPF_CORE_READ(dentry, d_name.name)) < 0)
		e->name[0] = '\0';
	who(e, task, BPF_CORE_READ(task, nsproxy, ipc_ns, ns.inum));
	submit(e);
	return 0;
}

SEC("fentry/security_inode_create")
int BPF_PROG(on_create, struct inode *dir, struct dentry *dentry)
{
	return dentry_event(dir, dentry, SHM_TRACE_POSIX_MADE);
}

SEC("fentry/security_inode_unlink")
int BPF_PROG(on_unlink, struct inode *dir, struct dentry *dentry)
{
	return dentry_event(dir, dentry, SHM_TRACE_POSIX_REMOVED);
}

/* A System V call that returned ret (what: made or removed), its
 * arguments in regs. */
static int sysv_event(struct pt_regs *regs, long ret, __u32 what)
{
	struct task_struct *task;
	struct shm_trace_event *e;

	if (ret < 0)
		return 0;
	e = new_event(what);
	if (!e)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	e->object_ns = BPF_CORE_READ(task, nsproxy, ipc_ns, ns.inum);
	e->id = what == SHM_TRACE_SYSV_MADE ?
			(__s32)ret :
			(__s32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	e->key = (__u32)PT_REGS_PARM1_CORE_SYSCALL(regs);
	e->size = (__u64)PT_REGS_PARM2_CORE_SYSCALL(regs);
	who(e, task, e->object_ns);
	submit(e);
	return 0;
}

/* A shmget that returned ret: an event if it may have made a segment
 * (IPC_PRIVATE, or IPC_CREAT). */
static int shmget_done(struct pt_regs *regs, long ret)
{
	long key = PT_REGS_PARM1_CORE_SYSCALL(regs);

	if (key != IPC_PRIVATE &&
	    !(PT_REGS_PARM3_CORE_SYSCALL(regs) & IPC_CREAT))
		return 0;
	return sysv_event(regs, ret, SHM_TRACE_SYSV_MADE);
}

/* A shmctl that returned ret: an event if it was IPC_RMID. */
static int shmctl_done(struct pt_regs *regs, long ret)
{
	if ((PT_REGS_PARM2_CORE_SYSCALL(regs) & 0xff) != IPC_RMID)
		return 0;
	return sysv_event(regs, ret, SHM_TRACE_SYSV_REMOVED);
}

SEC("fexit/" SYS_PREFIX "sys_shmget")
int BPF_PROG(on_shmget, struct pt_regs *regs, long ret)
{
	return shmget_done(regs, ret);
}

SEC("fexit/" SYS_PREFIX "sys_shmctl")
int BPF_PROG(on_shmctl, struct pt_regs *regs, long ret)
{
	return shmctl_done(regs, ret);
}

/* --- Where trampolines cannot attach: every system call's entry and
 * exit, filtered by its number. --- */

SEC("raw_tp/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long nr)
{
	struct task_struct *task;
	struct shm_trace_event *e;
	struct pending *p;
	__u32 zero = 0, what;
	int dfd = AT_FDCWD;
	const char *path;

	/* An unlink and an open that may make a file are seen at their
	 * entry: their word must be in before the name's removal or making
	 * reaches the watcher (inotify says so within the call).  System V
	 * calls at their exit, where their arguments are still in regs. */
	if (nr == NR_unlink || nr == NR_unlinkat) {
		what = SHM_TRACE_POSIX_REMOVED;
	} else if (nr == NR_open || nr == NR_creat || nr == NR_openat ||
		   nr == NR_openat2) {
		long flags;

		if (nr == NR_open)
			flags = PT_REGS_PARM2_CORE_SYSCALL(regs);
		else if (nr == NR_creat)
			flags = O_CREAT;
		else if (nr == NR_openat)
			flags = PT_REGS_PARM3_CORE_SYSCALL(regs);
		else {
			struct open_how *how =
				(struct open_how *)PT_REGS_PARM3_CORE_SYSCALL(
					regs);

			flags = BPF_CORE_READ_USER(how, flags);
		}
		if (!(flags & O_CREAT))
			return 0;
		what = SHM_TRACE_POSIX_MADE;
	} else {
		return 0;
	}
	p = bpf_map_lookup_elem(&scratch, &zero);
	if (!p)
		return 0;
	p->dev = 0;
	if (nr == NR_unlinkat || nr == NR_openat || nr == NR_openat2) {
		dfd = (int)PT_REGS_PARM1_CORE_SYSCALL(regs);
		path = (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	} else {
		path = (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs);
	}
	if (bpf_probe_read_user_str(p->path, sizeof(p->path), path) < 0)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	if (!path_watched(task, p, dfd))
		return 0;
	/* One that then fails removed nothing, and its word is never
	 * asked for. */
	e = new_event(what);
	if (!e)
		return 0;
	e->dev = p->dev;
	__builtin_memcpy(e->name, p->path, sizeof(e->name));
	who(e, task, BPF_CORE_READ(task, nsproxy, ipc_ns, ns.inum));
	submit(e);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(on_exit, struct pt_regs *regs, long ret)
{
	long nr;

	if (ret < 0)
		return 0;
	nr = SYSCALL_NR(regs);
	if (nr == NR_shmget)
		return shmget_done(regs, ret);
	if (nr == NR_shmctl)
		return shmctl_done(regs, ret);
	return 0;
}
