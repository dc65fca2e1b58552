#!/bin/sh
# skips.sh LOG... - list every test that prove logged as skipped; exit 1
# if one of them is not allowed by tests/skips-allowed: by its name
# (Suite.Test), or by the tag its reason begins with ("TAG: ...", allowed
# by a line "reason:TAG").
allowed="$(dirname "$0")/skips-allowed"
bad=0
n=0
lines=$(sed -n 's/^ok [0-9]* - \([^ ]*\) # SKIP *\(.*\)/\1 \2/p' "$@" | sort -u)
while read -r name reason; do
	[ -n "$name" ] || continue
	n=$((n + 1))
	tag="reason:${reason%%:*}"
	ok=0
	while read -r pat _; do
		case "$pat" in '#'* | '') continue ;; esac
		if [ "$pat" = "$name" ] || [ "$pat" = "$tag" ]; then
			ok=1
			break
		fi
	done <"$allowed"
	if [ "$ok" = 1 ]; then
		echo "skipped (allowed): $name: $reason"
	else
		echo "skipped, NOT ALLOWED: $name: $reason (add it to tests/skips-allowed with a reason, or make it run)"
		bad=1
	fi
done <<LINES
$lines
LINES
echo "$n skipped test(s)"
exit $bad
