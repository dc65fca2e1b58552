#!/bin/bash
# bench.sh - make bench: shmfs against native /dev/shm, ipcs and bindfs, in
# one run.  Mounts shmfs (default options) and bindfs in a temporary
# directory and always unmounts them.  Not a test: it asserts nothing.
set -eu
bin=${1:-build/shmfs}
bench=${2:-build/shmbench}
out=${3:-build}
tmp=$(mktemp -d /tmp/shmfs-bench.XXXXXX)
cleanup() {
	fusermount3 -uz "$tmp/shmfs" 2>/dev/null || true
	fusermount3 -uz "$tmp/bindfs" 2>/dev/null || true
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir "$tmp/shmfs" "$tmp/bindfs"

"$bin" -f "$tmp/shmfs" &
pid=$!
for _ in $(seq 100); do
	grep -q " $tmp/shmfs fuse.shmfs " /proc/self/mountinfo && break
	sleep 0.05
done
bindfs_dir=
if command -v bindfs >/dev/null && bindfs /dev/shm "$tmp/bindfs"; then
	bindfs_dir=$tmp/bindfs
else
	echo "(no bindfs: figure 7 left out)"
fi

echo "== make bench: $(date -u +%F), $(nproc) cores, kernel $(uname -r)"
"$bench" figures --mount "$tmp/shmfs" --pid "$pid" ${bindfs_dir:+--bindfs "$bindfs_dir"}
echo
"$bench" --mount "$tmp/shmfs" --csv "$out/shmbench.csv" --plot "$out/shmbench.png"
echo "(table as CSV in $out/shmbench.csv, chart in $out/shmbench.png)"
