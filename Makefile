# shmfs - System V and POSIX shared memory as files.
#
#   make            build build/shmfs and the tools
#   make mount      install what is missing, build, mount at $(MNT)
#   make check      build and run every test (SANITIZE=1: ASan + UBSan)
#   make bench      benchmarks (not tests: nothing in check times anything)

MNT      ?= /mnt/shm
SHMFS_OPTS ?=
SANITIZE ?=
BUILD    := $(if $(SANITIZE),build-san,build)

# Debian packages the build, the tests and the tools need.
DEB_PKGS := gcc g++ make pkg-config libfuse3-dev fuse3 libglib2.0-dev \
	    libgtest-dev attr util-linux mount procps perl coreutils cppcheck \
	    systemd strace

CC  ?= gcc
CXX ?= g++
PKGS := fuse3 glib-2.0
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

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
CPPFLAGS += -Ibackend -Ifs
ALL_CFLAGS   = -std=gnu11 $(CFLAGS) $(CWARN) $(SAN) $(PKG_CFLAGS)
ALL_CXXFLAGS = -std=gnu++17 $(CFLAGS) $(WARN) $(SAN) $(PKG_CFLAGS)
LDLIBS_ALL   = $(PKG_LIBS) -lpthread

BACKEND_SRC := backend/common.c backend/procscan.c backend/fdfile.c \
	       backend/sysv.c backend/posix.c backend/mapped.c
FS_SRC      := fs/log.c fs/nodes.c fs/xattr.c fs/ops.c fs/refresh.c \
	       fs/shadow.c
BACKEND_OBJ := $(BACKEND_SRC:%.c=$(BUILD)/obj/%.o)
FS_OBJ      := $(FS_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ    := $(BUILD)/obj/fs/main.o

UNIT_TESTS  := unit_sysv unit_posix unit_xattr
MOUNT_TESTS := mount_layout mount_io mount_admin mount_perms mount_ns \
	       mount_mapped mount_backup mount_mmap mount_usecases \
	       mount_stress
TESTS       := $(UNIT_TESTS:%=$(BUILD)/tests/%.t) \
	       $(MOUNT_TESTS:%=$(BUILD)/tests/%.t) tests/tools.sh
TEST_COMMON := $(BUILD)/obj/tests/tap.o
MOUNT_COMMON := $(BUILD)/obj/tests/harness.o

.PHONY: all deps check mount umount install clean format lint bench
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/shmfs $(BUILD)/shmbench

$(BUILD)/shmbench: tools/shmbench.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ -lrt

$(BUILD)/obj/%.o: %.c $(wildcard backend/*.h fs/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.cc $(wildcard backend/*.h fs/*.h tests/*.h)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) -Itests $(ALL_CXXFLAGS) -c $< -o $@

$(BUILD)/shmfs: $(MAIN_OBJ) $(FS_OBJ) $(BACKEND_OBJ)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/tests/unit_%.t: $(BUILD)/obj/tests/unit_%.o $(TEST_COMMON) \
		$(FS_OBJ) $(BACKEND_OBJ)
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) $^ -o $@ -lgtest $(LDLIBS_ALL)

$(BUILD)/tests/mount_%.t: $(BUILD)/obj/tests/mount_%.o $(TEST_COMMON) \
		$(MOUNT_COMMON) $(BACKEND_OBJ)
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) $^ -o $@ -lgtest $(LDLIBS_ALL)

# Install what is missing from Debian's archive (as root, or via sudo).
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

# Every test under a time limit: a hung FUSE request fails, never hangs.
check: deps
	$(MAKE) all $(TESTS)
	SHMFS_BIN=$(abspath $(BUILD)/shmfs) SHMFS_TOOLS=$(abspath tools) \
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	prove -v --timer --exec 'tests/run-test' $(TESTS)

mount: deps all
	mkdir -p $(MNT)
	$(BUILD)/shmfs $(SHMFS_OPTS) $(MNT)
	@echo "shmfs mounted at $(MNT)"

umount:
	fusermount3 -u $(MNT)

# Benchmarks, not tests: ratios against the native path in the same run.
# bindfs (the FUSE peer) and gnuplot (the chart) are installed for it only.
bench: deps all
	@for p in bindfs gnuplot-nox; do dpkg-query -W -f='$${Status}' $$p \
		2>/dev/null | grep -q 'install ok installed' || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p \
		>/dev/null; done
	tools/bench.sh $(BUILD)/shmfs $(BUILD)/shmbench $(BUILD)

PREFIX ?= /usr/local
install: deps all
	install -D -m 0755 $(BUILD)/shmfs $(DESTDIR)$(PREFIX)/bin/shmfs
	install -D -m 0755 $(BUILD)/shmbench $(DESTDIR)$(PREFIX)/bin/shmbench
	install -D -m 0755 tools/shmfs-backup \
		$(DESTDIR)$(PREFIX)/bin/shmfs-backup
	install -D -m 0644 tools/shmfs.service \
		$(DESTDIR)/etc/systemd/system/shmfs.service

format:
	clang-format -i backend/*.[ch] fs/*.[ch] tests/*.cc tests/*.h

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr --library=gtk --library=posix \
		-D_GNU_SOURCE -DFUSE_USE_VERSION=314 -Ibackend -Ifs backend fs

clean:
	rm -rf build build-san
