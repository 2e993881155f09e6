#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- funclatency: a log2 histogram of the time a user function takes, in
-- microseconds, from each call to its return.
-- Run from the repository root after make:
--   lua5.4 tools/funclatency.lua [-p PID] [-d SECONDS] [-h] BINARY FUNC
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "funclatency: the latency of a user function's calls (us)", pid = true, duration = true,
                      args = { "BINARY", "FUNC" } }
T.uprobe(o.binary, o.func, function(p) T.maps.start[p.tid] = p.nsecs end)
T.uretprobe(o.binary, o.func, function(p)
  local t0 = T.maps.start[p.tid]
  T.filter(t0:ne(0))
  T.maps.usecs = T.hist((p.nsecs - t0) // 1000)
  T.delete(T.maps.start, p.tid)
end)
T.run(o, { header = ("Tracing %s in %s... Hit Ctrl-C to end."):format(o.func, o.binary), print = { "usecs" } })
