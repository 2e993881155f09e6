-- SPDX-License-Identifier: MIT
-- Independent views of a map for the map specs: bpftool's JSON dump and
-- show, and BPF programs (socket_filter test runs) that read or write an
-- element with the kernel's own map_lookup_elem/map_update_elem.
local env = require "support.env"
local json = require "dkjson"
local e = require "ebpfdsl"
local d = e.dsl

local M = {}

local function hexbytes(list)
  local out = {}
  for i, h in ipairs(list) do out[i] = string.char(tonumber(h)) end
  return table.concat(out)
end

-- bpftool map dump id N -j -> list of {key=bytes, value=bytes} or
-- {key=bytes, values={bytes per CPU}} for per-CPU maps.
function M.dump(m)
  local doc = assert(json.decode(env.run("bpftool map dump id " .. m:id() .. " -j")))
  local out = {}
  for _, ent in ipairs(doc) do
    local r = { key = hexbytes(ent.key) }
    if ent.values then
      r.values = {}
      for _, pc in ipairs(ent.values) do r.values[pc.cpu + 1] = hexbytes(pc.value) end
    elseif ent.value.error == nil then -- empty slots of fd arrays come with an error
      r.value = hexbytes(ent.value)
    end
    if r.values or r.value then out[#out + 1] = r end
  end
  return out
end

-- The same dump as {[key bytes] = value bytes (or per-CPU list)}.
function M.dump_map(m)
  local t = {}
  for _, r in ipairs(M.dump(m)) do t[r.key] = r.values or r.value end
  return t
end

function M.show(m)
  return assert(json.decode(env.run("bpftool map show id " .. m:id() .. " -j")))
end

-- socket_filter test runs see the packet after its 14-byte Ethernet
-- header; the programs below read their operands from there.
local function packet(payload) return string.rep("\0", 14) .. payload .. string.rep("\0", 16) end

local MISS = 0x7eadbeef
M.MISS = MISS

-- The oracle programs' start: the packet's first `len` bytes copied to
-- fp + off, or a jump to `fail` when the packet is shorter.
local function from_packet(off, len, fail)
  return {
    d.mov("r6", "r1"),
    d.mov("r1", "r6"), d.mov("r2", 0), d.mov("r3", "fp"), d.add("r3", off), d.mov("r4", len),
    d.call("skb_load_bytes"),
    d.jne("r0", 0, fail),
  }
end

-- reader(m) -> function(key_u32) -> the value's low 32 bits as the kernel
-- program sees it, or MISS when the kernel finds no element.
function M.reader(m)
  local prog = assert(e.programs.load { type = "socket_filter", name = "oracle_read", insns = {
    from_packet(-8, 4, "miss"),
    d.ld_map_fd("r1", m), d.mov("r2", "fp"), d.add("r2", -8),
    d.call("map_lookup_elem"),
    d.jeq("r0", 0, "miss"),
    d.ldx("w", "r0", "r0", 0),
    d.exit(),
    d.label("miss"),
    d.mov("r0", MISS),
    d.exit(),
  } })
  return function(key)
    return assert(prog:test_run { data = packet(string.pack("<I4", key)) }).retval
  end, prog
end

-- writer(m) -> function(key_u32, value_u64) -> the helper's return value:
-- the kernel program stores an 8-byte value under a 4-byte key.
function M.writer(m)
  local prog = assert(e.programs.load { type = "socket_filter", name = "oracle_write", insns = {
    from_packet(-16, 12, "out"),
    require("support.count").update(d, m, -16, -12),
    d.label("out"),
    d.exit(),
  } })
  return function(key, value)
    local r = assert(prog:test_run { data = packet(string.pack("<I4i8", key, value)) }).retval
    return r >= 0x80000000 and r - 0x100000000 or r
  end, prog
end

-- The mount point of the cgroup v2 hierarchy, from /proc/mounts.
function M.cgroup2()
  for line in io.lines("/proc/mounts") do
    local _, dir, fstype = line:match("^(%S+) (%S+) (%S+)")
    if fstype == "cgroup2" then return dir end
  end
  return nil
end

function M.getpid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("n")
  f:close()
  return math.tointeger(pid)
end

return M
