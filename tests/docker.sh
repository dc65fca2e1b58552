#!/bin/sh
# docker.sh - shmfs against a real Docker engine (TAP).  Containers of the
# locally made Debian 12 image (tools/image.sh), each removed however the
# test ends; the host mount under SHMFS_TEST_ROOT, unmounted on any exit.
#   --all-namespaces: every running container appears in ns/ and in
#   ns/by-container/ under the id docker ps prints, and in ns/by-name/
#   under its name; --ipc=shareable and
#   --ipc=container:NAME are one namespace; --shm-size shows as the size
#   of its posix/ (df); a segment made inside (ipcmk, a file in /dev/shm)
#   is seen, read and removed from the host, and the container's own ipcs
#   agrees; a stopped container's namespace goes.
#   The README's volume: a container given the mount's parent with
#   -v DIR:/mnt:rslave lists, reads, writes and removes the host's
#   segments with the kernel's permission rules, and keeps the mount
#   across a restart of the host's daemon (stop and start, kill -9 and
#   start): the new mount, never "Transport endpoint is not connected";
#   a mapping through it is the segment's own memory (atomic adds from
#   the container and from the host add up exactly).
#   Creators run by docker exec that exit at once keep their command line
#   and the container's id and name, with an events line each; a segment
#   leaked by a container on the host's IPC namespace keeps them after the
#   container is removed.
set -u
# shellcheck source=tests/docker-lib.sh
. "$(dirname "$0")/docker-lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${SHMFS_BIN:-$top/build/shmfs}
root=${SHMFS_TEST_ROOT:-/tmp}
tmp=$(mktemp -d "$root/docker.XXXXXX")
hostdir=$tmp/hostdir
mnt=$hostdir/shm
tag=shmfs-test-$$
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$tmp/err" 2>/dev/null; }
cleanup() {
	docker rm -f "$tag-a" "$tag-b" "$tag-c" "$tag-v" "$tag-h" >/dev/null 2>&1
	[ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon"
	fusermount3 -uz "$mnt" 2>/dev/null
	[ -n "${bound:-}" ] && umount -l "$hostdir" 2>/dev/null
	for s in ${hostseg:-} ${rootseg:-} ${gone:-} ${addseg:-} ${leak:-}; do ipcrm -m "$s" 2>/dev/null; done
	rm -f "/dev/shm/shmfs-docker-add-$$" "/dev/shm/shmfs-docker-leak-$$"
	rm -rf "$tmp"
}
trap cleanup EXIT
# A signal (a closed pipe, ^C) ends the test through the same cleanup.
trap 'exit 1' INT TERM HUP PIPE
echo "1..15"
if ! docker info >/dev/null 2>&1; then
	for t in Docker.ContainersInNs Docker.SharedIpcIsOneNamespace Docker.ByName Docker.ShmSizeIsPosixSize Docker.SegmentsMadeInside Docker.IpcsAgrees Docker.PerNamespaceMetrics Docker.StoppedContainerGoes Docker.Volume Docker.VolumePermissions Docker.VolumeAcrossRestarts Docker.VolumeMappingIsTheSegment Docker.LeakAutopsy Docker.LeakOutlivesItsContainer; do
		n=$((n + 1))
		echo "ok $n - $t # SKIP no-docker: no Docker engine answers on its socket"
	done
	exit 0
fi
image=$("$top/tools/image.sh" "$top/build" 2>"$tmp/err") || { echo "Bail out! no image: $(cat "$tmp/err")"; exit 1; }
docker run -d --name "$tag-a" --ipc=shareable --shm-size=256m "$image" sleep 600 >/dev/null 2>"$tmp/err" &&
	docker run -d --name "$tag-b" --ipc="container:$tag-a" "$image" sleep 600 >/dev/null 2>>"$tmp/err" &&
	docker run -d --name "$tag-c" "$image" sleep 600 >/dev/null 2>>"$tmp/err"
[ -n "$(docker ps -q -f name="$tag-c")" ] || { echo "Bail out! docker run: $(cat "$tmp/err")"; exit 1; }
mkdir -p "$mnt"
shared_dir "$hostdir"
start_daemon() {
	timeout -k 5 300 "$bin" -f --all-namespaces "$mnt" 2>>"$tmp/log" &
	daemon=$!
	for _ in $(seq 50); do mountpoint -q "$mnt" && break; sleep 0.1; done
}
start_daemon
short() { docker inspect -f '{{.Id}}' "$1" | cut -c1-12; }
ns_of() { readlink "$mnt/ns/by-container/$(short "$1")" | sed 's|^\.\./||'; }
pid_ns() { stat -L -c %i "/proc/$(docker inspect -f '{{.State.Pid}}' "$1")/ns/ipc"; }

# 1. Every container, under docker ps's id, links to its namespace.
: >"$tmp/err"
for c in a b c; do
	id=$(short "$tag-$c")
	got=$(ns_of "$tag-$c")
	want=$(pid_ns "$tag-$c")
	[ "$got" = "$want" ] && [ -d "$mnt/ns/$want/sysv" ] ||
		echo "$tag-$c ($id): ns/by-container -> '$got', its ipc ns is $want" >>"$tmp/err"
	docker ps --no-trunc -q | grep -q "^$id" || echo "$id not in docker ps" >>"$tmp/err"
done
if [ ! -s "$tmp/err" ]; then ok "every container is in ns/by-container under docker ps's id"; else notok "every container is in ns/by-container under docker ps's id"; fi

# 2. --ipc=container:A is A's namespace; C has its own.
a=$(ns_of "$tag-a") b=$(ns_of "$tag-b") c=$(ns_of "$tag-c")
echo "a=$a b=$b c=$c" >"$tmp/err"
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ]; then ok "--ipc=shareable and --ipc=container:NAME are one namespace"; else notok "--ipc=shareable and --ipc=container:NAME are one namespace"; fi

# 3. By name, from the engine's API: ns/by-name/NAME for every container
# docker ps names, and the namespace's user.shm.ns.container.name (its
# lowest pid's container).  Names are asked of the engine in the
# background: within a few seconds.
what="ns/by-name/NAME and user.shm.ns.container.name give docker ps's names"
for _ in $(seq 50); do
	[ -L "$mnt/ns/by-name/$tag-c" ] && [ -L "$mnt/ns/by-name/$tag-b" ] && break
	sleep 0.1
done
: >"$tmp/err"
for x in "a $a" "b $a" "c $c"; do
	name=$tag-${x%% *} want=../${x#* }
	docker ps --format '{{.Names}}' | grep -qx "$name" || echo "$name not in docker ps" >>"$tmp/err"
	got=$(readlink "$mnt/ns/by-name/$name")
	[ "$got" = "$want" ] || echo "ns/by-name/$name -> '$got', want $want" >>"$tmp/err"
done
for x in "$a $tag-a" "$c $tag-c"; do
	got=$(getfattr --only-values -n user.shm.ns.container.name "$mnt/ns/${x% *}" 2>/dev/null)
	[ "$got" = "${x#* }" ] || echo "ns/${x% *}: user.shm.ns.container.name '$got', want ${x#* }" >>"$tmp/err"
done
if [ ! -s "$tmp/err" ]; then ok "$what"; else notok "$what"; fi

# 4. --shm-size=256m is the size of that namespace's posix/.
size=$(df -B1 --output=size "$mnt/ns/$a/posix" 2>"$tmp/err" | tail -1 | tr -d ' ')
inside=$(docker exec "$tag-a" df -B1 --output=size /dev/shm | tail -1 | tr -d ' ')
echo "df through the mount: $size, inside: $inside" >>"$tmp/err"
if [ "$size" = 268435456 ] && [ "$size" = "$inside" ]; then ok "--shm-size=256m: df of ns/INODE/posix is 256 MiB, as inside"; else notok "--shm-size=256m: df of ns/INODE/posix is 256 MiB, as inside"; fi

# 5. Made inside, seen, read and removed from the host.
id=$(docker exec "$tag-a" ipcmk -M 4096 2>"$tmp/err" | awk '{print $NF}')
docker exec "$tag-b" sh -c 'printf hello >/dev/shm/shmfs-test-x' 2>>"$tmp/err"
sleep 0.6 # past the attribute and listing bounds
if [ -n "$id" ] && [ -f "$mnt/ns/$a/sysv/$id" ] &&
	[ "$(stat -c %s "$mnt/ns/$a/sysv/$id")" = 4096 ] &&
	[ "$(cat "$mnt/ns/$a/posix/shmfs-test-x")" = hello ] &&
	[ ! -e "$mnt/ns/$c/sysv/$id" ] &&
	rm "$mnt/ns/$a/sysv/$id" "$mnt/ns/$a/posix/shmfs-test-x" 2>>"$tmp/err" &&
	! docker exec "$tag-a" ipcs -m | awk '{print $2}' | grep -qx "$id" &&
	! docker exec "$tag-b" test -e /dev/shm/shmfs-test-x; then
	ok "a segment and a /dev/shm file made inside are seen, read and removed from the host"
else
	notok "a segment and a /dev/shm file made inside are seen, read and removed from the host"
fi

# 6. ns/INODE/sysv is what the container's own ipcs -m shows.
docker exec "$tag-c" ipcmk -M 8192 >/dev/null 2>&1
docker exec "$tag-c" ipcmk -M 12288 >/dev/null 2>&1
sleep 0.6
docker exec "$tag-c" ipcs -m | awk '$2 ~ /^[0-9]+$/ {print $2, $5}' | sort >"$tmp/inside"
for f in "$mnt/ns/$c/sysv"/*; do
	[ -f "$f" ] && echo "$(basename "$f") $(stat -c %s "$f")"
done | sort >"$tmp/host"
diff "$tmp/inside" "$tmp/host" >"$tmp/err"
if [ -s "$tmp/inside" ] && [ ! -s "$tmp/err" ]; then ok "ns/INODE/sysv of a container is its own ipcs -m (ids and sizes)"; else notok "ns/INODE/sysv of a container is its own ipcs -m (ids and sizes)"; fi

# 7. shmfs.prom has one series set per namespace, labelled with its
# container, equal to what the container itself shows; promtool takes it.
prom=$mnt/shmfs.prom
cp "$prom" "$tmp/prom"
val() { sed -n "s/^$1{ns=\"$2\",container=\"\([0-9a-f]*\)\"${3:-}} \([0-9]*\)\$/\1 \2/p" "$tmp/prom"; }
ida=$(docker inspect -f '{{.Id}}' "$tag-a") idb=$(docker inspect -f '{{.Id}}' "$tag-b") idc=$(docker inspect -f '{{.Id}}' "$tag-c")
{
	echo "size a: $(val shmfs_namespace_posix_size_bytes "$a")"
	echo "segments c: $(val shmfs_namespace_sysv_segments "$c")"
	echo "bytes c: $(val shmfs_namespace_sysv_bytes "$c")"
	echo "unused c: $(val shmfs_namespace_unused_segments "$c" ',kind="sysv"')"
} >"$tmp/err"
size_a=$(val shmfs_namespace_posix_size_bytes "$a")
if { [ "$size_a" = "$ida 268435456" ] || [ "$size_a" = "$idb 268435456" ]; } &&
	[ "$(val shmfs_namespace_sysv_segments "$c")" = "$idc 2" ] &&
	[ "$(val shmfs_namespace_sysv_bytes "$c")" = "$idc 20480" ] &&
	[ "$(val shmfs_namespace_unused_segments "$c" ',kind="sysv"')" = "$idc 2" ] &&
	promtool check metrics <"$tmp/prom" >>"$tmp/err" 2>&1; then
	ok "shmfs.prom: per-namespace series with the container's id, as inside; promtool check metrics"
else
	notok "shmfs.prom: per-namespace series with the container's id, as inside; promtool check metrics"
fi

# 8. docker stop: the namespace goes within the listing bound, and its
# series with it.
docker rm -f "$tag-c" >/dev/null 2>&1
gone=no
for _ in $(seq 30); do
	[ -e "$mnt/ns/$c" ] || { gone=yes; break; }
	sleep 0.1
done
echo "ns/$c still listed 3 s after the container went" >"$tmp/err"
if [ "$gone" = yes ] && ! grep -q "ns=\"$c\"" "$mnt/shmfs.prom"; then ok "a removed container's namespace leaves ns/ and shmfs.prom"; else notok "a removed container's namespace leaves ns/ and shmfs.prom"; fi

# 9-11. The README's volume: the mount's parent, :rslave, in a container
# started while the daemon serves.
hostseg=$(ipcmk -M 4096 -p 0666 | awk '{print $NF}')
rootseg=$(ipcmk -M 4096 -p 0600 | awk '{print $NF}')
gone=$(ipcmk -M 4096 -p 0600 | awk '{print $NF}')
sleep 0.6
docker run -d --name "$tag-v" -v "$hostdir:/mnt:rslave" "$image" sleep 600 >/dev/null 2>"$tmp/err"
in_v() { docker exec "$tag-v" sh -c "$1" 2>&1; }
exists() { awk -v id="$1" '$2 == id { f = 1 } END { exit !f }' /proc/sysvipc/shm; }
# What the segment holds, read natively (shmat).
native() {
	python3 -c "
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
p = libc.shmat(int(sys.argv[1]), None, 0o10000)
sys.stdout.write(ctypes.string_at(p, int(sys.argv[2])).decode())" "$1" "$2"
}
out=$(in_v "ls /mnt/shm/sysv | grep -x $hostseg; stat -c %s /mnt/shm/sysv/$hostseg;
	printf 'from the container' >/mnt/shm/sysv/$hostseg; rm /mnt/shm/sysv/$gone && echo removed")
echo "got: $out; natively: $(native "$hostseg" 18)" >"$tmp/err"
if [ "$out" = "$hostseg
4096
removed" ] && [ "$(native "$hostseg" 18)" = "from the container" ] &&
	! exists "$gone"; then
	ok "docker run -v DIR:/mnt:rslave lists, reads, writes and removes the host's segments"
else
	notok "docker run -v DIR:/mnt:rslave lists, reads, writes and removes the host's segments"
fi
out=$(docker run --rm --user 65534:65534 -v "$hostdir:/mnt:rslave" "$image" sh -c \
	"cat /mnt/shm/sysv/$rootseg >/dev/null; rm /mnt/shm/sysv/$rootseg; cat /mnt/shm/sysv/$hostseg" 2>&1)
echo "got: $out" >"$tmp/err"
if [ "$out" = "cat: /mnt/shm/sysv/$rootseg: Permission denied
rm: cannot remove '/mnt/shm/sysv/$rootseg': Operation not permitted
from the container" ] && exists "$rootseg"; then
	ok "a container user gets EACCES and EPERM where shmat and IPC_RMID would refuse"
else
	notok "a container user gets EACCES and EPERM where shmat and IPC_RMID would refuse"
fi
# The host's daemon restarted under the running container: stopped and
# started, then killed (its mount left dead) and started.
r=0
for how in TERM KILL; do
	# $daemon is timeout's pid: the daemon is its child.
	kill -"$how" "$(pgrep -P "$daemon")"
	{ wait "$daemon"; } 2>/dev/null
	start_daemon
	seen=$(in_v "cat /mnt/shm/sysv/$hostseg | head -c 18")
	echo "after SIG$how: $seen" >>"$tmp/err"
	[ "$seen" = "from the container" ] || r=1
done
if [ $r = 0 ]; then ok "the host's daemon stopped or killed and started again: a running container reads the new mount"; else notok "the host's daemon stopped or killed and started again: a running container reads the new mount"; fi

# 12. A mapping through the volume is the segment's own memory (the
# passthrough path): atomic adds from the container, through the mount,
# and from the host, natively, at the same time, add up exactly.  The
# adder is built static: the image has no compiler.
what="a mapping through the volume is the segment's own memory: atomic adds from the container and the host add up"
addseg=$(ipcmk -M 4096 -p 0600 | awk '{print $NF}')
addobj=shmfs-docker-add-$$
head -c 4096 /dev/zero >"/dev/shm/$addobj"
sleep 0.6 # the kernel's cached listing (-o timeout) has it
io=$(getfattr --only-values -n user.shm.io "$mnt/sysv/$addseg" 2>"$tmp/err")
if [ "$io" != passthrough ]; then
	n=$((n + 1))
	echo "ok $n - $what # SKIP no-passthrough: the mount serves it on the $io path"
elif ! cc -static -O2 -o "$tmp/atomic_add" "$top/tests/atomic_add.c" 2>"$tmp/err" ||
	! docker cp "$tmp/atomic_add" "$tag-v:/atomic_add" 2>>"$tmp/err"; then
	notok "$what"
else
	: >"$tmp/err"
	adds=3000000
	for pair in "/mnt/shm/sysv/$addseg shm:$addseg" "/mnt/shm/posix/$addobj /dev/shm/$addobj"; do
		inside=${pair% *} host=${pair#* }
		in_v "/atomic_add $inside $adds" >"$tmp/in" &
		p=$!
		"$tmp/atomic_add" "$host" "$adds" after >/dev/null
		wait "$p"
		total=$("$tmp/atomic_add" "$host" 1)
		[ "$total" = $((2 * adds + 1)) ] ||
			echo "$inside: $total after 2 x $adds adds and 1 (container said: $(cat "$tmp/in"))" >>"$tmp/err"
	done
	if [ ! -s "$tmp/err" ]; then ok "$what"; else notok "$what"; fi
fi

# 13. Leak autopsy against the real engine: creators run by docker exec
# that exit at once.  Each segment keeps its creator's command line and the
# container's id after the creator has gone (or is counted missed), and
# the events file has a create line for each, with that container.
what="short-lived creators in a container: their command line and container kept, an events line each"
missed0=$(awk '/^shmfs_creators_missed_total / { print $2 }' "$mnt/shmfs.prom")
: >"$tmp/err"
: >"$tmp/made"
for i in 1 2 3 4 5 6 7 8 9 10; do
	sid=$(docker exec "$tag-a" perl -e 'print shmget(0, 4096, 0600|01000)' "autopsy-$i" 2>>"$tmp/err")
	echo "$sid autopsy-$i" >>"$tmp/made"
done
sleep 1.5 # the watcher's look at the namespaces, and its window
kept=0
while read -r sid t; do
	f=$mnt/ns/$a/sysv/$sid
	cmd=$(getfattr --absolute-names --only-values -n user.shm.command "$f" 2>>"$tmp/err")
	ctr=$(getfattr --absolute-names --only-values -n user.shm.creator.container "$f" 2>>"$tmp/err")
	ctrname=$(getfattr --absolute-names --only-values -n user.shm.creator.container.name "$f" 2>>"$tmp/err")
	grep -q "\"event\":\"create\",\"kind\":\"sysv\",\"ns\":$a,\"container\":\"$ida\",\"name\":\"$sid\"" "$mnt/events" ||
		echo "no events line for $sid in the container $ida" >>"$tmp/err"
	[ -z "$cmd" ] && continue
	kept=$((kept + 1))
	[ "$cmd" = "perl -e print shmget(0, 4096, 0600|01000) $t" ] || echo "$sid: command '$cmd'" >>"$tmp/err"
	[ "$ctr" = "$ida" ] || echo "$sid: creator.container '$ctr', not $ida" >>"$tmp/err"
	[ "$ctrname" = "$tag-a" ] || echo "$sid: creator.container.name '$ctrname', not $tag-a" >>"$tmp/err"
done <"$tmp/made"
missed=$(($(awk '/^shmfs_creators_missed_total / { print $2 }' "$mnt/shmfs.prom") - missed0))
source=ebpf
grep -qx 'shmfs_watch_source{source="ebpf"} 1' "$mnt/shmfs.prom" || source=proc
echo "# $kept of 10 creators kept, $missed counted missed (source $source)"
[ $((kept + missed)) = 10 ] || echo "$kept kept + $missed missed is not 10" >>"$tmp/err"
# Where the kernel names them (eBPF), every one.
[ $source = proc ] || [ $kept = 10 ] || echo "source ebpf: $kept of 10 kept" >>"$tmp/err"
if [ ! -s "$tmp/err" ]; then ok "$what"; else notok "$what"; fi

# 14. A leak traced to its container after the container is gone (the
# README's example): a container on the host's IPC namespace (--ipc=host)
# makes a segment and a POSIX object and is removed; they stay in the
# host's sysv/ and posix/ (ipcs still lists the segment, lsipc no longer
# knows its command) and keep their creator's command line, the
# container's id and the container's name.
what="a leak outlives its container: its command line, container id and name kept after docker rm"
: >"$tmp/err"
docker run -d --name "$tag-h" --ipc=host "$image" sleep 600 >/dev/null 2>>"$tmp/err"
idh=$(docker inspect -f '{{.Id}}' "$tag-h" 2>>"$tmp/err")
leak=$(docker exec "$tag-h" perl -e 'print shmget(0, 4096, 0600|01000)' leak 2>>"$tmp/err")
# A POSIX object too: the host's /dev/shm is the container's (its maker
# is known where fanotify reports it, Linux 6.7 and later).
leakobj=shmfs-docker-leak-$$
docker exec "$tag-h" perl -e 'open F, ">/dev/shm/" . shift' "$leakobj" 2>>"$tmp/err"
sleep 2.5 # the watcher's window, and the engine asked for the new name
docker rm -f "$tag-h" >/dev/null 2>>"$tmp/err"
f=$mnt/sysv/$leak
cmd=$(getfattr --absolute-names --only-values -n user.shm.command "$f" 2>>"$tmp/err")
ctr=$(getfattr --absolute-names --only-values -n user.shm.creator.container "$f" 2>>"$tmp/err")
ctrname=$(getfattr --absolute-names --only-values -n user.shm.creator.container.name "$f" 2>>"$tmp/err")
echo "segment '$leak': command '$cmd', container '$ctr' (want $idh), name '$ctrname'" >>"$tmp/err"
ipcs -m | awk '{ print $2 }' | grep -qx "$leak" || echo "ipcs does not list $leak" >>"$tmp/err"
[ "$(lsipc -m -i "$leak" -n -o COMMAND 2>&1)" = 'COMMAND=""' ] || echo "lsipc: $(lsipc -m -i "$leak" -n -o COMMAND 2>&1)" >>"$tmp/err"
grep -q "\"event\":\"create\",\"kind\":\"sysv\",\"ns\":[0-9]*,\"container\":\"$idh\",\"name\":\"$leak\"" "$mnt/events" ||
	echo "no events line for $leak in $idh" >>"$tmp/err"
if [ "$(uname -r | awk -F. '{ print ($1 > 6 || ($1 == 6 && $2 >= 7)) }')" = 1 ]; then
	o=$mnt/posix/$leakobj
	ocmd=$(getfattr --absolute-names --only-values -n user.shm.command "$o" 2>>"$tmp/err")
	octr=$(getfattr --absolute-names --only-values -n user.shm.creator.container "$o" 2>>"$tmp/err")
	oname=$(getfattr --absolute-names --only-values -n user.shm.creator.container.name "$o" 2>>"$tmp/err")
	[ "$ocmd" = "perl -e open F, \">/dev/shm/\" . shift $leakobj" ] && [ "$octr" = "$idh" ] && [ "$oname" = "$tag-h" ] ||
		echo "posix/$leakobj: command '$ocmd', container '$octr', name '$oname'" >>"$tmp/err"
fi
if [ -n "$leak" ] && [ -n "$idh" ] && [ "$cmd" = "perl -e print shmget(0, 4096, 0600|01000) leak" ] &&
	[ "$ctr" = "$idh" ] && [ "$ctrname" = "$tag-h" ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
	[ -z "$(docker ps -aq -f name="$tag-h")" ]; then
	ok "$what"
else
	notok "$what"
fi

# 15. Removers run by docker exec: an ipcrm of a segment and an rm of an
# object in the container's own /dev/shm, each named in its remove line
# with the container's id and name (where the kernel names removers).
what="removers in a container: docker exec ipcrm and rm named in their remove lines, with the container"
: >"$tmp/err"
if ! grep -qx 'shmfs_watch_source{source="ebpf"} 1' "$mnt/shmfs.prom"; then
	n=$((n + 1))
	echo "ok $n - $what # SKIP no-trace: the eBPF tracer is not loaded here"
else
	rsid=$(head -1 "$tmp/made" | cut -d' ' -f1)
	docker exec "$tag-a" perl -e 'open F, ">/dev/shm/rmme"' 2>>"$tmp/err"
	sleep 0.5
	docker exec "$tag-a" ipcrm -m "$rsid" 2>>"$tmp/err"
	docker exec "$tag-a" rm /dev/shm/rmme 2>>"$tmp/err"
	for i in $(seq 40); do
		[ "$(grep -c '"event":"remove".*"remover_container":"'"$ida"'"' "$mnt/events")" -ge 2 ] && break
		sleep 0.1
	done
	grep -q '"event":"remove","kind":"sysv","ns":'"$a"',"container":"'"$ida"'","name":"'"$rsid"'".*"remover_command":"ipcrm -m '"$rsid"'","remover_container":"'"$ida"'","remover_container_name":"'"$tag-a"'"' "$mnt/events" ||
		echo "no remove line naming docker exec's ipcrm of $rsid" >>"$tmp/err"
	grep -q '"event":"remove","kind":"posix","ns":'"$a"',.*"name":"rmme".*"remover_command":"rm /dev/shm/rmme","remover_container":"'"$ida"'","remover_container_name":"'"$tag-a"'"' "$mnt/events" ||
		echo "no remove line naming docker exec's rm of rmme" >>"$tmp/err"
	grep '"event":"remove"' "$mnt/events" | tail -3 >>"$tmp/err"
	if [ "$(grep -c '^no remove' "$tmp/err")" = 0 ]; then ok "$what"; else notok "$what"; fi
fi
