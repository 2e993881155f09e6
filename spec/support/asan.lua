-- SPDX-License-Identifier: MIT
-- Memory errors a plain build survives silently (a write past a stack
-- array, a read of freed memory): run(code) runs a Lua chunk in a child
-- lua5.4 against this tree's sources built with AddressSanitizer (once per
-- spec run), which aborts with a report at the first bad access.
-- Specs using it need env "asan".
local env = require "support.env"

local M = {}

local dir

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- The module built from the same sources as `make`, instrumented.
local function build()
  if dir then return dir end
  local d = env.tmpdir()
  env.run("mkdir -p " .. d .. "/ebpfdsl")
  local inc = env.run("pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4"):gsub("%s+$", "")
  env.run(("cc -std=gnu99 -O1 -g -fsanitize=address -fno-omit-frame-pointer -fPIC -shared %s "
    .. "csrc/core/*.c csrc/kernel/*.c csrc/lua/*.c -o %s/ebpfdsl/core.so -lbpf -lelf -lz"):format(inc, d))
  dir = d
  -- removed when the spec run's Lua state closes
  M._cleanup = setmetatable({}, { __gc = function() os.execute("rm -rf " .. quote(d)) end })
  return d
end

-- The directory holding the instrumented ebpfdsl/core.so.
M.module_dir = build

-- run(code) -> ok, output: ok is false when the child failed (an ASan
-- report, or an error the chunk raised); output is its stdout and stderr.
function M.run(code)
  local d = build()
  local script = d .. "/chunk.lua"
  local f = assert(io.open(script, "wb"))
  f:write(code)
  f:close()
  local libasan = env.run("cc -print-file-name=libasan.so"):gsub("%s+$", "")
  local paths = ('package.path="lua/?.lua;lua/?/init.lua;"..package.path; package.cpath=%q'):format(d .. "/?.so")
  local out = d .. "/out.txt"
  local ok = os.execute(("ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 LD_PRELOAD=%s lua5.4 -e %s %s >%s 2>&1")
    :format(quote(libasan), quote(paths), quote(script), quote(out)))
  f = assert(io.open(out, "rb"))
  local text = f:read("a")
  f:close()
  return ok == true or ok == 0, text
end

return M
