-- SPDX-License-Identifier: MIT
-- Batched map access: BPF_MAP_*_BATCH where the kernel has it for the
-- type, element by element where it refuses; strace shows which commands
-- ran, bpftool what the maps hold.
local env = require "support.env"
local oracle = require "support.map_oracle"
local errno_of = require "support.errno"
local e = require "ebpfdsl"
local maps = e.maps

local NEEDS = { "bpf", "bpftool" }
local NCPUS = maps.possible_cpus()

local function range(a, b, f)
  local t = {}
  for i = a, b do t[#t + 1] = f and f(i) or i end
  return t
end

local function as_map(keys, values, f)
  local t = {}
  for i, k in ipairs(keys) do t[k] = f and f(values[i]) or values[i] end
  return t
end

-- What the kernel does for each batch command, on this kernel: true when
-- it batches, false when it answers ENOTSUPP and the fallback runs.
local KERNEL_BATCHES = {
  hash = { lookup = true, update = true, delete = true, lookup_and_delete = true },
  percpu_hash = { lookup = true, update = true, delete = true, lookup_and_delete = true },
  lru_hash = { lookup = true, update = true, delete = true, lookup_and_delete = true },
  lru_percpu_hash = { lookup = true, update = true, delete = true, lookup_and_delete = true },
  array = { lookup = true, update = true, delete = false, lookup_and_delete = false },
  percpu_array = { lookup = true, update = true, delete = false, lookup_and_delete = false },
  lpm_trie = { lookup = true, update = true, delete = true, lookup_and_delete = false },
  devmap_hash = { lookup = false, update = false, delete = false, lookup_and_delete = false },
}

local function make(tname, n)
  if tname == "lpm_trie" then
    return assert(maps.lpm_trie { key = "bytes", key_size = 8, value = "u64", max_entries = n })
  elseif tname == "devmap_hash" then
    return assert(maps.devmap_hash { max_entries = n })
  end
  -- LRU maps may evict before they are full: give them room
  return assert(maps[tname] { key = "u32", value = "u64", max_entries = tname:match("^lru") and 2 * n or n })
end

local function key_of(tname, i)
  if tname == "lpm_trie" then return string.pack("<I4>I4", 32, i) end
  return i
end

local function value_of(tname, i)
  if tname == "devmap_hash" then return 1 end -- the loopback device
  return i * 3
end

local function plain(v) return type(v) == "table" and v[1] or v end

describe("batches", function()
  for tname, kernel in pairs(KERNEL_BATCHES) do
    env.it(tname .. ": update, lookup, delete and lookup_and_delete in batches agree with the kernel", NEEDS, function()
      local n = tname:match("array") and 64 or 200
      local m <close> = make(tname, n)
      local keys = range(0, n - 1, function(i) return key_of(tname, i) end)
      local values = range(0, n - 1, function(i) return value_of(tname, i) end)

      -- without the fallback, the kernel's answer shows
      local done, fb = m:update_batch(keys, values, { fallback = false })
      if kernel.update then
        assert.equal(n, done)
        assert.is_false(fb)
      else
        assert.is_nil(done)
        assert.equal(524, select(3, m:update_batch(keys, values, { fallback = false })))
        done, fb = m:update_batch(keys, values)
        assert.equal(n, done)
        assert.is_true(fb)
      end
      -- what bpftool reads is what was written
      local dump = oracle.dump_map(m)
      local count = 0
      for _ in pairs(dump) do count = count + 1 end
      assert.equal(n, count)

      local ks, vs, cursor, lfb = m:lookup_batch()
      assert.is_nil(cursor)
      assert.equal(not kernel.lookup, lfb)
      assert.equal(n, #ks)
      assert.same(as_map(keys, values), as_map(ks, vs, plain))
      if not kernel.lookup then
        assert.equal(524, select(3, m:lookup_batch { fallback = false }))
      end

      -- in chunks: every key once, the cursor nil at the end
      local seen, chunks = {}, 0
      cursor = nil
      repeat
        ks, vs, cursor = m:lookup_batch { count = 7, cursor = cursor }
        assert.is_table(ks, vs)
        chunks = chunks + 1
        for i, k in ipairs(ks) do
          assert.is_nil(seen[k])
          seen[k] = plain(vs[i])
        end
      until cursor == nil
      assert.same(as_map(keys, values), seen)
      assert.is_true(chunks >= n // 7)

      -- delete the first half, lookup-and-delete the rest
      local half = range(1, n // 2, function(i) return keys[i] end)
      if kernel.delete then
        assert.same({ n // 2, false }, { m:delete_batch(half, { fallback = false }) })
      elseif tname:match("array") then
        local ok, _, errno, d = m:delete_batch(half)
        assert.is_nil(ok)
        assert.equal(errno_of.EINVAL, errno) -- arrays cannot delete, batched or not
        assert.equal(0, d)
        -- lookup_and_delete: the kernel refuses the batch; the fallback
        -- then reads the first element and its delete is refused, so the
        -- error changes and nothing is gone
        local r, _, lerrno = m:lookup_and_delete_batch { fallback = false }
        assert.is_nil(r)
        assert.equal(errno_of.ENOTSUPP, lerrno)
        local r2, msg, ferrno = m:lookup_and_delete_batch()
        assert.is_nil(r2)
        assert.equal(errno_of.EINVAL, ferrno)
        assert.equal("lookup_and_delete_batch on " .. tname .. " map '': Invalid argument", msg)
        assert.equal(n, m:count())
        ks, vs = m:lookup_batch()
        assert.same(as_map(keys, values), as_map(ks, vs, plain))
        return
      else
        assert.same({ n // 2, true }, { m:delete_batch(half) })
      end
      assert.equal(n - n // 2, m:count())
      ks, vs, cursor, lfb = m:lookup_and_delete_batch()
      assert.equal(not kernel.lookup_and_delete, lfb)
      assert.is_nil(cursor)
      assert.equal(n - n // 2, #ks)
      for i, k in ipairs(ks) do assert.equal(plain(as_map(keys, values)[k]), plain(vs[i])) end
      assert.equal(0, m:count())
      assert.same({}, oracle.dump(m))
    end)
  end

  env.it("per-CPU values come back per CPU, with their sum", NEEDS, function()
    local m <close> = assert(maps.percpu_hash { key = "u32", value = "u32", max_entries = 8 })
    local list = range(1, NCPUS, function(c) return c end)
    assert.equal(3, m:update_batch({ 1, 2, 3 }, { list, 7, list }))
    local ks, vs = m:lookup_batch()
    local got = as_map(ks, vs)
    assert.equal(NCPUS * (NCPUS + 1) // 2, got[1].sum)
    assert.equal(7 * NCPUS, got[2].sum)
    for c = 1, NCPUS do assert.equal(c, got[3][c]) end
    local dump = oracle.dump_map(m)
    for c = 1, NCPUS do assert.equal(string.pack("<I4", c), dump[string.pack("<I4", 3)][c]) end
  end)

  env.it("a one-element count still walks every key once, growing past full hash buckets", NEEDS, function()
    local m <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 512 })
    assert.equal(500, m:update_batch(range(1, 500), range(1, 500, function(i) return -i & 0xffffffff end)))
    local seen, n, cursor = {}, 0, nil
    repeat
      local ks, _
      ks, _, cursor = m:lookup_batch { count = 1, cursor = cursor }
      for _, k in ipairs(ks) do
        assert.is_nil(seen[k])
        seen[k] = true
        n = n + 1
      end
    until cursor == nil
    assert.equal(500, n)
  end)

  env.it("update flags behave alike batched and element by element", { "bpf" }, function()
    for _, tname in ipairs { "hash", "devmap_hash" } do
      local m <close> = make(tname, 8)
      assert(m:update(2, 1))
      local ok, msg, errno, done = m:update_batch({ 1, 2, 3 }, { 1, 1, 1 }, "noexist")
      assert.is_nil(ok)
      assert.equal(17, errno, tname)
      assert.equal(1, done, tname)
      assert.matches("update_batch on " .. tname, msg, 1, true)
      assert.equal(1, m:lookup(1))
      assert.is_nil(m:lookup(3))
      ok, _, errno, done = m:delete_batch { 1, 5 }
      assert.is_nil(ok)
      assert.equal(2, errno, tname)
      assert.equal(1, done, tname)
      assert.equal(2, m:update_batch({ 4, 5 }, { 1, 1 }, { flags = "noexist" }))
    end
  end)

  env.it("options: unknown fields and flag names are refused, by name", { "bpf" }, function()
    local m <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 4 })
    local function raises(pat, f, ...)
      local ok, msg = pcall(f, ...)
      assert.is_false(ok)
      assert.matches(pat, msg, 1, true)
    end
    raises("lookup_batch: unknown field 'cont' (did you mean 'count'?)", m.lookup_batch, m, { cont = 1 })
    raises("delete_batch: unknown field 'flag'", m.delete_batch, m, { 1 }, { flag = "any" })
    raises("unknown flags 'nope' (any, noexist, exist)", m.update_batch, m, { 1 }, { 1 }, "nope")
    raises("update_batch: unknown flags 'nope'", m.update_batch, m, { 1 }, { 1 }, { flags = "nope" })
    raises("field 'count' must be from 0 to 4294967295, got -1", m.lookup_batch, m, { count = -1 })
    assert.equal(1, (m:update_batch({ 1 }, { 2 }, { flags = 1, fallback = true })))
    assert.equal(2, m:lookup(1))
  end)

  env.it("work on map-in-map and fd maps, keeping the objects they hold", { "bpf" }, function()
    local inner = assert(maps.array { value = "u32", max_entries = 1 })
    local outer <close> = assert(maps.hash_of_maps { key = "u32", max_entries = 4, inner_map = inner })
    assert.same({ 2, false }, { outer:update_batch({ 1, 2 }, { inner, inner }, { fallback = false }) })
    local ks, vs = outer:lookup_batch()
    assert.same({ [1] = inner:id(), [2] = inner:id() }, as_map(ks, vs))
    local pa <close> = assert(maps.prog_array { max_entries = 2 })
    local prog = assert(e.programs.load { type = "socket_filter", insns = { e.dsl.mov("r0", 3), e.dsl.exit() } })
    local weak = setmetatable({ prog }, { __mode = "v" })
    assert.same({ 1, true }, { pa:update_batch({ 0 }, { prog }) })
    prog = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_not_nil(weak[1])
    ks = pa:lookup_batch()
    assert.same({ 0 }, ks)
    assert.same({ 1, true }, { pa:delete_batch { 0 } })
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
  end)

  env.it("are real BPF_MAP_*_BATCH calls, and the fallback real element calls (strace)", { "bpf", "strace" }, function()
    local function trace(body)
      return require("support.child").strace("bpf", 'local maps = require("ebpfdsl").maps\n' .. body)
    end
    local hash = trace [[
      local h = assert(maps.hash { key = "u32", value = "u32", max_entries = 64 })
      assert(h:update_batch({ 1, 2, 3, 4, 5 }, { 1, 2, 3, 4, 5 }))
      assert(h:lookup_batch())
      assert(h:delete_batch({ 1, 2 }))
      assert(h:lookup_and_delete_batch())
    ]]
    local dev = trace [[
      local d = assert(maps.devmap_hash { max_entries = 8 })
      assert(d:update_batch({ 1, 2, 3 }, { 1, 1, 1 }))
      assert(d:lookup_batch())
      assert(d:delete_batch({ 1, 2, 3 }))
    ]]
    local function count(s, pat)
      local n = 0
      for _ in s:gmatch(pat) do n = n + 1 end
      return n
    end
    for _, cmd in ipairs { "UPDATE_BATCH", "LOOKUP_BATCH", "DELETE_BATCH", "LOOKUP_AND_DELETE_BATCH" } do
      assert.is_true(count(hash, "bpf%(BPF_MAP_" .. cmd .. ",") >= 1, cmd)
    end
    assert.equal(0, count(hash, "BPF_MAP_UPDATE_ELEM"))
    assert.equal(0, count(hash, "BPF_MAP_GET_NEXT_KEY"))
    assert.equal(1, count(dev, "BPF_MAP_UPDATE_BATCH.-ENOTSUPP"))
    assert.equal(3, count(dev, "bpf%(BPF_MAP_UPDATE_ELEM"))
    assert.equal(1, count(dev, "BPF_MAP_LOOKUP_BATCH.-ENOTSUPP"))
    assert.equal(4, count(dev, "bpf%(BPF_MAP_GET_NEXT_KEY")) -- three keys, then the end
    assert.equal(3, count(dev, "bpf%(BPF_MAP_LOOKUP_ELEM"))
    assert.equal(3, count(dev, "bpf%(BPF_MAP_DELETE_ELEM"))
  end)

  env.it("go through layouts", { "bpf" }, function()
    local rec = {
      size = function() return 4 end,
      encode = function(_, t) return string.pack("<i2i2", t.x, t.y) end,
      decode = function(_, s) local x, y = string.unpack("<i2i2", s) return { x = x, y = y } end,
    }
    local m <close> = assert(maps.hash { key = "u32", value = rec, max_entries = 4 })
    assert.equal(2, m:update_batch({ 1, 2 }, { { x = -1, y = 1 }, { x = 5, y = -5 } }))
    local ks, vs = m:lookup_batch()
    assert.same({ [1] = { x = -1, y = 1 }, [2] = { x = 5, y = -5 } }, as_map(ks, vs))
  end)
end)
