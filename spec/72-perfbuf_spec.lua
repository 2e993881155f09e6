-- SPDX-License-Identifier: MIT
-- perfbuf.reader against samples the kernel wrote with
-- bpf_perf_event_output from a producer pinned to one CPU at a time: the
-- CPU each sample reports, their order, the kernel's padding, losses when
-- a one-page buffer overflows, handler errors, and closed-reader misuse.
local env = require "support.env"
local P = require "support.producers"
local maps = require "ebpfdsl.maps"
local perfbuf = require "ebpfdsl.perfbuf"

local CLOSED = "attempt to use a closed ebpfdsl.PerfBuf"

local function read_file(path) return assert(require("support.files").read(path)) end

-- This process (the Lua state runs on its main thread).
local PID = read_file("/proc/self/stat"):match("^(%d+)")

-- The CPUs this process may run on, as taskset prints them ("0-1").
local function affinity() return env.run("taskset -pc " .. PID):match(":%s*(%S+)%s*$") end

-- Runs fn with this process pinned to `cpu`, then restores the affinity.
local function on_cpu(cpu, fn)
  local before = affinity()
  env.run(("taskset -pc %d %s"):format(cpu, PID))
  local ok, err = pcall(fn)
  env.run(("taskset -pc %s %s"):format(before, PID))
  if not ok then error(err, 0) end
end

local function online_cpus()
  local cpus = {}
  local list = read_file("/sys/devices/system/cpu/online")
  for a, b in list:gmatch("(%d+)%-?(%d*)") do
    for c = tonumber(a), tonumber(b ~= "" and b or a) do cpus[#cpus + 1] = c end
  end
  return cpus
end

local function setup(tag, size)
  local map = assert(maps.create { type = "perf_event_array" })
  local counter = P.counter()
  return map, counter, P.perf_output(map, counter, tag or 5, size)
end

describe("perfbuf.reader", function()
  env.it("delivers each sample with the CPU it was written on, in order", "bpf", function()
    local map, counter, prod = setup(5)
    local got = {}
    local r = assert(perfbuf.reader(map, function(cpu, bytes)
      local seq, tag = string.unpack("<I8I8", bytes)
      got[#got + 1] = { cpu = cpu, seq = seq, tag = tag, len = #bytes }
    end))
    local cpus = online_cpus()
    assert.equal(#cpus, r:buffers())
    local expect, n = {}, 0
    for i, cpu in ipairs(cpus) do
      on_cpu(cpu, function() P.run(prod, i + 2) end)
      for _ = 1, i + 2 do
        expect[#expect + 1] = { cpu = cpu, seq = n, tag = 5, len = 20 }
        n = n + 1
      end
    end
    assert.equal(n, P.count(counter))
    assert.equal(n, r:poll(0))
    -- buffers are read CPU by CPU, each in the order it was written
    table.sort(got, function(a, b) return a.seq < b.seq end)
    -- 16 bytes arrive as 20: the kernel pads raw samples so that the u32
    -- size before them and the data end on 8 bytes
    assert.same(expect, got)
  end)

  env.it("decodes samples with a layout", "bpf", function()
    local map, _, prod = setup(6, 24)
    local got = {}
    local r = assert(perfbuf.reader(map, function(cpu, t) got[#got + 1] = { cpu, t.seq, t.tag } end,
      { layout = P.layout(24) }))
    on_cpu(0, function() P.run(prod, 3) end)
    assert.equal(3, r:poll(1000))
    assert.same({ { 0, 0, 6 }, { 0, 1, 6 }, { 0, 2, 6 } }, got)
  end)

  env.it("reports samples lost to a full one-page buffer, to the sample", "bpf", function()
    -- Each 16-byte sample takes 32 bytes of ring: an 8-byte header, the
    -- u32 size, 20 bytes of padded data. A one-page ring keeps one byte
    -- free, so it holds (4096 - 1) // 32 records.
    local map, _, prod = setup(1)
    local samples, lost = 0, {}
    local r = assert(perfbuf.reader(map, function() samples = samples + 1 end, {
      pages = 1, lost = function(cpu, n) lost[#lost + 1] = { cpu, n } end }))
    local fits = (4096 - 1) // 32
    on_cpu(0, function() P.run(prod, 200) end)
    assert.equal(fits, r:poll(0))
    assert.same({}, lost) -- the kernel reports a loss with the next sample it can write
    on_cpu(0, function() P.run(prod, 1) end)
    assert.equal(2, r:poll(0))
    assert.same({ { 0, 200 - fits } }, lost)
    assert.equal(fits + 1, samples)
  end)

  env.it("stops at a handler error, re-raises it, and resumes at the next sample", "bpf", function()
    local map, _, prod = setup()
    local seen, calls = {}, 0
    local r = assert(perfbuf.reader(map, function(_, b)
      calls = calls + 1
      if calls == 3 then error("handler failed") end
      seen[#seen + 1] = string.unpack("<I8", b)
    end))
    on_cpu(0, function() P.run(prod, 6) end)
    assert.error_matches(function() r:poll(0) end, "handler failed")
    assert.same({ 0, 1 }, seen)
    assert.equal(3, r:poll(0))
    assert.same({ 0, 1, 3, 4, 5 }, seen)
  end)

  env.it("goes on reading after the map object was closed", "bpf", function()
    local map, _, prod = setup(8)
    local n = 0
    local r = assert(perfbuf.reader(map, function() n = n + 1 end))
    map:close() -- the program and the reader hold the map
    on_cpu(0, function() P.run(prod, 4) end)
    assert.equal(4, r:poll(1000))
    r:close()
    assert.equal(4, n)
  end)

  env.it("exposes an epoll fd over the CPU buffers", "bpf", function()
    local map = setup()
    local r = assert(perfbuf.reader(map, function() end))
    local info = read_file("/proc/self/fdinfo/" .. r:fd())
    local n = 0
    for _ in info:gmatch("tfd:") do n = n + 1 end
    assert.equal(r:buffers(), n) -- one perf event per CPU
  end)

  env.it("refuses use once closed", "bpf", function()
    local map = setup()
    local r = assert(perfbuf.reader(map, function() end))
    assert.matches("^ebpfdsl.PerfBuf over %d+ CPU buffers?, epoll fd %d+", tostring(r))
    r:close()
    r:close()
    assert.equal("ebpfdsl.PerfBuf (closed)", tostring(r))
    for _, call in ipairs { function() r:poll(0) end, function() r:consume() end, function() r:fd() end,
                            function() r:buffers() end } do
      assert.error_matches(call, CLOSED, 1, true)
    end
  end)

  env.it("refuses what is not a perf event array, bad pages, bad options", "bpf", function()
    local ring = assert(maps.ringbuf(4096))
    assert.error_matches(function() perfbuf.reader(ring, print) end, "is not a perf_event_array map")
    local map = setup()
    assert.error_matches(function() perfbuf.reader(map, print, { pages = 3 }) end, "pages must be a power of 2")
    assert.error_matches(function() perfbuf.reader(map, print, { pages = 0 }) end,
      "perfbuf.reader: field 'pages' must be from 1 to 1048576, got 0")
    assert.error_matches(function() perfbuf.reader(map, 42) end, "handler must be callable")
    local ok, err = pcall(perfbuf.reader, map, print, { page = 1 })
    assert.is_false(ok)
    assert.equal("perfbuf.reader: unknown field 'page' (did you mean 'pages'?)", err)
    ok, err = pcall(function() perfbuf.reader(map, print, { layuot = 1 }) end)
    assert.is_false(ok)
    assert.matches("^spec/72%-perfbuf_spec%.lua:%d+: perfbuf.reader: unknown field 'layuot' "
      .. "%(did you mean 'layout'%?%)$", err)
    assert.error_matches(function() perfbuf.reader(map, print, { lost = 1 }) end, "lost must be a function")
  end)
end)
