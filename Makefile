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

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wvla
CFLAGS  ?=
CFLAGS  += -std=c17 -D_GNU_SOURCE -fPIC $(WARN) $(OPT) -Iinclude -Isrc \
           $(shell $(PKG_CONFIG) --cflags $(DEPS))
LDFLAGS ?=
LDFLAGS += $(filter -fsanitize=%,$(OPT))
LIBS    := $(shell $(PKG_CONFIG) --libs $(DEPS)) -lpthread

LIB_SRC  ?= $(sort $(shell find src -name '*.c'))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:%.c=$(B)/%)

.PHONY: all lib unit test run bench install clean format
all: lib

lib: $(B)/libringlet.a $(B)/libringlet.so $(B)/ringlet.pc

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libringlet.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Only rg_* symbols are exported; rg__* internals stay local.
$(B)/libringlet.so: $(LIB_OBJ) ringlet.map
	$(CC) -shared -Wl,-soname,libringlet.so.0 \
	    -Wl,--version-script=ringlet.map $(LDFLAGS) -o $@ $(LIB_OBJ) $(LIBS)

$(B)/ringlet.pc: Makefile
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
	$(CC) $(CFLAGS) $(shell $(PKG_CONFIG) --cflags $(TESTDEPS)) -MMD -MP \
	    $< -o $@ $(LDFLAGS) $(B)/libringlet.a $(LIBS) \
	    $(shell $(PKG_CONFIG) --libs $(TESTDEPS))

unit: $(UNIT_BIN)

test:
	$(MAKE) FLAVOUR=debug unit
	$(MAKE) FLAVOUR=asan unit
	tests/run $(BUILD)/debug $(BUILD)/asan

# --- benchmarks ----------------------------------------------------------
$(B)/bench/alloc: bench/alloc.c $(B)/libringlet.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP $< -o $@ $(LDFLAGS) $(B)/libringlet.a \
	    $(LIBS) -ldl

bench: $(B)/bench/alloc
	$(B)/bench/alloc

run: bench

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

format:
	clang-format -i $(shell find include src tests bench examples app \
	    -name '*.[ch]')

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
