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
LIBS    := -lbpf -lelf -lz -pthread

B := build
CORE_SRC   := $(sort $(wildcard csrc/core/*.c))
KERNEL_SRC := $(sort $(wildcard csrc/kernel/*.c))
LUA_SRC    := $(sort $(wildcard csrc/lua/*.c))
LIB_OBJ    := $(patsubst csrc/%.c,$(B)/obj/%.o,$(CORE_SRC) $(KERNEL_SRC))
LUA_OBJ    := $(patsubst csrc/%.c,$(B)/obj/%.o,$(LUA_SRC))
HEADERS    := $(wildcard csrc/*.h csrc/*/*.h)
LUA_BUILT  := $(patsubst lua/%.lua,$(B)/lua/%.luac,$(sort $(wildcard lua/ebpfdsl/*.lua)))
# echo BUILD_LUA | lua5.4 - SRC OUT: SRC compiled into OUT after its chunk name and text
BUILD_LUA  := local src, out = ... local f = assert(io.open(src, "rb")) local text = f:read("a") f:close() local name = "@" .. src local chunk = assert(load(text, name)) f = assert(io.open(out, "wb")) f:write(string.pack("<s4s4", name, text), string.dump(chunk)) assert(f:close())

BUSTED := $(LUA) /usr/bin/busted

.PHONY: all deps deps-run test test-c test-under-load spec lint bench install uninstall clean probe repl run vmtest fuzz asan

all: $(B)/ebpfdsl/core.so $(B)/libebpfdsl.a $(LUA_BUILT)

# Each module's bytecode for this source tree, after the chunk name and the
# text it was compiled from: init.lua's searcher loads it only while the
# source is unchanged (tools run from the repository root find the modules
# as lua/ebpfdsl/x.lua, the name used here).
$(B)/lua/%.luac: lua/%.lua
	@mkdir -p $(dir $@)
	@echo '$(BUILD_LUA)' | $(LUA) - $< $@

# Only csrc/lua sees Lua's headers: the other layers build without them.
$(B)/obj/lua/%.o: csrc/lua/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUA_INC) -c $< -o $@

$(B)/obj/%.o: csrc/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# Syscall names of the build host's architecture, listed by its compiler from
# <asm/unistd.h> (markers of asm-generic that are no syscalls left out).
GEN := $(B)/gen
$(GEN)/syscall_names.h:
	@mkdir -p $(GEN)
	echo '#include <asm/unistd.h>' | $(CC) -dM -E - | sed -n 's/^#define __NR_\([a-z][a-z0-9_]*\) .*/X(\1)/p' | \
		grep -v -e '^X(syscalls)$$' -e '^X(arch_specific_syscall)$$' | LC_ALL=C sort > $@.tmp
	test -s $@.tmp && mv $@.tmp $@
$(B)/obj/core/syscalls.o: $(GEN)/syscall_names.h
$(B)/obj/core/syscalls.o: ALL_CFLAGS += -I$(GEN)

$(B)/libebpfdsl.a: $(LIB_OBJ)
	@mkdir -p $(B)
	rm -f $@
	ar rcs $@ $^

$(B)/ebpfdsl/core.so: $(LUA_OBJ) $(B)/libebpfdsl.a
	@mkdir -p $(B)/ebpfdsl
	$(CC) -shared -o $@ $(LUA_OBJ) $(B)/libebpfdsl.a $(LIBS)

# What building and running needs (deps-run), and what the tests need too.
deps:
	@scripts/deps all

deps-run:
	@scripts/deps run

# The README's test command: everything, from a fresh machine.
test: deps all
	$(BUSTED)
	$(MAKE) --no-print-directory test-under-load
	$(MAKE) --no-print-directory test-c
	$(MAKE) --no-print-directory lint

spec: all
	$(BUSTED) $(SPEC)

# The kernel specs once more, with spec/support/loadgen.c calling getppid,
# openat, connect and fork+exec at full speed on one CPU beside them (for
# an hour at most): a spec must observe only what it caused.
LOADGEN := $(B)/loadgen
KERNEL_SPECS = $(sort $(shell grep -lE '"(bpf|uprobe|tracefs)"|"(map|prog|attach):' spec/*_spec.lua) $(wildcard spec/9*_spec.lua))
$(LOADGEN): spec/support/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu99 -O2 $(WARN) $< -o $@

test-under-load: deps all $(LOADGEN)
	@echo "== the kernel specs, with $(LOADGEN) beside them"
	@$(LOADGEN) 3600 & lg=$$!; \
	$(BUSTED) $(KERNEL_SPECS); rc=$$?; \
	kill $$lg; wait $$lg; exit $$rc

# The kernel specs again on two more kernels, Debian 12's packaged 6.1 and
# bookworm-backports' 6.12, under qemu (no KVM needed), which have what the
# development kernel lacks: kprobes, kprobe_events, fentry/fexit/fmod_ret,
# BPF LSM; arena maps on 6.12. Installs qemu and fetches the kernel packages
# first (scripts/vm/run).
vmtest: deps all
	scripts/vm/run

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
$(B)/fuzz/obj/%.o: csrc/%.c $(HEADERS) $(GEN)/syscall_names.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(GEN) -fsanitize=fuzzer-no-link -c $< -o $@

$(B)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) -o $@ $(LIBS)

fuzz: deps all $(FUZZ_BIN)
	scripts/fuzz $(FUZZ_SECONDS)

# The whole spec suite against the module built with AddressSanitizer and
# UBSan, in an interpreter that carries their runtimes (no LD_PRELOAD for
# the children to inherit); LeakSanitizer checks that process at exit.
ASAN_FLAGS := -std=gnu99 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
$(B)/asan/ebpfdsl/core.so: $(CORE_SRC) $(KERNEL_SRC) $(LUA_SRC) $(HEADERS) $(GEN)/syscall_names.h
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) $(WARN) -fPIC -shared $(LUA_INC) -I$(GEN) $(CORE_SRC) $(KERNEL_SRC) $(LUA_SRC) -o $@ $(LIBS)

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
run: deps-run all
	$(RUN_LUA) $(EXAMPLE)

# The README's probe command: trace file opens for a few seconds.
probe: deps-run all
	$(RUN_LUA) examples/trace_openat.lua

# An interactive Lua 5.4 with the module on the path; results print as Lua
# values, and a line's locals live on (lua/ebpfdsl/repl.lua).
repl: deps-run all
	@$(RUN_LUA) -e 'require("ebpfdsl.repl").run()'

lint: deps
	luacheck --codes lua spec examples bench tutorials tools fuzz
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem --suppress=toomanyconfigs --std=c99 -Icsrc $(LUA_INC) csrc examples/c fuzz

# C baselines for the benchmarks, one program per bench/c/*.c
BENCH_C := $(patsubst bench/c/%.c,$(B)/bench/%,$(wildcard bench/c/*.c))
$(B)/bench/%: bench/c/%.c $(B)/libebpfdsl.a csrc/ebpfdsl.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu99 -O2 $(WARN) -Icsrc $< -o $@ $(B)/libebpfdsl.a $(LIBS)

bench: deps all $(BENCH_C)
	$(LUA) bench/run.lua

# echo DUMP_LUA | lua5.4 - SRC NAME OUT: SRC's bytecode into OUT, its chunk named NAME
DUMP_LUA := local src, name, out = ... local f = assert(io.open(src, "rb")) local chunk = assert(load(f:read("a"), "@" .. name)) f:close() f = assert(io.open(out, "wb")) f:write(string.dump(chunk)) assert(f:close())
install: all
	install -d $(DESTDIR)$(LUA_LMOD)/ebpfdsl $(DESTDIR)$(LUA_CMOD)/ebpfdsl $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/bin
	install -m 644 lua/ebpfdsl/*.lua $(DESTDIR)$(LUA_LMOD)/ebpfdsl/
	@# each module's bytecode beside it, with debug info, named after where
	@# its source is installed (errors show that file and line); init.luac
	@# tells init.lua's searcher that they are there
	for m in lua/ebpfdsl/*.lua; do \
		n=$$(basename $$m .lua); \
		echo '$(DUMP_LUA)' | $(LUA) - $$m $(LUA_LMOD)/ebpfdsl/$$n.lua $(DESTDIR)$(LUA_LMOD)/ebpfdsl/$$n.luac || exit 1; \
	done
	install -m 755 $(B)/ebpfdsl/core.so $(DESTDIR)$(LUA_CMOD)/ebpfdsl/
	install -m 644 csrc/ebpfdsl.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(B)/libebpfdsl.a $(DESTDIR)$(PREFIX)/lib/
	@# pkg-config's file, from its template with this PREFIX and the module's version
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS@|$(LIBS)|' \
		-e "s|@VERSION@|$$(sed -n 's/^local M = { version = \"\([^\"]*\)\" }$$/\1/p' lua/ebpfdsl/init.lua)|" \
		csrc/ebpfdsl.pc.in > $(B)/ebpfdsl.pc
	grep -q '^Version: [0-9]' $(B)/ebpfdsl.pc
	install -m 644 $(B)/ebpfdsl.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	@# tools as ebpfdsl-NAME, the line that finds the module in this tree
	@# replaced by the facade (whose searcher finds the bytecode), if on the path
	for t in tools/*.lua; do \
		n=$$(basename $$t .lua); \
		sed 's/^package\.path, package\.cpath = .*/pcall(require, "ebpfdsl") -- its searcher loads the bytecode; without, the sources/' \
			$$t > $(DESTDIR)$(PREFIX)/bin/ebpfdsl-$$n && \
		chmod 755 $(DESTDIR)$(PREFIX)/bin/ebpfdsl-$$n || exit 1; \
	done

uninstall:
	rm -rf $(DESTDIR)$(LUA_LMOD)/ebpfdsl $(DESTDIR)$(LUA_CMOD)/ebpfdsl
	for t in tools/*.lua; do rm -f $(DESTDIR)$(PREFIX)/bin/ebpfdsl-$$(basename $$t .lua); done
	rm -f $(DESTDIR)$(PREFIX)/include/ebpfdsl.h $(DESTDIR)$(PREFIX)/lib/libebpfdsl.a \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/ebpfdsl.pc

clean:
	rm -rf $(B)
