-- SPDX-License-Identifier: MIT
-- The ebpfdsl.trace specs' workloads: spec/support/trace_target.c built
-- once with gcc; a target prints its pid, waits for SIGUSR1, does exactly
-- what it was told and exits. Tools run in the background with their
-- output in files, to be read, interrupted and waited for.
local env = require "support.env"

local M = {}

local dir
local function workdir()
  if not dir then dir = env.tmpdir() end
  return dir
end

local built
-- The target binary's path (gcc, once per run).
function M.binary()
  if not built then
    built = workdir() .. "/trace_target"
    -- frame pointers, so that user stacks unwind past the leaf
    env.run(("gcc -O2 -fno-omit-frame-pointer -Wall -o %s spec/support/trace_target.c"):format(built))
  end
  return built
end

local read = require("support.files").read
M.read = read

local function alive(pid)
  -- a zombie is as good as gone: it makes no more system calls
  local s = read("/proc/" .. pid .. "/stat")
  return s ~= nil and not s:match("^%d+ %b() Z")
end

-- Waits until f() is truthy (polling every 10 ms), or raises after
-- `seconds` naming what it waited for.
function M.wait_for(what, f, seconds)
  for _ = 1, math.floor((seconds or 10) * 100) do
    local v = f()
    if v then return v end
    os.execute("sleep 0.01")
  end
  error("timed out waiting for " .. what, 2)
end

local seq = 0
local function fresh(name)
  seq = seq + 1
  return ("%s/%s.%d"):format(workdir(), name, seq)
end

-- Runs cmd in the background: {pid =, out =, err =, rc = path}.
local function background(cmd)
  local base = fresh("job")
  local job = { out = base .. ".out", err = base .. ".err", rcfile = base .. ".rc", pidfile = base .. ".pid" }
  os.execute(("(%s >%s 2>%s & echo $! >%s; wait $!; echo $? >%s) >/dev/null 2>&1 &"):format(cmd, job.out,
    job.err, job.pidfile, job.rcfile))
  job.pid = M.wait_for("the pid of " .. cmd, function()
    local s = read(job.pidfile)
    return s and tonumber(s:match("%d+"))
  end)
  return job
end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.quote = quote

-- start{"getppid", "5"} -> a waiting target: t.pid, t.ppid (its parent's),
-- t.go() (SIGUSR1), t.wait() (until it exited: its exit status), t.output()
-- (its stdout so far, the "pid N" line first).
function M.start(args)
  local words = {}
  for i, a in ipairs(args or {}) do words[i] = quote(a) end
  local job = background(M.binary() .. " " .. table.concat(words, " "))
  M.wait_for("the target to start", function() return (read(job.out) or ""):match("^pid %d+\n") end)
  -- blocked in sigwait: a tracer attached from now on sees none of its
  -- system calls before the signal
  M.wait_for("the target to wait for its signal", function()
    local wchan = read("/proc/" .. job.pid .. "/wchan") or ""
    if wchan:find("sigtimedwait") then return true end
    local stat = read("/proc/" .. job.pid .. "/stat") or ""
    return wchan == "" and stat:match("^%d+ %b() S") ~= nil
  end)
  local t = { pid = job.pid }
  t.ppid = tonumber((read("/proc/" .. t.pid .. "/stat") or ""):match("^%d+ %b() %S+ (%d+)"))
  function t.output() return read(job.out) or "" end
  function t.go() assert(os.execute("kill -USR1 " .. t.pid)) end
  function t.wait()
    -- (the shell creates the file before it writes the status)
    return tonumber(M.wait_for("the target to exit", function() return (read(job.rcfile) or ""):match("%d+") end))
  end
  function t.exited() return (read(job.rcfile) or ""):match("%d+") ~= nil end
  function t.kill() os.execute("kill -KILL " .. t.pid .. " 2>/dev/null") end
  return t
end

-- tool("tools/syscount.lua", "-p", pid) -> a running tool: t.pid,
-- t.output() (stdout so far), t.wait_line(pattern), t.interrupt()
-- (SIGINT), t.wait() -> rc, stdout, stderr.
function M.tool(script, ...)
  local args = { ... }
  for i, a in ipairs(args) do args[i] = tostring(a) end
  local job = background("exec lua5.4 " .. script .. " " .. table.concat(args, " "))
  local t = { pid = job.pid }
  function t.output() return read(job.out) or "" end
  function t.stderr() return read(job.err) or "" end
  function t.wait_line(pattern, seconds)
    return M.wait_for(("a line matching '%s' from %s (stdout so far: %q, stderr: %q)"):format(pattern, script,
      t.output(), t.stderr()), function()
      for line in t.output():gmatch("[^\n]*") do
        if line:find(pattern) then return line end
      end
      if read(job.rcfile) then
        error(("%s exited early: %s%s"):format(script, t.output(), t.stderr()))
      end
    end, seconds)
  end
  function t.interrupt() assert(os.execute("kill -INT " .. t.pid)) end
  function t.wait(seconds)
    local rc = M.wait_for(script .. " to exit", function() return (read(job.rcfile) or ""):match("%d+") end,
      seconds or 20)
    return tonumber(rc), t.output(), t.stderr()
  end
  function t.kill() if alive(t.pid) then os.execute("kill -KILL " .. t.pid .. " 2>/dev/null") end end
  return t
end

M.alive = alive
return M
