#!/bin/sh
# image.sh - the Debian 12 base image the container tests run, made
# without a registry: mmdebstrap from Debian's archive into build/image,
# then docker import.  Cached: rebuilt only when this script (its package
# list) changes, which the image's tag carries.  Prints the image name.
#
#   tools/image.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
# What a container needs to install and run the package: its Depends
# (dh_shlibdeps computes them: libc, glib; fuse3 for fusermount3), man-db
# for man -w, and what the tests run inside.
pkgs=libglib2.0-0,fuse3,libbpf1,man-db,util-linux,attr,procps
tag=$(sha256sum <"$0" | cut -c1-12)
name=shmfs-debian:12-$tag
if docker image inspect "$name" >/dev/null 2>&1; then
	echo "$name"
	exit 0
fi
mkdir -p "$build/image"
tar=$build/image/bookworm-$tag.tar
if [ ! -s "$tar" ]; then
	mmdebstrap --quiet --variant=minbase --include="$pkgs" \
		--mode=root bookworm "$build/image/partial.tar" http://deb.debian.org/debian >&2
	mv "$build/image/partial.tar" "$tar"
fi
docker import --change 'CMD ["/bin/bash"]' "$tar" "$name" >&2
echo "$name"
