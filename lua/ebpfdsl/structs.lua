-- SPDX-License-Identifier: MIT
-- Event structs: one layout gives the BPF side its sized stores and loads
-- at the right offsets, and the user side its C-speed decoder and encoder.
--
-- A layout (ebpfdsl.Layout, from structs.define) has these methods:
--   E:size(), E:align(), E:name(), E:packed(), #E (the size)
--   E:offset(path), E:field_size(path), E:field_type(path): paths name
--     fields ("pid"), nested fields ("hdr.len") and array elements
--     ("args[2]", "hdrs[1].len"), indices from 0 as in C; offsets count
--     from the start of E. field_type gives "u32", "char" (the element
--     type of an array), "pad" or "struct hdr".
--   E:field(path) -> {name, type, offset, size, count (arrays only),
--     elem_size, align, signed, layout (nested ones)}; E:has(path)
--   E:fields() -> that information for each field in order, padding too
--   E:decode(bytes[, offset[, into]]) -> table: offset in bytes from 0;
--     `into` is a table to fill instead of a new one. Char arrays become
--     strings cut at NUL, u8 arrays strings of their full size, other
--     arrays lists, nested layouts tables, u64/ptr integers with the same
--     64 bits, bool booleans; padding is left out.
--   E:decode_many(bytes[, count[, stride[, offset]]]) -> list of tables
--   E:encode(tbl) -> bytes: missing fields are zero; a value that does not
--     fit its field, or a key that names no field, raises.
--   tostring(E): the C struct it equals, nested definitions first.
-- Maps and ring-buffer readers take any object with size, encode and
-- decode, so a layout serves as a key, a value or an event.
local core = require "ebpfdsl.core"
local dsl = require "ebpfdsl.dsl"
local errors = require "ebpfdsl._errors"

local M = {}

local type, tointeger, ipairs, pairs = type, math.tointeger, ipairs, pairs

-- Errors blame the first caller outside this file: the user's line.
local blame = errors.outside_file(debug.getinfo(1, "S").source)

local function shown(x)
  if type(x) == "string" then return "'" .. x .. "'" end
  return type(x)
end

-- The scalar types a field may have ("u8" .. "ptr", "pad"), in order.
M.types = core.layout_types()

-- define(name, fields, opts) -> ebpfdsl.Layout
--   fields: { {"timestamp","u64"}, {"comm","char",16}, {"hdr", Other},
--             {"_pad","pad",3} }; opts: { packed = true }
-- The default is the C layout of the target (natural alignment, tail
-- padding: what gcc gives the same struct); packed is clj-ebpf's.
function M.define(name, fields, opts)
  if type(name) ~= "string" then blame("structs.define: argument 1 must be a name, got " .. shown(name)) end
  if type(fields) ~= "table" then
    blame("structs.define: argument 2 must be a list of fields, got " .. shown(fields))
  end
  if opts ~= nil and type(opts) ~= "table" then
    blame("structs.define: argument 3 must be an options table, got " .. shown(opts))
  end
  local ok, layout = pcall(core.layout, name, fields, opts)
  if not ok then blame("structs.define: " .. tostring(layout)) end
  return layout
end
M.event = M.define

-- The kernel's special structs, as <linux/bpf.h> lays them out: the
-- verifier finds them in a map value's BTF by name and size, so a layout
-- with one as a field gives a map (maps.create writes BTF for layouts)
-- values with a spin lock (spin_lock/spin_unlock) or a timer (timer_init,
-- timer_set_callback, timer_start).
M.bpf_spin_lock = M.define("bpf_spin_lock", { { "val", "u32" } })
M.bpf_timer = M.define("bpf_timer", { { "__opaque", "u64", 2 } })

function M.is_layout(x)
  local mt = getmetatable(x)
  return type(x) == "userdata" and type(mt) == "table" and mt.__name == "ebpfdsl.Layout"
end

local function layout_arg(fname, n, E)
  if not M.is_layout(E) then
    blame(("%s: argument %d must be a layout from structs.define, got %s"):format(fname, n, shown(E)))
  end
  return E
end

-- The field at path as E:field gives it, or an error naming the function.
local function resolve(fname, E, path)
  layout_arg(fname, 2, E)
  if type(path) ~= "string" then blame(("%s: argument 3 must be a field name, got %s"):format(fname, shown(path))) end
  local ok, info = pcall(E.field, E, path)
  if not ok then blame(("%s: %s"):format(fname, tostring(info))) end
  return info
end

-- The clj-ebpf names for the queries.
function M.event_size(E) return layout_arg("event_size", 1, E):size() end
function M.event_field_offset(E, f) return resolve("event_field_offset", E, f).offset end
function M.event_field_size(E, f) return resolve("event_field_size", E, f).size end
function M.event_field_type(E, f) return resolve("event_field_type", E, f).type end
-- The field names in order, as clj-ebpf's event-fields gives them; E:fields()
-- has the full per-field information.
function M.event_fields(E)
  local names = {}
  for i, f in ipairs(layout_arg("event_fields", 1, E):fields()) do names[i] = f.name end
  return names
end

-- ---------------------------------------------------------------------
-- BPF side: instructions that store into and load from a record whose
-- address is in a register. `ptr` is a register ("r6") or a register and
-- a displacement ({"fp", -64}: the record starts 64 bytes below fp).
-- ---------------------------------------------------------------------

local REGS, SIZE_NAME = require("ebpfdsl._regs").REGS, require("ebpfdsl._regs").SIZE_NAME

local function reg_arg(fname, n, r)
  if type(r) ~= "string" or not REGS[r] then
    blame(("%s: argument %d must be a register (r0..r10 or fp), got %s"):format(fname, n, shown(r)))
  end
  return r
end

local function ptr_arg(fname, ptr)
  if type(ptr) == "table" then
    local base = type(ptr[2]) == "number" and tointeger(ptr[2])
    if not base then blame(fname .. ": argument 1 must be a register or {register, displacement}") end
    return reg_arg(fname, 1, ptr[1]), base
  end
  return reg_arg(fname, 1, ptr), 0
end

-- An instruction offset is 16 bits, signed.
local function insn_off(fname, info, base)
  local off = base + info.offset
  if off < -32768 or off > 32767 then
    blame(("%s: field '%s' at offset %d is out of reach of a 16-bit instruction offset; use field_addr")
      :format(fname, info.name, off))
  end
  return off
end

-- A scalar (or one array element) that one load or store moves.
local function scalar(fname, E, path)
  local info = resolve(fname, E, path)
  if info.count then
    blame(("%s: '%s' of struct %s is an array (%s[%d]): a scalar store or load moves one value; name an element "
      .. "('%s[0]'), or use zero_field or field_addr"):format(fname, path, E:name(), info.type, info.count, path))
  end
  if info.layout then
    blame(("%s: '%s' of struct %s is a %s: name one of its fields ('%s.%s')"):format(fname, path, E:name(),
      info.type, path, info.layout:fields()[1].name))
  end
  if info.type == "pad" then blame(("%s: '%s' of struct %s is padding"):format(fname, path, E:name())) end
  return info
end

-- store_field(ptr, E, field, src): *(size *)(ptr + offset) = src, sized
-- by the field. Name an array element as "args[2]".
function M.store_field(ptr, E, field, src)
  local reg, base = ptr_arg("store_field", ptr)
  local info = scalar("store_field", E, field)
  return dsl.stx(SIZE_NAME[info.size], reg, insn_off("store_field", info, base), reg_arg("store_field", 4, src))
end

-- BPF runs in the byte order of the host that loads the program (s390x
-- is big-endian), which is the one this Lua runs on.
local LITTLE_ENDIAN = string.pack("=I4", 1):byte() == 1

-- store_imm(ptr, E, field, imm): a constant, checked against the field's
-- type. A 64-bit constant beyond the 32-bit signed immediate is two
-- 32-bit stores, each half where the host's byte order puts it.
function M.store_imm(ptr, E, field, imm)
  local reg, base = ptr_arg("store_imm", ptr)
  local info = scalar("store_imm", E, field)
  if type(imm) == "boolean" and info.type == "bool" then imm = imm and 1 or 0 end
  if type(imm) == "string" and info.type == "char" and #imm == 1 then imm = imm:byte() end
  local v = type(imm) == "number" and tointeger(imm)
  if not v then blame(("store_imm: argument 4 must be an integer, got %s"):format(shown(imm))) end
  -- the check E:encode makes
  local fits, range = core.scalar_fits(info.type, v)
  if not fits then
    blame(("store_imm: %d does not fit field '%s' of struct %s (%s: %s)"):format(v, field, E:name(), info.type, range))
  end
  local off = insn_off("store_imm", info, base)
  if info.size == 8 and (v < -0x80000000 or v > 0x7fffffff) then
    insn_off("store_imm", { name = info.name, offset = info.offset + 4 }, base)
    local lo, hi = v & 0xffffffff, (v >> 32) & 0xffffffff
    if not LITTLE_ENDIAN then lo, hi = hi, lo end
    return { dsl.st("w", reg, off, lo), dsl.st("w", reg, off + 4, hi) }
  end
  return dsl.st(SIZE_NAME[info.size], reg, off, v)
end

-- Zero stores over [from, to) of a record, each as wide as the absolute
-- alignment allows: the record's address is taken to be 8-aligned, as
-- ring-buffer records, map values and 8-aligned stack slots are.
local function zero_range(fname, reg, from, to, name)
  local out = {}
  local at = from
  while at < to do
    local w = 8
    while w > 1 and (at % w ~= 0 or at + w > to) do w = w // 2 end
    if at < -32768 or at > 32767 then
      blame(("%s: '%s' reaches offset %d, out of reach of a 16-bit instruction offset"):format(fname, name, at))
    end
    out[#out + 1] = dsl.st(SIZE_NAME[w], reg, at, 0)
    at = at + w
  end
  return out
end

-- zero_field(ptr, E, field): zeroes the whole field, arrays, strings and
-- nested structs included. Without a field, the whole record.
function M.zero_field(ptr, E, field)
  local reg, base = ptr_arg("zero_field", ptr)
  if field == nil then
    layout_arg("zero_field", 2, E)
    return zero_range("zero_field", reg, base, base + E:size(), E:name())
  end
  local info = resolve("zero_field", E, field)
  return zero_range("zero_field", reg, base + info.offset, base + info.offset + info.size, field)
end

-- field_addr(dst, ptr, E, field): dst = ptr + offset, for helpers such as
-- get_current_comm that write into a field.
function M.field_addr(dst, ptr, E, field)
  reg_arg("field_addr", 1, dst)
  local reg, base = ptr_arg("field_addr", ptr)
  local info = resolve("field_addr", E, field)
  local out = {}
  if dst ~= reg then out[#out + 1] = dsl.mov(dst, reg) end
  local off = base + info.offset
  if off ~= 0 then out[#out + 1] = dsl.add(dst, off) end
  return out
end

-- load_field(dst, ptr, E, field[, opts]): dst = the field, sized; signed
-- types narrower than 64 bits sign-extend with ldsx (cpu v4), or with a
-- shift pair when opts.cpu < 4.
function M.load_field(dst, ptr, E, field, opts)
  reg_arg("load_field", 1, dst)
  local reg, base = ptr_arg("load_field", ptr)
  local info = scalar("load_field", E, field)
  local off, sz = insn_off("load_field", info, base), SIZE_NAME[info.size]
  if not info.signed or info.size == 8 then return dsl.ldx(sz, dst, reg, off) end
  local cpu = opts and opts.cpu or 4
  if cpu >= 4 then return dsl.ldsx(sz, dst, reg, off) end
  local shift = 64 - 8 * info.size
  return { dsl.ldx(sz, dst, reg, off), dsl.lsh(dst, shift), dsl.arsh(dst, shift) }
end

-- store_fields(ptr, E, {pid={reg="r7"}, protocol={imm=6}, comm={zero=true}})
-- in field order; a bare register name or integer works too.
function M.store_fields(ptr, E, values)
  local reg, base = ptr_arg("store_fields", ptr)
  layout_arg("store_fields", 2, E)
  if type(values) ~= "table" then
    blame("store_fields: argument 3 must be a table {field = {reg=} | {imm=} | {zero=true}}, got " .. shown(values))
  end
  local items = {}
  for name, v in pairs(values) do
    if type(name) ~= "string" then blame("store_fields: field names must be strings, got " .. shown(name)) end
    items[#items + 1] = { name = name, info = resolve("store_fields", E, name), v = v }
  end
  table.sort(items, function(a, b)
    if a.info.offset ~= b.info.offset then return a.info.offset < b.info.offset end
    return a.name < b.name
  end)
  local p = base == 0 and reg or { reg, base }
  local out = {}
  for _, it in ipairs(items) do
    local v = it.v
    if type(v) == "string" then
      v = { reg = v }
    elseif type(v) == "number" or type(v) == "boolean" then
      v = { imm = v }
    end
    if type(v) ~= "table" then
      blame(("store_fields: value for '%s' must be {reg=}, {imm=} or {zero=true}, got %s"):format(it.name, shown(v)))
    end
    if v.reg ~= nil then
      out[#out + 1] = M.store_field(p, E, it.name, v.reg)
    elseif v.imm ~= nil then
      out[#out + 1] = M.store_imm(p, E, it.name, v.imm)
    elseif v.zero then
      out[#out + 1] = M.zero_field(p, E, it.name)
    else
      blame(("store_fields: value for '%s' must be {reg=}, {imm=} or {zero=true}"):format(it.name))
    end
  end
  return out
end

-- The clj-ebpf names.
M.store_event_field = M.store_field
M.store_event_imm = M.store_imm
M.zero_event_field = M.zero_field
M.store_event_fields = M.store_fields
M.load_event_field = M.load_field
M.event_field_addr = M.field_addr

return M
