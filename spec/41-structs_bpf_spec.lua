-- SPDX-License-Identifier: MIT
-- The BPF side of layouts: the stores, loads and addresses the structs
-- module emits, checked by their shape, then by the kernel: XDP programs
-- write fields into a packet with BPF_PROG_TEST_RUN and E:decode reads
-- back what they stored.
local env = require "support.env"
local structs = require "ebpfdsl.structs"
local d = require "ebpfdsl.dsl"
local programs = require "ebpfdsl.programs"

local Hdr = structs.define("hdr", { { "len", "u16" }, { "kind", "i8" } })
local E = structs.define("pkt_event", {
  { "ts", "u64" }, { "pid", "u32" }, { "tgid", "i32" }, { "comm", "char", 16 }, { "hdr", Hdr }, { "flags", "u8" },
  { "neg", "i16" }, { "ok", "bool" }, { "big", "i64" }, { "args", "u32", 4 }, { "p", "ptr" }, { "c", "char" },
  { "s8", "i8" }, { "hs", Hdr, 2 },
})
local P = structs.define("pkt_packed", { { "a", "u8" }, { "b", "u64" }, { "c", "i16" }, { "d", "u32" } },
  { packed = true })

local SIZE = { [1] = "b", [2] = "h", [4] = "w", [8] = "dw" }

local flat = require("support.insns").flatten

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  assert.truthy(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
end

-- Every scalar path of a layout: fields, array elements, nested fields.
local function scalar_paths(L, prefix, out)
  out = out or {}
  for _, f in ipairs(L:fields()) do
    local p = prefix .. f.name
    if f.type ~= "pad" then
      local elems = { p }
      if f.count then
        elems = {}
        for i = 0, f.count - 1 do elems[#elems + 1] = ("%s[%d]"):format(p, i) end
      end
      for _, e in ipairs(elems) do
        if f.layout then scalar_paths(f.layout, e .. ".", out) else out[#out + 1] = e end
      end
    end
  end
  return out
end

describe("BPF-side instructions", function()
  it("store each scalar with the size and offset of its field", function()
    for _, path in ipairs(scalar_paths(E, "")) do
      local f = E:field(path)
      assert.same({ op = "stx", size = SIZE[f.size], dst = "r6", off = f.offset, src = "r7" },
        structs.store_field("r6", E, path, "r7"))
    end
    assert.same({ op = "stx", size = "w", dst = "fp", off = -64 + E:offset("pid"), src = "r1" },
      structs.store_field({ "fp", -64 }, E, "pid", "r1"))
  end)

  it("store immediates, splitting 64-bit ones beyond 32 bits in two halves", function()
    assert.same({ op = "st", size = "w", dst = "r6", off = 8, imm = 0xffffffff },
      structs.store_imm("r6", E, "pid", 0xffffffff))
    assert.same({ op = "st", size = "dw", dst = "r6", off = 0, imm = -1 }, structs.store_imm("r6", E, "ts", -1))
    -- the two halves, each stored as the host stores a u32, make the
    -- bytes the host stores for the u64 (BPF runs in host byte order)
    for _, v in ipairs { 0x123456789abcdef0, math.mininteger, 0x80000000, -0x80000001 } do
      local two = structs.store_imm("r6", E, "ts", v)
      assert.same({ "st", "w", "r6", 0, "st", "w", "r6", 4 }, { two[1].op, two[1].size, two[1].dst, two[1].off,
        two[2].op, two[2].size, two[2].dst, two[2].off })
      assert.equal(string.pack("=i8", v), string.pack("=I4I4", two[1].imm, two[2].imm))
    end
    assert.same({ op = "st", size = "b", dst = "r6", off = E:offset("ok"), imm = 1 },
      structs.store_imm("r6", E, "ok", true))
    assert.same({ op = "st", size = "b", dst = "r6", off = E:offset("c"), imm = 120 },
      structs.store_imm("r6", E, "c", "x"))
    assert.same({ op = "st", size = "b", dst = "r6", off = E:offset("hs[1].kind"), imm = -128 },
      structs.store_imm("r6", E, "hs[1].kind", -128))
  end)

  it("zero a field with the widest aligned stores, covering exactly its bytes", function()
    for _, f in ipairs(E:fields()) do
      for _, base in ipairs { 0, -88 } do
        local ins = flat(structs.zero_field({ "r6", base }, E, f.name))
        local at = base + f.offset
        for _, i in ipairs(ins) do
          local w = ({ b = 1, h = 2, w = 4, dw = 8 })[i.size]
          assert.same({ "st", "r6", 0 }, { i.op, i.dst, i.imm })
          assert.equal(at, i.off, f.name)
          assert.equal(0, i.off % w, f.name .. " store aligned")
          at = at + w
        end
        assert.equal(base + f.offset + f.size, at, f.name .. " covered")
      end
    end
    -- comm is at 16, 16 bytes: two 8-byte stores
    assert.equal(2, #flat(structs.zero_field("r6", E, "comm")))
    assert.equal(math.ceil(E:size() / 8), #flat(structs.zero_field("r6", E)))
  end)

  it("compute field addresses", function()
    assert.same({ { op = "mov", dst = "r1", src = "r6" }, { op = "add", dst = "r1", imm = E:offset("comm") } },
      structs.field_addr("r1", "r6", E, "comm"))
    assert.same({ { op = "add", dst = "r6", imm = E:offset("hdr.kind") } },
      structs.field_addr("r6", "r6", E, "hdr.kind"))
    assert.same({ { op = "mov", dst = "r1", src = "r6" } }, structs.field_addr("r1", "r6", E, "ts"))
    assert.same({ { op = "mov", dst = "r1", src = "fp" }, { op = "add", dst = "r1", imm = -64 + 16 } },
      structs.field_addr("r1", { "fp", -64 }, E, "comm"))
  end)

  it("load sized, sign-extending signed fields", function()
    assert.same({ op = "ldx", size = "w", dst = "r0", src = "r6", off = 8 }, structs.load_field("r0", "r6", E, "pid"))
    assert.same({ op = "ldsx", size = "w", dst = "r0", src = "r6", off = 12 },
      structs.load_field("r0", "r6", E, "tgid"))
    assert.same({ op = "ldx", size = "dw", dst = "r0", src = "r6", off = E:offset("big") },
      structs.load_field("r0", "r6", E, "big"))
    assert.same({ op = "ldsx", size = "b", dst = "r0", src = "r6", off = E:offset("hdr.kind") },
      structs.load_field("r0", "r6", E, "hdr.kind"))
    assert.same({ { op = "ldx", size = "h", dst = "r0", src = "r6", off = E:offset("neg") },
                  { op = "lsh", dst = "r0", imm = 48 }, { op = "arsh", dst = "r0", imm = 48 } },
      structs.load_field("r0", "r6", E, "neg", { cpu = 3 }))
  end)

  it("store several fields in layout order", function()
    local ins = structs.store_fields("r6", E, {
      tgid = "r8", pid = { reg = "r7" }, ts = { imm = 5 }, comm = { zero = true }, ["hdr.len"] = 6,
    })
    local offs = {}
    for _, i in ipairs(flat(ins)) do offs[#offs + 1] = i.off end
    assert.same({ 0, 8, 12, 16, 24, 32 }, offs)
    assert.same({ op = "stx", size = "w", dst = "r6", off = 12, src = "r8" }, flat(ins)[3])
  end)

  it("have the clj-ebpf names", function()
    assert.equal(structs.store_field, structs.store_event_field)
    assert.equal(structs.store_imm, structs.store_event_imm)
    assert.equal(structs.zero_field, structs.zero_event_field)
    assert.equal(structs.store_fields, structs.store_event_fields)
    assert.same(structs.load_field("r0", "r6", E, "pid"), structs.load_event_field("r0", "r6", E, "pid"))
    assert.same(structs.field_addr("r1", { "fp", -64 }, E, "comm"),
      structs.event_field_addr("r1", { "fp", -64 }, E, "comm"))
    assert.equal("alias_check", structs.event("alias_check", { { "x", "u8" } }):name())
  end)

  it("refuse unknown fields, listing the known ones, and misuse", function()
    raises("store_field: no field 'pdi' in struct pkt_event (its fields: ts, pid, tgid, comm, hdr,",
      structs.store_field, "r6", E, "pdi", "r7")
    raises("store_fields: no field 'lne' in struct hdr at 'hdr.lne' (its fields: len, kind)",
      structs.store_fields, "r6", E, { ["hdr.lne"] = 1 })
    raises("store_field: 'comm' of struct pkt_event is an array (char[16])", structs.store_field, "r6", E, "comm", "r7")
    raises("store_imm: 'args' of struct pkt_event is an array (u32[4])", structs.store_imm, "r6", E, "args", 1)
    raises("load_field: 'hdr' of struct pkt_event is a struct hdr: name one of its fields ('hdr.len')",
      structs.load_field, "r0", "r6", E, "hdr")
    raises("store_imm: 256 does not fit field 'flags' of struct pkt_event (u8: 0..255)", structs.store_imm, "r6", E,
      "flags", 256)
    raises("store_imm: -1 does not fit field 'pid'", structs.store_imm, "r6", E, "pid", -1)
    raises("store_imm: 2 does not fit field 'ok'", structs.store_imm, "r6", E, "ok", 2)
    raises("store_imm: argument 4 must be an integer", structs.store_imm, "r6", E, "pid", "x")
    raises("store_field: argument 1 must be a register (r0..r10 or fp), got 'r11'",
      structs.store_field, "r11", E, "pid", "r7")
    raises("store_field: argument 4 must be a register", structs.store_field, "r6", E, "pid", 7)
    raises("store_field: argument 2 must be a layout from structs.define", structs.store_field, "r6", {}, "pid", "r7")
    raises("store_fields: value for 'pid' must be {reg=}, {imm=} or {zero=true}", structs.store_fields, "r6", E,
      { pid = { foo = 1 } })
    local Big = structs.define("big", { { "blob", "u8", 40000 }, { "tail", "u32" } })
    raises("store_field: field 'tail' at offset 40000 is out of reach of a 16-bit instruction offset; use field_addr",
      structs.store_field, "r6", Big, "tail", "r7")
  end)
end)

-- ---------------------------------------------------------------------
-- In the kernel: an XDP program gets the packet in ctx->data; test_run
-- returns the packet as the program left it.
-- ---------------------------------------------------------------------

-- Runs `body` with r2 = data (bounds-checked for #data bytes) and r6 =
-- ctx; returns the packet afterwards.
local function run_xdp(body, data, name)
  local prog = {
    d.mov("r6", "r1"),
    d.ldx("w", "r2", "r1", 0),
    d.ldx("w", "r3", "r1", 4),
    d.mov("r4", "r2"),
    d.add("r4", #data),
    d.jgt("r4", "r3", "out"),
    body,
    d.mov("r0", 2), -- XDP_PASS
    d.exit(),
    d.label("out"),
    d.mov("r0", 1), -- XDP_DROP: the packet was shorter than expected
    d.exit(),
  }
  local p, msg, _, log = programs.load { type = "xdp", insns = prog, name = name or "structs" }
  assert(p, tostring(msg) .. "\n" .. tostring(log))
  local r = assert(p:test_run { data = data })
  p:close()
  assert.equal(2, r.retval)
  return r.data_out:sub(1, #data)
end

describe("BPF-side stores in the kernel", function()
  env.it("store_field, store_imm, store_fields and field_addr write what E:decode reads", "bpf", function()
    local values = {
      ts = 0x123456789abcdef0, pid = 0xfffffffe, tgid = -7, hdr = { len = 1500, kind = -2 }, flags = 0x81,
      neg = -32768, ok = true, big = math.mininteger, args = { 1, 0xffffffff, 0, 42 }, p = -1, c = "Z", s8 = -128,
      hs = { { len = 65535, kind = 127 }, { len = 7, kind = -1 } },
    }
    local body = {
      d.lddw("r7", values.ts), structs.store_field("r2", E, "ts", "r7"),
      structs.store_imm("r2", E, "pid", values.pid),
      d.mov("r7", values.tgid), structs.store_field("r2", E, "tgid", "r7"),
      structs.store_fields("r2", E, { ["hdr.len"] = { imm = 1500 }, ["hdr.kind"] = { imm = -2 }, flags = { imm = 0x81 },
                                      neg = { reg = "r8" }, ok = { imm = true } }),
      structs.store_imm("r2", E, "big", math.mininteger),
      structs.store_imm("r2", E, "args[0]", 1), structs.store_imm("r2", E, "args[1]", 0xffffffff),
      structs.store_imm("r2", E, "args[3]", 42), structs.store_imm("r2", E, "p", -1),
      structs.store_imm("r2", E, "c", "Z"), structs.store_imm("r2", E, "s8", -128),
      -- through an address, as a helper would
      structs.field_addr("r5", "r2", E, "hs[0]"), d.mov("r7", 65535), d.stx("h", "r5", 0, "r7"),
      d.st("b", "r5", Hdr:offset("kind"), 127),
      structs.field_addr("r5", "r2", E, "hs[1].kind"), d.st("b", "r5", 0, -1),
      structs.field_addr("r9", "r2", E, "hs[1].len"), d.st("h", "r9", 0, 7),
    }
    table.insert(body, 1, d.mov("r8", -32768))
    local out = run_xdp(body, ("\0"):rep(E:size() + 16))
    local got = E:decode(out)
    local want = E:decode(E:encode(values))
    assert.same(want, got)
    assert.equal(values.ts, got.ts)
    assert.equal(-7, got.tgid)
    assert.equal(("\0"):rep(16), out:sub(E:size() + 1))
  end)

  env.it("field_addr gives a helper the address of a field to write (bpf_xdp_load_bytes into comm)", "bpf", function()
    -- the record is built on the stack (helpers may not write to the
    -- packet), zeroed with zero_field, filled by the helper, then copied
    -- into the packet 8 bytes at a time
    local text = "hello, structs!!" -- exactly fills comm
    local base = -((E:size() + 7) // 8 * 8)
    local data = ("\255"):rep(E:size()) .. text
    local body = {
      structs.zero_field({ "fp", base }, E),
      structs.field_addr("r3", { "fp", base }, E, "comm"),
      d.mov("r1", "r6"), d.mov("r2", E:size()), d.mov("r4", E:field_size("comm")),
      d.call("xdp_load_bytes"),
      d.jne("r0", 0, "out"),
      structs.store_imm({ "fp", base }, E, "pid", 77),
      -- the helper call clobbered r1..r5: find the packet again
      d.ldx("w", "r2", "r6", 0), d.ldx("w", "r3", "r6", 4), d.mov("r4", "r2"), d.add("r4", #data),
      d.jgt("r4", "r3", "out"),
    }
    for k = 0, E:size() - 8, 8 do
      body[#body + 1] = { d.ldx("dw", "r7", "fp", base + k), d.stx("dw", "r2", k, "r7") }
    end
    local out = run_xdp(body, data)
    local got = E:decode(out)
    assert.equal(text, got.comm)
    assert.equal(77, got.pid)
    assert.equal(0, got.ts)
    assert.same(E:decode(E:encode { comm = text, pid = 77 }), got)
  end)

  env.it("zero_field zeroes exactly each field's bytes", "bpf", function()
    local fields = { "ts", "comm", "hdr", "args", "c", "hs", "hs[1].kind", "neg" }
    local body = {}
    for _, f in ipairs(fields) do body[#body + 1] = structs.zero_field("r2", E, f) end
    local data = ("\255"):rep(E:size() + 8)
    local out = run_xdp(body, data)
    local want = { data:byte(1, -1) }
    for _, f in ipairs(fields) do
      for i = E:offset(f) + 1, E:offset(f) + E:field_size(f) do want[i] = 0 end
    end
    assert.equal(string.char(table.unpack(want)), out)
    -- the whole record
    out = run_xdp({ structs.zero_field("r2", E) }, data)
    assert.equal(("\0"):rep(E:size()) .. ("\255"):rep(8), out)
  end)

  env.it("load_field reads back every scalar, sign-extending signed ones (ldsx, and shifts for cpu v3)", "bpf",
    function()
      local values = {
        ts = -2, pid = 0x80000001, tgid = -100000, comm = "abc", hdr = { len = 0xfffe, kind = -3 }, flags = 0xff,
        neg = -2, ok = true, big = -5, args = { 0x7fffffff, 0x80000000, 3, 0 }, p = 0x7fff12345678, c = "\200",
        s8 = -1, hs = { { len = 1, kind = 127 }, { len = 0x8000, kind = -128 } },
      }
      local rec = E:encode(values)
      local paths = scalar_paths(E, "") -- comm[0] .. comm[15] among them
      -- scratch: one 64-bit slot per path after two copies of the record
      local copy = (E:size() + 7) // 8 * 8
      local scratch = 2 * copy
      for _, cpu in ipairs { 4, 3 } do
        local body = {}
        for i, p in ipairs(paths) do
          body[#body + 1] = structs.load_field("r7", "r2", E, p, { cpu = cpu })
          body[#body + 1] = d.stx("dw", "r2", scratch + 8 * (i - 1), "r7")
          -- and into the second copy with store_field
          body[#body + 1] = structs.store_field({ "r2", copy }, E, p, "r7")
        end
        local data = rec .. ("\0"):rep(copy - E:size()) .. ("\0"):rep(copy) .. ("\0"):rep(8 * #paths)
        local out = run_xdp(body, data, "structs_ld" .. cpu)
        local decoded = E:decode(rec)
        assert.same(decoded, E:decode(out, copy), "store_field copy, cpu " .. cpu)
        for i, p in ipairs(paths) do
          local f = E:field(p)
          local got = string.unpack("<i8", out, scratch + 8 * (i - 1) + 1)
          local raw = rec:sub(f.offset + 1, f.offset + f.size)
          local want = f.signed and string.unpack("<i" .. f.size, raw) or string.unpack("<I" .. f.size, raw)
          if f.size == 8 then want = string.unpack("<i8", raw) end
          assert.equal(want, got, ("%s (cpu v%d)"):format(p, cpu))
        end
      end
    end)

  env.it("packed layouts store and load at unaligned packet offsets", "bpf", function()
    local body = {
      d.lddw("r7", -0x0102030405060708), structs.store_field("r2", P, "b", "r7"),
      structs.store_imm("r2", P, "a", 0xab), structs.store_imm("r2", P, "c", -2),
      structs.store_imm("r2", P, "d", 0xdeadbeef),
      structs.load_field("r8", "r2", P, "c"), d.stx("dw", "r2", 16, "r8"),
    }
    local out = run_xdp(body, ("\0"):rep(24))
    assert.same({ a = 0xab, b = -0x0102030405060708, c = -2, d = 0xdeadbeef }, P:decode(out))
    assert.equal(-2, string.unpack("<i8", out, 17))
  end)
end)
