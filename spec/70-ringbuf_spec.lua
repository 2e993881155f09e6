-- SPDX-License-Identifier: MIT
-- ringbuf.reader against records the kernel wrote: producers number their
-- records with a counter map, so every spec knows what was written and in
-- which order. Raw and layout handlers, several rings, poll / consume /
-- events / poll_batch, handler errors and resuming, the epoll fd waited on
-- by a host loop (LuaSocket's select), closed-reader misuse.
local env = require "support.env"
local P = require "support.producers"
local maps = require "ebpfdsl.maps"
local ringbuf = require "ebpfdsl.ringbuf"
local core = require "ebpfdsl.core"
local structs = require "ebpfdsl.structs"

local CLOSED = "attempt to use a closed ebpfdsl.RingBuf"

local function seqs_of(list, field)
  local out = {}
  for i, v in ipairs(list) do out[i] = field and v[field] or v end
  return out
end

local function range(a, b)
  local t = {}
  for i = a, b do t[#t + 1] = i end
  return t
end

-- A ring, a counter and a producer of 16-byte records tagged `tag`.
local function setup(tag, size, ring_size)
  local ring = assert(maps.ringbuf(ring_size or 64 * 1024))
  local counter = P.counter()
  return ring, counter, P.ring_output(ring, counter, tag or 7, size)
end

local function fd_open(fd)
  local fh = io.open("/proc/self/fdinfo/" .. fd)
  if fh then fh:close() end
  return fh ~= nil
end

local function raw_seq(bytes) return (string.unpack("<I8", bytes)) end

describe("ringbuf.reader", function()
  env.it("gives a plain handler each record's bytes, in order", "bpf", function()
    local ring, counter, prod = setup(7)
    local got = {}
    local r = assert(ringbuf.reader { [ring] = function(b) got[#got + 1] = b end })
    P.run(prod, 10)
    assert.equal(10, P.count(counter)) -- the kernel ran it 10 times
    assert.equal(10, r:poll(0))
    assert.equal(10, #got)
    for i, b in ipairs(got) do
      assert.equal(16, #b)
      local seq, tag = string.unpack("<I8I8", b)
      assert.equal(i - 1, seq)
      assert.equal(7, tag)
    end
    assert.equal(0, r:poll(0))
    r:close()
  end)

  env.it("gives a handler with a layout the decoded tables", "bpf", function()
    local ring, _, prod = setup(9, 32)
    local got = {}
    local r = assert(ringbuf.reader { [ring] = { layout = P.layout(32), handler = function(t) got[#got + 1] = t end } })
    P.run(prod, 5)
    assert.equal(5, r:poll(0))
    assert.same({ 0, 1, 2, 3, 4 }, seqs_of(got, "seq"))
    assert.same({ 9, 9, 9, 9, 9 }, seqs_of(got, "tag"))
  end)

  env.it("decodes with an ebpfdsl.Layout in C, as the layout decodes the raw bytes", "bpf", function()
    local E = structs.define("rec", { { "seq", "u64" }, { "tag", "u32" }, { "hi", "u32" }, { "rest", "char", 16 } })
    local ring, _, prod = setup(11, 32)
    local raw = assert(ringbuf.reader { [ring] = {} })
    local decoded = {}
    local r = assert(ringbuf.reader { [ring] = { layout = E, handler = function(t) decoded[#decoded + 1] = t end } })
    P.run(prod, 4)
    local bytes = raw:poll_batch(2)
    assert.equal(2, r:poll(0))
    P.run(prod, 2)
    local evs = r:poll_batch(1)
    local via_events = {}
    for ev in r:events(0) do via_events[#via_events + 1] = ev end
    assert.same({ E:decode(bytes[1]), E:decode(bytes[2]) }, { { seq = 0, tag = 11, hi = 0, rest = "" },
                                                              { seq = 1, tag = 11, hi = 0, rest = "" } })
    assert.same({ { seq = 2, tag = 11, hi = 0, rest = "" }, { seq = 3, tag = 11, hi = 0, rest = "" } }, decoded)
    assert.same({ { seq = 4, tag = 11, hi = 0, rest = "" } }, evs)
    assert.same({ { seq = 5, tag = 11, hi = 0, rest = "" } }, via_events)
  end)

  env.it("reads several rings, each record going to its own ring's handler", "bpf", function()
    local a, ca, pa = setup(1)
    local b, cb, pb = setup(2, 24)
    local got = { [1] = {}, [2] = {} }
    local r = assert(ringbuf.reader {
      [a] = function(bytes) local s, t = string.unpack("<I8I8", bytes); table.insert(got[t], s) end,
      [b] = { layout = P.layout(24), handler = function(t) table.insert(got[t.tag], t.seq) end },
    })
    P.run(pa, 6)
    P.run(pb, 4)
    assert.equal(10, r:poll(0))
    assert.same(range(0, 5), got[1])
    assert.same(range(0, 3), got[2])
    assert.equal(6, P.count(ca))
    assert.equal(4, P.count(cb))
    local ms = r:maps()
    assert.equal(2, #ms)
    assert.is_true((ms[1] == a and ms[2] == b) or (ms[1] == b and ms[2] == a))
  end)

  env.it("polls with a timeout: waits when empty, not when records are there", "bpf", function()
    local ring, _, prod = setup()
    local n = 0
    local r = assert(ringbuf.reader { [ring] = function() n = n + 1 end })
    local t0 = core.monotime_ns()
    assert.equal(0, r:poll(100))
    assert.is_true(core.monotime_ns() - t0 >= 95e6, "poll(100) on an empty ring returned early")
    assert.equal(0, r:consume())
    P.run(prod, 3)
    t0 = core.monotime_ns()
    assert.equal(3, r:poll(5000))
    assert.is_true(core.monotime_ns() - t0 < 1e9, "poll waited although records were there")
    P.run(prod, 4)
    assert.equal(4, r:consume())
    assert.equal(7, n)
  end)

  env.it("iterates with events(), and a loop left early loses nothing", "bpf", function()
    local ring, _, prod = setup(5, 16)
    local r = assert(ringbuf.reader { [ring] = { layout = P.layout(16) } })
    P.run(prod, 8)
    local seen = {}
    for ev, map in r:events(0) do
      assert.equal(ring, map)
      seen[#seen + 1] = ev.seq
      if #seen == 3 then break end
    end
    assert.same({ 0, 1, 2 }, seen)
    for ev in r:events(0) do seen[#seen + 1] = ev.seq end
    assert.same(range(0, 7), seen)
    -- an empty ring ends the loop once the timeout has passed
    local t0 = core.monotime_ns()
    for _ in r:events(50) do error("no event was written") end
    assert.is_true(core.monotime_ns() - t0 >= 45e6)
  end)

  env.it("returns batches with poll_batch(max), in order, without handlers", "bpf", function()
    local ring, _, prod = setup(3, 32)
    local r = assert(ringbuf.reader { [ring] = { layout = P.layout(32) } })
    P.run(prod, 10)
    local all = {}
    for _, want in ipairs { 4, 4, 2, 0 } do
      local evs, rings = r:poll_batch(4)
      assert.equal(want, #evs)
      assert.equal(want, #rings)
      for i, ev in ipairs(evs) do
        assert.equal(3, ev.tag)
        assert.equal(ring, rings[i])
        all[#all + 1] = ev.seq
      end
    end
    assert.same(range(0, 9), all)
    -- raw rings give bytes
    local raw = assert(ringbuf.reader { [ring] = {} })
    P.run(prod, 2)
    local evs = raw:poll_batch(10)
    assert.same({ 10, 11 }, { raw_seq(evs[1]), raw_seq(evs[2]) })
    -- a timeout waits for the first record
    local t0 = core.monotime_ns()
    assert.same({}, (r:poll_batch(5, 60)))
    assert.is_true(core.monotime_ns() - t0 >= 55e6)
  end)

  env.it("leaves the kernel's consumer position right after the last record taken", "bpf", function()
    -- Two readers on one ring share the kernel's consumer position: what
    -- one has taken the other must never see, and nothing may be skipped.
    -- poll_batch(3) takes exactly three: it stops libbpf by a negative
    -- callback return after the third record, which libbpf has already
    -- counted as consumed.
    local ring, _, prod = setup()
    local one = assert(ringbuf.reader { [ring] = {} })
    local two = assert(ringbuf.reader { [ring] = {} })
    P.run(prod, 10)
    local function seqs(evs)
      local out = {}
      for i, b in ipairs(evs) do out[i] = raw_seq(b) end
      return out
    end
    assert.same({ 0, 1, 2 }, seqs(one:poll_batch(3)))
    assert.equal(0, one:staged())
    assert.same({ 3, 4 }, seqs(two:poll_batch(2)))
    assert.same({ 5, 6, 7 }, seqs(one:poll_batch(3)))
    assert.same({ 8, 9 }, seqs(two:poll_batch(100)))
    assert.same({}, one:poll_batch(3))
  end)

  describe("when a handler raises", function()
    env.it("stops after the events already handled, re-raises, and resumes at the next event", "bpf", function()
      P.check_handler_errors(function(handler)
        local ring, _, prod = setup()
        return assert(ringbuf.reader { [ring] = function(b) handler(raw_seq(b)) end }), prod
      end)
    end)

    env.it("raises on a record shorter than the layout, then goes on", "bpf", function()
      local ring, _, prod = setup(1, 16)
      local got = {}
      local keep = function(t) got[#got + 1] = t end
      local r = assert(ringbuf.reader { [ring] = { layout = P.layout(24), handler = keep } })
      P.run(prod, 2)
      assert.error_matches(function() r:poll(0) end, "16%-byte record is shorter than its layout %(24 bytes%)")
      assert.error_matches(function() r:poll(0) end, "shorter than its layout")
      assert.equal(0, r:poll(0))
      assert.same({}, got)
    end)

    env.it("in poll_batch returns the events decoded before it and raises on the next call", "bpf", function()
      local ring, _, prod = setup(1, 16)
      local layout = P.layout(16)
      local plain = layout.decode
      layout.decode = function(self, b, off)
        local t = plain(self, b, off)
        if t.seq == 2 then error("cannot decode record 2") end
        return t
      end
      local r = assert(ringbuf.reader { [ring] = { layout = layout } })
      P.run(prod, 6)
      local evs = r:poll_batch(10)
      assert.same({ 0, 1 }, seqs_of(evs, "seq"))
      assert.error_matches(function() r:poll_batch(10) end, "cannot decode record 2")
      assert.same({ 3, 4, 5 }, seqs_of((r:poll_batch(10)), "seq"))
    end)

    env.it("refuses a poll from inside its own handler", "bpf", function()
      local ring, _, prod = setup()
      local r
      r = assert(ringbuf.reader { [ring] = function() r:poll(0) end })
      P.run(prod, 1)
      assert.error_matches(function() r:poll(0) end, "cannot read from inside its own handler")
    end)
  end)

  env.it("exposes an epoll fd that a host event loop can wait on", "bpf", function()
    local socket = require "socket" -- LuaSocket's select() as the host loop
    local ring, _, prod = setup()
    local n = 0
    local r = assert(ringbuf.reader { [ring] = function() n = n + 1 end })
    local watched = { getfd = function() return r:fd() end, dirty = function() return false end }
    -- the kernel's view: the fd is an epoll instance that watches the ring
    local fh = assert(io.open("/proc/self/fdinfo/" .. r:fd()))
    local info = fh:read("a")
    fh:close()
    assert.matches("tfd:%s+" .. ring:fd() .. "%s", info)
    local readable = socket.select({ watched }, nil, 0)
    assert.equal(0, #readable)
    P.run(prod, 3)
    readable = socket.select({ watched }, nil, 2)
    assert.equal(1, #readable)
    assert.equal(3, r:poll(0))
    assert.equal(3, n)
    readable = socket.select({ watched }, nil, 0)
    assert.equal(0, #readable)
  end)

  env.it("wakes a waiting poll when a tracepoint fires in another process",
    { "bpf", "tracefs", "gcc", "attach:tracepoint" }, function()
    local dsl = require "ebpfdsl.dsl"
    local programs = require "ebpfdsl.programs"
    local dir = env.tmpdir()
    local src = assert(io.open(dir .. "/calls.c", "w"))
    -- the child says who it is, waits for the go file, lets the parent
    -- settle into its poll, then calls getppid five times
    src:write([[
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
  printf("%d\n", (int)getpid()); fflush(stdout);
  while (access(argv[1], F_OK) != 0) usleep(1000);
  usleep(200000);
  for (int i = 0; i < 5; i++) syscall(SYS_getppid);
  return 0; }
]])
    src:close()
    env.run(("gcc -O2 -o %s/calls %s/calls.c"):format(dir, dir))
    local child = assert(io.popen(("%s/calls %s/go"):format(dir, dir)))
    local child_pid = assert(tonumber(child:read("l")))
    local ring = assert(maps.ringbuf(64 * 1024))
    -- each getppid call of the child writes its tgid; nobody else's does
    local prog = assert(programs.load { type = "tracepoint", name = "rb_getppid", insns = {
      dsl.call("get_current_pid_tgid"), dsl.rsh("r0", 32), dsl.jne("r0", child_pid, "out"),
      dsl.stx("w", "fp", -8, "r0"),
      dsl.ld_map_fd("r1", ring), dsl.mov("r2", "fp"), dsl.add("r2", -8), dsl.mov("r3", 4), dsl.mov("r4", 0),
      dsl.call("ringbuf_output"),
      dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
    } })
    local link = assert(prog:attach_tracepoint("syscalls", "sys_enter_getppid"))
    local pids = {}
    local r = assert(ringbuf.reader { [ring] = function(b) pids[#pids + 1] = string.unpack("<I4", b) end })
    assert(io.open(dir .. "/go", "w")):close()
    local t0 = core.monotime_ns()
    while #pids < 5 and core.monotime_ns() - t0 < 5e9 do assert(r:poll(5000)) end
    local waited = core.monotime_ns() - t0
    child:close()
    assert.same({ child_pid, child_pid, child_pid, child_pid, child_pid }, pids)
    -- woken by the events, not by poll(5000) timing out
    assert.is_true(waited < 4e9, "the waiting poll was not woken")
    link:detach()
    env.run("rm -rf " .. dir)
  end)

  describe("once closed", function()
    env.it("refuses every use, closes again quietly, and says so in tostring", "bpf", function()
      local ring = setup()
      local r = assert(ringbuf.reader { [ring] = function() end })
      assert.matches("^ebpfdsl.RingBuf over 1 ring, epoll fd %d+", tostring(r))
      local it = r:events(0)
      r:close()
      r:close()
      assert.equal("ebpfdsl.RingBuf (closed)", tostring(r))
      for _, call in ipairs {
        function() r:poll(0) end, function() r:consume() end, function() r:poll_batch(1) end,
        function() r:events(0) end, it, function() r:fd() end, function() r:lost() end, function() r:maps() end,
      } do
        assert.error_matches(call, CLOSED, 1, true)
      end
    end)

    env.it("closes as a <close> variable, and the ring lives on for others", "bpf", function()
      local ring, _, prod = setup()
      local fd
      do
        local r <close> = assert(ringbuf.reader { [ring] = function() end })
        fd = r:fd()
        assert.is_true(fd_open(fd))
      end
      assert.is_false(fd_open(fd)) -- the epoll fd is gone
      local n = 0
      local r = assert(ringbuf.reader { [ring] = function() n = n + 1 end })
      P.run(prod, 2)
      assert.equal(2, r:poll(0))
    end)

    env.it("closed by its own handler, stops after that handler", "bpf", function()
      local ring, _, prod = setup()
      local r, n
      n = 0
      r = assert(ringbuf.reader { [ring] = function() n = n + 1; if n == 2 then r:close() end end })
      P.run(prod, 5)
      assert.equal(2, r:poll(0))
      assert.equal("ebpfdsl.RingBuf (closed)", tostring(r))
      local again = assert(ringbuf.reader { [ring] = function() end })
      assert.equal(0, again:poll(0)) -- what the closed reader had taken went with it
    end)
  end)

  env.it("takes a ring by fd, and reads on after the map object was closed", "bpf", function()
    local ring, _, prod = setup()
    local n = 0
    local r = assert(ringbuf.reader { [ring:fd()] = function() n = n + 1 end })
    assert.equal(ring:fd(), r:maps()[1])
    ring:close() -- the program and the reader's mapping hold the ring
    P.run(prod, 3)
    assert.equal(3, r:poll(0))
    assert.equal(3, n)
  end)

  env.it("keeps its maps and handlers alive", "bpf", function()
    local weak = setmetatable({}, { __mode = "k" })
    local r
    do
      local ring = assert(maps.ringbuf(4096))
      local handler = function() end
      weak[ring], weak[handler] = true, true
      r = assert(ringbuf.reader { [ring] = handler })
    end
    collectgarbage()
    collectgarbage()
    local n = 0
    for k in pairs(weak) do n = n + 1; assert.is_not_nil(k) end
    assert.equal(2, n)
    assert.not_matches("closed", tostring(r:maps()[1]))
    r:close()
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(weak)) -- and lets go of them once closed
  end)

  describe("refuses", function()
    env.it("a map that is not a ring buffer, naming it", "bpf", function()
      local arr = assert(maps.create { type = "array", key_size = 4, value_size = 8, max_entries = 1 })
      assert.error_matches(function() ringbuf.reader { [arr] = function() end } end,
        "ring 1: ebpfdsl.Map array .* is not a ringbuf map")
    end)

    it("specs that are not readers", function()
      assert.error_matches(function() ringbuf.reader() end, "expected a table")
      assert.error_matches(function() ringbuf.reader {} end, "no ring buffer given")
      assert.error_matches(function() ringbuf.reader { [3] = 42 } end, "expected a handler or")
      assert.error_matches(function() ringbuf.reader { [3] = { handle = print } } end,
        "unknown field 'handle' %(did you mean 'handler'%?%)")
      assert.error_matches(function() ringbuf.reader { [3] = { handler = 1 } } end, "handler must be a function")
      assert.error_matches(function() ringbuf.reader { x = print } end, "keys must be ring buffer maps")
      assert.error_matches(function() ringbuf.reader { [3] = { layout = {} } } end, "a layout needs a size%(%) method")
      assert.error_matches(function() ringbuf.reader { [3] = { layout = { size = function() return 0 end } } } end,
        "layout:size%(%) must give a positive integer")
    end)

    env.it("bad arguments to its methods", "bpf", function()
      local ring = setup()
      local r = assert(ringbuf.reader { [ring] = {} })
      assert.error_matches(function() r:poll(0) end, "a ring has no handler")
      assert.error_matches(function() r:poll_batch(0) end, "max must be 1..")
      assert.error_matches(function() r:events(-2) end, "timeout must be")
    end)
  end)
end)
