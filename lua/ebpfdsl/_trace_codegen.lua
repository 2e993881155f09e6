-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): the IR of a program, with its registers and
-- stack slots decided, as ebpfdsl.dsl instruction tables; beside them, the
-- user's line that built each instruction slot (for verifier messages).
local dsl = require "ebpfdsl.dsl"
local ra = require "ebpfdsl._trace_regalloc"
local ir = require "ebpfdsl._trace_ir"

local M = {}

local type, ipairs, isv = type, ipairs, ra.isv

local COMMUTATIVE = { add = true, mul = true, ["and"] = true, ["or"] = true, xor = true }
local WIDE = { lddw = true, ld_map_fd = true, ld_map_value = true }
local BIG_ENDIAN = string.pack("=I2", 1):byte() == 0

-- The stack holds 512 bytes. When the buffers of a program need more, the
-- largest move to a per-CPU array's value (one per program), which the
-- program looks up first: a map value is as good as the stack for map keys
-- and helpers' buffers.
function M.to_scratch(fn, opts)
  local list = {}
  for _, o in ipairs(fn.objs) do
    if o.first and o.what ~= "spill" then list[#list + 1] = o end
  end
  table.sort(list, function(a, b) return a.size > b.size end)
  local moved, rest = {}, {}
  for _, o in ipairs(fn.objs) do rest[o] = true end
  local function remaining()
    local l = {}
    for o in pairs(rest) do l[#l + 1] = o end
    return ra.frame(l)
  end
  for _, o in ipairs(list) do
    if remaining() <= 512 - 64 then break end -- room for spills and the key
    rest[o] = nil
    moved[#moved + 1] = o
  end
  -- the moved buffers share the value's bytes as stack buffers share the
  -- stack: frame() places them, top is the offset from the value's start
  local size = ra.frame(moved)
  local key = fn:stack(4, "scratch key")
  local s = fn:v("scratch")
  local ref = { size = size }
  function ref.bpf_map()
    if not ref.map then
      local m, msg = require("ebpfdsl.maps").percpu_array { key = "u32", value_size = (size + 7) // 8 * 8,
                                                             max_entries = 1, name = "trace_scratch" }
      if not m then error("trace: creating the scratch map: " .. tostring(msg), 0) end
      ref.map = m
    end
    return ref.map
  end
  opts.scratch = ref
  local at = {}
  for _, o in ipairs(moved) do at[o] = o.top end
  for _, ins in ipairs(fn.insns) do
    local b = ins.base
    if type(b) == "table" and b.stack and at[b.stack] then
      ins.off = (ins.off or 0) + at[b.stack]
      ins.base = s
    end
    if ins.op == "call" then
      for i, a in ipairs(ins.args) do
        if type(a) == "table" and a.stack and at[a.stack] then
          ins.args[i] = { ptr = s, off = (a.off or 0) + at[a.stack] }
        end
      end
    end
  end
  local keep = {}
  for _, o in ipairs(fn.objs) do if not at[o] then keep[#keep + 1] = o end end
  fn.objs = keep
  -- after the context: the lookup, and the end of the program should the
  -- array have no value (it always has)
  local line = fn.insns[1].line
  table.insert(fn.insns, 2, { op = "st", size = "w", base = { stack = key }, off = 0, src = 0, line = line })
  table.insert(fn.insns, 3, { op = "call", helper = "map_lookup_elem", args = { { map = ref },
    { stack = key, off = 0 } }, dst = s, line = line })
  table.insert(fn.insns, 4, { op = "jmp", cond = "jeq", a = s, b = 0, target = fn.exit_label, exit = true,
    line = line })
end

-- generate(fn, opts) -> list of dsl tables, lines ({[slot] = "file:line"},
-- slots from 0 as the verifier counts them), frame size.
-- opts.cpu: 4 allows movsx for sign extension.
function M.generate(fn, opts)
  opts = opts or {}
  local insns = fn.insns
  ra.unreachable(insns)
  ra.dce(insns)
  ra.sink(insns, fn.ctx)
  ra.hoist(insns, fn.ctx)
  local A = ra.allocate(fn)
  local depth = ra.frame(fn.objs)
  if depth > 512 then
    M.to_scratch(fn, opts)
    A = ra.allocate(fn)
    depth = ra.frame(fn.objs)
    if depth > 512 then
      ir.fail(("trace: probe '%s' needs %d bytes of stack, more than the 512 BPF allows"):format(fn.name, depth))
    end
  end
  insns = fn.insns
  local reg = A.reg

  local out, lines, nslot = {}, {}, 0
  local cur_line
  -- What each register holds, as far as straight-line code tells: a move
  -- of a value into a register that holds it already is left out (a
  -- helper's result copied to r6 and back, a constant set twice).
  local held, fresh = {}, 0
  local function token()
    fresh = fresh + 1
    return fresh
  end
  local function redundant(x)
    if x.op == "label" or x.op == "exit" then
      held = {}
    elseif x.op == "call" then
      for i = 0, 5 do held["r" .. i] = nil end
    elseif x.op == "mov" then
      local v
      if x.src then
        v = held[x.src] or token()
        held[x.src] = v
      else
        v = "#" .. x.imm
      end
      if held[x.dst] == v then return true end
      held[x.dst] = v
    elseif x.dst and x.op ~= "st" and x.op ~= "stx" and not x.op:match("^j") and not x.op:match("^atomic") then
      held[x.dst] = nil
    elseif x.op:match("^atomic") and x.op ~= "atomic_add" and x.op ~= "atomic_or" and x.op ~= "atomic_and" and
      x.op ~= "atomic_xor" then
      held = {} -- fetching atomics write registers
    end
    return false
  end
  local function put(x)
    if redundant(x) then return end
    out[#out + 1] = x
    if x.op ~= "label" then
      lines[nslot] = cur_line
      nslot = nslot + (WIDE[x.op] and 2 or 1)
    end
  end

  local function set_const(r, k)
    if ir.fits_imm(k) then put(dsl.mov(r, k)) else put(dsl.lddw(r, k)) end
  end

  -- every value has a register once allocate() has settled
  local function get(v)
    return reg[v] or error("trace: internal error: value v" .. v.id .. " has no register")
  end
  local function base_of(b, off)
    if isv(b) then return get(b), off end
    return "r10", b.stack.off + off
  end

  -- one parallel move of registers into registers (r0 breaks cycles: it
  -- is never a destination here)
  local function place(moves)
    local pending = {}
    for _, m in ipairs(moves) do if m.src ~= m.dst then pending[#pending + 1] = m end end
    while #pending > 0 do
      local pick
      for i, m in ipairs(pending) do
        local blocked = false
        for _, o in ipairs(pending) do if o ~= m and o.src == m.dst then blocked = true end end
        if not blocked then pick = i break end
      end
      if pick then
        local m = table.remove(pending, pick)
        put(dsl.mov(m.dst, m.src))
      else
        local m = pending[1]
        put(dsl.mov("r0", m.src))
        for _, o in ipairs(pending) do if o.src == m.src then o.src = "r0" end end
      end
    end
  end

  for _, ins in ipairs(insns) do
    cur_line = ins.line
    local op = ins.op
    if ins.skip and ins.skip() then
      op = "skip"
    end
    if op == "skip" then -- luacheck: ignore 542
      -- an instruction the finished program turned out not to need
    elseif op == "ctx" then
      local r = get(ins.dst)
      if r ~= "r1" then put(dsl.mov(r, "r1")) end
    elseif op == "label" then
      put(dsl.label(ins.name))
    elseif op == "mov" then
      local d = get(ins.dst)
      if isv(ins.a) then
        local s = get(ins.a)
        if s ~= d then put(dsl.mov(d, s)) end
      else
        set_const(d, ins.a)
      end
    elseif op == "alu" then
      local a, d = get(ins.a), get(ins.dst)
      local b = isv(ins.b) and get(ins.b) or ins.b
      local name = ins.alu
      if d ~= a then
        if d == b then
          -- the allocator gives the result the second operand's register
          -- only when the operation commutes: d = d op a
          if not COMMUTATIVE[name] then error("trace: internal error: " .. name .. " into its second operand") end
          b = a
        else
          put(dsl.mov(d, a))
        end
      end
      put(dsl[name](d, b))
    elseif op == "bswap" then
      -- the bytes reversed: to big-endian on a little-endian machine and
      -- the reverse (both in every kernel; bswap itself needs cpu v4)
      local a, d = get(ins.a), get(ins.dst)
      if d ~= a then put(dsl.mov(d, a)) end
      put(dsl[BIG_ENDIAN and "le" or "be"](d, ins.bits))
    elseif op == "neg" or op == "sext" or op == "zext" then
      local a, d = get(ins.a), get(ins.dst)
      if op == "zext" then
        put(dsl.mov32(d, a))
      elseif op == "sext" and opts.cpu and opts.cpu >= 4 then
        put(dsl.movsx(d, a, ins.bits))
      else
        if d ~= a then put(dsl.mov(d, a)) end
        if op == "neg" then
          put(dsl.neg(d))
        else
          put(dsl.lsh(d, 64 - ins.bits))
          put(dsl.arsh(d, 64 - ins.bits))
        end
      end
    elseif op == "ld" then
      local b, off = base_of(ins.base, ins.off)
      put(dsl.ldx(ins.size, get(ins.dst), b, off))
    elseif op == "addr" then
      local b, off = base_of(ins.base, ins.off)
      local d = get(ins.dst)
      if d ~= b then put(dsl.mov(d, b)) end
      if off ~= 0 then put(dsl.add(d, off)) end
    elseif op == "st" or op == "xadd" then
      local b, off = base_of(ins.base, ins.off)
      if op == "xadd" then
        put(dsl.atomic_add(ins.size, b, off, get(ins.src)))
      elseif isv(ins.src) then
        put(dsl.stx(ins.size, b, off, get(ins.src)))
      else
        put(dsl.st(ins.size, b, off, ins.src))
      end
    elseif op == "call" then
      local moves, later = {}, {}
      for i, a in ipairs(ins.args) do
        local r = "r" .. i
        if isv(a) then
          moves[#moves + 1] = { dst = r, src = get(a) }
        elseif type(a) == "number" then
          later[#later + 1] = function() set_const(r, a) end
        elseif a.map then
          later[#later + 1] = function() put(dsl.ld_map_fd(r, a.map:bpf_map())) end
        elseif a.stack then
          later[#later + 1] = function()
            put(dsl.mov(r, "r10"))
            put(dsl.add(r, a.stack.off + (a.off or 0)))
          end
        elseif a.ptr then
          moves[#moves + 1] = { dst = r, src = get(a.ptr) }
          if (a.off or 0) ~= 0 then later[#later + 1] = function() put(dsl.add(r, a.off)) end end
        end
      end
      place(moves)
      -- constants, maps and stack addresses after the moves: they read no
      -- register but r10 (the pointer offsets apply to registers the moves
      -- have filled)
      for _, f in ipairs(later) do f() end
      put(dsl.call(ins.helper))
      if ins.dst then
        local r = get(ins.dst)
        if r ~= "r0" then put(dsl.mov(r, "r0")) end
      end
    elseif op == "jmp" then
      local b = isv(ins.b) and get(ins.b) or ins.b
      put(dsl[ins.cond .. (ins.w32 and "32" or "")](get(ins.a), b, ins.target))
    elseif op == "ja" then
      put(dsl.ja(ins.target))
    elseif op == "exit" then
      put(dsl.mov("r0", 0))
      put(dsl.exit())
    else
      error("trace: internal error: unknown IR op " .. tostring(op))
    end
  end
  return out, lines, depth
end

return M
