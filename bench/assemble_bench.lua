-- SPDX-License-Identifier: MIT
-- Assembly rate: a 4096-instruction program with labels, built from Lua
-- with the DSL constructors and assembled (end to end; then building and
-- assembling apart, and the same tables written out as literals, what
-- Lua's own table creation allows), with a builder (the same words, no
-- tables), and through the C API alone; then the way back (disassemble to
-- tables, dump to text, the C decoder alone); all against copying
-- pre-encoded instructions (the floor).
local lib = require "lib"
local d = require "ebpfdsl.dsl"

local BLOCKS = 256
local names = {}
for b = 0, BLOCKS do names[b] = "block" .. b end

-- The same program bench/c/asm_bench.c builds.
local function build()
  local p = {}
  for b = 0, BLOCKS - 1 do
    p[#p + 1] = {
      d.label(names[b]),
      d.mov("r1", b), d.add("r0", "r1"), d.and32("r0", 0xff), d.lddw("r3", 0x123456789 + b),
      d.stx("dw", "r10", -8, "r3"), d.ldx("w", "r2", "r10", -8), d.jeq("r2", 7, names[b + 1]),
      d.lsh("r2", 3), d.xor("r0", "r2"), d.jgt("r0", "r2", names[b + 1]), d.sub("r0", 1),
      d.mov32("r4", -1), d["or"]("r0", "r4"), d.rsh("r0", 1), d.mul("r0", 3),
    }
  end
  p[#p + 1] = { d.label(names[BLOCKS]), d.exit() }
  return p
end

-- The same tables written out, no constructor called: what making this
-- many tables costs Lua itself, the floor of any table-per-instruction path.
local function build_literal()
  local p = {}
  for b = 0, BLOCKS - 1 do
    local to = names[b + 1]
    p[#p + 1] = {
      { op = "label", name = names[b] },
      { op = "mov", dst = "r1", imm = b }, { op = "add", dst = "r0", src = "r1" },
      { op = "and32", dst = "r0", imm = 0xff }, { op = "lddw", dst = "r3", imm = 0x123456789 + b },
      { op = "stx", size = "dw", dst = "r10", off = -8, src = "r3" },
      { op = "ldx", size = "w", dst = "r2", src = "r10", off = -8 },
      { op = "jeq", dst = "r2", imm = 7, target = to }, { op = "lsh", dst = "r2", imm = 3 },
      { op = "xor", dst = "r0", src = "r2" }, { op = "jgt", dst = "r0", src = "r2", target = to },
      { op = "sub", dst = "r0", imm = 1 }, { op = "mov32", dst = "r4", imm = -1 },
      { op = "or", dst = "r0", src = "r4" }, { op = "rsh", dst = "r0", imm = 1 }, { op = "mul", dst = "r0", imm = 3 },
    }
  end
  p[#p + 1] = { { op = "label", name = names[BLOCKS] }, { op = "exit" } }
  return p
end

-- The same program through a builder: the same words, no tables.
local function build_with_builder()
  local b = d.builder()
  for blk = 0, BLOCKS - 1 do
    local next_block = names[blk + 1]
    b:label(names[blk])
    b:mov("r1", blk):add("r0", "r1"):and32("r0", 0xff):lddw("r3", 0x123456789 + blk)
    b:stx("dw", "r10", -8, "r3"):ldx("w", "r2", "r10", -8):jeq("r2", 7, next_block)
    b:lsh("r2", 3):xor("r0", "r2"):jgt("r0", "r2", next_block):sub("r0", 1)
    b:mov32("r4", -1)["or"](b, "r0", "r4"):rsh("r0", 1):mul("r0", 3)
  end
  b:label(names[BLOCKS]):exit()
  return b:assemble()
end

local insns = #d.assemble(build()) // 8
assert(build_with_builder() == d.assemble(build()), "the builder and the tables differ")
local lua_rate = lib.rate(function(n)
  for _ = 1, n do d.assemble(build()) end
end) * insns
local builder_rate = lib.rate(function(n)
  for _ = 1, n do build_with_builder() end
end) * insns
-- where the end-to-end time goes: building the tables, assembling them
local build_rate = lib.rate(function(n)
  for _ = 1, n do build() end
end) * insns
local literal_rate = lib.rate(function(n)
  for _ = 1, n do build_literal() end
end) * insns
local built = build()
assert(d.assemble(build_literal()) == d.assemble(built), "the literal tables differ")
local read_rate = lib.rate(function(n)
  for _ = 1, n do d.assemble(built) end
end) * insns
local c = lib.c_baseline("asm_bench")
assert(c.insns == insns, "C and Lua programs differ in length")
lib.report(("assemble %d insns, Lua tables end to end"):format(insns), lua_rate, "insns/s", c.memcpy_rate, "memcpy",
  { op = ">=", value = 6e6 })
lib.report("  of which building the tables", build_rate, "insns/s", c.memcpy_rate, "memcpy")
lib.report("  literal tables, no constructor (the floor)", literal_rate, "insns/s", c.memcpy_rate,
  "memcpy")
lib.report("  of which assembling built tables", read_rate, "insns/s", c.memcpy_rate, "memcpy")
lib.report(("assemble %d insns, Lua builder end to end"):format(insns), builder_rate, "insns/s", c.memcpy_rate,
  "memcpy", { op = ">=", value = 6e6 })
lib.report(("assemble %d insns, C API"):format(insns), c.c_api_rate, "insns/s", c.memcpy_rate, "memcpy",
  { op = ">=", value = 40e6 })

local bytes = d.assemble(build())
local disasm_rate = lib.rate(function(n)
  for _ = 1, n do d.disassemble(bytes) end
end) * insns
local text_rate = lib.rate(function(n)
  for _ = 1, n do d.dump(bytes) end
end) * insns
lib.report(("disassemble %d insns to tables"):format(insns), disasm_rate, "insns/s", c.memcpy_rate, "memcpy")
lib.report(("dump %d insns to text"):format(insns), text_rate, "insns/s", c.memcpy_rate, "memcpy")
lib.report(("decode %d insns, C API"):format(insns), c.c_decode_rate, "insns/s", c.memcpy_rate, "memcpy")
