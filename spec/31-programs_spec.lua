-- SPDX-License-Identifier: MIT
-- programs.load and ebpfdsl.Prog: both call forms, argument errors, the
-- verifier's refusals, the life cycle of the fd (close, <close>, __gc),
-- the disassembly, and test_run's options; held against the kernel's own
-- view (fdinfo, bpftool) and its UAPI headers.
local env = require "support.env"
local dsl = require "ebpfdsl.dsl"
local programs = require "ebpfdsl.programs"

local CLOSED = "attempt to use a closed ebpfdsl.Prog"

local read_file = require("support.files").read

-- errno values from the UAPI header, not from memory
local function errno(name)
  local s = assert(read_file("/usr/include/asm-generic/errno-base.h"))
  return assert(tonumber(s:match("#define%s+" .. name .. "%s+(%d+)")), name)
end

-- BPF_PROG_TYPE_* in the order of <linux/bpf.h>, lowercased without the prefix
local function header_prog_types()
  local s = assert(read_file("/usr/include/linux/bpf.h"))
  local body = assert(s:match("enum bpf_prog_type%s*{(.-)}"))
  local names = {}
  for name in body:gmatch("BPF_PROG_TYPE_([%w_]+)") do names[#names + 1] = name:lower() end
  return names
end

-- The kernel's record of an fd, or nil when the fd is not open.
local function fdinfo(fd)
  local s = read_file("/proc/self/fdinfo/" .. fd)
  if not s then return nil end
  local t = {}
  for k, v in s:gmatch("([%w_]+):%s*([^\n]*)") do t[k] = v end
  return t
end

-- true while fd is open on the program with this id
local function holds(fd, id)
  local info = fdinfo(fd)
  return info ~= nil and info.prog_id == id
end

local RET42 = { dsl.mov("r0", 6), dsl.mul("r0", 7), dsl.exit() }
local PACKET = string.rep("\0", 14) .. "payload bytes"

local function load42(name)
  return assert(programs.load { type = "socket_filter", name = name or "ret42", insns = RET42 })
end

describe("programs.load", function()
  env.it("takes a table {type=, insns=list, name=} and the program runs", "bpf", function()
    local p = load42()
    assert.equal(6 * 7, assert(p:test_run { data = PACKET }).retval)
    assert.equal("ret42", p:name())
    assert.equal("socket_filter", p:type())
    assert.equal(dsl.assemble(RET42), p:insns())
    p:close()
  end)

  env.it("takes positional (bytes, type, name) and (list, type, name)", "bpf", function()
    local p = assert(programs.load(dsl.assemble(RET42), "socket_filter", "from_bytes"))
    local q = assert(programs.load(RET42, "socket_filter", "from_list"))
    assert.equal(42, assert(p:test_run { data = PACKET }).retval)
    assert.equal(42, assert(q:test_run { data = PACKET }).retval)
    assert.equal("from_bytes", p:name())
    assert.equal("from_list", q:name())
    assert.equal(p:insns(), q:insns())
    p:close()
    q:close()
  end)

  env.it("gives the kernel the type and name asked for (fdinfo, bpftool)", { "bpf", "bpftool" }, function()
    local p = load42("named.ok_1")
    local info = assert(fdinfo(p:fd()))
    local types = header_prog_types()
    local socket_filter
    for i, name in ipairs(types) do if name == "socket_filter" then socket_filter = i - 1 end end
    assert.equal(tostring(socket_filter), info.prog_type)
    local shown = env.run("bpftool -j prog show id " .. info.prog_id)
    assert.truthy(shown:find('"type":"socket_filter"', 1, true), shown)
    assert.truthy(shown:find('"name":"named.ok_1"', 1, true), shown)
    p:close()
  end)

  env.it("keeps the labels and the maps of the list it assembled", "bpf", function()
    local p = assert(programs.load { type = "socket_filter", insns = {
      dsl.mov("r0", 1), dsl.ja("out"), dsl.label("out"), dsl.exit() } })
    assert.same({ [2] = "out" }, p:labels())
    assert.same({}, p:maps())
    p:close()
  end)

  it("raises on an unknown program type", function()
    assert.has_error(function() programs.load { type = "nope", insns = RET42 } end)
    local ok, err = pcall(programs.load, { type = "nope", insns = RET42 })
    assert.is_false(ok)
    assert.truthy(err:find("unknown program type 'nope'", 1, true), err)
    -- the message blames the caller's line, not the library's
    ok, err = pcall(function() programs.load { type = "nope", insns = RET42 } end)
    assert.is_false(ok)
    assert.truthy(err:find("^spec/31%-programs_spec%.lua:%d+: unknown program type 'nope'"), err)
  end)

  it("raises on a name the kernel would refuse", function()
    for _, name in ipairs { "has space", "0123456789abcdef", "dash-ed", "caf\xc3\xa9" } do
      local ok, err = pcall(programs.load, { type = "socket_filter", name = name, insns = RET42 })
      assert.is_false(ok, name)
      assert.truthy(err:find("program name '" .. name .. "' must be at most 15 letters", 1, true), err)
    end
  end)

  env.it("accepts names of up to 15 letters, digits, '_' and '.'", "bpf", function()
    local p = load42("A_b.c0123456789")
    assert.equal("A_b.c0123456789", p:name())
    p:close()
  end)

  it("raises on misuse of its arguments", function()
    local cases = {
      { { insns = RET42 }, "type must be a program type name" },
      { { type = 1, insns = RET42 }, "type must be a program type name" },
      { { type = "socket_filter", insns = 42 }, "insns must be a list of instructions or program bytes" },
      { { type = "socket_filter", insns = RET42, bogus = 1 }, "unknown field 'bogus'" },
      { { type = "socket_filter", insns = "abc" }, "program bytes must be a non-empty multiple of 8 long, got 3" },
      { { type = "socket_filter", insns = "" }, "program bytes must be a non-empty multiple of 8 long, got 0" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(programs.load, case[1])
      assert.is_false(ok)
      assert.truthy(err:find(case[2], 1, true), err)
    end
  end)

  env.it("returns nil, msg, errno, log when the verifier refuses, msg quoting its reason", "bpf", function()
    -- exit without setting r0: the verifier's "R0 !read_ok"
    local p, msg, err, log = programs.load { type = "socket_filter", name = "refused", insns = { dsl.exit() } }
    assert.is_nil(p)
    assert.equal(errno("EACCES"), err)
    assert.is_string(log)
    assert.truthy(log:find("R0 !read_ok", 1, true), log)
    assert.truthy(log:find("processed %d+ insns"), log) -- the whole log, summary included
    -- the reason is the log's last line before its summary lines
    local lines = {}
    for l in log:gmatch("[^\n]+") do lines[#lines + 1] = l end
    local reason
    for i = #lines, 1, -1 do
      if not lines[i]:find("^processed ") and not lines[i]:find("^verification time")
        and not lines[i]:find("^stack depth") then
        reason = lines[i]
        break
      end
    end
    assert.equal("R0 !read_ok", reason)
    assert.truthy(msg:find("^load of socket_filter 'refused' refused: .*: R0 !read_ok$"), msg)
  end)

  env.it("reports a refusal for the license with EINVAL and the verifier's words", "bpf", function()
    local p, msg, err, log = programs.load { type = "socket_filter", name = "nogpl", license = "Proprietary",
                                             insns = { dsl.helper_trace_printk("r10", 8), dsl.exit() } }
    assert.is_nil(p)
    assert.equal(errno("EINVAL"), err)
    local reason = "cannot call GPL-restricted function from non-GPL compatible program"
    assert.truthy(log:find(reason, 1, true), log)
    assert.truthy(msg:find(reason, 1, true), msg)
    -- the same program under the GPL gets past the license check
    local _, msg2 = programs.load { type = "socket_filter", license = "GPL",
                                    insns = { dsl.helper_trace_printk("r10", 8), dsl.exit() } }
    assert.falsy(msg2 and msg2:find(reason, 1, true))
  end)

  env.it("returns the program and the log when a log level is asked for", "bpf", function()
    local p, log = programs.load { type = "socket_filter", log_level = 2, insns = RET42 }
    assert.truthy(p)
    assert.is_string(log)
    assert.truthy(log:find("processed 3 insns", 1, true), log)
    p:close()
  end)
end)

describe("ebpfdsl.Prog", function()
  env.it("raises on use once closed; close is idempotent", "bpf", function()
    local p = load42()
    local fd, id = p:fd(), fdinfo(p:fd()).prog_id
    assert.is_true(holds(fd, id))
    p:close()
    assert.is_false(holds(fd, id))
    p:close()
    p:close()
    assert.has_error(function() p:fd() end, CLOSED)
    assert.has_error(function() p:test_run { data = PACKET } end, CLOSED)
    -- what it was stays readable
    assert.equal("ret42", p:name())
    assert.equal("socket_filter", p:type())
    assert.equal("ebpfdsl.Prog socket_filter 'ret42' (closed)", tostring(p))
    p = nil -- luacheck: ignore
    collectgarbage()
  end)

  env.it("closes with <close> at the end of the scope, and when an error unwinds it", "bpf", function()
    local kept, fd, id
    do
      local p <close> = load42()
      kept, fd, id = p, p:fd(), fdinfo(p:fd()).prog_id
      assert.is_true(holds(fd, id))
    end
    assert.is_false(holds(fd, id))
    assert.has_error(function() kept:fd() end, CLOSED)

    local ok = pcall(function()
      local p <close> = load42()
      kept, fd, id = p, p:fd(), fdinfo(p:fd()).prog_id
      error("unwind")
    end)
    assert.is_false(ok)
    assert.is_false(holds(fd, id))
    assert.has_error(function() kept:fd() end, CLOSED)
  end)

  env.it("closes its fd when collected", "bpf", function()
    local p = load42()
    local fd, id = p:fd(), fdinfo(p:fd()).prog_id
    p = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_false(holds(fd, id))
  end)

  env.it("prints as its disassembly, the labels it was written with included", "bpf", function()
    local list = {
      dsl.lddw("r1", 0x123456789), dsl.mov("r0", 0), dsl.jeq("r1", 0, "out"), dsl.mov("r0", 1),
      dsl.label("out"), dsl.exit(),
    }
    local p = assert(programs.load { type = "socket_filter", name = "shown", insns = list })
    local bytes = dsl.assemble(list)
    local header = ("ebpfdsl.Prog socket_filter 'shown' fd=%d, %d insns\n"):format(p:fd(), #bytes // 8)
    assert.equal(header .. dsl.dump(list), tostring(p))
    assert.truthy(tostring(p):find("out:", 1, true))
    p:close()
    assert.equal("ebpfdsl.Prog socket_filter 'shown' (closed)", tostring(p))
  end)

  env.it("test_run repeats, and reports a mean duration above zero", "bpf", function()
    -- a loop of 100 rounds, so each run takes measurable time
    local p = assert(programs.load { type = "socket_filter", insns = {
      dsl.mov("r0", 0), dsl.mov("r1", 100),
      dsl.label("loop"), dsl.add("r0", 3), dsl.sub("r1", 1), dsl.jne("r1", 0, "loop"), dsl.exit() } })
    local once = assert(p:test_run { data = PACKET })
    local many = assert(p:test_run { data = PACKET, ["repeat"] = 1000 })
    assert.equal(3 * 100, once.retval)
    assert.equal(3 * 100, many.retval)
    assert.is_true(many.duration_ns > 0)
    assert.has_error(function() p:test_run { data = PACKET, ["repeat"] = -1 } end,
      "test_run: field 'repeat' must be from 0 to 4294967295, got -1")
    assert.has_error(function() p:test_run { data = PACKET, ["repeat"] = 1 << 40 } end,
      "test_run: field 'repeat' must be from 0 to 4294967295, got 1099511627776")
    assert.has_error(function() p:test_run { data = PACKET, ctx_size = 4 } end,
      "test_run: unknown field 'ctx_size' (did you mean 'ctx_size_out'?)")
    assert.has_error(function() p:test_run { data = PACKET, repeet = 4 } end,
      "test_run: unknown field 'repeet' (did you mean 'repeat'?)")
    assert.has_error(function() p:test_run { data = PACKET, flags = "x" } end,
      "test_run: field 'flags' must be an integer, got string")
    p:close()
  end)

  env.it("test_run hands back the packet unchanged when the program cannot modify it", "bpf", function()
    local p = load42()
    local r = assert(p:test_run { data = PACKET })
    assert.equal(#PACKET, #r.data_out)
    -- the payload after the 14-byte Ethernet header, which a socket filter
    -- cannot write (the kernel gives that header back zeroed)
    assert.equal(PACKET:sub(15), r.data_out:sub(15))
    -- asked for no output, there is none; too little room is ENOSPC
    assert.is_nil(assert(p:test_run { data = PACKET, data_size_out = 0 }).data_out)
    local none, msg, err = p:test_run { data = PACKET, data_size_out = 4 }
    assert.is_nil(none)
    assert.equal(errno("ENOSPC"), err)
    assert.truthy(msg:find("test_run of 'ret42'", 1, true), msg)
    p:close()
  end)

  env.it("test_run without a packet is the kernel's EINVAL, returned not raised", "bpf", function()
    local p = load42()
    local r, msg, err = p:test_run()
    assert.is_nil(r)
    assert.equal(errno("EINVAL"), err)
    assert.is_string(msg)
    -- shorter than an Ethernet header: the same
    local short, _, err2 = p:test_run { data = "short" }
    assert.is_nil(short)
    assert.equal(errno("EINVAL"), err2)
    p:close()
  end)

  env.it("test_run passes a context in and out (__sk_buff layout from gcc)", { "bpf", "gcc" }, function()
    local dir = env.tmpdir()
    local f = assert(io.open(dir .. "/skb.c", "w"))
    f:write([[
#include <stdio.h>
#include <stddef.h>
#include <linux/bpf.h>
int main(void)
{
	printf("%zu %zu %zu\n", sizeof(struct __sk_buff), offsetof(struct __sk_buff, len),
	       offsetof(struct __sk_buff, mark));
	return 0;
}
]])
    f:close()
    local size, len_off, mark_off = env.run(("gcc -o %s/skb %s/skb.c && %s/skb"):format(dir, dir, dir))
      :match("(%d+) (%d+) (%d+)")
    size, len_off, mark_off = tonumber(size), tonumber(len_off), tonumber(mark_off)
    env.run("rm -rf " .. dir)

    -- returns skb->mark + skb->len
    local p = assert(programs.load { type = "socket_filter", insns = {
      dsl.ldx("w", "r0", "r1", mark_off), dsl.ldx("w", "r2", "r1", len_off), dsl.add("r0", "r2"), dsl.exit() } })
    local mark = 0x12345
    local ctx = string.rep("\0", mark_off) .. string.pack("<I4", mark) .. string.rep("\0", size - mark_off - 4)
    local r = assert(p:test_run { data = PACKET, ctx = ctx })
    -- skb->len counts what follows the Ethernet header
    assert.equal(mark + #PACKET - 14, r.retval)
    assert.equal(size, #r.ctx_out)
    assert.equal(mark, (string.unpack("<I4", r.ctx_out, mark_off + 1)))
    assert.is_nil(assert(p:test_run { data = PACKET, ctx = ctx, ctx_size_out = 0 }).ctx_out)
    p:close()
  end)

  env.it("gives a syscall program's context back as ctx_out, leaving the string given as it was",
    { "bpf", "prog:syscall" }, function()
      -- the kernel copies a syscall program's context back over what it
      -- was given: a copy, never the Lua string (strings are shared)
      local p <close> = assert(programs.load { type = "syscall", sleepable = true, insns = {
        dsl.ldx("w", "r2", "r1", 0), dsl.add("r2", 1), dsl.stx("w", "r1", 0, "r2"), dsl.mov("r0", 0), dsl.exit() } })
      local ctx = string.pack("<I4I4", 41, 7)
      local r = assert(p:test_run { ctx = ctx })
      assert.equal(string.pack("<I4I4", 42, 7), r.ctx_out)
      assert.equal(string.pack("<I4I4", 41, 7), ctx)
      assert.equal(41, (string.unpack("<I4", string.pack("<I4I4", 41, 7))))
    end)
end)

describe("programs.types", function()
  it("names every type of <linux/bpf.h> as the kernel does, in its order", function()
    local types = programs.types()
    local header = header_prog_types()
    assert.is_true(#header > 30)
    for i, name in ipairs(header) do assert.equal(name, types[i]) end
    assert.equal("socket_filter", types[2])
  end)
end)
