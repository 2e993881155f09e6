-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): one BPF program under construction, as a list of
-- IR instructions over virtual registers, each remembering the user's line.
--
-- The IR is in program order and jumps only go forward, so a value's live
-- range is the span from its first definition to its last use (see
-- _trace_regalloc). Instructions (fields besides op and line):
--   ctx   dst                       the context, r1 at entry
--   mov   dst, a                    a: vreg or any 64-bit integer
--   alu   alu, dst, a, b            dst = a <alu> b; a vreg, b vreg or imm32
--   neg   dst, a
--   sext  dst, a, bits              sign-extend the low `bits` of a
--   zext  dst, a                    zero-extend the low 32 bits of a
--   ld    size, dst, base, off      base: vreg or {stack = obj}
--   st    size, base, off, src      src: vreg or imm32
--   xadd  size, base, off, src      atomic add
--   call  helper, args, dst?        args: vreg | integer | {map = m} |
--                                   {stack = obj, off = k} | {ptr = v, off = k}
--   jmp   cond, a, b, target, w32, exit   exit: the target leads to the
--                                   program's end without using any value
--   ja    target
--   label name
--   exit                            r0 = 0; exit
local M = {}

local getinfo, type, tointeger = debug.getinfo, type, math.tointeger

-- Frames of these modules are the library's; the first other Lua frame is
-- the user's line.
local function ours(src) return src:find("ebpfdsl[/\\][%w_]+%.lua$") ~= nil end
M.ours = ours

function M.user_line()
  for level = 3, 60 do
    local info = getinfo(level, "Sl")
    if not info then return nil end
    if info.what ~= "C" and not ours(info.source) then return info.short_src .. ":" .. info.currentline end
  end
end

-- Misuse raises at the user's line.
M.fail = require("ebpfdsl._errors").blamer(function(info) return info.what == "C" or ours(info.source) end)

local Fn = {}
Fn.__index = Fn

-- new(name) -> a program under construction; fn.ctx is the context vreg.
function M.new(name)
  local fn = setmetatable({ name = name, insns = {}, nv = 0, nl = 0, objs = {}, memo = { {} },
    line = M.user_line() }, Fn)
  fn.exit_label = fn:newlabel("exit")
  fn.ctx = fn:v("ctx")
  fn:emit { op = "ctx", dst = fn.ctx }
  return fn
end

function Fn:v(hint)
  self.nv = self.nv + 1
  return { id = self.nv, hint = hint }
end

function Fn:newlabel(what)
  self.nl = self.nl + 1
  return ("%s_%d"):format(what or "L", self.nl)
end

function Fn:emit(ins)
  ins.line = ins.line or M.user_line() or self.line
  local list = self.insns
  list[#list + 1] = ins
  return ins
end

-- A stack buffer of `size` bytes (8-aligned); where it lives is decided
-- once the program is complete, from the span of its uses.
function Fn:stack(size, what)
  local obj = { size = (size + 7) // 8 * 8, what = what }
  self.objs[#self.objs + 1] = obj
  return obj
end

local IMM_MIN, IMM_MAX = -0x80000000, 0x7fffffff
function M.fits_imm(k) return k >= IMM_MIN and k <= IMM_MAX end

function Fn:mov(a)
  local d = self:v()
  self:emit { op = "mov", dst = d, a = a }
  return d
end

-- dst = a <op> b; a constant b beyond 32 bits is loaded first.
function Fn:alu(op, a, b)
  if type(a) == "number" then a = self:mov(a) end
  if type(b) == "number" and not M.fits_imm(b) then b = self:mov(b) end
  local d = self:v()
  self:emit { op = "alu", alu = op, dst = d, a = a, b = b }
  return d
end

function Fn:un(op, a, bits)
  local d = self:v()
  self:emit { op = op, dst = d, a = a, bits = bits }
  return d
end

function Fn:ld(size, base, off)
  local d = self:v()
  self:emit { op = "ld", size = size, dst = d, base = base, off = off or 0 }
  return d
end

function Fn:st(size, base, off, src)
  if type(src) == "number" and (size == "dw" and not M.fits_imm(src)) then src = self:mov(src) end
  self:emit { op = "st", size = size, base = base, off = off or 0, src = src }
end

-- call(helper, args[, result]) -> the result vreg when asked for.
function Fn:call(helper, args, result)
  local d = result and self:v() or nil
  self:emit { op = "call", helper = helper, args = args, dst = d }
  return d
end

function Fn:jmp(cond, a, b, target, w32, exit)
  if type(b) == "number" and not M.fits_imm(b) then b = self:mov(b) end
  self:emit { op = "jmp", cond = cond, a = a, b = b, target = target, w32 = w32 or nil, exit = exit or nil }
end

function Fn:ja(target) self:emit { op = "ja", target = target } end
function Fn:label(name) self:emit { op = "label", name = name } end

-- Memo tables: a value computed once per scope (pid_tgid, comm...). A
-- branch opens a scope; what it computed is forgotten when it closes,
-- since the other path never computed it.
function Fn:memo_get(key)
  local m = self.memo
  for i = #m, 1, -1 do
    local v = m[i][key]
    if v ~= nil then return v end
  end
end
function Fn:memo_set(key, v) self.memo[#self.memo][key] = v end
function Fn:open_scope() self.memo[#self.memo + 1] = {} end
function Fn:close_scope() self.memo[#self.memo] = nil end

-- The loss path: counted in the loss map, then the program ends.
function Fn:loss_label()
  if not self.lost then self.lost = self:newlabel("lost") end
  return self.lost
end

-- Ends the list: the exit, and the loss block when a reservation can fail.
function Fn:finish(loss_map)
  if self.finished then return self.insns end
  self.finished = true
  local line = self.line
  local function e(t) t.line = line; self:emit(t) end
  e { op = "label", name = self.exit_label }
  e { op = "exit" }
  if self.lost then
    e { op = "label", name = self.lost }
    local key = self:stack(4, "loss key")
    e { op = "st", size = "w", base = { stack = key }, off = 0, src = 0 }
    local p = self:v()
    e { op = "call", helper = "map_lookup_elem", args = { { map = loss_map }, { stack = key, off = 0 } }, dst = p }
    local out = self:newlabel("out")
    e { op = "jmp", cond = "jeq", a = p, b = 0, target = out }
    local one = self:v()
    e { op = "mov", dst = one, a = 1 }
    e { op = "xadd", size = "dw", base = p, off = 0, src = one }
    e { op = "label", name = out }
    e { op = "exit" }
  end
  return self.insns
end

M.tointeger = tointeger
return M
