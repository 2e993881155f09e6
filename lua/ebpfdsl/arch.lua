-- SPDX-License-Identifier: MIT
-- Architectures: where struct pt_regs (the context of kprobes and uprobes)
-- keeps each argument, the return value, sp, ip and fp, per architecture.
--
-- Arguments are numbered from 1, as libbpf's PT_REGS_PARM1 is the first
-- (clj-ebpf users: its get-kprobe-arg-offset counted from 0).
-- Every function taking an architecture name defaults to arch.current().
local core = require "ebpfdsl.core"
local errors = require "ebpfdsl._errors"

local M = {}

local type, tostring, ipairs = type, tostring, ipairs
local tointeger = math.tointeger

-- Errors blame the first caller outside the ebpfdsl modules: the user's line.
local fail = errors.outside_modules

-- The C tables, read once, by canonical name.
local TABLES, NAMES = {}, {}
for i, t in ipairs(core.arches()) do
  TABLES[t.name] = t
  NAMES[i] = t.name
end

local function copy(x)
  if type(x) ~= "table" then return x end
  local t = {}
  for k, v in pairs(x) do t[k] = copy(v) end
  return t
end

-- Canonical name for a name or alias ("amd64", "aarch64", "ppc64el",
-- libbpf's "x86"); raises for one no table has.
function M.resolve(name, fname)
  if name == nil then
    local cur = core.arch_current()
    if not cur then fail((fname or "arch") .. ": this build's architecture has no pt_regs table; pass arch=") end
    return cur
  end
  if type(name) ~= "string" then
    fail(("%s: an architecture name must be a string, got %s"):format(fname or "arch", type(name)))
  end
  local canon = core.arch_find(name)
  if not canon then
    fail(("%s: unknown architecture '%s' (known: %s)"):format(fname or "arch", name, table.concat(NAMES, ", ")))
  end
  return canon
end

local function table_for(name, fname)
  return TABLES[M.resolve(name, fname)]
end

-- The architecture this library was built for ("x86_64"), or nil when it
-- is none of arch.list().
function M.current() return core.arch_current() end

-- The supported names, in table order.
function M.list() return copy(NAMES) end

-- True when name (or an alias) has a table.
function M.supported(name) return type(name) == "string" and core.arch_find(name) ~= nil end

-- pt_regs([name]) -> a fresh table of byte offsets into struct pt_regs:
--   args = {off1, off2, ...}        PT_REGS_PARM1.. (nargs of them)
--   syscall_args = {...}            PT_REGS_PARMn_SYSCALL, in the pt_regs that
--                                   holds the syscall's registers
--   rc, sp, ip, fp                  offsets (fp is nil where the ABI has none)
--   nargs, nsyscall_args            how many travel in registers
--   reg_size, load_size             8 and "dw", or 4 and "w" on 32-bit arm
--   syscall_wrapper, syscall_prefix whether the traced __<arch>_sys_* function
--                                   gets a struct pt_regs * (and its prefix)
--   names = {args={"rdi", ...}, syscall_args={...}, rc=, sp=, ip=, fp=}
--   fields = the C table itself: {args={{name=, offset=, kernel_only=}}, ...}
function M.pt_regs(name)
  local t = table_for(name, "arch.pt_regs")
  local r = {
    arch = t.name, target = t.target, uapi_struct = t.uapi_struct,
    nargs = t.nargs, nsyscall_args = t.nsyscall_args, reg_size = t.reg_size,
    load_size = t.reg_size == 8 and "dw" or "w",
    syscall_wrapper = t.syscall_wrapper, syscall_prefix = t.syscall_prefix,
    args = {}, syscall_args = {}, names = { args = {}, syscall_args = {} },
    fields = copy(t),
  }
  for _, list in ipairs { "args", "syscall_args" } do
    for i, reg in ipairs(t[list]) do
      r[list][i] = reg.offset
      r.names[list][i] = reg.name
    end
  end
  for _, k in ipairs { "rc", "sp", "ip", "fp" } do
    if t[k] then
      r[k] = t[k].offset
      r.names[k] = t[k].name
    end
  end
  return r
end

local function argn(fname, n)
  local i = type(n) == "number" and tointeger(n)
  if not i then
    fail(("%s: the argument number must be an integer, got %s"):format(fname, tostring(n)))
  end
  if i < 1 then
    fail(("%s: arguments are numbered from 1 (PT_REGS_PARM1), got %d"):format(fname, i))
  end
  return i
end

-- Offset of function argument n (from 1) in pt_regs. Beyond the
-- registers is an error that says how many the architecture passes.
function M.kprobe_arg_offset(n, name)
  local i = argn("arch.kprobe_arg_offset", n)
  local t = table_for(name, "arch.kprobe_arg_offset")
  if i > t.nargs then
    fail(("arch.kprobe_arg_offset: %s passes %d arguments in registers; argument %d is on the stack, " ..
      "out of reach of pt_regs"):format(t.name, t.nargs, i))
  end
  return t.args[i].offset
end
M.get_kprobe_arg_offset = M.kprobe_arg_offset

-- Offset of system call argument n (from 1), in the pt_regs holding the
-- syscall's registers: on wrapper architectures that is the struct the
-- traced function's first argument points to (see kprobe.read_syscall_args).
function M.syscall_arg_offset(n, name)
  local i = argn("arch.syscall_arg_offset", n)
  local t = table_for(name, "arch.syscall_arg_offset")
  if i > t.nsyscall_args then
    fail(("arch.syscall_arg_offset: %s passes %d system call arguments in registers; there is no argument %d")
      :format(t.name, t.nsyscall_args, i))
  end
  return t.syscall_args[i].offset
end

-- Offset of the return value (PT_REGS_RC), for kretprobes and uretprobes.
function M.return_offset(name) return table_for(name, "arch.return_offset").rc.offset end

-- Offsets of the stack pointer, instruction pointer and frame pointer;
-- fp_offset raises where the ABI has no frame pointer register.
function M.sp_offset(name) return table_for(name, "arch.sp_offset").sp.offset end
function M.ip_offset(name) return table_for(name, "arch.ip_offset").ip.offset end
function M.fp_offset(name)
  local t = table_for(name, "arch.fp_offset")
  if not t.fp then fail(("arch.fp_offset: %s has no frame pointer register"):format(t.name)) end
  return t.fp.offset
end

-- How many function arguments travel in registers.
function M.kprobe_max_reg_args(name) return table_for(name, "arch.kprobe_max_reg_args").nargs end

-- The ldx size that reads one register slot: "dw", or "w" on 32-bit arm.
function M.load_size(name) return table_for(name, "arch.load_size").reg_size == 8 and "dw" or "w" end

-- Whether the traced syscall function receives a struct pt_regs * to the
-- user's registers instead of the arguments themselves.
function M.syscall_wrapper(name) return table_for(name, "arch.syscall_wrapper").syscall_wrapper end

-- The kernel function a kprobe on system call `sys` attaches to:
-- syscall_function("openat") is "__x64_sys_openat" on x86_64.
function M.syscall_function(sys, name)
  if type(sys) ~= "string" or sys == "" then
    fail("arch.syscall_function: the system call name must be a non-empty string")
  end
  return table_for(name, "arch.syscall_function").syscall_prefix .. sys:gsub("^sys_", "")
end

return M
