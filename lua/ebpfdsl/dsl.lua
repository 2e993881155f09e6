-- SPDX-License-Identifier: MIT
-- The instruction DSL: constructors that build plain instruction tables
-- ({op="add", dst="r1", imm=5}), and assemble/disassemble/dump over C.
local core = require "ebpfdsl.core"

local M = {}

local type, select = type, select

-- Errors blame the first caller outside this file, _args.lua and the C
-- constructors that call the words below (C_WORDS, filled at the end):
-- the user's line.
local C_WORDS = {}
local check = require("ebpfdsl._args").checks(debug.getinfo(1, "S").source, C_WORDS)
local blame, argerr, int = check.blame, check.argerr, check.int

-- =====================================================================
-- The words, one per row of the ISA table (core.isa()), made from the
-- arguments its shape takes (row.words, one letter each, from the shape
-- rows in csrc/core/isa.c; lua_ctor.c's C words read them too): LETTERS says how
-- a letter is checked and stored in the instruction table.
-- =====================================================================

-- Setters: set(t, word, n, x) stores argument n (x) in t, or raises.
local function reg(field)
  return function(t, w, n, x) t[field] = check.reg(w, n, x) end
end
local function integer(field)
  return function(t, w, n, x) t[field] = int(w, n, x) end
end
local function optint(field) -- 0 when left out
  return function(t, w, n, x) t[field] = check.optint(w, n, x) end
end
-- a label name (target) or a distance, kept in `field` (off, or imm for
-- local calls and ld_func)
local function goes_to(field)
  return function(t, w, n, x)
    local k, v = check.goes_to(w, n, x)
    t[k == "off" and field or k] = v
  end
end

-- Helper ids come from the kernel's header via the C core; what a name or
-- an id gave is kept (the C lookup compares names one by one), only what
-- was found (an error is raised again each time).
local helper_seen = {}
local function helper_ref(w, h)
  local seen = helper_seen[h]
  if seen then return seen[1], seen[2] end
  local id
  if type(h) == "number" then
    id = int(w, 1, h)
  elseif type(h) == "string" then
    local msg
    id, msg = core.helper_id(h)
    if not id then blame(w .. ": " .. msg) end
  else
    argerr(w, 1, "a helper name or id", h)
  end
  helper_seen[h] = { id, core.helper_name(id) }
  return id, core.helper_name(id)
end

-- a map object or fd: its fd in imm, the object kept (programs.load
-- keeps it alive)
local function map_or_fd(t, w, n, m)
  if type(m) == "number" then t.imm = int(w, n, m) return end
  m = check.map(w, n, m)
  t.imm, t.map = m:fd(), m
end

local LETTERS = {
  d = reg "dst", s = reg "src",
  z = function(t, w, n, x) t.size = check.size(w, n, x) end,
  o = integer "off", O = optint "off", i = integer "imm", I = optint "imm", b = integer "bits",
  V = optint "value_offset",
  x = function(t, w, n, x) -- src or imm
    local k, v = check.source(w, n, x)
    t[k] = v
  end,
  g = goes_to "off", G = goes_to "imm",
  -- call("ktime_get_ns"), call("bpf_ktime_get_ns"), call(5)
  h = function(t, w, _, h) t.imm, t.helper = helper_ref(w, h) end,
  -- a map where the row's pseudo source is a map's (BPF_PSEUDO_MAP_FD,
  -- BPF_PSEUDO_MAP_VALUE: aux 1, 2), else (map indexes, BTF ids) an integer
  m = function(row) return (row.aux == 1 or row.aux == 2) and map_or_fd or integer "imm" end,
}

-- The word `name` taking the arguments `args` (setters) sets.
local function word(name, args)
  local nargs = #args
  return function(...)
    local t = { op = name }
    for i = 1, nargs do args[i](t, name, i, (select(i, ...))) end
    return t
  end
end

-- The shapes whose words do more than store their arguments.
local SPECIAL = {}

-- kernel function by name, found in the running kernel's BTF (vmlinux,
-- then modules: ebpfdsl.kfuncs), or by BTF id; off indexes fd_array for
-- module BTF (a name sets it, and programs.load passes the array)
function SPECIAL.call_kfunc(name)
  return function(btf_id, index)
    if type(btf_id) == "string" then
      local k, msg = require("ebpfdsl.kfuncs").find(btf_id)
      if not k then blame(name .. ": " .. msg) end
      return { op = name, imm = k.id, off = k.off ~= 0 and k.off or nil }
    end
    return { op = name, imm = int(name, 1, btf_id), off = index and int(name, 2, index) }
  end
end

-- addr_space_cast(dst, src, dst_as, src_as): dst = src cast from address
-- space src_as to dst_as (0 the kernel's, 1 an arena's: addr_space_cast(
-- "r1", "r1", 0, 1) makes an arena pointer one the kernel can use). imm
-- holds both, src_as | dst_as << 16, as the instruction encodes them.
function SPECIAL.addr_space_cast(name)
  return function(d, s, dst_as, src_as)
    local da, sa = int(name, 3, dst_as), int(name, 4, src_as)
    if da < 0 or da > 0xffff then argerr(name, 3, "an address space 0..65535", da) end
    if sa < 0 or sa > 0xffff then argerr(name, 4, "an address space 0..65535", sa) end
    return { op = name, dst = check.reg(name, 1, d), src = check.reg(name, 2, s), imm = sa | (da << 16) }
  end
end

-- Any bytes at all, for what no row encodes.
function SPECIAL.raw(name)
  return word(name, { integer "code", optint "dst", optint "src", optint "off", optint "imm" })
end

for _, row in ipairs(core.isa()) do
  local sig = row.words
  if sig then
    local args = {}
    for c in sig:gmatch(".") do
      args[#args + 1] = c == "m" and LETTERS.m(row) or LETTERS[c]
    end
    M[row.name] = word(row.name, args)
  else
    M[row.name] = SPECIAL[row.shape](row.name)
  end
end

function M.label(name) return { op = "label", name = check.name("label", 1, name) } end


-- The common words in C (csrc/lua/lua_ctor.c), made from the ISA rows by
-- shape: the same tables, without a Lua frame. Each calls the word above
-- it replaces for anything but the usual arguments.
core.constructors(M)
for _, f in pairs(M) do
  if type(f) == "function" and debug.getinfo(f, "S").what == "C" then C_WORDS[f] = true end
end

-- The C side's errors name the instruction and label; re-raised here they
-- also carry the user's line instead of this file's.
local function checked(f, ...)
  local ok, a, b, c = pcall(f, ...)
  if not ok then blame(a) end
  return a, b, c
end

-- Assembly: a list (nested lists and labels allowed) to bytes; returns
-- the bytes, the labels {[slot] = name} and the maps the program names.
function M.assemble(list, opts)
  if type(list) ~= "table" then argerr("assemble", 1, "a list of instructions", list) end
  return checked(core.assemble, list, opts)
end

-- Bytes back to tables, with labels L<slot> made up for jump targets.
function M.disassemble(bytes, labels)
  if type(bytes) ~= "string" then argerr("disassemble", 1, "a string of program bytes", bytes) end
  return (checked(core.disassemble, bytes, labels))
end

-- Text in LLVM's syntax, one instruction a line; a list keeps its labels.
-- opts.bytes = true also shows each instruction's bytes.
local DUMP_OPTS = { cpu = true, relax = true, bytes = true }
function M.dump(x, opts)
  if opts ~= nil and type(opts) ~= "table" then argerr("dump", 2, "a table of options", opts) end
  for k in pairs(opts or {}) do
    if not DUMP_OPTS[k] then blame(("dump: unknown option '%s' (bytes, cpu, relax)"):format(tostring(k))) end
  end
  if type(x) == "table" then
    local bytes, labels = checked(core.assemble, x, opts and { cpu = opts.cpu, relax = opts.relax })
    return (checked(core.text, bytes, labels, opts))
  end
  if type(x) ~= "string" then argerr("dump", 1, "a list of instructions or program bytes", x) end
  return (checked(core.text, x, nil, opts))
end

M.helper_id = core.helper_id
M.helper_name = core.helper_name
M.helpers = core.helpers

-- =====================================================================
-- Builders: b = dsl.builder([opts]); b:mov("r1", 5); b:label("out") ...
-- records, straight into an assembler, what dsl.assemble would read from
-- the tables dsl.mov("r1", 5), dsl.label("out") ... build: every word of
-- this module, with its arguments. b:emit(list) takes instruction tables
-- and lists too; b:assemble() gives what dsl.assemble gives. The common
-- words (ALU, jumps, loads and stores, lddw, call, exit, label) are C
-- methods; the others, and arguments those leave aside, go through the
-- word's constructor here, so that each says what dsl.<word> says.
-- =====================================================================

-- Names of this module that are no instruction word.
local NOT_WORDS = { assemble = true, disassemble = true, dump = true, helper_id = true,
                    helper_name = true, helpers = true, mnemonics = true, builder = true }

-- Errors of a word used through a builder, at the caller's line: the C
-- method between is passed over.
local blame_c = require("ebpfdsl._errors").outside_file(debug.getinfo(1, "S").source, true)

-- b:<name>(...) as the table path does it.
local function build_slow(b, name, ...)
  local ok, x = pcall(M[name], ...)
  if not ok then blame_c(x) end
  ok, x = pcall(b.emit, b, x)
  if not ok then blame_c(x) end
  return b
end

-- The builder method for a word the C side has none for.
local function builder_index(methods, name)
  if type(name) ~= "string" or NOT_WORDS[name] or type(M[name]) ~= "function" then return nil end
  local f = function(b, ...) return build_slow(b, name, ...) end
  rawset(methods, name, f)
  return f
end

function M.builder(opts)
  if opts ~= nil and type(opts) ~= "table" then argerr("builder", 1, "a table of options", opts) end
  return (checked(core.builder, opts, builder_index, build_slow))
end

-- The mnemonics the assembler knows, from the C table.
function M.mnemonics()
  local names = {}
  for i, row in ipairs(core.isa()) do names[i] = row.name end
  return names
end


-- The ring-buffer words, helper_<name> and read_kprobe_arg live in
-- ebpfdsl.words; dsl.ringbuf_reserve and b:ringbuf_reserve reach them
-- (loaded on first use), so a program's words come from one module.
local words
setmetatable(M, { __index = function(_, k)
  words = words or require "ebpfdsl.words"
  return words[k]
end })

return M
