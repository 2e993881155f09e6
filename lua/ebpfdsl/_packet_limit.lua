-- SPDX-License-Identifier: MIT
-- Internal to ebpfdsl.packet: a token bucket per key (a source address),
-- kept in a hash map, refilled from ktime_get_ns: `rate` tokens a second
-- up to `burst`; a packet takes one or goes to the `over` label.
local d = require "ebpfdsl.dsl"

-- Tokens are counted in billionths, so a nanosecond of elapsed time adds
-- exactly `rate` of them: no division in the program.
local NANO = 1000000000

return function(M, Cursor, raise, reg)
  local structs = require "ebpfdsl.structs"

  -- The value each key holds: tokens (billionths), and when they were counted.
  M.bucket = structs.define("packet_bucket", { { "tokens", "u64" }, { "last_ns", "u64" } })

  -- packet.rate_limit_map{max_entries=[, name=, key_size=]} -> an lru_hash
  -- of buckets: the least recently seen sources make room for new ones.
  function M.rate_limit_map(o)
    o = o or {}
    local maps = require "ebpfdsl.maps"
    return maps.lru_hash { key_size = o.key_size or 4, value = M.bucket, max_entries = o.max_entries or 65536,
                           name = o.name or "rate_limit" }
  end

  local LIMIT_OPTS = { map = true, key = true, rate = true, burst = true, over = true, stack = true }

  -- c:rate_limit{map=, key=, rate=, burst=, over=[, stack=]} -> a packet
  -- of the source whose u32 key (a register: ipv4.saddr raw, say) is
  -- given takes a token from its bucket, or jumps to `over` when there is
  -- none. A source first seen starts with a full bucket. rate: tokens a
  -- second (an integer >= 1), burst: the bucket's size. Calls helpers
  -- (r1-r5 clobbered, r0 too) and uses the stack below `stack` (default
  -- -8: fp-32 to fp-1). Two CPUs updating one bucket at once may let a
  -- packet more through: the count is not atomic.
  function Cursor.rate_limit(_, o)
    if type(o) ~= "table" then raise("rate_limit: expected a table {map=, key=, rate=, burst=, over=}") end
    for k in pairs(o) do
      if not LIMIT_OPTS[k] then raise(("rate_limit: unknown option '%s'"):format(tostring(k))) end
    end
    if not (o.map and (type(o.map) == "userdata" or type(o.map) == "table")) then
      raise("rate_limit: map must be a map (packet.rate_limit_map{})")
    end
    reg("rate_limit", o.key)
    local rate, burst = math.tointeger(o.rate), math.tointeger(o.burst)
    if not rate or rate < 1 or rate > 0x7fffffff then raise("rate_limit: rate is tokens a second, 1..2^31-1") end
    if not burst or burst < 1 or burst > 1000000000 then raise("rate_limit: burst is an integer, 1..10^9") end
    if type(o.over) ~= "string" then raise("rate_limit: over must be a label name") end
    local base = o.stack or -8
    if type(base) ~= "number" or base > -8 or base % 8 ~= 0 or base - 24 < -512 then
      raise("rate_limit: stack must be a multiple of 8 from -8 down to -488")
    end
    local KEY, NOW, VALUE = base, base - 8, base - 24
    local full = burst * NANO
    -- time to fill an empty bucket: more elapsed than that adds nothing
    local fill_ns = (full + rate - 1) // rate
    local have, refill, capped, take, done = M.fresh("bucket_have"), M.fresh("bucket_refill"),
      M.fresh("bucket_capped"), M.fresh("bucket_take"), M.fresh("bucket_done")
    return {
      d.stx("w", "fp", KEY, o.key),
      d.call("ktime_get_ns"),
      d.stx("dw", "fp", NOW, "r0"),
      d.ld_map_fd("r1", o.map), d.mov("r2", "fp"), d.add("r2", KEY),
      d.call("map_lookup_elem"),
      d.jne("r0", 0, have),
      -- first seen: a full bucket, less this packet's token
      d.lddw("r1", full - NANO), d.stx("dw", "fp", VALUE, "r1"),
      d.ldx("dw", "r1", "fp", NOW), d.stx("dw", "fp", VALUE + 8, "r1"),
      d.ld_map_fd("r1", o.map), d.mov("r2", "fp"), d.add("r2", KEY), d.mov("r3", "fp"), d.add("r3", VALUE),
      d.mov("r4", 0),
      d.call("map_update_elem"),
      d.ja(done),
      d.label(have),
      -- elapsed = now - last (0 if another CPU counted later), at most fill_ns
      d.ldx("dw", "r1", "fp", NOW),
      d.ldx("dw", "r2", "r0", 8),
      d.mov("r3", 0),
      d.jle("r1", "r2", refill),
      d.mov("r3", "r1"), d.sub("r3", "r2"),
      d.lddw("r4", fill_ns),
      d.jle("r3", "r4", refill),
      d.mov("r3", "r4"),
      d.label(refill),
      d.stx("dw", "r0", 8, "r1"),
      d.mul("r3", rate),
      d.ldx("dw", "r2", "r0", 0),
      d.add("r2", "r3"),
      d.lddw("r4", full),
      d.jle("r2", "r4", capped),
      d.mov("r2", "r4"),
      d.label(capped),
      d.jge("r2", NANO, take),
      d.stx("dw", "r0", 0, "r2"),
      d.ja(o.over),
      d.label(take),
      d.sub("r2", NANO),
      d.stx("dw", "r0", 0, "r2"),
      d.label(done),
    }
  end
end
