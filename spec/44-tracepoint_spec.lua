-- SPDX-License-Identifier: MIT
-- The tracepoint DSL: format files parsed from tracefs and held to the
-- kernel's BTF (the trace_event_raw_<event> structs the records are),
-- loads sized to each field, and programs built with read_field for real
-- tracepoints loaded by the verifier as tracepoint programs.
local env = require "support.env"
local tracepoint = require "ebpfdsl.tracepoint"
local dsl = require "ebpfdsl.dsl"

local SAMPLE = [[
name: demo
ID: 42
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] name;	offset:8;	size:4;	signed:0;
	field:pid_t pid;	offset:12;	size:4;	signed:1;
	field:char comm[16];	offset:16;	size:16;	signed:0;
	field:const char * path;	offset:32;	size:8;	signed:0;
	field:u32 addrs[4];	offset:40;	size:16;	signed:0;
	field:__rel_loc u8[] blob;	offset:56;	size:4;	signed:0;
	field:s8 tiny;	offset:60;	size:1;	signed:1;
	field:unsigned char buf[TASK_COMM_LEN];	offset:61;	size:16;	signed:0;
	field:u64 big;	offset:80;	size:8;	signed:0;

print fmt: "name=%s", __get_str(name)
]]

describe("tracepoint format parsing", function()
  local fmt = tracepoint.parse(SAMPLE, "demo_cat")

  it("reads name, id and every field with offset, size and signedness", function()
    assert.equal("demo", fmt.name)
    assert.equal(42, fmt.id)
    assert.equal("demo_cat", fmt.category)
    assert.same({ "common_type", "common_flags", "common_preempt_count", "common_pid", "name", "pid", "comm",
                  "path", "addrs", "blob", "tiny", "buf", "big" }, fmt:fields())
    assert.same({ "name", "pid", "comm", "path", "addrs", "blob", "tiny", "buf", "big" }, fmt:fields(true))
    assert.equal(12, fmt:offset("pid"))
    assert.equal(4, fmt:size("pid"))
    assert.is_true(fmt:signed("pid"))
    assert.is_false(fmt:signed("big"))
  end)

  it("tells scalars, pointers, arrays and data locations apart", function()
    assert.equal("data_loc", fmt:field("name").kind)
    assert.equal("rel_loc", fmt:field("blob").kind)
    assert.equal("pointer", fmt:field("path").kind)
    local comm = fmt:field("comm")
    assert.equal("array", comm.kind)
    assert.equal(16, comm.count)
    assert.equal(1, comm.elem_size)
    assert.equal(4, fmt:field("addrs").elem_size)
    -- a length the file left as a macro: the array is known by its size
    assert.is_nil(fmt:field("buf").count)
    assert.equal("scalar", fmt:field("tiny").kind)
    assert.equal("s8", fmt:field("tiny").type)
  end)

  it("emits loads sized to each field", function()
    assert.same({ { op = "ldx", size = "w", dst = "r6", src = "r1", off = 12 } }, fmt:read_field("r1", "pid", "r6"))
    assert.same({ { op = "ldx", size = "dw", dst = "r6", src = "r1", off = 80 } }, fmt:read_field("r1", "big", "r6"))
    assert.same({ { op = "ldx", size = "b", dst = "r6", src = "r1", off = 60 } }, fmt:read_field("r1", "tiny", "r6"))
    assert.same({ { op = "ldsx", size = "b", dst = "r6", src = "r1", off = 60 } },
      fmt:read_field("r1", "tiny", "r6", { sign_extend = true }))
    assert.same({ { op = "ldx", size = "dw", dst = "r6", src = "r1", off = 32 } }, fmt:read_field("r1", "path", "r6"))
  end)

  it("turns a __data_loc into the data's address, and a __rel_loc too", function()
    assert.same({ { op = "ldx", size = "w", dst = "r6", src = "r1", off = 8 }, { op = "and", dst = "r6", imm = 0xffff },
                  { op = "add", dst = "r6", src = "r1" } }, fmt:read_field("r1", "name", "r6"))
    assert.same({ { op = "ldx", size = "w", dst = "r6", src = "r1", off = 8 } },
      fmt:read_field("r1", "name", "r6", { raw = true }))
    -- __rel_loc offsets count from the end of the field
    assert.same({ { op = "ldx", size = "w", dst = "r6", src = "r1", off = 56 },
                  { op = "and", dst = "r6", imm = 0xffff },
                  { op = "add", dst = "r6", imm = 60 }, { op = "add", dst = "r6", src = "r1" } },
      fmt:read_field("r1", "blob", "r6"))
    assert.same({ { op = "ldx", size = "w", dst = "r7", src = "r1", off = 8 }, { op = "mov32", dst = "r6", src = "r7" },
                  { op = "and", dst = "r6", imm = 0xffff }, { op = "add", dst = "r6", src = "r1" },
                  { op = "rsh", dst = "r7", imm = 16 } }, fmt:data_loc("r1", "name", "r6", "r7"))
  end)

  it("checks the semantics of data_loc by running it", function()
    -- the split on a made-up loc word: length 0x12, offset 0x34
    local word = 0x12 << 16 | 0x34
    local r = { r1 = 1000, r7 = 0 }
    for _, x in ipairs(fmt:data_loc("r1", "name", "r6", "r7")) do
      if x.op == "ldx" then r[x.dst] = word
      elseif x.op == "mov32" then r[x.dst] = r[x.src] & 0xffffffff
      elseif x.op == "and" then r[x.dst] = r[x.dst] & x.imm
      elseif x.op == "add" then r[x.dst] = r[x.dst] + (x.src and r[x.src] or x.imm)
      elseif x.op == "rsh" then r[x.dst] = r[x.dst] >> x.imm end
    end
    assert.equal(1000 + 0x34, r.r6)
    assert.equal(0x12, r.r7)
  end)

  it("copies strings: user pointers in syscalls, kernel ones elsewhere, record data", function()
    local function helper(list) return list[#list].helper end
    assert.equal("probe_read_kernel_str", helper(fmt:read_string("r9", "path", "r7", 64)))
    assert.equal("probe_read_user_str", helper(fmt:read_string("r9", "path", "r7", 64, { user = true })))
    assert.equal("probe_read_kernel_str", helper(fmt:read_string("r9", "name", "r7", 64)))
    local list = fmt:read_string("r9", "comm", "r7", 64)
    -- an array copy never reads past the field
    assert.same({ op = "mov", dst = "r2", imm = 16 }, list[#list - 2])
    local sys = tracepoint.parse(SAMPLE, "syscalls")
    assert.equal("probe_read_user_str", helper(sys:read_string("r9", "path", "r7", 64)))
  end)

  it("rejects what no load can read, naming the fields there are", function()
    assert.has_error(function() fmt:read_field("r9", "common_pid", "r2") end,
      "read_field: common_pid lies in the record's first 8 bytes, which the kernel does not let tracepoint " ..
      "programs read (helpers such as get_current_pid_tgid give the same facts)")
    assert.has_error(function() fmt:read_field("r1", "comm", "r6") end,
      "read_field: comm is an array of 16 bytes; copy it with read_string or take its address with field_addr")
    assert.has_error(function() fmt:read_field("r1", "nope", "r6") end,
      "read_field: demo_cat:demo has no field 'nope' (fields: name, pid, comm, path, addrs, blob, tiny, buf, big)")
    assert.has_error(function() fmt:read_string("r1", "pid", "r6", 8) end,
      "read_string: pid is a 4-byte number, not a string")
    assert.has_error(function() tracepoint.parse("nothing here") end,
      "tracepoint.parse: no fields in the format text")
    assert.has_error(function() tracepoint.format("bad/cat", "x") end)
  end)

  it("names sections as libbpf does", function()
    assert.equal("tracepoint/syscalls/sys_enter_openat", tracepoint.section_name("syscalls", "sys_enter_openat"))
    local info = fmt:program_info("demo_prog", { dsl.mov("r0", 0), dsl.exit() })
    assert.equal("tracepoint", info.type)
    assert.equal("tracepoint/demo_cat/demo", info.section)
    assert.equal("demo", info.tracepoint)
  end)
end)

-- Every tracepoint's format from tracefs.
local function all_formats()
  local out = {}
  for _, ev in ipairs(assert(tracepoint.list())) do
    local cat, name = ev:match("^([^:]+):(.+)$")
    local fmt = tracepoint.format(cat, name)
    if fmt then out[#out + 1] = fmt end
  end
  return out
end

-- The kernel's BTF, as bpftool prints it: types by id, structs by name.
local function btf_types()
  local types, structs, cur = {}, {}, nil
  local dump = env.run("bpftool btf dump file /sys/kernel/btf/vmlinux format raw")
  for line in dump:gmatch("[^\n]+") do
    local id, kind, name, rest = line:match("^%[(%d+)%] (%u+) '([^']*)'(.*)$")
    if id then
      local t = { kind = kind, name = name, size = tonumber(rest:match("size=(%d+)")),
                  type = tonumber(rest:match(" type_id=(%d+)")), nelems = tonumber(rest:match("nr_elems=(%d+)")),
                  encoding = rest:match("encoding=(%S+)"), members = {} }
      types[tonumber(id)] = t
      cur = t
      if kind == "STRUCT" then structs[name] = t end
    elseif cur then
      local m, tid, bits = line:match("^%s+'([^']*)' type_id=(%d+) bits_offset=(%d+)")
      if m then cur.members[m] = { type = tonumber(tid), offset = tonumber(bits) // 8 } end
    end
  end
  local function resolve(id)
    local t = types[id]
    while t and (t.kind == "TYPEDEF" or t.kind == "CONST" or t.kind == "VOLATILE" or t.kind == "TYPE_TAG") do
      t = types[t.type]
    end
    return t
  end
  local function size_of(id)
    local t = resolve(id)
    if t.kind == "PTR" then return 8 end
    if t.kind == "ARRAY" then return t.nelems * size_of(t.type) end
    return t.size
  end
  return structs, resolve, size_of
end

describe("tracepoint formats on this kernel", function()
  env.it("agree with the kernel's BTF: every field's offset, size and signedness", { "tracefs", "bpftool", "btf" },
    function()
      local structs, resolve, size_of = btf_types()
      local entry = assert(structs.trace_entry)
      local COMMON = { common_type = "type", common_flags = "flags", common_preempt_count = "preempt_count",
                       common_pid = "pid" }
      local sys_enter, sys_exit = assert(structs.syscall_trace_enter), assert(structs.syscall_trace_exit)
      local events, fields = 0, 0
      local function same(fmt, f, m, base)
        local tag = ("%s:%s %s"):format(fmt.category, fmt.name, f.name)
        assert.equal(m.offset + (base or 0), f.offset, tag .. " offset")
        assert.equal(size_of(m.type), f.size, tag .. " size")
        local t = resolve(m.type)
        if f.kind == "scalar" and t.kind == "INT" and t.name ~= "char" and t.name ~= "_Bool" then
          assert.equal(t.encoding == "SIGNED", f.signed, tag .. " signedness")
        end
        fields = fields + 1
      end
      for _, fmt in ipairs(all_formats()) do
        local s = structs["trace_event_raw_" .. fmt.name]
        local is_sys = fmt.category == "syscalls"
        if s or is_sys then
          events = events + 1
          for _, f in ipairs(fmt.field_list) do
            if f.common then
              same(fmt, f, entry.members[COMMON[f.name]])
            elseif is_sys then
              local rec = fmt.name:find("^sys_enter") and sys_enter or sys_exit
              if f.name == "__syscall_nr" then
                same(fmt, f, rec.members.nr)
              elseif rec == sys_exit then
                same(fmt, f, rec.members.ret)
              else
                -- argument i of args[]: 8-byte slots from args' offset
                local args = rec.members.args
                assert.equal(0, (f.offset - args.offset) % 8, fmt.name .. " " .. f.name)
                assert.equal(8, f.size)
                fields = fields + 1
              end
            else
              local m = s.members[f.name] or s.members["__data_loc_" .. f.name] or s.members["__rel_loc_" .. f.name]
              assert(m, ("%s:%s: BTF's %s has no member %s"):format(fmt.category, fmt.name, "trace_event_raw_" ..
                fmt.name, f.name))
              same(fmt, f, m)
            end
          end
        end
      end
      assert.is_true(events > 300, "compared only " .. events .. " tracepoints")
      assert.is_true(fields > 1500, "compared only " .. fields .. " fields")
    end)

  env.it("parse into increasing, non-overlapping fields of sensible sizes", { "tracefs" }, function()
    local formats = all_formats()
    assert.is_true(#formats > 500, #formats .. " formats")
    for _, fmt in ipairs(formats) do
      local at = 0
      for _, f in ipairs(fmt.field_list) do
        local tag = fmt.category .. ":" .. fmt.name .. " " .. f.name
        assert.is_true(f.offset >= at, tag)
        assert.is_true(f.size > 0 or f.kind == "array", tag)
        if f.kind == "pointer" then assert.equal(8, f.size, tag) end
        if f.kind == "data_loc" or f.kind == "rel_loc" then assert.equal(4, f.size, tag) end
        at = f.offset + f.size
      end
    end
  end)

  env.it("tells whether a tracepoint exists and lists a category", { "tracefs" }, function()
    assert.is_true(tracepoint.exists("syscalls", "sys_enter_openat"))
    assert.is_false(tracepoint.exists("syscalls", "sys_enter_no_such_call"))
    local names = assert(tracepoint.list("sched"))
    local set = {}
    for _, n in ipairs(names) do set[n] = true end
    assert.is_true(set.sched_switch and set.sched_process_exec)
    local fmt, msg = tracepoint.format("syscalls", "sys_enter_no_such_call")
    assert.is_nil(fmt)
    assert.truthy(msg:find("sys_enter_no_such_call", 1, true))
  end)
end)

describe("tracepoint programs and the verifier", function()
  local programs = require "ebpfdsl.programs"

  -- One program per tracepoint reading every field the DSL can read.
  local function every_field(fmt)
    local list = { dsl.mov("r9", "r1"), dsl.mov("r8", "r10"), dsl.add("r8", -64) }
    for _, f in ipairs(fmt.field_list) do
      if f.offset < 8 then goto next end
      if f.kind == "array" or f.kind == "data_loc" or f.kind == "rel_loc" or
        (f.kind == "pointer" and f.type:find("char")) then
        list[#list + 1] = fmt:read_string("r9", f.name, "r8", 64)
      end
      if f.kind ~= "array" and (f.size == 1 or f.size == 2 or f.size == 4 or f.size == 8 or f.kind ~= "scalar") then
        list[#list + 1] = fmt:read_field("r9", f.name, "r6")
        if f.kind == "data_loc" then list[#list + 1] = fmt:data_loc("r9", f.name, "r6", "r7") end
      end
      ::next::
    end
    list[#list + 1] = { dsl.mov("r0", 0), dsl.exit() }
    return list
  end

  env.it("loads a read of every field of the sched, signal, task, irq, timer and syscalls tracepoints",
    { "tracefs", "bpf" }, function()
      local n = 0
      for _, cat in ipairs { "sched", "signal", "task", "irq", "timer", "syscalls", "raw_syscalls" } do
        for _, name in ipairs(assert(tracepoint.list(cat))) do
          local fmt = assert(tracepoint.format(cat, name))
          local p, msg, _, log = programs.load(fmt:program_info("tp_spec", every_field(fmt)))
          assert(p, cat .. ":" .. name .. ": " .. tostring(msg) .. "\n" .. tostring(log))
          p:close()
          n = n + 1
        end
      end
      assert.is_true(n > 600, n .. " programs")
    end)

  env.it("refuses the common fields, which is why read_field does", { "tracefs", "bpf" }, function()
    local p, msg, _, log = programs.load { type = "tracepoint", name = "tp_common", insns = {
      dsl.ldx("w", "r0", "r1", 4), dsl.exit() } }
    assert.is_nil(p)
    assert.truthy((tostring(msg) .. tostring(log)):find("invalid bpf_context access off=4", 1, true))
  end)

  env.it("loads build_program for sys_enter_openat", { "tracefs", "bpf" }, function()
    local fmt = assert(tracepoint.format("syscalls", "sys_enter_openat"))
    local prog = tracepoint.build_program { format = fmt, ctx_reg = "r9",
      fields = { { "dfd", "r6" }, { "flags", "r7" } },
      body = { dsl.mov("r8", "r10"), dsl.add("r8", -256), fmt:read_string("r9", "filename", "r8", 256) },
      return_value = 0 }
    assert.same({ op = "ldx", size = "dw", dst = "r6", src = "r1", off = fmt:offset("dfd") }, prog[2])
    local p, msg, _, log = programs.load { type = "tracepoint", name = "tp_openat", insns = prog }
    assert(p, tostring(msg) .. "\n" .. tostring(log))
    p:close()
  end)
end)

describe("tracepoint layouts", function()
  env.it("give every field at the offset and size tracefs gives", { "tracefs" }, function()
    for _, ev in ipairs { { "sched", "sched_switch" }, { "sched", "sched_process_exec" },
                          { "syscalls", "sys_enter_openat" }, { "signal", "signal_generate" } } do
      local fmt = assert(tracepoint.format(ev[1], ev[2]))
      local E = assert(tracepoint.layout(ev[1], ev[2]))
      for _, f in ipairs(fmt.field_list) do
        assert.equal(f.offset, E:offset(f.name), ev[2] .. " " .. f.name)
        assert.equal(f.size, E:field_size(f.name), ev[2] .. " " .. f.name)
      end
      local last = fmt.field_list[#fmt.field_list]
      assert.equal(last.offset + last.size, E:size())
    end
  end)
end)
