-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): `p`, what a probe body sees: the builtins with
-- bpftrace's meanings (pid is the thread group id, tid the thread's) and
-- the probe's context by name: tracepoint fields from the format, function
-- arguments and return values from pt_regs or the trampoline's array,
-- typed by the kernel's BTF.
local value = require "ebpfdsl._trace_value"
local types = require "ebpfdsl._trace_types"
local ir = require "ebpfdsl._trace_ir"

local M = {}

local type, tointeger = type, math.tointeger
local fail, K = ir.fail, value.K

local function memo(fn, key, make)
  local v = fn:memo_get(key)
  if v == nil then
    v = make()
    fn:memo_set(key, v)
  end
  return v
end

local function call0(fn, helper) return fn:call(helper, {}, true) end

local function pid_tgid(fn) return memo(fn, "pid_tgid", function() return call0(fn, "get_current_pid_tgid") end) end
local function uid_gid(fn) return memo(fn, "uid_gid", function() return call0(fn, "get_current_uid_gid") end) end

-- Builtins: name -> function(p, fn) -> value.
local B = {}
B.pid = function(_, fn)
  return value.int(fn, memo(fn, "pid", function() return fn:alu("rsh", pid_tgid(fn), 32) end), 4, false, true)
end
B.tid = function(_, fn) return value.int(fn, pid_tgid(fn), 4, false, false) end
B.uid = function(_, fn) return value.int(fn, uid_gid(fn), 4, false, false) end
B.gid = function(_, fn)
  return value.int(fn, memo(fn, "gid", function() return fn:alu("rsh", uid_gid(fn), 32) end), 4, false, true)
end
B.nsecs = function(_, fn) return value.int(fn, call0(fn, "ktime_get_ns"), 8, false) end
B.cpu = function(_, fn)
  return value.int(fn, memo(fn, "cpu", function() return call0(fn, "get_smp_processor_id") end), 4, false, true)
end
B.cgroup = function(_, fn)
  return value.int(fn, memo(fn, "cgroup", function() return call0(fn, "get_current_cgroup_id") end), 8, false)
end
B.rand = function(_, fn) return value.int(fn, call0(fn, "get_prandom_u32"), 4, false, true) end
B.comm = function(_, fn)
  return value.str(fn, 16, function(f, base, off, n)
    f:call("get_current_comm", { value.dst_arg(base, off), n })
  end, { comm = true })
end
B.curtask = function(_, fn)
  local task = memo(fn, "curtask", function() return call0(fn, "get_current_task") end)
  local b = types.btf()
  local id = b:id("task_struct", "struct")
  local ct = { kind = "ptr", to = types.classify(b, id), decl = "struct task_struct *" }
  return value.new(fn, "int", { v = task, size = 8, signed = false, clean = true, ptr = ct, space = "kernel",
                                name = "curtask" })
end
B.func = function(p) return value.strconst(p._info.func or "") end
B.probe = function(p) return value.strconst(p._info.probe) end
B.retval = function(p, fn)
  local get = p._info.retval
  if not get then fail("trace: " .. p._info.kind .. " probes have no return value (retval is for kretprobe, " ..
    "uretprobe and fexit)") end
  return get(fn)
end
B.args = function(p, fn)
  local a = rawget(p, "_args")
  if not a then
    local make = p._info.args
    if not make then fail("trace: " .. p._info.kind .. " probes have no arguments") end
    a = make(fn)
    rawset(p, "_args", a)
  end
  return a
end
B.kstack = function(p, fn) return p._info.stack(fn, false) end
B.ustack = function(p, fn) return p._info.stack(fn, true) end

-- p.str(ptr[, n]): the NUL-terminated string at ptr, at most n bytes (64
-- by default, as bpftrace), read from user memory for pointers the probe
-- got from user space (syscall arguments, uprobes), else kernel memory.
local function str(p, fn, ptr, n)
  n = n == nil and 64 or (tointeger(n) or fail("trace: str: the length must be an integer"))
  if n < 1 or n > 4096 then fail("trace: str: the length must be 1..4096, got " .. n) end
  if value.is(ptr) and ptr[K].kind == "str" then
    local t = ptr[K]
    return value.str(fn, math.min(n, t.n), t.write, { comm = t.comm, const = t.const })
  end
  if value.is(ptr) and ptr[K].kind == "place" and ptr[K].ctype.kind == "array" then
    return value.place_str(ptr, math.min(n, ptr[K].ctype.n))
  end
  local v = value.val(ptr, "str's pointer")
  local t = v[K]
  if type(t.v) == "number" then fail("trace: str: the pointer must be a value of the probe, not a constant") end
  local space = t.space == "user" and "user" or (t.space == nil and p._info.space or t.space)
  local helper = space == "user" and "probe_read_user_str" or "probe_read_kernel_str"
  local src = value.wide(v)
  return value.str(fn, n, function(f, base, off, max)
    f:call(helper, { value.dst_arg(base, off), max, src })
  end)
end

-- p.buf(ptr, n): n bytes at ptr, as a Lua string of exactly n bytes in user
-- space.
local function buf(p, fn, ptr, n)
  n = tointeger(n) or fail("trace: buf: the length must be an integer")
  if n < 1 or n > 4096 then fail("trace: buf: the length must be 1..4096, got " .. n) end
  if value.is(ptr) and ptr[K].kind == "place" then
    local t = ptr[K]
    local helper = t.how == "user" and "probe_read_user" or "probe_read_kernel"
    return value.str(fn, n, function(f, base, off, max)
      f:call(helper, { value.dst_arg(base, off), max, value.addr_arg(t) })
    end, { buf = true })
  end
  local v = value.val(ptr, "buf's pointer")
  local t = v[K]
  local space = t.space == "user" and "user" or (t.space == nil and p._info.space or t.space)
  local src = value.wide(v)
  return value.str(fn, n, function(f, base, off, max)
    f:call(space == "user" and "probe_read_user" or "probe_read_kernel", { value.dst_arg(base, off), max, src })
  end, { buf = true })
end

-- p.join(argv[, n, len]): the strings of a NULL-terminated array of string
-- pointers (execve's argv), at most n (16) of at most len (64) bytes each,
-- shown joined by spaces.
local function join(p, fn, ptr, n, len)
  n = n == nil and 16 or (tointeger(n) or fail("trace: join: the count must be an integer"))
  len = len == nil and 64 or (tointeger(len) or fail("trace: join: the length must be an integer"))
  if n < 1 or n > 64 or len < 2 or len > 1024 then fail("trace: join: 1..64 strings of 2..1024 bytes") end
  local v = value.val(ptr, "join's pointer")
  local t = v[K]
  if type(t.v) == "number" then fail("trace: join: the pointer must be a value of the probe, not a constant") end
  local space = t.space == "user" and "user" or (t.space == nil and p._info.space or t.space)
  local rd = space == "user" and "probe_read_user" or "probe_read_kernel"
  local src = value.wide(v)
  return value.str(fn, n * len, function(f, base, off)
    for i = 0, n - 1 do f:st("b", base, off + i * len, 0) end
    local done = f:newlabel("join")
    local slot = f:stack(8, "argv")
    for i = 0, n - 1 do
      f:call(rd, { { stack = slot, off = 0 }, 8, { ptr = src, off = 8 * i } })
      local a = f:ld("dw", { stack = slot }, 0)
      f:jmp("jeq", a, 0, done)
      f:call(rd .. "_str", { value.dst_arg(base, off + i * len), len, a })
    end
    f:label(done)
  end, { fmt = "join:" .. len, buf = true })
end

local P = { __name = "ebpfdsl.trace.Context" }
P.__index = function(p, k)
  local fn = rawget(p, "_fn")
  if k == "str" then return function(a, b, c) if rawequal(a, p) then a, b = b, c end return str(p, fn, a, b) end end
  if k == "buf" then return function(a, b, c) if rawequal(a, p) then a, b = b, c end return buf(p, fn, a, b) end end
  if k == "join" then
    return function(a, b, c, d) if rawequal(a, p) then a, b, c = b, c, d end return join(p, fn, a, b, c) end
  end
  local b = B[k]
  if not b then
    fail(("trace: p has no '%s' (builtins: args, retval, pid, tid, uid, gid, comm, nsecs, cpu, cgroup, curtask, " ..
      "func, probe, kstack, ustack, rand; functions: str, buf, join)"):format(tostring(k)))
  end
  if value.current ~= fn then fail("trace: p." .. k .. " is read outside its probe's body") end
  return b(p, fn)
end
P.__newindex = function(_, k) fail("trace: p is read-only (setting '" .. tostring(k) .. "')") end

-- new(fn, info) -> p. info: kind, probe (its bpftrace name), func, space
-- ("user" or "kernel": where plain pointers point), args(fn) -> the args
-- object, retval(fn) -> value, stack(fn, user) -> value.
function M.new(fn, info)
  return setmetatable({ _fn = fn, _info = info }, P)
end

-- Argument objects ------------------------------------------------------------

local A = { __name = "ebpfdsl.trace.Args" }
A.__index = function(a, k)
  local get = rawget(a, "_get")
  return get(k)
end
A.__newindex = function() fail("trace: p.args is read-only") end

local function args_object(get) return setmetatable({ _get = get }, A) end

-- A value from a register-sized slot, typed by a ctype.
local function typed(fn, v, ct, space, name)
  if ct == nil then return value.int(fn, v, 8, false) end
  if ct.kind == "int" or ct.kind == "enum" then
    return value.int(fn, v, ct.size, ct.signed, ct.size >= 8)
  elseif ct.kind == "ptr" then
    return value.new(fn, "int", { v = v, size = 8, signed = false, clean = true, ptr = ct, name = name,
      space = ct.user and "user" or space })
  end
  fail(("trace: %s is a %s passed by value, which this layer does not read"):format(name, ct.decl or ct.kind))
end

-- Tracepoint: fields by name from the format.
function M.tracepoint_args(fmt)
  return function(fn)
    return args_object(function(name)
      local fld = fmt.by_name[name]
      if not fld then
        fail(("trace: %s:%s has no field '%s' (fields: %s)"):format(fmt.category, fmt.name, tostring(name),
          table.concat(fmt:fields(true), ", ")))
      end
      if fld.offset < 8 then
        fail(("trace: %s lies in the record's first 8 bytes, which tracepoint programs may not read; p.pid, " ..
          "p.tid and p.comm give the same facts"):format(name))
      end
      if fld.kind == "data_loc" or fld.kind == "rel_loc" then
        return value.str(fn, 64, function(f, base, off, max)
          local loc = f:ld("w", f.ctx, fld.offset)
          local o = f:alu("and", loc, 0xffff)
          if fld.kind == "rel_loc" then o = f:alu("add", o, fld.offset + fld.size) end
          local addr = f:alu("add", o, f.ctx)
          f:call("probe_read_kernel_str", { value.dst_arg(base, off), max, addr })
        end)
      end
      local ct, within = types.from_field(fld, fmt.category)
      local pl = value.place(fn, fn.ctx, fld.offset + within, ct, "ctx", name)
      pl[K].space = ct.kind == "ptr" and (ct.user and "user" or "kernel") or nil
      if ct.kind == "array" then
        if ct.char then return value.place_str(pl, ct.n) end
        return pl
      end
      return value.load(pl)
    end)
  end
end

-- Function arguments by position (from 1) or, with a BTF prototype, by name.
-- read(fn, i) -> the vreg of argument i.
function M.function_args(proto, read, space, what)
  return function(fn)
    return args_object(function(k)
      local i, ct, name
      if type(k) == "number" then
        i = tointeger(k)
        if not i or i < 1 then fail("trace: arguments are numbered from 1 (p.args[1] is the first), got " ..
          tostring(k)) end
        if proto then
          local prm = proto.params[i]
          if not prm then fail(("trace: %s takes %d arguments; there is no argument %d"):format(what,
            #proto.params, i)) end
          ct, name = types.classify(types.btf(), prm.type_id), prm.name
        end
      else
        if not proto then
          fail(("trace: %s has no argument names here (no BTF prototype); use p.args[1], p.args[2], ..."):format(
            what))
        end
        for j, prm in ipairs(proto.params) do
          if prm.name == k then i, ct, name = j, types.classify(types.btf(), prm.type_id), k end
        end
        if not i then
          local names = {}
          for _, prm in ipairs(proto.params) do names[#names + 1] = prm.name end
          fail(("trace: %s has no argument '%s' (%s)"):format(what, tostring(k), table.concat(names, ", ")))
        end
      end
      return typed(fn, memo(fn, "arg:" .. i, function() return read(fn, i) end), ct, space,
        name or ("args[" .. i .. "]"))
    end)
  end
end

-- A return value read with read(fn) -> vreg, typed by ct (or i64).
function M.retval(read, ct, space)
  return function(fn)
    if ct == nil then return value.int(fn, read(fn), 8, true) end
    if ct.kind == "void" then fail("trace: the function returns void") end
    return typed(fn, read(fn), ct, space, "retval")
  end
end

M.typed = typed
return M
