# Makefile: builds libringlet (static and shared), its pkg-config file, the
# tests and the benchmarks, in one of three flavours:
#   release  build/        -O2, what `make`, `make install` and `make bench` use
#   debug    build/debug/  -O1 -DRG_DEBUG (memory poisoning), gcc by default
#   asan     build/asan/   clang -fsanitize=address,undefined -DRG_DEBUG
# `make test` builds and runs the tests in debug and asan flavours.
# BUILD=dir moves all output; LIB_SRC="..." builds the library from a subset.

PREFIX  ?= /usr/local
FLAVOUR ?= release
BUILD   ?= build
VERSION := 0.1.0

PKG_CONFIG ?= pkg-config
DEPS    := liburing
TESTDEPS := cmocka

# pkg-config is asked when a recipe runs, never while make reads this file
# (recursive "=", not ":="): in `make deps run` on a fresh machine the first
# goal installs pkg-config and the libraries, and an answer taken at read
# time, before that, was a link line without -luring. `make deps X` runs its
# goals one after another, also under -j, so X never starts before deps ends.
pkg = $(shell $(PKG_CONFIG) $1)
ifneq ($(filter deps,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

ifeq ($(FLAVOUR),release)
  B := $(BUILD)
  OPT := -O2 -g -DNDEBUG
else ifeq ($(FLAVOUR),debug)
  B := $(BUILD)/debug
  OPT := -O1 -g -DRG_DEBUG
else ifeq ($(FLAVOUR),asan)
  B := $(BUILD)/asan
  CC := clang
  OPT := -O1 -g -DRG_DEBUG -fsanitize=address,undefined \
         -fno-sanitize-recover=all -fno-omit-frame-pointer
else
  $(error FLAVOUR must be release, debug or asan)
endif

# The project's flags are its own; CFLAGS and LDFLAGS from the command line
# (`make CFLAGS=-march=native`) are added after them, never instead of them.
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wvla
CFLAGS  ?=
LDFLAGS ?=
RG_CFLAGS = -std=c17 -D_GNU_SOURCE -fPIC -fno-semantic-interposition \
	    $(WARN) $(OPT) -Iinclude -Isrc $(call pkg,--cflags $(DEPS)) \
	    $(CFLAGS)
RG_LDFLAGS = $(filter -fsanitize=%,$(OPT)) $(LDFLAGS)
LIBS     = $(call pkg,--libs $(DEPS)) -lpthread
TEST_CFLAGS = $(call pkg,--cflags $(TESTDEPS))
TEST_LIBS   = $(call pkg,--libs $(TESTDEPS))

LIB_SRC  ?= $(sort $(shell find src -name '*.c'))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
UNIT_SRC ?= $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:%.c=$(B)/%)

FORCE:
.PHONY: all packages deps lib unit server http python pytests test run \
	bench bench-quick \
	bench-servers bench-bins bench-tools install install-python clean format
all: lib

# Every Debian package the build, tests, fuzzers and benchmarks use.
PACKAGES := build-essential clang llvm libclang-rt-14-dev pkg-config \
	    liburing-dev libcmocka-dev libjemalloc-dev libmimalloc-dev \
	    libh2o-dev node-llhttp curl ca-certificates \
	    nginx-light h2o wrk gnuplot-nox \
	    python3-dev python3-greenlet python-greenlet-dev \
	    python3-flask python3-falcon python3-django \
	    gunicorn python3-gevent uwsgi-core uwsgi-plugin-python3 \
	    uwsgi-plugin-gevent-python3 \
	    postgresql python3-psycopg2 python3-psycogreen \
	    redis-server python3-redis openssl prometheus \
	    chromium chromium-driver python3-selenium haproxy valgrind strace
packages:
	@echo $(PACKAGES)

# Installs those of them not installed ("ii" to dpkg: a package removed but
# not purged still answers `dpkg -s`), and says which.
deps:
	@missing=; for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | \
	    grep -q '^ii' || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || { echo "make deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing \
	    >/dev/null; }

lib: $(B)/libringlet.a $(B)/libringlet.so $(B)/ringlet.pc

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) -MMD -MP -c $< -o $@

# The status page's HTML is assembled into its object (.incbin in
# status_page.c), which -MMD cannot see: the prerequisite and the file's
# absolute path are given here, for every build of that object.
STATUS_PAGE := src/ops/status_page.html
STATUS_PAGE_OBJ := $(B)/obj/src/ops/status_page.o \
	$(B)/python/obj/src/ops/status_page.o
$(STATUS_PAGE_OBJ): $(STATUS_PAGE)
$(STATUS_PAGE_OBJ): private RG_CFLAGS += \
	-DRG_STATUS_PAGE_HTML='"$(abspath $(STATUS_PAGE))"'

$(B)/libringlet.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Only rg_* symbols are exported; rg__* internals stay local.
$(B)/libringlet.so: $(LIB_OBJ) ringlet.map
	$(CC) -shared -Wl,-soname,libringlet.so.0 \
	    -Wl,--version-script=ringlet.map $(RG_LDFLAGS) -o $@ $(LIB_OBJ) $(LIBS)

# ringlet.pc names PREFIX, so it is rewritten whenever PREFIX differs from
# the one it was written with ($(B)/prefix), as `make install PREFIX=...` needs.
$(B)/prefix: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@

$(B)/ringlet.pc: Makefile $(B)/prefix
	@mkdir -p $(@D)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' \
	    'includedir=$${prefix}/include' '' 'Name: ringlet' \
	    'Description: HTTP/1.1 server framework with disciplined memory' \
	    'Version: $(VERSION)' 'Requires.private: $(DEPS)' \
	    'Libs: -L$${libdir} -lringlet' 'Libs.private: -lpthread' \
	    'Cflags: -I$${includedir}' > $@

# --- tests ---------------------------------------------------------------
$(B)/tests/unit/%: tests/unit/%.c $(B)/libringlet.a
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) $(TEST_CFLAGS) -MMD -MP \
	    $< -o $@ $(RG_LDFLAGS) $(B)/libringlet.a $(LIBS) \
	    $(TEST_LIBS)

# The llhttp corpus lives beside the repository, in ../shared/corpus/llhttp.
$(B)/tests/unit/test_llhttp_corpus: private RG_CFLAGS += \
	-DRG_SHARED_DIR='"$(abspath ../shared)"'

unit: $(UNIT_BIN)

# --- the ringlet binary, examples, black-box tests -------------------------
APP_SRC  := $(sort $(wildcard app/*.c))
EX_SRC   := $(sort $(wildcard examples/*.c))
HTTP_SRC := $(sort $(wildcard tests/http/test_*.c))

# app/ringlet.toml is compiled in (default_config.c) as the configuration
# used without -c.
$(B)/ringlet: $(APP_SRC) $(wildcard app/*.h) app/ringlet.toml $(B)/libringlet.a
	$(CC) $(RG_CFLAGS) -Iapp \
	    -DAPP_DEFAULT_CONFIG_PATH='"$(abspath app/ringlet.toml)"' \
	    $(APP_SRC) -o $@ $(RG_LDFLAGS) $(B)/libringlet.a $(LIBS) -lm

$(B)/examples/%: examples/%.c $(B)/libringlet.a
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) -MMD -MP $< -o $@ $(RG_LDFLAGS) $(B)/libringlet.a $(LIBS)

# Black-box tests drive $(B)/ringlet on ../shared/data with real clients.
$(B)/tests/http/%: tests/http/%.c $(wildcard tests/http/*.h) $(B)/ringlet
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) $(TEST_CFLAGS) -MMD -MP \
	    -DRG_RINGLET_BIN='"$(abspath $(B)/ringlet)"' \
	    -DRG_SHARED_DIR='"$(abspath ../shared)"' \
	    $< -o $@ $(RG_LDFLAGS) $(LIBS) $(TEST_LIBS)

# --- the Python front ----------------------------------------------------
# ringlet._ringlet links libringlet.a (its rg_ symbols stay inside the
# extension) and is built for Debian's interpreter, never another python3
# first on PATH. $(B)/python/ is a package directory:
#   PYTHONPATH=build/python /usr/bin/python3 -m ringlet app:app
PYTHON  ?= /usr/bin/python3
py      = $(shell $(PYTHON) -c 'import sysconfig as s; print($1)')
PY_INC  = $(call py,s.get_paths()["include"])
PY_EXT  = $(call py,s.get_config_var("EXT_SUFFIX"))
PY_SRC  := $(sort $(wildcard python/_ringlet/*.c))
PY_PKG  := $(sort $(wildcard python/ringlet/*.py python/ringlet/*.toml))
PY_OUT  := $(B)/python/ringlet
PY_TESTS := $(sort $(wildcard tests/python/test_*.py))

# Under ASan, greenlet moves suspended C stacks (copies them away and
# back), which leaves ASan's shadow of the stack describing frames that
# are no longer there: false reports (greenlet issues 113, 367). The
# extension and a copy of the library for it are built without stack
# instrumentation (-asan-stack=0); the heap, globals and UBSan are still
# checked.
ifeq ($(FLAVOUR),asan)
PY_STACK := -mllvm -asan-stack=0
PY_LIBA  := $(B)/python/libringlet.a
$(B)/python/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) $(PY_STACK) -MMD -MP -c $< -o $@
$(PY_LIBA): $(LIB_SRC:%.c=$(B)/python/obj/%.o)
	@rm -f $@
	$(AR) rcs $@ $^
else
PY_LIBA  := $(B)/libringlet.a
endif

$(PY_OUT)/.ext: $(PY_SRC) python/_ringlet/ext.h $(PY_LIBA)
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) $(PY_STACK) -isystem $(PY_INC) -Ipython/_ringlet \
	    -shared $(PY_SRC) -o $(PY_OUT)/_ringlet$(PY_EXT) $(RG_LDFLAGS) \
	    -Wl,--exclude-libs,ALL $(PY_LIBA) $(LIBS)
	@touch $@

$(PY_OUT)/%: python/ringlet/%
	@mkdir -p $(@D)
	cp $< $@

# Each Python test file runs as a test program of tests/run: a wrapper
# with the interpreter, this flavour's package, and (asan) the sanitizer
# runtime the interpreter itself is not built with. Leaks are not
# checked: the interpreter keeps memory until exit.
ASAN_RT = $(shell clang -print-file-name=libclang_rt.asan-x86_64.so)
$(B)/tests/python/%: tests/python/%.py $(wildcard tests/python/*.py) \
		python $(B)/ringlet
	@mkdir -p $(@D)
	printf '%s\n' '#!/bin/sh' \
	    'export PYTHONPATH="$(abspath $(B)/python):$(abspath tests/python)"' \
	    'export RG_PYTHON="$(PYTHON)" RG_FLAVOUR="$(FLAVOUR)"' \
	    'export RG_SHARED_DIR="$(abspath ../shared)"' \
	    'export RG_BUILD="$(abspath $(B))"' \
	    'export RG_RINGLET_BIN="$(abspath $(B)/ringlet)"' \
	    $(if $(filter asan,$(FLAVOUR)),'export LD_PRELOAD="$(ASAN_RT)"' \
	    'export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"') \
	    'exec $(PYTHON) $(abspath tests/python/cmocka_runner.py) $(abspath $<) "$$@"' \
	    > $@
	chmod +x $@

python: $(PY_OUT)/.ext $(PY_PKG:python/ringlet/%=$(PY_OUT)/%)
pytests: $(PY_TESTS:tests/python/%.py=$(B)/tests/python/%)

server: $(B)/ringlet $(EX_SRC:%.c=$(B)/%)
http: server $(HTTP_SRC:%.c=$(B)/%) pytests

test:
	$(MAKE) FLAVOUR=debug unit http
	$(MAKE) FLAVOUR=asan unit http
	tests/run $(BUILD)/debug $(BUILD)/asan

# --- benchmarks ----------------------------------------------------------
$(B)/bench/alloc: bench/alloc.c $(B)/libringlet.a
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) -MMD -MP $< -o $@ $(RG_LDFLAGS) $(B)/libringlet.a \
	    $(LIBS) -ldl

$(B)/bench/coro: bench/coro.c $(B)/libringlet.a
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) -MMD -MP $< -o $@ $(RG_LDFLAGS) $(B)/libringlet.a $(LIBS)

$(B)/bench/respond: bench/respond.c $(B)/libringlet.a
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) -MMD -MP $< -o $@ $(RG_LDFLAGS) $(B)/libringlet.a $(LIBS)

# bench/parse measures peers in the same run: llhttp, compiled from Debian's
# node-llhttp sources into the bench alone, and picohttpparser from libh2o
# when libh2o.so is installed.
LLHTTP_DIR ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp
LLHTTP_OBJ := $(B)/bench/llhttp/api.o $(B)/bench/llhttp/http.o \
	      $(B)/bench/llhttp/llhttp.o
# picohttpparser's phr_parse_request, from Debian's libh2o.so (which ships
# no picohttpparser.h: bench/parse.c declares the function itself).
PICO_LIB = $(filter /%,$(shell $(CC) -print-file-name=libh2o.so))

$(B)/bench/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(OPT) -w -isystem $(LLHTTP_INC) -c $< -o $@

$(B)/bench/parse: bench/parse.c $(B)/libringlet.a $(LLHTTP_OBJ)
	@mkdir -p $(@D)
	$(CC) $(RG_CFLAGS) -isystem $(LLHTTP_INC) \
	    $(if $(PICO_LIB),-DRG_BENCH_PICO) \
	    -MMD -MP $< -o $@ $(RG_LDFLAGS) $(LLHTTP_OBJ) $(B)/libringlet.a \
	    $(PICO_LIB) $(LIBS)

# bench/server.sh's tools, standalone (they link nothing of ringlet's):
# the idle-connection holder, the LD_PRELOAD allocation counter with its
# reader, and the calibration responder (bench/ceiling.c, liburing alone).
BENCH_TOOL_FLAGS := -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror
$(B)/bench/idle: bench/idle.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_TOOL_FLAGS) -o $@ $<

$(B)/bench/alloc_count.so: bench/alloc_count.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_TOOL_FLAGS) -fPIC -shared -pthread -o $@ $< -ldl

$(B)/bench/alloc_count: bench/alloc_count.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_TOOL_FLAGS) -DALLOC_COUNT_READER -o $@ $<

$(B)/bench/ceiling: bench/ceiling.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_TOOL_FLAGS) $(call pkg,--cflags liburing) -o $@ $< \
	    $(call pkg,--libs liburing)

bench-tools: $(B)/bench/idle $(B)/bench/alloc_count.so $(B)/bench/alloc_count \
	$(B)/bench/ceiling
bench-bins: $(B)/bench/alloc $(B)/bench/parse $(B)/bench/respond \
	$(B)/bench/coro bench-tools

# The whole picture in one command: the micro-benchmarks, then ringlet
# against nginx, h2o and the calibration responder (bench/ceiling) on this
# machine in the same run (wrk scenarios, idle memory, allocator calls, a
# soak), written to bench/results/latest.md
# with charts. bench/run.sh says how; about 8 minutes on 2 cores.
# bench-quick: one short round, to bench/results/quick.md, in under a
# minute: proves the harness works, its timings mean nothing.
# bench-servers: the servers alone, to bench/results/servers.md.
bench: deps
	BUILD=$(BUILD) BENCH_COMMAND='make bench' bench/run.sh full

bench-quick: deps
	BUILD=$(BUILD) BENCH_COMMAND='make bench-quick' bench/run.sh quick

bench-servers: deps
	BUILD=$(BUILD) BENCH_COMMAND='make bench-servers' MICRO=0 OUT=servers \
	    bench/run.sh full

# Instructions per request, counted under callgrind rather than timed (so
# the shared machine's load does not move them): ringlet, nginx, h2o and
# the ceiling, then ringlet's request path by stage and the syscalls per
# request, to bench/results/raw-instructions/instructions.md. Needs
# valgrind and strace; bench/instructions.sh says how. About 3 minutes.
.PHONY: bench-instructions
bench-instructions:
	$(MAKE) FLAVOUR=release BUILD=$(BUILD) server bench-tools
	BUILD=$(BUILD) bench/instructions.sh

# The demo server on port 8080, on the shared HttpArena data.
run: $(B)/ringlet
	$(B)/ringlet --port 8080 --root $(abspath ../shared/data/static) \
	    --data $(abspath ../shared/data/dataset.json)

# --- fuzzing -------------------------------------------------------------
# libFuzzer targets, one per tests/fuzz/fuzz_<target>.c with its seed corpus
# in tests/fuzz/corpus/<target>/, built with clang, ASan and UBSan in
# $(BUILD)/fuzz/. They link the library compiled the same way (not
# libringlet.a) into an archive, from which each takes only the objects it
# reaches: the parsers alone, or (rg_query_param, in request.c) core and io
# too. `make fuzz` runs each for FUZZ_SECONDS on a copy of its seed corpus
# (the repository is left untouched) and fails on any crash, leak or
# timeout; crashing inputs are saved as $(BUILD)/fuzz/<target>-*.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,\
		$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CFLAGS   = -std=c17 -D_GNU_SOURCE $(WARN) -g -O1 -DRG_DEBUG \
		-Iinclude -Isrc $(call pkg,--cflags $(DEPS)) \
		-fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC     := $(filter src/mem/% src/http/% src/static/% src/core/% \
		src/io/%,$(LIB_SRC))
FUZZ_OBJ     := $(FUZZ_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_LIB     := $(FUZZ_DIR)/libringlet-fuzz.a

.PHONY: fuzz
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%): $(FUZZ_DIR)/fuzz_%: \
		tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP $< $(FUZZ_LIB) -o $@ $(LIBS)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@failed=; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t && \
	    cp -n tests/fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus/$$t/ && \
	    $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
		-max_len=8192 -timeout=10 -dict=tests/fuzz/http.dict \
		-print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/$$t- \
		$(FUZZ_DIR)/corpus/$$t >$(FUZZ_DIR)/$$t.log 2>&1 \
	    && echo "fuzz: $$t ok, $$(sed -n 's/^stat::number_of_executed_units: *//p' \
		$(FUZZ_DIR)/$$t.log) runs" \
	    || { failed="$$failed $$t"; echo "fuzz: $$t FAILED"; }; \
	done; \
	for t in $$failed; do \
	    echo "=== fuzz: $$t, the end of $(FUZZ_DIR)/$$t.log"; \
	    grep -v '^#[0-9]' $(FUZZ_DIR)/$$t.log | tail -n 60; \
	    for a in $(FUZZ_DIR)/$$t-*; do [ -f "$$a" ] && \
		{ echo "=== $$a:"; od -A d -c "$$a" | head -n 40; }; done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed"; exit 1; fi

# --- install -------------------------------------------------------------
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/ringlet.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(B)/libringlet.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libringlet.so \
	    $(DESTDIR)$(PREFIX)/lib/libringlet.so.$(VERSION)
	ln -sf libringlet.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libringlet.so.0
	ln -sf libringlet.so.0 $(DESTDIR)$(PREFIX)/lib/libringlet.so
	install -m 644 $(B)/ringlet.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/

# The Python package into the dist-packages Debian's python3 reads for
# PREFIX: /usr/lib/python3/dist-packages for /usr (where Debian's own
# packages go), PREFIX/lib/python3.X/dist-packages otherwise (/usr/local).
PY_VER  = $(call py,s.get_python_version())
PY_DEST = $(DESTDIR)$(PREFIX)/lib/$(if $(filter /usr,$(PREFIX)),python3,python$(PY_VER))/dist-packages/ringlet
install-python: python
	install -d $(PY_DEST)
	install -m 644 $(PY_PKG:python/ringlet/%=$(PY_OUT)/%) $(PY_DEST)/
	install -m 755 $(PY_OUT)/_ringlet$(PY_EXT) $(PY_DEST)/
install: install-python

format:
	clang-format -i $(shell find include src tests bench examples app \
	    -name '*.[ch]')

clean:
	rm -rf $(BUILD)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
