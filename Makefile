# readyd: non-recursive GNU Makefile.
#
#   make            build build/readyd
#   make run        start a local PostgreSQL, PgBouncer and Redis on
#                   loopback and run readyd against them in the foreground
#   make test       unit tests (cmocka) and integration tests (real servers)
#   make test-asan  the same suite built with ASan/UBSan
#   make test-valgrind  readyd under valgrind through faults (in make test)
#   make bench      benchmarks
#   make install    PREFIX=/usr/local DESTDIR=
#   make fmt-check  clang-format check;  make fmt  reformat
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS (60) each
#   make deps       install the Debian packages build, run and tests need

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
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
CPPFLAGS  += -D_GNU_SOURCE -DREADYD_VERSION='"$(VERSION)"' -Iinclude -I$(BUILD)
ALL_CFLAGS = $(WARNINGS) $(OPT) $(SAN) $(CFLAGS) \
	     $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LIBS       = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm
TEST_LIBS  = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

# Every module but main.c; tests link these.
LIB_SRCS  := src/config.c src/config_check.c src/config_expand.c \
	     src/config_lex.c src/config_parse.c src/config_parser.c \
	     src/strbuf.c src/suggest.c src/log.c src/probe.c src/probe_pg.c \
	     src/probe_pgbouncer.c src/probe_redis.c src/probe_tcp.c \
	     src/resolve.c \
	     src/sched.c src/http.c src/render_json.c src/render_text.c \
	     src/render_prom.c src/client.c src/verdict.c src/notify.c \
	     src/clock.c src/runtime.c src/serve.c src/once.c
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/builtin_conf.o
MAIN_OBJ  := $(BUILD)/main.o

UNIT_TESTS := test_config test_sched test_render test_probe test_verdict \
	      test_clock test_strbuf test_suggest test_config_lex \
	      test_config_parse test_config_expand test_config_parser \
	      test_config_check
UNIT_BINS  := $(UNIT_TESTS:%=$(BUILD)/tests/%)

# Fuzz targets: tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/corpus/NAME,
# crashes once found in tests/fuzz/regress/NAME (replayed by make unit).
FUZZ_TARGETS := config parse http classify render
FUZZ_SECONDS ?= 60
FUZZ_HELPERS := tests/fuzz/fuzz_util.c tests/fake_probe.c
FUZZ_DEPS    := $(FUZZ_HELPERS) tests/fuzz/fuzz.h tests/fake_probe.h \
		$(LIB_OBJS)
REGRESS_BINS := $(FUZZ_TARGETS:%=$(BUILD)/tests/regress_%)

.PHONY: all run test unit integration packaging test-asan test-valgrind \
	bench install \
	clean fuzz fuzz-build \
	fmt fmt-check deps deps-build

all: $(BUILD)/readyd

$(BUILD)/readyd: $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(SAN) -o $@ $^ $(LIBS)

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
	$(MAKE) BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' \
	    unit integration

# Each fuzz target for FUZZ_SECONDS under ASan/UBSan, built with clang in
# build-fuzz; prints executions per second and coverage, fails on a crash.
fuzz: deps-build
	@tests/stack/deps.sh $(FUZZ_DEBS)
	$(MAKE) BUILD=build-fuzz CC=clang OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all' \
	    fuzz-build
	tests/fuzz/run.sh build-fuzz/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

bench: deps $(BUILD)/readyd
	tests/bench/run.sh $(BUILD)/readyd

# ---- running against a local stack ----

run: deps $(BUILD)/readyd
	tests/stack/run-local.sh $(BUILD)/readyd

# ---- packaging ----

install: $(BUILD)/readyd
	install -D -m 0755 $(BUILD)/readyd $(DESTDIR)$(PREFIX)/bin/readyd
	install -D -m 0644 config/readyd.conf \
	    $(DESTDIR)$(PREFIX)/share/readyd/readyd.conf.example
	if [ -f docs/readyd.8 ]; then install -D -m 0644 docs/readyd.8 \
	    $(DESTDIR)$(PREFIX)/share/man/man8/readyd.8; fi

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
	      postgresql-client curl procps iproute2 util-linux mount valgrind jq \
	      python3 python3-yaml docker-compose prometheus systemd man-db \
	      groff-base \
	      python3-django python3-psycopg2 python3-django-redis \
	      python3-django-channels python3-channels-redis python3-celery \
	      python3-kombu

# Only make fuzz needs these: clang and its libFuzzer/sanitizer runtimes.
FUZZ_DEBS  := clang libclang-rt-14-dev

deps-build:
	@tests/stack/deps.sh $(BUILD_DEBS)

deps:
	@tests/stack/deps.sh $(BUILD_DEBS) $(RUN_DEBS)
