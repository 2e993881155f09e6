# SPDX-License-Identifier: MIT
# ebpfdsl build. `make` builds the Lua module and the static C library;
# `make test` installs what is missing, builds and runs every spec.

CC      ?= cc
LUA     ?= lua5.4
LUA_INC ?= $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
PREFIX  ?= /usr/local
LUA_LMOD ?= $(PREFIX)/share/lua/5.4
LUA_CMOD ?= $(PREFIX)/lib/lua/5.4

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=gnu99 $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden
LIBS    := -lbpf -lelf -lz

B := build
CORE_SRC   := $(sort $(wildcard csrc/core/*.c))
KERNEL_SRC := $(sort $(wildcard csrc/kernel/*.c))
LUA_SRC    := $(sort $(wildcard csrc/lua/*.c))
LIB_OBJ    := $(patsubst csrc/%.c,$(B)/obj/%.o,$(CORE_SRC) $(KERNEL_SRC))
LUA_OBJ    := $(patsubst csrc/%.c,$(B)/obj/%.o,$(LUA_SRC))
HEADERS    := $(wildcard csrc/*.h csrc/*/*.h)

BUSTED := $(LUA) /usr/bin/busted

.PHONY: all deps test test-c spec lint bench install uninstall clean probe run fuzz asan

all: $(B)/ebpfdsl/core.so $(B)/libebpfdsl.a

# Only csrc/lua sees Lua's headers: the other layers build without them.
$(B)/obj/lua/%.o: csrc/lua/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUA_INC) -c $< -o $@

$(B)/obj/%.o: csrc/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libebpfdsl.a: $(LIB_OBJ)
	@mkdir -p $(B)
	rm -f $@
	ar rcs $@ $^

$(B)/ebpfdsl/core.so: $(LUA_OBJ) $(B)/libebpfdsl.a
	@mkdir -p $(B)/ebpfdsl
	$(CC) -shared -o $@ $(LUA_OBJ) $(B)/libebpfdsl.a $(LIBS)

deps:
	@scripts/deps

# The README's test command: everything, from a fresh machine.
test: deps all
	$(BUSTED)
	$(MAKE) --no-print-directory test-c
	$(MAKE) --no-print-directory lint

spec: all
	$(BUSTED) $(SPEC)

# Fuzzing (fuzz/): libFuzzer harnesses on the C API, built with clang-19,
# AddressSanitizer and UBSan, each run FUZZ_SECONDS (any crash, failed
# property, leak or timeout fails), then the tracepoint-format generator.
# `make fuzz FUZZ_SECONDS=600` runs longer.
FUZZ_CC      ?= clang-19
FUZZ_SECONDS ?= 20
FUZZ_FLAGS   := -std=gnu99 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OBJ     := $(patsubst csrc/%.c,$(B)/fuzz/obj/%.o,$(CORE_SRC) $(KERNEL_SRC))
FUZZ_BIN     := $(patsubst fuzz/%.c,$(B)/fuzz/%,$(wildcard fuzz/*.c))

.SECONDARY: $(FUZZ_OBJ)
$(B)/fuzz/obj/%.o: csrc/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(B)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) -o $@ $(LIBS)

fuzz: deps all $(FUZZ_BIN)
	scripts/fuzz $(FUZZ_SECONDS)

# The whole spec suite against the module built with AddressSanitizer and
# UBSan, in an interpreter that carries their runtimes (no LD_PRELOAD for
# the children to inherit); LeakSanitizer checks that process at exit.
ASAN_FLAGS := -std=gnu99 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
$(B)/asan/ebpfdsl/core.so: $(CORE_SRC) $(KERNEL_SRC) $(LUA_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) -fPIC -shared $(LUA_INC) $(CORE_SRC) $(KERNEL_SRC) $(LUA_SRC) -o $@ $(LIBS)

$(B)/asan/lua: spec/support/lua_run.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) $(LUA_INC) $< -o $@ $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)

asan: deps all $(B)/asan/ebpfdsl/core.so $(B)/asan/lua
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(B)/asan/lua /usr/bin/busted --cpath='$(B)/asan/?.so' $(SPEC)

# A plain C program against libebpfdsl.a, with no Lua on the include path.
C_EXAMPLES := $(patsubst examples/c/%.c,$(B)/examples/%,$(wildcard examples/c/*.c))
$(B)/examples/%: examples/c/%.c $(B)/libebpfdsl.a csrc/ebpfdsl.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 $(CFLAGS) $(WARN) -Icsrc $< -o $@ $(B)/libebpfdsl.a $(LIBS)

test-c: $(C_EXAMPLES)
	@for e in $(C_EXAMPLES); do echo "== $$e"; $$e || exit 1; done

# Runs a Lua script against the freshly built module, from this tree.
RUN_LUA = $(LUA) -e 'package.path="lua/?.lua;lua/?/init.lua;"..package.path; package.cpath="$(B)/?.so;"..package.cpath'
EXAMPLE ?= examples/hello_test_run.lua
run: all
	$(RUN_LUA) $(EXAMPLE)

# The README's probe command: trace file opens for a few seconds.
probe: deps all
	$(RUN_LUA) examples/trace_openat.lua

lint: deps
	luacheck --codes lua spec examples bench tutorials fuzz
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem --suppress=toomanyconfigs --std=c99 -Icsrc $(LUA_INC) csrc examples/c fuzz

# C baselines for the benchmarks, one program per bench/c/*.c
BENCH_C := $(patsubst bench/c/%.c,$(B)/bench/%,$(wildcard bench/c/*.c))
$(B)/bench/%: bench/c/%.c $(B)/libebpfdsl.a csrc/ebpfdsl.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu99 -O2 $(WARN) -Icsrc $< -o $@ $(B)/libebpfdsl.a $(LIBS)

bench: deps all $(BENCH_C)
	$(LUA) bench/run.lua

install: all
	install -d $(DESTDIR)$(LUA_LMOD)/ebpfdsl $(DESTDIR)$(LUA_CMOD)/ebpfdsl $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib
	install -m 644 lua/ebpfdsl/*.lua $(DESTDIR)$(LUA_LMOD)/ebpfdsl/
	install -m 755 $(B)/ebpfdsl/core.so $(DESTDIR)$(LUA_CMOD)/ebpfdsl/
	install -m 644 csrc/ebpfdsl.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(B)/libebpfdsl.a $(DESTDIR)$(PREFIX)/lib/

uninstall:
	rm -rf $(DESTDIR)$(LUA_LMOD)/ebpfdsl $(DESTDIR)$(LUA_CMOD)/ebpfdsl
	rm -f $(DESTDIR)$(PREFIX)/include/ebpfdsl.h $(DESTDIR)$(PREFIX)/lib/libebpfdsl.a

clean:
	rm -rf $(B)
