/* killpriv.h - clearing setuid and setgid when a process without
 * CAP_FSETID writes or truncates, as the kernel's VFS does on every local
 * filesystem.  The mount asks for FUSE_CAP_HANDLE_KILLPRIV_V2 (ops.c,
 * init): the kernel then stops asking for security.capability before
 * every write (its SB_NOSEC) and leaves the clearing to the daemon, which
 * hears of it as
 *   - a SETATTR that changes nothing (the kernel's file_remove_privs,
 *     before a write, fallocate or copy into a file whose cached mode has
 *     the bits, on every data path, passthrough included);
 *   - FATTR_KILL_SUIDGID with a truncate;
 *   - FUSE_OPEN_KILL_SUIDGID with an open(O_TRUNC), which libfuse does
 *     not pass on: the caller's capability is read from /proc instead.
 * (chown clears them in the backend's own chown, as root's would.)
 */
#ifndef SHMFS_KILLPRIV_H
#define SHMFS_KILLPRIV_H

#include "shmfs.h"

/* Clear in's setuid bit, and its setgid bit where group-execute is set
 * or req's caller is not in the file's group (the kernel's
 * setattr_should_drop_suidgid for a caller without CAP_FSETID).  A file
 * without them is left as it is; so is one whose caller has CAP_FSETID
 * in the daemon's user namespace, when unless_fsetid asks (read from
 * /proc only then, and only for a file with the bits).  0 or -errno. */
int shmfs_kill_suidgid(fuse_req_t req, struct shmfs_inode *in,
		       bool unless_fsetid);

#endif
