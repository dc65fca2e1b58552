# shellcheck shell=sh
# docker-lib.sh - what tests/docker.sh and tests/docker_image.sh share
# (sourced, not run).

# The mount point's parent $1 made a shared mount, as the README makes
# /mnt (Docker gives a container only a shared or slave mount with
# :rslave), and bound=1 for the cleanup; a TAP bail-out if it cannot be.
shared_dir() {
	if ! mount --bind "$1" "$1" || ! mount --make-shared "$1"; then
		echo "Bail out! mount --make-shared $1"
		exit 1
	fi
	# shellcheck disable=SC2034 # read by the sourcing test's cleanup
	bound=1
}
