#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- exitsnoop: each process that ends, with its parent, exit code and the
-- signal that killed it (task_struct's exit_code, read as wait(2) does).
-- Run from the repository root after make: lua5.4 tools/exitsnoop.lua [-p PID] [-d SECONDS] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "exitsnoop: trace process exits: pid, parent, exit code and signal", pid = true, duration = true }
T.tracepoint("sched:sched_process_exit", function(p)
  T.filter(p.pid:eq(p.tid)) -- the process, not each of its threads
  local task = p.curtask
  local code = task.exit_code
  T.printf("%-16s %-7d %-7d %-4d %d\n", p.comm, p.pid, task.real_parent.tgid, (code >> 8) & 0xff, code & 0x7f)
end)
T.run(o, { header = ("%-16s %-7s %-7s %-4s %s"):format("PCOMM", "PID", "PPID", "CODE", "SIG") })
