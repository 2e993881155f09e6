-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): probes: what each kind gives its body (`p`),
-- which program type it loads as, and how it attaches. A probe's body runs
-- once, when the session builds; its IR becomes instructions, a program,
-- a link.
local value = require "ebpfdsl._trace_value"
local ctx = require "ebpfdsl._trace_ctx"
local types = require "ebpfdsl._trace_types"
local ir = require "ebpfdsl._trace_ir"

local M = {}

local type, tostring = type, tostring
local fail = ir.fail

local function pt_regs()
  local t = require("ebpfdsl.arch").pt_regs()
  if not t then fail("trace: this machine's architecture has no pt_regs table for probe arguments") end
  return t
end

-- A BTF function prototype, or nil when the kernel's BTF does not have it.
local function proto_of(name)
  return function()
    local b = types.btf()
    local f = b:func(name)
    return f
  end
end

local function lazy(get)
  local done, v = false, nil
  return function()
    if not done then v, done = get(), true end
    return v
  end
end

-- Arguments from pt_regs (kprobes, uprobes): argument i is a register.
local function regs_reader(fn, i)
  local t = pt_regs()
  if i > t.nargs then fail(("trace: %s passes %d arguments in registers; argument %d is not there"):format(t.arch,
    t.nargs, i)) end
  return fn:ld(t.load_size, fn.ctx, t.args[i])
end

-- Arguments from a u64 array (fentry, fexit, raw tracepoints).
local function array_reader(skip)
  return function(fn, i) return fn:ld("dw", fn.ctx, 8 * (i - 1 + (skip or 0))) end
end

-- Function arguments by name with a lazily fetched prototype.
local function fargs(get_proto, read, space, what)
  return function(fn)
    local proto = get_proto()
    return ctx.function_args(proto, read, space, what)(fn)
  end
end

local BPF_F_USER_STACK = 1 << 8

-- kinds: declare(probe, ...) checks and records the target at the call;
-- info(probe) -> what ctx.new wants; prog(probe) -> programs.load fields;
-- attach(probe, prog, opts) -> link | nil, msg, errno; prefetch(probe,
-- opts), when a kind has it, begins in the kernel what its attach would
-- wait for, before the programs are built.
local KINDS = {}
M.KINDS = KINDS

KINDS.tracepoint = {
  declare = function(pr, target)
    if type(target) ~= "string" then
      fail("trace: tracepoint: the name must be a string such as 'sched:sched_switch'")
    end
    local cat, name = target:match("^([%w_]+)[:/]([%w_]+)$")
    if not cat then fail(("trace: tracepoint: '%s' is not 'category:name' (as 'syscalls:sys_enter_openat')"):format(
      target)) end
    local fmt, msg = require("ebpfdsl.tracepoint").format(cat, name)
    if not fmt then fail("trace: tracepoint " .. target .. ": " .. tostring(msg)) end
    pr.category, pr.tpname, pr.format = cat, name, fmt
    pr.label = "tracepoint:" .. cat .. ":" .. name
  end,
  info = function(pr)
    return { kind = "tracepoint", probe = pr.label, space = types.user_category(pr.category) and "user" or "kernel",
             args = ctx.tracepoint_args(pr.format) }
  end,
  prog = function() return { type = "tracepoint" } end,
  attach = function(pr, prog) return prog:attach_tracepoint(pr.category, pr.tpname) end,
}

KINDS.rawtracepoint = {
  declare = function(pr, target)
    if type(target) ~= "string" or not target:match("^[%w_]+$") then
      fail("trace: rawtracepoint: the name must be a tracepoint name such as 'sched_switch'")
    end
    pr.tpname, pr.label = target, "rawtracepoint:" .. target
  end,
  info = function(pr)
    local get = lazy(function()
      local b = types.btf()
      local id = b:id("btf_trace_" .. pr.tpname, "typedef")
      if not id then return nil end
      local ptr = b:type(b:type(id).type_id)
      local proto = b:type(ptr.type_id)
      -- the first parameter is the tracepoint's private data
      local params = {}
      for i = 2, #proto.params do params[#params + 1] = proto.params[i] end
      return { params = params }
    end)
    -- arguments typed by BTF make a BTF-enabled raw tracepoint (tp_btf),
    -- whose struct pointers are read with direct loads; without them (or
    -- without BTF), a plain one
    return { kind = "rawtracepoint", probe = pr.label, space = "kernel",
             args = function(fn)
               local proto = get()
               if proto then pr.btf = true end
               return ctx.function_args(proto, array_reader(0), proto and "btf" or "kernel", pr.label)(fn)
             end }
  end,
  prog = function(pr)
    if pr.btf then return { type = "tp_btf", attach_to = pr.tpname } end
    return { type = "raw_tracepoint" }
  end,
  attach = function(pr, prog)
    if pr.btf then return prog:attach_tracing() end
    return prog:attach_raw_tracepoint(pr.tpname)
  end,
}

local function kfunc_declare(kindname)
  return function(pr, target)
    if type(target) ~= "string" or not target:match("^[%w_.]+$") then
      fail(("trace: %s: the target must be a kernel function name, got %s"):format(kindname, value.shown(target)))
    end
    pr.func, pr.label = target, kindname .. ":" .. target
  end
end

KINDS.kprobe = {
  declare = kfunc_declare("kprobe"),
  info = function(pr)
    return { kind = "kprobe", probe = pr.label, func = pr.func, space = "kernel",
             args = fargs(lazy(proto_of(pr.func)), regs_reader, "kernel", pr.func) }
  end,
  prog = function() return { type = "kprobe" } end,
  attach = function(pr, prog) return prog:attach_kprobe(pr.func) end,
}

KINDS.kretprobe = {
  declare = kfunc_declare("kretprobe"),
  info = function(pr)
    local get = lazy(proto_of(pr.func))
    return { kind = "kretprobe", probe = pr.label, func = pr.func, space = "kernel",
             retval = function(fn)
               local f = get()
               local ct = f and types.classify(types.btf(), f.ret_id) or nil
               return ctx.retval(function(f2) return f2:ld(pt_regs().load_size, f2.ctx, pt_regs().rc) end, ct,
                 "kernel")(fn)
             end }
  end,
  prog = function() return { type = "kprobe" } end,
  attach = function(pr, prog) return prog:attach_kretprobe(pr.func) end,
}

local function trampoline_info(kindname, ret)
  return function(pr)
    local get = lazy(function()
      local f = proto_of(pr.func)()
      if not f then fail(("trace: %s: the kernel's BTF has no function '%s'"):format(kindname, pr.func)) end
      return f
    end)
    local info = { kind = kindname, probe = pr.label, func = pr.func, space = "kernel",
                   args = fargs(get, array_reader(0), "btf", pr.func) }
    if ret then
      info.retval = function(fn)
        local f = get()
        local ct = types.classify(types.btf(), f.ret_id)
        return ctx.retval(function(f2) return f2:ld("dw", f2.ctx, 8 * #f.params) end, ct, "btf")(fn)
      end
    end
    return info
  end
end

KINDS.fentry = {
  declare = kfunc_declare("fentry"),
  info = trampoline_info("fentry", false),
  prog = function(pr) return { type = "fentry", attach_to = pr.func } end,
  attach = function(_, prog) return prog:attach_fentry() end,
}

KINDS.fexit = {
  declare = kfunc_declare("fexit"),
  info = trampoline_info("fexit", true),
  prog = function(pr) return { type = "fexit", attach_to = pr.func } end,
  attach = function(_, prog) return prog:attach_fexit() end,
}

local function user_declare(kindname)
  return function(pr, binary, symbol)
    if type(binary) ~= "string" or binary == "" then
      fail(("trace: %s: the binary must be a path or a library name, got %s"):format(kindname, value.shown(binary)))
    end
    if type(symbol) ~= "string" or symbol == "" then
      fail(("trace: %s: the symbol must be a function name, got %s"):format(kindname, value.shown(symbol)))
    end
    pr.binary, pr.func = binary, symbol
    pr.label = kindname .. ":" .. binary .. ":" .. symbol
  end
end

KINDS.uprobe = {
  declare = user_declare("uprobe"),
  info = function(pr)
    return { kind = "uprobe", probe = pr.label, func = pr.func, space = "user",
             args = ctx.function_args(nil, regs_reader, "user", pr.func) }
  end,
  prog = function() return { type = "kprobe" } end,
  prefetch = function(pr, opts)
    pcall(require("ebpfdsl.core").uprobe_prefetch, { path = pr.binary, symbol = pr.func, pid = opts.pid })
  end,
  attach = function(pr, prog, opts)
    return prog:attach_uprobe { path = pr.binary, symbol = pr.func, pid = opts.pid }
  end,
}

KINDS.uretprobe = {
  declare = user_declare("uretprobe"),
  info = function(pr)
    return { kind = "uretprobe", probe = pr.label, func = pr.func, space = "user",
             retval = ctx.retval(function(fn) return fn:ld(pt_regs().load_size, fn.ctx, pt_regs().rc) end, nil) }
  end,
  prog = function() return { type = "kprobe" } end,
  prefetch = function(pr, opts)
    pcall(require("ebpfdsl.core").uprobe_prefetch,
      { path = pr.binary, symbol = pr.func, pid = opts.pid, retprobe = true })
  end,
  attach = function(pr, prog, opts)
    return prog:attach_uprobe { path = pr.binary, symbol = pr.func, pid = opts.pid, retprobe = true }
  end,
}

KINDS.profile = {
  declare = function(pr, hz)
    local n = math.tointeger(hz)
    if not n or n < 1 then fail("trace: profile: the rate must be a positive integer (samples per second)") end
    pr.hz, pr.label = n, "profile:hz:" .. n
  end,
  info = function(pr) return { kind = "profile", probe = pr.label, space = "kernel" } end,
  prog = function() return { type = "perf_event" } end,
  attach = function(pr, prog) return prog:attach_perf_event { event = "cpu-clock", freq = pr.hz } end,
}

-- has(kind) -> true | false, why: whether this kernel attaches probes of
-- a kind. kprobes and uprobes: their PMU or tracefs' probe_events (what the
-- attach tries); trampolines: a trivial fentry program loaded and attached.
local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

local function tracefs()
  return exists("/sys/kernel/tracing/events") and "/sys/kernel/tracing" or "/sys/kernel/debug/tracing"
end

local function pmu(name)
  return function()
    if exists("/sys/bus/event_source/devices/" .. name .. "/type") or exists(tracefs() .. "/" .. name .. "_events") then
      return true
    end
    return false, ("the kernel has no %ss (no %s PMU, no %s_events in tracefs)"):format(name, name, name)
  end
end

local function trampoline()
  local programs = require "ebpfdsl.programs"
  local prog, msg = programs.load { type = "fentry", attach_to = "vfs_read", name = "trace_has",
                                     insns = { { op = "mov", dst = "r0", imm = 0 }, { op = "exit" } } }
  if not prog then return false, "fentry programs do not load here: " .. tostring(msg) end
  local link, amsg = prog:attach_fentry()
  if link then link:close() end
  prog:close()
  if not link then return false, "fentry programs do not attach here: " .. tostring(amsg) end
  return true
end

local HAS = {
  kprobe = pmu("kprobe"), kretprobe = pmu("kprobe"), uprobe = pmu("uprobe"), uretprobe = pmu("uprobe"),
  fentry = trampoline, fexit = trampoline,
  tracepoint = function()
    if exists(tracefs() .. "/events") then return true end
    return false, "tracefs is not mounted (/sys/kernel/tracing)"
  end,
  rawtracepoint = function() return true end, profile = function() return true end,
}
local has_cache = {}
function M.has(kind)
  local f = HAS[kind]
  if not f then fail("trace: T.has: unknown probe kind '" .. tostring(kind) .. "'") end
  if kind == "fexit" then kind = "fentry" end
  if not has_cache[kind] then has_cache[kind] = { f() } end
  return table.unpack(has_cache[kind])
end

-- Stacks for every kind: an id in the session's stack map.
function M.stack_fn(session)
  return function(fn, user)
    session.symbolic = true
    local id = fn:call("get_stackid", { fn.ctx, { map = session:stack_ref() }, user and BPF_F_USER_STACK or 0 }, true)
    local v = value.int(fn, id, 8, true, true, user and "ustack" or "kstack")
    if user then
      local p = fn:memo_get("p")
      v[value.K].pid = p.pid
    end
    return v
  end
end

-- Probe objects ----------------------------------------------------------------

local Probe = {}
Probe.__index = Probe
M.Probe = Probe

function M.new(session, kind, body, ...)
  local k = KINDS[kind]
  local pr = setmetatable({ session = session, kind = kind, k = k, body = body, line = ir.user_line() }, Probe)
  k.declare(pr, ...)
  if type(body) ~= "function" then fail(("trace: %s: the body must be a function(p), got %s"):format(kind,
    value.shown(body))) end
  return pr
end

-- Runs the body on symbolic values (once): the IR.
function Probe:build(opts)
  if self.fn then return self.fn end
  opts = opts or {}
  local fn = ir.new(self.label)
  fn.line = self.line
  local info = self.k.info(self)
  info.stack = M.stack_fn(self.session)
  local p = ctx.new(fn, info)
  fn:memo_set("p", p)
  local prev = value.current
  value.current = fn
  local ok, err = pcall(function()
    if opts.pid then
      value.jump_false(fn, p.pid:eq(opts.pid), fn.exit_label, true)
    end
    self.body(p)
  end)
  value.current = prev
  if not ok then error(err, 0) end
  if fn.session_symbolic then self.session.symbolic = true end
  self.fn = fn
  return fn
end

-- The program's instructions (dsl tables); maps are created on the way.
function Probe:insns()
  if self.list then return self.list end
  local fn = self:build()
  fn:finish(self.session.out.loss_ref)
  local list, lines, depth = require("ebpfdsl._trace_codegen").generate(fn, { cpu = self.session.cpu })
  self.list, self.lines, self.stack_depth = list, lines, depth
  return list
end

function Probe:dump() return require("ebpfdsl.dsl").dump(self:insns()) end

-- A program name the kernel takes: 15 characters of [A-Za-z0-9_].
local function prog_name(label)
  local s = label:gsub("^[^:]*:", ""):gsub("[^%w_]", "_")
  return s:sub(-15)
end

-- load() -> Prog | nil, message (naming the user's line that built the
-- instruction the verifier refused), errno, log.
function Probe:load()
  if self.prog then return self.prog end
  local insns = self:insns() -- (first: the body decides some kinds' program type)
  local spec = self.k.prog(self)
  spec.insns = insns
  -- each instruction's Lua line goes with it as line_info: bpftool and the
  -- verifier's log show the probe's source over the instructions
  spec.lines, spec.file = self.lines, self.line and self.line:match("^(.*):%d+$")
  spec.name = prog_name(self.label)
  local programs = require "ebpfdsl.programs"
  local prog, msg, errno, log, raw = programs.load(spec)
  if not prog then
    local where
    if raw then
      local bytes = require("ebpfdsl.dsl").assemble(spec.insns)
      local _, idx = programs.explain(raw, bytes)
      if idx then where = self.lines[idx] end
    end
    msg = ("%s: the verifier refused %s: %s"):format(where or self.line or "?", self.label, msg)
    return nil, msg, errno, log
  end
  self.prog = prog
  return prog
end

-- Uprobes: registering one waits for a kernel grace period (7-35 ms
-- here) unless another was registered moments before; their events open
-- in threads while the session builds and loads (core.uprobe_prefetch),
-- and their attach takes them. Only a saving: a failure (or a bad
-- option) is the attach's to report.
function Probe:prefetch(opts)
  if self.k.prefetch then self.k.prefetch(self, opts or {}) end
end

function Probe:attach(opts)
  local prog, msg, errno = self:load()
  if not prog then return nil, msg, errno end
  local link
  link, msg, errno = self.k.attach(self, prog, opts or {})
  if not link then return nil, ("%s: attaching %s: %s"):format(self.line or "?", self.label, msg), errno end
  self.link = link
  return link
end

function Probe:detach()
  if self.link then self.link:close() end
  self.link = nil
end

function Probe:__tostring()
  local n = 0
  for _, x in ipairs(self.list or {}) do if x.op ~= "label" then n = n + 1 end end
  return ("trace probe %s (%s)"):format(self.label, self.list and (n .. " instructions") or "not built")
end

return M
