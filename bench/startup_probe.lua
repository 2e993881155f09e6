-- SPDX-License-Identifier: MIT
-- The probe bench/startup_bench.lua starts as `lua5.4 bench/startup_probe.lua`:
-- builds, loads and attaches a tracepoint program on syscalls/sys_enter_openat
-- writing 32-byte events, and waits for its first event, printing the
-- CLOCK_MONOTONIC time at which each step was done. Needs root and tracefs.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local ebpfdsl = require "ebpfdsl"
local core = require "ebpfdsl.core"
local dsl = ebpfdsl.dsl

local function stamp(what) io.write(what, " ", core.monotime_ns(), "\n") end

local E = ebpfdsl.structs.define("event", { { "ts", "u64" }, { "tid", "u32" }, { "pid", "u32" },
                                            { "comm", "char", 16 } })
local ring = assert(ebpfdsl.maps.ringbuf(256 * 1024))
stamp("map_ns")
local prog = assert(ebpfdsl.programs.load { type = "tracepoint", name = "startup", insns = {
  dsl.ld_map_fd("r1", ring), dsl.mov("r2", E:size()), dsl.mov("r3", 0), dsl.call("ringbuf_reserve"),
  dsl.jeq("r0", 0, "out"),
  dsl.mov("r6", "r0"),
  dsl.call("ktime_get_ns"), dsl.stx("dw", "r6", E:offset("ts"), "r0"),
  dsl.call("get_current_pid_tgid"), dsl.stx("w", "r6", E:offset("tid"), "r0"),
  dsl.rsh("r0", 32), dsl.stx("w", "r6", E:offset("pid"), "r0"),
  dsl.mov("r1", "r6"), dsl.add("r1", E:offset("comm")), dsl.mov("r2", 16), dsl.call("get_current_comm"),
  dsl.mov("r1", "r6"), dsl.mov("r2", 0), dsl.call("ringbuf_submit"),
  dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
} })
stamp("load_ns")
local link = assert(prog:attach_tracepoint("syscalls", "sys_enter_openat"))
stamp("attach_ns")
local got
local r = assert(ebpfdsl.ringbuf.reader { [ring] = { layout = E, handler = function(ev) got = ev end } })
assert(io.open("/dev/null")):close() -- an openat of our own
while not got do assert(r:poll(1000)) end
stamp("event_ns")
r:close()
link:detach()
