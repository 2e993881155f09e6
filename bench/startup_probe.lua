-- SPDX-License-Identifier: MIT
-- The probe bench/startup_bench.lua starts as `lua5.4 bench/startup_probe.lua`:
-- builds, loads and attaches a tracepoint program on syscalls/sys_enter_openat
-- writing 32-byte events, and waits for its first event, printing the
-- CLOCK_MONOTONIC time at which each step was done. Needs root and tracefs.
package.path = "lua/?.lua;lua/?/init.lua;bench/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local ebpfdsl = require "ebpfdsl"
local core = require "ebpfdsl.core"

local function stamp(what) io.write(what, " ", core.monotime_ns(), "\n") end

local producer = require "event_producer"
local E = producer.Event
local ring = assert(ebpfdsl.maps.ringbuf(256 * 1024))
stamp("map_ns")
local prog = assert(ebpfdsl.programs.load { type = "tracepoint", name = "startup", insns = producer.insns(ring) })
stamp("load_ns")
local link = assert(prog:attach_tracepoint("syscalls", "sys_enter_openat"))
stamp("attach_ns")
local got, r
-- the first event is what counts: the handler closes the reader, so that
-- poll returns without handling what every other process's openat wrote
r = assert(ebpfdsl.ringbuf.reader { [ring] = { layout = E, handler = function(ev) got = ev r:close() end } })
assert(io.open("/dev/null")):close() -- an openat of our own
while not got do assert(r:poll(1000)) end
stamp("event_ns")
-- resident memory at this point, without the ring's own pages (the
-- kernel's buffer, mapped by every reader alike): kB
local rss, mapping = 0, nil
for line in io.lines("/proc/self/smaps") do
  local name = line:match("^%x+%-%x+ %S+ %S+ %S+ %S+%s*(.*)$")
  if name then mapping = name end
  local kb = line:match("^Rss:%s+(%d+)")
  if kb and mapping ~= "anon_inode:bpf-map" then rss = rss + tonumber(kb) end
end
io.write("rss_kb ", rss, "\n")
r:close()
link:detach()
