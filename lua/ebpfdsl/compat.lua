-- SPDX-License-Identifier: MIT
-- clj-ebpf's names and the DSL's synonyms, each building what one word of
-- ebpfdsl.dsl builds; every other name is dsl's, so it stands in for dsl.
local core = require "ebpfdsl.core"
local dsl = require "ebpfdsl.dsl"

-- `local dsl = require "ebpfdsl.compat"` is a drop-in for a port from
-- clj-ebpf: the names below are this table's own, the rest dsl's
-- (__index). dsl itself is left as it is: one name per mnemonic.
local M = setmetatable({}, { __index = dsl })

local type, pcall = type, pcall

-- Errors blame the first caller outside this file: the user's line.
local check = require("ebpfdsl._args").checks(debug.getinfo(1, "S").source)
local blame = check.blame

-- dsl[word](...) for the alias `name` whose first `shift` arguments it
-- fills in itself: dsl's error, at the caller's line, names the alias and
-- counts the alias's arguments ("ldxw: argument 1", not "ldx: argument 2").
-- (Called under pcall, dsl's word raises at pcall, a C frame: no position.)
local function call_as(name, word, shift, ...)
  local ok, x = pcall(dsl[word], ...)
  if ok then return x end
  blame((x:gsub("^" .. word .. ": argument (%d+)",
    function(n) return ("%s: argument %d"):format(name, n - shift) end)))
end

-- Synonyms: the main word's own function under another name.
local SYNONYMS = {
  and_ = "and", or_ = "or", and32_ = "and32", or32_ = "or32", -- Lua keywords as fields
  neg_reg = "neg", exit_insn = "exit", call_helper = "call", decode = "disassemble",
  to_le = "le", end_to_le = "le", to_be = "be", end_to_be = "be",
  atomic_xchg = "xchg", atomic_cmpxchg = "cmpxchg",
}
for alias, word in pairs(SYNONYMS) do M[alias] = dsl[word] end

-- add_imm(dst, imm), add_reg(dst, src) and their 32-bit forms: the ALU
-- word with the form checked (dsl.add takes either).
for _, row in ipairs(core.isa()) do
  if row.shape == "alu" then
    local word = row.name
    local imm, regname = word .. "_imm", word .. "_reg"
    M[imm] = function(dst, x) return call_as(imm, word, 0, dst, check.int(imm, 2, x)) end
    M[regname] = function(dst, x) return call_as(regname, word, 0, dst, check.reg(regname, 2, x)) end
  end
end

-- Sized loads and stores: ldxw(dst, src, off) is ldx("w", dst, src, off),
-- stdw(dst, off, imm) st("dw", ...), stxb(dst, off, src) stx("b", ...).
for _, sz in ipairs { "b", "h", "w", "dw" } do
  for _, word in ipairs { "ldx", "st", "stx" } do
    local name = word .. sz
    M[name] = function(a, b, c) return call_as(name, word, 1, sz, a, b, c) end
  end
end

-- Fixed widths: le16(dst) is le(dst, 16); the same for be and bswap.
for _, word in ipairs { "le", "be", "bswap" } do
  for _, bits in ipairs { 16, 32, 64 } do
    local name = word .. bits
    M[name] = function(dst) return call_as(name, word, 0, dst, bits) end
  end
end

-- clj-ebpf's conditional jumps, the condition by name with or without
-- its j: jmp("jeq", "r1", 0, "out") is jeq("r1", 0, "out"); jmp("out")
-- with one argument is ja("out"). The conditions are the table's.
local IS_COND = {}
for _, row in ipairs(core.isa()) do
  if row.shape == "jcond" then IS_COND[row.name] = true end
end

local function cond_name(fname, cond, suffix)
  if type(cond) ~= "string" then check.argerr(fname, 1, "a condition such as 'jeq'", cond) end
  local name = cond:sub(1, 1) == "j" and cond or ("j" .. cond)
  if name:sub(-#suffix) ~= suffix then name = name .. suffix end -- jmp32("jeq32", ...) too
  if not IS_COND[name] then check.argerr(fname, 1, "a condition (jeq, jgt, ..., jsle)", cond) end
  return name
end

function M.jmp(cond, dst, x, to)
  if dst == nil and x == nil and to == nil then return call_as("jmp", "ja", 0, cond) end
  return call_as("jmp", cond_name("jmp", cond, ""), -1, dst, x, to)
end
function M.jmp32(cond, dst, x, to) return call_as("jmp32", cond_name("jmp32", cond, "32"), -1, dst, x, to) end
-- jmp_imm(cond, dst, imm, to), jmp_reg(cond, dst, src, to) and their
-- 32-bit twins: the operand checked as an integer or as a register.
for _, width in ipairs { "", "32" } do
  for _, operand in ipairs { { "_imm", check.int }, { "_reg", check.reg } } do
    local name = "jmp" .. width .. operand[1]
    local checked = operand[2]
    M[name] = function(cond, dst, x, to)
      return call_as(name, cond_name(name, cond, width), -1, dst, checked(name, 3, x), to)
    end
  end
end

return M
