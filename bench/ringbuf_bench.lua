-- SPDX-License-Identifier: MIT
-- Ring-buffer throughput. One program writes 32-byte records {ts, pid,
-- tgid, counter, arg} (bench/record_producer.lua) into a ring: as a
-- tracepoint on syscalls/sys_enter_getppid (filled by
-- build/bench/ringbuf_consumer calling getppid) and as a socket filter run
-- by test_run{repeat = N}. For each producer the ring is filled, then
-- drained by each Lua consumer (the default handler, its fast modes,
-- poll_batch, poll_columns, raw bytes, poll_chunk) and by a plain C
-- libbpf consumer of the same ring (pinned), each refill the same; the median of ROUNDS
-- drains counts (the machine may be shared). Then streaming: a child
-- process makes the tracepoint fire while Lua (or C) reads, the producer
-- waking the reader per record, or submitting with BPF_RB_NO_WAKEUP and
-- the reader looking every millisecond. Needs root and tracefs.
local lib = require "lib"
local maps = require "ebpfdsl.maps"
local programs = require "ebpfdsl.programs"
local ringbuf = require "ebpfdsl.ringbuf"
local producer = require "record_producer"

local N = 500000                 -- records per fill
local RING = 32 * 1024 * 1024    -- holds N records of 40 bytes (8-byte header)
local BATCH = 256
local ROUNDS = 5
local STREAM = 1000000           -- records per streaming run
local R = producer.Record
assert(R:size() == 32)

local pid = io.open("/proc/self/stat"):read("a"):match("^(%d+)")
local pin = "/sys/fs/bpf/ebpfdsl_bench_ring_" .. pid
local ring = assert(maps.ringbuf(RING))
local counter = assert(maps.array { key = "u32", value = "u64", max_entries = 1 })
assert(ring:pin(pin))

local function median(list)
  table.sort(list)
  local n = #list
  return n % 2 == 1 and list[(n + 1) // 2] or (list[n // 2] + list[n // 2 + 1]) / 2
end

local function load(ptype, flags)
  return assert(programs.load { type = ptype, name = "bench_ring", insns = producer.insns(ring, counter, flags) })
end

-- Every consumer adds up the counter field: with the counter reset before
-- a fill of the test_run producer, the sum tells that every record came
-- once (0 + 1 + ... + N - 1).
local sum = 0
local unpack = string.unpack
-- {name, make reader, drain (default: consume), issue 9's target}
local CONSUMERS = {
  { "handler, table (default)", function()
    return assert(ringbuf.reader { [ring] = { layout = R, handler = function(ev) sum = sum + ev.counter end } })
  end },
  { "handler, mode reused", function()
    return assert(ringbuf.reader { [ring] = { layout = R, mode = "reused",
                                              handler = function(ev) sum = sum + ev.counter end } })
  end },
  { "handler, mode fields", function()
    return assert(ringbuf.reader { [ring] = { layout = R, mode = "fields",
                                              handler = function(_, _, _, c) sum = sum + c end } })
  end, nil, { op = ">=", value = 9e6 } },
  { ("poll_batch(%d), tables"):format(BATCH), function() return assert(ringbuf.reader { [ring] = { layout = R } }) end,
    function(r)
      local n = 0
      while true do
        local evs = r:poll_batch(BATCH)
        if #evs == 0 then return n end
        for i = 1, #evs do sum = sum + evs[i].counter end
        n = n + #evs
      end
    end },
  { ("poll_columns(%d)"):format(BATCH), function()
    return assert(ringbuf.reader { [ring] = { layout = R } })
  end, function(r)
    local n, cols = 0, {}
    while true do
      local k = r:poll_columns(BATCH, 0, cols)
      if k == 0 then return n end
      local c = cols.counter
      for i = 1, k do sum = sum + c[i] end
      n = n + k
    end
  end, { op = ">=", value = 20e6 } },
  { "raw handler, bytes (default)", function()
    return assert(ringbuf.reader { [ring] = function(b) sum = sum + unpack("<I8", b, 17) end })
  end },
  { "raw handler, mode chunk", function()
    return assert(ringbuf.reader { [ring] = { mode = "chunk", handler = function(c, pos)
      sum = sum + unpack("<I8", c, pos + 16)
    end } })
  end },
  { ("raw poll_chunk(%d)"):format(BATCH), function() return assert(ringbuf.reader { [ring] = function() end }) end,
    function(r)
      local n, offs = 0, {}
      while true do
        local k, c = r:poll_chunk(BATCH, 0, offs)
        if k == 0 then return n end
        for i = 1, k do sum = sum + unpack("<I8", c, offs[i] + 16) end
        n = n + k
      end
    end, { op = ">=", value = 12e6 } },
}

-- Fills the ring with `fill` and drains it every way; returns the rates
-- (medians over ROUNDS) by consumer index, and the C one as .c.
local function measure(fill, exact)
  local rates = {}
  for i, c in ipairs(CONSUMERS) do
    local r = c[2]()
    local drain = c[3] or function(rd) return rd:consume() end
    local list = {}
    for _ = 1, ROUNDS do
      counter[0] = 0
      fill()
      collectgarbage() -- each drain starts from a clean heap
      sum = 0
      local t0 = lib.now_ns()
      local n = drain(r)
      local dt = (lib.now_ns() - t0) / 1e9
      assert(n >= N, c[1] .. ": missed records")
      assert(not exact or (n == N and sum == N * (N - 1) // 2), c[1] .. ": records lost or repeated")
      list[#list + 1] = n / dt
    end
    r:close()
    rates[i] = median(list)
  end
  local list = {}
  for _ = 1, ROUNDS do
    fill()
    local c = lib.c_baseline("ringbuf_consumer", "drain " .. pin)
    assert(c.events >= N, "the C consumer missed events")
    list[#list + 1] = c.rate
  end
  rates.c = median(list)
  return rates
end

local function report(producer_name, rates)
  for i, c in ipairs(CONSUMERS) do
    lib.report(("ringbuf %s: %s"):format(producer_name, c[1]), rates[i], "events/s", rates.c, "C libbpf consumer",
      c[4])
  end
end

-- the tracepoint producer: getppid calls made by the C helper
local tp = load("tracepoint")
local link = assert(tp:attach_tracepoint("syscalls", "sys_enter_getppid"))
local tp_rates = measure(function() assert(os.execute("build/bench/ringbuf_consumer produce " .. N)) end, false)
link:detach()
tp:close()
-- what other processes' getppid calls wrote after the last drain would
-- count as repeated records of the test_run producer
assert(ringbuf.reader { [ring] = function() end }):consume()

-- the test_run producer: the kernel runs the same body N times
local tr = load("socket_filter")
local tr_rates = measure(function()
  assert(tr:test_run { data = string.rep("\0", 64), ["repeat"] = N })
end, true)
tr:close()

-- Streaming: records taken while a child makes STREAM getppid calls;
-- events/s from the child's start to the last record read.
local function stream(flags)
  local prog = load("tracepoint", flags)
  local l = assert(prog:attach_tracepoint("syscalls", "sys_enter_getppid"))
  local n = 0
  local spec = { [ring] = { layout = R, mode = "fields", handler = function() n = n + 1 end } }
  if flags == "no_wakeup" then spec.poll_interval = 1 end
  local r = assert(ringbuf.reader(spec))
  local lua_rates, c_rates = {}, {}
  for _ = 1, 3 do
    n = 0
    local t0 = lib.now_ns()
    local child = assert(io.popen("build/bench/ringbuf_consumer produce " .. STREAM))
    while n < STREAM and lib.now_ns() - t0 < 60e9 do assert(r:poll(100)) end
    lua_rates[#lua_rates + 1] = n / ((lib.now_ns() - t0) / 1e9)
    child:close()
    r:consume() -- whatever others' getppid calls left
    local c = lib.c_baseline("ringbuf_consumer", ("stream %s %d %s"):format(pin, STREAM,
      flags == "no_wakeup" and "interval" or "wakeup"))
    c_rates[#c_rates + 1] = c.rate
  end
  r:close()
  l:detach()
  prog:close()
  return median(lua_rates), median(c_rates)
end
local woken, woken_c = stream(nil)
local timed, timed_c = stream("no_wakeup")
os.remove(pin)

report("tp", tp_rates)
report("test_run", tr_rates)
lib.report("ringbuf stream: wakeup, poll()", woken, "events/s", woken_c, "C ring_buffer__poll")
lib.report("ringbuf stream: no_wakeup, poll_interval=1", timed, "events/s", timed_c, "C consume + 1 ms sleep")
