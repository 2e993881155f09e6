-- SPDX-License-Identifier: MIT
-- What sanitizers, fuzzing and fault injection found (issue 12), one spec
-- per finding: crafted BTF that made a walk run forever, tracepoint format
-- text the parser died on, errors that lost their cause, pins and probes
-- that outlived a failure or a killed process.
local env = require "support.env"
local bb = require "support.btf_build"

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs a Lua chunk in a child lua5.4 against this tree, for at most
-- `seconds` (a walk that never ends must fail the spec, not hang the run):
-- ok, its stdout and stderr.
local function child(code, seconds)
  local dir = env.tmpdir()
  local f = assert(io.open(dir .. "/chunk.lua", "wb"))
  f:write('package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path\n'
    .. 'package.cpath = "build/?.so;" .. package.cpath\n' .. code)
  f:close()
  local ok = os.execute(("timeout %d lua5.4 %s >%s/out 2>&1"):format(seconds or 30, dir .. "/chunk.lua", dir))
  f = assert(io.open(dir .. "/out", "rb"))
  local out = f:read("a")
  f:close()
  os.execute("rm -rf " .. quote(dir))
  return ok == true or ok == 0, out
end

local write = require("support.files").write

describe("BTF walks on crafted BTF", function()
  it("end with a loop error on a struct holding anonymous members of its own type", function()
    local dir = env.tmpdir()
    write(dir .. "/self.btf", bb.self_anon())
    assert.equal(75, #bb.self_anon()) -- the file the fuzzer found
    local ok, out = child(([[
local b = assert(require("ebpfdsl.btf").load(%q))
print(b:offsetof("S", "nosuch"))
print(b:offsetof(1, "x.y"))
]]):format(dir .. "/self.btf"), 20)
    os.execute("rm -rf " .. quote(dir))
    assert.is_true(ok, out)
    assert.equal("nil\toffsetof(struct S, nosuch): type loop at 'nosuch'\n"
      .. "nil\toffsetof(struct S, x.y): type loop at 'x.y'\n", out)
  end)

  it("are bounded in total work where anonymous members fan out without a loop", function()
    local dir = env.tmpdir()
    write(dir .. "/fan.btf", bb.fan(20, 3))   -- 3^20 paths to `x`'s struct
    write(dir .. "/deep.btf", bb.fan(40, 1))  -- nested deeper than compilers nest
    write(dir .. "/ok.btf", bb.fan(4, 3))
    local ok, out = child(([[
local btf = require "ebpfdsl.btf"
local fan, deep, small = btf.load(%q), btf.load(%q), btf.load(%q)
print(fan:offsetof("F1", "x"))        -- found along the first path
print(fan:offsetof("F1", "nosuch"))   -- every path: too many
print(deep:offsetof("F1", "x"))
print(small:offsetof("F1", "nosuch"))
]]):format(dir .. "/fan.btf", dir .. "/deep.btf", dir .. "/ok.btf"), 20)
    os.execute("rm -rf " .. quote(dir))
    assert.is_true(ok, out)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.matches("^0\ttable: ", lines[1])
    assert.equal("nil\toffsetof(struct F1, nosuch): search through anonymous members too large at 'nosuch'", lines[2])
    assert.equal("nil\toffsetof(struct F1, x): search through anonymous members too large at 'x'", lines[3])
    assert.equal("nil\toffsetof(struct F1, nosuch): no member 'nosuch'", lines[4])
  end)

  it("spell a type whose prototypes double at every level in bounded work", function()
    local dir = env.tmpdir()
    write(dir .. "/proto.btf", bb.proto_fan(50, 2))
    write(dir .. "/small.btf", bb.proto_fan(2, 2))
    local ok, out = child(([[
local btf = require "ebpfdsl.btf"
local b, s = btf.load(%q), btf.load(%q)
print(b:type_name(51), b:type(1).kind)
print(s:type_name(3))
]]):format(dir .. "/proto.btf", dir .. "/small.btf"), 20)
    os.execute("rm -rf " .. quote(dir))
    assert.is_true(ok, out)
    assert.equal("<type 51>\tfunc_proto\nvoid (*)(void *p1, void *p2)\n", out)
  end)
end)

describe("BTF files", function()
  it("are refused when their types are off 4-byte alignment, as the kernel refuses them", function()
    -- a 25-byte header: libbpf 1.1 reads the types where they lie, one
    -- byte off, and every read of them is undefined behaviour
    local dir = env.tmpdir()
    local s = bb.self_anon()
    write(dir .. "/unaligned.btf", string.pack("<I2BBI4I4I4I4I4", 0xeB9F, 1, 0, 25, 0, 48, 48, 3) .. "\0" .. s:sub(25))
    write(dir .. "/aligned.btf", s)
    local btf = require "ebpfdsl.btf"
    local b, msg, errno = btf.load(dir .. "/unaligned.btf")
    assert.is_nil(b)
    assert.equal(22, errno)
    assert.matches("^cannot read BTF from .*/unaligned%.btf: Invalid argument", msg)
    assert.truthy(btf.load(dir .. "/aligned.btf"))
    os.execute("rm -rf " .. quote(dir))
  end)
end)

-- A C host that embeds Lua, opening and closing states (lua_close unloads
-- core.so each time): the kernel's BTF used in each state must not stay
-- behind, about 6 MB a state, nor what was read from it (helper names).
describe("the kernel's BTF in a host that opens and closes Lua states", function()
  local SCRIPT = [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = %q .. ";" .. package.cpath
local e = require "ebpfdsl"
assert(e.btf.vmlinux():offsetof("task_struct", "pid"))
-- a helper newer than 6.1's header: its name comes from the kernel's BTF
assert(e.dsl.helper_id("cgrp_storage_get") == 210)
]]
  local function host(dir, cflags)
    local lua = env.run("pkg-config --cflags --libs lua5.4 2>/dev/null || echo -I/usr/include/lua5.4 -llua5.4")
      :gsub("%s+$", "")
    env.run(("gcc -O1 -g %s spec/support/lua_host.c -o %s/host %s"):format(cflags or "", dir, lua))
    return dir .. "/host"
  end

  env.it("keeps the memory of the ones it closed", { "btf", "gcc" }, function()
    local dir = env.tmpdir()
    write(dir .. "/state.lua", SCRIPT:format("build/?.so"))
    local out = env.run(host(dir) .. " 10 " .. dir .. "/state.lua")
    os.execute("rm -rf " .. quote(dir))
    local rss = {}
    for kib in out:gmatch("%d+") do rss[#rss + 1] = tonumber(kib) end
    assert.equal(10, #rss)
    -- the first states settle the allocator; seven more may not hold
    -- even one more copy (each is about 6 MB)
    assert.is_true(rss[10] - rss[3] < 3 * 1024, ("resident KiB after each state: %s"):format(table.concat(rss, " ")))
  end)

  env.it("leaks nothing LeakSanitizer can find", { "btf", "gcc", "asan" }, function()
    local asan = require "support.asan"
    local dir = env.tmpdir()
    write(dir .. "/state.lua", SCRIPT:format(asan.module_dir() .. "/?.so"))
    local exe = host(dir, "-fsanitize=address -fno-omit-frame-pointer")
    local ok, out = child(([[os.exit(os.execute("ASAN_OPTIONS=detect_leaks=1 %s 3 %s 2>&1") and 0 or 1)]]):format(exe,
      dir .. "/state.lua"), 120)
    os.execute("rm -rf " .. quote(dir))
    assert.is_true(ok, out)
    assert.not_matches("LeakSanitizer", out)
  end)
end)

-- Format text that is not what tracefs writes: every refusal is the
-- parser's own message at the caller's line, and what it accepts has
-- integer offsets, sizes and ids that every method can use.
describe("tracepoint.parse on bad format text", function()
  local tracepoint = require "ebpfdsl.tracepoint"
  local HEAD = "name: t\nID: 7\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
  local function field(decl, off, size, id)
    return HEAD:gsub("ID: 7", "ID: " .. (id or 7))
      .. ("\tfield:%s;\toffset:%s;\tsize:%s;\tsigned:0;\n"):format(decl, off or 8, size or 4)
  end
  local function refused(text, pattern)
    local ok, err = pcall(function() local f = tracepoint.parse(text) return f end) -- no tail call: blame this line
    assert.is_false(ok)
    assert.matches("^spec/75%-robustness_spec%.lua:%d+: tracepoint%.parse: " .. pattern, err)
  end

  it("refuses a field declaration without a name", function()
    refused(field(""), "cannot read the field declaration ''")
    refused(field("*"), "cannot read the field declaration '%*'")
    refused(field("int"), "cannot read the field declaration 'int'")
    refused(field("comm[16]"), "cannot read the field declaration 'comm%[16%]'")
    refused(field("__data_loc char[]"), "cannot read the field declaration '__data_loc char%[%]'")
    refused(field("__rel_loc name"), "cannot read the field declaration '__rel_loc name'")
  end)

  it("refuses offsets, sizes and ids that are not 32-bit integers", function()
    refused(field("u64 x", "9223372036854775808"), "field 'x': offset 9223372036854775808 is out of range")
    refused(field("u64 x", 8, "18446744073709551616"), "field 'x': size 18446744073709551616 is out of range")
    refused(field("u64 x", "4294967296"), "field 'x': offset 4294967296 is out of range")
    refused(field("u64 x", 8, 8, "9223372036854775808"), "ID 9223372036854775808 is out of range")
  end)

  it("refuses two fields of one name", function()
    refused(field("int common_type"), "two fields are called 'common_type'")
  end)

  it("accepts the largest 32-bit values, as integers", function()
    local fmt = tracepoint.parse(field("u64 x", "4294967295", "4294967295", "4294967295"))
    assert.equal(math.type(fmt.id), "integer")
    assert.equal(4294967295, fmt:offset("x"))
    assert.equal(math.type(fmt:size("x")), "integer")
  end)
end)

describe("the facade", function()
  it("says why a submodule cannot load instead of giving nil (out of file descriptors)", function()
    local ok, out = child([[
local e = require "ebpfdsl"
local held = {}
while true do
  local f = io.open("/dev/null")
  if not f then break end
  held[#held + 1] = f
end
local ok, err = pcall(function() local m = e.programs return m end)
print(ok, err)
held = nil
collectgarbage()
print(e.no_such_module, e.programs ~= nil)
]], 30)
    assert.is_true(ok, out)
    assert.matches("^false\t[^\n]*: cannot load ebpfdsl%.programs: [^\n]*Too many open files\nnil\ttrue\n$", out)
  end)
end)

local function exists(path)
  local ok = os.execute("test -e " .. quote(path))
  return ok == true or ok == 0
end

describe("pins", function()
  env.it("that fail leave no directory they made", "bpf", function()
    local maps = require "ebpfdsl.maps"
    local m = assert(maps.create { type = "array", key_size = 4, value_size = 4, max_entries = 1 })
    local top = ("/sys/fs/bpf/ebpfdsl_rob_%d_%d"):format(require("ebpfdsl.core").monotime_ns() % 1e9, math.random(1e6))
    local v, msg, errno = m:pin(top .. "/a/b/" .. string.rep("n", 300)) -- a name longer than NAME_MAX
    assert.is_nil(v)
    assert.equal(36, errno, msg) -- ENAMETOOLONG, once the directories were made
    assert.is_false(exists(top))
    -- a directory that was there stays
    assert(os.execute("mkdir " .. quote(top)))
    assert.is_nil(m:pin(top .. "/a/" .. string.rep("n", 300)))
    assert.is_true(exists(top))
    assert.is_false(exists(top .. "/a"))
    assert.equal(m, m:pin(top .. "/a/m"))
    assert.equal(m, m:unpin())
    os.execute("rmdir " .. quote(top .. "/a") .. " " .. quote(top))
  end)
end)

-- r:events() with no timeout, and what a signal does to a wait: it lets
-- Lua's hooks run (lua5.4's Ctrl-C handler raises "interrupted!" there),
-- and when none raises the wait goes on; poll and events alike.
describe("reader waits", function()
  local P = require "support.producers"

  env.it("events() without a timeout reads until the loop breaks", "bpf", function()
    local maps = require "ebpfdsl.maps"
    local ringbuf = require "ebpfdsl.ringbuf"
    local ring, counter = assert(maps.ringbuf(4096)), P.counter()
    local r <close> = assert(ringbuf.reader { [ring] = { layout = P.layout() } })
    P.run(P.ring_output(ring, counter, 7), 3)
    local seen = {}
    for ev, map in r:events() do
      assert.equal(ring, map)
      seen[#seen + 1] = ev.seq
      if #seen == 3 then break end
    end
    assert.same({ 0, 1, 2 }, seen)
  end)

  local READER = [[
local e = require "ebpfdsl"
local ring = assert(e.maps.ringbuf(4096))
local r = assert(e.ringbuf.reader { [ring] = function() end })
local pid = io.open("/proc/self/stat"):read("n")
local function signal_soon(sig) os.execute(("(sleep 0.3; kill -%s %d) &"):format(sig, pid)) end
]]

  env.it("ends at Ctrl-C in lua5.4 with its 'interrupted!'", "bpf", function()
    local ok, out = child(READER .. [[
signal_soon("INT")
for ev in r:events() do print("event", ev) end
print("ended")
]], 30)
    assert.is_false(ok)
    assert.matches("interrupted!", out)
    assert.not_matches("ended", out)
    assert.not_matches("Interrupted system call", out)
  end)

  env.it("go on after a signal whose handler does not raise", { "bpf", "gcc" }, function()
    local dir = env.tmpdir()
    local lua = env.run("pkg-config --cflags --libs lua5.4 2>/dev/null || echo -I/usr/include/lua5.4 -llua5.4")
      :gsub("%s+$", "")
    env.run(("gcc -O1 spec/support/lua_host.c -o %s/host %s"):format(dir, lua))
    write(dir .. "/wait.lua", 'package.path = "lua/?.lua;lua/?/init.lua;" .. package.path\n'
      .. 'package.cpath = "build/?.so;" .. package.cpath\n' .. READER .. [[
signal_soon("USR1")
print("poll", r:poll(1500))
signal_soon("USR1")
local n = 0
for _ in r:events(1500) do n = n + 1 end
print("events", n)
]])
    local out = env.run(("EBPFDSL_HOST_SIGUSR1=1 %s/host 1 %s/wait.lua 2>&1"):format(dir, dir))
    os.execute("rm -rf " .. quote(dir))
    -- both signals came while we waited, and neither ended a wait
    assert.matches("^poll\t0\nevents\t0\n%d+\nusr1 2\n$", out)
  end)
end)

-- libbpf prints through one callback; ours routes what it says into our
-- messages, and its own error codes (4000..) get libbpf's texts.
describe("libbpf's messages", function()
  it("come back in our messages, never on stderr, with libbpf's codes named", function()
    local dir = env.tmpdir()
    write(dir .. "/zeros.btf", string.rep("\0", 40))
    local ok, out = child(([[
local btf = require "ebpfdsl.btf"
print(btf.load(%q))
print(btf.load("/bin/true"))
]]):format(dir .. "/zeros.btf"), 30)
    os.execute("rm -rf " .. quote(dir))
    assert.is_true(ok, out)
    -- the whole output: a line on stderr would be in it too
    assert.equal(("nil\tcannot read BTF from %s/zeros.btf: BPF object format invalid "
      .. "(libbpf: failed to get EHDR from %s/zeros.btf)\t4001\n"
      .. "nil\tcannot read BTF from /bin/true: No such file or directory "
      .. "(libbpf: failed to find '.BTF' ELF section in /bin/true)\t2\n"):format(dir, dir), out)
  end)
end)

describe("attach_uprobe", function()
  env.it("takes offset = 0 as an offset", { "bpf", "uprobe", "link_info:perf_event" }, function()
    local e = require "ebpfdsl"
    local p = assert(e.programs.load { type = "kprobe", insns = { e.dsl.mov("r0", 0), e.dsl.exit() } })
    local target = env.run("readlink -f /bin/true"):gsub("%s+$", "")
    local l = assert(p:attach_uprobe { path = target, offset = 0 })
    local info = l:info() -- the kernel's word on where the probe is
    assert.equal("uprobe", info.perf_event_type)
    assert.equal(target, info.name)
    assert.equal(0, info.offset)
    l:detach()
    assert.has_error(function() p:attach_uprobe { path = target } end, "attach_uprobe: symbol= or offset= is needed")
    p:close()
  end)
end)

describe("unpin", function()
  env.it("removes only a pin of its own object, and says so otherwise", "bpf", function()
    local e = require "ebpfdsl"
    local dir = ("/sys/fs/bpf/ebpfdsl_rob_unpin_%d"):format(require("ebpfdsl.core").monotime_ns() % 1e9)
    finally(function() os.execute("rm -rf " .. quote(dir)) end)
    local m = assert(e.maps.hash { key = "u32", value = "u32", max_entries = 1 })
    local other = assert(e.maps.hash { key = "u32", value = "u32", max_entries = 1 })
    local p = assert(e.programs.load { type = "raw_tracepoint", insns = { e.dsl.mov("r0", 0), e.dsl.exit() } })
    local l = assert(p:attach_raw_tracepoint("sys_enter"))
    assert(other:pin(dir .. "/other"))
    for _, o in ipairs { m, p, l } do
      local v, msg, errno = o:unpin(dir .. "/other")
      assert.is_nil(v)
      assert.equal(17, errno) -- EEXIST: something else is pinned there
      assert.matches("^unpin of " .. (dir .. "/other"):gsub("%p", "%%%0")
        .. " %(another object is pinned there%)[^:]*: File exists$", msg)
      assert.is_true(exists(dir .. "/other"))
    end
    -- a pin of the same object made through another handle is its own
    local twin = assert(e.maps.open_pinned(dir .. "/other"))
    assert.equal(twin, twin:unpin(dir .. "/other"))
    assert.is_false(exists(dir .. "/other"))
    l:close() p:close() m:close() other:close() twin:close()
  end)
end)

-- With the uprobe PMU hidden (a bind mount in a private mount namespace, as
-- spec 63 does), uprobes go through tracefs uprobe_events, where a process
-- killed by SIGKILL leaves its event behind; the next attach removes it.
describe("tracefs uprobe events", function()
  local EVENTS = "/sys/kernel/tracing/uprobe_events"
  local SCRIPT = [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local e = require "ebpfdsl"
local pid = io.open("/proc/self/stat"):read("n")
local p = assert(e.programs.load { type = "kprobe", insns = { e.dsl.mov("r0", 0), e.dsl.exit() } })
local l = assert(p:attach_uprobe { path = "c", symbol = "getppid" })
io.write(pid, "\n")
io.flush()
if arg[1] == "kill" then os.execute("kill -9 " .. pid) end
l:detach()
]]
  local function ours(pid)
    local n = 0
    for line in io.lines(EVENTS) do
      if pid and line:find("uprobes/ebpfdsl_" .. pid .. "_", 1, true) then n = n + 1 end
    end
    return n
  end
  local function run(dir, how)
    os.execute(("unshare -m --propagation private sh -c 'mount --bind %s/empty "
      .. "/sys/bus/event_source/devices/uprobe && lua5.4 %s/script.lua %s' >%s/out 2>&1"):format(dir, dir, how, dir))
    local f = assert(io.open(dir .. "/out"))
    local out = f:read("a")
    f:close()
    return tonumber(out:match("^(%d+)\n")), out
  end

  env.it("of a killed process are removed by the next attach", { "bpf", "root", "tracefs", "uprobe", "unshare" },
    function()
      local dir = env.tmpdir()
      local killed, other
      finally(function()
        for line in io.lines(EVENTS) do
          local pid = line:match("^%a:uprobes/ebpfdsl_(%d+)_%d+ ")
          if pid and (tonumber(pid) == killed or tonumber(pid) == other) then
            os.execute(("echo '-:uprobes/ebpfdsl_%s' >> %s"):format(line:match("ebpfdsl_(%d+_%d+)"), EVENTS))
          end
        end
        os.execute("rm -rf " .. quote(dir))
      end)
      write(dir .. "/script.lua", SCRIPT)
      assert(os.execute("mkdir " .. dir .. "/empty"))
      local out
      killed, out = run(dir, "kill")
      assert.is_number(killed, out)
      assert.equal(1, ours(killed), out) -- what SIGKILL leaves
      other, out = run(dir, "detach")
      assert.is_number(other, out)
      assert.equal(0, ours(killed), out)
      assert.equal(0, ours(other), out)
    end)
end)

-- Semantics a user may rely on where several processes share one object
-- (docs/readers.md, docs/maps.md). A second process runs beside this one
-- through a pin named for this run.
describe("shared objects", function()
  local P = require "support.producers"
  local function pin_dir()
    return ("/sys/fs/bpf/ebpfdsl_rob_shared_%d_%d"):format(require("ebpfdsl.core").monotime_ns() % 1e9,
      math.random(1e6))
  end
  -- a child lua5.4 running `code` in the background; its stdout goes to
  -- the file returned
  local function background(dir, code)
    write(dir .. "/bg.lua", 'package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path\n'
      .. 'package.cpath = "build/?.so;" .. package.cpath\n' .. code)
    assert(os.execute(("lua5.4 %s/bg.lua >%s/bg.out 2>&1 & echo $! >%s/bg.pid"):format(dir, dir, dir)))
    return dir .. "/bg.out"
  end
  local function wait_file(path, pattern, seconds)
    local core = require "ebpfdsl.core"
    local t0 = core.monotime_ns()
    while core.monotime_ns() - t0 < seconds * 1e9 do
      local f = io.open(path)
      local text = f and f:read("a")
      if f then f:close() end
      if text and text:find(pattern) then return text end
      os.execute("sleep 0.05")
    end
    error("timed out waiting for " .. path)
  end

  env.it("two readers of one ring buffer: every record reaches one of them, some both", "bpf", function()
    local maps, ringbuf = require "ebpfdsl.maps", require "ebpfdsl.ringbuf"
    local dir, pins = env.tmpdir(), pin_dir()
    finally(function() os.execute("kill $(cat " .. dir .. "/bg.pid) 2>/dev/null; rm -rf " .. quote(dir) .. " "
      .. quote(pins)) end)
    -- room for every record: nothing is overwritten while a reader lags
    local N, ring, counter = 200000, assert(maps.ringbuf(16 * 1024 * 1024)), P.counter()
    assert(ring:pin(pins .. "/ring"))
    local out = background(dir, ([[
local e = require "ebpfdsl"
local ring = assert(e.maps.open_pinned(%q))
local seen, idle = {}, 0
local r = assert(e.ringbuf.reader { [ring] = function(b) seen[#seen + 1] = string.unpack("<I8", b) end })
print("ready")
io.stdout:flush()
local core, t0 = require "ebpfdsl.core", require("ebpfdsl.core").monotime_ns()
while idle < 20 and core.monotime_ns() - t0 < 60e9 do -- a second without records after the first
  local n = assert(r:poll(50))
  if #seen > 0 then idle = n == 0 and idle + 1 or 0 end
end
print("seqs " .. table.concat(seen, " "))
]]):format(pins .. "/ring"))
    wait_file(out, "ready", 20)
    local mine = {}
    local r <close> = assert(ringbuf.reader { [ring] = function(b)
      local seq, tag = string.unpack("<I8I8", b)
      assert(tag == 5, "a torn record")
      mine[#mine + 1] = seq
    end })
    local prod = P.ring_output(ring, counter, 5)
    for _ = 1, N // 10000 do
      P.run(prod, 10000)
      r:poll(0) -- reading while the other reads
    end
    local text = wait_file(out, "seqs[^\n]*\n", 60)
    r:poll(0) -- whatever the other's last store of the shared position left
    local count, both = {}, 0
    for _, s in ipairs(mine) do count[s] = (count[s] or 0) + 1 end
    for s in text:match("seqs([^\n]*)"):gmatch("%d+") do
      s = tonumber(s)
      if count[s] then both = both + 1 end
      count[s] = (count[s] or 0) + 1
    end
    local missing = {}
    for s = 0, N - 1 do if not count[s] then missing[#missing + 1] = s end end
    assert.same({}, missing)
    print(("\n  two readers: %d records, %d reached both, %d this one, %d the other"):format(N, both, #mine,
      select(2, text:gsub("%d+", ""))))
  end)

  env.it("pairs() over a hash map whose keys change may repeat keys, and sees every key that stays", "bpf",
    function()
      local maps = require "ebpfdsl.maps"
      local m <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 1024 })
      for k = 1, 50 do m[k] = k end
      -- deleting the key the walk will stand on next (any key but the one
      -- given) makes the kernel start the walk over from its first key
      local seen, gone, repeated = {}, nil, 0
      for k in pairs(m) do
        if seen[k] then repeated = repeated + 1 end
        seen[k] = true
        if not gone then
          gone = m:next_key(k)
          m[gone] = nil
        end
      end
      assert.is_true(repeated > 0)
      for k = 1, 50 do assert.equal(k ~= gone, seen[k] == true) end

      -- the same while another process churns other keys
      local dir, pins = env.tmpdir(), pin_dir()
      finally(function() os.execute("kill $(cat " .. dir .. "/bg.pid) 2>/dev/null; rm -rf " .. quote(dir) .. " "
        .. quote(pins)) end)
      for k = 1, 500 do m[k] = k end
      assert(m:pin(pins .. "/map"))
      local out = background(dir, ([[
local e = require "ebpfdsl"
local m = assert(e.maps.open_pinned(%q, { key = "u32", value = "u32" }))
print("ready")
io.stdout:flush()
local t0 = require("ebpfdsl.core").monotime_ns()
while require("ebpfdsl.core").monotime_ns() - t0 < 20e9 do
  for k = 1001, 1200 do m[k] = k end
  for k = 1001, 1200 do m[k] = nil end
end
]]):format(pins .. "/map"))
      wait_file(out, "ready", 20)
      local walks, repeats = 0, 0
      for _ = 1, 30 do
        local once = {}
        for k in pairs(m) do
          if once[k] then repeats = repeats + 1 end
          once[k] = true
        end
        for k = 1, 500 do assert(once[k], "a key that stayed was not seen") end
        walks = walks + 1
      end
      -- lookup_batch walks a hash map bucket by bucket: a deletion does not
      -- start it over, so each key that stays comes exactly once
      for _ = 1, 30 do
        local keys = assert(m:lookup_batch {})
        local once = {}
        for _, k in ipairs(keys) do
          assert(not once[k], "lookup_batch gave a key twice")
          once[k] = true
        end
        for k = 1, 500 do assert(once[k], "a key that stayed was not seen") end
      end
      print(("\n  pairs under churn: %d walks, %d keys repeated"):format(walks, repeats))
    end)
end)

-- The C side of the above, with no Lua: libbpf's texts and codes, the
-- kernel BTF's holders, unpinning only one's own pin.
describe("the C API", function()
  local PROGRAM = [[
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ebpfdsl.h"
#define CHECK(c) do { if (!(c)) { printf("failed: %s (line %d)\n", #c, __LINE__); return 1; } } while (0)
int main(int argc, char **argv)
{
	const ebpfdsl_btf *v;
	const char *said;
	char pin[256], other[256];
	int a, b;
	(void)argc;
	CHECK(strcmp(ebpfdsl_strerror(4001), "BPF object format invalid") == 0);
	CHECK(strcmp(ebpfdsl_strerror(-4001), "BPF object format invalid") == 0);
	CHECK(strcmp(ebpfdsl_strerror(-524), "not supported (ENOTSUPP)") == 0);
	CHECK(strcmp(ebpfdsl_strerror(ENOENT), strerror(ENOENT)) == 0);
	/* what libbpf said about a failed load, once, as dlerror does */
	CHECK(ebpfdsl_btf__load(argv[1], NULL) == NULL && errno == 4001);
	said = ebpfdsl_libbpf_said();
	CHECK(said && strstr(said, "failed to get EHDR from ") && !strstr(said, "libbpf: "));
	CHECK(ebpfdsl_libbpf_said() == NULL);
	/* holders of the kernel's BTF: the last drop frees it, the next use
	 * reads it again */
	ebpfdsl_btf__vmlinux_hold();
	v = ebpfdsl_btf__vmlinux();
	CHECK(v && ebpfdsl_btf__find(v, "task_struct", 4) > 0);
	ebpfdsl_btf__vmlinux_hold();
	ebpfdsl_btf__vmlinux_drop();
	CHECK(ebpfdsl_btf__find(v, "task_struct", 4) > 0);
	ebpfdsl_btf__vmlinux_drop();
	ebpfdsl_btf__vmlinux_drop(); /* one too many: nothing to drop */
	v = ebpfdsl_btf__vmlinux();
	CHECK(v && ebpfdsl_btf__find(v, "task_struct", 4) > 0);
	/* unpin_own: a pin of another map stays */
	snprintf(pin, sizeof(pin), "%s/a", argv[2]);
	snprintf(other, sizeof(other), "%s/b", argv[2]);
	a = ebpfdsl_map__create(1, 4, 4, 1, NULL); /* BPF_MAP_TYPE_HASH */
	b = ebpfdsl_map__create(1, 4, 4, 1, NULL);
	CHECK(a >= 0 && b >= 0);
	CHECK(ebpfdsl_obj__pin(a, pin) == 0 && ebpfdsl_obj__pin(b, other) == 0);
	CHECK(ebpfdsl_obj__unpin_own(a, other) == -EEXIST && access(other, F_OK) == 0);
	CHECK(ebpfdsl_obj__unpin_own(a, pin) == 0 && access(pin, F_OK) != 0);
	CHECK(ebpfdsl_obj__unpin_own(b, pin) == -ENOENT);
	CHECK(ebpfdsl_obj__unpin(other) == 0);
	printf("ok\n");
	return 0;
}
]]
  env.it("names libbpf's codes, passes on what libbpf said, counts BTF holders, unpins its own",
    { "bpf", "btf", "gcc" }, function()
      local dir = env.tmpdir()
      local pins = ("/sys/fs/bpf/ebpfdsl_rob_c_%d"):format(require("ebpfdsl.core").monotime_ns() % 1e9)
      finally(function() os.execute("rm -rf " .. quote(dir) .. " " .. quote(pins)) end)
      require("support.capi").build(dir, "api", PROGRAM, { std = "gnu99", flags = "-O1 -Wall" })
      write(dir .. "/zeros.btf", string.rep("\0", 40))
      local ok, out = pcall(env.run, ("%s/api %s/zeros.btf %s 2>&1"):format(dir, dir, pins))
      assert.is_true(ok, out)
      assert.equal("ok\n", out)
    end)
end)
