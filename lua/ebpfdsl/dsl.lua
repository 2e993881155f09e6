-- SPDX-License-Identifier: MIT
-- The instruction DSL: constructors that build plain instruction tables
-- ({op="add", dst="r1", imm=5}), and assemble/disassemble/dump over C.
local core = require "ebpfdsl.core"

local M = {}

local type, tointeger = type, math.tointeger

-- Registers are strings; anything else in a register slot is misuse.
local REGS, SIZES = require("ebpfdsl._regs").REGS, require("ebpfdsl._regs").SIZES

-- Errors blame the first caller outside this file and the C constructors
-- that call the words below (C_WORDS, filled at the end): the user's line.
local SOURCE, C_WORDS = debug.getinfo(1, "S").source, {}
local blame = require("ebpfdsl._errors").blamer(function(info)
  return info.source == SOURCE or C_WORDS[info.func] ~= nil
end, "Sf")

local function argerr(fname, n, want, got)
  -- the value itself where it says more than its type: 'r11', 1.5, 8
  local shown = type(got) == "string" and ("'" .. got .. "'") or type(got) == "number" and tostring(got) or type(got)
  blame(("%s: argument %d must be %s, got %s"):format(fname, n, want, shown))
end

local function reg(fname, n, x)
  if type(x) ~= "string" or not REGS[x] then argerr(fname, n, "a register (r0..r10 or fp)", x) end
  return x
end

local function int(fname, n, x)
  local i = type(x) == "number" and tointeger(x)
  if not i then argerr(fname, n, "an integer", x) end
  return i
end

local function size(fname, n, x)
  if not SIZES[x] then argerr(fname, n, "a size (b, h, w or dw)", x) end
  return x
end

local function optint(fname, n, x)
  if x == nil then return 0 end
  return int(fname, n, x)
end

-- A register or an immediate: the field the instruction table gets.
local function source(fname, n, x)
  if type(x) == "string" then return "src", reg(fname, n, x) end
  local i = type(x) == "number" and tointeger(x)
  if not i then argerr(fname, n, "a register or an integer", x) end
  return "imm", i
end

-- A label name or a numeric jump offset.
local function goes_to(fname, n, x)
  if type(x) == "string" then return "target", x end
  local i = type(x) == "number" and tointeger(x)
  if not i then argerr(fname, n, "a label name or a jump offset", x) end
  return "off", i
end

-- The constructors below take the usual arguments (register names, sizes,
-- integers) in a few table reads and at most one C call (math.tointeger,
-- which also gives 2 for 2.0); anything else goes the checking way,
-- which says what is wrong. int_of(x) is x as an integer when x is a
-- number with an integer value (not a numeric string), else nil.
local function int_of(x)
  local i = tointeger(x)
  if i == x then return i end
  return nil
end

-- ALU operations: add("r1", 5) and add("r1", "r2") are one name, as are
-- their 32-bit forms add32.
local ALU = { "add", "sub", "mul", "div", "sdiv", "mod", "smod", "or", "and", "lsh", "rsh", "arsh",
              "xor", "mov" }
for _, base in ipairs(ALU) do
  for _, name in ipairs { base, base .. "32" } do
    M[name] = function(dst, x)
      if REGS[dst] then
        if REGS[x] then return { op = name, dst = dst, src = x } end
        local i = int_of(x)
        if i then return { op = name, dst = dst, imm = i } end
      end
      local k, v = source(name, 2, x)
      return { op = name, dst = reg(name, 1, dst), [k] = v }
    end
  end
end

function M.neg(dst) return { op = "neg", dst = reg("neg", 1, dst) } end
function M.neg32(dst) return { op = "neg32", dst = reg("neg32", 1, dst) } end

-- Sign-extending moves: movsx("r0", "r1", 8) is r0 = (s8)r1.
function M.movsx(dst, src, bits)
  return { op = "movsx", dst = reg("movsx", 1, dst), src = reg("movsx", 2, src), bits = int("movsx", 3, bits) }
end
function M.movsx32(dst, src, bits)
  return { op = "movsx32", dst = reg("movsx32", 1, dst), src = reg("movsx32", 2, src),
           bits = int("movsx32", 3, bits) }
end

-- Byte order: le/be convert from host order (the ALU END forms);
-- bswap swaps unconditionally (cpu v4).
for _, name in ipairs { "le", "be", "bswap" } do
  M[name] = function(dst, bits) return { op = name, dst = reg(name, 1, dst), bits = int(name, 2, bits) } end
end

-- Jumps.
function M.ja(to)
  local k, v = goes_to("ja", 1, to)
  return { op = "ja", [k] = v }
end
function M.gotol(to)
  local k, v = goes_to("gotol", 1, to)
  return { op = "gotol", [k] = v }
end

local CONDS = { "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle" }
for _, c in ipairs(CONDS) do
  for _, name in ipairs { c, c .. "32" } do
    M[name] = function(dst, x, to)
      if REGS[dst] and type(to) == "string" then
        if REGS[x] then return { op = name, dst = dst, src = x, target = to } end
        local i = int_of(x)
        if i then return { op = name, dst = dst, imm = i, target = to } end
      end
      local k, v = source(name, 2, x)
      local tk, tv = goes_to(name, 3, to)
      return { op = name, dst = reg(name, 1, dst), [k] = v, [tk] = tv }
    end
  end
end

-- Helper ids come from the kernel's header via the C core.
local function helper_lookup(fname, h)
  if type(h) == "number" then
    local id = int(fname, 1, h)
    return id, core.helper_name(id)
  end
  if type(h) ~= "string" then argerr(fname, 1, "a helper name or id", h) end
  local id, msg = core.helper_id(h)
  if not id then blame(fname .. ": " .. msg) end
  return id, core.helper_name(id)
end

-- What a name or an id gave is kept: the C lookup compares names one by
-- one. Only what was found is kept (an error is raised again each time).
local helper_seen = {}
local function helper_ref(fname, h)
  local seen = helper_seen[h]
  if seen then return seen[1], seen[2] end
  local id, name = helper_lookup(fname, h)
  helper_seen[h] = { id, name }
  return id, name
end

-- call("ktime_get_ns"), call("bpf_ktime_get_ns"), call(5)
function M.call(h)
  local id, name = helper_ref("call", h)
  return { op = "call", imm = id, helper = name }
end

-- bpf-to-bpf call of the function at a label
function M.call_local(to)
  local k, v = goes_to("call_local", 1, to)
  if k == "off" then k = "imm" end
  return { op = "call_local", [k] = v }
end

-- kernel function by name, found in the running kernel's BTF (vmlinux,
-- then modules: ebpfdsl.kfuncs), or by BTF id; off indexes fd_array for
-- module BTF (a name sets it, and programs.load passes the array)
function M.call_kfunc(btf_id, off)
  if type(btf_id) == "string" then
    local k, msg = require("ebpfdsl.kfuncs").find(btf_id)
    if not k then blame("call_kfunc: " .. msg) end
    return { op = "call_kfunc", imm = k.id, off = k.off ~= 0 and k.off or nil }
  end
  return { op = "call_kfunc", imm = int("call_kfunc", 1, btf_id), off = off and int("call_kfunc", 2, off) }
end

function M.exit() return { op = "exit" } end

function M.label(name)
  if type(name) ~= "string" or name == "" then argerr("label", 1, "a non-empty name", name) end
  return { op = "label", name = name }
end

-- 64-bit loads (two slots each).
function M.lddw(dst, imm)
  local i = int_of(imm)
  if REGS[dst] and i then return { op = "lddw", dst = dst, imm = i } end
  return { op = "lddw", dst = reg("lddw", 1, dst), imm = int("lddw", 2, imm) }
end

local function map_fields(fname, n, m)
  if type(m) == "number" then return int(fname, n, m), nil end
  if (type(m) == "userdata" or type(m) == "table") and m.fd then return m:fd(), m end
  argerr(fname, n, "a map or a map fd", m)
end

function M.ld_map_fd(dst, map)
  local fd, obj = map_fields("ld_map_fd", 2, map)
  return { op = "ld_map_fd", dst = reg("ld_map_fd", 1, dst), imm = fd, map = obj }
end
function M.ld_map_value(dst, map, offset)
  local fd, obj = map_fields("ld_map_value", 2, map)
  return { op = "ld_map_value", dst = reg("ld_map_value", 1, dst), imm = fd, map = obj,
           value_offset = optint("ld_map_value", 3, offset) }
end
function M.ld_map_idx(dst, idx)
  return { op = "ld_map_idx", dst = reg("ld_map_idx", 1, dst), imm = int("ld_map_idx", 2, idx) }
end
function M.ld_map_idx_value(dst, idx, offset)
  return { op = "ld_map_idx_value", dst = reg("ld_map_idx_value", 1, dst), imm = int("ld_map_idx_value", 2, idx),
           value_offset = optint("ld_map_idx_value", 3, offset) }
end
function M.ld_btf_id(dst, id)
  return { op = "ld_btf_id", dst = reg("ld_btf_id", 1, dst), imm = int("ld_btf_id", 2, id) }
end
function M.ld_func(dst, to)
  local k, v = goes_to("ld_func", 2, to)
  if k == "off" then k = "imm" end
  return { op = "ld_func", dst = reg("ld_func", 1, dst), [k] = v }
end

-- Legacy packet loads for socket filters: r0 = *(size *)skb[imm] / skb[src + imm].
function M.ld_abs(sz, imm) return { op = "ld_abs", size = size("ld_abs", 1, sz), imm = int("ld_abs", 2, imm) } end
function M.ld_ind(sz, src, imm)
  return { op = "ld_ind", size = size("ld_ind", 1, sz), src = reg("ld_ind", 2, src), imm = optint("ld_ind", 3, imm) }
end

-- Memory: ldx(size, dst, src, off), st(size, dst, off, imm), stx(size, dst, off, src).
function M.ldx(sz, dst, src, off)
  if SIZES[sz] and REGS[dst] and REGS[src] then
    local o = off == nil and 0 or int_of(off)
    if o then return { op = "ldx", size = sz, dst = dst, src = src, off = o } end
  end
  return { op = "ldx", size = size("ldx", 1, sz), dst = reg("ldx", 2, dst), src = reg("ldx", 3, src),
           off = optint("ldx", 4, off) }
end
function M.ldsx(sz, dst, src, off)
  return { op = "ldsx", size = size("ldsx", 1, sz), dst = reg("ldsx", 2, dst), src = reg("ldsx", 3, src),
           off = optint("ldsx", 4, off) }
end
function M.st(sz, dst, off, imm)
  if SIZES[sz] and REGS[dst] then
    local o, i = int_of(off), int_of(imm)
    if o and i then return { op = "st", size = sz, dst = dst, off = o, imm = i } end
  end
  return { op = "st", size = size("st", 1, sz), dst = reg("st", 2, dst), off = int("st", 3, off),
           imm = int("st", 4, imm) }
end
function M.stx(sz, dst, off, src)
  if SIZES[sz] and REGS[dst] and REGS[src] then
    local o = int_of(off)
    if o then return { op = "stx", size = sz, dst = dst, off = o, src = src } end
  end
  return { op = "stx", size = size("stx", 1, sz), dst = reg("stx", 2, dst), off = int("stx", 3, off),
           src = reg("stx", 4, src) }
end

-- Atomics: atomic_add(size, dst, off, src) is lock *(size *)(dst + off) += src;
-- the fetch forms leave the old value in src; cmpxchg compares with r0.
for _, name in ipairs { "atomic_add", "atomic_or", "atomic_and", "atomic_xor", "atomic_fetch_add",
                        "atomic_fetch_or", "atomic_fetch_and", "atomic_fetch_xor", "xchg", "cmpxchg" } do
  M[name] = function(sz, dst, off, src)
    return { op = name, size = size(name, 1, sz), dst = reg(name, 2, dst), off = int(name, 3, off),
             src = reg(name, 4, src) }
  end
end

-- Load-acquire and store-release (cpu v4; kernels 6.15+): ldx and stx
-- that order the memory accesses around them, in every size b..dw.
-- load_acquire(size, dst, src, off) is dst = *(size *)(src + off);
-- store_release(size, dst, off, src) is *(size *)(dst + off) = src.
function M.load_acquire(sz, dst, src, off)
  return { op = "load_acquire", size = size("load_acquire", 1, sz), dst = reg("load_acquire", 2, dst),
           src = reg("load_acquire", 3, src), off = optint("load_acquire", 4, off) }
end
function M.store_release(sz, dst, off, src)
  return { op = "store_release", size = size("store_release", 1, sz), dst = reg("store_release", 2, dst),
           off = int("store_release", 3, off), src = reg("store_release", 4, src) }
end

-- may_goto(to): goes to `to` once the kernel's budget for the loop it is
-- in runs out, and on otherwise; a loop through it needs no bound the
-- verifier can prove (kernels 6.9+). 16-bit offsets only: it has no gotol form.
function M.may_goto(to)
  local k, v = goes_to("may_goto", 1, to)
  return { op = "may_goto", [k] = v }
end

-- addr_space_cast(dst, src, dst_as, src_as): dst = src cast from address
-- space src_as to dst_as (0 the kernel's, 1 an arena's: addr_space_cast(
-- "r1", "r1", 0, 1) makes an arena pointer one the kernel can use). imm
-- holds both, src_as | dst_as << 16, as the instruction encodes them.
function M.addr_space_cast(dst, src, dst_as, src_as)
  local d, s = int("addr_space_cast", 3, dst_as), int("addr_space_cast", 4, src_as)
  if d < 0 or d > 0xffff then argerr("addr_space_cast", 3, "an address space 0..65535", d) end
  if s < 0 or s > 0xffff then argerr("addr_space_cast", 4, "an address space 0..65535", s) end
  return { op = "addr_space_cast", dst = reg("addr_space_cast", 1, dst), src = reg("addr_space_cast", 2, src),
           imm = s | (d << 16) }
end

-- Any bytes at all, for what no row encodes.
function M.raw(code, dst, src, off, imm)
  return { op = "raw", code = int("raw", 1, code), dst = optint("raw", 2, dst), src = optint("raw", 3, src),
           off = optint("raw", 4, off), imm = optint("raw", 5, imm) }
end


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
