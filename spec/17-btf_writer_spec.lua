-- SPDX-License-Identifier: MIT
-- The BTF writer against BTF's readers: bpftool prints what we wrote type by
-- type as the spec expects it from the calls; libbpf parses it and finds
-- every field where the layout puts it; for random layouts, the C bpftool
-- prints from our BTF is the C it prints from clang-19's BTF of the same
-- struct. A program's BTF: a FUNC per function (call_local and ld_func
-- targets), a line per instruction, read back from the bytes.
local env = require "support.env"
local core = require "ebpfdsl.core"
local dsl = require "ebpfdsl.dsl"
local structs = require "ebpfdsl.structs"

local tmp = env.tmpdir
local write = require("support.files").write

-- ---------------------------------------------------------------------
-- Every kind, as bpftool prints it
-- ---------------------------------------------------------------------

describe("the BTF writer", function()
  env.it("writes each kind as bpftool reads it back", "bpftool", function()
    local w = core.btf_writer()
    local want = {}
    local function expect(line) want[#want + 1] = line end
    local i = w:int("int", 4, "signed")
    expect(("[%d] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"):format(i))
    local c = w:int("char", 1, "char")
    expect(("[%d] INT 'char' size=1 bits_offset=0 nr_bits=8 encoding=CHAR"):format(c))
    local u64 = w:int("unsigned long long", 8)
    expect(("[%d] INT 'unsigned long long' size=8 bits_offset=0 nr_bits=64 encoding=(none)"):format(u64))
    local b = w:int("_Bool", 1, "bool")
    expect(("[%d] INT '_Bool' size=1 bits_offset=0 nr_bits=8 encoding=BOOL"):format(b))
    local p = w:ptr(i)
    expect(("[%d] PTR '(anon)' type_id=%d"):format(p, i))
    local vp = w:ptr(0)
    expect(("[%d] PTR '(anon)' type_id=0"):format(vp))
    local a = w:array(c, 7)
    -- the index type clang uses, made with the first array
    expect(("[%d] INT '__ARRAY_SIZE_TYPE__' size=4 bits_offset=0 nr_bits=32 encoding=(none)"):format(a - 1))
    expect(("[%d] ARRAY '(anon)' type_id=%d index_type_id=%d nr_elems=7"):format(a, c, a - 1))
    local s = w:struct("pair", 16, { { "a", i, 0 }, { "b", u64, 64 } })
    expect(("[%d] STRUCT 'pair' size=16 vlen=2"):format(s))
    expect(("\t'a' type_id=%d bits_offset=0"):format(i))
    expect(("\t'b' type_id=%d bits_offset=64"):format(u64))
    local un = w:union("either", 8, { { "x", u64, 0 }, { "y", a, 0 } })
    expect(("[%d] UNION 'either' size=8 vlen=2"):format(un))
    expect(("\t'x' type_id=%d bits_offset=0"):format(u64))
    expect(("\t'y' type_id=%d bits_offset=0"):format(a))
    local anon = w:struct(nil, 4, { { "z", i, 0 } })
    expect(("[%d] STRUCT '(anon)' size=4 vlen=1"):format(anon))
    expect(("\t'z' type_id=%d bits_offset=0"):format(i))
    local empty = w:struct("task_struct", 3000)
    expect(("[%d] STRUCT 'task_struct' size=3000 vlen=0"):format(empty))
    local t = w:typedef("myint", i)
    expect(("[%d] TYPEDEF 'myint' type_id=%d"):format(t, i))
    local tag = w:type_tag("kptr", empty)
    expect(("[%d] TYPE_TAG 'kptr' type_id=%d"):format(tag, empty))
    local fp = w:func_proto(i, { { "ctx", vp }, { "", c } })
    expect(("[%d] FUNC_PROTO '(anon)' ret_type_id=%d vlen=2"):format(fp, i))
    expect(("\t'ctx' type_id=%d"):format(vp))
    expect(("\t'(anon)' type_id=%d"):format(c))
    local vfp = w:func_proto(0)
    expect(("[%d] FUNC_PROTO '(anon)' ret_type_id=0 vlen=0"):format(vfp))
    for k, linkage in ipairs { "static", "global", "extern" } do
      local f = w:func("f" .. k, fp, linkage)
      expect(("[%d] FUNC 'f%d' type_id=%d linkage=%s"):format(f, k, fp, linkage))
    end
    assert.equal(#want - 7, w:count()) -- members and params are no types
    local dir = tmp()
    write(dir .. "/w.btf", w:bytes())
    local got = env.run("bpftool btf dump file " .. dir .. "/w.btf")
    env.run("rm -rf " .. dir)
    assert.same(want, (function()
      local l = {}
      for line in got:gmatch("[^\n]+") do l[#l + 1] = line end
      return l
    end)())
  end)

  it("keeps each string once, \"\" at offset 0", function()
    local w = core.btf_writer()
    assert.equal(0, w:string(""))
    local a = w:string("alpha")
    assert.equal(1, a)
    assert.equal(a, w:string("alpha"))
    local b = w:string("beta")
    assert.equal(a + #"alpha" + 1, b)
    w:int("alpha", 4) -- the type's name is the same string
    local bytes = w:bytes()
    -- header: magic, version, flags, hdr_len, type_off, type_len, str_off, str_len
    local magic, version, flags, hdr_len, type_off, type_len, str_off, str_len = string.unpack("<I2BBI4I4I4I4I4", bytes)
    assert.same({ 0xeb9f, 1, 0, 24, 0, 16, 16, 12 },
      { magic, version, flags, hdr_len, type_off, type_len, str_off, str_len })
    assert.equal("\0alpha\0beta\0", bytes:sub(24 + type_len + 1))
    assert.equal(a, string.unpack("<I4", bytes, 25)) -- the int's name_off
  end)

  it("refuses what the kernel would, naming it", function()
    local function refuses(pattern, f)
      local w = core.btf_writer()
      local ok, err = pcall(f, w)
      assert.is_false(ok)
      assert.matches(pattern, err, 1, true)
    end
    refuses("struct '1abc' is not a C identifier", function(w) w:struct("1abc", 4) end)
    refuses("member 'a-b' is not a C identifier", function(w) w:struct("s", 4, { { "a-b", w:int("int", 4), 0 } }) end)
    refuses("typedef needs a name", function(w) w:typedef("", 0) end)
    refuses("func needs a name", function(w) w:func("", w:func_proto(0)) end)
    refuses("ptr: no type 5 (types are 1..0, or 0 for void)", function(w) w:ptr(5) end)
    refuses("array: no type 0 (types are 1..1)", function(w) w:int("int", 4) w:array(0, 3) end)
    refuses("int 'x': size 3 is not 1, 2, 4, 8 or 16", function(w) w:int("x", 3) end)
    refuses("int 'b': bad encoding", function(w) w:int("b", 4, "bool") end)
    refuses("bad argument #3 to 'int' (invalid option 'unsigned')", function(w) w:int("u", 4, "unsigned") end)
    refuses("bad argument #3 to 'func' (invalid option 'weak')", function(w) w:func("f", w:func_proto(0), "weak") end)
    refuses("scalar", function(w) w:scalar("struct") end)
    refuses("a layout from structs.define", function(w) w:layout({}) end)
  end)

  it("makes each layout scalar once: a typedef of the int clang names", function()
    local w = core.btf_writer()
    local u32 = w:scalar("u32")
    assert.equal(u32, w:scalar("u32"))
    assert.equal(2, u32) -- unsigned int, then __u32
    local b = core.btf_from_bytes(w:bytes())
    assert.same({ "typedef", "__u32" }, { b:type(u32).kind, b:type(u32).name })
    assert.equal("unsigned int", b:type(b:type(u32).type_id).name)
    for name, c in pairs { u8 = "unsigned char", u16 = "unsigned short", u64 = "unsigned long long", i8 = "signed char",
                           i16 = "short", i32 = "int", i64 = "long long" } do
      local w2 = core.btf_writer()
      local id = w2:scalar(name)
      local b2 = core.btf_from_bytes(w2:bytes())
      assert.equal("__" .. name:gsub("^i", "s"), b2:type(id).name)
      assert.equal(c, b2:type(b2:type(id).type_id).name)
    end
  end)
end)

-- ---------------------------------------------------------------------
-- Layouts against clang-19, through bpftool's C
-- ---------------------------------------------------------------------

-- xorshift64, as spec 40's: the same cases everywhere
local function rng(seed)
  local s = seed ~ 0x2545F4914F6CDD1D
  return function(n)
    s = s ~ (s << 13)
    s = s ~ (s >> 7)
    s = s ~ (s << 17)
    return (s >> 1) % n + 1
  end
end

local SCALARS = { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "char", "bool", "ptr" }

-- A random layout tree: nested layouts first, each a C identifier.
local function random_layout(R, ci)
  local made = {}
  local function gen(depth)
    local fields = {}
    for i = 1, R(8) do
      local roll = R(100)
      if roll <= 15 and depth < 3 then
        local sub = (#made > 0 and R(2) == 1) and made[R(#made)] or gen(depth + 1)
        fields[i] = { "f" .. i, sub, R(4) == 1 and R(3) or nil }
      elseif roll <= 22 then
        fields[i] = { "f" .. i, "pad", R(5) }
      else
        local t = SCALARS[R(#SCALARS)]
        fields[i] = { "f" .. i, t, R(10) <= 3 and R(12) or nil }
      end
    end
    local l = structs.define(("b%d_s%d"):format(ci, #made + 1), fields, { packed = R(5) == 1 })
    made[#made + 1] = l
    return l
  end
  return gen(1)
end

-- bpftool's C for a BTF file: {struct name = its text, typedef name = its type}
local function c_structs(text)
  local t = {}
  for name, body in text:gmatch("\nstruct ([%w_]+) (%b{}[^;]*);") do t[name] = body end
  for ty, name in text:gmatch("\ntypedef ([^;\n]-) ([%w_]+);") do t["typedef " .. name] = ty end
  return t
end

describe("layouts as BTF", function()
  local R = rng(150)
  local CASES = {}
  for ci = 1, 60 do CASES[ci] = random_layout(R, ci) end

  env.it(#CASES .. " random layouts print as clang-19's BTF of their C prints, in bpftool's C",
    { "clang-19", "bpftool" }, function()
      local dir = tmp()
      local w = core.btf_writer()
      local src = { "#include <linux/types.h>" }
      for ci, l in ipairs(CASES) do
        w:layout(l)
        src[#src + 1] = tostring(l)
        src[#src + 1] = ("struct %s v%d;"):format(l:name(), ci)
      end
      write(dir .. "/ours.btf", w:bytes())
      write(dir .. "/c.c", table.concat(src, "\n"))
      env.run(("clang-19 -g -O2 -target bpf -I/usr/include/%s-linux-gnu -c %s/c.c -o %s/c.o"):format(
        io.popen("uname -m"):read("l"), dir, dir))
      local ours = c_structs(env.run("bpftool btf dump file " .. dir .. "/ours.btf format c"))
      local theirs = c_structs(env.run("bpftool btf dump file " .. dir .. "/c.o format c"))
      env.run("rm -rf " .. dir)
      local n, bad = 0, {}
      for name, body in pairs(theirs) do
        n = n + 1
        if ours[name] ~= body then bad[#bad + 1] = ("struct %s:\nours %s\nclang %s"):format(name, ours[name], body) end
      end
      for name in pairs(ours) do if not theirs[name] then bad[#bad + 1] = "only ours: " .. name end end
      assert.same({}, bad)
      assert.is_true(n >= #CASES)
    end)

  it("puts every field where the layout does, as libbpf reads the BTF", function()
    local checked = 0
    for _, l in ipairs(CASES) do
      local w = core.btf_writer()
      local id = w:layout(l)
      local b = core.btf_from_bytes(w:bytes())
      assert.equal(l:size(), b:type(id).size)
      assert.equal(l:name(), b:type(id).name)
      for _, f in ipairs(l:fields()) do
        local o = b:offsetof(l:name(), f.name)
        assert.equal(f.offset, o, l:name() .. "." .. f.name)
        checked = checked + 1
      end
    end
    assert.is_true(checked > 150)
  end)

  it("writes a layout used twice once, and a kptr field as pointer to tag to struct", function()
    local H = structs.define("hdr", { { "len", "u16" } })
    local V = structs.define("val", { { "a", H }, { "b", H, 2 }, { "task", "ptr" }, { "raw", "ptr" } })
    local w = core.btf_writer()
    local id = w:layout(V, { kptrs = { task = "task_struct" } })
    assert.equal(id, w:layout(V))
    local b = core.btf_from_bytes(w:bytes())
    local t = b:type(id)
    local m = {}
    for _, x in ipairs(t.members) do m[x.name] = x end
    assert.equal(b:type(m.a.type_id).id, b:type(b:type(m.b.type_id).type_id).id) -- one struct hdr
    local p = b:type(m.task.type_id)
    assert.equal("ptr", p.kind)
    local tag = b:type(p.type_id)
    assert.same({ "type_tag", "kptr" }, { tag.kind, tag.name })
    assert.same({ "struct", "task_struct" }, { b:type(tag.type_id).kind, b:type(tag.type_id).name })
    assert.equal(0, b:type(m.raw.type_id).type_id) -- void *
    local w2 = core.btf_writer()
    w2:layout(V, { kptrs = { task = { struct = "task_struct", tag = "kptr_untrusted" } } })
    local b2 = core.btf_from_bytes(w2:bytes())
    assert.is_not_nil(b2:id("kptr_untrusted", "type_tag"))
    for _, bad in ipairs {
      { { nope = "task_struct" }, "layout 'val' has no field 'nope'" },
      { { a = "task_struct" }, "kptr 'a': the field must be a ptr" },
      { { ["a.len"] = "task_struct" }, "kptr 'a.len': the field must be a ptr" },
      { { task = 5 }, "kptrs['task']: a kernel struct name" },
    } do
      local ok, err = pcall(core.btf_writer().layout, core.btf_writer(), V, { kptrs = bad[1] })
      assert.is_false(ok)
      assert.matches(bad[2], err, 1, true)
    end
  end)
end)

-- ---------------------------------------------------------------------
-- A program's BTF
-- ---------------------------------------------------------------------

-- main calls "sum"; "sum" hands "each" to bpf_loop; "spare" is no function
local PROG = {
  dsl.mov("r1", 3), dsl.call_local("sum"), dsl.exit(),
  dsl.label("sum"),
  dsl.mov("r1", 4), dsl.ld_func("r2", "each.cb"), dsl.mov("r3", 0), dsl.mov("r4", 0), dsl.call("loop"),
  dsl.label("spare"), dsl.exit(),
  dsl.label("each.cb"), dsl.lddw("r0", 0), dsl.exit(),
}

local function records(bytes, size, fmt)
  local t = {}
  for at = 1, #bytes, size do t[#t + 1] = { string.unpack(fmt, bytes, at) } end
  return t
end

describe("a program's BTF", function()
  local bytes, labels = dsl.assemble(PROG)

  it("finds every function: the program and each call_local and ld_func target", function()
    assert.same({ 0, 3, 10 }, core.prog_funcs(bytes))
    assert.same({ 0 }, core.prog_funcs(dsl.assemble { dsl.mov("r0", 0), dsl.exit() }))
  end)

  it("gives each function a static FUNC named after its label, and its first slot", function()
    local btf, func_info, _, funcs = core.prog_btf(bytes, { name = "prog", labels = labels })
    assert.same({ { slot = 0, name = "prog" }, { slot = 3, name = "sum" }, { slot = 10, name = "each_cb" } },
      (function()
        local t = {}
        for i, f in ipairs(funcs) do t[i] = { slot = f.slot, name = f.name } end
        return t
      end)())
    local b = core.btf_from_bytes(btf)
    for i, r in ipairs(records(func_info, 8, "<I4I4")) do
      assert.equal(funcs[i].slot, r[1])
      local f = b:type(r[2])
      assert.same({ "func", funcs[i].name, "static" }, { f.kind, f.name, f.linkage })
      local proto = b:type(f.proto_id)
      assert.equal("long", b:type(proto.ret_id).name)
      assert.equal(i == 1 and 1 or 0, #proto.params) -- long prog(void *ctx), long sum(void)
    end
    -- no name, or none a C identifier can be made of: main, sub_<slot>
    local _, _, _, f2 = core.prog_btf(bytes)
    assert.same({ "main", "sub_3", "sub_10" }, { f2[1].name, f2[2].name, f2[3].name })
    local _, _, _, f3 = core.prog_btf(bytes, { name = "9lives", labels = { [3] = "a-b", [10] = "7up" } })
    assert.same({ "_9lives", "a_b", "_7up" }, { f3[1].name, f3[2].name, f3[3].name })
  end)

  it("has a line for each instruction, its text as dump prints it", function()
    local btf, _, line_info = core.prog_btf(bytes, { labels = labels })
    local b = core.btf_from_bytes(btf)
    local dumped = {}
    for slot, text in dsl.dump(PROG):gmatch("%s*(%d+): ([^\n]*)") do dumped[#dumped + 1] = { tonumber(slot), text } end
    local lines = records(line_info, 16, "<I4I4I4I4")
    assert.equal(#dumped, #lines) -- lddw's second slot has none
    for i, r in ipairs(lines) do
      assert.equal(dumped[i][1], r[1])
      assert.equal(r[1], r[4] >> 10) -- line = slot
    end
    -- the strings the records name are in the BTF's string section
    local str = btf:sub(25 + string.unpack("<I4", btf, 13))
    for i, r in ipairs(lines) do
      assert.equal("ebpfdsl", str:match("^[^\0]*", r[2] + 1))
      assert.equal(dumped[i][2], str:match("^[^\0]*", r[3] + 1))
    end
    assert.is_not_nil(b)
  end)

  it("takes source lines: one record per run of a line, and one at each function's start", function()
    local btf, _, line_info = core.prog_btf(bytes, { labels = labels, file = "x.lua", lines = {
      { slot = 1, file = "a.lua", line = 10, col = 3, text = "call sum" },
      { slot = 4, line = 20, text = "loop" }, -- covers sum's rest and each_cb
    } })
    local str = btf:sub(25 + string.unpack("<I4", btf, 13))
    local got = {}
    for _, r in ipairs(records(line_info, 16, "<I4I4I4I4")) do
      got[#got + 1] = { r[1], str:match("^[^\0]*", r[2] + 1), r[4] >> 10, r[4] & 0x3ff, str:match("^[^\0]*", r[3] + 1) }
    end
    assert.same({
      { 0, "x.lua", 0, 0, "r1 = 0x3" }, -- before the first line: its own text
      { 1, "a.lua", 10, 3, "call sum" },
      { 3, "a.lua", 10, 3, "call sum" }, -- sum starts: its own record
      { 4, "x.lua", 20, 0, "loop" },
      { 10, "x.lua", 20, 0, "loop" },
    }, got)
  end)

  it("refuses bytes that are no program, and lines out of order", function()
    assert.has_error(function() core.prog_btf("1234567") end)
    local ok, err = pcall(core.prog_btf, bytes, { lines = { { slot = 4 }, { slot = 1 } } })
    assert.is_false(ok)
    assert.matches("lines[2]: slots must be given, in order", err, 1, true)
  end)
end)
