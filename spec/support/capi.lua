-- SPDX-License-Identifier: MIT
-- C programs using the C API alone (csrc/ebpfdsl.h, no Lua), built as an
-- embedder builds them: against build/libebpfdsl.a, or from the library's
-- sources with AddressSanitizer and UBSan (make asan's flags), so that a
-- bad access in the library aborts the program with a report.
local env = require "support.env"
local files = require "support.files"

local M = {}

local ASAN = "-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"

-- Writes `src` to dir/name.c, compiles it to dir/name and returns that
-- path. opts: std (C standard, "c99"), flags (more gcc flags, "-Wall
-- -Werror"), asan (true: the library's sources instrumented instead of
-- the archive, all compiled as gnu99 as make asan compiles them).
function M.build(dir, name, src, opts)
  opts = opts or {}
  local c, bin = ("%s/%s.c"):format(dir, name), ("%s/%s"):format(dir, name)
  files.write(c, src)
  local lib = opts.asan and (ASAN .. " -Ibuild/gen csrc/core/*.c csrc/kernel/*.c") or "build/libebpfdsl.a"
  local std = opts.asan and "gnu99" or opts.std or "c99"
  env.run(("gcc -std=%s %s -Icsrc -o %s %s %s -lbpf -lelf -lz"):format(std, opts.flags or "-Wall -Werror", bin, c, lib))
  return bin
end

return M
