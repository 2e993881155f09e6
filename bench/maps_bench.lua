-- SPDX-License-Identifier: MIT
-- Map access from Lua (elements/s) against the same loops in C through
-- libbpf (bench/c/maps.c): single updates and lookups of a u32 -> u64
-- hash, and reading 10,000 elements by batch and by pairs(). Needs root.
local lib = require "lib"
local maps = require "ebpfdsl.maps"

local ENTRIES = 10000
local m = maps.hash { key = "u32", value = "u64", max_entries = ENTRIES, name = "bench" }
if not m then
  print("maps bench skipped: creating maps needs root or CAP_BPF")
  return
end

local update = lib.rate(function(n)
  local upd = m.update
  for i = 1, n do upd(m, i % 1000, i) end
end)
local lookup = lib.rate(function(n)
  local look = m.lookup
  for i = 1, n do look(m, i % 1000) end
end)
local index = lib.rate(function(n)
  for i = 1, n do local _ = m[i % 1000] end
end)

for k = 0, ENTRIES - 1 do m[k] = k end
local batch = lib.rate(function(n)
  for _ = 1, n do
    local ks = m:lookup_batch()
    assert(#ks == ENTRIES)
  end
end) * ENTRIES
local walked = lib.rate(function(n)
  for _ = 1, n do
    for _ in m:pairs() do end
  end
end) * ENTRIES
m:close()

local c = lib.c_baseline("maps")
lib.report("hash update, m:update(k, v)", update, "ops/s", c.update_rate, "C bpf_map_update_elem")
lib.report("hash lookup, m:lookup(k)", lookup, "ops/s", c.lookup_rate, "C bpf_map_lookup_elem")
lib.report("hash lookup, m[k]", index, "ops/s", c.lookup_rate, "C bpf_map_lookup_elem")
lib.report("read 10k elements, m:lookup_batch()", batch, "elems/s", c.batch_rate, "C bpf_map_lookup_batch")
lib.report("read 10k elements, m:pairs()", walked, "elems/s", c.batch_rate, "C bpf_map_lookup_batch")
