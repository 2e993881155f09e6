#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- runqlat: a log2 histogram of run queue latency, in microseconds: from a
-- task's wakeup (or its preemption) to its running on a CPU.
-- Run from the repository root after make: lua5.4 tools/runqlat.lua [-p PID] [-d SECONDS] [-i SECONDS] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "runqlat: run queue latency histogram (us)", pid = true, duration = true, interval = true }
local pid = o.pid
o.pid = nil -- -p is the queued task's process, not the one running when it is queued
local function queued(p, task, cond)
  T.when(pid and (cond & task.tgid:eq(pid)) or cond, function() T.maps.qtime[task.pid] = p.nsecs end)
end
T.rawtracepoint("sched_wakeup", function(p) queued(p, p.args[1], true) end)
T.rawtracepoint("sched_wakeup_new", function(p) queued(p, p.args[1], true) end)
T.rawtracepoint("sched_switch", function(p) -- (preempt, prev, next, prev_state)
  queued(p, p.args[2], p.args[4]:eq(0)) -- preempted while TASK_RUNNING: queued again
  local t0 = T.maps.qtime[p.args[3].pid]
  T.filter(t0:ne(0))
  T.maps.usecs = T.hist((p.nsecs - t0) // 1000)
  T.delete(T.maps.qtime, p.args[3].pid)
end)
T.run(o, { header = "Tracing run queue latency... Hit Ctrl-C to end.", print = { "usecs" } })
