-- SPDX-License-Identifier: MIT
-- The tracepoint DSL: a tracepoint's record layout from tracefs
-- (events/<category>/<name>/format) and loads sized to each field.
--
--   local tp = tracepoint.format("syscalls", "sys_enter_openat")
--   tp:offset("filename"), tp:size("filename"), tp:signed("dfd")
--   tp:read_field("r1", "flags", "r6")          -- one sized load
--   tp:read_string("r1", "filename", "r7", 256) -- copy the string it points to
-- A tracepoint program's context (r1) points at that record.
local core = require "ebpfdsl.core"
local dsl = require "ebpfdsl.dsl"
-- (what programs share with kprobes, loaded when a program is made: reading
-- a format needs none of it)
local function kprobe() return require "ebpfdsl.kprobe" end

local M = {}

local type, tostring, ipairs, tonumber = type, tostring, ipairs, tonumber
local tointeger = math.tointeger
local fail = require("ebpfdsl._errors").outside_modules

local REGS, SIZE_NAME = require("ebpfdsl._regs").REGS, require("ebpfdsl._regs").SIZE_NAME

-- r0..r9: the frame pointer holds neither a context nor a result.
local function reg(fname, what, x)
  if type(x) ~= "string" or not REGS[x] or x == "r10" or x == "fp" then
    fail(("%s: %s must be a register (r0..r9), got %s"):format(fname, what,
      type(x) == "string" and ("'" .. x .. "'") or type(x)))
  end
  return x
end

-- One field declaration from a format file:
--   "unsigned short common_type", "const char * filename", "char comm[16]",
--   "__data_loc char[] name", "__rel_loc char[] name", "u8 saddr[4]"
-- -> the field table, or nil when there is no type and name to read.
local function parse_decl(decl)
  local f = {}
  local loc, rest = decl:match("^%s*(__data_loc)%s+(.-)%s*$")
  if not loc then loc, rest = decl:match("^%s*(__rel_loc)%s+(.-)%s*$") end
  if loc then
    f.kind = loc == "__data_loc" and "data_loc" or "rel_loc"
    f.type, f.name = rest:match("^(.-)%s*([%w_]+)%s*$")
  else
    local t, name, count = decl:match("^%s*(.-)%s*([%w_]+)%s*%[%s*([%w_]*)%s*%]%s*$")
    if t then
      f.type, f.name, f.kind = t, name, "array"
      f.count = tonumber(count) -- nil when the length is a macro the file left unexpanded
      if f.count and (math.type(f.count) ~= "integer" or f.count > 0xffffffff) then f.count = nil end
    else
      f.type, f.name = decl:match("^%s*(.-)%s*([%w_]+)%s*$")
      f.kind = f.type and f.type:find("*", 1, true) and "pointer" or "scalar"
    end
  end
  -- a name alone ("int", "comm[16]") is a type without a name, or the reverse
  if not f.name or not f.type or not f.type:find("[%w_]") then return nil end
  return f
end

-- Offsets, sizes and ids as tracefs writes them: decimal, 32-bit. Larger
-- ones would become floats that no method could use.
local function u32(fname, what, digits)
  local v = math.tointeger(tonumber(digits))
  if not v or v > 0xffffffff then fail(("%s: %s %s is out of range (0..4294967295)"):format(fname, what, digits)) end
  return v
end

-- parse(text[, category, name]) -> a format table from a format file's
-- text: {name=, id=, category=, field_list={ordered}, by_name={}}; each field
-- {name=, type=, offset=, size=, signed=, kind=, count=, elem_size=,
-- common=}. kind is "scalar", "pointer", "array", "data_loc" (a u32:
-- length << 16 | offset of the data from the record's start) or "rel_loc"
-- (the same, offset from the end of the field). Text that is not a format
-- raises "tracepoint.parse: ..." at the caller's line.
function M.parse(text, category, name)
  local fname = "tracepoint.parse"
  if type(text) ~= "string" then fail(fname .. ": expected the text of a format file") end
  local id = text:match("\nID:%s*(%d+)")
  local fmt = { name = text:match("name:%s*([^\n]-)%s*\n") or name, id = id and u32(fname, "ID", id),
                category = category, field_list = {}, by_name = {} }
  for decl, off, size, signed in text:gmatch("field:([^;]*);%s*offset:(%d+);%s*size:(%d+);%s*signed:(%d+);") do
    local f = parse_decl(decl)
    if not f then fail(fname .. ": cannot read the field declaration '" .. decl .. "'") end
    if fmt.by_name[f.name] then fail(("%s: two fields are called '%s'"):format(fname, f.name)) end
    local what = "field '" .. f.name .. "': "
    f.decl = decl
    f.offset, f.size, f.signed = u32(fname, what .. "offset", off), u32(fname, what .. "size", size), signed == "1"
    f.common = f.name:sub(1, 7) == "common_"
    if f.kind == "array" then
      if f.count and f.count > 0 then f.elem_size = f.size // f.count else f.count = nil end
    end
    fmt.field_list[#fmt.field_list + 1] = f
    fmt.by_name[f.name] = f
  end
  if #fmt.field_list == 0 then fail(fname .. ": no fields in the format text") end
  return setmetatable(fmt, M.Format)
end

-- tracefs: mounted where it should be, or mounted there now (root).
function M.root()
  local root, msg, errno = core.tracefs_root(true)
  return root, msg, errno
end

local function read_file(path)
  local f, msg, errno = io.open(path, "r")
  if not f then return nil, msg, errno end
  local text = f:read("a")
  f:close()
  return text
end

local cache = {}

local function names_ok(fname, category, name)
  if type(category) ~= "string" or not category:match("^[%w_%-]+$") then
    fail(fname .. ": the category must be a tracepoint category such as 'syscalls', got " .. tostring(category))
  end
  if type(name) ~= "string" or not name:match("^[%w_%-]+$") then
    fail(fname .. ": the name must be a tracepoint name such as 'sys_enter_openat', got " .. tostring(name))
  end
end

-- format(category, name) -> Format | nil, message, errno. Read once and
-- cached; `false` as a third argument reads the file again.
function M.format(category, name, use_cache)
  names_ok("tracepoint.format", category, name)
  local key = category .. "/" .. name
  if use_cache ~= false and cache[key] then return cache[key] end
  local root, msg, errno = M.root()
  if not root then return nil, msg, errno end
  local text
  text, msg, errno = read_file(("%s/events/%s/%s/format"):format(root, category, name))
  if not text then return nil, ("tracepoint %s:%s: %s"):format(category, name, msg), errno end
  local fmt = M.parse(text, category, name)
  cache[key] = fmt
  return fmt
end

-- exists(category, name) -> boolean
function M.exists(category, name)
  names_ok("tracepoint.exists", category, name)
  local root = M.root()
  if not root then return false end
  local f = io.open(("%s/events/%s/%s/format"):format(root, category, name))
  if f then f:close() return true end
  return false
end

-- list([category]) -> sorted {"category:name", ...} or, with a category,
-- its tracepoint names; nil, message, errno without tracefs.
function M.list(category)
  local root, msg, errno = M.root()
  if not root then return nil, msg, errno end
  local text
  text, msg, errno = read_file(root .. "/available_events")
  if not text then return nil, msg, errno end
  local out = {}
  for cat, name in text:gmatch("([^:\n]+):([^\n]+)") do
    if category == nil then out[#out + 1] = cat .. ":" .. name
    elseif cat == category then out[#out + 1] = name end
  end
  table.sort(out)
  return out
end

-- Section names as libbpf spells them: "tracepoint/<category>/<name>".
function M.section_name(category, name)
  names_ok("tracepoint.section_name", category, name)
  return "tracepoint/" .. category .. "/" .. name
end

-- program_info(category, name, prog_name, insns) -> {name=, section=,
-- type="tracepoint", category=, tracepoint=, insns=}; programs.load takes
-- it as it is (see kprobe.program_info).
function M.program_info(category, name, prog_name, insns)
  local info = kprobe()._make_info("tracepoint.program_info", "tracepoint", M.section_name(category, name), nil,
    prog_name, insns)
  local hidden = getmetatable(info).__index
  hidden.category, hidden.tracepoint = category, name
  return info
end

-- Format objects --------------------------------------------------------

local Format = {}
Format.__index = Format
Format.__name = "ebpfdsl.TracepointFormat"
M.Format = Format

function Format:__tostring()
  local lines = { ("tracepoint %s:%s (id %s)"):format(tostring(self.category), tostring(self.name),
    tostring(self.id)) }
  for _, f in ipairs(self.field_list) do
    lines[#lines + 1] = ("  %-4d %-3d %s%s"):format(f.offset, f.size, f.decl, f.signed and " (signed)" or "")
  end
  return table.concat(lines, "\n")
end

local function field(self, fname, name)
  if getmetatable(self) ~= Format then
    fail(fname .. ": call it on a format, as fmt:" .. fname:match("[%w_]+$") .. "(...)")
  end
  local f = self.by_name[name]
  if not f then
    local names = {}
    for _, x in ipairs(self.field_list) do if not x.common then names[#names + 1] = x.name end end
    fail(("%s: %s:%s has no field '%s' (fields: %s)"):format(fname, tostring(self.category), tostring(self.name),
      tostring(name), table.concat(names, ", ")))
  end
  return f
end

-- A tracepoint program may not read the record's first 8 bytes (the
-- common_* fields: tp_prog_is_valid_access in kernel/trace/bpf_trace.c
-- refuses offsets below sizeof(void *)), nor a field at an offset its
-- size does not divide.
local function readable(fname, f)
  if f.offset < 8 then
    fail(("%s: %s lies in the record's first 8 bytes, which the kernel does not let tracepoint programs " ..
      "read (helpers such as get_current_pid_tgid give the same facts)"):format(fname, f.name))
  end
end

-- The field's table (a copy), its offset, size and signedness.
function Format:field(name)
  local f = field(self, "field", name)
  local c = {}
  for k, v in pairs(f) do c[k] = v end
  return c
end
function Format:offset(name) return field(self, "offset", name).offset end
function Format:size(name) return field(self, "size", name).size end
function Format:signed(name) return field(self, "signed", name).signed end

-- Field names in record order; fmt:fields(true) leaves out common_*.
function Format:fields(skip_common)
  local out = {}
  for _, f in ipairs(self.field_list) do
    if not (skip_common and f.common) then out[#out + 1] = f.name end
  end
  return out
end

-- read_field(ctx_reg, field, dst[, opts]) -> a list loading the field:
--   scalars     a load of the field's size (1, 2, 4 or 8 bytes); with
--               opts.sign_extend a signed field is sign-extended (ldsx,
--               cpu v4, Linux 6.6+), otherwise zero-extended
--   pointers    the pointer value (8 bytes); fmt:read_string copies what
--               it points to
--   __data_loc  dst = the address of the data inside the record (the loc
--   __rel_loc   word's offset part added to ctx), ready for
--               bpf_probe_read_kernel(_str); opts.raw gives the loc word
--   arrays      an error: use fmt:read_string or fmt:field_addr
function Format:read_field(ctx_reg, name, dst, opts)
  local fname = "read_field"
  local f = field(self, fname, name)
  reg(fname, "ctx_reg", ctx_reg)
  reg(fname, "dst", dst)
  opts = opts or {}
  readable(fname, f)
  if f.kind == "data_loc" or f.kind == "rel_loc" then
    if opts.raw then return { dsl.ldx("w", dst, ctx_reg, f.offset) } end
    if dst == ctx_reg then fail(fname .. ": dst must differ from ctx_reg for the address of " .. f.name) end
    local out = { dsl.ldx("w", dst, ctx_reg, f.offset), dsl["and"](dst, 0xffff) }
    if f.kind == "rel_loc" then out[#out + 1] = dsl.add(dst, f.offset + f.size) end
    out[#out + 1] = dsl.add(dst, ctx_reg)
    return out
  end
  if f.kind == "array" then
    fail(("%s: %s is an array of %d bytes; copy it with read_string or take its address with field_addr")
      :format(fname, f.name, f.size))
  end
  local sz = SIZE_NAME[f.size]
  if not sz then fail(("%s: %s has size %d, which no load has"):format(fname, f.name, f.size)) end
  if f.offset % f.size ~= 0 then
    fail(("%s: %s (%d bytes at offset %d) is misaligned, which the kernel refuses to load"):format(fname, f.name,
      f.size, f.offset))
  end
  if opts.sign_extend and f.signed and f.size < 8 then return { dsl.ldsx(sz, dst, ctx_reg, f.offset) } end
  return { dsl.ldx(sz, dst, ctx_reg, f.offset) }
end

-- read_fields(ctx_reg, {{"dfd", "r6"}, {"flags", "r7"}}[, opts]) -> a list.
-- A read into ctx_reg itself goes last.
function Format:read_fields(ctx_reg, list, opts)
  if type(list) ~= "table" then fail("read_fields: expected a list such as {{\"dfd\", \"r6\"}}") end
  local out, last = {}, nil
  for _, b in ipairs(list) do
    if type(b) ~= "table" then fail("read_fields: each binding is {field, register}") end
    if b[2] == ctx_reg then
      if last then fail("read_fields: two fields are read into the context register " .. ctx_reg) end
      last = b
    else
      for _, x in ipairs(self:read_field(ctx_reg, b[1], b[2], opts)) do out[#out + 1] = x end
    end
  end
  if last then for _, x in ipairs(self:read_field(ctx_reg, last[1], last[2], opts)) do out[#out + 1] = x end end
  return out
end

-- field_addr(ctx_reg, field, dst) -> a list: dst = ctx + the field's offset
-- (for helpers that copy an array field out of the record).
function Format:field_addr(ctx_reg, name, dst)
  local f = field(self, "field_addr", name)
  reg("field_addr", "ctx_reg", ctx_reg)
  reg("field_addr", "dst", dst)
  if dst == ctx_reg then return { dsl.add(dst, f.offset) } end
  return { dsl.mov(dst, ctx_reg), dsl.add(dst, f.offset) }
end

-- data_loc(ctx_reg, field, ptr_dst, len_dst) -> a list splitting a
-- __data_loc/__rel_loc field: ptr_dst = the data's address, len_dst = its
-- length in bytes.
function Format:data_loc(ctx_reg, name, ptr_dst, len_dst)
  local fname = "data_loc"
  local f = field(self, fname, name)
  if f.kind ~= "data_loc" and f.kind ~= "rel_loc" then
    fail(("%s: %s is not a __data_loc or __rel_loc field"):format(fname, f.name))
  end
  reg(fname, "ctx_reg", ctx_reg)
  reg(fname, "ptr_dst", ptr_dst)
  reg(fname, "len_dst", len_dst)
  if ptr_dst == ctx_reg or len_dst == ctx_reg or ptr_dst == len_dst then
    fail(fname .. ": ctx_reg, ptr_dst and len_dst must be three registers")
  end
  local out = { dsl.ldx("w", len_dst, ctx_reg, f.offset), dsl.mov32(ptr_dst, len_dst), dsl["and"](ptr_dst, 0xffff) }
  if f.kind == "rel_loc" then out[#out + 1] = dsl.add(ptr_dst, f.offset + f.size) end
  out[#out + 1] = dsl.add(ptr_dst, ctx_reg)
  out[#out + 1] = dsl.rsh(len_dst, 16)
  return out
end

-- read_string(ctx_reg, field, buf_reg, size[, opts]) -> a list copying the
-- NUL-terminated string a field holds into size bytes at buf_reg (stack,
-- map value or ring-buffer record); r0 = its length with the NUL, or a
-- negative errno. Pointer fields are read with bpf_probe_read_user_str in
-- the syscalls category (the pointers come from user space) and
-- bpf_probe_read_kernel_str elsewhere; opts.user = true/false decides.
-- __data_loc/__rel_loc and char array fields are read from the record.
-- r0-r5 are clobbered; neither ctx_reg nor buf_reg may be r0.
function Format:read_string(ctx_reg, name, buf_reg, size, opts)
  local fname = "read_string"
  local f = field(self, fname, name)
  readable(fname, f)
  reg(fname, "ctx_reg", ctx_reg)
  if buf_reg ~= "r10" then reg(fname, "buf_reg", buf_reg) end
  if ctx_reg == "r0" or buf_reg == "r0" then fail(fname .. ": r0 holds the source address; use other registers") end
  local n = type(size) == "number" and tointeger(size)
  if not n or n <= 0 then fail(fname .. ": size must be a positive integer") end
  opts = opts or {}
  local out, helper
  if f.kind == "pointer" then
    out = { dsl.ldx("dw", "r0", ctx_reg, f.offset) }
    local user = opts.user
    if user == nil then user = self.category == "syscalls" end
    helper = user and "probe_read_user_str" or "probe_read_kernel_str"
  elseif f.kind == "data_loc" or f.kind == "rel_loc" then
    out = self:read_field(ctx_reg, name, "r0")
    helper = "probe_read_kernel_str"
  elseif f.kind == "array" then
    out = { dsl.mov("r0", ctx_reg), dsl.add("r0", f.offset) }
    if n > f.size then n = f.size end
    helper = "probe_read_kernel_str"
  else
    fail(("%s: %s is a %d-byte number, not a string"):format(fname, f.name, f.size))
  end
  if buf_reg ~= "r1" then out[#out + 1] = dsl.mov("r1", buf_reg) end
  out[#out + 1] = dsl.mov("r2", n)
  out[#out + 1] = dsl.mov("r3", "r0")
  out[#out + 1] = dsl.call(helper)
  return out
end

-- section_name() and program_info(prog_name, insns) for this tracepoint.
function Format:section_name() return M.section_name(self.category, self.name) end
function Format:program_info(prog_name, insns) return M.program_info(self.category, self.name, prog_name, insns) end

-- The integer type name structs knows for a field of a size and sign.
local INT_TYPE = { [1] = "u8", [2] = "u16", [4] = "u32", [8] = "u64" }

-- layout() -> the record as an ebpfdsl.structs layout (needs
-- ebpfdsl.structs): packed, with explicit padding wherever the format
-- leaves a hole, so every offset is the kernel's. Integers get the size
-- the format gives (syscall records widen `int` to 8 bytes), signed ones
-- an iN type; pointers are "ptr"; char arrays "char"[n]; other arrays of
-- 1/2/4/8-byte elements their integer type [n]; __data_loc/__rel_loc the
-- u32 loc word.
function Format:layout(layout_name)
  local structs = require "ebpfdsl.structs"
  local fields, at, pads = {}, 0, 0
  for _, f in ipairs(self.field_list) do
    if f.offset < at then fail("layout: field " .. f.name .. " overlaps the one before it") end
    if f.offset > at then
      pads = pads + 1
      fields[#fields + 1] = { "__pad" .. pads, "u8", f.offset - at }
    end
    local t
    if f.kind == "pointer" then
      t = { f.name, "ptr" }
    elseif f.kind == "data_loc" or f.kind == "rel_loc" then
      t = { f.name, "u32" }
    elseif f.kind == "array" then
      local elem = f.elem_size or 1
      local count = f.count or f.size
      if f.type:match("char$") then t = { f.name, "char", f.size }
      elseif INT_TYPE[elem] then t = { f.name, (f.signed and "i" or "u") .. INT_TYPE[elem]:sub(2), count }
      else t = { f.name, "u8", f.size } end
    elseif INT_TYPE[f.size] then
      t = { f.name, (f.signed and "i" or "u") .. INT_TYPE[f.size]:sub(2) }
    else
      t = { f.name, "u8", f.size }
    end
    fields[#fields + 1] = t
    at = f.offset + f.size
  end
  return structs.define(layout_name or (tostring(self.category) .. "_" .. tostring(self.name)), fields,
    { packed = true })
end

-- tracepoint.layout(category, name) -> the same, reading the format first.
function M.layout(category, name)
  local fmt, msg, errno = M.format(category, name)
  if not fmt then return nil, msg, errno end
  return fmt:layout()
end

-- read_field(fmt, ctx_reg, field, dst[, opts]): the method as a function.
function M.read_field(fmt, ...) return Format.read_field(fmt, ...) end
function M.read_string(fmt, ...) return Format.read_string(fmt, ...) end

-- build_program{format=fmt, ctx_reg=, fields={{"dfd", "r6"}}, body=,
-- return_value=0} -> a list: `mov ctx_reg, r1` when ctx_reg is given, the
-- field reads from r1, the body, `mov r0, return_value`, `exit`.
function M.build_program(spec)
  local fname = "tracepoint.build_program"
  if type(spec) ~= "table" or getmetatable(spec.format) ~= Format then
    fail(fname .. ": expects {format = tracepoint.format(category, name), ...}")
  end
  local out = {}
  if spec.ctx_reg ~= nil and spec.ctx_reg ~= "r1" then out[1] = dsl.mov(reg(fname, "ctx_reg", spec.ctx_reg), "r1") end
  for _, x in ipairs(spec.format:read_fields("r1", spec.fields or {})) do out[#out + 1] = x end
  kprobe()._flatten(spec.body, out)
  local rv = spec.return_value == nil and 0 or spec.return_value
  if rv ~= "r0" then out[#out + 1] = dsl.mov("r0", rv) end
  out[#out + 1] = dsl.exit()
  return out
end

return M
