/* killpriv.c - setuid and setgid cleared as the VFS clears them (see
 * killpriv.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "caller.h"
#include "killpriv.h"

#define CAP_FSETID_BIT 4 /* <linux/capability.h> CAP_FSETID */

/* Whether req's caller has CAP_FSETID in the daemon's user namespace
 * (the kernel's capable(CAP_FSETID)); false when /proc cannot tell. */
static bool caller_fsetid(fuse_req_t req)
{
	pid_t tid = fuse_req_ctx(req)->pid;
	g_autofree char *text = NULL;
	char path[64];
	struct stat ns, own;
	unsigned long long eff = 0;
	const char *line;

	/* capable() is the initial user namespace's: a caller in another
	 * (a container's) has none there. */
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)tid);
	if (tid <= 0 || stat(path, &ns) < 0 ||
	    stat("/proc/self/ns/user", &own) < 0 || ns.st_ino != own.st_ino ||
	    ns.st_dev != own.st_dev)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return false;
	line = strstr(text, "\nCapEff:");
	return line && sscanf(line + 8, "%llx", &eff) == 1 &&
	       ((eff >> CAP_FSETID_BIT) & 1);
}

/* Whether req's caller is in group gid (its own or a supplementary one). */
static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	gid_t groups[64];
	int n;

	if (fuse_req_ctx(req)->gid == gid)
		return true;
	n = fuse_req_getgroups(req, G_N_ELEMENTS(groups), groups);
	for (int i = 0; i < MIN(n, (int)G_N_ELEMENTS(groups)); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

int shmfs_kill_suidgid(fuse_req_t req, struct shmfs_inode *in,
		       bool unless_fsetid)
{
	const struct shmfs_backend *be = in->be;
	struct shm_caller saved = { 0 };
	struct shm_attr a;
	mode_t mode;
	int r;

	if (!be || !be->setattr)
		return 0;
	/* A file removed while open has no name to change it by: its bits
	 * stay (its next open is of another file). */
	r = be->stat(shmfs_inode_path(in), &a);
	if (r)
		return r == -ENOENT ? 0 : r;
	mode = a.mode & 07777;
	mode &= ~(mode_t)S_ISUID;
	if ((mode & S_ISGID) &&
	    ((mode & S_IXGRP) || !caller_in_group(req, a.gid)))
		mode &= ~(mode_t)S_ISGID;
	if (mode == (a.mode & 07777) || (unless_fsetid && caller_fsetid(req)))
		return 0;
	/* The kernel clears them whatever the writer's rights (its
	 * ATTR_FORCE): a call on nobody's behalf, with the daemon's. */
	if (shm_caller())
		saved = *shm_caller();
	shm_caller_set(NULL);
	r = shm_be_setattr(be, shmfs_inode_path(in),
			   &(struct shm_set){ .mode = (int)mode,
					      .uid = (uid_t)-1,
					      .gid = (gid_t)-1 });
	shm_caller_set(&saved);
	return r;
}
