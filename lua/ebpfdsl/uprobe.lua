-- SPDX-License-Identifier: MIT
-- The uprobe DSL: argument and return-value reads for user-space
-- functions, and section names and program descriptions for uprobes.
--
-- A uprobe's context is the same struct pt_regs a kprobe gets (the user
-- registers at the probed instruction), so the reads are the kprobe DSL's:
-- arguments from 1 (PT_REGS_PARM1), opts.arch to target another machine.
-- The program type is "kprobe" for uprobes and uretprobes alike.
local core = require "ebpfdsl.core"
local kprobe = require "ebpfdsl.kprobe"

local M = {}

local type, tostring, math_type = type, tostring, math.type
local fail = require("ebpfdsl._errors").outside_modules

-- The same reads and builders as ebpfdsl.kprobe, under uprobe names.
M.read_arg = kprobe.read_arg
M.read_args = kprobe.read_args
M.prologue = kprobe.prologue
M.return_value = kprobe.kretprobe_return_value
M.uretprobe_return_value = kprobe.kretprobe_return_value
M.build_uprobe_program = kprobe.build_kprobe_program
M.build_uretprobe_program = kprobe.build_kretprobe_program

-- Where a uprobe goes: a symbol name, or an offset into the binary file.
local function target_text(fname, target)
  if type(target) == "string" and target ~= "" then return target end
  if math_type(target) == "integer" and target >= 0 then return ("0x%x"):format(target) end
  fail(fname .. ": the target must be a function name or a non-negative file offset, got " .. tostring(target))
end

local function binary_text(fname, binary)
  if type(binary) ~= "string" or binary == "" then fail(fname .. ": the binary must be a path or library name") end
  return binary
end

-- Section names as libbpf spells them: "uprobe/<binary>:<function>" (an
-- absolute path gives "uprobe//usr/lib/..."), and offsets as 0x<hex>.
function M.section_name(binary, target)
  return "uprobe/" .. binary_text("uprobe.section_name", binary) .. ":" ..
    target_text("uprobe.section_name", target)
end
function M.uretprobe_section_name(binary, target)
  return "uretprobe/" .. binary_text("uprobe.uretprobe_section_name", binary) .. ":" ..
    target_text("uprobe.uretprobe_section_name", target)
end

local function info(fname, section, binary, target, name, insns)
  local i = kprobe._make_info(fname, "kprobe", section, type(target) == "string" and target or nil, name, insns)
  local hidden = getmetatable(i).__index
  hidden.binary, hidden.target = binary, target
  return i
end

-- program_info(binary, target, name, insns) -> {name=, section=, type="kprobe",
-- binary=, target=, function= (when target is a name), insns=}; programs.load
-- takes it as it is.
function M.program_info(binary, target, name, insns)
  return info("uprobe.program_info", M.section_name(binary, target), binary, target, name, insns)
end
function M.uretprobe_program_info(binary, target, name, insns)
  return info("uprobe.uretprobe_program_info", M.uretprobe_section_name(binary, target), binary, target, name, insns)
end

-- define(name, {binary=, ["function"]= (or offset=), args=, arch=}, body)
-- and define_uretprobe(name, {binary=, ["function"]=, ret_reg=, arch=}, body):
-- kprobe.define and define_kretprobe for user functions.
local function target_of(fname, spec)
  if type(spec) ~= "table" then fail(fname .. ": expects a table of options") end
  local t = spec["function"]
  if t == nil then t = spec.offset end
  if t == nil then fail(fname .. ": give the function name (function=) or a file offset (offset=)") end
  return t
end

local function with_body(fname, insns, body)
  if type(body) == "function" then body = body() end
  if body == nil then fail(fname .. ": a body is required; it must end the program (exit)") end
  return kprobe._flatten(body, insns)
end

function M.define(name, spec, body)
  local t = target_of("uprobe.define", spec)
  local insns = kprobe.read_args("r1", spec.args or {}, { arch = spec.arch })
  return M.program_info(spec.binary, t, name, with_body("uprobe.define", insns, body))
end

function M.define_uretprobe(name, spec, body)
  local t = target_of("uprobe.define_uretprobe", spec)
  local insns = {}
  if spec.ret_reg ~= nil then insns[1] = kprobe.kretprobe_return_value("r1", spec.ret_reg, { arch = spec.arch }) end
  return M.uretprobe_program_info(spec.binary, t, name, with_body("uprobe.define_uretprobe", insns, body))
end

-- symbol_offset(binary, symbol) -> the file offset a uprobe on symbol
-- attaches at, and the file it found | nil, message, errno.
-- binary is a path, a library name ("c" is this process's C library) or a
-- program on $PATH, as attach_uprobe's path=. The ELF reading (libelf)
-- belongs to the kernel layer: this is attach.symbol_offset.
function M.symbol_offset(binary, symbol)
  binary_text("uprobe.symbol_offset", binary)
  if type(symbol) ~= "string" or symbol == "" then fail("uprobe.symbol_offset: the symbol must be a name") end
  return core.elf_symbol_offset(binary, symbol)
end

-- The names clj-ebpf users know.
M.uprobe_section_name = M.section_name
M.make_uprobe_program_info = M.program_info
M.make_uretprobe_program_info = M.uretprobe_program_info
M.defuprobe_instructions = M.define
M.defuretprobe_instructions = M.define_uretprobe

return M
