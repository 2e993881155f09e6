-- SPDX-License-Identifier: MIT
-- The kprobe DSL: instructions that read a probed function's arguments and
-- return value out of struct pt_regs, and whole kprobe/kretprobe programs.
--
-- Arguments are numbered from 1 everywhere: argument 1 is PT_REGS_PARM1.
-- (clj-ebpf counted from 0: its (kprobe-read-args ctx [[0 :r6]]) is
-- read_args("r1", {{1, "r6"}}) here.)
-- Every function takes a trailing opts table; opts.arch names the
-- architecture to generate for (default: the one this library runs on),
-- so a program for arm64 or s390x can be built on an x86_64 machine.
-- Builders return flat lists of instruction tables, which dsl.assemble,
-- dsl.dump and programs.load take as they are.
local dsl = require "ebpfdsl.dsl"
local arch = require "ebpfdsl.arch"

local M = {}

local type, ipairs, tostring = type, ipairs, tostring
local tointeger = math.tointeger

local REGS = require("ebpfdsl._regs").REGS
-- Registers a helper call leaves alone.
local CALLEE_SAVED = { r6 = true, r7 = true, r8 = true, r9 = true }

-- Errors blame the first caller outside the ebpfdsl modules: the user's line.
local fail = require("ebpfdsl._errors").outside_modules

local function reg(fname, what, x)
  if type(x) ~= "string" or not REGS[x] then
    fail(("%s: %s must be a register (r0..r10), got %s"):format(fname, what,
      type(x) == "string" and ("'" .. x .. "'") or type(x)))
  end
  if x == "r10" or x == "fp" then fail(("%s: %s cannot be the read-only frame pointer r10"):format(fname, what)) end
  return x
end

local function opts_of(fname, opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(("%s: options must be a table, got %s"):format(fname, type(opts))) end
  return opts
end

-- The pt_regs table for opts.arch, with errors naming the caller.
local function regs_for(fname, opts)
  if opts.arch ~= nil and not arch.supported(opts.arch) then
    fail(("%s: unknown architecture '%s' (known: %s)"):format(fname, tostring(opts.arch),
      table.concat(arch.list(), ", ")))
  end
  if opts.arch == nil and not arch.current() then
    fail(fname .. ": this machine's architecture has no pt_regs table; pass opts.arch")
  end
  return arch.pt_regs(opts.arch)
end

local function argnum(fname, n, limit, t, what)
  local i = type(n) == "number" and tointeger(n)
  if not i then fail(("%s: an argument number must be an integer, got %s"):format(fname, tostring(n))) end
  if i < 1 then
    fail(("%s: arguments are numbered from 1 (PT_REGS_PARM1 is argument 1), got %d"):format(fname, i))
  end
  if i > limit then
    fail(("%s: %s passes %d %sarguments in registers; argument %d is not in pt_regs"):format(fname, t.arch,
      limit, what or "", i))
  end
  return i
end

-- Bindings: {{1, "r6"}, {3, "r7"}}, or a list of registers {"r6", "r7"}
-- meaning arguments 1, 2, ... Returns {{n=, dst=}} in the given order.
local function bindings(fname, list)
  if type(list) ~= "table" then
    fail(("%s: bindings must be a list such as {{1, \"r6\"}, {2, \"r7\"}}, got %s"):format(fname, type(list)))
  end
  local out = {}
  for i, b in ipairs(list) do
    if type(b) == "string" then
      out[i] = { n = i, dst = b }
    elseif type(b) == "table" then
      out[i] = { n = b[1], dst = b[2] }
    else
      fail(("%s: binding %d must be {argument, register} or a register, got %s"):format(fname, i, type(b)))
    end
  end
  return out
end

-- A read into the register that holds the context must come last, or the
-- reads after it would use the argument as the context.
local function ctx_last(fname, list, ctx)
  local out, last = {}, nil
  for _, b in ipairs(list) do
    if b.dst == ctx then
      if last then fail(("%s: two arguments are read into the context register %s"):format(fname, ctx)) end
      last = b
    else
      out[#out + 1] = b
    end
  end
  out[#out + 1] = last
  return out
end

local function flatten(x, out)
  out = out or {}
  if x == nil then return out end
  if type(x) ~= "table" then fail("kprobe: a body must be a list of instructions, got " .. type(x)) end
  if x.op then
    out[#out + 1] = x
  else
    for _, v in ipairs(x) do flatten(v, out) end
  end
  return out
end
M._flatten = flatten

local function append(out, list)
  for _, x in ipairs(list) do out[#out + 1] = x end
  return out
end

-- read_arg(ctx_reg, n, dst[, opts]) -> one instruction: dst = argument n
-- (from 1) of the probed function, ldx from ctx_reg + PT_REGS_PARMn.
function M.read_arg(ctx_reg, n, dst, opts)
  opts = opts_of("kprobe.read_arg", opts)
  local t = regs_for("kprobe.read_arg", opts)
  local i = argnum("kprobe.read_arg", n, t.nargs, t)
  return dsl.ldx(t.load_size, reg("kprobe.read_arg", "dst", dst), reg("kprobe.read_arg", "ctx_reg", ctx_reg),
    t.args[i])
end

-- read_args(ctx_reg, {{1, "r6"}, {2, "r7"}}[, opts]) -> a list of loads,
-- one per binding, argument numbers from 1. A load into ctx_reg itself is
-- moved last so the others still see the context.
function M.read_args(ctx_reg, list, opts)
  local fname = "kprobe.read_args"
  opts = opts_of(fname, opts)
  local t = regs_for(fname, opts)
  reg(fname, "ctx_reg", ctx_reg)
  local out = {}
  for _, b in ipairs(ctx_last(fname, bindings(fname, list), ctx_reg)) do
    local i = argnum(fname, b.n, t.nargs, t)
    out[#out + 1] = dsl.ldx(t.load_size, reg(fname, "a destination", b.dst), ctx_reg, t.args[i])
  end
  return out
end

-- prologue({"r6", "r7"}[, opts]): arguments 1, 2, ... into the registers,
-- read from r1 (the context a kprobe starts with).
-- prologue("r9", {"r6", "r7"}[, opts]): first saves the context in r9
-- (helper calls clobber r1), then the same reads.
-- Returns a list.
function M.prologue(a, b, c)
  local fname = "kprobe.prologue"
  local save, regs, opts
  if type(a) == "string" then
    save, regs, opts = reg(fname, "the save register", a), b, c
  else
    regs, opts = a, b
  end
  opts = opts_of(fname, opts)
  if type(regs) ~= "table" then fail(fname .. ": the registers must be a list such as {\"r6\", \"r7\"}") end
  local out = {}
  if save and save ~= "r1" then out[1] = dsl.mov(save, "r1") end
  return append(out, M.read_args("r1", regs, opts))
end

-- kretprobe_return_value(ctx_reg, dst[, opts]) -> one instruction:
-- dst = the probed function's return value (PT_REGS_RC).
function M.kretprobe_return_value(ctx_reg, dst, opts)
  local fname = "kprobe.kretprobe_return_value"
  opts = opts_of(fname, opts)
  local t = regs_for(fname, opts)
  return dsl.ldx(t.load_size, reg(fname, "dst", dst), reg(fname, "ctx_reg", ctx_reg), t.rc)
end

-- syscall_regs(ctx_reg, dst[, opts]) -> a list: dst = the pt_regs that
-- holds a syscall's arguments (PT_REGS_SYSCALL_REGS). On architectures
-- with syscall wrappers (x86_64, arm64, s390x, riscv64, ppc64le) the traced
-- __<arch>_sys_<name> function's first argument points to it; elsewhere
-- it is the context itself. opts.wrapper overrides the table (older
-- kernels: riscv64 before 6.6, ppc64le before 6.1).
local function wrapped(t, opts)
  if opts.wrapper == nil then return t.syscall_wrapper end
  return opts.wrapper and true or false
end

function M.syscall_regs(ctx_reg, dst, opts)
  local fname = "kprobe.syscall_regs"
  opts = opts_of(fname, opts)
  local t = regs_for(fname, opts)
  reg(fname, "ctx_reg", ctx_reg)
  reg(fname, "dst", dst)
  if wrapped(t, opts) then return { dsl.ldx(t.load_size, dst, ctx_reg, t.args[1]) } end
  if dst == ctx_reg then return {} end
  return { dsl.mov(dst, ctx_reg) }
end

-- read_syscall_args(ctx_reg, {{1, "r6"}, {2, "r7"}}[, opts]) -> a list that
-- reads system call arguments (from 1, PT_REGS_PARMn_SYSCALL) in a kprobe
-- on the syscall's function (arch.syscall_function).
-- Without a wrapper these are plain loads from the context. With one, the
-- arguments live in the user's pt_regs behind the function's first
-- argument, memory the verifier lets a kprobe read only through
-- bpf_probe_read_kernel: the list keeps that pointer in a callee-saved
-- register (opts.regs_reg, default the first of r9, r8, r7, r6 no binding
-- uses), copies each argument to the stack slot opts.stack_offset (default
-- -8, from r10) and loads it from there. Helper calls clobber r0-r5, so at
-- most one destination may be among them, and it is read last.
function M.read_syscall_args(ctx_reg, list, opts)
  local fname = "kprobe.read_syscall_args"
  opts = opts_of(fname, opts)
  local t = regs_for(fname, opts)
  reg(fname, "ctx_reg", ctx_reg)
  local bs = bindings(fname, list)
  for _, b in ipairs(bs) do
    b.n = argnum(fname, b.n, t.nsyscall_args, t, "system call ")
    reg(fname, "a destination", b.dst)
  end
  if not wrapped(t, opts) then
    local out = {}
    for _, b in ipairs(ctx_last(fname, bs, ctx_reg)) do
      out[#out + 1] = dsl.ldx(t.load_size, b.dst, ctx_reg, t.syscall_args[b.n])
    end
    return out
  end

  local used = { [ctx_reg] = true }
  local ordered, clobbered = {}, nil
  for _, b in ipairs(bs) do
    used[b.dst] = true
    if CALLEE_SAVED[b.dst] then
      ordered[#ordered + 1] = b
    elseif clobbered then
      fail(("%s: %s and %s would both be clobbered by bpf_probe_read_kernel; read into r6-r9"):format(fname,
        clobbered.dst, b.dst))
    else
      clobbered = b
    end
  end
  ordered[#ordered + 1] = clobbered

  local regs_reg = opts.regs_reg
  if regs_reg == nil then
    for _, r in ipairs { "r9", "r8", "r7", "r6" } do
      if not used[r] then regs_reg = r break end
    end
    if not regs_reg then
      fail(fname .. ": no callee-saved register is free for the pt_regs pointer; pass opts.regs_reg")
    end
  else
    reg(fname, "opts.regs_reg", regs_reg)
    if not CALLEE_SAVED[regs_reg] then
      fail(fname .. ": opts.regs_reg must be r6..r9, which helper calls preserve, got " .. regs_reg)
    end
    for _, b in ipairs(bs) do
      if b.dst == regs_reg then fail(fname .. ": opts.regs_reg " .. regs_reg .. " is also a destination") end
    end
  end
  local slot = opts.stack_offset == nil and -8 or tointeger(opts.stack_offset)
  if not slot or slot >= 0 or slot < -512 or slot % t.reg_size ~= 0 then
    fail(fname .. ": opts.stack_offset must be a negative multiple of the register size within 512 bytes of r10")
  end

  local out = { dsl.ldx(t.load_size, regs_reg, ctx_reg, t.args[1]) }
  for _, b in ipairs(ordered) do
    append(out, {
      dsl.mov("r1", "r10"), dsl.add("r1", slot),
      dsl.mov("r2", t.reg_size),
      dsl.mov("r3", regs_reg), dsl.add("r3", t.syscall_args[b.n]),
      dsl.call("probe_read_kernel"),
      dsl.ldx(t.load_size, b.dst, "r10", slot),
    })
  end
  return out
end

-- read_syscall_arg(ctx_reg, n, dst[, opts]): one argument, as above.
function M.read_syscall_arg(ctx_reg, n, dst, opts)
  return M.read_syscall_args(ctx_reg, { { n, dst } }, opts)
end

local function ending(fname, rv)
  if rv == nil then rv = 0 end
  if type(rv) == "string" then
    if not REGS[rv] then fail(fname .. ": return_value must be an integer or a register, got '" .. rv .. "'") end
    if rv == "r0" then return { dsl.exit() } end
  elseif not (type(rv) == "number" and tointeger(rv)) then
    fail(fname .. ": return_value must be an integer or a register, got " .. tostring(rv))
  end
  return { dsl.mov("r0", rv), dsl.exit() }
end

local function spec_of(fname, spec)
  if type(spec) ~= "table" then fail(fname .. ": expects a table of options") end
  return spec
end

-- What both builders make: `mov ctx_reg, r1` when ctx_reg is given (after
-- clash(spec) refused a register it must not share), what start(spec)
-- reads, the body, `mov r0, return_value`, `exit`.
local function framed(fname, spec, clash, start)
  spec = spec_of(fname, spec)
  local out = {}
  if spec.ctx_reg ~= nil then
    reg(fname, "ctx_reg", spec.ctx_reg)
    clash(spec)
    if spec.ctx_reg ~= "r1" then out[1] = dsl.mov(spec.ctx_reg, "r1") end
  end
  append(out, start(spec))
  flatten(spec.body, out)
  return append(out, ending(fname, spec.return_value))
end

-- build_kprobe_program{args=, ctx_reg=, body=, return_value=0, arch=}
-- -> a list: `mov ctx_reg, r1` when ctx_reg is given, the argument reads
-- (args = {"r6", "r7"} for arguments 1, 2 or {{1, "r6"}, {3, "r7"}}), the
-- body (a list, nested lists allowed), `mov r0, return_value`, `exit`.
-- (clj-ebpf returned assembled bytes; dsl.assemble(list) gives them.)
function M.build_kprobe_program(spec)
  local fname = "kprobe.build_kprobe_program"
  return framed(fname, spec, function(s)
    for _, b in ipairs(bindings(fname, s.args or {})) do
      if b.dst == s.ctx_reg then fail(fname .. ": argument " .. tostring(b.n) .. " is read into ctx_reg " .. b.dst) end
    end
  end, function(s) return M.read_args("r1", s.args or {}, { arch = s.arch }) end)
end

-- build_kretprobe_program{ret_reg=, ctx_reg=, body=, return_value=0, arch=}
-- -> a list: `mov ctx_reg, r1` when given, the return value into ret_reg
-- when given, the body, `mov r0, return_value`, `exit`.
function M.build_kretprobe_program(spec)
  local fname = "kprobe.build_kretprobe_program"
  return framed(fname, spec, function(s)
    if s.ctx_reg == s.ret_reg then fail(fname .. ": ret_reg and ctx_reg are both " .. s.ctx_reg) end
  end, function(s)
    if s.ret_reg == nil then return {} end
    return { M.kretprobe_return_value("r1", s.ret_reg, { arch = s.arch }) }
  end)
end

-- Section names as libbpf spells them: "kprobe/<fn>", "kretprobe/<fn>".
local function fn_name(fname, f)
  if type(f) ~= "string" or f == "" then fail(fname .. ": the function name must be a non-empty string") end
  return f
end
function M.section_name(f) return "kprobe/" .. fn_name("kprobe.section_name", f) end
function M.kretprobe_section_name(f) return "kretprobe/" .. fn_name("kprobe.kretprobe_section_name", f) end

-- Program descriptions: name, section, type, function, insns. `type` is
-- the kernel's program type ("kprobe" for kretprobes too; the section
-- tells them apart). programs.load(info) loads one as it is: it reads
-- type, name and insns, and section and function are read through the
-- table's metatable, out of the way of the fields load checks.
local INFO_FIELDS = { "name", "section", "type", "function", "insns" }
local function info_tostring(self)
  local n = 0
  for _, x in ipairs(self.insns) do if type(x) == "table" and x.op ~= "label" then n = n + 1 end end
  return ("%s program '%s' (section %s, %d instructions)"):format(self.type, tostring(self.name), self.section, n)
end

function M._make_info(fname, ptype, section, f, name, insns)
  if type(name) ~= "string" or name == "" then fail(fname .. ": the program name must be a non-empty string") end
  if type(insns) ~= "table" then fail(fname .. ": insns must be a list of instructions") end
  local hidden = { section = section, ["function"] = f, fields = INFO_FIELDS }
  return setmetatable({ name = name, type = ptype, insns = insns },
    { __index = hidden, __tostring = info_tostring, __name = "ebpfdsl.ProgramInfo" })
end

-- program_info(f, name, insns) -> {name=, section="kprobe/f", type="kprobe", function=f, insns=}
function M.program_info(f, name, insns)
  return M._make_info("kprobe.program_info", "kprobe", M.section_name(f), f, name, insns)
end

-- kretprobe_program_info(f, name, insns) -> the same with section "kretprobe/f".
function M.kretprobe_program_info(f, name, insns)
  return M._make_info("kprobe.kretprobe_program_info", "kprobe", M.kretprobe_section_name(f), f, name, insns)
end

local function body_list(fname, body)
  if type(body) == "function" then body = body() end
  if body == nil then fail(fname .. ": a body is required; it must end the program (exit)") end
  return flatten(body)
end

-- define(name, {["function"]=f, args={"r6", "r7"}, arch=}, body) -> a
-- program_info whose insns are the argument reads (from r1, no context
-- save) followed by the body, which must end the program itself, as
-- clj-ebpf's defkprobe-instructions. body is a list or a function
-- returning one.
function M.define(name, spec, body)
  local fname = "kprobe.define"
  spec = spec_of(fname, spec)
  local insns = M.read_args("r1", spec.args or {}, { arch = spec.arch })
  append(insns, body_list(fname, body))
  return M.program_info(spec["function"], name, insns)
end

-- define_kretprobe(name, {["function"]=f, ret_reg="r6", arch=}, body) ->
-- a program_info: the return value into ret_reg (when given), then body.
function M.define_kretprobe(name, spec, body)
  local fname = "kprobe.define_kretprobe"
  spec = spec_of(fname, spec)
  local insns = {}
  if spec.ret_reg ~= nil then insns[1] = M.kretprobe_return_value("r1", spec.ret_reg, { arch = spec.arch }) end
  append(insns, body_list(fname, body))
  return M.kretprobe_program_info(spec["function"], name, insns)
end

-- The names clj-ebpf users know.
M.kprobe_read_args = M.read_args
M.kprobe_prologue = M.prologue
M.kretprobe_get_return_value = M.kretprobe_return_value
M.kprobe_section_name = M.section_name
M.make_kprobe_program_info = M.program_info
M.make_kretprobe_program_info = M.kretprobe_program_info
M.defkprobe_instructions = M.define
M.defkretprobe_instructions = M.define_kretprobe

return M
