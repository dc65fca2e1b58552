#!/bin/bash
# bench-uring.sh - make bench: FUSE over io_uring (libfuse 3.18, kernel
# 6.14+) against the default build (libfuse 3.17, requests read from
# /dev/fuse), for the requests that still reach the daemon: a stat and a
# getxattr (-o timeout=0: each one a round trip), ls -l of 1,000 System V
# segments, and a 256 MiB write into a System V segment (served by the
# daemon).  Three daemons in turn: 3.17, 3.18, 3.18 with -o io_uring; the
# median of 7 rounds, taken in turn.  fuse.enable_uring is set for the run
# and put back after.  Asserts nothing.
set -eu
old=${1:-build/shmfs}
new=${2:-build/uring/shmfs}
param=/sys/module/fuse/parameters/enable_uring
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
echo
echo "== FUSE over io_uring (libfuse $("$new" -V 2>&1 | awk '/FUSE library/ { print $4 }') with -o io_uring) against libfuse $("$old" -V 2>&1 | awk '/FUSE library/ { print $4 }')"
if [ ! -w "$param" ]; then
	echo "(this kernel has no FUSE over io_uring, or $param is not writable: left out)"
	exit 0
fi
tmp=$(mktemp -d /tmp/shmfs-uring.XXXXXX)
was=$(cat "$param")
dpid=
ids=
cleanup() {
	fusermount3 -uz "$tmp/mnt" 2>/dev/null || true
	if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; fi
	for id in $ids; do ipcrm -m "$id" 2>/dev/null || true; done
	rm -f /dev/shm/shmfs-uring-bench
	echo "$was" >"$param" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
echo Y >"$param"
mkdir "$tmp/mnt"
head -c 4096 /dev/zero >/dev/shm/shmfs-uring-bench
big=$(ipcmk -M $((256 << 20)) | awk '{print $NF}')
ids=$big
for _ in $(seq "${SHMFS_URING_SEGMENTS:-1000}"); do ids="$ids $(ipcmk -M 4096 | awk '{print $NF}')"; done
cat >"$tmp/calls.py" <<'PY'
import os, sys, time
call, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = os.stat if call == "stat" else (lambda p: os.getxattr(p, "user.shm.size"))
t = time.perf_counter()
for _ in range(n):
    f(path)
print("%.1f" % ((time.perf_counter() - t) / n * 1e6))
PY
us() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo $(((t1 - t0) / 1000)); }
# One round of one daemon: stat us, getxattr us, ls -l ms, write MB/s.
round() {
	"$1" -f -o timeout=0 ${2:+"$2"} "$tmp/mnt" 2>>"$tmp/log" &
	dpid=$!
	wait_mount "$tmp/mnt" || { cat "$tmp/log" >&2; exit 1; }
	local s x l w
	s=$(python3 "$tmp/calls.py" stat "$tmp/mnt/posix/shmfs-uring-bench" 5000)
	x=$(python3 "$tmp/calls.py" xattr "$tmp/mnt/posix/shmfs-uring-bench" 5000)
	l=$(us ls -l "$tmp/mnt/sysv")
	w=$(us dd if=/dev/zero of="$tmp/mnt/sysv/$big" bs=1M count=256 conv=notrunc status=none)
	echo "$s $x $((l / 1000)) $((256 * 1000000 / w))"
	fusermount3 -uz "$tmp/mnt"
	wait "$dpid" 2>/dev/null || true
	dpid=
}
for r in 1 2 3 4 5 6 7; do
	round "$old" "" >>"$tmp/a"
	round "$new" "" >>"$tmp/b"
	round "$new" -oio_uring >>"$tmp/c"
	: "$r"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$2" '{ print $c }' "$1" | median; }
printf '%-38s %9s %9s %13s %s\n' request "3.17" "3.18" "3.18+uring" "uring / 3.17"
row() {
	local a b c
	a=$(col "$tmp/a" "$2") b=$(col "$tmp/b" "$2") c=$(col "$tmp/c" "$2")
	printf '%-38s %9s %9s %13s %s\n' "$1" "$a" "$b" "$c" \
		"$(awk -v a="$a" -v c="$c" -v up="$3" 'BEGIN { printf "%.2f%s", (up ? c / a : a / c), " (above 1 is faster)" }')"
}
row "stat, -o timeout=0 (us)" 1 0
row "getxattr user.shm.size (us)" 2 0
row "ls -l sysv/, 1,000 segments (ms)" 3 0
row "write 256 MiB into System V (MB/s)" 4 1
if grep -q "io-uring" "$tmp/log"; then
	echo "(libfuse said:)"
	grep "io-uring" "$tmp/log" | sort -u
fi
