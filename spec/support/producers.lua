-- SPDX-License-Identifier: MIT
-- Deterministic BPF producers for the reader specs: socket filters that,
-- run with test_run{repeat = n}, write n records numbered by a counter map,
-- so that a spec knows exactly what the kernel wrote and in which order.
local dsl = require "ebpfdsl.dsl"
local maps = require "ebpfdsl.maps"
local programs = require "ebpfdsl.programs"

local M = {}

M.PACKET = string.rep("\0", 64)

-- An array map whose entry 0 numbers the records: the next seq.
function M.counter()
  return assert(maps.create { type = "array", key_size = 4, value_size = 8, max_entries = 1 })
end

-- counter:lookup(0), whatever form the maps module gives it in
function M.count(counter)
  local v = counter:lookup(0)
  if type(v) == "string" then v = string.unpack("<I8", v) end
  return v
end

-- r1 = seq: counter[0] += 1, its old value; jumps to "out" if missing
local function next_seq(counter)
  return {
    dsl.st("w", "fp", -4, 0),
    dsl.ld_map_fd("r1", counter), dsl.mov("r2", "fp"), dsl.add("r2", -4), dsl.call("map_lookup_elem"),
    dsl.jeq("r0", 0, "out"),
    dsl.mov("r1", 1), dsl.atomic_fetch_add("dw", "r0", 0, "r1"),
  }
end

-- Records of `size` bytes (a multiple of 8, at least 16): u64 seq, u64
-- tag, then zeros; written with bpf_ringbuf_output from the stack.
function M.ring_output(ring, counter, tag, size)
  size = size or 16
  assert(size % 8 == 0 and size >= 16 and size <= 256)
  local p = { next_seq(counter), dsl.stx("dw", "fp", -size - 8, "r1"), dsl.st("dw", "fp", -size, tag) }
  for off = -size + 8, -16, 8 do p[#p + 1] = dsl.st("dw", "fp", off, 0) end
  p[#p + 1] = {
    dsl.ld_map_fd("r1", ring), dsl.mov("r2", "fp"), dsl.add("r2", -size - 8), dsl.mov("r3", size),
    dsl.mov("r4", 0), dsl.call("ringbuf_output"),
    dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
  }
  return assert(programs.load { type = "socket_filter", name = "ring_out", insns = p })
end

-- The same through bpf_ringbuf_reserve/submit; a failed reservation is
-- counted in loss_map (a percpu_array) by the DSL's reserve_or_count_loss.
function M.ring_reserve(ring, counter, tag, size, loss_map)
  size = size or 16
  local p = { next_seq(counter), dsl.mov("r7", "r1") }
  p[#p + 1] = dsl.reserve_or_count_loss("r6", ring, size, loss_map, "out")
  p[#p + 1] = { dsl.stx("dw", "r6", 0, "r7"), dsl.st("dw", "r6", 8, tag) }
  for off = 16, size - 8, 8 do p[#p + 1] = dsl.st("dw", "r6", off, 0) end
  p[#p + 1] = {
    dsl.mov("r1", "r6"), dsl.mov("r2", 0), dsl.call("ringbuf_submit"),
    dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
  }
  return assert(programs.load { type = "socket_filter", name = "ring_resv", insns = p })
end

-- Samples of `size` bytes (u64 seq, u64 tag, zeros) through
-- bpf_perf_event_output on the current CPU.
function M.perf_output(perf_map, counter, tag, size)
  size = size or 16
  local p = { dsl.mov("r6", "r1"), next_seq(counter), dsl.stx("dw", "fp", -size - 8, "r1"),
              dsl.st("dw", "fp", -size, tag) }
  for off = -size + 8, -16, 8 do p[#p + 1] = dsl.st("dw", "fp", off, 0) end
  p[#p + 1] = {
    dsl.mov("r1", "r6"), dsl.ld_map_fd("r2", perf_map),
    dsl.mov32("r3", -1), -- BPF_F_CURRENT_CPU, zero-extended: no context bytes
    dsl.mov("r4", "fp"), dsl.add("r4", -size - 8), dsl.mov("r5", size),
    dsl.call("perf_event_output"),
    dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
  }
  return assert(programs.load { type = "socket_filter", name = "perf_out", insns = p })
end

-- Runs a producer n times (one test_run with repeat = n).
function M.run(prog, n)
  local res = assert(prog:test_run { data = M.PACKET, ["repeat"] = n })
  return res.retval
end

-- A duck-typed layout {u64 seq, u64 tag, bytes rest} over `size` bytes:
-- what the reader needs from any layout object (size, encode, decode).
function M.layout(size)
  size = size or 16
  local fmt = "<I8I8" .. (size > 16 and ("c" .. (size - 16)) or "")
  local L = {}
  function L.size() return size end
  function L.encode(_, t) return string.pack(fmt, t.seq, t.tag, size > 16 and string.rep("\0", size - 16) or nil) end
  function L.decode(_, bytes, offset)
    local seq, tag = string.unpack("<I8I8", bytes, (offset or 0) + 1)
    return { seq = seq, tag = tag }
  end
  return L
end

-- Ten records through a reader whose handler raises a table at its 4th and
-- 7th calls: poll, then consume, stop after the records already handled and
-- re-raise that very value; the next poll resumes at the record after it.
-- reader(handler) -> the reader and its producer; the reader's handler
-- passes each record's seq to handler.
function M.check_handler_errors(reader)
  local check = require "luassert"
  local handled, calls, boom = {}, 0, { "a table as error value" }
  local r, prod = reader(function(seq)
    calls = calls + 1
    if calls == 4 or calls == 7 then error(boom) end
    handled[#handled + 1] = seq
  end)
  M.run(prod, 10)
  local ok, err = pcall(r.poll, r, 0)
  check.is_false(ok)
  check.equal(boom, err)
  check.same({ 0, 1, 2 }, handled)
  ok, err = pcall(r.consume, r)
  check.is_false(ok)
  check.equal(boom, err)
  check.same({ 0, 1, 2, 4, 5 }, handled)
  check.equal(3, r:poll(0))
  check.same({ 0, 1, 2, 4, 5, 7, 8, 9 }, handled)
  check.equal(10, calls) -- every record reached the handler once
  check.equal(0, r:poll(0))
  return r
end

return M
