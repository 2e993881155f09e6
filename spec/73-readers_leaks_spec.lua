-- SPDX-License-Identifier: MIT
-- Readers leak nothing: thousands of ring-buffer and perf-buffer readers,
-- closed or left to the collector, leave the process's file descriptors
-- and memory mappings (the rings libbpf maps) as they were.
local env = require "support.env"
local P = require "support.producers"
local maps = require "ebpfdsl.maps"
local ringbuf = require "ebpfdsl.ringbuf"
local perfbuf = require "ebpfdsl.perfbuf"

-- Read in this process (lfs): `ls` through io.popen raced with popen
-- closing its pipe's other end, now and then counting one fd more.
local function count_fds()
  local n = 0
  for name in require("lfs").dir("/proc/self/fd") do if name ~= "." and name ~= ".." then n = n + 1 end end
  return n
end

-- mappings of this process (/proc/self/maps read by this very process)
local function count_mappings()
  local n = 0
  for _ in io.lines("/proc/self/maps") do n = n + 1 end
  return n
end

local function settle()
  collectgarbage()
  collectgarbage()
end

describe("readers", function()
  env.it("leave no fd and no mapping behind, closed or collected", "bpf", function()
    local rings = { assert(maps.ringbuf(4096)), assert(maps.ringbuf(8192)) }
    local loss = assert(maps.create { type = "percpu_array", key_size = 4, value_size = 8, max_entries = 1 })
    local perf = assert(maps.create { type = "perf_event_array" })
    local counter = P.counter()
    local prod = P.ring_output(rings[1], counter, 1)
    settle()
    local fds, mappings = count_fds(), count_mappings()
    for i = 1, 3000 do
      local r = assert(ringbuf.reader { [rings[1]] = function() end, [rings[2]] = { lost = loss, handler = print } })
      if i % 100 == 0 then
        P.run(prod, 3) -- some with records taken and staged
        assert.equal(3, r:poll(0))
      end
      if i % 2 == 0 then r:close() end
    end
    for i = 1, 300 do
      local r = assert(perfbuf.reader(perf, function() end, { pages = 1 }))
      if i % 2 == 0 then r:close() end
    end
    settle()
    assert.equal(fds, count_fds())
    assert.equal(mappings, count_mappings())
  end)

  env.it("fail without leaking when the map is not a ring buffer", "bpf", function()
    local arr = assert(maps.create { type = "array", key_size = 4, value_size = 8, max_entries = 1 })
    local ring = assert(maps.ringbuf(4096))
    settle()
    local fds = count_fds()
    for _ = 1, 1000 do
      assert.is_false(pcall(ringbuf.reader, { [ring] = print, [arr] = print }))
      assert.is_false(pcall(perfbuf.reader, ring, print))
    end
    settle()
    assert.equal(fds, count_fds())
  end)
end)
