-- SPDX-License-Identifier: MIT
-- The tools on ebpfdsl.trace, run as a user runs them (lua5.4 tools/NAME.lua
-- -p PID from the repository root), each against a child of this spec
-- (spec/support/trace_target.c) that waits until the tool has printed its
-- header and then does exactly known work; the output is compared whole.
-- Summary tools end on SIGINT, as on Ctrl-C, and exit 0. Each tool stays
-- within its number of lines that are neither blank nor comments.
local env = require "support.env"
local target = require "support.trace_target"

local NEEDS = { "bpf", "tracefs", "gcc" }
local UPROBE = { "bpf", "tracefs", "gcc", "uprobe" }

-- Lines of code each tool may have (issue 8): the five everyday ones 12,
-- the others 20.
local LIMITS = { opensnoop = 12, execsnoop = 12, syscount = 12, readhist = 12, funclatency = 12, exitsnoop = 20,
                 killsnoop = 20, tcpconnect = 20, runqlat = 20, profile = 20 }
local TOOLS = {}
for name in pairs(LIMITS) do TOOLS[#TOOLS + 1] = name end
table.sort(TOOLS)

-- bpftrace's histogram line: label in 16 columns, count in 8, a 52-wide bar.
local function hist_line(label, count, max)
  return ("%-16s%8d |%-52s|\n"):format(label, count, ("@"):rep(count * 52 // max))
end

local function code_lines(path)
  local n = 0
  for line in io.lines(path) do
    if not line:match("^%s*$") and not line:match("^%s*%-%-") and not line:match("^#!") then n = n + 1 end
  end
  return n
end

describe("the tools", function()
  it("are the ten of issue 8, no more", function()
    local found = {}
    for f in env.run("ls tools"):gmatch("[^\n]+") do found[#found + 1] = f:match("^(.-)%.lua$") or f end
    table.sort(found)
    assert.same(TOOLS, found)
  end)

  for _, name in ipairs(TOOLS) do
    it(("%s is at most %d lines of code, options included"):format(name, LIMITS[name]), function()
      assert.is_true(code_lines("tools/" .. name .. ".lua") <= LIMITS[name])
    end)
  end

  it("print their usage on -h and exit 0, and refuse a bad option with usage and exit 2", function()
    for _, name in ipairs(TOOLS) do
      local out = env.run("lua5.4 tools/" .. name .. ".lua -h")
      assert.truthy(out:find("^usage: tools/" .. name .. "%.lua %[%-p PID%] %[%-d SECONDS%] [^\n]*%[%-h%][^\n]*\n" ..
        name .. ": "), out)
      local ok, _, code = os.execute("lua5.4 tools/" .. name .. ".lua -p nope >/dev/null 2>&1")
      assert.is_nil(ok)
      assert.equal(2, code)
    end
  end)
end)

describe("make install", function()
  it("installs the tools as ebpfdsl-NAME, which run from the installed tree alone", function()
    local dest = env.tmpdir()
    env.run("make -s install DESTDIR=" .. dest .. " PREFIX=/usr/local")
    local root = dest .. "/usr/local"
    for _, name in ipairs(TOOLS) do
      local bin = root .. "/bin/ebpfdsl-" .. name
      local out = env.run(("cd / && LUA_PATH='%s/share/lua/5.4/?.lua;;' LUA_CPATH='%s/lib/lua/5.4/?.so;;' %s -h")
        :format(root, root, bin))
      assert.truthy(out:find("^usage: " .. bin:gsub("%p", "%%%0") .. " %[%-p PID%]"), out)
      -- the line that finds the module in the source tree is gone
      assert.falsy(target.read(bin):find("package.path", 1, true))
    end
    env.run("rm -rf " .. dest)
  end)
end)

describe("tools/opensnoop.lua", function()
  env.it("prints its header once attached, then the one file the child opened", NEEDS, function()
    local path = env.tmpdir() .. "/opened-by-the-child"
    local t = target.start { "open", path }
    local tool = target.tool("tools/opensnoop.lua", "-p", t.pid)
    tool.wait_line("^PID")
    t.go()
    t.wait()
    tool.wait_line(path:gsub("%p", "%%%0"), 10)
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    assert.equal(("%-7s %-16s %s\n%-7d %-16s %s\n"):format("PID", "COMM", "FILE", t.pid, "trace_target", path), out)
    assert.equal("", err)
  end)

  env.it("ends by itself after -d seconds", NEEDS, function()
    local tool = target.tool("tools/opensnoop.lua", "-p", 1, "-d", 0.5)
    local rc, out = tool.wait(10)
    assert.equal(0, rc)
    assert.equal(("%-7s %-16s %s\n"):format("PID", "COMM", "FILE"), out)
  end)
end)

describe("tools/syscount.lua", function()
  env.it("counts a child's 100 getppid calls as 100, on Ctrl-C", NEEDS, function()
    local t = target.start { "getppid", "100" }
    local tool = target.tool("tools/syscount.lua", "-p", t.pid)
    tool.wait_line("^Tracing")
    t.go()
    t.wait()
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    assert.equal("Tracing syscalls... Hit Ctrl-C to end.\n\n\n" ..
      "@calls[trace_target, exit_group]: 1\n" ..
      "@calls[trace_target, getppid]: 100\n", out)
  end)
end)

describe("tools/readhist.lua", function()
  env.it("puts a child's 100 reads of 100 bytes in [64, 128)", NEEDS, function()
    local t = target.start { "read", "100", "100" }
    local tool = target.tool("tools/readhist.lua", "-p", t.pid)
    tool.wait_line("^Tracing")
    t.go()
    t.wait()
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    assert.equal("Tracing read() sizes... Hit Ctrl-C to end.\n\n\n@bytes: \n" .. hist_line("[64, 128)", 100, 100) ..
      "\n", out)
  end)

  env.it("prints the histogram at the end of -d too", NEEDS, function()
    local t = target.start { "read", "3", "1", "read", "5", "5000" }
    local tool = target.tool("tools/readhist.lua", "-p", t.pid, "-d", 3)
    tool.wait_line("^Tracing")
    t.go()
    t.wait()
    local rc, out = tool.wait()
    assert.equal(0, rc)
    assert.equal("Tracing read() sizes... Hit Ctrl-C to end.\n\n\n@bytes: \n" ..
      hist_line("[1]", 3, 5) .. hist_line("[2, 4)", 0, 5) .. hist_line("[4, 8)", 0, 5) ..
      hist_line("[8, 16)", 0, 5) .. hist_line("[16, 32)", 0, 5) .. hist_line("[32, 64)", 0, 5) ..
      hist_line("[64, 128)", 0, 5) .. hist_line("[128, 256)", 0, 5) .. hist_line("[256, 512)", 0, 5) ..
      hist_line("[512, 1K)", 0, 5) .. hist_line("[1K, 2K)", 0, 5) .. hist_line("[2K, 4K)", 0, 5) ..
      hist_line("[4K, 8K)", 5, 5) .. "\n", out)
  end)
end)

-- An event tool run against one child: waits for its header, lets the child
-- go, waits for `lines` lines after the header, interrupts it; returns its
-- stdout (whole) and the child.
local function snoop(script, child, lines, ...)
  local tool = target.tool(script, "-p", child.pid, ...)
  local header = tool.wait_line("^%u")
  child.go()
  child.wait()
  target.wait_for(("%d lines from %s"):format(lines, script), function()
    local n = 0
    for _ in tool.output():gmatch("\n") do n = n + 1 end
    return n >= lines + 1
  end)
  tool.interrupt()
  local rc, out, err = tool.wait()
  assert.equal(0, rc, err)
  assert.equal("", err)
  return out, header
end

describe("tools/execsnoop.lua", function()
  env.it("prints the exact argv of a child's exec, with its pid and its parent's", NEEDS, function()
    local t = target.start { "exec", "/bin/true", "--first", "2nd", "x=y" }
    local out = snoop("tools/execsnoop.lua", t, 1)
    assert.equal(("%-7s %-7s %s\n%-7d %-7d %s\n"):format("PID", "PPID", "ARGS", t.pid, t.ppid,
      "/bin/true --first 2nd x=y"), out)
  end)
end)

describe("tools/exitsnoop.lua", function()
  local HEAD = ("%-16s %-7s %-7s %-4s %s\n"):format("PCOMM", "PID", "PPID", "CODE", "SIG")

  env.it("prints a child's exit code", NEEDS, function()
    local t = target.start { "exit", "3" }
    local out = snoop("tools/exitsnoop.lua", t, 1)
    assert.equal(HEAD .. ("%-16s %-7d %-7d %-4d %d\n"):format("trace_target", t.pid, t.ppid, 3, 0), out)
  end)

  env.it("prints the signal that killed a child", NEEDS, function()
    local t = target.start {}
    local tool = target.tool("tools/exitsnoop.lua", "-p", t.pid)
    tool.wait_line("^PCOMM")
    os.execute("kill -TERM " .. t.pid)
    t.wait()
    tool.wait_line("^trace_target ")
    tool.interrupt()
    local rc, out = tool.wait()
    assert.equal(0, rc)
    assert.equal(HEAD .. ("%-16s %-7d %-7d %-4d %d\n"):format("trace_target", t.pid, t.ppid, 0, 15), out)
  end)
end)

describe("tools/killsnoop.lua", function()
  env.it("prints a kill of a known pid with a known signal, and one that fails", NEEDS, function()
    local victim = target.start {}
    local t = target.start { "kill", tostring(victim.pid), "15", "kill", "2147483647", "9" }
    local out = snoop("tools/killsnoop.lua", t, 2)
    assert.equal(143, victim.wait()) -- 128 + SIGTERM, as the shell reports it
    local line = "%-7d %-16s %-4d %-7d %d\n"
    assert.equal(("%-7s %-16s %-4s %-7s %s\n"):format("PID", "COMM", "SIG", "TPID", "RESULT") ..
      line:format(t.pid, "trace_target", 15, victim.pid, 0) ..
      line:format(t.pid, "trace_target", 9, 2147483647, -3), out) -- ESRCH
  end)
end)

-- bpftrace's log2 bucket of a non-negative value and its label.
local function bucket(v)
  if v == 0 then return 1 end
  local k = 0
  while v >= 2 do v, k = v // 2, k + 1 end
  return k + 2
end
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
local function hist_text(counts)
  local lo, hi, max = math.huge, 0, 0
  for i, c in pairs(counts) do lo, hi, max = math.min(lo, i), math.max(hi, i), math.max(max, c) end
  local out = {}
  for i = lo, hi do out[#out + 1] = hist_line(label(i), counts[i] or 0, max) end
  return table.concat(out)
end

describe("tools/funclatency.lua", function()
  env.it("puts a user function's calls of known durations in their buckets", UPROBE, function()
    -- trace_target_sleep(us) lasts at least us, and at most what the child
    -- measured around the call (the probes fire within): a call's bucket
    -- is known when both ends fall in one bucket, as they do unless the
    -- machine is loaded enough to add 8 ms to a sleep
    local t = target.start { "tsleep", "8200", "8200", "8200", "65600", "65600" }
    local out = snoop("tools/funclatency.lua", t, 0, target.binary(), "trace_target_sleep")
    local calls = {}
    for us, ns in t.output():gmatch("slept (%d+) (%d+)") do
      calls[#calls + 1] = { lo = bucket(tonumber(us)), hi = bucket(tonumber(ns) // 1000) }
    end
    assert.equal(5, #calls)
    local head = ("Tracing trace_target_sleep in %s... Hit Ctrl-C to end.\n\n\n@usecs: \n"):format(target.binary())
    local exact, counts = true, {}
    for _, c in ipairs(calls) do
      exact = exact and c.lo == c.hi
      counts[c.lo] = (counts[c.lo] or 0) + 1
    end
    if exact then
      assert.equal(head .. hist_text(counts) .. "\n", out)
    else
      -- each call in a bucket of its range: the printed counts, matched to
      -- the calls (ranges sorted by their end, each taking the lowest
      -- printed bucket it can)
      assert.equal(head, out:sub(1, #head))
      local got = {}
      for lbl, n in out:gmatch("\n(%[[^\n]-%))%s+(%d+) |") do
        for i = 1, 40 do
          if label(i) == lbl then for _ = 1, tonumber(n) do got[#got + 1] = i end end
        end
      end
      table.sort(got)
      table.sort(calls, function(a, b) return a.hi < b.hi end)
      assert.equal(#calls, #got, out)
      for _, c in ipairs(calls) do
        local pick
        for j, b in ipairs(got) do if b >= c.lo and b <= c.hi then pick = j break end end
        assert.truthy(pick, out)
        table.remove(got, pick)
      end
    end
  end)
end)

describe("tools/tcpconnect.lua", function()
  local HEAD = ("%-7s %-16s %-2s %-16s %-16s %s\n"):format("PID", "COMM", "IP", "SADDR", "DADDR", "DPORT")
  local LINE = "%-7d %-16s %-2d %-16s %-16s %d\n"

  -- The program types the tool has loaded, from its file descriptors'
  -- fdinfo (the kernel's word): 2 kprobe, 5 tracepoint.
  local function prog_types(pid)
    local types = {}
    for fd in env.run("ls /proc/" .. pid .. "/fd"):gmatch("%d+") do
      local info = target.read(("/proc/%d/fdinfo/%s"):format(pid, fd)) or ""
      local ty = info:match("prog_type:%s*(%d+)")
      if ty then types[tonumber(ty)] = true end
    end
    return types
  end

  local function run(flags)
    local port = 20000 + math.random(10000)
    local t = target.start { "connect", tostring(port), "connect6", tostring(port) }
    local tool = target.tool("tools/tcpconnect.lua", "-p", t.pid, table.unpack(flags))
    tool.wait_line("^PID")
    local types = prog_types(tool.pid)
    t.go()
    t.wait()
    tool.wait_line("^%d+ .* ::1 ")
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    -- refused (nothing listens there) or not, each connect sent its SYN
    assert.equal(HEAD .. LINE:format(t.pid, "trace_target", 4, "127.0.0.1", "127.0.0.1", port) ..
      LINE:format(t.pid, "trace_target", 6, "::1", "::1", port), out)
    return types
  end

  env.it("prints a child's loopback connects, IPv4 and IPv6, to a known port (sock:inet_sock_set_state)", NEEDS,
    function()
      assert.same({ [5] = true }, run { "-t" })
    end)

  env.it("does the same from a kprobe on tcp_connect where the kernel has kprobes", { "bpf", "tracefs", "gcc",
    "kprobe" }, function()
      assert.same({ [2] = true }, run {})
    end)

  it("takes the tracepoint without -t where the kernel has no kprobes", function()
    if require("ebpfdsl.trace").has("kprobe") then return end
    assert.same({ [5] = true }, run {})
  end)
end)

describe("tools/runqlat.lua", function()
  env.it("counts each of a child's wakeups from its sleeps, in a histogram of microseconds", NEEDS, function()
    -- a loaded machine adds preemptions (each queues the child again) and
    -- latency: what holds anyway is one entry per wakeup at least
    local sleeps = 10
    local args = { "sleep" }
    for i = 1, sleeps do args[i + 1] = "1000" end
    local t = target.start(args)
    local tool = target.tool("tools/runqlat.lua", "-p", t.pid)
    tool.wait_line("^Tracing")
    t.go()
    t.wait()
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    local head = "Tracing run queue latency... Hit Ctrl-C to end.\n\n\n@usecs: \n"
    assert.equal(head, out:sub(1, #head))
    local counts, total = {}, 0
    for lbl, n in out:sub(#head + 1):gmatch("(%[[^\n]-[%]%)])%s+(%d+) |[@ ]*|\n") do
      for i = 1, 40 do if label(i) == lbl then counts[i] = tonumber(n) end end
      total = total + tonumber(n)
    end
    -- the go signal's wakeup, and one per sleep
    assert.is_true(total >= sleeps + 1, out)
    assert.equal(head .. hist_text(counts) .. "\n", out)
  end)
end)

describe("tools/profile.lua", function()
  env.it("shows the child's own busy function in its user stack, under its command", NEEDS, function()
    local t = target.start { "spin", "500" }
    local tool = target.tool("tools/profile.lua", "-p", t.pid)
    tool.wait_line("^Sampling")
    t.go()
    t.wait()
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    local head = "Sampling at 99 Hertz of all threads by user + kernel stack... Hit Ctrl-C to end.\n\n\n"
    assert.equal(head, out:sub(1, #head))
    -- samples in user mode: an empty kernel stack, then the user stack
    local n = out:match("\n@samples%[\n, \n    trace_target_spin%+%d+\n    main%+%d+\n[^@]-, trace_target%]: (%d+)\n")
    assert.truthy(n, out)
    local total = 0
    for c in out:gmatch("%]: (%d+)\n") do total = total + tonumber(c) end
    assert.is_true(total >= 10, out) -- 99 Hz for 0.5 s of the child's CPU time
  end)
end)
