-- SPDX-License-Identifier: MIT
-- Shows: maps from Lua: a per-CPU array a BPF program counts into (read back
-- per CPU with their sum), a hash written from Lua and read by the program,
-- and a tail call through a prog_array.
-- Needs: bpf (root, to create maps and load programs)
-- Expect: count: 100 runs
-- Expect: tail call: 42
local ebpf = require "ebpfdsl"
local maps, d = ebpf.maps, ebpf.dsl

local counts <close> = assert(maps.percpu_array { value = "u64", max_entries = 1, name = "counts" })
local limits <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 8, name = "limits" })
limits[7] = 42
print(counts)
print(limits)

-- count every run on the CPU it ran on, then return limits[7]
local counter = assert(ebpf.programs.load { type = "socket_filter", name = "counter", insns = {
  d.st("w", "fp", -4, 0),
  d.ld_map_fd("r1", counts), d.mov("r2", "fp"), d.add("r2", -4),
  d.call("map_lookup_elem"),
  d.jeq("r0", 0, "read"),
  d.mov("r1", 1),
  d.atomic_add("dw", "r0", 0, "r1"),
  d.label("read"),
  d.st("w", "fp", -4, 7),
  d.ld_map_fd("r1", limits), d.mov("r2", "fp"), d.add("r2", -4),
  d.call("map_lookup_elem"),
  d.mov("r6", 0),
  d.jeq("r0", 0, "out"),
  d.ldx("w", "r6", "r0", 0),
  d.label("out"),
  d.mov("r0", "r6"),
  d.exit(),
} })
assert(counter:test_run { data = string.rep("\0", 64), ["repeat"] = 100 })
local per_cpu = counts[0]
print(("count: %d runs (per CPU: %s)"):format(per_cpu.sum, table.concat(per_cpu, ", ")))

-- a tail call: slot 0 of the prog_array holds the counter
local jumps <close> = assert(maps.prog_array { max_entries = 1, name = "jumps" })
jumps[0] = counter
local caller = assert(ebpf.programs.load { type = "socket_filter", name = "caller", insns = {
  d.ld_map_fd("r2", jumps), d.mov("r3", 0), d.call("tail_call"),
  d.mov("r0", 0), d.exit(),
} })
print(("tail call: %d"):format(caller:test_run { data = string.rep("\0", 64) }.retval))
