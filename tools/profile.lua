#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- profile: samples every CPU 99 times a second and counts the kernel and
-- user stacks it finds, with the command, named from the symbols.
-- Run from the repository root after make: lua5.4 tools/profile.lua [-p PID] [-d SECONDS] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "profile: sample stacks on every CPU at 99 Hz", pid = true, duration = true }
T.profile(99, function(p) T.maps.samples[{ p.kstack, p.ustack, p.comm }] = T.count() end)
T.run(o, { header = "Sampling at 99 Hertz of all threads by user + kernel stack... Hit Ctrl-C to end." })
