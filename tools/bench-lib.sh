# shellcheck shell=bash
# bench-lib.sh - what make bench's scripts share (sourced, not run).

# Wait until shmfs serves mount point $1 (5 s), or say so and exit 1.
wait_mount() {
	for _ in $(seq 100); do
		awk -v m="$1" '$5 == m && / - fuse\.shmfs / { f = 1 } END { exit !f }' \
			/proc/self/mountinfo && return
		sleep 0.05
	done
	echo "bench: shmfs did not mount at $1" >&2
	exit 1
}
