#!/bin/sh
# tools.sh - the deployment files in tools/ are valid and complete (TAP).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${SHMFS_BIN:-$top/build/shmfs}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; sed 's/^/#   /' "$tmp/err"; }
echo "1..3"

# The unit, pointed at this build, passes systemd's own checks silently.
sed "s|/usr/local/bin/shmfs|$bin|" "$top/tools/shmfs.service" >"$tmp/shmfs.service"
if systemd-analyze verify "$tmp/shmfs.service" >"$tmp/err" 2>&1 && [ ! -s "$tmp/err" ]; then
	ok "systemd-analyze verify tools/shmfs.service"
else
	notok "systemd-analyze verify tools/shmfs.service"
fi

# Its ExecStart line names options the daemon accepts.
opts=$(sed -n 's|^ExecStart=/usr/local/bin/shmfs \(.*\) /mnt/shm$|\1|p' "$top/tools/shmfs.service")
if [ "$opts" = "-f" ] && "$bin" --help >"$tmp/err" 2>&1 && grep -q -- "^    -f " "$tmp/err"; then
	ok "ExecStart options are shmfs options"
else
	notok "ExecStart options are shmfs options ($opts)"
fi

# The Dockerfile's build stage builds from exactly what it copies in.
mkdir "$tmp/src"
sed -n 's/^COPY \([^ -][^ ]*\) \([^ ]*\)$/\1 \2/p' "$top/tools/Dockerfile" |
	while read -r from to; do
		[ "$to" = ./ ] && to=$(basename "$from")
		mkdir -p "$(dirname "$tmp/src/$to")"
		cp -r "$top/$from" "$tmp/src/$to"
	done
# (MAKEFLAGS cleared: a SANITIZE=1 check must not leak into this build.)
if (cd "$tmp/src" && MAKEFLAGS= MAKELEVEL= SANITIZE= make build/shmfs) >"$tmp/err" 2>&1 && "$tmp/src/build/shmfs" --version >/dev/null; then
	ok "the Dockerfile's COPY set builds build/shmfs"
else
	notok "the Dockerfile's COPY set builds build/shmfs"
fi
exit $fail
