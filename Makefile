# shmfs - System V and POSIX shared memory as files.
#
#   make            build build/shmfs and the tools
#   make mount      install what is missing, build, mount at $(MNT)
#   make check      build and run every test (SANITIZE=1: ASan + UBSan),
#                   the mount tests once on each data path
#   make bench      benchmarks (not tests: nothing in check times anything)

MNT      ?= /mnt/shm
SHMFS_OPTS ?=
SANITIZE ?=
BUILD    := $(if $(SANITIZE),build-san,build)

# Debian packages the build, the tests and the tools need.  meson, ninja,
# dpkg-dev and xz-utils build libfuse from Debian's source where the
# system's is older than 3.16 (tools/libfuse.sh).
DEB_PKGS := gcc g++ make pkg-config libfuse3-dev fuse3 libglib2.0-dev \
	libsmartcols-dev clang llvm bpftool libbpf-dev \
	    libgtest-dev attr acl util-linux mount procps perl coreutils cppcheck \
	    systemd strace meson ninja-build dpkg-dev xz-utils clang-format \
	    shellcheck prometheus prometheus-node-exporter curl python3 \
	    mandoc bsdextrautils bash-completion build-essential debhelper \
	    lintian mmdebstrap yamllint python3-yaml
# Where a Docker engine is installed, the compose tool its tests run
# (tests/docker_image.sh): Debian's, where the engine has no plugin.
DEB_PKGS += $(if $(shell command -v docker 2>/dev/null),docker-compose)

CC  ?= gcc
CXX ?= g++
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-declarations \
	-Wwrite-strings -Wvla
CWARN := $(WARN) -Wstrict-prototypes
ifneq ($(CI),)
WARN  += -Werror
CWARN += -Werror
endif
comma := ,
SAN := $(if $(SANITIZE),-fsanitize=address$(comma)undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer)

# libfuse >= 3.16: the system's, or one built from Debian's source under
# build/libfuse (shared by the plain and the sanitizer builds).
LIBFUSE_DIR   := build/libfuse
LIBFUSE_STAMP := $(LIBFUSE_DIR)/pcdir
# Expanded when a recipe runs, after the stamp exists.  pkg-config fails
# loudly (and the build with it) when a package is missing.
PKGCONF = PKG_CONFIG_PATH=$$(cat $(LIBFUSE_STAMP)) pkg-config
FUSE_CFLAGS = $(shell $(PKGCONF) --cflags fuse3 || echo PKG-CONFIG-FAILED)
FUSE_LIBS   = $(shell $(PKGCONF) --static --libs fuse3 || echo PKG-CONFIG-FAILED)
GLIB_CFLAGS = $(shell pkg-config --cflags glib-2.0 || echo PKG-CONFIG-FAILED)
GLIB_LIBS   = $(shell pkg-config --libs glib-2.0 || echo PKG-CONFIG-FAILED)

CFLAGS   ?= -O2 -g
CXXFLAGS ?= $(CFLAGS)
DEPFLAGS  = -MMD -MP
ALL_CFLAGS   = -std=gnu11 $(CFLAGS) $(CWARN) $(SAN) $(DEPFLAGS)
ALL_CXXFLAGS = -std=gnu++17 $(CXXFLAGS) $(WARN) $(SAN) $(DEPFLAGS)
# backend/ knows nothing of FUSE or of fs/: it sees only glib.  Its
# folders name their headers by path ("proc/procscan.h"): see
# doc/ARCHITECTURE.md for who may include whom.
BACKEND_CPPFLAGS = $(CPPFLAGS) -Ibackend $(GLIB_CFLAGS)
FS_CPPFLAGS      = $(CPPFLAGS) -Ibackend -Ifs $(GLIB_CFLAGS) $(FUSE_CFLAGS)
TEST_CPPFLAGS    = $(FS_CPPFLAGS) -Itests
ALL_LIBS = $(FUSE_LIBS) $(GLIB_LIBS) $(BPF_LIBS) -lpthread

# The eBPF tracer of who makes and removes segments (backend/origin/
# trace.bpf.c, CO-RE): built where clang, bpftool, libbpf and the kernel's
# BTF are, else the daemon is built without it (trace.h says what then).
BPF_OK := $(shell command -v clang >/dev/null 2>&1 && \
	command -v bpftool >/dev/null 2>&1 && \
	pkg-config --exists libbpf 2>/dev/null && \
	test -r /sys/kernel/btf/vmlinux && echo 1)
BPF_DIR := $(BUILD)/obj/bpf
BPF_ARCH := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
ifeq ($(BPF_OK),1)
BPF_SKEL := $(BPF_DIR)/trace.skel.h
BPF_LIBS  = $(shell pkg-config --libs libbpf)
BACKEND_CPPFLAGS += -I$(BPF_DIR)
else
BACKEND_CPPFLAGS += -DSHMFS_NO_BPF
endif

# Every source file is built and every test run: a new one needs no list.
BACKEND_SRC := $(filter-out %.bpf.c,$(sort $(wildcard backend/*.c backend/*/*.c)))
FS_SRC      := $(filter-out fs/main.c,$(sort $(wildcard fs/*.c)))
BACKEND_OBJ := $(BACKEND_SRC:%.c=$(BUILD)/obj/%.o)
FS_OBJ      := $(FS_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ    := $(BUILD)/obj/fs/main.o

UNIT_TESTS  := $(patsubst tests/%.cc,%,$(sort $(wildcard tests/unit_*.cc)))
MOUNT_TESTS := $(patsubst tests/%.cc,%,$(sort $(wildcard tests/mount_*.cc)))
# make check T=mount_io (or T="mount_io unit_ns") runs those alone, on
# both paths; GTEST_FILTER=Suite.Name narrows them further.
ifneq ($(T),)
UNIT_TESTS  := $(filter $(T),$(UNIT_TESTS))
MOUNT_TESTS := $(filter $(T),$(MOUNT_TESTS))
endif
UNIT_T      := $(UNIT_TESTS:%=$(BUILD)/tests/%.t)
MOUNT_T     := $(MOUNT_TESTS:%=$(BUILD)/tests/%.t)
SHELL_TESTS := tests/tools.sh tests/mount_fstab.sh tests/deb.sh \
	       tests/docker.sh tests/docker_image.sh tests/k8s.sh
TESTS       := $(UNIT_T) $(MOUNT_T) \
	       $(if $(T),$(filter $(T:%=tests/%.sh),$(SHELL_TESTS)),$(SHELL_TESTS))
TEST_COMMON := $(BUILD)/obj/tests/tap.o $(BUILD)/obj/tests/child.o
MOUNT_COMMON := $(BUILD)/obj/tests/harness.o $(BUILD)/obj/tests/native.o

.PHONY: all deps check mount umount install uninstall clean format lint bench \
	deb
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/shmfs $(BUILD)/shmbench $(BUILD)/shmhold $(BUILD)/shmattack \
	$(BUILD)/lsshm $(BUILD)/shmcycle

$(LIBFUSE_STAMP): tools/libfuse.sh
	@mkdir -p $(dir $@)
	tools/libfuse.sh $(LIBFUSE_DIR) >$@.tmp && mv $@.tmp $@

$(BUILD)/shmbench: tools/shmbench.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< -o $@ $(LDFLAGS) -lrt

$(BUILD)/shmhold: tools/shmhold.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< -o $@ $(LDFLAGS)

$(BUILD)/shmattack: tools/shmattack.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< -o $@ $(LDFLAGS)

# libfuse's passthrough_hp, the FUSE peer make bench measures posix/
# against, from the libfuse source the build fetched (none where the
# system's libfuse was used).
$(BUILD)/passthrough_hp: $(LIBFUSE_STAMP)
	@src=$$(ls -d $(LIBFUSE_DIR)/src/fuse3-*/example 2>/dev/null | head -n 1); \
	[ -n "$$src" ] || { echo "(no libfuse source: no passthrough_hp)"; exit 1; }; \
	$(CXX) -O2 -std=c++17 -I$$src $$($(PKGCONF) --cflags fuse3) \
		$$src/passthrough_hp.cc -o $@ $$($(PKGCONF) --libs fuse3) -pthread

$(BUILD)/shmcycle: tools/shmcycle.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $< -o $@ $(LDFLAGS) -lrt -pthread

$(BUILD)/lsshm: tools/lsshm.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DLSSHM_VERSION='"$(SHMFS_VERSION)"' \
		$$(pkg-config --cflags smartcols) $< \
		-o $@ $(LDFLAGS) $$(pkg-config --libs smartcols)

$(BUILD)/obj/backend/%.o: backend/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BACKEND_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/backend/origin/trace.o: $(BPF_SKEL)
$(BPF_DIR)/vmlinux.h:
	@mkdir -p $(dir $@)
	bpftool btf dump file /sys/kernel/btf/vmlinux format c >$@.tmp && mv $@.tmp $@
$(BPF_DIR)/trace.bpf.o: backend/origin/trace.bpf.c backend/origin/trace_event.h \
		$(BPF_DIR)/vmlinux.h
	clang -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -I$(BPF_DIR) \
		-Ibackend/origin -c $< -o $@
$(BPF_DIR)/trace.skel.h: $(BPF_DIR)/trace.bpf.o
	bpftool gen skeleton $< name shm_trace >$@.tmp && mv $@.tmp $@

$(BUILD)/obj/fs/%.o: fs/%.c | $(LIBFUSE_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(FS_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.cc | $(LIBFUSE_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CPPFLAGS) $(ALL_CXXFLAGS) -c $< -o $@

$(BUILD)/shmfs: $(MAIN_OBJ) $(FS_OBJ) $(BACKEND_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ -o $@ $(ALL_LIBS)

$(BUILD)/tests/unit_%.t: $(BUILD)/obj/tests/unit_%.o $(TEST_COMMON) \
		$(FS_OBJ) $(BACKEND_OBJ)
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $^ -o $@ -lgtest $(ALL_LIBS)

# A mount test runs the daemon: building one builds the daemon first.
$(BUILD)/tests/mount_%.t: $(BUILD)/obj/tests/mount_%.o $(TEST_COMMON) \
		$(MOUNT_COMMON) $(BACKEND_OBJ) $(BUILD)/shmfs
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) $(filter-out $(BUILD)/shmfs,$^) \
		-o $@ -lgtest $(ALL_LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Install what is missing from Debian's archive (as root, or via sudo),
# then libfuse >= 3.16 where the system's is older.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			$$missing >/dev/null; \
	fi
	$(MAKE) $(LIBFUSE_STAMP)

# Every test under a time limit: a hung FUSE request fails, never hangs.
# The mount tests run twice: on the passthrough path (where the kernel
# grants it) and on the page-cache fallback (-o passthrough=off).
TEST_ENV = SHMFS_BIN=$(abspath $(BUILD)/shmfs) SHMFS_TOOLS=$(abspath tools) \
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Each pass is logged (its exit status kept), and every skipped test is
# listed: one not allowed in tests/skips-allowed fails the check.
PROVE = prove -v --timer --exec 'tests/run-test'
check: deps
	$(MAKE) -j$$(nproc) all $(TESTS)
	{ $(TEST_ENV) $(PROVE) $(TESTS); echo $$? >$(BUILD)/check.rc; } 2>&1 | \
		tee $(BUILD)/check-passthrough.log
	@exit $$(cat $(BUILD)/check.rc)
	{ $(TEST_ENV) SHMFS_TEST_PASSTHROUGH=off $(PROVE) $(MOUNT_T); \
		echo $$? >$(BUILD)/check.rc; } 2>&1 | tee $(BUILD)/check-fallback.log
	@exit $$(cat $(BUILD)/check.rc)
	tests/skips.sh $(BUILD)/check-passthrough.log $(BUILD)/check-fallback.log

# (all in a make of its own: one that starts after deps has installed
# clang, bpftool and libbpf builds the eBPF tracer in.)
mount: deps
	$(MAKE) all
	mkdir -p $(MNT)
	$(BUILD)/shmfs $(SHMFS_OPTS) $(MNT)
	@echo "shmfs mounted at $(MNT)"

umount:
	fusermount3 -u $(MNT)

# Benchmarks, not tests: ratios against the native path in the same run.
# bindfs (the FUSE peer) and gnuplot (the chart) are installed for it only.
bench: deps
	$(MAKE) all
	@for p in bindfs gnuplot-nox liburing-dev libnuma-dev python3-torch \
		postgresql-15; do dpkg-query -W -f='$${Status}' $$p \
		2>/dev/null | grep -q 'install ok installed' || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p \
		>/dev/null; done
	tools/bench.sh $(BUILD)/shmfs $(BUILD)/shmbench $(BUILD)
	tools/bench-busy.sh $(BUILD)/shmfs $(BUILD)/shmhold
	tools/bench-attack.sh $(BUILD)/shmfs $(BUILD)/shmattack
	tools/bench-soak.sh $(BUILD)/shmfs
	tools/bench-watch.sh $(BUILD)/shmfs
	tools/bench-trace.sh $(BUILD)/shmfs
	$(MAKE) $(BUILD)/passthrough_hp || true
	tools/bench-posix.sh $(BUILD)/shmfs $(BUILD)/shmcycle $(BUILD)/passthrough_hp
	SHMFS_LIBFUSE_SUITE=sid $(MAKE) BUILD=build/uring \
		LIBFUSE_DIR=build/libfuse-sid build/uring/shmfs && \
		tools/bench-uring.sh $(BUILD)/shmfs build/uring/shmfs || \
		echo "(no libfuse 3.18 build: the io_uring figures are left out)"

# Installs what `make` built; never runs apt-get (run make deps first).
PREFIX ?= /usr/local
UNITDIR ?= /etc/systemd/system
MANDIR ?= $(PREFIX)/share/man
COMPDIR ?= $(PREFIX)/share/bash-completion/completions
install: all
	install -D -m 0755 $(BUILD)/shmfs $(DESTDIR)$(PREFIX)/bin/shmfs
	install -D -m 0755 $(BUILD)/shmbench $(DESTDIR)$(PREFIX)/bin/shmbench
	install -D -m 0755 $(BUILD)/lsshm $(DESTDIR)$(PREFIX)/bin/lsshm
	install -D -m 0644 doc/lsshm.1 $(DESTDIR)$(MANDIR)/man1/lsshm.1
	install -D -m 0644 tools/lsshm.bash-completion $(DESTDIR)$(COMPDIR)/lsshm
	install -D -m 0755 tools/shmfs-backup \
		$(DESTDIR)$(PREFIX)/bin/shmfs-backup
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/shmfs|$(PREFIX)/bin/shmfs|' tools/shmfs.service \
		>$(DESTDIR)$(UNITDIR)/shmfs.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/shmfs.service
	install -D -m 0644 doc/shmfs.8 $(DESTDIR)$(MANDIR)/man8/shmfs.8
	install -D -m 0644 doc/shmfs-backup.8 \
		$(DESTDIR)$(MANDIR)/man8/shmfs-backup.8
	install -D -m 0644 doc/shmbench.1 $(DESTDIR)$(MANDIR)/man1/shmbench.1
	install -D -m 0644 tools/shmfs.bash-completion \
		$(DESTDIR)$(COMPDIR)/shmfs
	ln -sf shmfs $(DESTDIR)$(COMPDIR)/shmfs-backup
	install -D -m 0644 tools/prometheus/shmfs.rules.yml \
		$(DESTDIR)$(PREFIX)/share/shmfs/shmfs.rules.yml

SHMFS_VERSION := $(shell sed -n 's/^\#define SHMFS_VERSION "\(.*\)"$$/\1/p' fs/shmfs.h)
# The Debian package, from debian/ with debhelper: build/deb/shmfs_*.deb
# (dpkg-buildpackage writes beside the source tree; moved here).
deb: all
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	dpkg-buildpackage -b -us -uc --no-pre-clean >$(BUILD)/deb/build.log 2>&1 || \
		{ tail -30 $(BUILD)/deb/build.log; exit 1; }
	mv ../shmfs_$(SHMFS_VERSION)_*.deb ../shmfs_$(SHMFS_VERSION)_*.buildinfo \
		../shmfs_$(SHMFS_VERSION)_*.changes $(BUILD)/deb/
	rm -rf debian/shmfs debian/.debhelper debian/files debian/debhelper-build-stamp \
		debian/shmfs.substvars debian/*.debhelper.log debian/*.postrm.debhelper

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/shmfs $(DESTDIR)$(PREFIX)/bin/shmbench \
		$(DESTDIR)$(PREFIX)/bin/lsshm $(DESTDIR)$(MANDIR)/man1/lsshm.1 \
		$(DESTDIR)$(COMPDIR)/lsshm \
		$(DESTDIR)$(PREFIX)/bin/shmfs-backup \
		$(DESTDIR)$(UNITDIR)/shmfs.service \
		$(DESTDIR)$(MANDIR)/man8/shmfs.8 \
		$(DESTDIR)$(MANDIR)/man8/shmfs-backup.8 \
		$(DESTDIR)$(MANDIR)/man1/shmbench.1 \
		$(DESTDIR)$(COMPDIR)/shmfs $(DESTDIR)$(COMPDIR)/shmfs-backup \
		$(DESTDIR)$(PREFIX)/share/shmfs/shmfs.rules.yml
	-rmdir $(DESTDIR)$(PREFIX)/share/shmfs 2>/dev/null

# Checks CI runs (make deps installs the tools): the layout is
# .clang-format's, the shell scripts pass shellcheck, and cppcheck finds
# nothing in the code, the tools or the tests.  In the tests, a failed
# ASSERT returns early and an open() expected to fail is not kept, by
# design: leaks on those paths are not reported there.
FORMAT_SRC := backend/*.[ch] backend/*/*.[ch] fs/*.[ch] tests/*.cc tests/*.c tests/*.h tools/*.c
SHELL_SRC  := tests/run-test tests/tools.sh tests/mount_fstab.sh tests/deb.sh \
	      tests/docker.sh tests/docker_image.sh tests/docker-lib.sh tests/k8s.sh \
	      tools/image.sh \
	      tests/skips.sh tools/bench.sh \
	      tools/bench-busy.sh tools/bench-soak.sh tools/bench-lib.sh \
	      tools/bench-uring.sh tools/bench-watch.sh tools/bench-trace.sh tools/bench-attack.sh \
	      tools/libfuse.sh tools/shmfs-backup .ci/run
CPPCHECK   := cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	      --inline-suppr --library=gtk --library=posix -D_GNU_SOURCE \
	      -DFUSE_USE_VERSION=316 -Ibackend -Ifs
format:
	clang-format -i $(FORMAT_SRC)

lint: $(LIBFUSE_STAMP) $(BUILD)/shmfs
	clang-format --dry-run --Werror $(FORMAT_SRC)
	mandoc -T lint -W warning doc/*.[18]
	sed 's|/usr/local/bin/shmfs|$(abspath $(BUILD)/shmfs)|' tools/shmfs.service \
		>$(BUILD)/shmfs.service && systemd-analyze verify $(BUILD)/shmfs.service
	shellcheck $(SHELL_SRC)
	yamllint -c .yamllint tools/docker-compose.yml tools/prometheus \
		deploy/kubernetes
	$(CPPCHECK) -i backend/origin/trace.bpf.c backend fs tools
	$(CPPCHECK) --library=googletest -Itests --suppress=resourceLeak \
		--suppress=memleak --suppress=leakReturnValNotUsed \
		--suppress=invalidFunctionArg tests

clean:
	rm -rf build build-san
