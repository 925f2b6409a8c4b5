# ofsync: hand-written Makefile with an explicit object list (see STYLE.md).
#   make                 build ofsyncd and ofsync
#   make check           build and run every test (unit, then integration)
#   make check SANITIZE=1  the same under AddressSanitizer + UBSan
#   make demo / demo-stop  the embedded default: a loopback Samba share, mounted
#   WERROR=1             warnings are errors (CI sets it)

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PYTHON  ?= /usr/bin/python3
PKGS    := fuse3 smbclient sqlite3 jansson inih libsystemd

ifeq ($(SANITIZE),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS :=
endif

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
           -Wstrict-prototypes -Wno-unused-parameter -pthread $(SANFLAGS)
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
CPPFLAGS += -D_FILE_OFFSET_BITS=64 -D_GNU_SOURCE -Iinclude -Isrc -MMD -MP \
            $(shell pkg-config --cflags $(PKGS))
LDFLAGS += -pthread $(SANFLAGS)
LIBS    := $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS   := $(shell pkg-config --libs check)

UTIL_OBJS  := src/util/log.o src/util/range.o src/util/unc.o src/util/util.o src/util/ticker.o \
             src/util/idmap.o
CACHE_OBJS := src/cache/index.o src/cache/store.o src/cache/cache.o
SMB_OBJS   := src/smb/smb.o src/smb/parm_memo.o
# parm_memo.c's lpcfg_map_parameter must be exported to take Samba's calls.
EXPORT_PARM_MEMO := -Wl,--export-dynamic-symbol=lpcfg_map_parameter
SYNC_OBJS  := src/sync/push.o src/sync/remote.o src/sync/journal.o src/sync/plan.o src/sync/lnk.o src/sync/flags.o src/sync/fetch.o src/sync/engine.o
FS_OBJS    := src/fs/fs.o src/fs/notify.o src/fs/walkers.o
IPC_OBJS   := src/ipc/proto.o src/ipc/client.o
IPCD_OBJS  := src/ipc/server.o
DAEMON_OBJS := src/ofsyncd.o src/config.o src/ctl.o src/prober.o src/watch.o src/syncer.o src/evictor.o src/options.o $(UTIL_OBJS) $(CACHE_OBJS) $(SMB_OBJS) \
               $(SYNC_OBJS) $(FS_OBJS) $(IPC_OBJS) $(IPCD_OBJS)
# libofsync: the client library (include/ofsync.h, ofsync(3)); static, and
# shared from position-independent objects of the same sources.
LIB_OBJS   := src/lib/libofsync.o src/ipc/proto.o src/ipc/client.o src/sync/flags.o src/util/util.o
LIB_SOVER  := 0
LIB_VER    := 0.1.0
CLI_OBJS   := tools/ofsync.o tools/bar.o

UNIT_TESTS := test_range test_unc test_proto test_options test_plan test_lnk test_flags test_bar test_config test_idmap \
              test_parm_memo test_index test_walkers
test_range_OBJS   := src/util/range.o
test_unc_OBJS     := src/util/unc.o src/util/util.o
test_proto_OBJS   := src/ipc/proto.o src/util/util.o
test_options_OBJS := src/options.o src/util/unc.o src/util/log.o src/util/util.o
test_plan_OBJS    := src/sync/plan.o
test_lnk_OBJS     := src/sync/lnk.o src/util/unc.o src/util/util.o
test_flags_OBJS   := src/sync/flags.o
test_bar_OBJS     := tools/bar.o src/util/util.o
test_config_OBJS  := src/config.o src/options.o src/util/unc.o src/util/util.o
test_idmap_OBJS   := src/util/idmap.o
test_walkers_OBJS := src/fs/walkers.o
test_index_OBJS   := src/cache/index.o src/util/range.o src/util/log.o src/util/util.o
test_parm_memo_OBJS := src/smb/parm_memo.o
test_parm_memo_LDFLAGS := $(EXPORT_PARM_MEMO)

LIBS_BUILT := $(BUILD)/libofsync.a $(BUILD)/libofsync.so.$(LIB_VER) $(BUILD)/libofsync.so \
              $(BUILD)/ofsync.pc
BINS := $(BUILD)/ofsyncd $(BUILD)/ofsync $(LIBS_BUILT) $(BUILD)/examples/sync_conflicts

all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CHECK_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/ofsyncd: $(addprefix $(BUILD)/,$(DAEMON_OBJS))
	$(CC) $(LDFLAGS) $(EXPORT_PARM_MEMO) -o $@ $^ $(LIBS)

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c -o $@ $<

$(BUILD)/libofsync.a: $(addprefix $(BUILD)/,$(LIB_OBJS))
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libofsync.so.$(LIB_VER): $(addprefix $(BUILD)/pic/,$(LIB_OBJS)) src/lib/libofsync.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libofsync.so.$(LIB_SOVER) \
	    -Wl,--version-script=src/lib/libofsync.map -o $@ $(addprefix $(BUILD)/pic/,$(LIB_OBJS)) \
	    $(shell pkg-config --libs jansson)

$(BUILD)/libofsync.so: $(BUILD)/libofsync.so.$(LIB_VER)
	ln -sf libofsync.so.$(LIB_VER) $(BUILD)/libofsync.so.$(LIB_SOVER)
	ln -sf libofsync.so.$(LIB_VER) $@

$(BUILD)/ofsync.pc: src/lib/ofsync.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIB_VER)|' $< > $@

$(BUILD)/ofsync: $(addprefix $(BUILD)/,$(CLI_OBJS)) $(BUILD)/libofsync.a
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs jansson)

# The example of ofsync(3), linked with the shared library as a user would.
$(BUILD)/examples/sync_conflicts: examples/sync_conflicts.c $(BUILD)/libofsync.so include/ofsync.h
	@mkdir -p $(dir $@)
	$(CC) -Iinclude $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(BUILD) -Wl,-rpath,$(abspath $(BUILD)) -lofsync

define unit_rule
$(BUILD)/tests/unit/$(1): $(BUILD)/tests/unit/$(1).o $(addprefix $(BUILD)/,$($(1)_OBJS))
	$$(CC) $$(LDFLAGS) $$($(1)_LDFLAGS) -o $$@ $$^ $$(CHECK_LIBS) $$(LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

UNIT_BINS := $(addprefix $(BUILD)/tests/unit/,$(UNIT_TESTS))

deps:
	./scripts/deps.sh

check-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; CK_FORK=yes \
		LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 $$t; done

# A libofsync client that prints every progress callback (test_library.py).
$(BUILD)/tests/progress_client: tests/integration/progress_client.c $(BUILD)/libofsync.a
	@mkdir -p $(dir $@)
	$(CC) -Iinclude $(CFLAGS) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs jansson)

check-integration: $(BINS) $(BUILD)/tests/progress_client
	OFSYNC_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -v tests/integration $(PYTEST_ARGS)

# The README's two commands work on a fresh machine: dependencies first
# (apt-get, only what is missing), then a make that sees their pkg-config.
check:
	./scripts/deps.sh
	$(MAKE) check-unit check-integration
	BENCH_INSTALL=0 $(MAKE) bench-quick

# bench/run.py: ofsyncd against the limits (smbclient, local disk) and the
# peers (rclone mount, smbnetfs); knobs at the top of bench/run.py.  The
# quick run is what make check runs once as a smoke test (no speed asserted).
bench: $(BINS)
	OFSYNC_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/run.py

bench-quick: $(BINS)
	OFSYNC_BUILD=$(abspath $(BUILD)) BENCH_QUICK=1 \
	    BENCH_OUT=$${BENCH_OUT:-bench/results-quick.json} $(PYTHON) bench/run.py

demo:
	./scripts/deps.sh
	$(MAKE) all
	./scripts/demo.sh start $(abspath $(BUILD))

demo-stop:
	./scripts/demo.sh stop

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

lint-man:
	mandoc -Tlint -W warning man/*.[0-9]

# make install [PREFIX=/usr/local] [DESTDIR=...]: the commands, libofsync
# (static, shared, header, pkg-config file), the systemd units (system and
# user instances), the man pages, an example config and bash completion.
LIBDIR    := $(PREFIX)/lib
DOCDIR    := $(PREFIX)/share/doc/ofsync
UNITS     := ofsyncd.service ofsync-sync.service ofsync-sync.timer
UNIT_SED  := sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@BINDIR@|$(PREFIX)/bin|g'
MANPAGES  := man1/ofsync.1 man3/ofsync.3 man5/ofsync.conf.5 man8/ofsyncd.8
D         := $(DESTDIR)$(PREFIX)

install: $(BINS)
	install -d $(D)/bin $(D)/sbin $(D)/include $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(D)/share/man/man1 $(D)/share/man/man3 $(D)/share/man/man5 $(D)/share/man/man8 \
	    $(DESTDIR)$(LIBDIR)/systemd/system $(DESTDIR)$(LIBDIR)/systemd/user \
	    $(D)/share/bash-completion/completions $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/ofsync $(D)/bin/ofsync
	install -m 0755 $(BUILD)/ofsyncd $(D)/sbin/ofsyncd
	install -m 0644 include/ofsync.h $(D)/include/ofsync.h
	install -m 0644 $(BUILD)/libofsync.a $(DESTDIR)$(LIBDIR)/libofsync.a
	install -m 0755 $(BUILD)/libofsync.so.$(LIB_VER) $(DESTDIR)$(LIBDIR)/libofsync.so.$(LIB_VER)
	ln -sf libofsync.so.$(LIB_VER) $(DESTDIR)$(LIBDIR)/libofsync.so.$(LIB_SOVER)
	ln -sf libofsync.so.$(LIB_VER) $(DESTDIR)$(LIBDIR)/libofsync.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LIB_VER)|' src/lib/ofsync.pc.in \
	    > $(DESTDIR)$(LIBDIR)/pkgconfig/ofsync.pc
	for u in $(UNITS); do \
	    $(UNIT_SED) etc/systemd/system/$$u.in > $(DESTDIR)$(LIBDIR)/systemd/system/$$u && \
	    $(UNIT_SED) etc/systemd/user/$$u.in > $(DESTDIR)$(LIBDIR)/systemd/user/$$u && \
	    chmod 0644 $(DESTDIR)$(LIBDIR)/systemd/system/$$u $(DESTDIR)$(LIBDIR)/systemd/user/$$u \
	    || exit 1; \
	done
	for p in $(MANPAGES); do install -m 0644 man/$$(basename $$p) $(D)/share/man/$$p || exit 1; done
	install -m 0644 etc/ofsync.conf $(DESTDIR)$(DOCDIR)/ofsync.conf.example
	install -m 0644 etc/bash-completion/ofsync $(D)/share/bash-completion/completions/ofsync

uninstall:
	rm -f $(D)/bin/ofsync $(D)/sbin/ofsyncd $(D)/include/ofsync.h \
	    $(DESTDIR)$(LIBDIR)/libofsync.a $(DESTDIR)$(LIBDIR)/libofsync.so \
	    $(DESTDIR)$(LIBDIR)/libofsync.so.$(LIB_SOVER) $(DESTDIR)$(LIBDIR)/libofsync.so.$(LIB_VER) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/ofsync.pc \
	    $(addprefix $(DESTDIR)$(LIBDIR)/systemd/system/,$(UNITS)) \
	    $(addprefix $(DESTDIR)$(LIBDIR)/systemd/user/,$(UNITS)) \
	    $(addprefix $(D)/share/man/,$(MANPAGES)) \
	    $(DESTDIR)$(DOCDIR)/ofsync.conf.example $(D)/share/bash-completion/completions/ofsync
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build build-san

.PHONY: all deps bench bench-quick check check-unit check-integration demo demo-stop format format-check \
        lint-man install uninstall clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
