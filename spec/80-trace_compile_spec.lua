-- SPDX-License-Identifier: MIT
-- The ebpfdsl.trace compiler against Lua's own arithmetic: random programs
-- of integer expressions over a uprobe's two arguments, with helper calls
-- (map updates) between them so that values live across calls, in r6-r9
-- and on the stack; the kernel computes them on a child's call, Lua
-- computes them on the same numbers, and the two must agree. Then the
-- compiler's visible decisions: registers, sinking, stack sharing, the
-- user's line of each instruction, options.
local env = require "support.env"
local target = require "support.trace_target"
local trace = require "ebpfdsl.trace"

local UPROBE = { "bpf", "tracefs", "gcc", "uprobe" }
local BUILD = { "bpf", "tracefs" }

local function run_add(S, a, b)
  local t = target.start { "add", tostring(a), tostring(b) }
  S.tracepoint("sched:sched_process_exit", function() S.exit() end)
  S.begin(function() t.go() end)
  local events = {}
  S.run { pid = t.pid, duration = 20, print = false, on_event = function(e) events[#events + 1] = e end }
  t.wait()
  return events
end

-- A random program: statements v_i = op(operands), where operands are the
-- two arguments, earlier values and constants; every few statements a map
-- update (a helper call). Each op has a Lua twin with BPF's semantics.
local OPS = {
  { "+", function(x, y) return x + y end, function(x, y) return x + y end },
  { "-", function(x, y) return x - y end, function(x, y) return x - y end },
  { "*", function(x, y) return x * y end, function(x, y) return x * y end },
  { "&", function(x, y) return x & y end, function(x, y) return x & y end },
  { "|", function(x, y) return x | y end, function(x, y) return x | y end },
  { "~", function(x, y) return x ~ y end, function(x, y) return x ~ y end },
}

local function random_program(rng, nstmts)
  local stmts = {}
  for i = 1, nstmts do
    local kind = rng(10)
    local function operand()
      local r = rng(10)
      if r <= 3 or i == 1 then return { arg = rng(2) } end
      if r <= 5 then return { const = rng(2) == 1 and rng(1000) or (rng(2) == 1 and -rng(100000) or rng(1 << 40)) } end
      return { v = rng(i - 1) }
    end
    if kind <= 6 then
      stmts[i] = { op = OPS[rng(#OPS)], a = operand(), b = operand() }
    elseif kind == 7 then
      stmts[i] = { shift = rng(2) == 1 and "<<" or ">>", a = operand(), k = rng(64) - 1 }
    elseif kind == 8 then
      stmts[i] = { div = rng(2) == 1 and "//" or "%", a = operand(), k = rng(1000) }
    elseif kind == 9 then
      stmts[i] = { unary = rng(2) == 1 and "-" or "~", a = operand() }
    else
      stmts[i] = { op = OPS[1], a = operand(), b = operand(), call = true }
    end
  end
  return stmts
end

local function udiv(a, b) -- b > 0
  if a >= 0 then return a // b end
  local q = ((a >> 1) // b) << 1
  local r = a - q * b
  if not math.ult(r, b) then q = q + 1 end
  return q
end

-- eval(stmts, args[, S]): with S, on the probe's values in its body (and
-- noting which operations the compiler saw as symbolic, signed or not);
-- without, in Lua with BPF's semantics where the compiler emitted code:
-- unsigned division, arithmetic right shift of signed values.
local value = require "ebpfdsl._trace_value"
local function eval(stmts, args, S)
  local out = {}
  local function get(o)
    if o.arg then return args[o.arg] end
    if o.const then return o.const end
    return out[o.v]
  end
  for i, s in ipairs(stmts) do
    local a = get(s.a)
    if S then
      s.sym = value.is(a)
      s.signed = s.sym and value.fields(a).signed
    end
    local v
    if s.op then
      v = s.op[2](a, get(s.b))
    elseif s.shift == "<<" then
      v = a << s.k
    elseif s.shift then
      v = (s.signed and not S) and (a >> s.k) | (a < 0 and ~(-1 >> s.k) or 0) or a >> s.k
    elseif s.div then
      if s.sym and not S then
        v = s.div == "//" and udiv(a, s.k) or a - udiv(a, s.k) * s.k
      else
        v = s.div == "//" and a // s.k or a % s.k
      end
    else
      v = s.unary == "-" and -a or ~a
    end
    if s.call and S then S.maps.calls = S.count() end
    out[i] = v
  end
  return out
end

describe("the compiler", function()
  env.it("computes random programs as Lua does, with values across helper calls", UPROBE, function()
    local seed = tonumber(os.getenv("TRACE_SEED") or "") or os.time()
    local state = seed
    local function rng(n) -- a small LCG: the same program from the same seed
      state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
      return (state >> 20) % n + 1
    end
    for round = 1, 3 do
      local stmts = random_program(rng, 28)
      local a, b = rng(1 << 30) * rng(1 << 20), rng(1 << 16)
      local S = trace.new()
      S.uprobe(target.binary(), "trace_target_add", function(p)
        local vals = eval(stmts, { p.args[1], p.args[2] }, S)
        -- everything at once, at the end: all of them live across the calls
        local rec = {}
        for i, v in ipairs(vals) do rec["v" .. i] = v end
        S.emit(rec)
      end)
      local events = run_add(S, a, b)
      local want = eval(stmts, { a, b })
      assert.equal(1, #events, "seed " .. seed)
      for i, v in ipairs(want) do
        assert.equal(v, events[1]["v" .. i], ("seed %d, round %d, value %d"):format(seed, round, i))
      end
    end
  end)

  env.it("keeps values across calls when r6-r9 are not enough: six clocks in order", UPROBE, function()
    local S = trace.new()
    S.uprobe(target.binary(), "trace_target_add", function(p)
      local t = {}
      for i = 1, 7 do t[i] = p.nsecs end
      S.emit { t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7],
               d = t[7] - t[1], e = t[4] - t[3] + t[6] - t[5] }
    end)
    local insns = S.probes()[1]:insns()
    local spills = 0
    for _, x in ipairs(insns) do
      if x.op == "stx" and x.dst == "r10" then spills = spills + 1 end
    end
    assert.is_true(spills >= 3, "values stored on the stack: " .. spills)
    local e = run_add(S, 1, 2)[1]
    for i = 1, 6 do assert.is_true(e["t" .. i] < e["t" .. (i + 1)]) end
    assert.equal(e.t7 - e.t1, e.d)
    assert.equal(e.t4 - e.t3 + e.t6 - e.t5, e.e)
  end)
end)

describe("generated code", function()
  local dsl = require "ebpfdsl.dsl"

  env.it("puts helper arguments straight into r1-r5 and sinks pure values to their use", BUILD, function()
    local T = trace.new()
    local insns = T.compile("tracepoint", "syscalls:sys_enter_openat", function(p)
      T.printf("%d %s %s\n", p.pid, p.comm, p.str(p.args.filename, 256))
    end)
    local text = dsl.dump(insns)
    -- get_current_pid_tgid comes after the reservation: nothing holds the
    -- pid across ringbuf_reserve
    assert.truthy(text:find("ringbuf_reserve.*get_current_pid_tgid"), text)
    -- the filename pointer is loaded into r3 for probe_read_user_str
    assert.truthy(text:find("r3 = %*%(u64 %*%)%(r6 %+ 0x18%)\n[^\n]*\n[^\n]*\n[^\n]*\n[^\n]*probe_read_user_str"), text)
    local n = 0
    for _, x in ipairs(insns) do if x.op ~= "label" then n = n + 1 end end
    assert.is_true(n <= 36, n)
  end)

  env.it("shares stack bytes between buffers that do not live at once", BUILD, function()
    local T = trace.new()
    local _, pr = T.compile("tracepoint", "syscalls:sys_enter_openat", function(p)
      T.maps.a[p.str(p.args.filename, 200)] = T.count()
      T.maps.b[p.str(p.args.filename, 200)] = T.count()
    end)
    -- two 200-byte keys and two 8-byte values, one after the other
    assert.is_true(pr.stack_depth <= 216, pr.stack_depth)
  end)

  env.it("remembers the user's line of each instruction slot", BUILD, function()
    local T = trace.new()
    local line = debug.getinfo(1, "l").currentline + 2
    local _, pr = T.compile("tracepoint", "syscalls:sys_enter_openat", function(p)
      T.maps.n[p.pid] = T.count()
    end)
    local file = "spec/80-trace_compile_spec.lua:"
    local mine = 0
    for _, where in pairs(pr.lines) do
      if where == file .. line then mine = mine + 1 end
    end
    assert.is_true(mine >= 10, mine)
  end)

  it("raises for options no tool knows, and parses what tools take", function()
    local opts = require "ebpfdsl._trace_options"
    local o = assert(opts.parse({ "x", pid = true, duration = true }, { "-p", "12", "-d", "1.5" }, "t"))
    assert.equal(12, o.pid)
    assert.equal(1.5, o.duration)
    local bad, err, usage = opts.parse({ "x", pid = true }, { "-d", "1" }, "t")
    assert.is_nil(bad)
    assert.equal("unknown option -d", err)
    assert.equal("usage: t [-p PID] [-h]\nx\n  -p PID      trace this process only\n" ..
      "  -h          show this help and exit\n", usage)
    assert.is_nil((opts.parse({ "x", pid = true }, { "-p", "0" }, "t")))
    assert.is_nil((opts.parse({ "x", pid = true }, { "-p" }, "t")))
    o = assert(opts.parse({ "x", flags = { { "m", "ms", "milliseconds" } }, args = { "FUNC" } }, { "-m", "c:malloc" },
      "t"))
    assert.is_true(o.ms)
    assert.equal("c:malloc", o.func)
    assert.is_nil((opts.parse({ "x", args = { "FUNC" } }, {}, "t")))
  end)
end)
