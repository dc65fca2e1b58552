/* autounmount.h - unmount the mount when the daemon dies.
 *
 * libfuse 3.17 implements auto_unmount by spawning `fusermount3
 * --auto-unmount`, which an older fusermount3 (Debian 12's 3.14) rejects.
 * As root the daemon does the same itself, with no helper to install: a
 * watcher process, forked just before the mount is made, waits for the
 * daemon to end (a pipe it alone holds closes, however it ends) and then, as
 * fusermount3 does, detaches the mount only if it is still there and dead
 * (ENOTCONN): never after a clean unmount, never a new daemon's mount.
 */
#ifndef SHMFS_AUTOUNMOUNT_H
#define SHMFS_AUTOUNMOUNT_H

/* Start the watcher for mountpoint (absolute); 0 or -errno.  Call before
 * the mount is made and before any thread starts, in the daemon (after
 * startup.h's shmfs_daemon_start): the daemon alone holds the pipe's
 * write end. */
int shmfs_autounmount_start(const char *mountpoint);

/* The watcher runs as the shmfs binary exec'd again under the name
 * "auto-unmount": main() calls this first; it returns the watcher's exit
 * status, or -1 if this process is not a watcher. */
int shmfs_autounmount_main(int argc, char **argv);

#endif
