#!/bin/bash
# bench.sh - make bench: shmfs against native /dev/shm, shmat, ipcs and
# bindfs, in one run.  Mounts shmfs (default options: passthrough where the
# kernel has it), shmfs on the fallback path (-o passthrough=off) and
# bindfs in a temporary directory and always unmounts them.  Not a test:
# it asserts nothing.
set -eu
bin=${1:-build/shmfs}
bench=${2:-build/shmbench}
out=${3:-build}
tmp=$(mktemp -d /tmp/shmfs-bench.XXXXXX)
cleanup() {
	fusermount3 -uz "$tmp/shmfs" 2>/dev/null || true
	fusermount3 -uz "$tmp/fallback" 2>/dev/null || true
	fusermount3 -uz "$tmp/bindfs" 2>/dev/null || true
	fusermount3 -uz "$tmp/list" 2>/dev/null || true
	for p in "${pid:-}" "${fpid:-}" "${lpid:-}"; do
		if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir "$tmp/shmfs" "$tmp/fallback" "$tmp/bindfs" "$tmp/list"

wait_mount() {
	for _ in $(seq 100); do
		awk -v m="$1" '$5 == m && / - fuse\.shmfs / { f = 1 } END { exit !f }' \
			/proc/self/mountinfo && return
		sleep 0.05
	done
	echo "bench: shmfs did not mount at $1" >&2
	exit 1
}
"$bin" -f "$tmp/shmfs" &
pid=$!
wait_mount "$tmp/shmfs"
"$bin" -f -o passthrough=off "$tmp/fallback" 2>/dev/null &
fpid=$!
wait_mount "$tmp/fallback"
# A second daemon only for the 10,000-segment listing, so that its RSS
# is its own and not the 1 GiB segments the first one attached.
"$bin" -f "$tmp/list" &
lpid=$!
wait_mount "$tmp/list"
bindfs_dir=
if command -v bindfs >/dev/null && bindfs /dev/shm "$tmp/bindfs"; then
	bindfs_dir=$tmp/bindfs
else
	echo "(no bindfs: figure 7 left out)"
fi

echo "== make bench: $(date -u +%F), $(nproc) cores, kernel $(uname -r)"
"$bench" figures --mount "$tmp/shmfs" --fallback-mount "$tmp/fallback" \
	--list-mount "$tmp/list" --pid "$lpid" ${bindfs_dir:+--bindfs "$bindfs_dir"}
echo
"$bench" --mount "$tmp/shmfs" --fallback-mount "$tmp/fallback" \
	--csv "$out/shmbench.csv" --plot "$out/shmbench.png"
echo "(table as CSV in $out/shmbench.csv, chart in $out/shmbench.png)"
