-- SPDX-License-Identifier: MIT
-- A clang object's global variables (.rodata, .data, .bss, .data.NAME):
-- listed as the ELF symbol table places them, set before load by name and
-- typed by the object's BTF, seen by the programs in the kernel, read back
-- after load from the kernel's maps as bpftool reads them; the issue's
-- own case, a pid filter in .rodata that counts only one child's calls.
local env = require "support.env"
local json = require "dkjson"

local object = require "ebpfdsl.object"

local SOURCE = [[
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct limits { __u16 port; __u8 proto; __u32 max_len; int delta : 4; unsigned wide : 12; };
enum mode { M_OFF, M_COUNT = 3, M_ALL = 7 };

const volatile __u32 target_tgid = 0;
const volatile char label[8] = "none";
const volatile struct limits lim = { .port = 80, .proto = 6, .max_len = 1500, .delta = -2, .wide = 4000 };
const volatile enum mode mode = M_COUNT;
const volatile _Bool enabled = 1;
const volatile __s16 offset = -7;
__u64 calls = 0;
__u32 weights[4] = { 1, 2, 3, 4 };
__u8 key[4] = { 9, 8, 7, 6 };
__u32 custom SEC(".data.custom") = 5;
static __u32 hidden;

SEC("tp/syscalls/sys_enter_getppid")
int count_target(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

/* a sum that depends on every variable: what the kernel sees of them */
SEC("socket")
int report(struct __sk_buff *skb)
{
	__u32 r = lim.port + lim.proto + lim.max_len + lim.delta * 1000 + lim.wide * 3 + mode * 100000 +
		  enabled * 1000000 + offset;
	r += weights[0] + weights[3] * 10 + label[0] + label[1] * 2 + key[1] * 7 + custom * 11;
	hidden++;
	calls += 1;
	return r;
}

char LICENSE[] SEC("license") = "GPL";
]]

local NEEDS = { "bpf", "clang-19", "gcc", "llvm-objdump-19", "bpftool" }

local dir
local function build(name, src)
  dir = dir or env.tmpdir()
  return require("support.bpf").compile(dir, name, src)
end

-- The sum report() computes, from the values the variables hold.
local function expected(v)
  local r = v.lim.port + v.lim.proto + v.lim.max_len + v.lim.delta * 1000 + v.lim.wide * 3 + v.mode * 100000 +
    (v.enabled and 1 or 0) * 1000000 + v.offset
  r = r + v.weights[1] + v.weights[4] * 10 + v.label:byte(1) + (v.label:byte(2) or 0) * 2 + v.key:byte(2) * 7 +
    v.custom * 11
  return r & 0xffffffff
end

-- llvm-objdump's symbol table: global data symbols -> {section=, offset=, size=}
local function elf_vars(path)
  local out = {}
  for line in env.run("llvm-objdump-19 -t " .. path):gmatch("[^\n]+") do
    local off, sec, size, name = line:match("^(%x+) g%s+O (%S+)%s+(%x+) (%S+)$")
    if off and sec:sub(1, 1) == "." then
      out[name] = { section = sec, offset = tonumber(off, 16), size = tonumber(size, 16) }
    end
  end
  return out
end

-- The bytes of element 0 of the map with this id, as bpftool reads them.
local function bpftool_value(id)
  local r = json.decode(env.run("bpftool map dump id " .. id .. " --json"))
  local bytes = {}
  for _, h in ipairs(r[1].value) do bytes[#bytes + 1] = string.char(tonumber(h)) end
  return table.concat(bytes)
end

local PKT = string.rep("\0", 64)

-- A child that writes its pid to a file, waits for a line on stdin, then
-- calls getppid n times: its pid is known before it makes a call.
local function waiting_child(n)
  local bin = dir .. "/getppid_n"
  if not io.open(bin) then env.run("gcc -O2 -o " .. bin .. " spec/support/getppid_n.c") end
  local pidfile = dir .. "/child.pid"
  os.remove(pidfile)
  local p = assert(io.popen(("sh -c 'echo $$ > %s; read go; exec %s %d >/dev/null'"):format(pidfile, bin, n), "w"))
  local pid
  for _ = 1, 500 do
    local f = io.open(pidfile)
    pid = f and f:read("n")
    if f then f:close() end
    if pid then break end
    env.run("sleep 0.01")
  end
  return assert(math.tointeger(pid), "the child never said its pid"), function()
    p:write("go\n")
    p:close()
  end
end

describe("object variables", function()
  env.it("are listed where the ELF symbol table puts them, statics and externs left out", NEEDS, function()
    local path = build("vars", SOURCE)
    local obj <close> = assert(object.open(path))
    local theirs = elf_vars(path) -- the license section is no map: not there
    local ours = {}
    for _, v in ipairs(obj:vars()) do ours[v.name] = { section = v.section, offset = v.offset, size = v.size } end
    assert.same(theirs, ours)
    assert.is_nil(ours.hidden)
    local by = {}
    for _, v in ipairs(obj:vars()) do by[v.name] = v end
    assert.same({ name = "target_tgid", section = ".rodata", map = "vars.rodata", offset = theirs.target_tgid.offset,
                  size = 4, type = "__u32", readonly = true }, by.target_tgid)
    assert.equal("char[8]", by.label.type)
    assert.equal("struct limits", by.lim.type)
    assert.equal("enum mode", by.mode.type)
    assert.equal("__u32[4]", by.weights.type)
    assert.is_false(by.calls.readonly)
    assert.equal(".data.custom", by.custom.section)
  end)

  env.it("read before load as the source initialised them", NEEDS, function()
    local obj <close> = assert(object.open(build("vars", SOURCE)))
    assert.equal(0, obj:var("target_tgid"))
    assert.equal("none", obj:var("label"))
    assert.same({ port = 80, proto = 6, max_len = 1500, delta = -2, wide = 4000 }, obj:var("lim"))
    assert.equal("M_COUNT", obj:var("mode"))
    assert.is_true(obj:var("enabled"))
    assert.equal(-7, obj:var("offset"))
    assert.equal(0, obj:var("calls"))
    assert.same({ 1, 2, 3, 4 }, obj:var("weights"))
    assert.equal("\9\8\7\6", obj:var("key"))
    assert.equal(5, obj:var("custom"))
  end)

  env.it("set before load reach the programs in the kernel, and read back from its maps", NEEDS, function()
    local obj <close> = assert(object.open(build("vars", SOURCE)))
    local want = { lim = { port = 8080, proto = 17, max_len = 9000, delta = 7, wide = 4095 }, mode = 7,
                   enabled = false, offset = -300, weights = { 5, 2, 3, 9 }, label = "ab", key = "\1\2\3\4",
                   custom = 12 }
    assert.equal(obj, obj:set_var("lim", want.lim))
    obj:set_var("mode", "M_ALL"):set_var("enabled", false):set_var("offset", -300)
    obj:set_var("weights", { 5 }):set_var("weights", { [1] = 5, [2] = 2, [3] = 3, [4] = 9 })
    obj:set_var("label", "ab"):set_var("key", "\1\2\3\4"):set_var("custom", 12)
    assert.equal("M_ALL", obj:var("mode"))
    assert(obj:load())
    local run = assert(obj:prog("report"):test_run { data = PKT })
    assert.equal(expected(want), run.retval)
    -- after load, from the kernel: ours and bpftool's bytes agree
    assert.same(want.lim, obj:var("lim"))
    assert.equal("M_ALL", obj:var("mode"))
    assert.is_false(obj:var("enabled"))
    assert.equal(-300, obj:var("offset"))
    assert.equal(1, obj:var("calls")) -- the test run added one
    local by = {}
    for _, v in ipairs(obj:vars()) do by[v.name] = v end
    local function theirs(name)
      local v = by[name]
      return bpftool_value(obj:map(v.map):id()):sub(v.offset + 1, v.offset + v.size)
    end
    assert.equal(-300, (string.unpack("<i2", theirs("offset"))))
    assert.equal(1, (string.unpack("<I8", theirs("calls"))))
    assert.equal("ab\0\0\0\0\0\0", theirs("label"))
    assert.equal(12, (string.unpack("<I4", theirs("custom"))))
    assert.equal(string.pack("<I4I4I4I4", 5, 2, 3, 9), theirs("weights"))
  end)

  env.it("after load write .data and .bss into the kernel's map, and refuse .rodata", NEEDS, function()
    local obj <close> = assert(object.open(build("vars", SOURCE)))
    assert(obj:load())
    local before = obj:prog("report"):test_run { data = PKT }.retval
    obj:set_var("custom", 100):set_var("weights", { 1, 2, 3, 14 })
    assert.equal(100, obj:var("custom"))
    -- the program sees the new values: custom * 11 and weights[3] * 10 moved
    assert.equal((before + 95 * 11 + 10 * 10) & 0xffffffff, obj:prog("report"):test_run { data = PKT }.retval)
    -- the program's own writes reach us too
    obj:set_var("calls", 40)
    obj:prog("report"):test_run { data = PKT }
    assert.equal(41, obj:var("calls"))
    local ok, msg = pcall(obj.set_var, obj, "target_tgid", 1)
    assert.is_false(ok)
    assert.matches("set_var: 'target_tgid' is in .rodata, which the kernel froze at load: set it before load%(%)$",
      msg)
    assert.equal(0, obj:var("target_tgid"))
  end)

  env.it("count only the calls of the child whose pid the .rodata filter names", NEEDS, function()
    local obj <close> = assert(object.open(build("vars", SOURCE)))
    local pid, go = waiting_child(37)
    obj:set_var("target_tgid", pid)
    assert(obj:load())
    local link <close> = assert(obj:attach("count_target"))
    -- others call getppid meanwhile: this process, and another child
    env.run(dir .. "/getppid_n 500")
    go()
    env.run(dir .. "/getppid_n 500")
    link:detach()
    assert.equal(37, obj:var("calls"))
    assert.equal(pid, obj:var("target_tgid"))
  end)

  env.it("name what is wrong: the variable, its type, the value, the member", NEEDS, function()
    local obj <close> = assert(object.open(build("vars", SOURCE)))
    local function err(name, value)
      local ok, msg = pcall(obj.set_var, obj, name, value)
      assert.is_false(ok)
      return (msg:gsub("^[^:]*:%d+: ", ""))
    end
    assert.equal("set_var: ebpfdsl.Object vars has no variable 'target_tgidd'; did you mean 'target_tgid'",
      err("target_tgidd", 1))
    assert.equal("set_var: ebpfdsl.Object vars has no variable 'zzzz' (it has calls, weights, key, custom, "
      .. "target_tgid, label, lim, mode, enabled, offset)", err("zzzz", 1))
    assert.equal("set_var: target_tgid is __u32: -1 does not fit (0..4294967295)", err("target_tgid", -1))
    assert.equal("set_var: target_tgid is __u32: expected an integer, got a float", err("target_tgid", 1.5))
    assert.equal("set_var: target_tgid is __u32: expected an integer, got table", err("target_tgid", {}))
    assert.equal("set_var: target_tgid is __u32 (4 bytes): a string is taken as its raw bytes, got 3",
      err("target_tgid", "123"))
    assert.equal("set_var: offset is __s16: 40000 does not fit (-32768..32767)", err("offset", 40000))
    assert.equal("set_var: label is char[8]: a string of at most 7 bytes (and its NUL), got 8",
      err("label", "12345678"))
    assert.equal("set_var: key is __u8[4]: a string of at most 4 bytes, got 5", err("key", "12345"))
    assert.equal("set_var: lim is struct limits: no member 'pport'; did you mean 'port'", err("lim", { pport = 1 }))
    assert.equal("set_var: lim.port is __u16: 65536 does not fit (0..65535)", err("lim", { port = 65536 }))
    assert.equal("set_var: lim.delta is int: 8 does not fit (-8..7)", err("lim", { delta = 8 }))
    assert.equal("set_var: lim.wide is unsigned int: 4096 does not fit (0..4095)", err("lim", { wide = 4096 }))
    assert.equal("set_var: lim is struct limits (12 bytes): a string is taken as its raw bytes, got 2",
      err("lim", "ab"))
    assert.equal("set_var: mode is enum mode: no value named 'M_AL'; did you mean 'M_ALL'", err("mode", "M_AL"))
    assert.equal("set_var: enabled is _Bool: expected a boolean, got number", err("enabled", 1))
    assert.equal("set_var: weights is __u32[4]: a list of at most 4 values, got 5", err("weights", { 1, 2, 3, 4, 5 }))
    assert.equal("set_var: weights[1] is __u32: expected an integer, got string", err("weights", { 1, "x" }))
    -- nothing a refused call was given reached the object
    assert.same({ port = 80, proto = 6, max_len = 1500, delta = -2, wide = 4000 }, obj:var("lim"))
    assert.has_error(function() obj:var("nope") end)
  end)

  env.it("are set by object.open's vars option, misuse raised at the caller's line", NEEDS, function()
    local path = build("vars", SOURCE)
    local obj <close> = assert(object.open(path, { vars = { custom = 77, label = "xy" } }))
    assert.equal(77, obj:var("custom"))
    assert.equal("xy", obj:var("label"))
    local ok, msg = pcall(object.open, path, { vars = { custom = "nope!" } })
    assert.is_false(ok)
    assert.equal("spec/79-object_vars_spec.lua:" .. debug.getinfo(1, "l").currentline - 2 ..
      ": set_var: custom is __u32 (4 bytes): a string is taken as its raw bytes, got 5", msg)
  end)

  env.it("take raw bytes of the exact size for any type", NEEDS, function()
    local obj <close> = assert(object.open(build("vars", SOURCE)))
    obj:set_var("lim", string.pack("<I2BxI4I4", 443, 6, 100, 0x3 | (12 << 4)))
    assert.same({ port = 443, proto = 6, max_len = 100, delta = 3, wide = 12 }, obj:var("lim"))
  end)
end)
