-- SPDX-License-Identifier: MIT
-- Child processes that make known system calls, for specs that observe
-- only what they caused: getppid_n (getppid(2) n times, then its pid),
-- syscalls_n (the calls it is told) and probe_target (waits on stdin,
-- opens a file when told), gcc-built once per run from spec/support/.
local env = require "support.env"

local M = {}

local built = {}
local function build(name, flags)
  if not built[name] then
    local bin = env.tmpdir() .. "/" .. name
    env.run(("gcc -O2 -Wall %s -o %s spec/support/%s.c"):format(flags or "", bin, name))
    built[name] = bin
  end
  return built[name]
end

-- getppid(n) -> pid, ppid: a child that called getppid(2) n times (and
-- getpid(2) once), and what getppid returned to it (-1 when n is 0).
function M.getppid(n)
  local pid, ppid = env.run(("%s %d ppid"):format(build("getppid_n"), n)):match("^(%d+) (%-?%d+)")
  return tonumber(pid), tonumber(ppid)
end

-- syscalls{{"getpgid", 7}, {"getpriority", 3}} -> pid: a child that made
-- those calls (getppid, getpgid, getpriority), in that order, and one getpid.
function M.syscalls(calls)
  local args = {}
  for _, c in ipairs(calls) do args[#args + 1] = ("%s %d"):format(c[1], c[2]) end
  return tonumber(env.run(build("syscalls_n") .. " " .. table.concat(args, " ")))
end

-- run(binary) -> t: a running child that prints "pid N" first, then one
-- line for each line it is sent; t.pid, t.send(line) -> its answer,
-- t.stop() closes its stdin, and it exits.
function M.run(binary)
  local dir = env.tmpdir()
  local out = dir .. "/out"
  local stdin = assert(io.popen(("exec %s > %s 2>&1"):format(binary, out), "w"))
  local t, seen = {}, 0
  local function next_line()
    for _ = 1, 1000 do
      local f = io.open(out)
      if f then
        local n, line = 0, nil
        for l in f:lines() do
          n = n + 1
          if n == seen + 1 then line = l end
        end
        f:close()
        if line then
          seen = seen + 1
          return line
        end
      end
      os.execute("sleep 0.01")
    end
    error(binary .. " did not answer")
  end
  function t.send(line)
    stdin:write(line, "\n")
    stdin:flush()
    return next_line()
  end
  function t.stop()
    if io.type(stdin) == "file" then stdin:close() end
    os.execute("rm -rf " .. dir)
  end
  t.pid = tonumber(next_line():match("^pid (%d+)$"))
  return t
end

-- start() -> t: a running probe_target; t.pid; t.open(path) -> the
-- openat(2) return (0 opened, -1 refused), dfd, flags, mode it passed;
-- t.stop() ends it.
function M.start()
  local t = M.run(build("probe_target", "-pthread"))
  function t.open(path)
    local ok, dfd, flags, mode = t.send("open " .. path):match("^open (%-?%d+) dfd (%-?%d+) flags (%d+) mode (%d+)$")
    return tonumber(ok), tonumber(dfd), tonumber(flags), tonumber(mode)
  end
  return t
end

return M
