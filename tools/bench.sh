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
	fusermount3 -uz "$tmp/allns" 2>/dev/null || true
	for id in ${ns_ids:-}; do ipcrm -m "$id" 2>/dev/null || true; done
	for p in "${pid:-}" "${fpid:-}" "${lpid:-}" "${apid:-}"; do
		if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
	done
	umount -l "$tmp/mapdir" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir "$tmp/shmfs" "$tmp/fallback" "$tmp/bindfs" "$tmp/list" "$tmp/allns" \
	"$tmp/mapdir"
# The mapped-file rows: a 256 MiB file on a tmpfs of its own, listed in
# mapped/ by --map-dir (written through the mount and natively).
map_opt=
if mount -t tmpfs -o size=300m shmfs-bench "$tmp/mapdir" 2>/dev/null; then
	head -c $((256 << 20)) /dev/zero >"$tmp/mapdir/file"
	map_opt=--map-dir=$tmp/mapdir
else
	echo "(cannot mount a tmpfs: the mapped-file rows are left out)"
fi

# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
"$bin" -f ${map_opt:+"$map_opt"} "$tmp/shmfs" &
pid=$!
wait_mount "$tmp/shmfs"
"$bin" -f -o passthrough=off ${map_opt:+"$map_opt"} "$tmp/fallback" 2>/dev/null &
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
	--list-mount "$tmp/list" --pid "$lpid" ${bindfs_dir:+--bindfs "$bindfs_dir"} \
	${map_opt:+--map-file "$tmp/mapdir/file"}
echo
"$bench" --mount "$tmp/shmfs" --fallback-mount "$tmp/fallback" \
	--csv "$out/shmbench.csv" --plot "$out/shmbench.png"
echo "(table as CSV in $out/shmbench.csv, chart in $out/shmbench.png)"

# ns/ (--all-namespaces): the daemon's own namespace through
# ns/INODE/, where every call hops to a pool thread inside the namespace,
# against the top level of the same mount.  Best of 5, in milliseconds.
"$bin" -f --all-namespaces "$tmp/allns" &
apid=$!
wait_mount "$tmp/allns"
own=$(stat -L -c %i /proc/self/ns/ipc)
ns_ids=
for _ in $(seq 1000); do
	ns_ids="$ns_ids $(ipcmk -M 4096 | awk '{print $NF}')"
done
big=$(ipcmk -M $((64 << 20)) | awk '{print $NF}')
ns_ids="$ns_ids $big"
best_ms() {
	local best=
	for _ in 1 2 3 4 5; do
		local t0 t1
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s%N)
		local ms=$(((t1 - t0) / 1000000))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
		sleep 0.6 # past the kernel's attribute cache
	done
	echo "$best"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b ? a / b : 0) }'; }
top_ls=$(best_ms ls -l "$tmp/allns/sysv")
ns_ls=$(best_ms ls -l "$tmp/allns/ns/$own/sysv")
top_wr=$(best_ms dd if=/dev/zero of="$tmp/allns/sysv/$big" bs=1M count=64 conv=notrunc)
ns_wr=$(best_ms dd if=/dev/zero of="$tmp/allns/ns/$own/sysv/$big" bs=1M count=64 conv=notrunc)
top_rd=$(best_ms dd if="$tmp/allns/sysv/$big" of=/dev/null bs=1M)
ns_rd=$(best_ms dd if="$tmp/allns/ns/$own/sysv/$big" of=/dev/null bs=1M)
echo
echo "== ns/: the same 1001 segments at the top and through ns/$own/ (ms, best of 5; ratio ns/top)"
echo "ls -l sysv/ (1001 segments):  top $top_ls  ns $ns_ls  ratio $(ratio "$ns_ls" "$top_ls")"
echo "64 MiB SysV write (1 MiB):    top $top_wr  ns $ns_wr  ratio $(ratio "$ns_wr" "$top_wr")"
echo "64 MiB SysV read (1 MiB):     top $top_rd  ns $ns_rd  ratio $(ratio "$ns_rd" "$top_rd")"
