#!/bin/sh
# deb.sh - the Debian package: make deb builds it, lintian finds no error,
# and installed into a clean container of the locally made Debian 12 image
# (tools/image.sh) it works: shmfs --version, man -w shmfs, a mount inside
# the container (with /dev/fuse and CAP_SYS_ADMIN) that lists its kinds,
# and dpkg -r removes every file it installed (TAP).  The container is
# removed however the test ends.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
name=shmfs-test-deb-$$
trap 'docker rm -f "$name" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$tmp/err"; }

echo "1..3"
# (MAKEFLAGS cleared: a SANITIZE=1 check packages the plain build.)
if (cd "$top" && MAKEFLAGS='' MAKELEVEL='' SANITIZE='' make deb) >"$tmp/err" 2>&1 &&
	deb=$(ls "$top"/build/deb/shmfs_*.deb) && [ -s "$deb" ]; then
	ok "make deb builds $(basename "$deb")"
else
	notok "make deb"
	exit 1
fi
if lintian --fail-on error "$deb" >"$tmp/err" 2>&1; then
	ok "lintian: no errors"
else
	notok "lintian: no errors"
fi

if ! docker info >/dev/null 2>&1; then
	echo "ok 3 - Deb.InstalledInACleanContainer # SKIP no-docker: no Docker engine answers on its socket"
	exit 0
fi
image=$(MAKEFLAGS='' "$top/tools/image.sh" "$top/build" 2>"$tmp/err") || {
	notok "the Debian 12 image (tools/image.sh)"
	exit 1
}
cp "$deb" "$tmp/shmfs.deb"
cat >"$tmp/inside.sh" <<'INSIDE'
set -eu
dpkg -i /deb/shmfs.deb >/dev/null
dpkg -L shmfs | sort >/tmp/files
shmfs --version | head -1
man -w shmfs
lsshm --version
man -w lsshm
mkdir -p /mnt/shm
shmfs /mnt/shm
ls /mnt/shm | tr '\n' ' '; echo
id=$(ipcmk -M 4096 | awk '{print $NF}')
if [ "$(lsshm -n -r -o ID,SIZE -t sysv -b)" = "$id 4096" ]; then echo "lsshm = ipcmk"; else echo "lsshm: $(lsshm -r -t sysv)"; fi
umount /mnt/shm
dpkg -r shmfs >/dev/null
left=0
while read -r f; do
	if [ -f "$f" ] || { [ -L "$f" ] && [ ! -d "$f" ]; }; then echo "left: $f"; left=1; fi
done </tmp/files
echo "removed, left=$left"
INSIDE
timeout -k 5 120 docker run --name "$name" --rm --network none \
	--device /dev/fuse --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
	-v "$tmp:/deb:ro" "$image" sh /deb/inside.sh >"$tmp/out" 2>"$tmp/err"
rc=$?
version=$(sed -n 's/^#define SHMFS_VERSION "\(.*\)"$/\1/p' "$top/fs/shmfs.h")
printf '%s\n' "shmfs $version" /usr/share/man/man8/shmfs.8.gz \
	"lsshm from shmfs $version" /usr/share/man/man1/lsshm.1.gz \
	"events mapped posix segments shmfs.prom sysv unused " \
	"lsshm = ipcmk" "removed, left=0" >"$tmp/want"
if [ "$rc" = 0 ] && cmp -s "$tmp/out" "$tmp/want"; then
	ok "installed in a clean container: --version, man -w, a mount, lsshm, dpkg -r"
else
	{ echo "exit $rc"; diff "$tmp/want" "$tmp/out"; } >>"$tmp/err"
	notok "installed in a clean container: --version, man -w, a mount, lsshm, dpkg -r"
fi
