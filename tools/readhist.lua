#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- readhist: a log2 histogram of the sizes read() returned.
-- Run from the repository root after make: lua5.4 tools/readhist.lua [-p PID] [-d SECONDS] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "readhist: log2 histogram of read() sizes in bytes", pid = true, duration = true }
T.tracepoint("syscalls:sys_exit_read", function(p) T.maps.bytes = T.hist(p.args.ret) end)
T.run(o, { header = "Tracing read() sizes... Hit Ctrl-C to end." })
