#!/bin/sh
# tools.sh - the deployment files in tools/ are valid and complete, and the
# test runner fails a test that leaves a mount or a daemon behind (TAP).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${SHMFS_BIN:-$top/build/shmfs}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; sed 's/^/#   /' "$tmp/err"; }
echo "1..5"

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
if (cd "$tmp/src" && MAKEFLAGS='' MAKELEVEL='' SANITIZE='' make build/shmfs) >"$tmp/err" 2>&1 && "$tmp/src/build/shmfs" --version >/dev/null; then
	ok "the Dockerfile's COPY set builds build/shmfs"
else
	notok "the Dockerfile's COPY set builds build/shmfs"
fi
# tests/run-test fails a test that passes but leaves its mount (and so its
# daemon) behind, and cleans up after it.
printf '%s\n' '#!/bin/sh' \
	"mkdir \"\$SHMFS_TEST_ROOT/m\" && \"$bin\" \"\$SHMFS_TEST_ROOT/m\" || exit 2" \
	'echo "1..1"' 'echo "ok 1 - mounted and walked away"' >"$tmp/leaves-a-mount"
chmod +x "$tmp/leaves-a-mount"
"$top/tests/run-test" "$tmp/leaves-a-mount" >"$tmp/err" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -q "left .* mounted" "$tmp/err" &&
	! grep -q "shmfs-test\..*/m - fuse\.shmfs" /proc/self/mountinfo; then
	ok "run-test fails a test that leaves a mount behind (exit $rc)"
else
	notok "run-test fails a test that leaves a mount behind (exit $rc)"
fi
# ... and one that leaves a process of its mount point's behind.
# shellcheck disable=SC2016 # expanded by the script it writes
printf '%s\n' '#!/bin/sh' 'sh -c "sleep 20; :" "$SHMFS_TEST_ROOT" &' \
	'echo "1..1"' 'echo "ok 1 - started something and walked away"' \
	>"$tmp/leaves-a-process"
chmod +x "$tmp/leaves-a-process"
"$top/tests/run-test" "$tmp/leaves-a-process" >"$tmp/err" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -q "left processes behind" "$tmp/err"; then
	ok "run-test fails a test that leaves a process behind (exit $rc)"
else
	notok "run-test fails a test that leaves a process behind (exit $rc)"
fi
exit $fail
