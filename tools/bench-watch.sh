#!/bin/bash
# bench-watch.sh - make bench's cost of the watcher (issue 21): the
# daemon's CPU while idle with 10,000 System V segments and 1,000 POSIX
# objects (nothing reads the mount), as a share of one core over 20 s, with
# the watcher on (default 100 ms rounds) and off (-o watch=0); then the
# window (shmfs_watch_interval_seconds) while segments churn.  Raises
# kernel.shmmni for the run and puts it back.  Everything it makes is
# removed after.  Asserts nothing.
set -eu
# shellcheck source=tools/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bin=${1:-build/shmfs}
n=${SHMFS_WATCH_SEGMENTS:-10000}
tmp=$(mktemp -d /tmp/shmfs-watch.XXXXXX)
mni=$(cat /proc/sys/kernel/shmmni)
dpid=
cleanup() {
	fusermount3 -uz "$tmp/mnt" 2>/dev/null || true
	if [ -n "$dpid" ]; then kill "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; fi
	if [ -s "$tmp/ids" ]; then perl -ne 'chomp; shmctl($_, 0, 0)' "$tmp/ids"; fi
	rm -f /dev/shm/shmfs-watch-*
	echo "$mni" >/proc/sys/kernel/shmmni
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
[ "$mni" -ge $((n + 100)) ] || echo $((n + 4096)) >/proc/sys/kernel/shmmni
perl -e 'for (1..$ARGV[0]) { my $id = shmget(0, 4096, 0600|01000); die "shmget: $!" if !defined $id; print "$id\n" }' "$n" >"$tmp/ids"
for i in $(seq 1000); do : >"/dev/shm/shmfs-watch-$i"; done
mkdir "$tmp/mnt"
# CPU seconds the daemon used (utime + stime) now.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$dpid/stat"; }
# CPU seconds the daemon's thread named $1 used now.
tcpu() {
	local t
	for t in /proc/"$dpid"/task/*; do
		[ "$(cat "$t/comm")" = "$1" ] || continue
		awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "$t/stat"
		return
	done
	echo 0
}
# Processes the host has forked since boot.
forks() { awk '/^processes / { print $2 }' /proc/stat; }
# Start the daemon with options "$@" (its output to the log: nothing may
# hold a pipe of ours open) and leave its pid in dpid.
start() {
	"$bin" -f "$@" "$tmp/mnt" >>"$tmp/log" 2>&1 &
	dpid=$!
	wait_mount "$tmp/mnt"
}
stop() {
	fusermount3 -u "$tmp/mnt"
	wait "$dpid" || true
	dpid=
}
# The daemon's CPU over 20 s of idle, as a share of one core, in idle_cpu.
idle() {
	local a b
	sleep 2
	a=$(cpu)
	sleep 20
	b=$(cpu)
	idle_cpu=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f%%", (b - a) / 20 * 100 }')
}
start
idle
on=$idle_cpu
rounds=$(awk '/^shmfs_watch_rounds_total / { print $2 }' "$tmp/mnt/shmfs.prom")
interval=$(awk '/^shmfs_watch_interval_seconds / { print $2 }' "$tmp/mnt/shmfs.prom")
stop
start -o watch=0
idle
off=$idle_cpu
stop
# The window while segments come and go (a round then reads the table
# whole), its largest value sampled each second, and the daemon's CPU.
start
sleep 2
a=$(cpu)
wa=$(tcpu shmfs-watch)
ea=$(tcpu shmfs-execs)
fa=$(forks)
end=$(($(date +%s) + 20))
churn=0
next=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
	id=$(ipcmk -M 4096 -p 0600 | awk '{print $NF}')
	ipcrm -m "$id"
	if [ "$(date +%s)" -ge "$next" ]; then
		next=$((next + 1))
		churn=$(awk -v m="$churn" '/^shmfs_watch_interval_seconds / { print ($2 > m ? $2 : m) }' "$tmp/mnt/shmfs.prom")
	fi
done
b=$(cpu)
share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f%%", (b - a) / 20 * 100 }'; }
churn_cpu=$(share "$a" "$b")
watch_cpu=$(share "$wa" "$(tcpu shmfs-watch)")
execs_cpu=$(share "$ea" "$(tcpu shmfs-execs)")
rate=$((($(forks) - fa) / 20))
stop
echo
echo "Watcher, $n System V segments and 1,000 POSIX objects, idle 20 s:"
echo "  daemon CPU, watcher on:  $on of a core ($rounds rounds, window ${interval} s)"
echo "  daemon CPU, -o watch=0:  $off of a core"
echo "Churn (a segment made and removed in a loop, 20 s):"
echo "  daemon CPU: $churn_cpu of a core: the watcher $watch_cpu, the process events $execs_cpu ($rate processes made a second), the rest serving this script's read of shmfs.prom each second"
echo "  largest window (shmfs_watch_interval_seconds, each second): ${churn} s"
