-- SPDX-License-Identifier: MIT
-- Misuse of maps raises a precise error; the kernel's refusals come back
-- as nil, message, errno; and maps leak no file descriptors, whether
-- closed or collected.
local env = require "support.env"
local e = require "ebpfdsl"
local maps = e.maps

local NCPUS = maps.possible_cpus()

-- The message of the error fn raises, without the "file:line:" prefix.
local function err_of(fn, ...)
  local ok, msg = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return (tostring(msg):gsub("^[^:]*:%d+: ", ""))
end

describe("map creation", function()
  it("blames the caller's line", function()
    local ok, msg = pcall(maps.hash, { key = "u32", value = "u32", value_size = 3, max_entries = 1 })
    assert.is_false(ok)
    assert.matches("^spec/53%-maps_errors_spec%.lua:%d+: value_size is 3", msg)
    msg = select(2, pcall(maps.create, { type = "nope" }))
    assert.matches("^spec/53%-maps_errors_spec%.lua:%d+: maps.create: unknown map type", msg)
  end)

  it("rejects unknown types, fields and flags by name", function()
    assert.equal("maps.create: unknown map type 'hsah' (maps.types() lists them)",
      err_of(maps.create, { type = "hsah", key_size = 4, value_size = 4, max_entries = 1 }))
    assert.equal("maps.create: unknown field 'max_entry' (did you mean 'max_entries'?)",
      err_of(maps.create, { type = "hash", key_size = 4, value_size = 4, max_entry = 1 }))
    assert.equal("maps.create: field 'numa_node' must be an integer, got string",
      err_of(maps.create, { type = "hash", key_size = 4, value_size = 4, max_entries = 1, numa_node = "0" }))
    assert.equal("maps.create: unknown map flag 'no_prealoc'",
      err_of(maps.hash, { key_size = 4, value_size = 4, max_entries = 1, flags = { "no_prealoc" } }))
    assert.equal("maps.create: type must be a map type name such as 'hash'", err_of(maps.create, { type = 1 }))
    assert.equal("maps.hash: type is hash here, got 'array'", err_of(maps.hash, { type = "array" }))
    assert.equal("maps.supported: unknown map type 'nope'", err_of(maps.supported, "nope"))
    assert.is_nil(maps.type_info("nope"))
  end)

  it("rejects ring buffer sizes that are not a power-of-two multiple of the page size, naming the nearest", function()
    local page = 4096
    assert.equal(("maps.ringbuf: size 5000 is not a power-of-two multiple of the page size (%d); "
      .. "nearest valid sizes: 4096 and 8192"):format(page), err_of(maps.ringbuf, 5000))
    assert.equal(("maps.ringbuf: size 12288 is not a power-of-two multiple of the page size (%d); "
      .. "nearest valid sizes: 8192 and 16384"):format(page), err_of(maps.ringbuf, 3 * page))
    assert.equal(("maps.ringbuf: size 100 is not a power-of-two multiple of the page size (%d); "
      .. "nearest valid sizes: 4096"):format(page), err_of(maps.ringbuf, 100))
    assert.equal(("maps.user_ringbuf: size 0 is not a power-of-two multiple of the page size (%d); "
      .. "nearest valid sizes: 4096"):format(page), err_of(maps.user_ringbuf, 0))
    assert.matches("maps.ringbuf: size 6000 is not", err_of(maps.create, { type = "ringbuf", max_entries = 6000 }),
      1, true)
  end)

  it("checks sizes named twice, names, and key/value kinds", function()
    assert.equal("key_size is 8 but the key given is 4 bytes",
      err_of(maps.hash, { key = "u32", key_size = 8, value_size = 4, max_entries = 1 }))
    assert.equal("map name 'has space' must be at most 15 letters, digits, '_' or '.'",
      err_of(maps.hash, { key_size = 4, value_size = 4, max_entries = 1, name = "has space" }))
    assert.matches("must be at most 15", err_of(maps.hash, { key_size = 4, value_size = 4, max_entries = 1,
      name = "a_name_too_long_for_bpf" }), 1, true)
    assert.equal("key 'u128': expected u8, u16, u32, u64, i8, i16, i32, i64, bytes, fd, lpm or a layout",
      err_of(maps.hash, { key = "u128", value_size = 4, max_entries = 1 }))
    assert.equal("value: expected a type name such as 'u32' or a layout with :size(), :encode() and :decode(), "
      .. "got table", err_of(maps.hash, { key = "u32", value = { size = 4 }, max_entries = 1 }))
    assert.equal("value layout: size() must return a positive integer",
      err_of(maps.hash, { key = "u32", value = { size = function() return 0 end, encode = print, decode = print },
        max_entries = 1 }))
  end)

  env.it("returns the kernel's refusals as nil, message, errno", { "bpf" }, function()
    local m, msg, errno = maps.hash { key_size = 4, value_size = 4, max_entries = 0, name = "empty" }
    assert.is_nil(m)
    assert.equal(22, errno)
    assert.equal("create of hash map 'empty' (key_size=4 value_size=4 max_entries=0 flags=0x0): Invalid argument",
      msg)
    m, msg, errno = maps.array_of_maps { max_entries = 1 }
    assert.matches("create of array_of_maps map", msg, 1, true)
    assert.is_nil(m)
    assert.equal(22, errno) -- no inner map
    m, msg = maps.struct_ops { struct_ops = "no_such_ops" }
    assert.is_nil(m)
    assert.equal("struct_ops 'no_such_ops' (bpf_struct_ops_no_such_ops in vmlinux BTF): No such file or directory", msg)
  end)

  env.it("refuses kinds that do not fit the map's sizes", { "bpf" }, function()
    assert.equal("value_size is 3 but the value given is 4 bytes",
      err_of(maps.hash, { key = "u32", value = "u32", value_size = 3, max_entries = 1 }))
    assert.equal("key: fds need a size of 4 or 8 bytes, the map has 3",
      err_of(maps.hash, { key = "fd", key_size = 3, value_size = 4, max_entries = 1 }))
    assert.equal("key: lpm keys need more than 4 bytes, the map has 4",
      err_of(maps.hash, { key = "lpm", key_size = 4, value_size = 4, max_entries = 1 }))
    local m <close> = assert(maps.hash { key_size = 4, value_size = 3, max_entries = 1 })
    assert.equal("value is 4 bytes but the hash map's value_size is 3", err_of(maps.open_id, m:id(), { value = "u32" }))
  end)
end)

describe("keys and values of the wrong size or kind", function()
  local m

  setup(function()
    if env.has("bpf") then
      m = assert(maps.hash { key = "u32", value = "u8", max_entries = 4, name = "sizes" })
    end
  end)
  teardown(function() if m then m:close() end end)

  env.it("raise, naming what was expected", { "bpf" }, function()
    assert.equal("key must be 4 bytes, got 3", err_of(m.lookup, m, "abc"))
    assert.equal("key must be 4 bytes, got 5", err_of(m.update, m, "abcde", 1))
    assert.equal("key must be an integer or 4 bytes, got a float", err_of(m.lookup, m, 1.5))
    assert.equal("key must be an integer or 4 bytes, got table", err_of(m.delete, m, {}))
    assert.equal("key must be an integer or 4 bytes, got no value", err_of(m.lookup, m))
    assert.equal("key -1 does not fit in u32 (0..4294967295)", err_of(m.update, m, -1, 1))
    assert.equal("key 4294967296 does not fit in u32 (0..4294967295)", err_of(m.lookup, m, 1 << 32))
    assert.equal("value 256 does not fit in u8 (0..255)", err_of(m.update, m, 1, 256))
    assert.equal("value must be 1 bytes, got 2", err_of(m.update, m, 1, "ab"))
    assert.equal("value must be an integer or 1 bytes, got boolean", err_of(m.update, m, 1, true))
    assert.equal("key must be 4 bytes, got 0", err_of(m.update_batch, m, { "" }, { 1 }))
    assert.equal("update_batch: 2 keys but 1 values", err_of(m.update_batch, m, { 1, 2 }, { 1 }))
    local s <close> = assert(maps.array { value = "i8", max_entries = 1 })
    assert.equal("value -129 does not fit in i8 (-128..127)", err_of(s.update, s, 0, -129))
    assert.equal("value 128 does not fit in i8 (-128..127)", err_of(s.update, s, 0, 128))
    assert.equal("bad argument #3 to 'update' (invalid option 'always')",
      err_of(function() return s:update(0, 1, "always") end))
  end)

  env.it("raise for per-CPU lists of the wrong length", { "bpf" }, function()
    local p <close> = assert(maps.percpu_array { value = "u32", max_entries = 1 })
    local list = {}
    for c = 1, NCPUS + 1 do list[c] = c end
    assert.equal(("value: a per-CPU list must have %d values (one per possible CPU), got %d"):format(NCPUS, NCPUS + 1),
      err_of(p.update, p, 0, list))
  end)

  env.it("raise for layouts that encode the wrong size", { "bpf" }, function()
    local bad = {
      size = function() return 4 end,
      encode = function() return "abc" end,
      decode = function(_, s) return s end,
    }
    local l <close> = assert(maps.hash { key = "u32", value = bad, max_entries = 1 })
    assert.equal("value: the layout's encode() gave 3 bytes, the map wants 4", err_of(l.update, l, 1, {}))
    local lpm <close> = assert(maps.lpm_trie { key_size = 8, value = "u32", max_entries = 1 })
    assert.equal("key: prefixlen must be 0..32", err_of(lpm.lookup, lpm, { prefixlen = 33, data = "abcd" }))
    assert.equal("key: data must be 4 bytes", err_of(lpm.lookup, lpm, { prefixlen = 8, data = "abc" }))
  end)

  env.it("raise for keys given to maps without keys, and methods of other types", { "bpf" }, function()
    local q <close> = assert(maps.queue { value = "u32", max_entries = 1 })
    assert.equal("key: queue maps have no keys (key size 0), got number", err_of(q.lookup, q, 1))
    assert.equal("push: not a method of hash maps", err_of(m.push, m, 1))
    assert.equal("check: not a method of queue maps", err_of(q.check, q, 1))
    assert.equal("set_prog: not a method of hash maps", err_of(m.set_prog, m, 0, 1))
    assert.equal("get_inner: not a method of hash maps", err_of(m.get_inner, m, 0))
    assert.equal("pairs: queue maps have no keys to walk", err_of(q.pairs, q))
    assert.equal("lookup_batch: queue maps have no keys", err_of(q.lookup_batch, q))
    local pa <close> = assert(maps.prog_array { max_entries = 1 })
    assert.equal("value: expected an fd, a file, or an object with :fd() or :getfd(), got boolean",
      err_of(pa.set_prog, pa, 0, true))
  end)
end)

describe("a closed map", function()
  env.it("raises 'attempt to use a closed ebpfdsl.Map' from every method that needs the kernel", { "bpf" }, function()
    local m = assert(maps.hash { key = "u32", value = "u32", max_entries = 1, name = "shut" })
    m:close()
    m:close() -- closing twice is fine
    local calls = {
      function() return m:fd() end, function() return m:lookup(1) end, function() return m:update(1, 1) end,
      function() return m:delete(1) end, function() return m:lookup_and_delete(1) end,
      function() return m:next_key() end, function() return m:pairs() end, function() return m:count() end,
      function() return m:clear() end, function() return m:info() end, function() return m:freeze() end,
      function() return m:pin("/sys/fs/bpf/x") end, function() return m:lookup_batch() end,
      function() return m:update_batch({ 1 }, { 1 }) end, function() return m:delete_batch { 1 } end,
      function() return m:lookup_and_delete_batch() end, function() return m[1] end,
      function() m[1] = 2 end, function() for _ in pairs(m) do end end,
    }
    for i, f in ipairs(calls) do assert.equal("attempt to use a closed ebpfdsl.Map", err_of(f), "call " .. i) end
    assert.equal("hash", m:type())
    assert.equal("shut", m:name())
    assert.equal("ebpfdsl.Map hash 'shut' (closed)", tostring(m))
    assert.has_error(function() e.dsl.ld_map_fd("r1", m) end, "attempt to use a closed ebpfdsl.Map")
  end)

  env.it("is closed at the end of a <close> scope", { "bpf" }, function()
    local outer
    do
      local m <close> = assert(maps.array { value = "u32", max_entries = 1 })
      outer = m
      assert.is_number(m:fd())
    end
    assert.equal("attempt to use a closed ebpfdsl.Map", err_of(outer.fd, outer))
  end)
end)

describe("file descriptors", function()
  local function fd_count()
    local lfs = require "lfs"
    local n = 0
    for name in lfs.dir("/proc/self/fd") do if name ~= "." and name ~= ".." then n = n + 1 end end
    return n
  end

  env.it("do not leak over 10,000 maps, closed or collected", { "bpf" }, function()
    collectgarbage()
    local before = fd_count()
    for i = 1, 5000 do
      local m = assert(maps.hash { key = "u32", value = "u32", max_entries = 1 })
      m[0] = i
      m:close()
    end
    assert.equal(before, fd_count())
    for i = 1, 5000 do
      local m = assert(maps.array { value = "u32", max_entries = 1 })
      m[0] = i -- dropped without close: the collector closes it
    end
    collectgarbage()
    collectgarbage()
    assert.equal(before, fd_count())
  end)

  env.it("do not leak when the process runs short of them: a full collection makes room", { "bpf" }, function()
    -- more maps than the soft limit allows at once, none closed by hand
    local limit = tonumber(env.run("sh -c 'ulimit -n'"))
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/?.so;" .. package.cpath
      local maps = require("ebpfdsl").maps
      for i = 1, 3000 do assert(maps.hash { key = "u32", value = "u32", max_entries = 1 }) end
      io.write("ok")
    ]])
    f:close()
    local out = env.run("sh -c 'ulimit -n 256 && lua5.4 " .. script .. "'")
    os.remove(script)
    assert.equal("ok", out)
    assert.is_true(limit >= 256)
  end)
end)

describe("m[k] with a string k", function()
  env.it("is a method when one has the name, else the element with that key", "bpf", function()
    local m <close> = assert(maps.hash { key_size = 4, value_size = 4, max_entries = 4 })
    m["abcd"] = 7
    assert.equal(7, m["abcd"])
    assert.equal(m:lookup("abcd"), m["abcd"])
    assert.equal(m:lookup(string.unpack("<I4", "abcd")), m["abcd"])
    assert.is_nil(m["wxyz"])
    assert.is_function(m.count)
    assert.equal(1, m:count())
    m["abcd"] = nil
    assert.equal(0, m:count())
  end)

  env.it("raises for a string that is neither a method nor a key", "bpf", function()
    local m <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 1 })
    assert.equal("'lokup' is neither a method of ebpfdsl.Map nor a 4-byte key of this hash map",
      err_of(function() return m.lokup end))
    local q <close> = assert(maps.queue { value = "u32", max_entries = 1 })
    assert.equal("'pusj' is not a method of ebpfdsl.Map (queue maps have no keys)",
      err_of(function() return q.pusj end))
  end)

  env.it("refuses to write a key that names a method, which m[k] could not read back", "bpf", function()
    local m <close> = assert(maps.hash { key_size = 5, value = "u32", max_entries = 4 })
    assert.equal("m['count'] names a method of ebpfdsl.Map; use m:update(k, v) or m:delete(k) for that key",
      err_of(function() m["count"] = 3 end))
    assert.equal("m['count'] names a method of ebpfdsl.Map; use m:update(k, v) or m:delete(k) for that key",
      err_of(function() m["count"] = nil end))
    assert.equal(0, m:count()) -- nothing was written
    assert.is_true(m:update("count", 3))
    assert.equal(3, m:lookup("count"))
    assert.is_function(m["count"])
    m["other"] = 4
    assert.equal(4, m["other"])
  end)
end)
