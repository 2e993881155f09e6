-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): clean-up and register allocation of a program's
-- IR: dead code goes, pure values sink to their first use, and every
-- virtual register gets a machine register (r0-r9) or a stack slot.
--
-- Jumps only go forward, so on every path from a definition to a use the
-- instructions lie between the two in program order: a value's live range
-- is exactly enough as one interval [first definition, last use]. Helper
-- calls clobber r0-r5, so a value live across a call gets r6-r9 or, when
-- those are taken, a stack slot (linear scan, spilling the furthest end).
local M = {}

local type, ipairs, pairs = type, ipairs, pairs

local function isv(x) return type(x) == "table" and x.id ~= nil end
M.isv = isv

-- The vregs an instruction reads, in operand order.
local function uses(ins, out)
  out = out or {}
  local op = ins.op
  if op == "mov" or op == "neg" or op == "sext" or op == "zext" then
    if isv(ins.a) then out[#out + 1] = ins.a end
  elseif op == "alu" or op == "jmp" then
    if isv(ins.a) then out[#out + 1] = ins.a end
    if isv(ins.b) then out[#out + 1] = ins.b end
  elseif op == "ld" then
    if isv(ins.base) then out[#out + 1] = ins.base end
  elseif op == "st" or op == "xadd" then
    if isv(ins.base) then out[#out + 1] = ins.base end
    if isv(ins.src) then out[#out + 1] = ins.src end
  elseif op == "call" then
    for _, a in ipairs(ins.args) do
      if isv(a) then out[#out + 1] = a
      elseif type(a) == "table" and isv(a.ptr) then out[#out + 1] = a.ptr end
    end
  end
  return out
end
M.uses = uses

-- Helpers with no effect but their result: unused, they go; their result
-- is the same anywhere in one run of the program, so they may move (except
-- the clock, which may be dropped but not moved).
local PURE = { get_current_pid_tgid = true, get_current_uid_gid = true, get_smp_processor_id = true,
               get_current_cgroup_id = true, get_current_task = true, get_current_task_btf = true,
               ktime_get_ns = true, get_prandom_u32 = false }
local UNMOVABLE = { ktime_get_ns = true }

local VALUE_OPS = { mov = true, alu = true, neg = true, sext = true, zext = true, ld = true }

local function pure(ins)
  return VALUE_OPS[ins.op] or (ins.op == "call" and PURE[ins.helper])
end

-- Removes what no path reaches (after a jump or an exit, up to the next
-- label some jump names: the verifier refuses unreachable instructions),
-- and jumps to the very next instruction.
function M.unreachable(insns)
  repeat
    local targeted = {}
    for _, ins in ipairs(insns) do
      if ins.target then targeted[ins.target] = true end
    end
    local out, dead, changed = {}, false, false
    for _, ins in ipairs(insns) do
      if ins.op == "label" and targeted[ins.name] then dead = false end
      if dead then
        changed = true
      else
        out[#out + 1] = ins
        if ins.op == "ja" or ins.op == "exit" then dead = true end
      end
    end
    -- a jump (conditional or not) to the label right after it goes nowhere
    local final = {}
    for i, ins in ipairs(out) do
      local nxt = out[i + 1]
      if (ins.op == "ja" or ins.op == "jmp") and nxt and nxt.op == "label" and nxt.name == ins.target then
        changed = true
      else
        final[#final + 1] = ins
      end
    end
    for i = 1, #final do insns[i] = final[i] end
    for i = #final + 1, #insns do insns[i] = nil end
  until not changed
  return insns
end

-- Removes instructions whose results nothing reads; a call kept for its
-- effect loses an unused result.
function M.dce(insns)
  repeat
    local used = {}
    for _, ins in ipairs(insns) do
      for _, v in ipairs(uses(ins)) do used[v] = true end
    end
    local out, changed = {}, false
    for _, ins in ipairs(insns) do
      if ins.dst and not used[ins.dst] and ins.op ~= "ctx" then
        if pure(ins) then
          changed = true
        else
          ins.dst = nil
          out[#out + 1] = ins
        end
      else
        out[#out + 1] = ins
      end
    end
    for i = 1, #out do insns[i] = out[i] end
    for i = #out + 1, #insns do insns[i] = nil end
  until not changed
  return insns
end

-- Moves each pure instruction down to just before the first instruction
-- that reads its result, when that passes a helper call: the value then
-- lives across fewer calls. It never crosses a label, a jump that can
-- rejoin, or a redefinition of what it reads; jumps that leave for the
-- program's end (filters, failed reservations) are crossed.
function M.sink(insns, ctx)
  local ndefs = {}
  for _, ins in ipairs(insns) do
    if ins.dst then ndefs[ins.dst] = (ndefs[ins.dst] or 0) + 1 end
  end
  for i = #insns - 1, 1, -1 do
    local ins = insns[i]
    local movable = ins.dst and ndefs[ins.dst] == 1 and pure(ins) and not UNMOVABLE[ins.helper]
    if movable and ins.op == "ld" and ins.base ~= ctx then movable = false end
    if movable then
      local d, reads = ins.dst, uses(ins)
      local j, calls = i + 1, false
      while j <= #insns do
        local x = insns[j]
        local op = x.op
        if op == "label" or op == "ja" or op == "exit" or (op == "jmp" and not x.exit) then break end
        local stop = false
        for _, v in ipairs(uses(x)) do if v == d then stop = true end end
        for _, v in ipairs(reads) do if x.dst == v then stop = true end end
        if stop then break end
        if op == "call" then calls = true end
        j = j + 1
      end
      if calls then
        table.remove(insns, i)
        table.insert(insns, j - 1, ins)
      end
    end
  end
  return insns
end

local CALLER = { "r0", "r1", "r2", "r3", "r4", "r5" }
local CALLEE = { "r6", "r7", "r8", "r9" }
local ALL = { "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9" }

-- One linear scan: {reg = {[vreg] = "rN"}, slot = {[vreg] = true} for
-- the values that found no register, ivs = intervals}; stack objects'
-- spans are recorded on them (first, last) for the frame layout.
local function scan(fn)
  local insns = fn.insns
  for _, o in ipairs(fn.objs) do o.first, o.last = nil, nil end
  local first, last, calls, order = {}, {}, {}, {}
  local function touch_obj(obj, pos)
    if not obj.first or pos < obj.first then obj.first = pos end
    if not obj.last or pos > obj.last then obj.last = pos end
  end
  local hint = {}
  local function add_hint(v, r)
    local h = hint[v]
    if not h then h = {}; hint[v] = h end
    h[#h + 1] = r
  end
  for pos, ins in ipairs(insns) do
    for _, v in ipairs(uses(ins)) do last[v] = pos end
    if ins.dst then
      if not first[ins.dst] then
        first[ins.dst] = pos
        order[#order + 1] = ins.dst
      end
      if last[ins.dst] == nil or last[ins.dst] < pos then last[ins.dst] = pos end
    end
    if ins.op == "call" then
      calls[#calls + 1] = pos
      if ins.dst then add_hint(ins.dst, "r0") end
      for i, a in ipairs(ins.args) do
        if isv(a) then add_hint(a, "r" .. i)
        elseif type(a) == "table" and isv(a.ptr) then add_hint(a.ptr, "r" .. i) end
      end
    end
    if ins.op == "ctx" then add_hint(ins.dst, "r1") end
    local b = ins.base
    if type(b) == "table" and b.stack then touch_obj(b.stack, pos) end
    if ins.op == "call" then
      for _, a in ipairs(ins.args) do
        if type(a) == "table" and a.stack then touch_obj(a.stack, pos) end
      end
    end
  end

  local function crosses(s, e)
    for _, c in ipairs(calls) do
      if c > s and c < e then return true end
    end
    return false
  end

  local reg, slot, ivs = {}, {}, {}
  for _, v in ipairs(order) do
    ivs[#ivs + 1] = { v = v, s = first[v], e = last[v], cross = crosses(first[v], last[v]) }
  end
  table.sort(ivs, function(a, b) return a.s < b.s or (a.s == b.s and a.v.id < b.v.id) end)

  -- the first operand may share the register of the result it makes
  -- (dst = a op b is mov dst, a; op dst, b), the second may not
  local function conflicts(other, iv)
    if other.e > iv.s then return true end
    if other.e < iv.s then return false end
    local ins = insns[iv.s]
    if ins.op == "alu" and ins.b == other.v then return true end
    return false
  end

  local active = {}
  for _, iv in ipairs(ivs) do
    local busy = {}
    local still = {}
    for _, o in ipairs(active) do
      if o.e >= iv.s then
        still[#still + 1] = o
        if reg[o.v] and conflicts(o, iv) then busy[reg[o.v]] = o end
      end
    end
    active = still
    local function ok(r) return not busy[r] and (not iv.cross or r:match("^r[6-9]$")) end
    local pick
    -- values reloaded from a spill slot live one instruction: never victims
    -- hints: a helper argument, a call result, the context, or the first
    -- operand's register when it dies here
    local ins = insns[iv.s]
    local h = {}
    -- (reusing the first operand's register saves a mov; a load gains
    -- nothing from its base's, so the helper argument it feeds comes first)
    if (ins.op == "alu" or ins.op == "mov" or ins.op == "neg" or ins.op == "sext" or ins.op == "zext")
      and isv(ins.a) and reg[ins.a] and last[ins.a] == iv.s then
      h[#h + 1] = reg[ins.a]
    end
    for _, r in ipairs(hint[iv.v] or {}) do h[#h + 1] = r end
    if ins.op == "ld" and isv(ins.base) and reg[ins.base] and last[ins.base] == iv.s then h[#h + 1] = reg[ins.base] end
    for _, r in ipairs(h) do
      if ok(r) then pick = r break end
    end
    if not pick then
      for _, r in ipairs(iv.cross and CALLEE or ALL) do
        if ok(r) then pick = r break end
      end
    end
    if not pick then
      -- spill the interval ending last among iv and those holding usable registers
      local victim = not iv.v.reload and iv or nil
      for r, o in pairs(busy) do
        if (not iv.cross or r:match("^r[6-9]$")) and not o.v.reload and (not victim or o.e > victim.e) then
          victim = o
        end
      end
      if not victim then error("trace: internal error: no register for a reloaded value at " .. iv.s) end
      if victim ~= iv then
        pick = reg[victim.v]
        reg[victim.v] = nil
        slot[victim.v] = true
      else
        slot[iv.v] = true
      end
    end
    if pick then reg[iv.v] = pick end
    active[#active + 1] = iv
  end
  return { reg = reg, slot = slot, ivs = ivs, calls = calls, first = first, last = last }
end

local function replace_uses(ins, v, r)
  for _, k in ipairs { "a", "b", "base", "src" } do
    if ins[k] == v then ins[k] = r end
  end
  if ins.op == "call" then
    for i, a in ipairs(ins.args) do
      if a == v then ins.args[i] = r
      elseif type(a) == "table" and a.ptr == v then ins.args[i] = { ptr = r, off = a.off } end
    end
  end
end

-- Values without a register live in a stack slot: each definition is
-- stored there and each use loaded from there into a new value that lives
-- for one instruction.
local function spill(fn, slots)
  local obj = {}
  for v in pairs(slots) do obj[v] = fn:stack(8, "spill") end
  local out = {}
  for _, ins in ipairs(fn.insns) do
    local seen = {}
    for _, v in ipairs(uses(ins)) do
      if obj[v] and not seen[v] then
        seen[v] = true
        local r = fn:v()
        r.reload = true
        out[#out + 1] = { op = "ld", size = "dw", dst = r, base = { stack = obj[v] }, off = 0, line = ins.line }
        replace_uses(ins, v, r)
      end
    end
    out[#out + 1] = ins
    local d = ins.dst
    if d and obj[d] then
      local r = fn:v()
      r.reload = true
      ins.dst = r
      out[#out + 1] = { op = "st", size = "dw", base = { stack = obj[d] }, off = 0, src = r, line = ins.line }
    end
  end
  fn.insns = out
end

-- allocate(fn): scans, and while values are left without registers, moves
-- them to the stack and scans again.
function M.allocate(fn)
  for _ = 1, 20 do
    local A = scan(fn)
    if next(A.slot) == nil then return A end
    spill(fn, A.slot)
  end
  error("trace: internal error: register allocation does not settle")
end

-- Places the stack objects (buffers and spill slots) below the frame
-- pointer, sharing bytes between objects whose spans do not overlap.
-- Returns the frame size.
function M.frame(objs)
  local list = {}
  for _, o in ipairs(objs) do if o.first then list[#list + 1] = o end end
  table.sort(list, function(a, b) return a.first < b.first or (a.first == b.first and a.size > b.size) end)
  local placed, depth = {}, 0
  for _, o in ipairs(list) do
    local at = 0 -- bytes below fp where the object ends (its top)
    local moved = true
    while moved do
      moved = false
      for _, p in ipairs(placed) do
        local overlap_time = p.first <= o.last and o.first <= p.last
        local overlap_space = at < p.top + p.size and p.top < at + o.size
        if overlap_time and overlap_space then
          at = p.top + p.size
          moved = true
        end
      end
    end
    o.top = at
    o.off = -(at + o.size)
    placed[#placed + 1] = o
    if at + o.size > depth then depth = at + o.size end
  end
  return depth
end

M.CALLER, M.CALLEE = CALLER, CALLEE
return M
