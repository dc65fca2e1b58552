#!/bin/bash
# bench-trace.sh - make bench's cost of naming who makes and removes each
# segment: a loop that makes and removes 20,000 objects (System V
# segments: shmget + IPC_RMID; POSIX objects: open O_CREAT + close +
# unlink in /dev/shm), timed with no shmfs mounted, with shmfs and its
# eBPF tracer (-o trace=on, the default) and with the tracer off
# (-o trace=off); and the daemon's CPU (watcher, tracer, everything) over
# the loop as a share of one core.  Runs interleaved, medians of 3.
# Asserts nothing.
set -eu
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bin=${1:-build/shmfs}
n=${SHMFS_TRACE_OBJECTS:-20000}
runs=${SHMFS_TRACE_RUNS:-3}
tmp=$(mktemp -d /tmp/shmfs-trace.XXXXXX)
dpid=
stats0=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
cleanup() {
	echo "$stats0" >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null || true
	fusermount3 -uz "$tmp/mnt" 2>/dev/null || true
	if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; fi
	rm -f /dev/shm/shmfs-trace-*
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir "$tmp/mnt"
# The kernel counts the time its BPF programs run (bpftool prog show).
echo 1 >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null || true
bpf_ns() {
	bpftool prog show 2>/dev/null | grep -E ' name (on_enter|on_exit) ' |
		grep -o 'run_time_ns [0-9]*' | awk '{ s += $2 } END { print s + 0 }'
}
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$dpid/stat"; }
# The loop of kind $1 (sysv, posix): its seconds.
loop() {
	perl -MTime::HiRes=time -e '
		my ($kind, $n) = @ARGV; my $t = time;
		if ($kind eq "sysv") {
			for (1..$n) { my $id = shmget(0, 4096, 0600|01000);
				die "shmget: $!" unless defined $id; shmctl($id, 0, 0); }
		} else {
			for (1..$n) { my $p = "/dev/shm/shmfs-trace-$_";
				open(my $f, ">", $p) or die "$p: $!"; close $f; unlink $p; }
		}
		printf "%.4f\n", time - $t;' "$1" "$n"
}
# One run of kind $1 with the daemon started with "$@" after it (none: no
# shmfs): "seconds cpu-share".
one() {
	local kind=$1 a b t
	shift
	if [ "$1" = none ]; then
		echo "$(loop "$kind") 0 0"
		return
	fi
	"$bin" -f "$@" "$tmp/mnt" >>"$tmp/log" 2>&1 &
	dpid=$!
	wait_mount "$tmp/mnt"
	sleep 1
	a=$(cpu)
	ba=$(bpf_ns)
	t=$(loop "$kind")
	bb=$(bpf_ns)
	sleep 0.5 # what the loop left for the watcher to see
	b=$(cpu)
	fusermount3 -u "$tmp/mnt"
	wait "$dpid" || true
	dpid=
	echo "$t $(awk -v a="$a" -v b="$b" -v t="$t" 'BEGIN { printf "%.4f", (b - a) / (t + 0.5) }') $(((bb - ba) / 1000))"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
echo "== who made and removed what: a loop making and removing $n objects (medians of $runs, interleaved)"
printf '%-6s %-10s %-10s %-8s %-10s %-8s %-11s %-12s %s\n' kind none traced xnone untraced xnone "bpf/loop" "cpu traced" "cpu untraced"
for kind in sysv posix; do
	: >"$tmp/none"; : >"$tmp/on"; : >"$tmp/off"
	for _ in $(seq "$runs"); do
		one "$kind" none >>"$tmp/none"
		one "$kind" -o trace=on >>"$tmp/on"
		one "$kind" -o trace=off >>"$tmp/off"
	done
	t0=$(cut -d' ' -f1 "$tmp/none" | median)
	t1=$(cut -d' ' -f1 "$tmp/on" | median)
	t2=$(cut -d' ' -f1 "$tmp/off" | median)
	c1=$(cut -d' ' -f2 "$tmp/on" | median)
	c2=$(cut -d' ' -f2 "$tmp/off" | median)
	us=$(cut -d' ' -f3 "$tmp/on" | median)
	printf '%-6s %-10s %-10s %-8s %-10s %-8s %-11s %-12s %s\n' "$kind" "${t0}s" "${t1}s" \
		"$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.3f", a / b }')" "${t2}s" \
		"$(awk -v a="$t2" -v b="$t0" 'BEGIN { printf "%.3f", a / b }')" \
		"$(awk -v u="$us" -v t="$t0" 'BEGIN { printf "%.1f%%", u / 1e6 / t * 100 }')" \
		"$(awk -v c="$c1" 'BEGIN { printf "%.1f%%", c * 100 }')" \
		"$(awk -v c="$c2" 'BEGIN { printf "%.1f%%", c * 100 }')"
done
grep -h "trace:" "$tmp/log" | sort -u | sed 's/^/# /'
echo "traced: the loop's time with shmfs and its tracer, xnone against no shmfs (goal <= 1.05);"
echo "bpf/loop: the time the kernel ran the tracer's programs (bpf_stats), against the loop without shmfs;"
echo "cpu: the daemon's CPU over the loop, share of one core (goal < 5% traced)"
