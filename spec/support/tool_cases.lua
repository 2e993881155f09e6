-- SPDX-License-Identifier: MIT
-- The workloads the tools of tools/ are checked on, each with the exact
-- output it must give: children of the spec (support/trace_target) that
-- wait until the tool has printed its header, then do known work. A case
-- runs as a user runs the tool (lua5.4 tools/NAME.lua -p PID, ended by
-- SIGINT as on Ctrl-C), or in this process with its programs swapped for
-- others (spec 84: the hand-written ones), and the same check applies.
local env = require "support.env"
local target = require "support.trace_target"
local assert = require "luassert"

local M = {}

M.NEEDS = { "bpf", "tracefs", "gcc" }
M.UPROBE = { "bpf", "tracefs", "gcc", "attach:uprobe" }
M.KPROBE = { "bpf", "tracefs", "gcc", "attach:kprobe" }

-- bpftrace's histogram line: label in 16 columns, count in 8, a 52-wide bar.
local function hist_line(label, count, max)
  return ("%-16s%8d |%-52s|\n"):format(label, count, ("@"):rep(count * 52 // max))
end
M.hist_line = hist_line

-- bpftrace's log2 bucket of a non-negative value, and its label.
local function bucket(v)
  if v == 0 then return 1 end
  local k = 0
  while v >= 2 do v, k = v // 2, k + 1 end
  return k + 2
end
M.bucket = bucket

local function label(i)
  local function n(x)
    for _, u in ipairs { { 1 << 30, "G" }, { 1 << 20, "M" }, { 1 << 10, "K" } } do
      if x >= u[1] and x % u[1] == 0 then return (x // u[1]) .. u[2] end
    end
    return tostring(x)
  end
  if i == 1 then return "[0]" end
  local lo = 1 << (i - 2)
  if lo == 1 then return "[1]" end
  return ("[%s, %s)"):format(n(lo), n(lo * 2))
end
M.label = label

-- The lines of a histogram with these counts by bucket.
local function hist_text(counts)
  local lo, hi, max = math.huge, 0, 0
  for i, c in pairs(counts) do lo, hi, max = math.min(lo, i), math.max(hi, i), math.max(max, c) end
  local out = {}
  for i = lo, hi do out[#out + 1] = hist_line(label(i), counts[i] or 0, max) end
  return table.concat(out)
end
M.hist_text = hist_text

-- The counts by bucket of a histogram's text.
local function hist_counts(text)
  local counts, total = {}, 0
  for lbl, n in text:gmatch("(%[[^\n]-[%]%)])%s+(%d+) |[@ ]*|\n") do
    for i = 1, 64 do if label(i) == lbl then counts[i] = tonumber(n) end end
    total = total + tonumber(n)
  end
  return counts, total
end

-- A case: tool, needs, setup() -> c (the children; c.t the one -p names),
-- argv(c) (the tool's arguments after -p PID), go(c) (once the header is
-- out), lines (the event lines to wait for before stopping; none for
-- summary tools), check(c, out).
local C = {}
M.cases = C

C.opensnoop = {
  tool = "opensnoop", needs = M.NEEDS, lines = 1,
  setup = function()
    local path = env.tmpdir() .. "/opened-by-the-child"
    return { t = target.start { "open", path }, path = path }
  end,
  check = function(c, out)
    assert.equal(("%-7s %-16s %s\n%-7d %-16s %s\n"):format("PID", "COMM", "FILE", c.t.pid, "trace_target", c.path), out)
  end,
}

C.execsnoop = {
  tool = "execsnoop", needs = M.NEEDS, lines = 1,
  setup = function() return { t = target.start { "exec", "/bin/true", "--first", "2nd", "x=y" } } end,
  check = function(c, out)
    assert.equal(("%-7s %-7s %s\n%-7d %-7d %s\n"):format("PID", "PPID", "ARGS", c.t.pid, c.t.ppid,
      "/bin/true --first 2nd x=y"), out)
  end,
}

local EXIT_HEAD = ("%-16s %-7s %-7s %-4s %s\n"):format("PCOMM", "PID", "PPID", "CODE", "SIG")
C.exitsnoop = {
  tool = "exitsnoop", needs = M.NEEDS, lines = 1,
  setup = function() return { t = target.start { "exit", "3" } } end,
  check = function(c, out)
    assert.equal(EXIT_HEAD .. ("%-16s %-7d %-7d %-4d %d\n"):format("trace_target", c.t.pid, c.t.ppid, 3, 0), out)
  end,
}

C.exitsnoop_signal = {
  tool = "exitsnoop", needs = M.NEEDS, lines = 1,
  setup = function() return { t = target.start {} } end,
  go = function(c) os.execute("kill -TERM " .. c.t.pid) end,
  check = function(c, out)
    assert.equal(EXIT_HEAD .. ("%-16s %-7d %-7d %-4d %d\n"):format("trace_target", c.t.pid, c.t.ppid, 0, 15), out)
  end,
}

C.killsnoop = {
  tool = "killsnoop", needs = M.NEEDS, lines = 2,
  setup = function()
    local victim = target.start {}
    return { victim = victim, t = target.start { "kill", tostring(victim.pid), "15", "kill", "2147483647", "9" } }
  end,
  check = function(c, out)
    assert.equal(143, c.victim.wait()) -- 128 + SIGTERM, as the shell reports it
    local line = "%-7d %-16s %-4d %-7d %d\n"
    assert.equal(("%-7s %-16s %-4s %-7s %s\n"):format("PID", "COMM", "SIG", "TPID", "RESULT") ..
      line:format(c.t.pid, "trace_target", 15, c.victim.pid, 0) ..
      line:format(c.t.pid, "trace_target", 9, 2147483647, -3), out) -- ESRCH
  end,
}

C.syscount = {
  tool = "syscount", needs = M.NEEDS,
  setup = function() return { t = target.start { "getppid", "100" } } end,
  check = function(_, out)
    assert.equal("Tracing syscalls... Hit Ctrl-C to end.\n\n\n" ..
      "@calls[trace_target, exit_group]: 1\n" ..
      "@calls[trace_target, getppid]: 100\n", out)
  end,
}

C.readhist = {
  tool = "readhist", needs = M.NEEDS,
  setup = function() return { t = target.start { "read", "100", "100" } } end,
  check = function(_, out)
    assert.equal("Tracing read() sizes... Hit Ctrl-C to end.\n\n\n@bytes: \n" .. hist_line("[64, 128)", 100, 100) ..
      "\n", out)
  end,
}

-- trace_target_sleep(us) lasts at least us, and at most what the child
-- measured around the call (the probes fire within): a call's bucket is
-- known when both ends fall in one bucket, as they do unless the machine
-- is loaded enough to add 8 ms to a sleep; else each call must be in a
-- bucket of its range.
C.funclatency = {
  tool = "funclatency", needs = M.UPROBE,
  setup = function() return { t = target.start { "tsleep", "8200", "8200", "8200", "65600", "65600" } } end,
  argv = function() return { target.binary(), "trace_target_sleep" } end,
  check = function(c, out)
    local calls = {}
    for us, ns in c.t.output():gmatch("slept (%d+) (%d+)") do
      calls[#calls + 1] = { lo = bucket(tonumber(us)), hi = bucket(tonumber(ns) // 1000) }
    end
    assert.equal(5, #calls)
    local head = ("Tracing trace_target_sleep in %s... Hit Ctrl-C to end.\n\n\n@usecs: \n"):format(target.binary())
    local exact, counts = true, {}
    for _, x in ipairs(calls) do
      exact = exact and x.lo == x.hi
      counts[x.lo] = (counts[x.lo] or 0) + 1
    end
    if exact then return assert.equal(head .. hist_text(counts) .. "\n", out) end
    -- the printed counts matched to the calls: ranges by their end, each
    -- taking the lowest printed bucket it can
    assert.equal(head, out:sub(1, #head))
    local got = {}
    for i, n in pairs(hist_counts(out)) do for _ = 1, n do got[#got + 1] = i end end
    table.sort(got)
    table.sort(calls, function(a, b) return a.hi < b.hi end)
    assert.equal(#calls, #got, out)
    for _, x in ipairs(calls) do
      local pick
      for j, b in ipairs(got) do if b >= x.lo and b <= x.hi then pick = j break end end
      assert.truthy(pick, out)
      table.remove(got, pick)
    end
  end,
}

-- Connects to a port nothing listens on (each sends its SYN, then is
-- refused), over IPv4 and IPv6 loopback. flags: {"-t"} for the tracepoint.
local function tcpconnect(needs, flags)
  return {
    tool = "tcpconnect", needs = needs, lines = 2,
    setup = function()
      local port = 20000 + math.random(10000)
      return { t = target.start { "connect", tostring(port), "connect6", tostring(port) }, port = port }
    end,
    argv = function() return flags end,
    check = function(c, out)
      local line = "%-7d %-16s %-2d %-16s %-16s %d\n"
      assert.equal(("%-7s %-16s %-2s %-16s %-16s %s\n"):format("PID", "COMM", "IP", "SADDR", "DADDR", "DPORT") ..
        line:format(c.t.pid, "trace_target", 4, "127.0.0.1", "127.0.0.1", c.port) ..
        line:format(c.t.pid, "trace_target", 6, "::1", "::1", c.port), out)
    end,
  }
end
C.tcpconnect = tcpconnect(M.NEEDS, { "-t" })
C.tcpconnect_kprobe = tcpconnect(M.KPROBE, {})

-- A loaded machine adds preemptions (each queues the child again) and
-- latency: what holds anyway is an entry for each sleep's wakeup, in a
-- histogram as bpftrace prints one. The go signal's wakeup is not counted
-- on: if it lands before the child has left the CPU to wait for it (a busy
-- machine, a stolen vCPU), the kernel makes it runnable where it stands and
-- no switch-in follows, in bpftrace's runqlat too. Sleeps of 5 ms leave the
-- CPU long before their timer fires.
local SLEEPS, SLEEP_US = 10, "5000"
C.runqlat = {
  tool = "runqlat", needs = M.NEEDS,
  setup = function()
    local args = { "sleep" }
    for i = 1, SLEEPS do args[i + 1] = SLEEP_US end
    return { t = target.start(args) }
  end,
  check = function(_, out)
    local head = "Tracing run queue latency... Hit Ctrl-C to end.\n\n\n@usecs: \n"
    assert.equal(head, out:sub(1, #head))
    local counts, total = hist_counts(out:sub(#head + 1))
    assert.is_true(total >= SLEEPS, out)
    assert.equal(head .. hist_text(counts) .. "\n", out)
  end,
}

C.profile = {
  tool = "profile", needs = { "bpf", "tracefs", "gcc", "attach:perf_event" },
  setup = function() return { t = target.start { "spin", "500" } } end,
  check = function(_, out)
    local head = "Sampling at 99 Hertz of all threads by user + kernel stack... Hit Ctrl-C to end.\n\n\n"
    assert.equal(head, out:sub(1, #head))
    -- samples in user mode: an empty kernel stack, then the user stack
    assert.truthy(out:find("\n@samples%[\n, \n    trace_target_spin%+%d+\n    main%+%d+\n[^@]-, trace_target%]: %d+\n"),
      out)
    local total = 0
    for n in out:gmatch("%]: (%d+)\n") do total = total + tonumber(n) end
    assert.is_true(total >= 10, out) -- 99 Hz for 0.5 s of the child's CPU time
  end,
}

local function argv_of(case, c)
  local a = { "-p", c.t.pid }
  for _, x in ipairs(case.argv and case.argv(c) or {}) do a[#a + 1] = x end
  return a
end

local function count_lines(s)
  local n = 0
  for _ in s:gmatch("\n") do n = n + 1 end
  return n
end

-- Runs a case as a user runs the tool: returns nothing, checks all.
function M.run(case)
  local c = case.setup()
  local tool = target.tool("tools/" .. case.tool .. ".lua", table.unpack(argv_of(case, c)))
  tool.wait_line("^%u")
  c.types = M.prog_types(tool.pid)
  if case.go then case.go(c) else c.t.go() end
  c.t.wait()
  if case.lines then
    target.wait_for(("%d lines from %s"):format(case.lines, case.tool), function()
      return count_lines(tool.output()) >= case.lines + 1
    end)
  end
  tool.interrupt()
  local rc, out, err = tool.wait()
  assert.equal(0, rc, err)
  assert.equal("", err)
  case.check(c, out)
  return c
end

-- Runs a case in this process, from the tool's file (support.tool_session),
-- with prepare(S, opts) called once the probes are declared (to build them
-- and swap their programs); the run ends once the children are done and
-- the lines are out.
function M.run_here(case, prepare)
  local ts = require "support.tool_session"
  local c = case.setup()
  local S, run, opts = ts.load(case.tool, argv_of(case, c))
  prepare(S, opts)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  S.begin(function() if case.go then case.go(c) else c.t.go() end end)
  S.interval(0.02, function()
    if not c.t.exited() then return end
    if case.lines then
      f:flush()
      if count_lines(target.read(path)) < case.lines + 1 then return end
    end
    S.exit()
  end)
  local saved = io.output()
  io.output(f)
  local ok, err = pcall(run, { duration = 30 })
  io.output(saved)
  f:close()
  local out = target.read(path)
  os.remove(path)
  assert(ok, err)
  case.check(c, out)
  return c, S
end

-- The program types a process has loaded, from its file descriptors'
-- fdinfo (the kernel's word): {[2] = true} for kprobe, 5 tracepoint...
function M.prog_types(pid)
  local types = {}
  for fd in env.run("ls /proc/" .. pid .. "/fd"):gmatch("%d+") do
    local info = target.read(("/proc/%d/fdinfo/%s"):format(pid, fd)) or ""
    local ty = info:match("prog_type:%s*(%d+)")
    if ty then types[tonumber(ty)] = true end
  end
  return types
end

return M
