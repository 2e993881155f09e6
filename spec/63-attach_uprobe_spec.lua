-- SPDX-License-Identifier: MIT
-- uprobes end to end on a small program this spec builds with gcc
-- (spec/support/uprobe_target.c): symbols become file offsets as readelf
-- says they should (PIE, fixed-address, shared object, stripped), the
-- probes fire once per call, for one process when asked; programs built
-- with the kprobe DSL read the arguments and the return value into hash
-- maps (no ring-buffer reader exists yet), compared with what the target
-- passed and printed; failures name the file, the symbol and what was
-- searched.
local env = require "support.env"

local NEEDS = { "bpf", "uprobe", "gcc" }
local SRC = "spec/support/uprobe_target.c"

local built
local function build()
  if built then return built end
  local dir = env.tmpdir()
  local cc = "gcc -O2 -Wall -o "
  env.run(cc .. dir .. "/pie -pie -fPIE " .. SRC)
  env.run(cc .. dir .. "/nopie -no-pie " .. SRC)
  env.run(cc .. dir .. "/dynamic -rdynamic " .. SRC .. " && cp " .. dir .. "/dynamic " .. dir .. "/stripped && strip "
    .. dir .. "/stripped")
  env.run("gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -DTARGET_LIB -o " .. dir .. "/libebpfdsltarget.so " .. SRC)
  env.run(cc .. dir .. "/uselib -DTARGET_USE_LIB " .. SRC .. " -L" .. dir .. " -lebpfdsltarget -Wl,-rpath," .. dir)
  built = dir
  return dir
end

-- readelf's word on where a function symbol (or one of `kind`: OBJECT)
-- lives in the file: its value less its section's address plus the
-- section's file offset
local function readelf_offset(path, sym, kind)
  local shndx, value
  for line in env.run("readelf -sW " .. path):gmatch("[^\n]+") do
    local v, ndx, name = line:match("^%s*%d+: (%x+)%s+%d+%s+" .. (kind or "FUNC") .. "%s+%S+%s+%S+%s+(%d+)%s+(%S+)$")
    if name and (name == sym or name:match("^" .. sym .. "@")) then
      value, shndx = tonumber(v, 16), tonumber(ndx)
      break
    end
  end
  assert(value, "readelf: no " .. sym .. " in " .. path)
  for line in env.run("readelf -SW " .. path):gmatch("[^\n]+") do
    local idx, addr, off = line:match("^%s*%[%s*(%d+)%]%s+%S+%s+%S+%s+(%x+)%s+(%x+)")
    if tonumber(idx) == shndx then return value - tonumber(addr, 16) + tonumber(off, 16) end
  end
  error("readelf: no section " .. shndx)
end

local count = require "support.count"

-- A running target fed through a fifo: t.call(a, b, c) makes it call its
-- functions once and returns the line it printed.
local function start(binary)
  local dir = env.tmpdir()
  env.run("mkfifo " .. dir .. "/in")
  local pid = tonumber(env.run(("(%s < %s/in > %s/out 2>&1 & echo $!)"):format(binary, dir, dir)))
  local fifo = assert(io.open(dir .. "/in", "w"))
  local t = { pid = pid, lines = 0 }
  function t.call(a, b, c)
    fifo:write(("%d %d %d\n"):format(a, b, c))
    fifo:flush()
    t.lines = t.lines + 1
    for _ = 1, 500 do
      -- the shell makes the file as it starts the target: maybe not yet
      local f = io.open(dir .. "/out")
      local out = f and f:read("a") or ""
      if f then f:close() end
      local n, last = 0, nil
      for l in out:gmatch("[^\n]+") do n, last = n + 1, l end
      if n == t.lines then return last end
      os.execute("sleep 0.01")
    end
    error("the target did not answer")
  end
  function t.stop()
    if io.type(fifo) == "file" then fifo:close() end -- the target sees EOF and exits
    os.execute("rm -rf " .. dir)
  end
  return t
end

local function probe_prog(e, name)
  return assert(e.programs.load{ type = "kprobe", name = name, insns = { e.dsl.mov("r0", 0), e.dsl.exit() } })
end

describe("uprobe symbol resolution", function()
  env.it("puts each symbol where readelf says, whatever the kind of ELF file", { "gcc" }, function()
    local e = require "ebpfdsl"
    local dir = build()
    local cases = {
      { "pie", "ebpfdsl_target_add3" }, { "pie", "ebpfdsl_target_local" },
      { "nopie", "ebpfdsl_target_add3" }, { "nopie", "ebpfdsl_target_local" },
      { "stripped", "ebpfdsl_target_add3" }, { "libebpfdsltarget.so", "ebpfdsl_lib_add3" },
      { "libebpfdsltarget.so", "ebpfdsl_target_add3" },
    }
    for _, c in ipairs(cases) do
      local path = dir .. "/" .. c[1]
      local off, where = e.attach.symbol_offset(path, c[2])
      assert.equal(path, where)
      assert.equal(readelf_offset(path, c[2]), off, c[1] .. " " .. c[2])
    end
    -- a fixed-address executable's addresses are not its offsets
    assert.are_not.equal(readelf_offset(dir .. "/nopie", "ebpfdsl_target_add3"),
      tonumber(env.run("readelf -sW " .. dir .. "/nopie")
        :match("(%x+)%s+%d+%s+FUNC%s+%S+%s+%S+%s+%d+%s+ebpfdsl_target_add3"), 16))
  end)

  env.it("finds \"c\" as the C library this process uses, and its functions", { "gcc" }, function()
    local e = require "ebpfdsl"
    local maps = io.open("/proc/self/maps"):read("a")
    local libc = maps:match("(/%S+/libc%.so[%.%d]*)\n")
    assert.equal(libc, e.attach.find_binary("c"))
    assert.equal(libc, e.attach.find_binary("libc"))
    local off = assert(e.attach.symbol_offset("c", "malloc"))
    assert.equal(readelf_offset(libc, "malloc"), off)
    assert.equal(env.run("command -v ls"):gsub("\n", ""), e.attach.find_binary("ls"))
    assert.matches("/libz%.so%.1$", e.attach.find_binary("libz"))
  end)

  env.it("says what it searched when a symbol is missing", { "gcc" }, function()
    local e = require "ebpfdsl"
    local dir = build()
    local _, msg, errno = e.attach.symbol_offset(dir .. "/stripped", "ebpfdsl_target_local")
    assert.matches("^symbol 'ebpfdsl_target_local' not found in " .. dir:gsub("%p", "%%%0")
      .. "/stripped %(no %.symtab: the file is stripped; %d+ in %.dynsym%)$", msg)
    assert.equal(2, errno)
    _, msg = e.attach.symbol_offset(dir .. "/pie", "nonesuch")
    assert.matches("%(%d+ function symbols in %.symtab; %d+ in %.dynsym%)$", msg)
    _, msg = e.attach.symbol_offset("c", "strlen")
    assert.matches("is an IFUNC: its address is a resolver", msg)
    _, msg = e.attach.symbol_offset("/etc/hostname", "x")
    assert.matches("is not an ELF file", msg)
    _, msg = e.attach.find_binary("ebpfdsl-nonesuch-binary")
    assert.equal("find 'ebpfdsl-nonesuch-binary': No such file or directory", msg)
  end)
end)

describe("prog:attach_uprobe", function()
  env.it("fires once per call, at the offset the kernel reports back", NEEDS, function()
    local e = require "ebpfdsl"
    local dir = build()
    for _, bin in ipairs { "pie", "nopie" } do
      local path = dir .. "/" .. bin
      local t = start(path)
      finally(t.stop)
      local p1, entries = count.counter(e, "kprobe", { name = "u_entry" })
      local p2, returns = count.counter(e, "kprobe", { name = "u_ret" })
      local entry = assert(p1:attach_uprobe{ path = path, symbol = "ebpfdsl_target_add3" })
      local ret = assert(p2:attach_uretprobe{ path = path, symbol = "ebpfdsl_target_add3" })
      local off = readelf_offset(path, "ebpfdsl_target_add3")
      assert.equal(path .. ":ebpfdsl_target_add3", entry:target())
      assert.equal("return of " .. path .. ":ebpfdsl_target_add3", ret:target())
      local ie, ir = assert(entry:info()), assert(ret:info())
      assert.same({ "perf_event", "perf_event" }, { ie.type, ir.type })
      if env.has("link_info:perf_event") then -- what the link probes: 6.6+
        assert.same({ "uprobe", off, path }, { ie.perf_event_type, ie.offset, ie.name })
        assert.same({ "uretprobe", off, path }, { ir.perf_event_type, ir.offset, ir.name })
      else -- the type and ids, and nothing made up
        assert.same({}, { ie.perf_event_type, ie.offset, ie.name, ir.perf_event_type, ir.offset, ir.name })
      end
      assert.equal("14 7", t.call(1, 2, 3)) -- the target still computes right
      for i = 1, 4 do t.call(i, i, i) end
      assert.equal(5, entries())
      assert.equal(5, returns())
      entry:detach()
      ret:detach()
      t.stop()
    end
  end)

  env.it("reads the arguments and the return value with kprobe DSL programs", NEEDS, function()
    local e = require "ebpfdsl"
    local d, kprobe = e.dsl, e.kprobe
    local path = build() .. "/pie"
    local t = start(path)
    finally(t.stop)
    -- args[a] = b .. c (two u64), rets[return value] = times seen
    local args <close> = assert(e.maps.hash{ key = "u64", value_size = 16, max_entries = 64 })
    local rets <close> = assert(e.maps.hash{ key = "u64", value = "u64", max_entries = 64 })
    local entry = assert(e.programs.load{ type = "kprobe", name = "u_args", insns = {
      kprobe.prologue({ "r6", "r7", "r8" }),
      d.stx("dw", "fp", -8, "r6"),
      d.stx("dw", "fp", -24, "r7"),
      d.stx("dw", "fp", -16, "r8"),
      count.update(d, args, -8, -24),
      d.mov("r0", 0),
      d.exit(),
    } })
    local ret = assert(e.programs.load{ type = "kprobe", name = "u_ret", insns = {
      kprobe.kretprobe_return_value("r1", "r6"),
      d.stx("dw", "fp", -8, "r6"),
      count.bump(d, rets, -8),
      d.mov("r0", 0),
      d.exit(),
    } })
    local l1 = assert(entry:attach_uprobe{ path = path, symbol = "ebpfdsl_target_add3", pid = t.pid })
    local l2 = assert(ret:attach_uretprobe{ path = path, symbol = "ebpfdsl_target_add3", pid = t.pid })
    local calls = { { 1, 2, 3 }, { 10, -20, 30 }, { 5, 5, 5 }, { 1000000007, 3, -9 }, { -100, 1, 1 }, { 42, 0, 0 } }
    local printed = {}
    for _, c in ipairs(calls) do
      printed[#printed + 1] = tonumber(t.call(c[1], c[2], c[3]):match("^(%-?%d+)"))
    end
    for i, c in ipairs(calls) do
      local v = args[c[1]]
      assert.is_string(v, "no entry for call " .. i)
      local b, cc = string.unpack("<i8i8", v)
      assert.same({ c[2], c[3] }, { b, cc })
      assert.equal(c[1] + 2 * c[2] + 3 * c[3], printed[i]) -- the target's own answer
    end
    local want = {}
    for _, r in ipairs(printed) do want[r] = (want[r] or 0) + 1 end
    local got = {}
    for k, v in rets:pairs() do got[k] = v end -- u64 keys: negative returns wrap, as Lua integers do
    assert.same(want, got)
    l1:detach()
    l2:detach()
  end)

  env.it("fires for one process only when given its pid; by offset too", NEEDS, function()
    local e = require "ebpfdsl"
    local path = build() .. "/pie"
    local a, b = start(path), start(path)
    finally(function() a.stop() b.stop() end)
    local off = readelf_offset(path, "ebpfdsl_target_local")
    local prog, runs = count.counter(e, "kprobe", { name = "u_pid" })
    local link = assert(prog:attach_uprobe{ path = path, offset = off, pid = a.pid })
    assert.equal(("%s:0x%x"):format(path, off), link:target())
    for i = 1, 3 do a.call(i, 0, 0) b.call(i, 0, 0) end
    assert.equal(3, runs())
    link:detach()
  end)

  -- the perf events this process holds (ls names an fd's anon inode)
  local function perf_fds()
    local n = 0
    for _ in env.run("ls -l /proc/" .. env.pid .. "/fd"):gmatch("anon_inode:%[perf_event%]") do n = n + 1 end
    return n
  end

  env.it("takes the events attach.uprobe_prefetch opened, for the same place, kind and pid only", NEEDS, function()
    local e = require "ebpfdsl"
    local attach = require "ebpfdsl.attach"
    local path = build() .. "/pie"
    local a, b = start(path), start(path)
    finally(function() a.stop() b.stop() attach.uprobe_prefetch_drop() end)
    local base = perf_fds()
    assert.is_true(attach.uprobe_prefetch{ path = path, symbol = "ebpfdsl_target_add3", pid = a.pid })
    assert.is_true(attach.uprobe_prefetch{ path = path, symbol = "ebpfdsl_target_add3", pid = a.pid, retprobe = true })
    local p1, entries = count.counter(e, "kprobe", { name = "u_pre_in" })
    local p2, returns = count.counter(e, "kprobe", { name = "u_pre_out" })
    local l1 = assert(p1:attach_uprobe{ path = path, symbol = "ebpfdsl_target_add3", pid = a.pid })
    local l2 = assert(p2:attach_uretprobe{ path = path, symbol = "ebpfdsl_target_add3", pid = a.pid })
    -- two events in all: each attach took the one opened for it
    assert.equal(base + 2, perf_fds())
    assert.equal(0, attach.uprobe_prefetch_drop())
    for i = 1, 3 do a.call(i, 1, 1) b.call(i, 1, 1) end
    assert.same({ 3, 3 }, { entries(), returns() }) -- process a only, as asked
    l1:detach()
    l2:detach()
    assert.equal(base, perf_fds())
    -- another pid, another kind: not the prefetched event, which the drop closes
    assert.is_true(attach.uprobe_prefetch{ path = path, symbol = "ebpfdsl_target_add3", pid = b.pid })
    local l3 = assert(p1:attach_uretprobe{ path = path, symbol = "ebpfdsl_target_add3", pid = b.pid })
    local l4 = assert(p2:attach_uprobe{ path = path, symbol = "ebpfdsl_target_add3", pid = a.pid })
    assert.equal(base + 3, perf_fds())
    assert.equal(1, attach.uprobe_prefetch_drop())
    assert.equal(base + 2, perf_fds())
    l3:detach()
    l4:detach()
    assert.equal(0, attach.uprobe_prefetch_drop())
  end)

  -- A prefetch's thread runs core.so's code: a state closed while it
  -- still waits in the kernel must not unload the library under it.
  env.it("joins a pending prefetch when the Lua state closes, before core.so is unloaded", NEEDS, function()
    local dir = env.tmpdir()
    finally(function() env.run("rm -rf " .. dir) end)
    local f = assert(io.open(dir .. "/host.c", "w"))
    f:write([[
#include <stdio.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
int main(int argc, char **argv)
{
	lua_State *L = luaL_newstate();
	(void)argc;
	luaL_openlibs(L);
	if (luaL_dofile(L, argv[1])) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_close(L);
	usleep(300000); /* a thread left running would return into unmapped code by now */
	puts("closed");
	return 0;
}
]])
    f:close()
    env.run(("gcc -O2 -o %s/host %s/host.c -I/usr/include/lua5.4 -llua5.4"):format(dir, dir))
    f = assert(io.open(dir .. "/prefetch.lua", "w"))
    f:write(('package.path = "lua/?.lua;lua/?/init.lua;" .. package.path\n' ..
      'package.cpath = "build/?.so;" .. package.cpath\n' ..
      'for i = 1, 4 do assert(require("ebpfdsl.attach").uprobe_prefetch{ path = %q, symbol = "main", ' ..
      'retprobe = i %% 2 == 0, pid = i <= 2 and 0 or 1 }) end\n'):format(build() .. "/pie"))
    f:close()
    for _ = 1, 3 do assert.equal("closed\n", env.run(dir .. "/host " .. dir .. "/prefetch.lua")) end
  end)

  env.it("prefetch says what it could not resolve; the attach reports a failed open", NEEDS, function()
    local e = require "ebpfdsl"
    local attach = require "ebpfdsl.attach"
    local path = build() .. "/pie"
    finally(function() attach.uprobe_prefetch_drop() end)
    local ok, msg, errno = attach.uprobe_prefetch{ path = path, symbol = "no_such_function" }
    assert.is_nil(ok)
    assert.matches("symbol 'no_such_function' not found in " .. path:gsub("%p", "%%%0"), msg)
    assert.equal(2, errno)
    assert.error_matches(function() attach.uprobe_prefetch{ symbol = "main" } end, "path= is needed")
    assert.error_matches(function() attach.uprobe_prefetch{ path = path } end, "symbol= or offset= is needed")
    assert.error_matches(function() attach.uprobe_prefetch{ path = path, symbol = "main", colour = 1 } end,
      "unknown")
    -- a process that does not exist: the open fails in the thread; the
    -- attach opens again and says why
    local gone = tonumber(env.run("sh -c 'echo $$'"))
    assert.is_true(attach.uprobe_prefetch{ path = path, symbol = "main", pid = gone })
    local prog = probe_prog(e, "u_pre_gone")
    local l, amsg = prog:attach_uprobe{ path = path, symbol = "main", pid = gone }
    assert.is_nil(l)
    assert.matches("no process " .. gone, amsg)
    assert.equal(0, attach.uprobe_prefetch_drop())
  end)

  env.it("probes a shared library where a process loaded it", NEEDS, function()
    local e = require "ebpfdsl"
    local dir = build()
    local t = start(dir .. "/uselib")
    finally(t.stop)
    local prog, runs = count.counter(e, "kprobe", { name = "u_lib" })
    local link = assert(prog:attach_uprobe{ path = dir .. "/libebpfdsltarget.so", symbol = "ebpfdsl_lib_add3" })
    assert.equal("6 7", t.call(1, 1, 1))
    t.call(2, 2, 2)
    assert.equal(2, runs())
    link:detach()
  end)

  env.it("makes the kernel count a USDT semaphore with ref_ctr_offset, in the running process", NEEDS, function()
    local e = require "ebpfdsl"
    local dir = env.tmpdir()
    local f = assert(io.open(dir .. "/sema.c", "w"))
    f:write([[
#include <stdio.h>
/* a semaphore as <sys/sdt.h> places one: 2 bytes in .probes, read by the
 * program, incremented by the kernel for each probe that names it */
volatile unsigned short ebpfdsl_sema __attribute__((section(".probes")));
__attribute__((noipa)) int ebpfdsl_probed(int x) { return x + 1; }
__attribute__((noipa)) int ebpfdsl_other(int x) { return x + 2; }
int main(void)
{
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		printf("%d %d\n", ebpfdsl_sema, ebpfdsl_probed(1) + ebpfdsl_other(1));
		fflush(stdout);
	}
	return 0;
}
]])
    f:close()
    local path = dir .. "/sema"
    env.run(("gcc -O2 -Wall -o %s %s/sema.c"):format(path, dir))
    local sema = readelf_offset(path, "ebpfdsl_sema", "OBJECT")
    local t = start(path)
    finally(t.stop)
    local prog, runs = count.counter(e, "kprobe", { name = "u_sema" })
    assert.equal("0 5", t.call(0, 0, 0))
    local plain = assert(prog:attach_uprobe{ path = path, symbol = "ebpfdsl_other" })
    assert.equal("0 5", t.call(0, 0, 0)) -- a probe without the option counts nothing
    plain:detach()
    local link = assert(prog:attach_uprobe{ path = path, symbol = "ebpfdsl_probed", ref_ctr_offset = sema })
    assert.equal("1 5", t.call(0, 0, 0))
    assert.equal(2, runs()) -- one call seen by each probe
    link:detach()
    assert.equal("0 5", t.call(0, 0, 0))
  end)

  env.it("says why an attach fails", NEEDS, function()
    local e = require "ebpfdsl"
    local dir = build()
    local prog = probe_prog(e, "u_err")
    local l, msg, errno = prog:attach_uprobe{ path = dir .. "/pie", symbol = "nonesuch" }
    assert.is_nil(l)
    assert.matches("^uprobe: symbol 'nonesuch' not found in " .. dir:gsub("%p", "%%%0") .. "/pie", msg)
    assert.equal(2, errno)
    msg = select(2, prog:attach_uprobe{ path = "ebpfdsl-nonesuch", symbol = "f" })
    assert.equal("uprobe: 'ebpfdsl-nonesuch' not found (searched $PATH): No such file or directory", msg)
    msg = select(2, prog:attach_uprobe{ path = "libebpfdsl-nonesuch", symbol = "f" })
    assert.matches("searched this process's maps, /etc/ld.so.cache and the library directories", msg)
    msg = select(2, prog:attach_uprobe{ path = "/nonexistent/bin", symbol = "f" })
    assert.equal("uprobe on /nonexistent/bin: No such file or directory", msg)
    l, msg = prog:attach_uretprobe{ path = dir .. "/pie", symbol = "ebpfdsl_target_add3", pid = 0x7ffffff0 }
    assert.is_nil(l)
    assert.matches("^uretprobe on .*/pie:ebpfdsl_target_add3 %(pid 2147483632%): no process 2147483632", msg)
    assert.has_error(function() prog:attach_uprobe{ path = dir .. "/pie" } end,
      "attach_uprobe: symbol= or offset= is needed")
    assert.has_error(function() prog:attach_uprobe{ symbol = "f" } end)
    assert.has_error(function() prog:attach_uprobe{ path = "c", symbol = "malloc", pids = 1 } end,
      "attach_uprobe: unknown field 'pids' (did you mean 'pid'?)")
    l, msg = e.programs.load{ type = "xdp", insns = { e.dsl.mov("r0", 2), e.dsl.exit() } }
      :attach_uprobe{ path = "c", symbol = "malloc" }
    assert.is_nil(l)
    assert.matches("^uprobe on .*libc[^:]*:malloc: the kernel refused the program", msg)
  end)
end)

-- With the uprobe PMU hidden (a bind mount in a private mount namespace),
-- uprobes go through tracefs uprobe_events; the kernel's list of events
-- is the oracle for what a link adds and removes.
describe("uprobes through tracefs uprobe_events", function()
  local LEGACY_NEEDS = { "bpf", "root", "tracefs", "uprobe", "unshare", "gcc" }
  local SCRIPT = [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local e = require "ebpfdsl"
local count = require "support.count"
local pid = io.open("/proc/self/stat"):read("n")
local function events()
  local n = 0
  for line in io.lines("/sys/kernel/tracing/uprobe_events") do
    if line:find("uprobes/ebpfdsl_" .. pid .. "_", 1, true) then n = n + 1 end
  end
  return n
end
local m = assert(e.maps.array { value = "u64", max_entries = 1 })
local p = assert(e.programs.load { type = "kprobe", insns = count.add_one(e.dsl, m) })
local l, msg, errno = p:attach_uprobe { path = "c", symbol = "getppid" }
print(pid, l and "attached" or ("refused " .. errno .. " " .. msg), events())
if l then
  os.execute("sh -c 'echo $PPID' >/dev/null") -- sh asks getppid() once
  print(m[0] > 0 and "fired" or "silent")
  l:detach()
end
print(events())
]]
  -- strdup fails for a tracefs event name, and only for it
  local SHIM = [[
#include <errno.h>
#include <stdlib.h>
#include <string.h>
char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;
	if (strncmp(s, "uprobes/ebpfdsl_", 16) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}
]]

  local function run(preload)
    local dir = env.tmpdir()
    local f = assert(io.open(dir .. "/script.lua", "w"))
    f:write(SCRIPT)
    f:close()
    env.run("mkdir " .. dir .. "/empty")
    local pre = ""
    if preload then
      f = assert(io.open(dir .. "/shim.c", "w"))
      f:write(SHIM)
      f:close()
      env.run(("gcc -O2 -shared -fPIC %s/shim.c -o %s/shim.so"):format(dir, dir))
      pre = "LD_PRELOAD=" .. dir .. "/shim.so "
    end
    local out = env.run(("unshare -m --propagation private sh -c 'mount --bind %s/empty "
      .. "/sys/bus/event_source/devices/uprobe && LUA_PATH=\"spec/?.lua;;\" %slua5.4 %s/script.lua'")
      :format(dir, pre, dir))
    os.execute("rm -rf " .. dir)
    local pid = out:match("^(%d+)")
    -- whatever happened, leave no event of that process behind
    for line in io.lines("/sys/kernel/tracing/uprobe_events") do
      local ev = pid and line:match("^%a:(uprobes/ebpfdsl_" .. pid .. "_%d+) ")
      if ev then os.execute("echo '-:" .. ev .. "' >> /sys/kernel/tracing/uprobe_events") end
    end
    return out
  end

  env.it("fire, and remove their event on detach", LEGACY_NEEDS, function()
    local out = run(false)
    assert.matches("^%d+\tattached\t1\nfired\n0\n$", out)
  end)

  env.it("undo the attachment when the event's name cannot be kept", LEGACY_NEEDS, function()
    -- without its name a link could never remove the event: the attach
    -- fails instead, and the event is gone at once
    local out = run(true)
    assert.matches("^%d+\trefused 12 uprobe on [^\n]*: no uprobe PMU [^\n]*tracefs uprobe_events failed: "
      .. "uprobes/ebpfdsl_%d+_%d+: Cannot allocate memory\t0\n0\n$", out)
  end)
end)
