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
