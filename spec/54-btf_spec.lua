-- SPDX-License-Identifier: MIT
-- ebpfdsl.btf against bpftool and clang: every type of the kernel's BTF
-- compared with `bpftool btf dump format raw` (kinds, names, members and
-- offsets, parameters, enum values), member declarations against bpftool's
-- `format c`, and offsetof paths checked by clang compiling that header.
local env = require "support.env"
local raw = require "support.btf_raw"

local VMLINUX = "/sys/kernel/btf/vmlinux"
local STRUCTS = { "task_struct", "sk_buff", "sock", "file", "inode", "mm_struct", "net_device", "cred",
                  "dentry", "bpf_prog", "sched_entity", "xdp_buff", "pt_regs", "super_block" }

local btf = require "ebpfdsl.btf"

local oracle, oracle_max -- bpftool's raw dump of vmlinux, parsed once
local function types()
  if not oracle then oracle, oracle_max = raw.parse(env.run("bpftool btf dump file " .. VMLINUX .. " format raw")) end
  return oracle, oracle_max
end

-- Hundreds of thousands of comparisons: collected, then asserted once
-- (luassert per comparison would dominate the run time).
local function differ()
  local bad = {}
  local function eq(want, got, what)
    if want ~= got and #bad < 20 then
      bad[#bad + 1] = ("%s: bpftool %s, ours %s"):format(tostring(what), tostring(want), tostring(got))
    end
  end
  return eq, bad
end

local function id_of(name, kind)
  for id, t in pairs(types()) do
    if t.name == name and t.kind == kind then return id end
  end
end

describe("btf.vmlinux", function()
  env.it("is parsed once and shared", "btf", function()
    local a = assert(btf.vmlinux())
    assert.equal(a, btf.vmlinux())
    assert.matches("^ebpfdsl.BTF vmlinux %(%d+ types%)$", tostring(a))
    a:close() -- shared: closing it leaves it usable for everyone
    assert.equal(btf.vmlinux(), a)
    assert.truthy(a:type("task_struct"))
  end)

  -- In a private mount namespace, /sys/kernel/btf replaced by a tmpfs:
  -- empty, libbpf's own loader is the fallback and its reason is told; with
  -- a copy of the file, the same types as the kernel's own file give.
  env.it("reads the kernel's file wherever it is mounted, and says why when it is not there",
    { "btf", "root", "unshare" }, function()
      local dir = env.tmpdir()
      finally(function() os.execute("rm -rf '" .. dir .. "'") end)
      local f = assert(io.open(dir .. "/script.lua", "w"))
      f:write([[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local b, msg, errno = require("ebpfdsl.btf").vmlinux()
print(b and b:count(), msg, errno)
]])
      f:close()
      local function run(copy)
        local p = assert(io.popen(("unshare -m --propagation private sh -c '%smount -t tmpfs none /sys/kernel/btf && "
          .. "%slua5.4 %s/script.lua' 2>&1"):format(copy and "cp " .. VMLINUX .. " " .. dir .. "/vmlinux && " or "",
          copy and "cp " .. dir .. "/vmlinux /sys/kernel/btf/ && " or "", dir)))
        local out = p:read("a")
        p:close()
        return out
      end
      -- "libbpf: ..." is libbpf's loader's own message: it was the fallback
      assert.matches("^nil\tcannot read the kernel's BTF %(/sys/kernel/btf/vmlinux%): .*%(libbpf: .*%)\t%d+\n$",
        run(false))
      assert.equal(("%d\tnil\tnil\n"):format(btf.vmlinux():count()), run(true))
    end)

  env.it("has the same kind and name for every type id as bpftool", { "btf", "bpftool" }, function()
    local b = btf.vmlinux()
    local eq, bad = differ()
    local t, max = types()
    eq(max + 1, b:count())
    local n = 0
    for id = 1, max do
      local ours = b:type(id)
      eq(t[id].kind, ours.kind, "kind of type " .. id)
      eq(t[id].name, ours.name, "name of type " .. id)
      n = n + 1
    end
    assert.same({}, bad)
    assert.is_true(n > 100000)
  end)

  env.it("gives every struct and union the members, offsets and sizes bpftool gives", { "btf", "bpftool" },
    function()
      local b = btf.vmlinux()
      local eq, bad = differ()
      local structs, members = 0, 0
      for id, o in pairs(types()) do
        if o.kind == "struct" or o.kind == "union" then
          local ours = b:type(id)
          eq(o.size, ours.size, o.name)
          eq(#o.members, #ours.members, o.name)
          for i, om in ipairs(o.members) do
            local m = ours.members[i]
            eq(om.name, m.name)
            eq(om.type_id, m.type_id, o.name .. "." .. om.name)
            eq(om.bits_offset, m.bit_offset, o.name .. "." .. om.name)
            eq(om.bitfield_size or 0, m.bitfield_size, o.name .. "." .. om.name)
            eq(om.bits_offset // 8, m.offset)
            members = members + 1
          end
          structs = structs + 1
        end
      end
      assert.same({}, bad)
      assert.is_true(structs > 5000 and members > 50000, structs .. " structs, " .. members .. " members")
    end)

  env.it("gives every other kind the details bpftool gives", { "btf", "bpftool" }, function()
    local b = btf.vmlinux()
    local eq, bad = differ()
    local checked = {}
    for id, o in pairs(types()) do
      local ours = b:type(id)
      local k = o.kind
      if k == "int" then
        eq(o.size, ours.size)
        eq(o.nr_bits, ours.bits)
        eq(o.encoding == "SIGNED", ours.signed, o.name)
        eq(o.encoding == "BOOL", ours.bool, o.name)
        eq(o.encoding == "CHAR", ours.char, o.name)
      elseif k == "ptr" or k == "typedef" or k == "const" or k == "volatile" or k == "restrict"
          or k == "type_tag" or k == "var" then
        eq(o.type_id, ours.type_id, k .. " " .. id)
        if k == "var" then eq(o.linkage, ours.linkage) end
      elseif k == "array" then
        eq(o.type_id, ours.type_id)
        eq(o.index_type_id, ours.index_type_id)
        eq(o.nr_elems, ours.nelems)
      elseif k == "func" then
        eq(o.type_id, ours.proto_id)
        eq(o.linkage, ours.linkage)
        local proto = types()[o.type_id]
        eq(proto.ret_type_id, ours.ret_id, o.name)
        local n = #proto.members
        if n > 0 and proto.members[n].type_id == 0 then n = n - 1 end
        eq(n, #ours.params, o.name)
        for i = 1, n do
          eq(proto.members[i].name, ours.params[i].name, o.name)
          eq(proto.members[i].type_id, ours.params[i].type_id, o.name)
        end
      elseif k == "enum" or k == "enum64" then
        eq(o.size, ours.size)
        eq(o.encoding == "SIGNED", ours.signed, o.name)
        eq(#o.members, #ours.list)
        for i, ov in ipairs(o.members) do
          local v = ours.list[i]
          eq(ov.name, v.name)
          local want = ov.raw_val
          local got = k == "enum" and tostring(v.value)
            or (ours.signed and tostring(v.value) .. "LL" or raw.udec(v.value) .. "ULL")
          eq(want, got, o.name .. " " .. ov.name)
          if ov.name ~= "" and o.name ~= "" then eq(v.value, ours.values[ov.name]) end
        end
      elseif k == "fwd" then
        eq(o.fwd_kind, ours.fwd_kind)
      elseif k == "decl_tag" then
        eq(o.type_id, ours.type_id)
        eq(o.component_idx, ours.component_idx)
      elseif k == "datasec" then
        eq(#o.members, #ours.vars)
        for i, ov in ipairs(o.members) do
          eq(ov.type_id, ours.vars[i].type_id)
          eq(ov.offset, ours.vars[i].offset)
          eq(ov.name, ours.vars[i].name)
        end
      end
      checked[k] = (checked[k] or 0) + 1
    end
    assert.same({}, bad)
    for _, k in ipairs { "int", "ptr", "typedef", "const", "array", "func", "func_proto", "enum", "fwd" } do
      assert.is_true((checked[k] or 0) > 0, "no " .. k .. " checked")
    end
  end)

  env.it("finds types by name and kind at bpftool's ids", { "btf", "bpftool" }, function()
    local b = btf.vmlinux()
    for _, name in ipairs(STRUCTS) do
      local want = id_of(name, "struct")
      assert.equal(want, b:id(name, "struct"), name)
      assert.equal(want, b:id(name), name) -- a struct is preferred over other kinds
      assert.equal(want, b:type(name).id)
      assert.equal("struct " .. name, b:type_name(want))
      for id, t in pairs(types()) do
        if t.kind == "ptr" and t.type_id == want then assert.equal("struct " .. name .. " *", b:type_name(id)) end
      end
    end
    assert.equal(id_of("pid_t", "typedef"), b:id("pid_t", "typedef"))
    assert.equal(id_of("do_unlinkat", "func"), b:id("do_unlinkat", "func"))
    assert.equal(id_of("bpf_attach_type", "enum"), b:enum("bpf_attach_type").id)
  end)

  env.it("gives kernel functions' parameters and return types as bpftool does", { "btf", "bpftool" }, function()
    local b = btf.vmlinux()
    for _, fname in ipairs { "do_unlinkat", "vfs_read", "tcp_sendmsg", "do_sys_openat2", "schedule", "kfree" } do
      local f = assert(b:func(fname))
      local o = types()[id_of(fname, "func")]
      local proto = types()[o.type_id]
      assert.equal(fname, f.name)
      assert.equal(proto.ret_type_id, f.ret_id)
      assert.equal(b:type_name(proto.ret_type_id), f.ret)
      assert.equal(#proto.members, #f.params, fname .. " parameters")
      for i, want in ipairs(proto.members) do
        local p = f.params[i]
        assert.equal(want.name, p.name)
        assert.equal(want.type_id, p.type_id)
        assert.equal(b:type_name(want.type_id), p.type)
      end
    end
    local unlink = b:func("do_unlinkat")
    assert.equal("int", unlink.ret)
    assert.same({ "dfd", "name" }, { unlink.params[1].name, unlink.params[2].name })
    assert.equal("int do_unlinkat(int dfd, struct filename *name)", unlink.decl)
  end)

  env.it("spells member declarations as bpftool's format c does", { "btf", "bpftool" }, function()
    local b = btf.vmlinux()
    local header = env.run("bpftool btf dump file " .. VMLINUX .. " format c")
    local compared = 0
    -- ours, flattened the way bpftool inlines anonymous structs and unions
    local function flatten(id, out)
      for _, m in ipairs(b:type(id).members) do
        local body = m.decl:match("^%a+ {%.%.%.}")
        if body then
          local inner = m.type_id
          while b:type(inner).kind == "ptr" or b:type(inner).kind == "array" or b:type(inner).kind == "const"
            or b:type(inner).kind == "volatile" do
            inner = b:type(inner).type_id
          end
          local ms = b:type(inner).members
          if ms and #ms == 0 then -- bpftool writes an empty one on one line
            out[#out + 1] = m.decl:gsub("{%.%.%.}", "{}", 1)
          else
            if ms then flatten(inner, out) end
            if m.name ~= "" then out[#out + 1] = "}" .. m.decl:sub(#body + 1) end
          end
        else
          out[#out + 1] = m.decl .. (m.bitfield_size > 0 and ": " .. m.bitfield_size or "")
        end
      end
      return out
    end
    local pad = { long = true, int = true, short = true, char = true }
    for _, name in ipairs(STRUCTS) do
      local body = header:match("\nstruct " .. name .. " {\n(.-)\n}[^\n]*;\n")
      assert.truthy(body, "bpftool printed no struct " .. name)
      local theirs = {}
      for line in body:gmatch("[^\n]+") do
        line = line:gsub("^\t+", ""):gsub(" __attribute__%(%(packed%)%)", "")
        local ptype = line:match("^(%a+): %d+;$")
        if line:sub(-1) == ";" and line ~= "};" and not (ptype and pad[ptype]) then
          theirs[#theirs + 1] = line:sub(1, -2)
        end
      end
      assert.same(theirs, flatten(b:id(name, "struct"), {}), name)
      compared = compared + #theirs
    end
    assert.is_true(compared > 500)
  end)

  env.it("computes offsetof paths clang agrees with", { "btf", "bpftool", "clang-19" }, function()
    local b = btf.vmlinux()
    local dir = env.tmpdir()
    -- bpftool 7.1 drops the size of one-byte enums (`enum rw_hint : u8`),
    -- which moves every member after one; give clang the size back
    local header = env.run("bpftool btf dump file " .. VMLINUX .. " format c")
    for _, t in pairs(types()) do
      if t.kind == "enum" and t.size == 1 and t.name ~= "" then
        header = header:gsub("(\nenum " .. t.name .. " {\n.-\n})(;)", "%1 __attribute__((packed))%2")
      end
    end
    local h = assert(io.open(dir .. "/vmlinux.h", "w"))
    h:write(header)
    h:close()
    local lines = { '#include "vmlinux.h"' }
    local n = 0
    local function add(sname, path, off)
      lines[#lines + 1] = ("_Static_assert(__builtin_offsetof(struct %s, %s) == %d, \"%s %s\");"):format(
        sname, path, off, sname, path)
      n = n + 1
    end
    -- every member reachable by name: through anonymous members, one level
    -- into named struct members, and one element into arrays
    local function walk(sname, id, prefix, depth)
      for _, m in ipairs(b:type(id).members) do
        local inner = m.type_id
        while ({ typedef = 1, const = 1, volatile = 1 })[b:type(inner).kind] do inner = b:type(inner).type_id end
        local it = b:type(inner)
        if m.name == "" then
          if it.members then walk(sname, inner, prefix, depth) end
        elseif m.bitfield_size == 0 then
          local path = prefix .. m.name
          add(sname, path, assert(b:offsetof(sname, path)))
          if it.kind == "array" and it.nelems > 1 and b:type(it.type_id).size then
            add(sname, path .. "[1]", assert(b:offsetof(sname, path .. "[1]")))
          end
          if it.members and depth < 1 then walk(sname, inner, path .. ".", depth + 1) end
        end
      end
    end
    for _, name in ipairs(STRUCTS) do walk(name, b:id(name, "struct"), "", 0) end
    local f = assert(io.open(dir .. "/check.c", "w"))
    f:write(table.concat(lines, "\n"), "\n")
    f:close()
    env.run("clang-19 -target bpf -fsyntax-only " .. dir .. "/check.c")
    assert.is_true(n > 1000, n .. " paths")
    env.run("rm -rf " .. dir)
  end)

  env.it("follows paths into anonymous members and array elements", { "btf", "bpftool" }, function()
    local b = btf.vmlinux()
    local t = types()
    local task = t[id_of("task_struct", "struct")]
    local se
    for _, m in ipairs(task.members) do if m.name == "se" then se = m end end
    local vr
    for _, m in ipairs(t[se.type_id].members) do if m.name == "vruntime" then vr = m end end
    local off, info = b:offsetof("task_struct", "se.vruntime")
    assert.equal((se.bits_offset + vr.bits_offset) // 8, off)
    assert.equal(vr.type_id, info.type_id)
    assert.equal(8, info.size)
    local comm = assert(b:offsetof("task_struct", "comm"))
    assert.equal(comm + 3, b:offsetof("task_struct", "comm[3]"))
    -- sk_buff's `len` sits after anonymous unions; `dev` is inside two
    local _, dev = b:offsetof("sk_buff", "dev")
    assert.equal("struct net_device *", dev.type)
    -- a bitfield reports its bit position and width
    local _, bf = b:offsetof("sk_buff", "pkt_type")
    assert.equal(3, bf.bitfield_size)
  end)

  env.it("says what is missing instead of raising", "btf", function()
    local b = btf.vmlinux()
    local v, msg = b:type("no_such_type_anywhere")
    assert.is_nil(v)
    assert.matches("no type named 'no_such_type_anywhere' in vmlinux BTF", msg, 1, true)
    v, msg = b:offsetof("task_struct", "se.no_such_member")
    assert.is_nil(v)
    assert.matches("no member 'no_such_member'", msg, 1, true)
    v, msg = b:offsetof("task_struct", "comm[16]")
    assert.is_nil(v)
    assert.matches("index out of range", msg, 1, true)
    v, msg = b:offsetof("task_struct", "pid.x")
    assert.is_nil(v)
    assert.matches("cannot look into", msg, 1, true)
    assert.is_nil((b:func("no_such_function_here")))
    assert.is_nil((b:enum("task_struct")))
    assert.is_nil((b:type(b:count())))
    assert.has_error(function() b:type("task_struct", "structure") end, "unknown BTF kind 'structure' " ..
      "(struct, union, enum, enum64, typedef, func, func_proto, int, ptr, array, ...)")
  end)
end)

describe("btf.load", function()
  env.it("reads the raw vmlinux file like the shared one", "btf", function()
    local b <close> = assert(btf.load(VMLINUX))
    assert.equal(btf.vmlinux():count(), b:count())
    assert.equal(btf.vmlinux():id("task_struct", "struct"), b:id("task_struct", "struct"))
    assert.matches("^ebpfdsl.BTF /sys/kernel/btf/vmlinux", tostring(b))
  end)

  env.it("reads split BTF on top of a base, with ids continuing the base's", "btf", function()
    local base = btf.vmlinux()
    -- the vmlinux file read as if it extended itself, as a module's does
    local s <close> = assert(btf.load(VMLINUX, true))
    assert.equal(2 * base:count() - 1, s:count())
    local id = base:id("task_struct", "struct")
    assert.equal(id, s:id("task_struct", "struct")) -- found in the base first
    local again = s:type(base:count() - 1 + id)
    assert.equal("task_struct", again.name)
    assert.equal(base:type(id).size, again.size)
  end)

  env.it("reads the .BTF section of an object clang built, as bpftool does", { "clang-19", "bpftool" }, function()
    local dir = env.tmpdir()
    local f = assert(io.open(dir .. "/t.c", "w"))
    f:write [[
struct event { unsigned int pid; char comm[16]; unsigned long long ts; struct { short a, b; } pair;
               unsigned int flag : 3, rest : 29; };
enum color { RED = 1, GREEN = 2, BLUE = -4 };
int handler(struct event *e, enum color c) { return e->pid + c + e->flag; }
]]
    f:close()
    env.run("clang-19 -O2 -g -target bpf -c " .. dir .. "/t.c -o " .. dir .. "/t.o")
    local o = raw.parse(env.run("bpftool btf dump file " .. dir .. "/t.o format raw"))
    local b <close> = assert(btf.load(dir .. "/t.o"))
    local ev = b:type("event")
    local oid
    for id, t in pairs(o) do if t.name == "event" then oid = id end end
    assert.equal(oid, ev.id)
    for i, m in ipairs(o[oid].members) do
      assert.equal(m.name, ev.members[i].name)
      assert.equal(m.bits_offset, ev.members[i].bit_offset)
      assert.equal(m.bitfield_size or 0, ev.members[i].bitfield_size)
    end
    assert.equal("char comm[16]", ev.members[2].decl)
    assert.equal(-4, b:enum("color").values.BLUE)
    local h = b:func("handler")
    assert.equal("int handler(struct event *e, enum color c)", h.decl)
    assert.equal(b:offsetof("event", "pair") + 2, b:offsetof("event", "pair.b"))
    env.run("rm -rf " .. dir)
  end)

  it("fails with the path and the reason", function()
    local b, msg, err = btf.load("/nonexistent/file.btf")
    assert.is_nil(b)
    assert.equal("cannot read BTF from /nonexistent/file.btf: No such file or directory", msg)
    assert.equal(require("support.errno").ENOENT, err)
  end)

  env.it("raises on a closed handle", "btf", function()
    local b = assert(btf.load(VMLINUX))
    b:close()
    b:close()
    assert.equal("ebpfdsl.BTF (closed)", tostring(b))
    assert.has_error(function() b:type("task_struct") end, "attempt to use a closed ebpfdsl.BTF")
  end)
end)

describe("split BTF", function()
  env.it("keeps its base alive when the base is closed first", { "btf", "bpftool" }, function()
    -- in a fresh process, where freeing the base unmaps its memory: a
    -- split BTF reading through a freed base crashes there
    local out = env.run([[lua5.4 -e '
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/?.so;" .. package.cpath
      local btf = require "ebpfdsl.btf"
      local base = assert(btf.load("]] .. VMLINUX .. [["))
      local s = assert(btf.load("]] .. VMLINUX .. [[", base))
      local count = base:count()
      base:close()
      collectgarbage()
      collectgarbage()
      local t = s:type("task_struct", "struct")
      print(tostring(base), count, s:count(), t.id, #t.members, s:type(count - 1 + t.id).name)']])
    local id = id_of("task_struct", "struct")
    local count = btf.vmlinux():count()
    assert.equal(("ebpfdsl.BTF (closed)\t%d\t%d\t%d\t%d\ttask_struct\n"):format(count, 2 * count - 1, id,
      #types()[id].members), out)
  end)
end)

describe("the kernel's BTF, parsed once per process", function()
  env.it("serves struct_ops maps too: creating them reads vmlinux no more", { "bpf", "btf", "strace" }, function()
    local script = require("support.child").script([[
local e = require "ebpfdsl"
local id = assert(e.btf.vmlinux()):id("bpf_struct_ops_tcp_congestion_ops", "struct")
for _ = 1, 5 do
  local m = assert(e.maps.struct_ops { struct_ops = "tcp_congestion_ops" })
  assert(m:info().btf_vmlinux_value_type_id == id)
  m:close()
end
]])
    local trace = os.tmpname()
    local ok = os.execute(("strace -f -e trace=open,openat -o %s lua5.4 %s"):format(trace, script))
    local opens = 0
    for line in io.lines(trace) do
      if line:find('"' .. VMLINUX .. '"', 1, true) then opens = opens + 1 end
    end
    os.remove(script)
    os.remove(trace)
    assert.is_truthy(ok)
    assert.equal(1, opens) -- btf.vmlinux()'s parse, shared by the five creates
  end)
end)

describe("BTF:source()", function()
  env.it("says where the BTF came from: vmlinux, or the path given", "btf", function()
    assert.equal("vmlinux", btf.vmlinux():source())
    local b <close> = assert(btf.load(VMLINUX))
    assert.equal(VMLINUX, b:source())
    local s <close> = assert(btf.load(VMLINUX, b))
    assert.equal(VMLINUX, s:source())
    b:close()
    assert.has_error(function() b:source() end, "attempt to use a closed ebpfdsl.BTF")
  end)
end)
