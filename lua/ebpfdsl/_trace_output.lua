-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): printf and emit. Each call site gets a record
-- layout derived from its arguments' types; the program reserves one
-- record in the session's ring buffer, stores the values (strings are read
-- straight into the record), and submits it; user space decodes it with
-- the same layout and formats it. A failed reservation is counted in a
-- per-CPU loss map, and reported.
local value = require "ebpfdsl._trace_value"
local ir = require "ebpfdsl._trace_ir"

local M = {}

local type, ipairs, tostring = type, ipairs, tostring
local fail, K = ir.fail, value.K

local Out = {}
Out.__index = Out

function M.new(session)
  local o = setmetatable({ session = session, sites = {} }, Out)
  o.ring_ref = { bpf_map = function() return o:ring() end }
  o.loss_ref = { bpf_map = function() return o:loss_map() end }
  o.ctl_ref = { bpf_map = function() return o:ctl_ring() end }
  return o
end

-- The unsigned decimal text of a 64-bit integer.
local function utostring(v)
  if v >= 0 then return tostring(v) end
  local q = (v >> 1) // 5
  return tostring(q) .. tostring(v - q * 10)
end
M.utostring = utostring

-- printf conversions: flags, width, precision, length modifiers (ignored:
-- every integer is 64 bits here), conversion.
local CONV = "%%([-+ #0]*)(%d*)(%.?%d*)([hlLqjzt]*)([diouxXcsp%%])"

local function parse_format(fmt)
  local pieces, at = {}, 1
  while true do
    local s, e, flags, width, prec, _, conv = fmt:find(CONV, at)
    local lit = fmt:sub(at, s and s - 1 or #fmt)
    if lit:find("%", 1, true) then
      fail(("trace: printf: a %% in '%s' starts no conversion this layer knows (%%d %%i %%u %%x %%X %%o %%c %%s " ..
        "%%p %%%%)"):format(fmt))
    end
    if #lit > 0 then pieces[#pieces + 1] = { lit = lit } end
    if not s then break end
    if conv == "%" then
      pieces[#pieces + 1] = { lit = "%" }
    else
      pieces[#pieces + 1] = { spec = "%" .. flags .. width .. prec, conv = conv, flags = flags, width = width }
    end
    at = e + 1
  end
  return pieces
end

M.parse_format = parse_format

-- Formats one value for a conversion in user space; fmt is a value's
-- formatter name (syscall, ksym, kstack, ...), formatters the session's.
local function format_one(p, v, fmt, formatters)
  local conv = p.conv
  if fmt then v = formatters(fmt, v, "printf") end
  if conv == "s" then return (p.spec .. "s"):format(type(v) == "string" and v or tostring(v)) end
  if type(v) ~= "number" then return (p.spec .. "s"):format(tostring(v)) end
  if conv == "d" or conv == "i" then return (p.spec .. "d"):format(v) end
  if conv == "u" then
    if v >= 0 then return (p.spec .. "d"):format(v) end
    return ("%" .. p.flags:gsub("0", "") .. p.width .. "s"):format(utostring(v))
  end
  if conv == "p" then return (p.spec .. "s"):format(("0x%x"):format(v)) end
  if conv == "c" then return (p.spec .. "c"):format(v & 0xff) end
  return (p.spec .. conv):format(v)
end
M.format_one = format_one

local INT_T = { [1] = "u8", [2] = "u16", [4] = "u32", [8] = "u64" }
local SINT_T = { [1] = "i8", [2] = "i16", [4] = "i32", [8] = "i64" }
local ORDER = { [4] = 1, [8] = 2, [2] = 3, [1] = 4 }

-- A record for the values: {layout, fields = {{name, value, kind}}}.
-- The site number is a u32 at offset 0 (stored only when the session
-- has more than one site).
local function record(name, items)
  local list = {}
  for i, it in ipairs(items) do
    it.index = i
    list[#list + 1] = it
  end
  table.sort(list, function(a, b)
    local ra = a.kind == "str" and 10 or ORDER[a.size] or 5
    local rb = b.kind == "str" and 10 or ORDER[b.size] or 5
    if ra ~= rb then return ra < rb end
    return a.index < b.index
  end)
  local fields = { { "site", "u32" } }
  for _, it in ipairs(list) do
    if it.kind == "str" then
      fields[#fields + 1] = { it.field, it.buf and "u8" or "char", it.n }
    elseif it.kind == "ustack" then
      fields[#fields + 1] = { it.field, "i64" }
      fields[#fields + 1] = { it.field .. "_pid", "u32" }
    else
      fields[#fields + 1] = { it.field, (it.signed and SINT_T or INT_T)[it.size] }
    end
  end
  return require("ebpfdsl.structs").define(name, fields)
end

-- What a value puts in a record.
local function item_of(v, field)
  local t = v[K]
  if t.kind == "str" then
    return { field = field, kind = "str", n = t.n, buf = t.buf, v = v, const = t.const, fmt = t.fmt }
  end
  if t.fmt == "ustack" then return { field = field, kind = "ustack", v = v, fmt = "ustack" } end
  if type(t.v) == "number" then return { field = field, kind = "const", v = v, const = t.v, fmt = t.fmt } end
  return { field = field, kind = "int", size = t.size, signed = t.signed, v = v, fmt = t.fmt }
end

-- Emits the reservation, the stores and the submission of one record.
function Out:write_record(fn, site, layout, items)
  local rec = fn:call("ringbuf_reserve", { { map = self.ring_ref }, layout:size(), 0 }, true)
  fn:jmp("jeq", rec, 0, fn:loss_label(), false, true)
  local sites = self.sites
  fn:emit { op = "st", size = "w", base = rec, off = 0, src = site.id,
            skip = function() return #sites == 1 end }
  for _, it in ipairs(items) do
    if it.kind ~= "const" then
      local info = layout:field(it.field)
      local v = it.v
      if it.kind == "str" then
        value.write_str(v, rec, info.offset, info.size)
      else
        local t = v[K]
        local r = info.size > (t.size or 8) and value.wide(v) or t.v
        fn:st(value.SIZE[info.size], rec, info.offset, r)
        if it.kind == "ustack" then fn:st("w", rec, layout:field(it.field .. "_pid").offset, t.pid[K].v) end
      end
    end
  end
  fn:call("ringbuf_submit", { rec, 0 })
end

-- printf(fmt, ...) in a body.
function Out:printf(fmt, ...)
  local fn = value.current
  if type(fmt) ~= "string" then fail("trace: printf: the format must be a Lua string") end
  local pieces = parse_format(fmt)
  local nargs = select("#", ...)
  local items, n = {}, 0
  for _, p in ipairs(pieces) do
    if p.conv then
      n = n + 1
      if n > nargs then
        fail(("trace: printf: '%s' has more conversions than the %d values given"):format(fmt, nargs))
      end
      local a = select(n, ...)
      local v = value.val(a, "a printf value")
      local it = item_of(v, "a" .. n)
      if it.kind == "str" and p.conv ~= "s" then
        fail(("trace: printf: value %d is a string; print it with %%s, not %%%s"):format(n, p.conv))
      end
      p.item = it
      if it.kind ~= "const" then items[#items + 1] = it end
    end
  end
  if n < nargs then fail(("trace: printf: '%s' has %d conversions for %d values"):format(fmt, n, nargs)) end
  -- constants are formatted now, once
  local final = {}
  for _, p in ipairs(pieces) do
    if p.item and p.item.kind == "const" and not p.item.fmt then
      local c = p.item.const
      local text = p.item.v[K].kind == "str" and (p.spec .. "s"):format(c) or format_one(p, c)
      final[#final + 1] = { lit = text }
    else
      final[#final + 1] = p
    end
  end
  local site = { id = #self.sites, pieces = final }
  self.sites[#self.sites + 1] = site
  site.layout = record("printf_" .. site.id, items)
  self:write_record(fn, site, site.layout, items)
end

-- emit{name = value, ...} in a body: a record decoded into a table with
-- those names, for the runner's on_event.
function Out:emit(tbl)
  local fn = value.current
  if type(tbl) ~= "table" or value.is(tbl) then fail("trace: emit takes a table {name = value, ...}") end
  local names = {}
  for k in pairs(tbl) do
    if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
      fail("trace: emit: field names must be identifiers, got " .. tostring(k))
    end
    names[#names + 1] = k
  end
  table.sort(names)
  local items = {}
  for _, k in ipairs(names) do
    -- the layout's names are prefixed: the user's may be C keywords
    local it = item_of(value.val(tbl[k], "an emitted value"), "f_" .. k)
    it.name = k
    items[#items + 1] = it
  end
  local site = { id = #self.sites, emit = true, names = names, items = items }
  self.sites[#self.sites + 1] = site
  local stored = {}
  for _, it in ipairs(items) do if it.kind ~= "const" then stored[#stored + 1] = it end end
  site.layout = record("emit_" .. site.id, stored)
  self:write_record(fn, site, site.layout, stored)
end

-- exit() in a body: a record that tells the runner to stop, as bpftrace's
-- exit() does; what came before it is still printed.
-- Exits go through a ring of their own, so that a full event ring cannot
-- lose them; the record is empty.
function Out:exit()
  local fn = value.current
  self.exits = true
  local rec = fn:call("ringbuf_reserve", { { map = self.ctl_ref }, 8, 0 }, true)
  fn:jmp("jeq", rec, 0, fn:loss_label(), false, true)
  fn:call("ringbuf_submit", { rec, 0 })
end

function Out:ctl_ring()
  if not self.ctl then
    local m, msg = require("ebpfdsl.maps").ringbuf(4096, { name = "trace_exit" })
    if not m then error("trace: creating the exit ring buffer: " .. tostring(msg), 0) end
    self.ctl = m
  end
  return self.ctl
end

-- Kernel objects ----------------------------------------------------------------

M.RING = 4 * 1024 * 1024

function Out:ring()
  if not self.ring_map then
    local maps = require "ebpfdsl.maps"
    local size = self.session.ring_size or (#self.sites > 0 and M.RING or 4096)
    local m, msg = maps.ringbuf(size, { name = "trace_events" })
    if not m then error("trace: creating the ring buffer: " .. tostring(msg), 0) end
    self.ring_map = m
  end
  return self.ring_map
end

function Out:loss_map()
  if not self.loss then
    local maps = require "ebpfdsl.maps"
    local m, msg = maps.percpu_array { key = "u32", value = "u64", max_entries = 1, name = "trace_lost" }
    if not m then error("trace: creating the loss map: " .. tostring(msg), 0) end
    self.loss = m
  end
  return self.loss
end

-- User side ----------------------------------------------------------------------

-- The text of one printf record (a table the site's layout decoded).
function Out:text(site, rec)
  local out = {}
  local formatters = self.session.formatters
  for i, p in ipairs(site.pieces) do
    if p.lit then
      out[i] = p.lit
    else
      local it = p.item
      local v
      if it.kind == "const" then v = it.const
      elseif it.kind == "ustack" then v = { id = rec[it.field], pid = rec[it.field .. "_pid"] }
      else v = rec[it.field] end
      out[i] = format_one(p, v, it.fmt, formatters)
    end
  end
  return table.concat(out)
end

-- The table an emit record becomes: its names, formatted values where a
-- formatter was asked for (T.ksym, T.syscall_name...).
function Out:event(site, rec)
  local ev = {}
  local formatters = self.session.formatters
  for _, it in ipairs(site.items) do
    local v
    if it.kind == "const" then v = it.const
    elseif it.kind == "ustack" then v = { id = rec[it.field], pid = rec[it.field .. "_pid"] }
    else v = rec[it.field] end
    if it.fmt then v = formatters(it.fmt, v, "event") end
    ev[it.name] = v
  end
  return ev
end

-- A handler for the reader: records become text on stdout, or events for
-- on_event(ev, text).
function Out:handler(on_event)
  local sites = self.sites
  local write = io.write
  local function deliver(site, rec)
    if site.emit then
      local ev = self:event(site, rec)
      if on_event then on_event(ev) else
        local parts = {}
        for _, k in ipairs(site.names) do parts[#parts + 1] = k .. "=" .. tostring(ev[k]) end
        write(table.concat(parts, " "), "\n")
      end
    else
      local text = self:text(site, rec)
      if on_event then on_event(text) else write(text) end
    end
  end
  if #sites == 1 then
    local site = sites[1]
    return function(rec) deliver(site, rec) end, site.layout
  end
  local unpack = string.unpack
  return function(bytes)
    local site = sites[unpack("=I4", bytes) + 1]
    deliver(site, site.layout:decode(bytes))
  end, nil
end

return M
