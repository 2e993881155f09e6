-- SPDX-License-Identifier: MIT
-- Semantics: the instruction set does what the kernel says. Each program
-- runs in the kernel (BPF_PROG_TEST_RUN) and every result is held against a
-- reference model of the ISA written below, never against a recorded run.
local env = require "support.env"
local dsl = require "ebpfdsl.dsl"
local programs = require "ebpfdsl.programs"

---------------------------------------------------------------------------
-- The reference model, from Documentation/bpf/standardization/
-- instruction-set.rst. Registers are Lua integers: 64-bit two's complement
-- that wrap like the hardware; unsigned views come from math.ult.
---------------------------------------------------------------------------
local ult = math.ult
local M32 = 0xffffffff
local INT64_MIN, INT64_MAX = math.mininteger, math.maxinteger
local INT32_MIN, INT32_MAX = -0x80000000, 0x7fffffff

local function u32(x) return x & M32 end

-- the low `bits` bits of x, sign-extended to 64
local function sx(x, bits)
  if bits == 64 then return x end
  local sign = 1 << (bits - 1)
  return ((x & ((1 << bits) - 1)) ~ sign) - sign
end

-- the low `bits` bits of x, zero-extended
local function trunc(x, bits)
  if bits == 64 then return x end
  return x & ((1 << bits) - 1)
end

-- unsigned 64-bit division; the kernel defines x / 0 = 0
local function udiv(n, d)
  if d == 0 then return 0 end
  if d < 0 then return ult(n, d) and 0 or 1 end -- d >= 2^63: quotient 0 or 1
  local q = ((n >> 1) // d) << 1
  if not ult(n - q * d, d) then q = q + 1 end
  return q
end

-- signed 64-bit division truncating toward zero; x / 0 = 0 and
-- INT64_MIN / -1 wraps to INT64_MIN
local function sdiv(n, d)
  if d == 0 then return 0 end
  if d == -1 then return -n end
  local q = n // d -- floors
  if q < 0 and q * d ~= n then q = q + 1 end
  return q
end

local function arsh(x, s)
  if x >= 0 then return x >> s end
  return ~((~x) >> s)
end

-- ALU operations on a register of `bits` (64 or 32) bits: the operands as
-- the CPU sees them (unsigned or signed views of the low bits), the result
-- zero-extended into 64 bits for 32-bit operations.
local function uv(x, bits) return trunc(x, bits) end
local function sv(x, bits) return sx(x, bits) end

local ALU = {
  add = function(a, b) return a + b end,
  sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end,
  div = function(a, b, bits) return udiv(uv(a, bits), uv(b, bits)) end,
  mod = function(a, b, bits)
    a, b = uv(a, bits), uv(b, bits)
    if b == 0 then return a end -- x % 0 = x
    return a - udiv(a, b) * b
  end,
  sdiv = function(a, b, bits) return sdiv(sv(a, bits), sv(b, bits)) end,
  smod = function(a, b, bits)
    a, b = sv(a, bits), sv(b, bits)
    if b == 0 then return a end
    return a - sdiv(a, b) * b
  end,
  ["or"] = function(a, b) return a | b end,
  ["and"] = function(a, b) return a & b end,
  xor = function(a, b) return a ~ b end,
  lsh = function(a, b, bits) return a << (b & (bits - 1)) end, -- shift amounts are masked
  rsh = function(a, b, bits) return uv(a, bits) >> (b & (bits - 1)) end,
  arsh = function(a, b, bits) return arsh(sv(a, bits), b & (bits - 1)) end,
  mov = function(_, b) return b end,
  neg = function(a) return -a end,
}

local function alu(op, bits, a, b) return trunc(ALU[op](a, b, bits), bits) end

-- An immediate as the instruction uses it: sign-extended to 64 bits for
-- 64-bit operations, its 32 bits as they are for 32-bit ones.
local function imm_value(imm, bits)
  if bits == 64 then return sx(imm, 32) end
  return u32(imm)
end

local function bswap(x, bits)
  local r = 0
  for i = 0, bits // 8 - 1 do r = (r << 8) | ((x >> (8 * i)) & 0xff) end
  return r
end

-- le/be convert from host order, which is this machine's.
local LITTLE = string.pack("=I2", 1) == string.pack("<I2", 1)
local BYTEORDER = {
  le = function(x, bits) return LITTLE and trunc(x, bits) or bswap(x, bits) end,
  be = function(x, bits) return LITTLE and bswap(x, bits) or trunc(x, bits) end,
  bswap = bswap,
}

local COND = {
  jeq = function(a, b) return a == b end,
  jne = function(a, b) return a ~= b end,
  jgt = function(a, b) return ult(b, a) end,
  jge = function(a, b) return not ult(a, b) end,
  jlt = function(a, b) return ult(a, b) end,
  jle = function(a, b) return not ult(b, a) end,
  jsgt = function(a, b) return a > b end,
  jsge = function(a, b) return a >= b end,
  jslt = function(a, b) return a < b end,
  jsle = function(a, b) return a <= b end,
  jset = function(a, b) return a & b ~= 0 end,
}
local CONDS = { "jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset" }

-- 32-bit jumps compare the low halves, as signed or unsigned numbers.
local function taken(cond, bits, a, b)
  if bits == 32 then
    if cond:sub(1, 2) == "js" and cond ~= "jset" then a, b = sx(a, 32), sx(b, 32) else a, b = u32(a), u32(b) end
  end
  return COND[cond](a, b)
end

-- Memory: little-endian bytes in a table indexed from 0.
local SIZE_BYTES = { b = 1, h = 2, w = 4, dw = 8 }

local function mem_write(mem, off, size, v)
  for i = 0, SIZE_BYTES[size] - 1 do mem[off + i] = (v >> (8 * i)) & 0xff end
end

local function mem_read(mem, off, size)
  local v = 0
  for i = SIZE_BYTES[size] - 1, 0, -1 do v = (v << 8) | mem[off + i] end
  return v
end

-- Atomic read-modify-write on a 64-bit slot holding `slot`, at byte `off`
-- (0 or 4 for w). Returns the slot, the src register and r0 afterwards.
local ATOMIC_OP = {
  atomic_add = "add", atomic_or = "or", atomic_and = "and", atomic_xor = "xor",
  atomic_fetch_add = "add", atomic_fetch_or = "or", atomic_fetch_and = "and", atomic_fetch_xor = "xor",
}
local function atomic(op, size, off, slot, src, r0)
  local mem = {}
  mem_write(mem, 0, "dw", slot)
  local bits = size == "w" and 32 or 64
  local old = mem_read(mem, off, size)
  local new
  if op == "xchg" then
    new, src = src, old
  elseif op == "cmpxchg" then
    if old == trunc(r0, bits) then new = src else new = old end
    r0 = old -- zero-extended for w, either way
  else
    new = ALU[ATOMIC_OP[op]](old, src, bits)
    if op:find("fetch", 1, true) then src = old end
  end
  mem_write(mem, off, size, trunc(new, bits))
  return mem_read(mem, 0, "dw"), src, r0
end

---------------------------------------------------------------------------
-- The harness. A socket filter reads its operands from the packet with
-- ld_abs, so the verifier cannot know them and fold branches: the JIT runs
-- every instruction under test. The kernel's socket-filter test run puts
-- skb->data after a 14-byte Ethernet header, so ld_abs offset 0 is byte 14
-- of the data supplied.
--   packet offset 0: A (be64) -> r7, 8: B -> r8, 16: C -> r9,
--   24: selector -> the stack at fp-24; r6 keeps the context for ld_abs.
-- A body leaves results in registers; the selector picks output k's low
-- (2k) or high (2k+1) half as the 32-bit retval.
---------------------------------------------------------------------------
local ETH = 14
local distinct = {} -- [program bytes][data] = true: every kernel test run
local nruns = 0

local function packet(a, b, c, sel, tail)
  return string.rep("\0", ETH) .. string.pack(">i8i8i8B", a or 0, b or 0, c or 0, sel or 0) .. (tail or "")
end

local function operand(reg, off)
  return { dsl.ld_abs("w", off), dsl.mov(reg, "r0"), dsl.lsh(reg, 32), dsl.ld_abs("w", off + 4), dsl["or"](reg, "r0") }
end

local PROLOGUE = {
  dsl.mov("r6", "r1"), operand("r7", 0), operand("r8", 8), operand("r9", 16),
  dsl.ld_abs("b", 24), dsl.stx("dw", "fp", -24, "r0"),
}

local function epilogue(outs)
  assert(outs[1] ~= "r6", "outputs cannot be r6")
  local l = { dsl.mov("r1", outs[1]), dsl.ldx("dw", "r6", "fp", -24) }
  for k = 2, #outs do
    assert(outs[k] ~= "r1" and outs[k] ~= "r6", "outputs cannot be r1 or r6")
    l[#l + 1] = { dsl.jlt("r6", 2 * (k - 1), "pick"), dsl.mov("r1", outs[k]) }
  end
  l[#l + 1] = {
    dsl.label("pick"), dsl.mov("r0", "r1"), dsl.mov("r1", "r6"), dsl["and"]("r1", 1),
    dsl.jeq("r1", 0, "done"), dsl.rsh("r0", 32), dsl.label("done"), dsl.exit(),
  }
  return l
end

local function load(name, insns)
  name = name:gsub("^atomic_", "a_"):sub(1, 15)
  local prog, msg, _, log = programs.load { type = "socket_filter", name = name, insns = insns }
  if not prog then error(msg .. "\n" .. tostring(log), 2) end
  return prog
end

-- A program from a body that reads r7, r8, r9 and leaves its outputs in
-- the registers `outs`; `tail` follows the exit (subprograms).
local function build(name, body, outs, tail)
  return load(name, { PROLOGUE, body, epilogue(outs), tail or {} })
end

local function run(prog, data)
  local r, msg = prog:test_run { data = data }
  assert(r, msg)
  local insns = prog:insns()
  distinct[insns] = distinct[insns] or {}
  if not distinct[insns][data] then
    distinct[insns][data] = true
    nruns = nruns + 1
  end
  return r.retval
end

-- Output k (1-based) as a 64-bit value: two runs, the low and high halves.
local function out64(prog, a, b, c, k, tail)
  local lo = run(prog, packet(a, b, c, 2 * (k - 1), tail))
  local hi = run(prog, packet(a, b, c, 2 * (k - 1) + 1, tail))
  return (hi << 32) | lo
end

-- Output k's low half only: enough for 0/1 answers.
local function out32(prog, a, b, c, k)
  return run(prog, packet(a, b, c, 2 * ((k or 1) - 1)))
end

local function hex(x) return ("0x%016x"):format(x) end

-- Collects mismatches so one failing case shows all the others too.
local function checker()
  local c = { failures = {}, n = 0 }
  function c.eq(what, expect, got)
    c.n = c.n + 1
    if expect ~= got then
      c.failures[#c.failures + 1] = ("%s: model %s, kernel %s"):format(what, hex(expect), hex(got))
    end
  end
  function c.done(min)
    assert.same({}, c.failures)
    assert.is_true(c.n >= (min or 1), "too few cases checked: " .. c.n)
  end
  return c
end

-- Edge values: zero, one, the signed and unsigned extremes of 64 and 32
-- bits, and numbers whose high half is junk for the 32-bit forms.
local V = {
  0, 1, 2, 7, -1, -3, INT64_MIN, INT64_MAX, 0x80000000, -0x80000000, 0x7fffffff, 0xffffffff,
  0x123456789abcdef0, 0xfedcba9800000003,
}
local SHIFTS = { 0, 1, 7, 31, 32, 63, 64, 65, 0xffffffff00000021 }
local IMMS = { 1, 2, 7, -1, -3, INT32_MIN, INT32_MAX, 0 }
local IMMS32 = { 0xffffffff, 0x80000000 } -- the same bits as -1 and INT32_MIN, spelled unsigned

local BINARY = { "add", "sub", "mul", "div", "sdiv", "mod", "smod", "or", "and", "lsh", "rsh", "arsh", "xor", "mov" }
local SHIFT = { lsh = true, rsh = true, arsh = true }
local DIVIDE = { div = true, sdiv = true, mod = true, smod = true }
-- The signed divisions came with the v4 instructions (6.6): a kernel without them refuses these.
local function needs(op) return (op == "sdiv" or op == "smod") and { "bpf", "insn:v4" } or "bpf" end

local function mnemonic(op, bits) return bits == 64 and op or op .. "32" end

describe("ALU semantics against the model", function()
  for _, op in ipairs(BINARY) do
    for _, bits in ipairs { 64, 32 } do
      local name = mnemonic(op, bits)
      env.it(name .. " with a register source, over edge values", needs(op), function()
        local prog = build(name, { dsl[name]("r7", "r8") }, { "r7" })
        local c = checker()
        for _, a in ipairs(V) do
          for _, b in ipairs(SHIFT[op] and SHIFTS or V) do
            c.eq(("%s %s, %s"):format(name, hex(a), hex(b)), alu(op, bits, a, b), out64(prog, a, b, 0, 1))
          end
        end
        prog:close()
        c.done(#V * #SHIFTS)
      end)

      env.it(name .. " with an immediate source, over edge values", needs(op), function()
        local c = checker()
        local imms = {}
        if SHIFT[op] then
          imms = bits == 64 and { 0, 1, 8, 31, 32, 63 } or { 0, 1, 8, 16, 31 }
        else
          for _, i in ipairs(IMMS) do if not (DIVIDE[op] and i == 0) then imms[#imms + 1] = i end end
          if bits == 32 then for _, i in ipairs(IMMS32) do imms[#imms + 1] = i end end
        end
        for _, imm in ipairs(imms) do
          local prog = build(name, { dsl[name]("r7", imm) }, { "r7" })
          for _, a in ipairs(V) do
            c.eq(("%s %s, imm %d"):format(name, hex(a), imm), alu(op, bits, a, imm_value(imm, bits)),
              out64(prog, a, 0, 0, 1))
          end
          prog:close()
        end
        c.done(#imms * #V)
      end)
    end
  end

  env.it("division and modulo by a zero register: x / 0 = 0, x % 0 = x (32 bits truncated)",
    { "bpf", "insn:v4" }, function()
    local c = checker()
    for _, op in ipairs { "div", "sdiv", "mod", "smod" } do
      for _, bits in ipairs { 64, 32 } do
        local name = mnemonic(op, bits)
        local prog = build(name, { dsl[name]("r7", "r8") }, { "r7" })
        for _, a in ipairs { INT64_MIN, -1, 0x123456789abcdef0, 7 } do
          -- B's high half is junk: a 32-bit divisor is its low half, zero
          local b = bits == 32 and 0x5555555500000000 or 0
          local expect = (op == "div" or op == "sdiv") and 0 or trunc(a, bits)
          c.eq(("%s %s by zero"):format(name, hex(a)), expect, out64(prog, a, b, 0, 1))
          assert.equal(expect, alu(op, bits, a, b)) -- the model agrees with the rule
        end
        prog:close()
      end
    end
    c.done(32)
  end)

  env.it("signed division overflow: INT64_MIN / -1 and INT32_MIN / -1 wrap, the remainder is 0",
    { "bpf", "insn:v4" }, function()
    local c = checker()
    local cases = {
      { "sdiv", INT64_MIN, INT64_MIN }, { "smod", INT64_MIN, 0 },
      { "sdiv32", 0x80000000, 0x80000000 }, { "smod32", 0x80000000, 0 },
    }
    for _, case in ipairs(cases) do
      local name, a, expect = case[1], case[2], case[3]
      local op, bits = name:gsub("32$", ""), name:find("32$") and 32 or 64
      for _, form in ipairs { "reg", "imm" } do
        local prog = build(name, { form == "reg" and dsl[name]("r7", "r8") or dsl[name]("r7", -1) }, { "r7" })
        c.eq(name .. " by -1 (" .. form .. ")", expect, out64(prog, a, -1, 0, 1))
        assert.equal(expect, alu(op, bits, a, -1))
        prog:close()
      end
    end
    c.done(8)
  end)

  env.it("neg and neg32", "bpf", function()
    local c = checker()
    for _, bits in ipairs { 64, 32 } do
      local name = mnemonic("neg", bits)
      local prog = build(name, { dsl[name]("r7") }, { "r7" })
      for _, a in ipairs(V) do c.eq(name .. " " .. hex(a), alu("neg", bits, a, 0), out64(prog, a, 0, 0, 1)) end
      prog:close()
    end
    c.done(2 * #V)
  end)

  env.it("movsx (8, 16, 32 bits) and movsx32 (8, 16 bits) sign-extend", { "bpf", "insn:v4" }, function()
    local c = checker()
    for _, f in ipairs { { "movsx", 8 }, { "movsx", 16 }, { "movsx", 32 }, { "movsx32", 8 }, { "movsx32", 16 } } do
      local name, from = f[1], f[2]
      local bits = name == "movsx" and 64 or 32
      local prog = build(name, { dsl[name]("r7", "r8", from) }, { "r7" })
      for _, b in ipairs { 0, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0x123456789abcdef0,
                           0xfedcba9876543210, -1 } do
        c.eq(("%s/%d %s"):format(name, from, hex(b)), trunc(sx(b, from), bits), out64(prog, -1, b, 0, 1))
      end
      prog:close()
    end
    c.done(5 * 12)
  end)

  env.it("byte swaps: le, be, bswap in 16, 32 and 64 bits", { "bpf", "insn:v4" }, function()
    local c = checker()
    for _, name in ipairs { "le", "be", "bswap" } do
      for _, bits in ipairs { 16, 32, 64 } do
        local prog = build(name .. bits, { dsl[name]("r7", bits) }, { "r7" })
        for _, a in ipairs { 0x0123456789abcdef, 0xfedcba9876543210, 0x00000000000000ff, -1, 0 } do
          c.eq(("%s%d %s"):format(name, bits, hex(a)), BYTEORDER[name](a, bits), out64(prog, a, 0, 0, 1))
        end
        prog:close()
      end
    end
    c.done(45)
  end)

  env.it("32-bit operations zero-extend into 64 bits and ignore the high halves of their operands",
    { "bpf", "insn:v4" }, function()
    -- Both operands carry junk above bit 31; each result's high half is 0.
    local c = checker()
    local a, b = 0xdeadbeef00000009, 0xcafef00d00000002
    for _, op in ipairs(BINARY) do
      local name = op .. "32"
      local prog = build(name, { dsl[name]("r7", "r8") }, { "r7" })
      local got = out64(prog, a, b, 0, 1)
      c.eq(name .. " high half", 0, got >> 32)
      c.eq(name, alu(op, 32, a, b), got)
      prog:close()
    end
    c.done(2 * #BINARY)
  end)
end)

describe("jump semantics against the model", function()
  local JV = { 0, 1, -1, -2, INT64_MIN, INT64_MAX, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
               0xffffffff00000000, 0x8000000000000001 }
  local JIMMS = { 0, 1, -1, INT32_MIN, INT32_MAX }

  -- r2 = 1 if the jump is taken, else 0
  local function jump_body(name, x)
    return { dsl.mov("r2", 1), dsl[name]("r7", x, "yes"), dsl.mov("r2", 0), dsl.label("yes") }
  end

  for _, cond in ipairs(CONDS) do
    for _, bits in ipairs { 64, 32 } do
      local name = mnemonic(cond, bits)
      env.it(name .. " taken and not taken, register and immediate, over boundary values", "bpf", function()
        local c = checker()
        local seen = { [true] = 0, [false] = 0 }
        local prog = build(name, jump_body(name, "r8"), { "r2" })
        for _, a in ipairs(JV) do
          for _, b in ipairs(JV) do
            local t = taken(cond, bits, a, b)
            seen[t] = seen[t] + 1
            c.eq(("%s %s, %s"):format(name, hex(a), hex(b)), t and 1 or 0, out32(prog, a, b, 0))
          end
        end
        prog:close()
        for _, imm in ipairs(JIMMS) do
          prog = build(name, jump_body(name, imm), { "r2" })
          for _, a in ipairs(JV) do
            local t = taken(cond, bits, a, imm_value(imm, bits))
            seen[t] = seen[t] + 1
            c.eq(("%s %s, imm %d"):format(name, hex(a), imm), t and 1 or 0, out32(prog, a, 0, 0))
          end
          prog:close()
        end
        c.done(#JV * (#JV + #JIMMS))
        -- the cases themselves must exercise both outcomes
        assert.is_true(seen[true] > 0 and seen[false] > 0)
      end)
    end
  end

  env.it("ja and gotol, forward and backward", { "bpf", "insn:v4" }, function()
    local prog = build("gotol", {
      dsl.mov("r2", 0), dsl.ja("fwd"),
      dsl.label("back"), dsl.add("r2", 5), dsl.gotol("out"),
      dsl.label("fwd"), dsl.add("r2", 1), dsl.gotol("back"),
      dsl.label("out"),
    }, { "r2" })
    local bytes = prog:insns()
    local n = 0
    for _, insn in ipairs(dsl.disassemble(bytes)) do if insn.op == "gotol" then n = n + 1 end end
    assert.equal(2, n)
    assert.equal(0 + 1 + 5, out64(prog, 0, 0, 0, 1))
    prog:close()
  end)

  env.it("long jumps relaxed into gotol run: every condition over a 33000-instruction block",
    { "bpf", "insn:v4" }, function()
    -- C (r9) picks a trampoline T_i holding one condition that jumps past
    -- the block (relaxed: inverted condition over a gotol); not taken, it
    -- leaves with an unconditional long ja (relaxed to gotol). A selector
    -- matching no trampoline runs the block itself.
    local FILL = 33000
    local forms = {}
    for _, cond in ipairs(CONDS) do
      for _, bits in ipairs { 64, 32 } do
        forms[#forms + 1] = { name = mnemonic(cond, bits), cond = cond, bits = bits, x = "r8" }
        forms[#forms + 1] = { name = mnemonic(cond, bits), cond = cond, bits = bits, x = -2 }
      end
    end
    local l = { dsl.mov("r2", 0) }
    for i = 1, #forms do l[#l + 1] = dsl.jeq("r9", i, "T" .. i) end
    l[#l + 1] = dsl.ja("fill")
    for i, f in ipairs(forms) do
      l[#l + 1] = {
        dsl.label("T" .. i), dsl.mov("r2", 1), dsl[f.name]("r7", f.x, "far"), dsl.mov("r2", 2), dsl.ja("out"),
      }
    end
    l[#l + 1] = dsl.label("fill")
    for _ = 1, FILL do l[#l + 1] = dsl.add("r2", 1) end
    l[#l + 1] = { dsl.ja("out"), dsl.label("far"), dsl.add("r2", 10), dsl.label("out") }
    local prog = build("longjump", l, { "r2" })

    local bytes = prog:insns()
    assert.is_true(#bytes // 8 > 32767)
    local gotols = 0
    for _, insn in ipairs(dsl.disassemble(bytes)) do if insn.op == "gotol" then gotols = gotols + 1 end end
    assert.is_true(gotols >= 2 * #forms, "relaxed jumps: " .. gotols)

    local c = checker()
    c.eq("the block itself", FILL, out32(prog, 0, 0, 0))
    for i, f in ipairs(forms) do
      local outcomes = {}
      for _, a in ipairs(JV) do
        for _, b in ipairs(JV) do
          local bv = f.x == "r8" and b or imm_value(f.x, f.bits)
          local t = taken(f.cond, f.bits, a, bv)
          if outcomes[t] == nil then
            outcomes[t] = true
            c.eq(("%s %s, %s over the block"):format(f.name, hex(a), type(f.x) == "number" and f.x or hex(b)),
              t and 11 or 2, out32(prog, a, b, i))
          end
        end
      end
      assert.is_true(outcomes[true] and outcomes[false], f.name .. " was not run both ways")
    end
    prog:close()
    c.done(1 + 2 * #forms)
  end)
end)

describe("memory semantics against the model", function()
  local SETS = {
    { 0x0123456789abcdef, 0xfedcba9876543210, 0x8899aabbccddeeff },
    { -1, 0, 0x7f8081ff01020304 },
  }
  local OFFSETS = { b = { 0, 1, 5, 7, 8, 13, 15 }, h = { 0, 2, 6, 8, 14 }, w = { 0, 4, 8, 12 }, dw = { 0, 8 } }
  local STIMM = { b = { 0x7f, -128, 0xa5 }, h = { 0x1234, -2, 0xfedc }, w = { 0x12345678, -2, 0xfedcba98 },
                  dw = { 0x12345678, -2, INT32_MIN } }

  -- a 16-byte stack slot at fp-16 holding A then B, little-endian
  local function slot(a, b)
    local mem = {}
    mem_write(mem, 0, "dw", a)
    mem_write(mem, 8, "dw", b)
    return mem
  end

  local function after_store(size, off, store)
    return {
      dsl.stx("dw", "fp", -16, "r7"), dsl.stx("dw", "fp", -8, "r8"), store,
      dsl.ldx("dw", "r2", "fp", -16), dsl.ldx("dw", "r3", "fp", -8),
      dsl.mov("r4", -1), dsl.ldx(size, "r4", "fp", -16 + off),
      dsl.mov("r5", -1), size == "dw" and dsl.ldx("dw", "r5", "fp", -16 + off) or dsl.ldsx(size, "r5", "fp", -16 + off),
    }
  end

  local function check_store(c, prog, what, size, off, a, b, value)
    local mem = slot(a, b)
    mem_write(mem, off, size, value)
    local loaded = mem_read(mem, off, size)
    local expect = { mem_read(mem, 0, "dw"), mem_read(mem, 8, "dw"), loaded,
                     size == "dw" and loaded or sx(loaded, 8 * SIZE_BYTES[size]) }
    for k, e in ipairs(expect) do
      c.eq(("%s output %d"):format(what, k), e, out64(prog, a, b, value, k))
    end
  end

  for _, size in ipairs { "b", "h", "w", "dw" } do
    env.it("stx " .. size .. " then ldx/ldsx at every aligned offset tried", { "bpf", "insn:v4" }, function()
      local c = checker()
      for _, off in ipairs(OFFSETS[size]) do
        local prog = build("stx_" .. size, after_store(size, off, dsl.stx(size, "fp", -16 + off, "r9")),
          { "r2", "r3", "r4", "r5" })
        for _, s in ipairs(SETS) do
          check_store(c, prog, ("stx %s at fp-16+%d of %s"):format(size, off, hex(s[3])), size, off, s[1], s[2], s[3])
        end
        prog:close()
      end
      c.done(#OFFSETS[size] * #SETS * 4)
    end)

    env.it("st " .. size .. " with immediates, sign-extended for dw", { "bpf", "insn:v4" }, function()
      local c = checker()
      for _, off in ipairs(OFFSETS[size]) do
        for _, imm in ipairs(STIMM[size]) do
          local prog = build("st_" .. size, after_store(size, off, dsl.st(size, "fp", -16 + off, imm)),
            { "r2", "r3", "r4", "r5" })
          local value = size == "dw" and sx(imm, 32) or imm
          local s = SETS[1]
          check_store(c, prog, ("st %s at fp-16+%d imm %d"):format(size, off, imm), size, off, s[1], s[2], value)
          prog:close()
        end
      end
      c.done(#OFFSETS[size] * #STIMM[size] * 4)
    end)
  end

  env.it("ldx and ldsx of every size at every aligned offset of stored doublewords", { "bpf", "insn:v4" }, function()
    local c = checker()
    for _, size in ipairs { "b", "h", "w", "dw" } do
      for off = 0, 16 - SIZE_BYTES[size], SIZE_BYTES[size] do
        local prog = build("ldx_" .. size, {
          dsl.stx("dw", "fp", -16, "r7"), dsl.stx("dw", "fp", -8, "r8"),
          dsl.mov("r2", -1), dsl.ldx(size, "r2", "fp", -16 + off),
          dsl.mov("r3", -1), size == "dw" and dsl.mov("r3", "r2") or dsl.ldsx(size, "r3", "fp", -16 + off),
        }, { "r2", "r3" })
        for _, s in ipairs(SETS) do
          local v = mem_read(slot(s[1], s[2]), off, size)
          local what = ("ldx %s at fp-16+%d of %s %s"):format(size, off, hex(s[1]), hex(s[2]))
          c.eq(what, v, out64(prog, s[1], s[2], 0, 1))
          c.eq("ldsx" .. what:sub(4), size == "dw" and v or sx(v, 8 * SIZE_BYTES[size]), out64(prog, s[1], s[2], 0, 2))
        end
        prog:close()
      end
    end
    c.done((16 + 8 + 4 + 2) * #SETS * 2)
  end)

  local ATOMICS = { "atomic_add", "atomic_or", "atomic_and", "atomic_xor", "atomic_fetch_add", "atomic_fetch_or",
                    "atomic_fetch_and", "atomic_fetch_xor", "xchg", "cmpxchg" }
  -- slot A, src B, r0 C: cmpxchg succeeds in both sizes, only in w (the
  -- low halves match), in neither, and against the upper word (w at +4)
  local ASETS = {
    { 0x0123456789abcdef, 0xfedcba9876543210, 0x0123456789abcdef },
    { 0xffffffff80000001, 0x00000001ffffffff, 0xffffffff80000001 ~ 0x0000010000000000 },
    { INT64_MAX, 1, INT64_MIN },
    { 0, -1, 0xdeadbeef00000000 },
    { 0x89abcdef01234567, 0x00000000ffff0000, 0x0000000089abcdef },
  }

  for _, op in ipairs(ATOMICS) do
    env.it(op .. " in w (both words of the slot) and dw: the slot, src and r0 afterwards", "bpf", function()
      local c = checker()
      local cmp_ok, cmp_fail = 0, 0
      for _, where in ipairs { { "w", 0 }, { "w", 4 }, { "dw", 0 } } do
        local size, off = where[1], where[2]
        local prog = build(op .. "_" .. size, {
          dsl.stx("dw", "fp", -8, "r7"), dsl.mov("r0", "r9"), dsl[op](size, "fp", -8 + off, "r8"),
          dsl.ldx("dw", "r2", "fp", -8),
        }, { "r2", "r8", "r0" })
        for _, s in ipairs(ASETS) do
          local mem, src, r0 = atomic(op, size, off, s[1], s[2], s[3])
          if op == "cmpxchg" then
            local bits = size == "w" and 32 or 64
            if trunc(s[1] >> (8 * off), bits) == trunc(s[3], bits) then
              cmp_ok = cmp_ok + 1
            else
              cmp_fail = cmp_fail + 1
            end
          end
          local what = ("%s %s at +%d, slot %s src %s r0 %s"):format(op, size, off, hex(s[1]), hex(s[2]), hex(s[3]))
          c.eq(what .. ": slot", mem, out64(prog, s[1], s[2], s[3], 1))
          c.eq(what .. ": src", src, out64(prog, s[1], s[2], s[3], 2))
          c.eq(what .. ": r0", r0, out64(prog, s[1], s[2], s[3], 3))
        end
        prog:close()
      end
      c.done(3 * #ASETS * 3)
      if op == "cmpxchg" then assert.is_true(cmp_ok >= 3 and cmp_fail >= 3, ("%d %d"):format(cmp_ok, cmp_fail)) end
    end)
  end
end)

describe("constants and packet loads against the model", function()
  env.it("lddw loads 64-bit constants whole", "bpf", function()
    local c = checker()
    for _, k in ipairs { 0, 1, -1, INT64_MIN, INT64_MAX, 0x123456789abcdef0, 0xffffffff, -0x100000000, 0x80000000,
                         0x100000000, 0x8000000000000001 } do
      local prog = build("lddw", { dsl.lddw("r2", k), dsl.mov("r3", 0), dsl.jne("r2", "r7", "ne"), dsl.mov("r3", 1),
                                   dsl.label("ne") }, { "r2", "r3" })
      c.eq("lddw " .. hex(k), k, out64(prog, 0, 0, 0, 1))
      -- compared in the program with the same bits from the packet, and a near miss
      c.eq("lddw " .. hex(k) .. " == packet", 1, out32(prog, k, 0, 0, 2))
      c.eq("lddw " .. hex(k) .. " ~= packet", 0, out32(prog, k ~ INT64_MIN, 0, 0, 2))
      prog:close()
    end
    c.done(33)
  end)

  -- a tail after the operands, so loads see bytes we chose
  local TAIL = "\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98\x76\x54\x32\x10\x80\x7f"
  local PAYLOAD = 25 + #TAIL -- bytes after the Ethernet header

  -- ld_abs/ld_ind read network order; past the end the program exits with 0
  local function packet_load(data, size, off)
    local n = SIZE_BYTES[size]
    if off < 0 or off + n > #data - ETH then return 0 end
    return (string.unpack(">I" .. n, data, ETH + off + 1))
  end

  env.it("ld_abs b/h/w reads packet bytes in network order, and exits with 0 past the end", "bpf", function()
    local c = checker()
    for _, size in ipairs { "b", "h", "w" } do
      local n = SIZE_BYTES[size]
      for _, off in ipairs { 0, 3, 25, 26, 29, PAYLOAD - n, PAYLOAD - n + 1, PAYLOAD + 100 } do
        local prog = build("ld_abs", { dsl.mov("r0", -1), dsl.ld_abs(size, off), dsl.mov("r2", "r0") }, { "r2" })
        local a = 0x1122334455667788
        local data = packet(a, 0, 0, 0, TAIL)
        c.eq(("ld_abs %s %d"):format(size, off), packet_load(data, size, off), out64(prog, a, 0, 0, 1, TAIL))
        prog:close()
      end
    end
    c.done(24)
  end)

  env.it("ld_ind b/h/w reads at register + immediate", "bpf", function()
    local c = checker()
    for _, size in ipairs { "b", "h", "w" } do
      local n = SIZE_BYTES[size]
      for _, imm in ipairs { 0, 2, 25, -3 } do
        local prog = build("ld_ind", { dsl.mov("r0", -1), dsl.ld_ind(size, "r7", imm), dsl.mov("r2", "r0") }, { "r2" })
        for _, idx in ipairs { 3, 10, PAYLOAD - n - imm, PAYLOAD - n - imm + 1 } do
          local data = packet(idx, 0, 0, 0, TAIL)
          c.eq(("ld_ind %s r7=%d%+d"):format(size, idx, imm), packet_load(data, size, idx + imm),
            out64(prog, idx, 0, 0, 1, TAIL))
        end
        prog:close()
      end
    end
    c.done(48)
  end)
end)

describe("calls", function()
  -- the model of the two functions below
  local function g(x, y) return (x ~ y) << 3 end
  local function f(a, b, c, d, e) return g(a * 3, b - c) + d * e end

  env.it("bpf-to-bpf calls: arguments r1-r5, result r0, r6-r9 and the caller's stack preserved", "bpf", function()
    local prog = build("calls", {
      dsl.st("dw", "fp", -8, 0x1234567),
      dsl.mov("r1", "r7"), dsl.mov("r2", "r8"), dsl.mov("r3", "r9"), dsl.mov("r4", 1000), dsl.mov("r5", -3),
      dsl.call_local("f"),
      dsl.mov("r2", "r0"), dsl.ldx("dw", "r3", "fp", -8),
    }, { "r2", "r3", "r7", "r9" }, {
      -- f(a, b, c, d, e) = g(3a, b - c) + d * e, clobbering the callee-saved
      -- registers and its own stack slot on the way
      dsl.label("f"),
      dsl.mov("r6", "r4"), dsl.mul("r6", "r5"), dsl.st("dw", "fp", -8, -1),
      dsl.mov("r7", "r1"), dsl.mul("r7", 3), dsl.mov("r8", "r2"), dsl.sub("r8", "r3"),
      dsl.mov("r1", "r7"), dsl.mov("r2", "r8"), dsl.mov("r9", 77),
      dsl.call_local("g"),
      dsl.add("r0", "r6"), dsl.exit(),
      dsl.label("g"),
      dsl.mov("r0", "r1"), dsl.xor("r0", "r2"), dsl.lsh("r0", 3), dsl.mov("r6", 0), dsl.exit(),
    })
    local c = checker()
    for _, s in ipairs { { 1, 2, 3 }, { INT64_MIN, -1, INT64_MAX }, { 0x123456789abcdef0, 0xfedcba9876543210, 7 } } do
      local a, b, cc = s[1], s[2], s[3]
      local what = ("calls %s %s %s"):format(hex(a), hex(b), hex(cc))
      c.eq(what .. ": result", f(a, b, cc, 1000, -3), out64(prog, a, b, cc, 1))
      c.eq(what .. ": caller's stack", 0x1234567, out64(prog, a, b, cc, 2))
      c.eq(what .. ": r7", a, out64(prog, a, b, cc, 3))
      c.eq(what .. ": r9", cc, out64(prog, a, b, cc, 4))
    end
    prog:close()
    c.done(12)
  end)

  local function possible_cpus()
    local fh = assert(io.open("/sys/devices/system/cpu/possible"))
    local s = fh:read("l")
    fh:close()
    local n = 0
    for range in s:gmatch("[^,]+") do
      local lo, hi = range:match("^(%d+)%-(%d+)$")
      if lo then n = math.max(n, tonumber(hi) + 1) else n = math.max(n, tonumber(range) + 1) end
    end
    return n
  end

  env.it("helper get_smp_processor_id returns a possible CPU", "bpf", function()
    local prog = load("cpu", { dsl.call("get_smp_processor_id"), dsl.exit() })
    local ncpu = possible_cpus()
    for i = 1, 4 do
      local id = run(prog, packet(i))
      assert.is_true(id >= 0 and id < ncpu, "cpu " .. id .. " of " .. ncpu)
    end
    prog:close()
  end)

  env.it("helper ktime_get_ns is monotonic over two calls and runs", "bpf", function()
    -- returns 1 if 0 < t1 <= t2 (output 1), or t1 (output 2)
    local prog = build("ktime", {
      dsl.call("ktime_get_ns"), dsl.mov("r7", "r0"), dsl.call("bpf_ktime_get_ns"), dsl.mov("r8", "r0"),
      dsl.mov("r2", 0), dsl.jeq("r7", 0, "bad"), dsl.jgt("r7", "r8", "bad"), dsl.mov("r2", 1), dsl.label("bad"),
    }, { "r2", "r7" })
    assert.equal(1, out32(prog, 0, 0, 0, 1))
    assert.equal(1, out32(prog, 1, 0, 0, 1))
    -- across runs: the high halves of two readings (selector 3) never go back
    local hi1 = run(prog, packet(2, 0, 0, 3))
    local hi2 = run(prog, packet(3, 0, 0, 3))
    assert.is_true(hi2 >= hi1, hi1 .. " then " .. hi2)
    prog:close()
  end)

  env.it("helper get_prandom_u32 returns 32 bits that vary", "bpf", function()
    -- r2 = the value; r3 = 1 if its high half is zero
    local prog = build("prandom", {
      dsl.call("get_prandom_u32"), dsl.mov("r2", "r0"), dsl.mov("r4", "r0"), dsl.rsh("r4", 32),
      dsl.mov("r3", 0), dsl.jne("r4", 0, "bad"), dsl.mov("r3", 1), dsl.label("bad"),
    }, { "r2", "r3" })
    local seen, n = {}, 0
    for i = 1, 8 do
      assert.equal(1, out32(prog, i, 0, 0, 2))
      local v = out32(prog, i, 0, 0, 1)
      if not seen[v] then seen[v], n = true, n + 1 end
    end
    assert.is_true(n >= 2, "eight calls gave one value") -- chance 2^-224
    prog:close()
  end)
end)

describe("the count of kernel test runs", function()
  env.it("is at least 150 distinct runs (program, data)", "bpf", function()
    assert.is_true(nruns >= 150, "only " .. nruns .. " kernel test runs")
  end)
end)
