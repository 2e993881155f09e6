#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- execsnoop: each execve() with the process id, its parent's, and the argv.
-- Run from the repository root after make: lua5.4 tools/execsnoop.lua [-p PID] [-d SECONDS] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "execsnoop: trace execve() calls: pid, parent pid and arguments", pid = true, duration = true }
T.tracepoint("syscalls:sys_enter_execve", function(p)
  T.printf("%-7d %-7d %s\n", p.pid, p.curtask.real_parent.tgid, p.join(p.args.argv))
end)
T.run(o, { header = ("%-7s %-7s %s"):format("PID", "PPID", "ARGS") })
