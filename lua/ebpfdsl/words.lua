-- SPDX-License-Identifier: MIT
-- Words that are lists of instructions: ring buffers, helper_<name> calls
-- with their arguments placed, kprobe argument reads (probe DSLs, issue 4).
local core = require "ebpfdsl.core"
local dsl = require "ebpfdsl.dsl"
local REGS = require("ebpfdsl._regs").REGS

local M = {}

local type, select = type, select

-- Errors blame the first caller outside this file: the user's line.
local check = require("ebpfdsl._args").checks(debug.getinfo(1, "S").source)
local blame = check.blame
local argerr, reg, int, source = check.argerr, check.reg, check.int, check.source

-- Each word returns a list. Helper arguments are put in r1..r5 as a
-- parallel move, so any register may feed any argument (r0, which the
-- call overwrites anyway, breaks cycles); the map load goes last.

-- Wakeup flags of ringbuf_submit/discard/output and the ringbuf_query
-- codes, as <linux/bpf.h> names them (spec 45 checks the values).
M.BPF_RB_NO_WAKEUP, M.BPF_RB_FORCE_WAKEUP = 1, 2
M.BPF_RB_AVAIL_DATA, M.BPF_RB_RING_SIZE, M.BPF_RB_CONS_POS, M.BPF_RB_PROD_POS = 0, 1, 2, 3
M.ringbuf_flags = { no_wakeup = M.BPF_RB_NO_WAKEUP, force_wakeup = M.BPF_RB_FORCE_WAKEUP }
M.ringbuf_queries = { avail_data = M.BPF_RB_AVAIL_DATA, ring_size = M.BPF_RB_RING_SIZE,
                      cons_pos = M.BPF_RB_CONS_POS, prod_pos = M.BPF_RB_PROD_POS }

-- A flags argument: nil (0), an integer, a register, or a name from the
-- table ("no_wakeup", or "BPF_RB_NO_WAKEUP").
local function named(fname, n, x, names, what)
  if x == nil then return 0 end
  if type(x) == "string" then
    if REGS[x] then return x end
    local v = names[x:lower():gsub("^bpf_rb_", "")]
    if v then return v end
    local known = {}
    for k in pairs(names) do known[#known + 1] = k end
    if #known == 0 then
      blame(("%s: takes no named %ss ('%s'); give 0, an integer or a register"):format(fname, what, x))
    end
    table.sort(known)
    blame(("%s: unknown %s '%s' (known: %s)"):format(fname, what, x, table.concat(known, ", ")))
  end
  local _, v = source(fname, n, x)
  return v
end

-- moves: list of {dst = "r1".."r5", src = register | integer | {map=}}.
local function place(moves)
  local out, pending = {}, {}
  for _, m in ipairs(moves) do
    if not (type(m.src) == "string" and m.src == m.dst) then pending[#pending + 1] = m end
  end
  local function is_source(r, except)
    for _, m in ipairs(pending) do
      if m ~= except and m.src == r then return true end
    end
    return false
  end
  while #pending > 0 do
    local pick
    for i, m in ipairs(pending) do
      if not is_source(m.dst, m) then pick = i break end
    end
    if pick then
      local m = table.remove(pending, pick)
      if type(m.src) == "table" then
        out[#out + 1] = dsl.ld_map_fd(m.dst, m.src.map)
      else
        out[#out + 1] = dsl.mov(m.dst, m.src)
      end
    else
      -- only register cycles remain: park one source in r0
      local m = pending[1]
      out[#out + 1] = dsl.mov("r0", m.src)
      for _, o in ipairs(pending) do
        if o.src == m.src then o.src = "r0" end
      end
    end
  end
  return out
end

-- helper_<name>(a1, ..., a5): moves each given argument (a register or
-- an integer) into r1..r5 as one parallel move (place), then calls; one
-- for every helper the kernel header lists, e.g.
-- helper_get_current_pid_tgid(), helper_ktime_get_ns().
local function helper_wrapper(name, id)
  local fname = "helper_" .. name
  return function(...)
    local n = select("#", ...)
    if n > 5 then blame(fname .. ": helpers take at most 5 arguments") end
    local moves = {}
    for i = 1, n do
      local a = select(i, ...)
      if a ~= nil then
        local _, v = source(fname, i, a)
        moves[#moves + 1] = { dst = "r" .. i, src = v }
      end
    end
    local out = place(moves)
    out[#out + 1] = { op = "call", imm = id, helper = name }
    return out
  end
end
-- Made on first use and kept: the 200-odd wrappers would cost every
-- program's start-up, and most use a handful. Helpers newer than the
-- header (helper_cgrp_storage_get) come from the running kernel's list.
setmetatable(M, { __index = function(t, k)
  local name = type(k) == "string" and k:match("^helper_(.+)$")
  local id = name and core.helper_id(name)
  -- only the header's own names, not their bpf_ forms
  if not id or core.helper_name(id) ~= name then return nil end
  local f = helper_wrapper(name, id)
  rawset(t, k, f)
  return f
end })

local function map_arg(fname, n, m)
  return { map = check.map(fname, n, m) }
end

local function size_arg(fname, n, x)
  local _, v = source(fname, n, x)
  return v
end

local function result_to(out, dst)
  if dst ~= nil and dst ~= "r0" then out[#out + 1] = dsl.mov(dst, "r0") end
  return out
end

-- ringbuf_reserve(dst, map_or_fd, size[, flags]) -> a list leaving in dst
-- a pointer to `size` bytes of the ring buffer, or NULL: test it before
-- use, and submit or discard it on every path (the verifier insists).
-- size is an integer or a register.
function M.ringbuf_reserve(dst, map, nbytes, flags)
  local fname = "ringbuf_reserve"
  reg(fname, 1, dst)
  local out = place({
    { dst = "r1", src = map_arg(fname, 2, map) },
    { dst = "r2", src = size_arg(fname, 3, nbytes) },
    { dst = "r3", src = named(fname, 4, flags, {}, "flag") },
  })
  out[#out + 1] = dsl.call("ringbuf_reserve")
  return result_to(out, dst)
end

-- ringbuf_submit(reg[, flags]) and ringbuf_discard(reg[, flags]) -> a
-- list handing the reserved record in reg to the reader, or dropping it.
-- flags: "no_wakeup", "force_wakeup", an integer or a register.
for _, fname in ipairs { "ringbuf_submit", "ringbuf_discard" } do
  M[fname] = function(ptr, flags)
    local out = place({
      { dst = "r1", src = reg(fname, 1, ptr) },
      { dst = "r2", src = named(fname, 2, flags, M.ringbuf_flags, "wakeup flag") },
    })
    out[#out + 1] = dsl.call(fname)
    return out
  end
end

-- ringbuf_output(map, data_reg, size[, flags]) -> a list copying size
-- bytes at data_reg into the ring buffer; r0 = 0 or a negative errno.
function M.ringbuf_output(map, data, nbytes, flags)
  local fname = "ringbuf_output"
  local out = place({
    { dst = "r1", src = map_arg(fname, 1, map) },
    { dst = "r2", src = reg(fname, 2, data) },
    { dst = "r3", src = size_arg(fname, 3, nbytes) },
    { dst = "r4", src = named(fname, 4, flags, M.ringbuf_flags, "wakeup flag") },
  })
  out[#out + 1] = dsl.call("ringbuf_output")
  return out
end

-- ringbuf_query(map, what[, dst]) -> a list leaving in r0 (or dst) the
-- ring buffer's "avail_data", "ring_size", "cons_pos" or "prod_pos".
function M.ringbuf_query(map, what, dst)
  local fname = "ringbuf_query"
  if dst ~= nil then reg(fname, 3, dst) end
  local code = named(fname, 2, what, M.ringbuf_queries, "query")
  local out = place({ { dst = "r1", src = map_arg(fname, 1, map) }, { dst = "r2", src = code } })
  out[#out + 1] = dsl.call("ringbuf_query")
  return result_to(out, dst)
end

-- reserve_or_count_loss(dst, ringbuf, size, loss_map, fail_label[, opts])
-- -> a list: ringbuf_reserve into dst; when it gives NULL, atomically adds
-- 1 to the u64 at key 0 of loss_map (a percpu_array with u32 keys and u64
-- values, which the ring-buffer reader's lost() sums) and jumps to
-- fail_label. On success it falls through with the record in dst.
-- The u32 key is written at r10 + opts.key_offset (default -4); the NULL
-- path clobbers r0-r5.
local loss_labels = 0
function M.reserve_or_count_loss(dst, ringbuf, nbytes, loss_map, fail_label, opts)
  local fname = "reserve_or_count_loss"
  reg(fname, 1, dst)
  check.map(fname, 4, loss_map)
  if type(fail_label) ~= "string" or fail_label == "" then argerr(fname, 5, "a label name", fail_label) end
  if opts ~= nil and type(opts) ~= "table" then argerr(fname, 6, "an options table", opts) end
  opts = opts or {}
  local key = opts.key_offset == nil and -4 or int(fname, 6, opts.key_offset)
  if key >= 0 or key < -512 or key % 4 ~= 0 then
    blame(fname .. ": opts.key_offset must be a negative multiple of 4 within 512 bytes of r10")
  end
  loss_labels = loss_labels + 1
  local ok = opts.ok_label or ("__reserved_" .. loss_labels)
  local out = M.ringbuf_reserve(dst, ringbuf, nbytes)
  for _, x in ipairs {
    dsl.jne(dst, 0, ok),
    dsl.st("w", "r10", key, 0),
    dsl.ld_map_fd("r1", loss_map),
    dsl.mov("r2", "r10"), dsl.add("r2", key),
    dsl.call("map_lookup_elem"),
    dsl.jeq("r0", 0, fail_label),
    dsl.mov("r1", 1),
    dsl.atomic_add("dw", "r0", 0, "r1"),
    dsl.ja(fail_label),
    dsl.label(ok),
  } do out[#out + 1] = x end
  return out
end

-- read_kprobe_arg(ctx_reg, n, dst[, opts]): dst = argument n (from 1, as
-- PT_REGS_PARMn; clj-ebpf counted from 0) of a kprobed or uprobed
-- function; opts.arch as in ebpfdsl.kprobe.
function M.read_kprobe_arg(ctx_reg, n, dst, opts)
  return require("ebpfdsl.kprobe").read_arg(ctx_reg, n, dst, opts)
end

return M
