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
echo "1..11"

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
# shmfs(8) names exactly the options --help names (each long option also
# as its -o form, which --help says once).
"$bin" --help >"$tmp/help" 2>&1
mandoc -T utf8 "$top/doc/shmfs.8" 2>"$tmp/err" | col -b |
	sed -n '/^OPTIONS/,/^THE TREE/p' >"$tmp/man"
# (The lines that begin an option's entry: 4 spaces in --help, 7 in the
# page's OPTIONS.)
opts_of() { grep -E "^ {$2}-" "$1" |
	grep -oE -- '(^| |, )(--[a-z][a-z-]*|-[a-zA-Z]|-o [a-z_]+)' |
	sed 's/^[ ,]*//' | sort -u; }
opts_of "$tmp/help" 4 >"$tmp/help.opts"
# The -o aliases of long options: in the page, not repeated in --help.
opts_of "$tmp/man" 7 | grep -vxF -f "$tmp/help.opts" |
	sed 's/^-o //; s/_/-/g; s/^/--/' | grep -vxF -f "$tmp/help.opts" >"$tmp/extra"
opts_of "$tmp/man" 7 >"$tmp/man.opts"
grep -vxF -f "$tmp/man.opts" "$tmp/help.opts" >"$tmp/missing"
if [ -s "$tmp/help.opts" ] && [ ! -s "$tmp/extra" ] && [ ! -s "$tmp/missing" ]; then
	ok "shmfs(8) and shmfs --help name the same $(wc -l <"$tmp/help.opts") options"
else
	{ echo "in the page only:"; cat "$tmp/extra"; echo "in --help only:"; cat "$tmp/missing"; } >"$tmp/err"
	notok "shmfs(8) and shmfs --help name the same options"
fi

# lsshm(1) names exactly the long options lsshm --help names.
lsshm="$(dirname "$bin")/lsshm"
"$lsshm" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$tmp/lh"
mandoc -T utf8 "$top/doc/lsshm.1" 2>"$tmp/err" | col -b |
	sed -n '/^OPTIONS/,/^COLUMNS/p' | grep -oE -- '--[a-z][a-z-]*' |
	sort -u >"$tmp/lm"
if [ -s "$tmp/lh" ] && cmp -s "$tmp/lh" "$tmp/lm"; then
	ok "lsshm(1) and lsshm --help name the same $(wc -l <"$tmp/lh") options"
else
	diff "$tmp/lh" "$tmp/lm" >"$tmp/err"
	notok "lsshm(1) and lsshm --help name the same options"
fi

# The man pages pass mandoc's checks.
if mandoc -T lint -W warning "$top"/doc/*.[18] >"$tmp/err" 2>&1; then
	ok "mandoc -T lint: doc/*.[18]"
else
	notok "mandoc -T lint: doc/*.[18]"
fi

# Bash completion: options from --help, -o names and values after a
# comma, pids for --pid, save|restore for shmfs-backup.
cat >"$tmp/comp.bash" <<COMP
. /usr/share/bash-completion/bash_completion
. "$top/tools/shmfs.bash-completion"
compopt() { :; }
comp() {
	COMP_WORDS=("\$@"); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
	COMP_LINE="\$*"; COMP_POINT=\${#COMP_LINE}
	COMPREPLY=()
	\$f "\$1" "\${COMP_WORDS[-1]}" "\${COMP_WORDS[-2]}"
	printf '%s ' "\${COMPREPLY[@]}"; echo
}
PATH="$(dirname "$bin"):\$PATH"
f=_shmfs
comp shmfs --po
comp shmfs -o ro,pass
comp shmfs --pid "" | tr ' ' '\n' | grep -cx "\$\$"
f=_shmfs_backup
comp shmfs-backup r
. "$top/tools/lsshm.bash-completion"
f=_lsshm
comp lsshm -t ""
comp lsshm -o KIND,NA
comp lsshm --unu
COMP
printf '%s\n' "--posix-dir= " "ro,passthrough=on ro,passthrough=off " 1 "restore " \
	"sysv posix mapped " "KIND,NAME KIND,NATTCH " "--unused " >"$tmp/comp.want"
if bash "$tmp/comp.bash" >"$tmp/comp.got" 2>"$tmp/err" &&
	cmp -s "$tmp/comp.got" "$tmp/comp.want"; then
	ok "bash completion of options, -o values, pids, shmfs-backup, lsshm"
else
	diff "$tmp/comp.want" "$tmp/comp.got" >>"$tmp/err"
	notok "bash completion of options, -o values, pids, shmfs-backup, lsshm"
fi
# The alerting rules load, and their unit tests (series that must fire and
# series just below each threshold that must not) pass.
if promtool check rules "$top/tools/prometheus/shmfs.rules.yml" >"$tmp/err" 2>&1; then
	ok "promtool check rules tools/prometheus/shmfs.rules.yml"
else
	notok "promtool check rules tools/prometheus/shmfs.rules.yml"
fi
if (cd "$top/tools/prometheus" && promtool test rules shmfs.rules.test.yml) >"$tmp/err" 2>&1; then
	ok "promtool test rules: every alert fires and stays silent as written"
else
	notok "promtool test rules: every alert fires and stays silent as written"
fi
exit $fail
