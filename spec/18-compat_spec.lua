-- SPDX-License-Identifier: MIT
-- ebpfdsl.compat: every alias (a synonym or clj-ebpf's name) builds the
-- table and the bytes its main word of ebpfdsl.dsl builds, refuses what
-- it refuses at the caller's line, and the module stands in for dsl.
local compat = require "ebpfdsl.compat"
local dsl = require "ebpfdsl.dsl"
local core = require "ebpfdsl.core"

local THIS = debug.getinfo(1, "S").short_src

-- Arguments for an ALU word, each form: shifts take small immediates.
local function alu_args(name) return name:match("sh") and 3 or -7 end

-- Every alias as {alias, its arguments, main word, the main word's
-- arguments}: written out here, from the ISA's rows and the names
-- clj-ebpf and the DSL's users know, not from compat's own tables.
local function cases()
  local list = {
    { "and_", { "r1", 3 }, "and", { "r1", 3 } }, { "or_", { "r1", "r2" }, "or", { "r1", "r2" } },
    { "and32_", { "r1", 0xff }, "and32", { "r1", 0xff } }, { "or32_", { "r6", "r7" }, "or32", { "r6", "r7" } },
    { "neg_reg", { "r5" }, "neg", { "r5" } },
    { "to_le", { "r1", 16 }, "le", { "r1", 16 } }, { "end_to_le", { "r2", 64 }, "le", { "r2", 64 } },
    { "to_be", { "r3", 32 }, "be", { "r3", 32 } }, { "end_to_be", { "r4", 16 }, "be", { "r4", 16 } },
    { "exit_insn", {}, "exit", {} },
    { "call_helper", { "map_lookup_elem" }, "call", { "map_lookup_elem" } },
    { "atomic_xchg", { "dw", "r1", -8, "r2" }, "xchg", { "dw", "r1", -8, "r2" } },
    { "atomic_cmpxchg", { "w", "r3", 0, "r4" }, "cmpxchg", { "w", "r3", 0, "r4" } },
    { "jmp", { "jeq", "r1", 0, "t" }, "jeq", { "r1", 0, "t" } },
    { "jmp", { "gt", "r1", "r2", "t" }, "jgt", { "r1", "r2", "t" } },
    { "jmp", { "t" }, "ja", { "t" } },
    { "jmp32", { "jslt", "r1", "r2", "t" }, "jslt32", { "r1", "r2", "t" } },
    { "jmp32", { "jsge32", "r1", 4, "t" }, "jsge32", { "r1", 4, "t" } },
    { "jmp_imm", { "jgt", "r1", 5, "t" }, "jgt", { "r1", 5, "t" } },
    { "jmp_reg", { "jge", "r1", "r2", 3 }, "jge", { "r1", "r2", 3 } },
    { "jmp32_imm", { "set", "r1", 9, "t" }, "jset32", { "r1", 9, "t" } },
    { "jmp32_reg", { "jle", "r1", "r3", "t" }, "jle32", { "r1", "r3", "t" } },
  }
  for _, row in ipairs(core.isa()) do
    local n = row.name
    if row.shape == "alu" then
      list[#list + 1] = { n .. "_imm", { "r4", alu_args(n) }, n, { "r4", alu_args(n) } }
      list[#list + 1] = { n .. "_reg", { "r5", "fp" }, n, { "r5", "fp" } }
    elseif row.shape == "jcond" and not n:match("32$") then
      list[#list + 1] = { "jmp", { n, "r1", -1, "t" }, n, { "r1", -1, "t" } }
      list[#list + 1] = { "jmp32", { n, "r1", 7, "t" }, n .. "32", { "r1", 7, "t" } }
      list[#list + 1] = { "jmp32_imm", { n, "r1", 7, "t" }, n .. "32", { "r1", 7, "t" } }
      list[#list + 1] = { "jmp32_reg", { n, "r1", "r3", "t" }, n .. "32", { "r1", "r3", "t" } }
    end
  end
  for _, sz in ipairs { "b", "h", "w", "dw" } do
    list[#list + 1] = { "ldx" .. sz, { "r1", "r2", 4 }, "ldx", { sz, "r1", "r2", 4 } }
    list[#list + 1] = { "ldx" .. sz, { "r1", "fp" }, "ldx", { sz, "r1", "fp" } }
    list[#list + 1] = { "st" .. sz, { "r10", -8, 7 }, "st", { sz, "r10", -8, 7 } }
    list[#list + 1] = { "stx" .. sz, { "r10", -8, "r1" }, "stx", { sz, "r10", -8, "r1" } }
  end
  for _, word in ipairs { "le", "be", "bswap" } do
    for _, bits in ipairs { 16, 32, 64 } do
      list[#list + 1] = { word .. bits, { "r1" }, word, { "r1", bits } }
    end
  end
  return list
end

describe("ebpfdsl.compat", function()
  it("holds aliases only: each name of its own is none of dsl's", function()
    for name in pairs(compat) do assert.is_nil(rawget(dsl, name), name) end
  end)

  it("builds, for every alias, the table and the bytes of its main word", function()
    local seen = {}
    for _, c in ipairs(cases()) do
      local alias, args, word, wargs = c[1], c[2], c[3], c[4]
      seen[alias] = true
      local got, want = compat[alias](table.unpack(args)), dsl[word](table.unpack(wargs))
      assert.same(want, got, alias)
      -- jumps go to "t", just after
      local tail = { dsl.label("t"), dsl.exit() }
      assert.equal(dsl.assemble({ want, tail }, { cpu = 4 }), dsl.assemble({ got, tail }, { cpu = 4 }), alias)
    end
    local bytes, labels = dsl.assemble { dsl.mov("r0", 0), dsl.ja("x"), dsl.label("x"), dsl.exit() }
    assert.same(dsl.disassemble(bytes, labels), compat.decode(bytes, labels))
    seen.decode = true
    -- and the cases cover every alias there is: one added is specified here
    local missing = {}
    for name in pairs(compat) do
      if not seen[name] then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("keeps the synonyms the main word's own function", function()
    for alias, word in pairs { and_ = "and", or_ = "or", and32_ = "and32", or32_ = "or32", neg_reg = "neg",
                               to_le = "le", end_to_le = "le", to_be = "be", end_to_be = "be",
                               exit_insn = "exit", call_helper = "call", atomic_xchg = "xchg",
                               atomic_cmpxchg = "cmpxchg", decode = "disassemble" } do
      assert.equal(dsl[word], compat[alias], alias)
    end
  end)

  it("stands in for dsl: every other name is dsl's", function()
    for _, name in ipairs(dsl.mnemonics()) do assert.equal(dsl[name], compat[name], name) end
    assert.equal(dsl.assemble, compat.assemble)
    assert.equal(dsl.builder, compat.builder)
    assert.equal(dsl.ringbuf_reserve, compat.ringbuf_reserve)
    assert.equal(dsl.helper_ktime_get_ns, compat.helper_ktime_get_ns)
    local d = compat
    local prog = { d.mov_imm("r0", 0), d.ldxw("r1", "r1", 0), d.jmp_imm("jeq", "r1", 0, "out"),
                   d.and_("r1", 7), d.mov_reg("r0", "r1"), d.label("out"), d.exit_insn() }
    assert.equal(dsl.dump { dsl.mov("r0", 0), dsl.ldx("w", "r1", "r1", 0), dsl.jeq("r1", 0, "out"),
                            dsl["and"]("r1", 7), dsl.mov("r0", "r1"), dsl.label("out"), dsl.exit() },
                 d.dump(prog))
    -- a builder takes an alias's tables
    local b = dsl.builder()
    b:emit(prog)
    assert.equal(dsl.assemble(prog), (b:assemble()))
  end)

  it("refuses what the main word refuses, naming the alias and its own argument, at the caller's line", function()
    local cases_ = {
      { function() local _ = compat.add_imm("r0", "r1") end, "add_imm: argument 2 must be an integer, got 'r1'" },
      { function() local _ = compat.add_reg("r0", 1) end,
        "add_reg: argument 2 must be a register (r0..r10 or fp), got 1" },
      { function() local _ = compat.mov32_imm("r11", 1) end,
        "mov32_imm: argument 1 must be a register (r0..r10 or fp), got 'r11'" },
      { function() local _ = compat.ldxw("r11", "r1", 0) end,
        "ldxw: argument 1 must be a register (r0..r10 or fp), got 'r11'" },
      { function() local _ = compat.stdw("r10", nil, 0) end, "stdw: argument 2 must be an integer, got nil" },
      { function() local _ = compat.stxh("r10", -2, 5) end,
        "stxh: argument 3 must be a register (r0..r10 or fp), got 5" },
      { function() local _ = compat.be16(16) end, "be16: argument 1 must be a register (r0..r10 or fp), got 16" },
      { function() local _ = compat.jmp("jequal", "r1", 0, "x") end,
        "jmp: argument 1 must be a condition (jeq, jgt, ..., jsle), got 'jequal'" },
      { function() local _ = compat.jmp32(5, "r1", 0, "x") end,
        "jmp32: argument 1 must be a condition such as 'jeq', got 5" },
      { function() local _ = compat.jmp("jeq", "r1", "x", "L") end,
        "jmp: argument 3 must be a register (r0..r10 or fp), got 'x'" },
      { function() local _ = compat.jmp(1.5) end, "jmp: argument 1 must be a label name or a jump offset, got 1.5" },
      { function() local _ = compat.jmp_imm("jeq", "r1", "r2", "L") end,
        "jmp_imm: argument 3 must be an integer, got 'r2'" },
      { function() local _ = compat.jmp32_reg("jeq", "r1", 2, "L") end,
        "jmp32_reg: argument 3 must be a register (r0..r10 or fp), got 2" },
      -- a synonym is the main word: its messages are the word's
      { function() local _ = compat.and_("r0", 1.5) end, "and: argument 2 must be a register or an integer, got 1.5" },
    }
    for _, c in ipairs(cases_) do
      local line = debug.getinfo(c[1], "S").linedefined
      local ok, err = pcall(c[1])
      assert.is_false(ok, c[2])
      assert.equal(THIS .. ":" .. line .. ": " .. c[2], err)
    end
  end)
end)
