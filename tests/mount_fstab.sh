#!/bin/sh
# mount_fstab.sh - shmfs mounted the way every FUSE filesystem is: with
# mount -t fuse.shmfs (through Debian's mount.fuse3) and from an /etc/fstab
# line with mount and umount, options reaching the daemon as -o name=value
# and an unknown one refused in shmfs's own words (TAP).  Each runs in a
# private mount namespace whose /usr/local/sbin holds this build's daemon
# (mount(8) runs helpers with a fixed PATH) and whose /etc/fstab is the
# test's own; the mount point is under SHMFS_TEST_ROOT, so run-test finds
# a daemon left behind.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${SHMFS_BIN:-$top/build/shmfs}
root=${SHMFS_TEST_ROOT:-/tmp}
tmp=$(mktemp -d "$root/fstab.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/sbin" "$tmp/mnt" "$tmp/maps"
cp "$bin" "$tmp/sbin/shmfs"
echo hello >"$tmp/maps/file"
echo "shmfs $tmp/mnt fuse.shmfs defaults,nofail,map_dir=$tmp/maps,x-systemd.automount 0 0" >"$tmp/fstab"

if ! unshare -m true 2>/dev/null; then
	echo "1..1"
	echo "ok 1 - Fstab.MountTAndFstab # SKIP no-mountns: the machine refuses new mount namespaces (unshare -m fails)"
	exit 0
fi

cat >"$tmp/inner.sh" <<INNER
set -u
n=0
ok() { n=\$((n + 1)); echo "ok \$n - \$1"; }
notok() { n=\$((n + 1)); echo "not ok \$n - \$1"; sed 's/^/#   /' "$tmp/err"; }
gone() { # the daemon of $tmp/mnt exits after umount
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		pgrep -f -- "$tmp/mnt" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}
# MNT is a shmfs mount (io: its user.shm.io, or any) serving the map dir,
# and unmounts, its daemon gone.
serves() {
	[ "\$(findmnt -n -o FSTYPE "$tmp/mnt")" = fuse.shmfs ] &&
		io=\$(getfattr --only-values -n user.shm.io "$tmp/mnt" 2>>"$tmp/err") &&
		{ [ "\$1" = any ] || [ "\$io" = "\$1" ]; } &&
		[ "\$(cat "$tmp/mnt/mapped$tmp/maps/file")" = hello ] &&
		umount "$tmp/mnt" 2>>"$tmp/err" && gone
}
echo 1..3
mount --make-rprivate / && mount --bind "$tmp/sbin" /usr/local/sbin &&
	mount --bind "$tmp/fstab" /etc/fstab || { echo "Bail out! namespace set-up"; exit 1; }

# 1. mount -t: the source word, then the mount point; options as -o.
if mount -t fuse.shmfs shmfs "$tmp/mnt" -o passthrough=off,map_dir=$tmp/maps,refresh=50 >"$tmp/err" 2>&1 &&
	[ "\$(findmnt -n -o SOURCE "$tmp/mnt")" = shmfs ] &&
	[ "\$(ls "$tmp/mnt" | tr '\n' ' ')" = "events mapped posix segments shmfs.prom sysv unused " ] &&
	serves fallback; then
	ok "mount -t fuse.shmfs shmfs MNT -o passthrough=off,map_dir=DIR, then umount"
else
	notok "mount -t fuse.shmfs shmfs MNT -o passthrough=off,map_dir=DIR, then umount"
	umount -l "$tmp/mnt" 2>/dev/null
fi

# 2. An unknown option: shmfs's one line, as on its command line.
want=\$("$bin" --nosuch "$tmp/mnt" 2>&1 | sed 's/--nosuch/-o nosuch=1/')
if ! mount -t fuse.shmfs shmfs "$tmp/mnt" -o nosuch=1 >"$tmp/err" 2>&1 &&
	grep -qxF "\$want" "$tmp/err" && [ "\$want" = "shmfs: unknown option -o nosuch=1 (see shmfs --help)" ] &&
	! findmnt "$tmp/mnt" >/dev/null; then
	ok "an unknown -o option is refused in one line"
else
	echo "want: \$want" >>"$tmp/err"
	notok "an unknown -o option is refused in one line"
fi

# 3. The fstab line: mount MNT, umount MNT (nofail and x-systemd.* are
# mount(8)'s and systemd's, not shmfs's).
if mount "$tmp/mnt" >"$tmp/err" 2>&1 && serves any; then
	ok "fstab: shmfs MNT fuse.shmfs defaults,nofail,map_dir=DIR,x-systemd.automount"
else
	notok "fstab: shmfs MNT fuse.shmfs defaults,nofail,map_dir=DIR,x-systemd.automount"
	umount -l "$tmp/mnt" 2>/dev/null
fi
INNER
timeout -k 5 60 unshare -m sh "$tmp/inner.sh"
rc=$?
# A daemon left in the namespace keeps it: fail, and end it.
if pgrep -f -- "$tmp/mnt" >/dev/null; then
	echo "# a daemon of $tmp/mnt was left behind"
	pkill -KILL -f -- "$tmp/mnt"
	exit 1
fi
exit $rc
