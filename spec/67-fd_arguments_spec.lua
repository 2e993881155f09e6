-- SPDX-License-Identifier: MIT
-- Every argument that takes an fd takes the same values, through one
-- helper: an integer, an io file, an object with :fd() (Map, Prog, Link)
-- or :getfd() (LuaSocket); and refuses anything else with one message.
-- The kernel is the oracle: what it reads through each fd.
local env = require "support.env"
local P = require "support.producers"
local e = require "ebpfdsl"
local maps, ringbuf, perfbuf = e.maps, e.ringbuf, e.perfbuf

-- A LuaSocket-like object: only :getfd()
local function getfd_of(obj) return { getfd = function() return obj:fd() end } end

local function err_of(fn, ...)
  local ok, msg = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return (tostring(msg):gsub("^[^:]*:%d+: ", ""))
end

describe("fd arguments", function()
  env.it("take an object with :getfd() wherever they take a Map", "bpf", function()
    local ring <close> = assert(maps.ringbuf(4096))
    local counter <close> = P.counter()
    local prod = P.ring_output(ring, counter, 7)
    local seen = 0
    local r <close> = assert(ringbuf.reader { [getfd_of(ring)] = function() seen = seen + 1 end })
    P.run(prod, 3)
    assert.equal(3, r:poll(0))
    assert.equal(3, seen)
    local events <close> = assert(maps.create { type = "perf_event_array" })
    local pb <close> = assert(perfbuf.reader(getfd_of(events), function() end))
    assert.is_true(pb:buffers() >= 1)
    local pa <close> = assert(maps.prog_array { max_entries = 1 })
    assert.is_true(pa:set_prog(0, getfd_of(prod)))
    assert.equal(prod:info().id, pa:get_prog(0))
  end)

  env.it("take an io file, by its descriptor", "bpf", function()
    -- an io file is no perf event array: the kernel's refusal is the one
    -- reported (before, the reader raised that a FILE* had no fd method)
    local f <close> = assert(io.open("/dev/null"))
    assert.matches("^perfbuf.reader: file %(0x%x+%) is not a perf_event_array map$",
      err_of(perfbuf.reader, f, function() end))
    f:close()
    assert.equal("perfbuf.reader: attempt to use a closed file", err_of(perfbuf.reader, f, function() end))
  end)

  it("refuse other values with one message", function()
    local want = "expected an fd, a file, or an object with :fd() or :getfd(), got boolean"
    assert.equal("perfbuf.reader: " .. want, err_of(perfbuf.reader, true, function() end))
    assert.equal("ringbuf.reader: the keys must be ring buffer maps (or fds), got true (" .. want .. ")",
      err_of(ringbuf.reader, { [true] = function() end }))
    assert.equal("perfbuf.reader: table has no fd method", err_of(perfbuf.reader, {}, function() end))
    assert.equal("perfbuf.reader: not a valid file descriptor", err_of(perfbuf.reader, -1, function() end))
  end)
end)
