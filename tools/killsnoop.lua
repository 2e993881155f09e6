#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- killsnoop: each kill() with the sender, the signal, the target and the
-- result (the target and signal kept from the call's entry to its return).
-- Run from the repository root after make: lua5.4 tools/killsnoop.lua [-p PID] [-d SECONDS] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "killsnoop: trace kill() calls: sender, signal, target and result", pid = true, duration = true }
T.tracepoint("syscalls:sys_enter_kill", function(p) T.maps.call[p.tid] = { p.args.pid, p.args.sig } end)
T.tracepoint("syscalls:sys_exit_kill", function(p)
  local call = T.maps.call[p.tid]
  T.delete(T.maps.call, p.tid)
  T.filter(call[2]:ne(0)) -- seen from its entry on (signal 0 only asks whether the target exists)
  T.printf("%-7d %-16s %-4d %-7d %d\n", p.pid, p.comm, call[2], call[1], p.args.ret)
end)
T.run(o, { header = ("%-7s %-16s %-4s %-7s %s"):format("PID", "COMM", "SIG", "TPID", "RESULT"), print = false })
