-- SPDX-License-Identifier: MIT
-- ebpfdsl.object: a C program built by clang-19 (a map and two programs)
-- opened through libbpf; names, sections and types as the source says,
-- instructions byte for byte as llvm-objdump shows them, maps as bpftool
-- sees them after load; a test run; a tracepoint attached by its section
-- name counting calls; maps shared with ebpfdsl.maps, DSL programs and
-- other objects.
local env = require "support.env"
local json = require "dkjson"

local ebpf = require "ebpfdsl"
local d = ebpf.dsl
local object = require "ebpfdsl.object"
local programs = ebpf.programs

local SOURCE = [[
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("socket")
int sock_len(struct __sk_buff *skb)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		*v = skb->len;
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
]]

local BAD = [[
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); }
	table SEC(".maps");
SEC("socket")
int no_null_check(struct __sk_buff *skb)
{
	__u32 k = skb->len;
	__u64 *v = bpf_map_lookup_elem(&table, &k);
	return *v;
}
char LICENSE[] SEC("license") = "GPL";
]]

local NEEDS = { "bpf", "clang-19", "gcc", "llvm-objdump-19", "bpftool" }
local PKT = string.rep("\0", 12) .. "\8\0" .. string.rep("\1", 50)

local dir
local function build(name, src)
  dir = dir or env.tmpdir()
  return require("support.bpf").compile(dir, name, src)
end

-- section name -> the bytes llvm-objdump shows for it
local function objdump_bytes(path)
  local out, section = {}, nil
  for line in env.run("llvm-objdump-19 -d " .. path):gmatch("[^\n]+") do
    local s = line:match("^Disassembly of section (.+):$")
    if s then
      section = s
      out[s] = {}
    else
      local hex = line:match("^%s+%d+:\t([%x ]+)\t")
      if hex and section then
        for b in hex:gmatch("%x%x") do out[section][#out[section] + 1] = string.char(tonumber(b, 16)) end
      end
    end
  end
  for s, t in pairs(out) do out[s] = table.concat(t) end
  return out
end

local function bpftool_json(args) return json.decode(env.run("bpftool " .. args .. " --json")) end

-- the u64 at `key` of the map with this id, as bpftool reads it
local function bpftool_u64(map_id, key)
  local k = string.pack("<I4", key):gsub(".", function(c) return " " .. c:byte() end)
  local r = bpftool_json("map lookup id " .. map_id .. " key" .. k)
  local bytes = {}
  for _, h in ipairs(r.value) do bytes[#bytes + 1] = string.char(tonumber(h)) end
  return (string.unpack("<I8", table.concat(bytes)))
end

-- a DSL program that returns the u64 at `key` of `map` (or -1)
local function reader(map, key)
  return assert(programs.load { type = "socket_filter", name = "read_shared", insns = {
    d.st("w", "fp", -4, key),
    d.ld_map_fd("r1", map),
    d.mov("r2", "fp"), d.add("r2", -4),
    d.call("map_lookup_elem"),
    d.jeq("r0", 0, "none"),
    d.ldx("dw", "r0", "r0", 0),
    d.exit(),
    d.label("none"),
    d.mov("r0", -1),
    d.exit(),
  } })
end

describe("object.open", function()
  env.it("lists programs and maps as the source declares them, bytes as llvm-objdump shows", NEEDS, function()
    local path = build("t", SOURCE)
    local obj <close> = assert(object.open(path))
    assert.equal("t", obj:name())
    assert.is_false(obj:loaded())
    local progs = obj:programs()
    assert.equal(2, #progs)
    local by = {}
    for _, p in ipairs(progs) do by[p.name] = p end
    assert.equal("tp/syscalls/sys_enter_getppid", by.count_getppid.section)
    assert.equal("tracepoint", by.count_getppid.type)
    assert.equal("socket", by.sock_len.section)
    assert.equal("socket_filter", by.sock_len.type)
    local theirs = objdump_bytes(path)
    for _, p in ipairs(progs) do
      assert.equal(theirs[p.section], p.insns, p.name)
      assert.same(p, obj:program(p.name))
    end
    -- our disassembler reads them: the helper call is there
    assert.matches("call 0x1 <map_lookup_elem>", d.dump(by.sock_len.insns), 1, true)
    assert.same({ { name = "counts", type = "array", key_size = 4, value_size = 8, max_entries = 4, flags = 0 } },
      obj:maps())
    assert.equal("ebpfdsl.Object t (not loaded, 2 programs, 1 maps)", tostring(obj))
  end)

  env.it("loads, runs a program, and shows maps as bpftool sees them", NEEDS, function()
    local path = build("t", SOURCE)
    local obj <close> = assert(object.open(path))
    assert.equal(obj, obj:load())
    assert.is_true(obj:loaded())
    local p = obj:prog("sock_len")
    assert.equal("socket_filter", p:type())
    assert.equal("sock_len", p:name())
    assert.equal(#PKT - 14, p:test_run({ data = PKT }).retval)
    local info = p:info()
    assert.equal(1, #info.map_ids)
    local m = bpftool_json("map show id " .. info.map_ids[1])
    local ours = obj:map("counts") -- an ebpfdsl.Map on the same kernel map
    assert.equal(info.map_ids[1], ours:info().id)
    assert.equal("counts", m.name)
    assert.equal(ours:info().type, m.type)
    assert.equal(ours:info().key_size, m.bytes_key)
    assert.equal(ours:info().value_size, m.bytes_value)
    assert.equal(ours:info().max_entries, m.max_entries)
    -- the program stored skb->len at key 1
    assert.equal(#PKT - 14, bpftool_u64(info.map_ids[1], 1))
    assert.equal(#PKT - 14, ours:lookup(1))
    assert.matches("^ebpfdsl.Map array 'counts' fd=%d+ ", tostring(ours))
    -- the handles outlive the object
    obj:close()
    assert.equal(#PKT - 14, p:test_run({ data = PKT }).retval)
    assert.equal(#PKT - 14, reader(ours, 1):test_run({ data = PKT }).retval)
    assert.has_error(function() obj:prog("sock_len") end, "attempt to use a closed ebpfdsl.Object")
  end)

  env.it("opens from bytes, under a given name", NEEDS, function()
    local f = assert(io.open(build("t", SOURCE), "rb"))
    local bytes = f:read("a")
    f:close()
    local obj <close> = assert(object.open(bytes, { name = "from_memory" }))
    assert.equal("from_memory", obj:name())
    assert.equal(2, #obj:programs())
    assert(obj:load())
    assert.equal(#PKT - 14, obj:prog("sock_len"):test_run({ data = PKT }).retval)
  end)

  env.it("attaches a tracepoint by its section name and counts calls", NEEDS, function()
    local path = build("t", SOURCE)
    local obj <close> = assert(object.open(path))
    assert(obj:load())
    local map_id = obj:prog("count_getppid"):info().map_ids[1]
    assert.equal(0, bpftool_u64(map_id, 0))
    local link = assert(obj:attach("count_getppid"))
    assert.matches("^ebpfdsl.Link object tp/syscalls/sys_enter_getppid %(prog 'count_getppid', fd=%d+%)$",
      tostring(link))
    assert.equal("object", link:kind())
    assert.equal("count_getppid", link:prog():name())
    -- the kernel sees the bpf link libbpf made, running this program
    local info = link:info()
    assert.equal("perf_event", info.type)
    assert.equal(obj:prog("count_getppid"):info().id, info.prog_id)
    env.run("python3 -c 'import os\nfor i in range(25): os.getppid()'")
    link:detach()
    local n = bpftool_u64(map_id, 0)
    assert.is_true(n >= 25, n .. " calls counted")
    assert.equal(n, obj:map("counts"):lookup(0))
    -- a DSL program reads the same map and agrees
    assert.equal(n, reader(obj:map("counts"), 0):test_run({ data = PKT }).retval)
    env.run("python3 -c 'import os\nfor i in range(5): os.getppid()'")
    assert.equal(n, bpftool_u64(map_id, 0)) -- detached: no more counting
    assert.equal("ebpfdsl.Link (closed)", tostring(link))
  end)

  env.it("keeps a closed object alive under its links until the last one is detached", NEEDS, function()
    local obj = assert(object.open(build("t", SOURCE)))
    assert(obj:load())
    local map_id = obj:prog("count_getppid"):info().map_ids[1]
    local link = assert(obj:attach("count_getppid"))
    obj:close()
    assert.has_error(function() obj:prog("count_getppid") end, "attempt to use a closed ebpfdsl.Object")
    env.run("python3 -c 'import os\nfor i in range(10): os.getppid()'")
    assert.is_true(bpftool_u64(map_id, 0) >= 10) -- the probe still runs on the object's map
    link:detach()
    assert.equal("ebpfdsl.Link (closed)", tostring(link))
    collectgarbage()
  end)

  env.it("shares a map with another object and with DSL programs", NEEDS, function()
    local path = build("t", SOURCE)
    local a <close> = assert(object.open(path))
    assert(a:load())
    local shared = a:map("counts")
    local b <close> = assert(object.open(path, { maps = { counts = shared } }))
    assert(b:load())
    local a_id = a:prog("sock_len"):info().map_ids[1]
    assert.equal(a_id, b:prog("sock_len"):info().map_ids[1])
    local short = string.rep("\0", 14) .. "abc" -- no IP header: ethertype 0
    assert.equal(3, b:prog("sock_len"):test_run({ data = short }).retval)
    assert.equal(3, bpftool_u64(a_id, 1))
    assert.equal(3, reader(shared, 1):test_run({ data = PKT }).retval)
    assert.has_error(function() b:reuse_map("counts", shared) end, "reuse_map: ebpfdsl.Object t is already loaded")
  end)

  env.it("uses a map made with ebpfdsl.maps, which a DSL program then reads", NEEDS, function()
    local m = assert(ebpf.maps.create { type = "array", key_size = 4, value_size = 8, max_entries = 4,
                                        name = "from_lua" })
    local obj <close> = assert(object.open(build("t", SOURCE), { maps = { counts = m } }))
    assert(obj:load())
    assert.equal(m:info().id, obj:prog("sock_len"):info().map_ids[1])
    assert.equal(#PKT - 14, obj:prog("sock_len"):test_run({ data = PKT }).retval)
    assert.equal(#PKT - 14, m:lookup(1))
    assert.equal(#PKT - 14, reader(m, 1):test_run({ data = PKT }).retval)
  end)

  env.it("leaves out a program whose autoload is off", NEEDS, function()
    local obj <close> = assert(object.open(build("t", SOURCE)))
    obj:set_autoload("count_getppid", false)
    assert(obj:load())
    assert.has_error(function() obj:prog("count_getppid") end,
      "prog: 'count_getppid' of t is not loaded (autoload was off)")
    assert.truthy(obj:prog("sock_len"))
  end)

  env.it("explains a refused program in our terms, with the verifier's log", NEEDS, function()
    local obj <close> = assert(object.open(build("bad", BAD)))
    local ok, msg, err, log, raw = obj:load()
    assert.is_nil(ok)
    assert.equal(13, err)
    local insns = obj:program("no_null_check").insns -- as libbpf gave them to the kernel
    assert.equal(log, programs.annotate(raw, insns))
    -- the instruction the verifier stopped at, found in its own log
    local idx
    for n in raw:gmatch("\n(%d+): %(%x%x%)") do idx = tonumber(n) end
    local line = d.dump(insns):match("\n%s*" .. idx .. ": ([^\n]+)") or d.dump(insns):match("^%s*" .. idx ..
      ": ([^\n]+)")
    assert.equal("load of bad: program 'no_null_check' refused: Permission denied: insn " .. idx .. ": " .. line ..
      ": R0 invalid mem access 'map_value_or_null'", msg)
  end)

  env.it("says why it cannot open or attach", NEEDS, function()
    local o, msg, err = object.open("/nonexistent/x.o")
    assert.is_nil(o)
    assert.equal(2, err)
    assert.equal("cannot open BPF object /nonexistent/x.o: elf: failed to open /nonexistent/x.o: " ..
      "No such file or directory", msg)
    o, msg, err = object.open("\127ELF not really")
    assert.is_nil(o)
    assert.equal(22, err)
    assert.matches("^cannot open BPF object from memory: ", msg)
    local obj <close> = assert(object.open(build("t", SOURCE)))
    assert.has_error(function() obj:attach("sock_len") end, "attach: ebpfdsl.Object t is not loaded; call load() first")
    assert.has_error(function() obj:prog("nope") end, "ebpfdsl.Object t has no program 'nope'")
    assert.has_error(function() obj:map("nope") end, "ebpfdsl.Object t has no map 'nope'")
    assert(obj:load())
    local l, amsg, aerr = obj:attach("sock_len")
    assert.is_nil(l)
    assert.equal(95, aerr) -- EOPNOTSUPP
    assert.equal("attach of 'sock_len' (section socket): libbpf cannot attach this section by itself", amsg)
    assert.has_error(function() obj:load() end, "load: ebpfdsl.Object t is already loaded")
  end)

  it("checks its arguments", function()
    assert.has_error(function() object.open(42) end, "object.open: expected a path or the bytes of an ELF object")
    assert.has_error(function() object.open("x.o", { colour = 1 }) end, "object.open: unknown option 'colour'")
  end)
end)

describe("obj:reuse_map", function()
  env.it("holds no reference to the Map given: libbpf keeps its own fd", NEEDS, function()
    local obj <close> = assert(object.open(build("t", SOURCE)))
    local m = assert(ebpf.maps.create { type = "array", key_size = 4, value_size = 8, max_entries = 4 })
    local id = m:info().id
    local weak = setmetatable({ m }, { __mode = "v" })
    assert(obj:reuse_map("counts", m))
    m = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1]) -- collected, its fd closed
    assert(obj:load())
    -- the kernel's map lives on through the object's own fd
    assert.equal(id, obj:prog("sock_len"):info().map_ids[1])
    assert.equal(#PKT - 14, obj:prog("sock_len"):test_run({ data = PKT }).retval)
    local again <close> = assert(ebpf.maps.open_id(id))
    assert.equal(#PKT - 14, again:lookup(1))
  end)
end)
