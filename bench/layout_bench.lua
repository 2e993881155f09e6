-- SPDX-License-Identifier: MIT
-- Decode rate of a 48-byte event layout into Lua tables (events/s), one
-- record per call and in batches, against a C loop reading the same
-- fields (bench/c/layout_decode.c); string.unpack for a Lua reference.
-- Then encode from tables, against a C loop writing the fields.
local lib = require "lib"
local structs = require "ebpfdsl.structs"

local RECORDS = 1024

-- The same fields bench/c/layout_decode.c reads.
local E = structs.define("bench_event", {
  { "ts", "u64" }, { "pid", "u32" }, { "tgid", "u32" }, { "uid", "u32" }, { "gid", "u32" }, { "comm", "char", 16 },
  { "ret", "i32" }, { "cpu", "u16" }, { "proto", "u8" }, { "flags", "u8" },
})
local SIZE = E:size()
assert(SIZE == 48, "the bench layout must be 48 bytes")

local recs = {}
for i = 0, RECORDS - 1 do
  recs[#recs + 1] = E:encode {
    ts = 1000000000 * i, pid = 1000 + i, tgid = 1000 + i, uid = i % 7, gid = i % 5, comm = "proc-" .. i, ret = -i,
    cpu = i % 4, proto = 6, flags = i & 0xff,
  }
end
local buf = table.concat(recs)

-- lib.rate counts calls of body; each decodes RECORDS events.
local function per_event(body)
  return lib.rate(function(n)
    for _ = 1, n do body() end
  end) * RECORDS
end
local single = per_event(function()
  local decode = E.decode
  for off = 0, (RECORDS - 1) * SIZE, SIZE do decode(E, buf, off) end
end)
local batch = per_event(function() E:decode_many(buf) end)
local into = {}
local reused = per_event(function()
  local decode = E.decode
  for off = 0, (RECORDS - 1) * SIZE, SIZE do decode(E, buf, off, into) end
end)

local unpack, sub = string.unpack, string.sub
local FMT = "<I8I4I4I4I4c16i4I2BB"
local unpacked = per_event(function()
  local pos = 1
  for _ = 1, RECORDS do
    local ts, pid, tgid, uid, gid, comm, ret, cpu, proto, flags, nxt = unpack(FMT, buf, pos)
    local z = comm:find("\0", 1, true)
    local _ = { ts = ts, pid = pid, tgid = tgid, uid = uid, gid = gid, comm = z and sub(comm, 1, z - 1) or comm,
                ret = ret, cpu = cpu, proto = proto, flags = flags }
    pos = nxt
  end
end)

local c = lib.c_baseline("layout_decode")
assert(c.size == SIZE, "C and Lua layouts differ in size")
lib.report("decode 48-byte layout, E:decode (one a call)", single, "events/s", c.loop_rate, "C loop over fields")
lib.report("decode 48-byte layout, E:decode_many (1024)", batch, "events/s", c.loop_rate, "C loop over fields")
lib.report("decode 48-byte layout, E:decode into one table", reused, "events/s", c.loop_rate, "C loop over fields")
lib.report("decode 48-byte layout, string.unpack + table", unpacked, "events/s", c.loop_rate, "C loop over fields")
lib.report("decode 48-byte layout, C API visitor", c.api_rate, "events/s", c.loop_rate, "C loop over fields")

local values = {}
for i = 0, RECORDS - 1 do values[#values + 1] = E:decode(buf, i * SIZE) end
local encoded = per_event(function()
  local encode = E.encode
  for i = 1, RECORDS do encode(E, values[i]) end
end)
local pack = string.pack
local PFMT = "<I8I4I4I4I4c16i4I2BB"
local packed = per_event(function()
  for i = 1, RECORDS do
    local v = values[i]
    pack(PFMT, v.ts, v.pid, v.tgid, v.uid, v.gid, v.comm, v.ret, v.cpu, v.proto, v.flags)
  end
end)
lib.report("encode 48-byte layout, E:encode", encoded, "events/s", c.encode_loop_rate, "C loop over fields")
lib.report("encode 48-byte layout, string.pack", packed, "events/s", c.encode_loop_rate, "C loop over fields")
