#!/bin/sh
# skips.sh LOG... - list every test that prove logged as skipped; exit 1
# if one of them is not named in tests/skips-allowed.
allowed="$(dirname "$0")/skips-allowed"
bad=0
n=0
# shellcheck disable=SC2013 # test names have no blanks
for name in $(sed -n 's/^ok [0-9]* - \([^ ]*\) # SKIP.*/\1/p' "$@" | sort -u); do
	n=$((n + 1))
	ok=0
	while read -r pat _; do
		case "$pat" in '#'* | '') continue ;; esac
		# shellcheck disable=SC2254 # the pattern is meant to glob
		case "$name" in $pat) ok=1 && break ;; esac
	done <"$allowed"
	if [ "$ok" = 1 ]; then
		echo "skipped (allowed): $name"
	else
		echo "skipped, NOT ALLOWED: $name (add it to tests/skips-allowed with a reason, or make it run)"
		bad=1
	fi
done
echo "$n skipped test(s)"
exit $bad
