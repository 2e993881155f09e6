-- SPDX-License-Identifier: MIT
-- Lua code run in a fresh lua5.4 process with this checkout's module on its
-- paths: as a script file, or under strace with the trace read back.
local env = require "support.env"

local M = {}

local PRELUDE = 'package.path = "lua/?.lua;lua/?/init.lua;" .. package.path\n' ..
  'package.cpath = "build/?.so;" .. package.cpath\n'

-- A temporary file holding `code` after the path set-up; the caller removes it.
function M.script(code)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(PRELUDE, code)
  f:close()
  return path
end

-- Runs `code` under `strace -f -e trace=<syscalls>` and returns the trace's
-- text; raises when the process fails.
function M.strace(syscalls, code)
  local script, out = M.script(code), os.tmpname()
  local ok, err = pcall(env.run, ("strace -f -o %s -e trace=%s lua5.4 %s"):format(out, syscalls, script))
  local f = assert(io.open(out))
  local text = f:read("a")
  f:close()
  os.remove(script)
  os.remove(out)
  if not ok then error(err, 2) end
  return text
end

return M
