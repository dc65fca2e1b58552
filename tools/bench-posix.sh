#!/bin/bash
# bench-posix.sh - make bench's posix/ as a program's /dev/shm: each
# workload runs in a mount namespace of its own where /dev/shm is, in
# turn, the real tmpfs, shmfs's posix/ bound over it, and (for the
# create/remove cycle) libfuse's passthrough_hp over a tmpfs, the best
# FUSE peer.  Runs interleaved, medians; each figure is a ratio against
# tmpfs in the same run.  Then the FUSE requests one cycle costs (from
# the daemon's -d log), and dd of 512 MiB and 2 GiB through posix/.
# Asserts nothing.
#
#   bench-posix.sh SHMFS SHMCYCLE [PASSTHROUGH_HP]
set -eu
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bin=${1:-build/shmfs}
cyc=$(realpath "${2:-build/shmcycle}")
hp=${3:-}
runs=${SHMFS_POSIX_RUNS:-5}
n=${SHMFS_POSIX_CYCLES:-5000}
tmp=$(mktemp -d /tmp/shmfs-posix.XXXXXX)
pids=()
cleanup() {
	for m in "$tmp/mnt" "$tmp/dbg" "$tmp/hp"; do
		fusermount3 -uz "$m" 2>/dev/null || true
	done
	if [ -d "$tmp/pg" ]; then
		su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $tmp/pg -m immediate stop" \
			>/dev/null 2>&1 || true
	fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	umount "$tmp/hpsrc" 2>/dev/null || true
	rm -f /dev/shm/shmcycle-* /dev/shm/shmfs-dd-*
	[ -n "${SHMFS_BENCH_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -m 755 "$tmp/mnt" "$tmp/dbg" "$tmp/hp" "$tmp/hpsrc"
"$bin" -f "$tmp/mnt" >>"$tmp/log" 2>&1 &
pids+=($!)
wait_mount "$tmp/mnt"
if [ -n "$hp" ] && [ -x "$hp" ]; then
	mount -t tmpfs -o mode=1777 tmpfs "$tmp/hpsrc"
	"$hp" --foreground -o allow_other "$tmp/hpsrc" "$tmp/hp" \
		>>"$tmp/hp.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		grep -q " $tmp/hp " /proc/self/mounts && break
		sleep 0.05
	done
else
	hp=
fi

# within DIR CMD...: CMD with DIR bound over /dev/shm, in a mount namespace
# of its own.
within() {
	# shellcheck disable=SC2016 # (expanded by the inner sh)
	unshare -m --propagation private sh -c \
		'mount --bind "$0" /dev/shm && exec "$@"' "$@"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }

# row NAME TARGETS CMD...: CMD's rate (the last number it prints) in
# each target (tmpfs, shmfs, hp), interleaved, and the medians' ratios.
row() {
	local name=$1 targets=$2 t
	shift 2
	for t in $targets; do : >"$tmp/r.$t"; done
	for _ in $(seq "$runs"); do
		for t in $targets; do
			case $t in
			tmpfs) d=/dev/shm ;;
			shmfs) d=$tmp/mnt/posix ;;
			hp) d=$tmp/hp ;;
			esac
			within "$d" "$@" 2>>"$tmp/stderr" | tail -n 1 >>"$tmp/r.$t"
		done
	done
	local tm sm hm line
	tm=$(median <"$tmp/r.tmpfs")
	sm=$(median <"$tmp/r.shmfs")
	line=$(printf '%-42s %10s %10s %8s' "$name" "$tm" "$sm" "$(ratio "$sm" "$tm")")
	if [[ " $targets " == *" hp "* ]]; then
		hm=$(median <"$tmp/r.hp")
		line+=$(printf ' %10s %8s %10s' "$hm" "$(ratio "$hm" "$tm")" "$(ratio "$sm" "$hm")")
	fi
	echo "$line"
}

echo
echo "== posix/ as /dev/shm: rates a second (medians of $runs, interleaved), ratio against tmpfs"
printf '%-42s %10s %10s %8s %10s %8s %10s\n' workload tmpfs shmfs x "peer" x "shmfs/peer"
cycle_targets="tmpfs shmfs${hp:+ hp}"
row "create/remove cycle (4 KiB)" "$cycle_targets" "$cyc" shm "$n"
row "sem_open/post/wait/close/unlink" "tmpfs shmfs" "$cyc" sem "$n"
row "multiprocessing.shared_memory" "tmpfs shmfs" python3 -c '
import sys, time
from multiprocessing import shared_memory as s
n = int(sys.argv[1]); t = time.time()
for i in range(n):
    a = s.SharedMemory(create=True, size=4096)
    b = s.SharedMemory(name=a.name); b.buf[0] = 1; b.close()
    a.close(); a.unlink()
print(round(n / (time.time() - t)))' "$((n / 5))"

# PyTorch's DataLoader: batches of 32 3x224x224 tensors made by worker
# processes and handed over in shared memory (file_descriptor: a
# descriptor per batch; file_system: a /dev/shm name per batch).
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	for w in 2 4; do
		for strat in file_descriptor file_system; do
			row "torch DataLoader $w workers $strat" "tmpfs shmfs" \
				/usr/bin/python3 -W ignore -c '
import sys, time, torch
from torch.utils.data import DataLoader, Dataset
torch.multiprocessing.set_sharing_strategy(sys.argv[2])
class D(Dataset):
    def __len__(self): return 32 * 40
    def __getitem__(self, i): return torch.full((3, 224, 224), float(i % 7))
l = DataLoader(D(), batch_size=32, num_workers=int(sys.argv[1]))
t = time.time(); k = 0
for b in l: k += b.shape[0]
print(round(k / (time.time() - t)))' "$w" "$strat"
		done
	done
else
	echo "(no python3-torch: the DataLoader rows are left out)"
fi

# PostgreSQL 15 with dynamic_shared_memory_type=posix: queries forced
# parallel (a DSM segment per query) and pgbench -S, transactions a
# second.
pgbin=/usr/lib/postgresql/15/bin
if [ -x "$pgbin/initdb" ] && id postgres >/dev/null 2>&1; then
	mkdir -p "$tmp/pg" "$tmp/pgsock"
	chown postgres "$tmp/pg" "$tmp/pgsock"
	chmod 755 "$tmp"
	su postgres -c "$pgbin/initdb -D $tmp/pg -A trust" >/dev/null
	cat >>"$tmp/pg/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$tmp/pgsock'
dynamic_shared_memory_type = posix
shared_memory_type = mmap
max_parallel_workers_per_gather = 2
EOF
	cat >"$tmp/par.sql" <<'EOF'
set force_parallel_mode = on;
set parallel_setup_cost = 0;
set parallel_tuple_cost = 0;
set min_parallel_table_scan_size = 0;
select count(*) from pgbench_accounts where abalance = 0;
EOF
	chmod 644 "$tmp/par.sql"
	# pg DIR KIND: the server started with DIR as its /dev/shm, a run
	# of KIND (par, select), its transactions a second; stopped.
	pg() {
		within "$1" su postgres -c "$pgbin/pg_ctl -D $tmp/pg -l $tmp/pgsock/log -w start" >/dev/null
		if [ ! -e "$tmp/pg.init" ]; then
			su postgres -c "/usr/bin/pgbench -h $tmp/pgsock -i -q -s 2 postgres" >/dev/null 2>&1
			: >"$tmp/pg.init"
		fi
		if [ "$2" = par ]; then
			su postgres -c "/usr/bin/pgbench -h $tmp/pgsock -n -T 5 -f $tmp/par.sql postgres" 2>/dev/null
		else
			su postgres -c "/usr/bin/pgbench -h $tmp/pgsock -n -S -T 5 postgres" 2>/dev/null
		fi | awk '/^tps/ { printf "%.0f\n", $3 }'
		su postgres -c "$pgbin/pg_ctl -D $tmp/pg -w stop" >/dev/null
	}
	for kind in par select; do
		: >"$tmp/pg.tmpfs"; : >"$tmp/pg.shmfs"
		for _ in $(seq 3); do
			pg /dev/shm "$kind" >>"$tmp/pg.tmpfs"
			pg "$tmp/mnt/posix" "$kind" >>"$tmp/pg.shmfs"
		done
		tm=$(median <"$tmp/pg.tmpfs")
		sm=$(median <"$tmp/pg.shmfs")
		name="postgres forced-parallel queries"
		[ "$kind" = select ] && name="postgres pgbench -S"
		printf '%-42s %10s %10s %8s\n' "$name" "$tm" "$sm" "$(ratio "$sm" "$tm")"
	done
else
	echo "(no postgresql-15: the PostgreSQL rows are left out)"
fi

# The requests one create/remove cycle costs: a daemon of its own with
# libfuse's -d log, 200 cycles, requests by opcode per cycle.
"$bin" -f -d "$tmp/dbg" 2>"$tmp/dbg.log" &
pids+=($!)
wait_mount "$tmp/dbg"
sleep 0.5
before=$(grep -c 'opcode:' "$tmp/dbg.log" || true)
within "$tmp/dbg/posix" "$cyc" shm 200 >/dev/null
sleep 0.5
echo
echo "== FUSE requests in one create/remove cycle through posix/ (200 cycles)"
tail -n +"$((before + 1))" "$tmp/dbg.log" | grep -o 'opcode: [A-Z_]*' |
	grep -v 'opcode: INIT' |
	awk '{ c[$2]++; t++ } END { for (o in c) printf "  %-12s %.2f\n", o, c[o] / 200; printf "  %-12s %.2f\n", "total", t / 200 }' |
	sort -k2 -nr
fusermount3 -u "$tmp/dbg"

# Bytes: dd of 512 MiB and 2 GiB, written then read, in /dev/shm and
# through posix/ (MB/s, medians of 3, interleaved).
dd_rate() { # dd_rate PATH MIB write|read
	local t0 t1
	t0=$(date +%s.%N)
	if [ "$3" = write ]; then
		dd if=/dev/zero of="$1" bs=1M count="$2" status=none
	else
		dd if="$1" of=/dev/null bs=1M status=none
	fi
	t1=$(date +%s.%N)
	awk -v m="$2" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", m / (b - a) }'
}
if ! grep -q " $tmp/mnt " /proc/self/mounts; then
	echo "bench: the shmfs daemon is gone:" >&2
	cat "$tmp/log" >&2
	exit 1
fi
echo
echo "== bytes: dd through posix/ against /dev/shm, MiB/s (medians of 3, interleaved)"
printf '%-42s %10s %10s %8s\n' "" tmpfs shmfs x
# (A virtual machine's first touch of memory it has not used yet is
# slow: one round of each, not counted, first; then the order alternates.)
for mib in 512 2048; do
	dd_rate /dev/shm/shmfs-dd-a "$mib" write >/dev/null
	dd_rate "$tmp/mnt/posix/shmfs-dd-b" "$mib" write >/dev/null
	for op in write read; do
		: >"$tmp/dd.tmpfs"; : >"$tmp/dd.shmfs"
		for i in 1 2 3; do
			[ "$op" = write ] && rm -f /dev/shm/shmfs-dd-a /dev/shm/shmfs-dd-b
			if [ "$i" = 2 ]; then
				dd_rate "$tmp/mnt/posix/shmfs-dd-b" "$mib" "$op" >>"$tmp/dd.shmfs"
				dd_rate /dev/shm/shmfs-dd-a "$mib" "$op" >>"$tmp/dd.tmpfs"
			else
				dd_rate /dev/shm/shmfs-dd-a "$mib" "$op" >>"$tmp/dd.tmpfs"
				dd_rate "$tmp/mnt/posix/shmfs-dd-b" "$mib" "$op" >>"$tmp/dd.shmfs"
			fi
		done
		tm=$(median <"$tmp/dd.tmpfs")
		sm=$(median <"$tmp/dd.shmfs")
		printf '%-42s %10s %10s %8s\n' "dd $op $mib MiB" "$tm" "$sm" "$(ratio "$sm" "$tm")"
	done
	rm -f /dev/shm/shmfs-dd-a /dev/shm/shmfs-dd-b
done
