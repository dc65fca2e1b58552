/* cgroupid.h - which container a process is in, from its cgroup path: a
 * parser, and one process's file read (procscan.c reads its pass's files
 * itself, into a buffer it keeps).  Not part of the backend interface. */
#ifndef SHMFS_CGROUPID_H
#define SHMFS_CGROUPID_H

/* The container id a /proc/PID/cgroup text names, newly allocated (64
 * lowercase hex digits), or NULL: Docker ("docker-ID.scope",
 * "/docker/ID"), containerd and CRI-O ("cri-containerd-ID.scope",
 * "crio-ID.scope", a Kubernetes pod's "/kubepods/.../ID"), Podman
 * ("libpod-ID.scope").  The deepest such component of the first line
 * that has one. */
char *ns_container_of_cgroup(const char *text);

/* The container id of process pid (as above), "" for none, newly
 * allocated; NULL if its /proc/PID/cgroup cannot be read (it is gone). */
char *ns_container_of_pid(int pid);

#endif
