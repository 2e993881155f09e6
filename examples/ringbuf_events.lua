-- SPDX-License-Identifier: MIT
-- Shows: reading a ring buffer three ways (a handler, an events() loop,
-- poll_batch) with records decoded by an event layout, and counting the
-- records a full ring refused with reserve_or_count_loss and r:lost(). The
-- producer is a socket filter run by the kernel's test runs: no attach.
-- Needs: bpf (root: maps, a program and its test runs)
-- Expect: handler: seq 0 to 4
-- Expect: events(): seq 5 to 7
-- Expect: poll_batch: 3 events, seq 8 to 10
-- Expect: a full 4096-byte ring kept 170 of 250 records; lost() = 80
local e = require "ebpfdsl"
local dsl, maps, programs, ringbuf = e.dsl, e.maps, e.programs, e.ringbuf

local Event = e.structs.define("event", { { "seq", "u64" }, { "value", "u32" }, { "flags", "u32" } })

-- A program that, each run, reserves one Event, numbers it from a counter
-- map, and submits it; a failed reservation is counted in `loss`.
local function producer(ring, counter, loss)
  return assert(programs.load { type = "socket_filter", name = "events", insns = {
    dsl.st("w", "fp", -4, 0),
    dsl.ld_map_fd("r1", counter), dsl.mov("r2", "fp"), dsl.add("r2", -4), dsl.call("map_lookup_elem"),
    dsl.jeq("r0", 0, "out"),
    dsl.mov("r7", 1), dsl.atomic_fetch_add("dw", "r0", 0, "r7"), -- r7 = seq
    dsl.reserve_or_count_loss("r6", ring, Event:size(), loss, "out"),
    dsl.stx("dw", "r6", Event:offset("seq"), "r7"),
    dsl.st("w", "r6", Event:offset("value"), 42),
    dsl.st("w", "r6", Event:offset("flags"), 1),
    dsl.mov("r1", "r6"), dsl.mov("r2", 0), dsl.call("ringbuf_submit"),
    dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
  } })
end

local function run(prog, n) assert(prog:test_run { data = string.rep("\0", 64), ["repeat"] = n }) end

local ring = assert(maps.ringbuf(4096))
local counter = assert(maps.create { type = "array", key_size = 4, value_size = 8, max_entries = 1 })
local loss = assert(maps.create { type = "percpu_array", key_size = 4, value_size = 8, max_entries = 1 })
local prog = producer(ring, counter, loss)

-- 1. a handler gets each decoded event
local seqs = {}
local r <close> = assert(ringbuf.reader {
  [ring] = { layout = Event, lost = loss, handler = function(ev) seqs[#seqs + 1] = ev.seq end },
})
run(prog, 5)
r:poll(0)
print(("handler: seq %d to %d"):format(seqs[1], seqs[#seqs]))

-- 2. a loop over the events (with the map each came from)
run(prog, 3)
local first, last
for ev, map in r:events(0) do
  assert(map == ring and ev.value == 42)
  first, last = first or ev.seq, ev.seq
end
print(("events(): seq %d to %d"):format(first, last))

-- 3. one call for a whole batch
run(prog, 3)
local batch = r:poll_batch(64)
print(("poll_batch: %d events, seq %d to %d"):format(#batch, batch[1].seq, batch[#batch].seq))

-- 4. nobody reads: the ring fills, and reserve_or_count_loss counts what it refused
run(prog, 250)
local kept = r:consume()
print(("a full %d-byte ring kept %d of 250 records; lost() = %d"):format(4096, kept, r:lost()))
