#!/bin/bash
# bench-soak.sh - make bench's churn soak: the daemon's memory under a
# busy host's churn for SHMFS_SOAK_SECONDS (default 300).  System V and
# POSIX segments created and removed, short-lived IPC namespaces (unshare,
# as a container runtime makes them, each with a segment), and readers
# listing sysv/, posix/, unused/ and ns/, reading xattrs and shmfs.prom,
# all at once against one daemon with --all-namespaces.  Prints the
# daemon's RSS at the start, after one minute and at the end, and the
# change between the last two (issue 18's target: under 10%).  Everything
# it makes is removed after.  Asserts nothing.
set -eu
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bin=${1:-build/shmfs}
secs=${SHMFS_SOAK_SECONDS:-300}
tmp=$(mktemp -d /tmp/shmfs-soak.XXXXXX)
dpid=
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	fusermount3 -uz "$tmp/mnt" 2>/dev/null || true
	if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; fi
	if [ -s "$tmp/sysv.cur" ]; then ipcrm -m "$(cat "$tmp/sysv.cur")" 2>/dev/null || true; fi
	rm -f /dev/shm/shmfs-soak-*
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir "$tmp/mnt"
"$bin" -f --all-namespaces "$tmp/mnt" 2>"$tmp/log" &
dpid=$!
wait_mount "$tmp/mnt"
m=$tmp/mnt
end=$(($(date +%s) + secs))
rss() { awk '/VmRSS/ { print $2 }' "/proc/$dpid/status"; }
inodes() { awk '/^shmfs_inodes / { print $2 }' "$m/shmfs.prom"; }
# The segment it holds now is in sysv.cur (removed after if killed).
churn_sysv() {
	local id
	while [ "$(date +%s)" -lt "$end" ]; do
		id=$(ipcmk -M 4096 -p 0600 2>/dev/null | awk '{print $NF}') || continue
		echo "$id" >"$tmp/sysv.cur"
		ipcrm -m "$id" 2>/dev/null || true
	done
}
churn_posix() {
	local n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		head -c 4096 /dev/zero >"/dev/shm/shmfs-soak-$n"
		rm -f "/dev/shm/shmfs-soak-$((n - 20))"
	done
}
churn_ns() {
	while [ "$(date +%s)" -lt "$end" ]; do
		unshare -i sh -c 'ipcmk -M 4096 >/dev/null; sleep 0.3' || true
	done
}
readers() {
	while [ "$(date +%s)" -lt "$end" ]; do
		ls -l "$m/sysv" "$m/posix" "$m/unused/sysv" "$m/unused/posix" >/dev/null 2>&1 || true
		ls -l "$m/ns" >/dev/null 2>&1 || true
		for f in "$m"/posix/shmfs-soak-* "$m"/sysv/[0-9]*; do
			getfattr -d "$f" >/dev/null 2>&1 || true
			break
		done
		cat "$m/shmfs.prom" >/dev/null 2>&1 || true
		find "$m/ns" -maxdepth 3 >/dev/null 2>&1 || true
	done
}
churn_sysv & pids="$pids $!"
churn_posix & pids="$pids $!"
churn_ns & pids="$pids $!"
readers & pids="$pids $!"
sleep 5
r0=$(rss) i0=$(inodes)
sleep 55
r1=$(rss) i1=$(inodes)
while [ "$(date +%s)" -lt "$end" ]; do sleep 1; done
r2=$(rss) i2=$(inodes)
for p in $pids; do wait "$p" 2>/dev/null || true; done
pids=
echo
echo "== churn soak, $secs s (--all-namespaces; System V, POSIX and namespace churn, listings, xattrs, shmfs.prom)"
echo "daemon RSS: start (5 s) $r0 kB, 1 min $r1 kB, end $r2 kB; end vs 1 min: $(awk -v a="$r2" -v b="$r1" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }') (target under 10%)"
echo "inodes the daemon keeps (shmfs_inodes): $i0, $i1, $i2"
