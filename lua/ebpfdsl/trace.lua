-- SPDX-License-Identifier: MIT
-- ebpfdsl.trace: probes in a few lines of Lua, as bpftrace writes them. A
-- body runs once, at build time, on symbolic values; the library writes
-- the instructions, the maps, the ring buffer and the loop that prints.
--
--   local T = require "ebpfdsl.trace"
--   T.tracepoint("syscalls:sys_enter_openat", function(p)
--     T.printf("%-7d %-16s %s\n", p.pid, p.comm, p.str(p.args.filename))
--   end)
--   T.run{ duration = 5 }
--
-- The module is a session (probes, maps, output); T.new() makes another.
-- See docs/trace.md.

-- The facade of this module's own tree first: its searcher finds the
-- modules below with one open each, and their bytecode where make or
-- make install left it (a tool's path names this file, not init.lua).
local here = select(2, ...)
local tree = type(here) == "string" and (here:match("^(.*[/\\])trace%.lua$") or here == "trace.lua" and "")
if not package.loaded.ebpfdsl and tree then
  local init = tree .. "init.lua"
  local facade = loadfile(init .. "c", "b") or loadfile(init)
  if facade then package.loaded.ebpfdsl = facade("ebpfdsl", init) end
end
local value = require "ebpfdsl._trace_value"
local ir = require "ebpfdsl._trace_ir"
-- maps (bpftrace's @name) are loaded by the first session that uses one
local function maps() return require "ebpfdsl._trace_maps" end
local output = require "ebpfdsl._trace_output"
local probes = require "ebpfdsl._trace_probes"
require "ebpfdsl._trace_types"

local type, ipairs, pairs, tostring, select = type, ipairs, pairs, tostring, select
local fail, K = ir.fail, value.K

local function in_body(what)
  local fn = value.current
  if not fn then fail(("trace: %s works inside a probe body"):format(what)) end
  return fn
end

-- A copy of an int value with a formatter for user space.
local function formatted(x, name, what)
  if value.current then value.current.session_symbolic = true end
  local v = value.val(x, what)
  local t = v[K]
  if t.kind ~= "int" then fail(("trace: %s takes a number, got %s"):format(what, value.shown(x))) end
  return value.int(t.fn, t.v, t.size, t.signed, t.clean, name)
end

-- Whether user space shows some value of the session through a formatter
-- (a syscall's name, a stack, an address, joined strings).
local function shows_formatted(st)
  for _, site in ipairs(st.out.sites) do
    for _, it in ipairs(site.items or {}) do if it.fmt then return true end end
    for _, p in ipairs(site.pieces or {}) do if p.item and p.item.fmt then return true end end
  end
  for _, m in ipairs(st.map_order) do
    local d = m[K]
    if d.extra and d.extra.fmt then return true end
    for _, c in ipairs(d.comps or {}) do if c.fmt or c.kind == "ustack" then return true end end
  end
  return false
end

-- The metatable of what T.options returns.
local OPTIONS = { __name = "ebpfdsl.trace.Options" }

local function session()
  local S = {}
  local st = { probes = {}, maps = {}, map_order = {}, users = { begin = {}, finish = {}, interval = {} } }
  local out = output.new(st)
  st.out = out

  -- Maps: T.maps.name, created on first mention ------------------------------
  local map_objs = {}
  function st.map_defined(_, m) st.map_order[#st.map_order + 1] = m end
  S.maps = setmetatable({}, {
    __index = function(_, name)
      if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
        fail("trace: a map name must be an identifier, got " .. value.shown(name))
      end
      local m = map_objs[name]
      if not m then
        m = maps().new(st, name)
        map_objs[name] = m
      end
      return m
    end,
    __newindex = function(t, name, v)
      local m = t[name]
      if not value.current then fail("trace: maps are written by probes: assign T.maps." .. name .. " in a body") end
      maps().assign(m, nil, v)
    end,
  })

  function st.stack_ref()
    if not st.stack_map_ref then
      st.stack_map_ref = { bpf_map = function()
        if not st.stacks then
          -- (creating one costs about 7 us per entry: 1024 unless asked)
          local m, msg = require("ebpfdsl.maps").stack_trace { max_entries = st.stack_entries or 1024,
                                                               name = "trace_stacks" }
          if not m then error("trace: creating the stack map: " .. tostring(msg), 0) end
          st.stacks = m
        end
        return st.stacks
      end }
    end
    return st.stack_map_ref
  end

  -- User-space formatting of values marked by T.syscall_name, T.ksym...
  function st.formatters(name, v, where)
    return require("ebpfdsl._trace_format").format(st, name, v, where)
  end

  -- Probes --------------------------------------------------------------------
  local function add(kind, ...)
    if st.built then fail("trace: probes must be declared before the session runs") end
    local n = select("#", ...)
    local body = select(n, ...)
    local pr = probes.new(st, kind, body, select(1, ...))
    st.probes[#st.probes + 1] = pr
    return pr
  end
  function S.tracepoint(name, fn) return add("tracepoint", name, fn) end
  function S.rawtracepoint(name, fn) return add("rawtracepoint", name, fn) end
  function S.kprobe(name, fn) return add("kprobe", name, fn) end
  function S.kretprobe(name, fn) return add("kretprobe", name, fn) end
  function S.fentry(name, fn) return add("fentry", name, fn) end
  function S.fexit(name, fn) return add("fexit", name, fn) end
  function S.uprobe(binary, symbol, fn) return add("uprobe", binary, symbol, fn) end
  function S.uretprobe(binary, symbol, fn) return add("uretprobe", binary, symbol, fn) end
  function S.profile(hz, fn) return add("profile", hz, fn) end
  -- T.has(kind) -> true | false, why: whether this kernel attaches such probes
  S.has = probes.has

  -- User-space hooks: run by the runner, in Lua.
  local function hook(list, what, f, extra)
    if type(f) ~= "function" then fail(("trace: %s takes a function"):format(what)) end
    local h = { fn = f }
    for k, v in pairs(extra or {}) do h[k] = v end
    list[#list + 1] = h
    return h
  end
  function S.begin(f) return hook(st.users.begin, "begin", f) end
  function S.finish(f) return hook(st.users.finish, "finish", f) end
  function S.interval(seconds, f)
    if type(seconds) ~= "number" or seconds <= 0 then fail("trace: interval: seconds must be a positive number") end
    return hook(st.users.interval, "interval", f, { seconds = seconds })
  end

  -- Body words ------------------------------------------------------------------
  function S.filter(c)
    local fn = in_body("T.filter")
    value.jump_false(fn, c, fn.exit_label, true)
  end

  function S.when(c, yes, no)
    local fn = in_body("T.when")
    if type(yes) ~= "function" or (no ~= nil and type(no) ~= "function") then
      fail("trace: T.when(condition, function[, function])")
    end
    local other = fn:newlabel("else")
    value.jump_false(fn, c, other)
    fn:open_scope()
    yes()
    fn:close_scope()
    if no then
      local join = fn:newlabel("endif")
      fn:ja(join)
      fn:label(other)
      fn:open_scope()
      no()
      fn:close_scope()
      fn:label(join)
    else
      fn:label(other)
    end
  end

  -- T.select(c, a, b) -> a when c holds, else b (integers)
  function S.select(c, a, b)
    local fn = in_body("T.select")
    local va, vb = value.val(a, "select's first value"), value.val(b, "select's second value")
    local ta, tb = va[K], vb[K]
    local r = fn:v()
    local other, join = fn:newlabel("else"), fn:newlabel("endif")
    value.jump_false(fn, c, other)
    fn:emit { op = "mov", dst = r, a = value.wide(va) }
    fn:ja(join)
    fn:label(other)
    fn:emit { op = "mov", dst = r, a = value.wide(vb) }
    fn:label(join)
    return value.int(fn, r, 8, ta.signed and tb.signed)
  end

  S.not_ = value.negate

  function S.count() return maps().agg("count") end
  function S.sum(x) return maps().agg("sum", x) end
  function S.min(x) return maps().agg("min", x) end
  function S.max(x) return maps().agg("max", x) end
  function S.avg(x) return maps().agg("avg", x) end
  function S.hist(x) return maps().agg("hist", x) end
  function S.lhist(x, lo, hi, step)
    for i, a in ipairs { lo, hi, step } do
      if math.tointeger(a) == nil then fail(("trace: lhist: argument %d must be an integer"):format(i + 1)) end
    end
    if step <= 0 or hi <= lo then fail("trace: lhist(x, min, max, step) needs min < max and step > 0") end
    if (hi - lo) % step ~= 0 then fail("trace: lhist: max - min must be a multiple of step") end
    if not (ir.fits_imm(lo) and ir.fits_imm(hi)) then fail("trace: lhist: bounds must fit 32 bits") end
    return maps().agg("lhist", x, { min = lo, max = hi, step = step })
  end

  function S.delete(m, key)
    if getmetatable(m) ~= maps().Map then fail("trace: T.delete(T.maps.name, key)") end
    if value.current then return maps().delete(m, key) end
    local d = m[K]
    if d.bpf then
      local list = type(key) == "table" and key or { key }
      local k = {}
      for i, x in ipairs(list) do k["k" .. i] = x end
      d.bpf:delete(d.key and k or 0)
    end
  end

  function S.clear(m)
    if getmetatable(m) ~= maps().Map then fail("trace: T.clear(T.maps.name)") end
    m:clear()
  end

  function S.printf(fmt, ...)
    if value.current then return out:printf(fmt, ...) end
    io.write(require("ebpfdsl._trace_format").printf(fmt, ...))
  end
  function S.emit(t) in_body("T.emit"); return out:emit(t) end

  -- T.exit(): the run ends (after printing what came before), from a
  -- probe body or a user-space hook.
  function S.exit()
    if value.current then return out:exit() end
    st.stop_requested = true
  end

  -- Formatters: the value stays a number in the program; user space shows it.
  function S.syscall_name(x) return formatted(x, "syscall", "syscall_name") end
  function S.ksym(x) return formatted(x, "ksym", "ksym") end
  function S.ntop(x)
    local function bytes(str)
      local t = str[K]
      return value.str(t.fn, t.n, t.write, { buf = true, fmt = "ntop" })
    end
    if value.is(x) and x[K].kind == "place" then
      local ct = x[K].ctype
      local n = ct.kind == "array" and ct.n * ct.elem_size or ct.size
      if n ~= 4 and n ~= 16 then fail("trace: ntop takes the 4 or 16 bytes of an IP address, got " .. tostring(n)) end
      return bytes(value.place_bytes(x, n))
    end
    local v = value.val(x, "ntop")
    local t = v[K]
    if t.kind == "int" and t.size == 4 and t.place and (t.place[K].how == "kernel" or t.place[K].how == "user") then
      -- an IPv4 address (__be32) read with a helper: its bytes go straight
      -- where they are used (the load into a register, unused, goes)
      return bytes(value.place_bytes(t.place, 4))
    end
    if t.kind == "int" and t.size == 4 and type(t.v) ~= "number" then
      -- an IPv4 address in a register: its bytes as they were in memory
      return value.str(t.fn, 4, function(f, base, off) f:st("w", base, off, t.v) end, { buf = true, fmt = "ntop" })
    end
    if t.kind ~= "str" then
      fail("trace: ntop takes an address: a 4 or 16 byte field, a 32-bit integer, or p.buf(ptr, 4 or 16)")
    end
    return bytes(v)
  end

  -- T.bswap(x): x's bytes in the reverse order (bpftrace's bswap), as wide as
  -- its type: a port in network order in host order
  function S.bswap(x)
    local fn = in_body("T.bswap")
    local v = value.val(x, "bswap's value")
    local t = v[K]
    if t.kind ~= "int" then fail("trace: bswap takes an integer") end
    if type(t.v) == "number" then
      local n = t.size
      local k = 0
      for i = 0, n - 1 do k = k | (((t.v >> (8 * i)) & 0xff) << (8 * (n - 1 - i))) end
      return value.const(k)
    end
    local d = fn:v()
    fn:emit { op = "bswap", dst = d, a = t.v, bits = t.size * 8 }
    return value.int(fn, d, t.size, false, true)
  end

  -- Building and running --------------------------------------------------------

  -- Runs every body, creates the maps, loads and attaches the programs.
  function S.start(opts)
    opts = opts or {}
    if st.started then fail("trace: this session has already run; T.new() makes another") end
    st.started = true
    st.ring_size = opts.ring
    st.max_entries, st.stack_entries, st.cpu = opts.keys, opts.stacks, opts.cpu
    -- on the way out, whatever happens: events prefetched and not
    -- attached are closed; after an error, what was attached is detached
    local _ <close> = setmetatable({}, { __close = function(_, err)
      require("ebpfdsl.core").uprobe_prefetch_drop()
      if err ~= nil then S.stop() end
    end })
    for _, pr in ipairs(st.probes) do pr:prefetch(opts) end
    for _, pr in ipairs(st.probes) do pr:build(opts) end
    st.built = true
    -- what the run needs after attaching is loaded now: reading a module
    -- then would be traced too (opens, reads of this very process)
    require "ebpfdsl.ringbuf"
    require "ebpfdsl._trace_run"
    if #st.map_order > 0 then require "ebpfdsl.report" end
    if shows_formatted(st) then require "ebpfdsl._trace_format" end
    if st.symbolic then require "ebpfdsl.symbols" end
    -- every program is loaded before the first attach, so that an
    -- attach that waits in the kernel (a uprobe's) is the last thing
    for _, pr in ipairs(st.probes) do
      local prog, msg = pr:load()
      if not prog then error(msg, 0) end
    end
    for _, pr in ipairs(st.probes) do
      local linked, msg = pr:attach(opts)
      if not linked then error(msg, 0) end
    end
    return S
  end

  function S.stop()
    for _, pr in ipairs(st.probes) do pr:detach() end
  end

  -- T.run([opts][, more]): opts may be what T.options gave, whose
  -- tool-specific fields (flags, arguments) are not the runner's.
  function S.run(opts, more)
    local o = {}
    for _, t in ipairs { opts or {}, more or {} } do
      if type(t) ~= "table" then fail("trace: T.run takes option tables") end
      local parsed = getmetatable(t) == OPTIONS
      for k, v in pairs(t) do
        if not parsed or k == "pid" or k == "duration" or k == "interval" then o[k] = v end
      end
    end
    return require("ebpfdsl._trace_run").run(S, st, o)
  end

  -- T.options(spec[, argv]): argv defaults to the script's `arg`.
  function S.options(spec, argv)
    if type(spec) ~= "table" then fail("trace.options: expects a table {\"usage\", pid = true, ...}") end
    if argv ~= nil and type(argv) ~= "table" then fail("trace.options: argv must be a list of strings") end
    local script = (arg and arg[0]) or "tool"
    local o, err, text = require("ebpfdsl._trace_options").parse(spec, argv or arg or {}, script)
    if o and o.help then
      io.stdout:write(text)
      os.exit(0)
    end
    if not o then
      io.stderr:write(script, ": ", err, "\n", text)
      os.exit(2)
    end
    return setmetatable(o, OPTIONS)
  end

  -- Inspection.
  function S.probes() return st.probes end
  function S.lost()
    if not st.out.loss then return 0 end
    local v = st.out.loss[0]
    return v and v.sum or 0
  end

  -- T.compile(kind, target..., fn) -> the instruction list of a probe of
  -- this session that never runs (its maps are the session's), and the
  -- probe.
  function S.compile(kind, ...)
    if not probes.KINDS[kind] then fail("trace: compile: unknown probe kind '" .. tostring(kind) .. "'") end
    local n = select("#", ...)
    local pr = probes.new(st, kind, select(n, ...), ...)
    return pr:insns(), pr
  end

  S.new = session
  S._state = st
  return S
end

return session()
