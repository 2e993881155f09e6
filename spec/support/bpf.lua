-- SPDX-License-Identifier: MIT
-- What many kernel specs do alike: load a DSL program or fail showing the
-- verifier's log, and compile a C source into a BPF object with clang-19.
local env = require "support.env"

local M = {}

-- programs.load, raising with the kernel's message and verifier log when refused.
function M.load(spec)
  local prog, msg, _, log = require("ebpfdsl.programs").load(spec)
  assert(prog, tostring(msg) .. "\n" .. tostring(log))
  return prog
end

-- Writes `src` to dir/name.c, compiles it with clang-19 (-O2 -g, with this
-- machine's multiarch UAPI headers) and returns the path of dir/name.o.
function M.compile(dir, name, src)
  local f = assert(io.open(dir .. "/" .. name .. ".c", "w"))
  f:write(src)
  f:close()
  local inc = env.run("gcc -print-multiarch"):gsub("%s+$", "")
  env.run(("clang-19 -O2 -g -target bpf -I/usr/include/%s -c %s/%s.c -o %s/%s.o"):format(inc, dir, name, dir, name))
  return dir .. "/" .. name .. ".o"
end

return M
