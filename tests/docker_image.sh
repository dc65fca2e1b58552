#!/bin/sh
# docker_image.sh - shmfs itself in a container, against a real Docker
# engine (TAP).  tools/Dockerfile is built for real, FROM Debian 12 images
# made locally from Debian's archive (tools/image.sh, tagged debian:12 and
# debian:12-slim for the build where the engine has no such image; the
# tags are removed again, the built image is kept as shmfs-test-build for
# the build cache); then, with a shared directory of the test's own in
# place of the host's /mnt (the mount at its shm/):
#   - the README's `docker run` serves the host's segments there (System V
#     through --ipc=host, POSIX through -v /dev/shm), on the passthrough
#     path;
#   - a container holding /mnt with :rslave keeps seeing the mount when
#     the daemon is killed (kill -9) and the restart policy brings it
#     back, and when it is stopped and started: the new mount, never
#     "Transport endpoint is not connected";
#   - docker stop leaves no mount behind;
#   - tools/docker-compose.yml: up serves the mount, its app lists the
#     host's segments, down leaves no mount.
# Every container is removed and every mount undone however it ends.
set -u
# shellcheck source=tests/docker-lib.sh
. "$(dirname "$0")/docker-lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
root=${SHMFS_TEST_ROOT:-/tmp}
tmp=$(mktemp -d "$root/dockerimg.XXXXXX")
hostdir=$tmp/hostdir
mnt=$hostdir/shm
tag=shmfs-test-$$
image=shmfs-test-build
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$tmp/err" 2>/dev/null; }
check() { if [ "$1" = 0 ]; then ok "$2"; else notok "$2"; fi; }
compose() {
	SHMFS_HOST_DIR=$hostdir SHMFS_IMAGE=$image SHMFS_APP_IMAGE=$base \
		$compose_cmd -f "$top/tools/docker-compose.yml" -p "$tag" "$@"
}
# The shmfs mounts at $mnt, innermost last.
shmfs_mounts() { awk -v m="$mnt" '$5 == m && $0 ~ / - fuse\.shmfs / { print $5 }' /proc/self/mountinfo; }
cleanup() {
	docker rm -f "$tag-d" "$tag-v" >/dev/null 2>&1
	[ -n "${compose_cmd:-}" ] && compose down -t 20 >/dev/null 2>&1
	for _ in 1 2 3 4; do
		[ -n "$(shmfs_mounts)" ] || break
		fusermount3 -uz "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
	done
	[ -n "${bound:-}" ] && umount -l "$hostdir" 2>/dev/null
	[ -n "${hostseg:-}" ] && ipcrm -m "$hostseg" 2>/dev/null
	rm -f /dev/shm/"$tag"
	for t in ${tagged:-}; do docker rmi "$t" >/dev/null 2>&1; done
	rm -rf "$tmp"
}
trap cleanup EXIT
# A signal (a closed pipe, ^C) ends the test through the same cleanup.
trap 'exit 1' INT TERM HUP PIPE
tests="Image.Build Image.ServesTheHost Image.KilledAndRestarted Image.StopLeavesNoMount Image.Compose"
echo "1..5"
if ! docker info >/dev/null 2>&1; then
	for t in $tests; do
		n=$((n + 1))
		echo "ok $n - $t # SKIP no-docker: no Docker engine answers on its socket"
	done
	exit 0
fi
if docker compose version >/dev/null 2>&1; then
	compose_cmd="docker compose"
elif command -v docker-compose >/dev/null 2>&1; then
	compose_cmd=docker-compose
else
	echo "Bail out! neither docker compose nor docker-compose (make deps installs docker-compose)"
	exit 1
fi
base=$("$top/tools/image.sh" "$top/build" 2>"$tmp/err") || { echo "Bail out! no image: $(cat "$tmp/err")"; exit 1; }
for t in debian:12 debian:12-slim; do
	if ! docker image inspect "$t" >/dev/null 2>&1; then
		docker tag "$base" "$t" && tagged="${tagged:-} $t"
	fi
done

# 1. The Dockerfile, as a user with a registry builds it.
timeout 1200 docker build -q -f "$top/tools/Dockerfile" -t "$image" "$top" >"$tmp/err" 2>&1
check $? "docker build -f tools/Dockerfile: an image with build/shmfs's daemon"

# The README's set-up, in a directory of our own.
mkdir -p "$mnt"
shared_dir "$hostdir"
served() {
	for _ in $(seq 100); do
		[ -n "$(shmfs_mounts)" ] && timeout 2 stat "$mnt/sysv" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
hostseg=$(ipcmk -M 4096 -p 0600 | awk '{print $NF}')
printf 'made on the host' >/dev/shm/"$tag"

# 2. docker run as the README says: the host's segments, passed through.
docker run -d --name "$tag-d" --restart unless-stopped \
	--device /dev/fuse --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
	--ipc=host -v /dev/shm:/dev/shm -v "$hostdir:/mnt:rshared" "$image" >/dev/null 2>"$tmp/err"
r=1
if served; then
	io=$(getfattr -n user.shm.io --only-values "$mnt/sysv/$hostseg" 2>>"$tmp/err")
	text=$(cat "$mnt/posix/$tag" 2>>"$tmp/err")
	size=$(stat -c %s "$mnt/sysv/$hostseg" 2>>"$tmp/err")
	echo "io=$io text=$text size=$size" >>"$tmp/err"
	[ "$io" = passthrough ] && [ "$text" = "made on the host" ] && [ "$size" = 4096 ] && r=0
else
	echo "no shmfs mount at $mnt: $(docker logs "$tag-d" 2>&1 | tail -3)" >>"$tmp/err"
fi
check $r "the README's docker run serves the host's System V and POSIX segments, passed through"

# 3. kill -9 of the daemon under a running consumer: the restart policy
# brings it back, and the consumer sees the new mount.
docker run -d --name "$tag-v" -v "$hostdir:/mnt:rslave" "$base" sleep 600 >/dev/null 2>"$tmp/err"
consumer_reads() {
	seen=""
	for _ in $(seq 50); do
		seen=$(docker exec "$tag-v" sh -c "cat /mnt/shm/posix/$tag; stat -c %s /mnt/shm/sysv/$hostseg" 2>&1) &&
			[ "$seen" = "made on the host4096" ] && return 0
		sleep 0.2
	done
	echo "the consumer read: $seen" >>"$tmp/err"
	return 1
}
r=1
before=$(docker inspect -f '{{.RestartCount}}' "$tag-d")
pid=$(docker inspect -f '{{.State.Pid}}' "$tag-d")
if [ "${pid:-0}" -gt 0 ] && kill -9 "$pid"; then
	for _ in $(seq 100); do
		[ "$(docker inspect -f '{{.RestartCount}} {{.State.Running}}' "$tag-d")" = "$((before + 1)) true" ] && break
		sleep 0.2
	done
	echo "restarts $before -> $(docker inspect -f '{{.RestartCount}} {{.State.Running}} {{.State.Error}}' "$tag-d")" >"$tmp/err"
	served && consumer_reads && r=0
fi
check $r "kill -9 of the daemon: restarted by the policy, a running consumer sees the new mount"

# 4. docker stop: the daemon exits 0 and unmounts; docker start: the
# consumer sees the new mount.
docker stop -t 20 "$tag-d" >/dev/null 2>"$tmp/err"
left=$(shmfs_mounts)
echo "shmfs mounts left at $mnt: ${left:-none}" >>"$tmp/err"
r=1
if [ -z "$left" ] && [ "$(docker inspect -f '{{.State.ExitCode}}' "$tag-d")" = 0 ] &&
	docker start "$tag-d" >/dev/null 2>>"$tmp/err" && served && consumer_reads; then
	r=0
fi
check $r "docker stop: exit 0 and no mount left; docker start: a running consumer sees the new mount"
docker rm -f "$tag-d" "$tag-v" >/dev/null 2>&1

# 5. The compose file: up serves, its app lists the host's segment, down
# leaves no mount.
r=1
if compose up -d shmfs >"$tmp/err" 2>&1 && served; then
	out=$(compose run --rm app 2>>"$tmp/err")
	echo "$out" >>"$tmp/err"
	if echo "$out" | grep -q " $hostseg\$"; then
		compose down -t 20 >>"$tmp/err" 2>&1
		left=$(shmfs_mounts)
		echo "shmfs mounts left after down: ${left:-none}" >>"$tmp/err"
		[ -z "$left" ] && r=0
	fi
fi
check $r "tools/docker-compose.yml: up serves the mount, app lists the host's segments, down unmounts"
