-- SPDX-License-Identifier: MIT
-- The assembler: labels and nested lists, lddw's two slots, errors that
-- name the instruction and the label, relaxation of long jumps into gotol,
-- cpu gating, and round trips of random instruction streams and of random
-- bytes (decoded as "raw" where no row fits).
local env = require "support.env"
local dsl = require "ebpfdsl.dsl"
local core = require "ebpfdsl.core"

local function insn(code, dst, src, off, imm)
  return string.pack("<BBi2i4", code, (src << 4) | dst, off, imm)
end

-- Every opcode byte some row of the table can produce, so that random
-- instructions hit real rows (fully random bytes are almost all raw).
local CODES = {}
for _, row in ipairs(core.isa()) do
  for _, extra in ipairs { 0, 0x08, 0x10, 0x18 } do CODES[#CODES + 1] = (row.code | extra) & 0xff end
end

-- A field value biased to the edges: 0, 1, -1, small, or anything.
local function edgy(bits)
  local r = math.random(6)
  if r == 1 then return 0 elseif r == 2 then return 1 elseif r == 3 then return -1 end
  if r == 4 then return math.random(0, 64) end
  return math.random(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
end

describe("round trip of random bytes", function()
  it("any 8-byte instructions disassemble and re-assemble identically", function()
    math.randomseed(12001)
    for _ = 1, 2000 do
      local t = {}
      for j = 1, math.random(1, 16) * 8 do t[j] = string.char(math.random(0, 255)) end
      local b = table.concat(t)
      assert.equal(b, dsl.assemble(dsl.disassemble(b)))
    end
  end)

  it("real opcodes with random registers and fields re-assemble identically", function()
    math.randomseed(12002)
    local raw, named = 0, 0
    for _ = 1, 20000 do
      local t = {}
      for j = 1, math.random(1, 12) do
        local code = math.random(5) == 1 and 0 or CODES[math.random(#CODES)]
        local regs = math.random(3) == 1 and math.random(0, 255) or (math.random(0, 10) | (math.random(0, 10) << 4))
        -- most rows want some fields zero
        local off = math.random(3) == 1 and 0 or edgy(16)
        local imm = math.random(2) == 1 and 0 or edgy(32)
        t[j] = insn(code, regs & 0xf, regs >> 4, off, imm)
      end
      local b = table.concat(t)
      local list = dsl.disassemble(b)
      for _, x in ipairs(list) do
        if x.op == "raw" then raw = raw + 1 elseif x.op ~= "label" then named = named + 1 end
      end
      local again = dsl.assemble(list)
      if again ~= b then
        error("round trip changed the bytes:\n" .. dsl.dump(b) .. "-- became --\n" .. dsl.dump(again))
      end
    end
    -- both paths were exercised
    assert.is_true(named > 10000 and raw > 10000, ("named %d raw %d"):format(named, raw))
  end)

  it("what the assembler refuses decodes as raw, with every field kept", function()
    local cases = {
      insn(0x67, 1, 0, 0, 64),        -- lsh r1, 64: shift beyond the width
      insn(0x64, 1, 0, 0, 32),        -- lsh32 w1, 32
      insn(0x37, 1, 0, 0, 0),         -- div r1, 0: division by a zero immediate
      insn(0x97, 1, 0, 1, 0),         -- smod r1, 0
      insn(0xb7, 11, 0, 0, 1),        -- mov r11, 1: no such register
      insn(0x0f, 1, 15, 0, 0),        -- add r1, r15
      insn(0x72, 1, 0, 0, 1000),      -- *(u8 *)(r1 + 0) = 1000
      insn(0x6a, 1, 0, 0, -40000),    -- *(u16 *)(r1 + 0) = -40000
      insn(0x15, 12, 0, 3, 0),        -- if r12 == 0 goto +3
      insn(0xbf, 1, 2, 7, 0),         -- movsx with 7 bits
    }
    for _, b in ipairs(cases) do
      local list = dsl.disassemble(b)
      assert.equal(1, #list)
      local code, regs, off, imm = string.unpack("<BBi2i4", b)
      assert.same({ op = "raw", code = code, dst = regs & 0xf, src = regs >> 4, off = off, imm = imm }, list[1])
      assert.equal(b, dsl.assemble(list))
    end
  end)
end)

describe("labels synthesised by the disassembler", function()
  it("are only placed where an instruction starts", function()
    -- goto +1 and call +1 land in the second half of the lddw: no label
    -- can stand there, so they keep their numeric distance
    for _, first in ipairs { insn(0x05, 0, 0, 1, 0), insn(0x85, 0, 1, 0, 1) } do
      local b = first .. insn(0x18, 1, 0, 0, 5) .. insn(0, 0, 0, 0, 0) .. insn(0x95, 0, 0, 0, 0)
      local list = dsl.disassemble(b)
      assert.equal(3, #list)
      assert.is_nil(list[1].target)
      assert.equal(b, dsl.assemble(list))
      assert.is_nil(dsl.dump(b):find("<L"))
    end
  end)

  it("ignore given labels that do not stand where an instruction starts", function()
    local b = insn(0x18, 1, 0, 0, 5) .. insn(0, 0, 0, 0, 0) .. insn(0x95, 0, 0, 0, 0)
    local list = dsl.disassemble(b, { [1] = "middle", [2] = "last", x = "junk" })
    assert.same({ op = "label", name = "last" }, list[2])
    assert.equal(3, #list)
    assert.equal(b, dsl.assemble(list))
  end)
end)

-- ---------------------------------------------------------------------
-- Labels, nesting, slots
-- ---------------------------------------------------------------------

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

describe("labels and lists", function()
  it("flattens nested lists in order, empty ones included", function()
    local flat = dsl.assemble {
      { op = "mov", dst = "r0", imm = 0 }, { op = "label", name = "a" }, { op = "add", dst = "r0", imm = 1 },
      { op = "jeq", dst = "r0", imm = 3, target = "b" }, { op = "ja", target = "a" }, { op = "label", name = "b" },
      { op = "exit" },
    }
    local nested = dsl.assemble {
      { { op = "mov", dst = "r0", imm = 0 } }, {},
      { { op = "label", name = "a" }, { { { op = "add", dst = "r0", imm = 1 } }, {} } },
      { { { op = "jeq", dst = "r0", imm = 3, target = "b" } }, { op = "ja", target = "a" } },
      { op = "label", name = "b" }, { {}, { { op = "exit" } } },
    }
    assert.equal(hex(flat), hex(nested))
    -- by the ISA document: jeq at slot 2 to b at 4 is off +1; ja at 3 to a at 1 is off -3
    assert.equal(hex(insn(0xb7, 0, 0, 0, 0) .. insn(0x07, 0, 0, 0, 1) .. insn(0x15, 0, 0, 1, 3) ..
      insn(0x05, 0, 0, -3, 0) .. insn(0x95, 0, 0, 0, 0)), hex(flat))
  end)

  it("counts lddw and its pseudo forms as two slots", function()
    for _, wide in ipairs {
      { op = "lddw", dst = "r1", imm = 1 }, { op = "ld_map_fd", dst = "r1", imm = 3 },
      { op = "ld_map_value", dst = "r1", imm = 3, value_offset = 4 }, { op = "ld_btf_id", dst = "r1", imm = 9 },
      { op = "ld_func", dst = "r1", imm = 0 }, { op = "ld_map_idx", dst = "r1", imm = 0 },
      { op = "ld_map_idx_value", dst = "r1", imm = 0, value_offset = 8 },
    } do
      local b, labels = dsl.assemble {
        { op = "ja", target = "after" }, wide, wide, { op = "label", name = "after" }, { op = "exit" },
      }
      assert.equal(6 * 8, #b, wide.op)
      assert.same({ [5] = "after" }, labels)
      assert.equal(hex(insn(0x05, 0, 0, 4, 0)), hex(b:sub(1, 8)), wide.op)
    end
  end)

  it("returns labels by slot, the first name where two share one", function()
    local _, labels = dsl.assemble { dsl.label("start"), dsl.label("also"), dsl.lddw("r0", 1), dsl.label("mid"),
      dsl.exit(), dsl.label("end") }
    assert.same({ [0] = "start", [2] = "mid", [3] = "end" }, labels)
  end)

  it("resolves forward, backward and self jumps and local calls", function()
    local b = dsl.assemble {
      dsl.label("self"), dsl.ja("self"), dsl.call_local("fn"), dsl.jne32("r1", "r2", "self"), dsl.exit(),
      dsl.label("fn"), dsl.ld_func("r2", "fn"), dsl.exit(),
    }
    assert.equal(hex(insn(0x05, 0, 0, -1, 0) .. insn(0x85, 0, 1, 0, 2) .. insn(0x5e, 1, 2, -3, 0) ..
      insn(0x95, 0, 0, 0, 0) .. insn(0x18, 2, 4, 0, -1) .. insn(0, 0, 0, 0, 0) .. insn(0x95, 0, 0, 0, 0)), hex(b))
  end)
end)

describe("assembler errors", function()
  it("name the instruction and the label before it for an undefined label", function()
    local ok, err = pcall(dsl.assemble, { dsl.mov("r0", 0), dsl.label("top"), dsl.lddw("r1", 1),
      dsl.jeq("r1", 0, "nowhere"), dsl.exit() })
    assert.is_false(ok)
    assert.matches("insn 3 (jeq, after label 'top'): undefined label 'nowhere'", err, 1, true)
  end)

  it("name both places for a duplicate label", function()
    local ok, err = pcall(dsl.assemble, { dsl.mov("r0", 0), dsl.label("x"), dsl.lddw("r1", 1), dsl.label("x"),
      dsl.exit() })
    assert.is_false(ok)
    assert.matches("insn 3: duplicate label 'x' (first defined at insn 1)", err, 1, true)
  end)

  it("blame the caller's line, not the library", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() local b = dsl.assemble { dsl.ja("nowhere") } return b end)
    assert.is_false(ok)
    assert.equal("spec/12-assembler_spec.lua:" .. line .. ": insn 0 (ja): undefined label 'nowhere'", err)
    local _, err2 = pcall(function() local t = dsl.dump { dsl.ja("nowhere") } return t end)
    assert.equal("spec/12-assembler_spec.lua:" .. (line + 3) .. ": insn 0 (ja): undefined label 'nowhere'", err2)
    local _, err3 = pcall(function() local l = dsl.disassemble("123") return l end)
    assert.equal("spec/12-assembler_spec.lua:" .. (line + 5) .. ": program bytes must be a multiple of 8 long, got 3",
      err3)
  end)
end)
