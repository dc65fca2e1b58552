/* trace_event.h - one event of trace.bpf.c, as the ring buffer carries it
 * to trace.c.  Shared by the BPF program and the daemon. */
#ifndef SHMFS_TRACE_EVENT_H
#define SHMFS_TRACE_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum {
	SHM_TRACE_SYSV_MADE = 1,
	SHM_TRACE_SYSV_REMOVED,
	SHM_TRACE_POSIX_MADE,
	SHM_TRACE_POSIX_REMOVED,
};

#define SHM_TRACE_ARGS 256 /* a power of two */
#define SHM_TRACE_CGROUP 96
#define SHM_TRACE_NAME 256

struct shm_trace_event {
	__u32 what;
	__u32 pid;	 /* the caller's process (thread group) */
	__u32 ipc_ns;	 /* the caller's IPC namespace */
	__u32 object_ns; /* System V: the segment's namespace */
	__s32 id;	 /* System V: the segment's id */
	__u32 dev;	 /* POSIX: the tmpfs (the kernel's s_dev) */
	__u64 ino;	 /* POSIX: the file's inode */
	__u64 size;	 /* System V made: shmget's size */
	__u32 key;	 /* System V made: shmget's key */
	__u64 cgroup_id;
	__u64 start; /* the process's start (boot ns): with pid, who */
	/* 0: the caller is the one this CPU's last event named (args and
	 * cgroup not read again: the daemon remembers them). */
	__u32 has_who;
	__u32 args_len; /* bytes of args read (NUL-separated) */
	char comm[16];
	char args[SHM_TRACE_ARGS];
	/* The caller's cgroup: its own directory's name, its parent's and
	 * grandparent's ("" past the root). */
	char cgroup[3][SHM_TRACE_CGROUP];
	char name[SHM_TRACE_NAME]; /* POSIX: the file's name */
};

#endif
