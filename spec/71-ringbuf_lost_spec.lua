-- SPDX-License-Identifier: MIT
-- Lost events: a ring buffer keeps no count of the records it refused, so
-- the DSL's reserve_or_count_loss counts failed reservations in a
-- percpu_array that r:lost() sums. A one-page ring filled without being
-- read refuses exactly what the kernel's arithmetic says it must: each
-- record takes its size plus an 8-byte header, rounded up to 8 bytes.
local env = require "support.env"
local P = require "support.producers"
local maps = require "ebpfdsl.maps"
local ringbuf = require "ebpfdsl.ringbuf"

local PAGE = 4096

local function loss_map()
  return assert(maps.create { type = "percpu_array", key_size = 4, value_size = 8, max_entries = 1 })
end

-- records of `size` bytes a ring of `ring_size` bytes holds
local function capacity(ring_size, size) return ring_size // ((size + 8 + 7) // 8 * 8) end

describe("r:lost()", function()
  env.it("counts the reservations a full ring refused, and the reader gets the rest", "bpf", function()
    local ring, loss, counter = assert(maps.ringbuf(PAGE)), loss_map(), P.counter()
    local prod = P.ring_reserve(ring, counter, 4, 48, loss)
    local seqs = {}
    local r = assert(ringbuf.reader { [ring] = { handler = function(b) seqs[#seqs + 1] = string.unpack("<I8", b) end,
                                                 lost = loss } })
    assert.equal(0, r:lost())
    local fits = capacity(PAGE, 48)
    assert.equal(73, fits) -- 4096 // 56
    P.run(prod, 100)
    assert.equal(100, P.count(counter))
    assert.equal(100 - fits, r:lost())
    assert.equal(fits, r:poll(0))
    -- the first `fits` records made it, in order; the later ones were refused
    for i = 1, fits do assert.equal(i - 1, seqs[i]) end
    -- read, the ring takes records again; losses add up
    P.run(prod, 100)
    assert.equal(fits, r:poll(0))
    assert.equal(2 * (100 - fits), r:lost())
    -- a ring read as it fills loses nothing
    for _ = 1, 10 do
      P.run(prod, 10)
      assert.equal(10, r:poll(0))
    end
    assert.equal(2 * (100 - fits), r:lost())
  end)

  env.it("sums the loss map over every CPU, as the kernel keeps it", "bpf", function()
    local loss = loss_map()
    local ring = assert(maps.ringbuf(PAGE))
    local r = assert(ringbuf.reader { [ring] = { lost = loss, handler = print } })
    local per_cpu = {}
    local sum = 0
    for cpu = 1, maps.possible_cpus() do
      per_cpu[cpu] = cpu * 1000 + 7
      sum = sum + cpu * 1000 + 7
    end
    assert(loss:update(0, per_cpu))
    assert.equal(sum, r:lost())
    assert.equal(loss:lookup(0).sum, r:lost())
  end)

  env.it("counts a loss map shared by two rings once, and adds separate ones", "bpf", function()
    local shared, other = loss_map(), loss_map()
    local a, b, c = assert(maps.ringbuf(PAGE)), assert(maps.ringbuf(PAGE)), assert(maps.ringbuf(PAGE))
    local counter = P.counter()
    local pa = P.ring_reserve(a, counter, 1, 48, shared)
    local pb = P.ring_reserve(b, counter, 2, 48, shared)
    local pc = P.ring_reserve(c, counter, 3, 48, other)
    local r = assert(ringbuf.reader {
      [a] = { handler = print, lost = shared }, [b] = { handler = print, lost = shared },
      [c] = { handler = print, lost = other },
    })
    local fits = capacity(PAGE, 48)
    P.run(pa, fits + 1)
    P.run(pb, fits + 2)
    P.run(pc, fits + 5)
    assert.equal(1 + 2 + 5, r:lost())
  end)

  env.it("says the ring buffer counts nothing itself when no loss map was given", "bpf", function()
    local r = assert(ringbuf.reader { [assert(maps.ringbuf(PAGE))] = print })
    assert.error_matches(function() r:lost() end, "no loss map was given; the ring buffer itself counts nothing")
  end)

  env.it("refuses a loss map of the wrong shape", "bpf", function()
    local ring = assert(maps.ringbuf(PAGE))
    local wide = assert(maps.create { type = "percpu_array", key_size = 4, value_size = 16, max_entries = 1 })
    local hash = assert(maps.create { type = "hash", key_size = 4, value_size = 8, max_entries = 1 })
    for _, bad in ipairs { wide, hash, ring } do
      assert.error_matches(function() ringbuf.reader { [ring] = { handler = print, lost = bad } } end,
        "the loss map must be a percpu_array %(or array%) with 4%-byte keys and 8%-byte values")
    end
  end)
end)
