#!/bin/sh
# libfuse.sh DIR - make a libfuse >= 3.16 (the passthrough API) available to
# the build, and print the PKG_CONFIG_PATH entry to use ("" for the system's).
#
# When pkg-config finds a system libfuse3 >= 3.16 (Debian 13, current Ubuntu
# and Fedora), that one is used and nothing is built.  Otherwise (Debian 12
# ships 3.14) Debian's own fuse3 source package from the next release is
# fetched with apt-get source through a private sources list under DIR (the
# machine's apt configuration is left alone; apt checks the files against
# the signed index) and built with meson and ninja as a static library
# installed under DIR/install.  Nothing from outside Debian's archive.
set -eu
dir=$1
suite=${SHMFS_LIBFUSE_SUITE:-trixie}
min=3.16

if pkg-config --atleast-version=$min fuse3 2>/dev/null; then
	echo ""
	exit 0
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pc=$(find "$dir/install" -name fuse3.pc 2>/dev/null | head -n 1)
if [ -n "$pc" ] && PKG_CONFIG_PATH=$(dirname "$pc") \
	pkg-config --atleast-version=$min fuse3; then
	dirname "$pc"
	exit 0
fi

{
	echo "libfuse.sh: system libfuse3 is older than $min; building" \
		"Debian $suite's fuse3 in $dir"
	rm -rf "$dir/src" "$dir/build" "$dir/install"
	mkdir -p "$dir/apt/lists/partial" "$dir/src"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $suite main" \
		>"$dir/apt/sources.list"
	set -- -o Dir::Etc::sourcelist="$dir/apt/sources.list" \
		-o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$dir/apt/lists" \
		-o APT::Get::List-Cleanup=0 -q
	apt-get "$@" update >/dev/null
	(cd "$dir/src" && apt-get "$@" source fuse3 >/dev/null 2>&1) || {
		echo "libfuse.sh: apt-get source fuse3 failed" >&2
		exit 1
	}
	src=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name 'fuse3-*' |
		head -n 1)
	[ -n "$src" ] || { echo "libfuse.sh: no fuse3 source in $dir/src" >&2; exit 1; }
	meson setup "$dir/build" "$src" --prefix="$dir/install" \
		--libdir=lib -Ddefault_library=static -Dexamples=false \
		-Dutils=false -Dtests=false -Dbuildtype=release >/dev/null
	ninja -C "$dir/build" install >/dev/null
} >&2
echo "$dir/install/lib/pkgconfig"
