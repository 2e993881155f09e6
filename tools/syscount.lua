#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- syscount: system calls counted by command and name; the top 10 at the end.
-- Run from the repository root after make: lua5.4 tools/syscount.lua [-p PID] [-d SECONDS] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "syscount: count system calls by command and name (top 10)", pid = true, duration = true }
T.tracepoint("raw_syscalls:sys_enter", function(p)
  T.maps.calls[{ p.comm, T.syscall_name(p.args.id) }] = T.count()
end)
T.run(o, { header = "Tracing syscalls... Hit Ctrl-C to end.", top = 10 })
