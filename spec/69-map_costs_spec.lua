-- SPDX-License-Identifier: MIT
-- What map calls cost beyond their syscalls: whether a map is frozen is
-- read from /proc/self/fdinfo only for m:info() (strace is the oracle),
-- and batch lookups over a whole map allocate their scratch once, not
-- per chunk (Lua's own memory count, with the collector stopped).
local env = require "support.env"

describe("map calls", function()
  env.it("read /proc/self/fdinfo only for m:info()", { "bpf", "strace" }, function()
    local script = require("support.child").script([[
local maps = require("ebpfdsl").maps
local path = ...
io.stderr:write("MARK create\n")
local m = assert(maps.hash { key = "u32", value = "u32", max_entries = 8 })
local q = assert(maps.queue { value = "u32", max_entries = 8 })
local lpm = assert(maps.create { type = "lpm_trie", key_size = 8, value_size = 4, max_entries = 4, flags = 1 })
m[1] = 1
assert(m:pin(path))
local again = assert(maps.open_pinned(path))
assert(m:unpin())
assert(again:count() == 1 and m:clear() and q:clear())
assert(m:update_batch({ 2, 3 }, { 2, 3 }))
assert(select(4, lpm:lookup_and_delete_batch()) == true) -- element by element
io.stderr:write("MARK info\n")
assert(m:info().frozen == false)
io.stderr:write("MARK end\n")
]])
    local trace = os.tmpname()
    local path = env.unique("/sys/fs/bpf/ebpfdsl_spec69_")
    local ok = os.execute(("strace -f -e trace=openat,write -o %s lua5.4 %s %s 2>/dev/null"):format(trace, script,
      path))
    local phase, reads = nil, {}
    for line in io.lines(trace) do
      phase = line:match('write%(2, "MARK (%a+)') or phase
      if phase and line:find("/proc/self/fdinfo/", 1, true) then reads[phase] = (reads[phase] or 0) + 1 end
    end
    os.remove(script)
    os.remove(trace)
    os.remove(path)
    assert.is_truthy(ok)
    assert.equal("end", phase)
    assert.is_nil(reads.create) -- create, open, count, clear, batches: none
    assert.equal(1, reads.info)
  end)

  env.it("allocate one chunk of batch scratch for a whole-map lookup", "bpf", function()
    local maps = require("ebpfdsl").maps
    local N, CHUNK = 40960, 4096 -- ten chunks of 4096 (the default)
    local m <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = N })
    local keys = {}
    for i = 1, N do keys[i] = i end
    assert(m:update_batch(keys, keys))
    keys = nil -- luacheck: ignore
    -- bytes Lua allocates for a call, the collector stopped
    local function cost(...)
      collectgarbage()
      collectgarbage("stop")
      local before = collectgarbage("count")
      local k, v = assert(m:lookup_batch(...))
      local after = collectgarbage("count")
      collectgarbage("restart")
      assert.equal(N, #k)
      assert.equal(N, #v)
      return (after - before) * 1024
    end
    local one_call = cost { count = N } -- one chunk of N: N * 8 bytes of scratch
    local chunked = cost() -- ten chunks of 4096: 4096 * 8 once
    -- the same results either way; the scratch is all that differs
    assert.is_true(one_call - chunked >= (N - CHUNK) * 8 * 0.9,
      ("one call %d bytes, chunked %d bytes"):format(one_call, chunked))
  end)
end)
