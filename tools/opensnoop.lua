#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- opensnoop: each file opened (openat), with the process id and command.
-- Run from the repository root after make: lua5.4 tools/opensnoop.lua [-p PID] [-d SECONDS] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "opensnoop: trace openat() calls: pid, command and file", pid = true, duration = true }
T.tracepoint("syscalls:sys_enter_openat", function(p)
  T.printf("%-7d %-16s %s\n", p.pid, p.comm, p.str(p.args.filename, 256))
end)
T.run(o, { header = ("%-7s %-16s %s"):format("PID", "COMM", "FILE") })
