# readyd: non-recursive GNU Makefile.
#
#   make            build build/readyd
#   make run        start a local PostgreSQL, PgBouncer and Redis on
#                   loopback and run readyd against them in the foreground
#   make test       unit tests (cmocka) and integration tests (real servers)
#   make test-asan  the same suite built with ASan/UBSan
#   make test-valgrind  readyd under valgrind through faults (in make test)
#   make soak       readyd (ASan/UBSan/LSan) under random faults for
#                   SOAK_MINUTES (default 10; not in make test)
#   make bench      readyd's cost next to its peers, one run: nginx and
#                   /live, /ready, /metrics; CPU per probe attempt per kind
#                   and compose's pg_isready/redis-cli cycle; backend
#                   amplification; then make bench-scale (docs/benchmarks.md)
#   make bench-scale  500 checks with heartbeats, with wrk on /ready
#   make bench-http   the HTTP part of make bench alone
#   make bench-detect fault -> /ready 503 -> back to 200 (BENCH_CASES=...)
#   make install    binary, man page, systemd unit, /etc/readyd/readyd.conf
#                   and /etc/readyd/readyd.env (those two only when absent);
#                   PREFIX=/usr/local DESTDIR= BINDIR=$(PREFIX)/bin
#   make uninstall  the same files, but never /etc/readyd (operator's data)
#   make deb        build/readyd_$(VERSION)_amd64.deb (debhelper, lintian-clean)
#   make test-deploy  the .deb under a real systemd (nspawn) and the image
#                   under podman, against a local stack (needs root)
#   make fmt-check  clang-format check;  make fmt  reformat
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS (60) each
#   make deps       install the Debian packages build, run and tests need

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share
# readyd reads /etc/readyd/readyd.conf whatever the prefix (and the unit
# names /etc/readyd/readyd.env), so SYSCONFDIR is not under PREFIX.
SYSCONFDIR ?= /etc
BUILD     ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config

PKGS      := libpq hiredis libevent libevent_extra jansson libsystemd
TEST_PKGS := cmocka

WARNINGS  := -std=c11 -Wall -Wextra -Werror -Wstrict-prototypes \
	     -Wmissing-prototypes -Wshadow -Wwrite-strings \
	     -Wimplicit-fallthrough -Wformat=2 -Wpointer-arith \
	     -Wno-format-nonliteral
OPT       ?= -O2 -g
SAN       ?=
CPPFLAGS  += -D_GNU_SOURCE -DREADYD_VERSION='"$(VERSION)"' -iquote include -iquote $(BUILD)
ALL_CFLAGS = $(WARNINGS) $(OPT) $(SAN) $(CFLAGS) \
	     $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LIBS       = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm -pthread
TEST_LIBS  = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

# Every module but main.c; tests link these.
LIB_SRCS  := src/config.c src/config_check.c src/config_expand.c \
	     src/config_lex.c src/config_parse.c src/config_parser.c \
	     src/strbuf.c src/suggest.c src/log.c src/probe.c src/probe_pg.c \
	     src/probe_pgbouncer.c src/probe_redis.c src/probe_tcp.c \
	     src/resolve.c src/http_cache.c \
	     src/sched.c src/sched_rules.c src/http.c src/render_json.c src/render_text.c \
	     src/render_prom.c src/render_html.c src/client.c src/verdict.c src/notify.c \
	     src/clock.c src/runtime.c src/serve.c src/once.c src/lint_env.c \
	     src/redis_inspect.c src/probe_pg_insecure.c src/procstat.c \
	     src/pgpoll.c
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/builtin_conf.o
MAIN_OBJ  := $(BUILD)/main.o

UNIT_TESTS := test_config test_sched test_render test_probe test_verdict \
	      test_clock test_strbuf test_suggest test_config_lex \
	      test_config_parse test_config_expand test_config_parser \
	      test_config_check test_http_cache test_client \
	      test_lint_env test_probe_pgbouncer \
	      test_redis_inspect
UNIT_BINS  := $(UNIT_TESTS:%=$(BUILD)/tests/%)

# Fuzz targets: tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/corpus/NAME,
# crashes once found in tests/fuzz/regress/NAME (replayed by make unit).
FUZZ_TARGETS := config parse http classify render redis
FUZZ_SECONDS ?= 60
FUZZ_HELPERS := tests/fuzz/fuzz_util.c tests/fake_probe.c
FUZZ_DEPS    := $(FUZZ_HELPERS) tests/fuzz/fuzz.h tests/fake_probe.h \
		$(LIB_OBJS)
REGRESS_BINS := $(FUZZ_TARGETS:%=$(BUILD)/tests/regress_%)

.PHONY: all run test unit integration packaging test-asan test-valgrind \
	soak bench bench-http bench-scale bench-detect install uninstall deb lintian test-deploy \
	clean fuzz fuzz-build \
	fmt fmt-check deps deps-build

all: $(BUILD)/readyd

$(BUILD)/readyd: $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: src/%.c $(wildcard include/*.h) | $(BUILD)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The built-in default configuration is config/readyd.conf, verbatim.
$(BUILD)/builtin_conf.c: config/readyd.conf | $(BUILD)
	{ echo '/* generated from config/readyd.conf: do not edit */'; \
	  echo 'const char readyd_builtin_conf[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(BUILD)/builtin_conf.o: $(BUILD)/builtin_conf.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-variable-declarations \
	    -c -o $@ $<

$(BUILD)/tests/%: tests/%.c tests/fake_probe.c $(LIB_OBJS) \
    $(wildcard tests/*.h) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) -Itests $(ALL_CFLAGS) -Wno-missing-prototypes \
	    -o $@ $< tests/fake_probe.c $(LIB_OBJS) $(LIBS) $(TEST_LIBS)

# A fuzz target replayed on files, with any compiler (no libFuzzer).
$(BUILD)/tests/regress_%: tests/fuzz/fuzz_%.c tests/fuzz/regress.c \
    $(FUZZ_DEPS) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) -Itests -Itests/fuzz $(ALL_CFLAGS) -o $@ $< \
	    tests/fuzz/regress.c $(FUZZ_HELPERS) $(LIB_OBJS) $(LIBS)

# The libFuzzer binary of a target (CC=clang, SAN with fuzzer-no-link).
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS) | $(BUILD)/fuzz
	$(CC) $(CPPFLAGS) -Itests -Itests/fuzz $(ALL_CFLAGS) -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_HELPERS) $(LIB_OBJS) $(LIBS)

$(BUILD) $(BUILD)/tests $(BUILD)/fuzz:
	mkdir -p $@

# ---- tests ----

unit: deps-build $(UNIT_BINS) $(REGRESS_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; \
	    (cd tests && ../$$t); done
	@set -e; for t in $(FUZZ_TARGETS); do \
	    echo "== $(BUILD)/tests/regress_$$t"; \
	    $(BUILD)/tests/regress_$$t tests/fuzz/regress/$$t \
		tests/fuzz/corpus/$$t </dev/null; done

integration: deps $(BUILD)/readyd
	tests/integration/run.sh $(BUILD)/readyd

# The shipped files: compose, Dockerfile libraries, Kubernetes, systemd
# hardening, Prometheus rules, man page, make install.
packaging: deps $(BUILD)/readyd
	tests/packaging/run.sh $(BUILD)/readyd

# readyd under valgrind through faults, a reload and shutdown.
test-valgrind: deps $(BUILD)/readyd
	tests/valgrind/run.sh $(BUILD)/readyd

test: deps
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) packaging
	$(MAKE) test-valgrind

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	IT_AGREE=0 $(MAKE) BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' \
	    unit integration

# The chaos soak: readyd built with ASan/UBSan/LSan, the default
# configuration, random faults for SOAK_MINUTES (SOAK_SEED replays a run).
SOAK_MINUTES ?= 10
soak: deps
	$(MAKE) BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' \
	    build-asan/readyd
	SOAK_MINUTES=$(SOAK_MINUTES) tests/soak/run.sh build-asan/readyd

# Each fuzz target for FUZZ_SECONDS under ASan/UBSan, built with clang in
# build-fuzz; prints executions per second and coverage, fails on a crash.
fuzz: deps-build
	@tests/stack/deps.sh $(FUZZ_DEBS)
	$(MAKE) BUILD=build-fuzz CC=clang OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all' \
	    fuzz-build
	tests/fuzz/run.sh build-fuzz/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

# The cost side by side (tests/bench/cost.sh: ratios first, then the
# figures with machine, date and versions), then many checks.
BENCH_DEBS := wrk nginx-light strace

bench: deps $(BUILD)/readyd
	@tests/stack/deps.sh $(BENCH_DEBS)
	tests/bench/cost.sh $(BUILD)/readyd
	tests/bench/scale.sh $(BUILD)/readyd

# 500 checks (Redis, PgBouncer), heartbeats, wrk on /ready: CPU, lag, RSS,
# the loop's stretches between polls (strace).
bench-scale: deps $(BUILD)/readyd
	@tests/stack/deps.sh $(BENCH_DEBS)
	tests/bench/scale.sh $(BUILD)/readyd

# Server CPU per request next to nginx's `return 200` (wrk, interleaved).
bench-http: deps $(BUILD)/readyd
	@tests/stack/deps.sh $(BENCH_DEBS)
	tests/bench/http_cost.sh $(BUILD)/readyd

# Detection: fault -> /ready 503 and back, next to compose's semantics.
bench-detect: deps $(BUILD)/readyd
	tests/bench/run.sh $(BUILD)/readyd

# ---- running against a local stack ----

run: deps $(BUILD)/readyd
	tests/stack/run-local.sh $(BUILD)/readyd

# ---- packaging ----

# The unit goes where systemd looks for vendor units; its ExecStart names
# the binary installed here. readyd.conf and readyd.env (the template of
# every ${VAR} readyd.conf reads; 0600, it takes passwords) are installed
# only when absent: an operator's edited file is never overwritten.
SYSTEMDUNITDIR ?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir \
		    systemd 2>/dev/null),$(PREFIX)/lib/systemd/system)

install: $(BUILD)/readyd
	install -D -m 0755 $(BUILD)/readyd $(DESTDIR)$(BINDIR)/readyd
	install -D -m 0644 docs/readyd.8 $(DESTDIR)$(MANDIR)/man8/readyd.8
	install -D -m 0644 config/readyd.conf \
	    $(DESTDIR)$(DATADIR)/readyd/readyd.conf.example
	install -D -m 0644 config/env.example \
	    $(DESTDIR)$(DATADIR)/readyd/readyd.env.example
	install -d -m 0755 $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|^ExecStart=/usr/local/bin/readyd |ExecStart=$(BINDIR)/readyd |' \
	    systemd/readyd.service > $(DESTDIR)$(SYSTEMDUNITDIR)/readyd.service.tmp
	grep -q '^ExecStart=$(BINDIR)/readyd serve ' \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/readyd.service.tmp
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/readyd.service.tmp
	mv $(DESTDIR)$(SYSTEMDUNITDIR)/readyd.service.tmp \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/readyd.service
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/readyd
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/readyd/readyd.conf ]; then \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/readyd/readyd.conf"; else \
	    echo "install -m 0644 config/readyd.conf $(DESTDIR)$(SYSCONFDIR)/readyd/readyd.conf"; \
	    install -m 0644 config/readyd.conf \
		$(DESTDIR)$(SYSCONFDIR)/readyd/readyd.conf; fi
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/readyd/readyd.env ]; then \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/readyd/readyd.env"; else \
	    echo "install -m 0600 config/env.example $(DESTDIR)$(SYSCONFDIR)/readyd/readyd.env"; \
	    install -m 0600 config/env.example \
		$(DESTDIR)$(SYSCONFDIR)/readyd/readyd.env; fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	    systemctl daemon-reload; fi

uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	    systemctl disable --now readyd.service 2>/dev/null || true; fi
	rm -f $(DESTDIR)$(BINDIR)/readyd $(DESTDIR)$(MANDIR)/man8/readyd.8 \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/readyd.service \
	    $(DESTDIR)$(DATADIR)/readyd/readyd.conf.example \
	    $(DESTDIR)$(DATADIR)/readyd/readyd.env.example
	rmdir $(DESTDIR)$(DATADIR)/readyd 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	    systemctl daemon-reload; fi
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/readyd (your configuration and passwords): remove it yourself"

# A Debian package built by debhelper from a copy of the sources, with the
# packaging files of config/debian/ as its debian/ directory.
DEB      := $(BUILD)/readyd_$(VERSION)_amd64.deb
DEB_SRCS := Makefile $(wildcard src/*.c include/*.h) config/readyd.conf \
	    config/env.example systemd/readyd.service docs/readyd.8 \
	    $(wildcard config/debian/* config/debian/source/*)

deb: $(DEB)

$(DEB): $(DEB_SRCS)
	@tests/stack/deps.sh $(BUILD_DEBS) $(DEB_DEBS)
	@v=$$(dpkg-parsechangelog -l config/debian/changelog -S Version); \
	    [ "$$v" = "$(VERSION)" ] || { echo "config/debian/changelog is at $$v, \
	    the Makefile at $(VERSION): add a changelog entry"; exit 1; }
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/readyd-$(VERSION)
	cp -r --parents Makefile src include config/readyd.conf config/env.example \
	    systemd/readyd.service docs/readyd.8 $(BUILD)/deb/readyd-$(VERSION)/
	cp -r config/debian $(BUILD)/deb/readyd-$(VERSION)/debian
	cd $(BUILD)/deb/readyd-$(VERSION) && \
	    dpkg-buildpackage -b -uc -us > ../build.log 2>&1 || \
	    { tail -n 40 ../build.log; exit 1; }
	mv $(BUILD)/deb/readyd_$(VERSION)_amd64.deb $@
	@echo "built $@"

# lintian on the package: no error, no warning (overrides, each with its
# reason, in config/debian/readyd.lintian-overrides).
lintian: $(DEB)
	lintian --fail-on error,warning --display-info $(DEB)

# The deployment proven by the real programs (root; see tests/deploy/run.sh).
test-deploy: deps $(BUILD)/readyd
	@tests/stack/deps.sh $(DEB_DEBS) $(DEPLOY_DEBS)
	$(MAKE) deb
	tests/deploy/run.sh $(DEB) $(BUILD)/readyd

clean:
	rm -rf build build-asan build-fuzz

# ---- style ----

FMT_FILES = $(wildcard src/*.c include/*.h tests/*.c tests/*.h \
	    tests/fuzz/*.c tests/fuzz/*.h)

fmt:
	clang-format -i $(FMT_FILES)

fmt-check: deps-build
	clang-format --dry-run -Werror $(FMT_FILES)

# ---- dependencies (Debian 12) ----

BUILD_DEBS := gcc make pkg-config libc6-dev libpq-dev libhiredis-dev \
	      libevent-dev libjansson-dev libcmocka-dev \
	      libsystemd-dev \
	      clang-format
RUN_DEBS   := postgresql pgbouncer redis-server redis-tools \
	      iptables \
	      postgresql-client curl procps iproute2 util-linux mount valgrind jq \
	      python3 python3-yaml docker-compose prometheus systemd man-db \
	      groff-base \
	      python3-django python3-psycopg2 python3-django-redis \
	      python3-django-channels python3-channels-redis python3-celery \
	      python3-kombu \
	      chromium tidy python3-pil fonts-dejavu-core \
	      dpkg-dev

# make deb; make test-deploy (systemd-nspawn, podman with runc, debootstrap
# for the base root and images).
DEB_DEBS    := build-essential debhelper dpkg-dev lintian
DEPLOY_DEBS := systemd-container podman runc debootstrap zstd curl \
	       util-linux python3 python3-yaml

# Only make fuzz needs these: clang and its libFuzzer/sanitizer runtimes.
FUZZ_DEBS  := clang libclang-rt-14-dev

deps-build:
	@tests/stack/deps.sh $(BUILD_DEBS)

deps:
	@tests/stack/deps.sh $(BUILD_DEBS) $(RUN_DEBS)
