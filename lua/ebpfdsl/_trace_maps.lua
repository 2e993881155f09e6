-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): bpftrace's maps (@name) as Lua objects. In a
-- probe body, `m[key] = T.count()` (sum, min, max, avg, hist, lhist or a
-- plain value) and `m[key]` build the program; in user space the same
-- object reads the kernel's map as Lua values and prints as bpftrace does.
--
-- Aggregations are per-CPU (no atomics, no contention), summed when read;
-- a key-less aggregation is a per-CPU array (no insert path), a keyed one
-- a per-CPU hash. Histograms add the bucket to the key. Plain values live
-- in an ordinary hash (or a one-slot array without key).
local value = require "ebpfdsl._trace_value"
local ir = require "ebpfdsl._trace_ir"

local M = {}

local type, ipairs, pairs = type, ipairs, pairs
local fail, K = ir.fail, value.K

-- Keys per map, as bpftrace's default; preallocated (the kernel refuses
-- anything else to perf_event programs, and 6.1 warns for the others).
M.MAX_ENTRIES = 4096

-- Aggregation markers: what T.count() and the like return.
local AGG = { __name = "ebpfdsl.trace.Aggregation" }
function M.agg(kind, x, extra)
  local a = setmetatable({ kind = kind, x = x }, AGG)
  for k, v in pairs(extra or {}) do a[k] = v end
  return a
end
function M.is_agg(x) return getmetatable(x) == AGG end

-- log2 buckets as bpftrace numbers them: 0 for negative values, 1 for 0,
-- k >= 2 for 2^(k-2) <= v < 2^(k-1); 65 in all (as ebpfdsl.report).
M.HIST_BUCKETS = 65

-- The bucket of a 64-bit signed value, computed in the program.
local function log2_bucket(fn, x)
  local v = fn:mov(value.wide(x))
  local idx = fn:v()
  local done = fn:newlabel("hist")
  fn:emit { op = "mov", dst = idx, a = 0 }
  fn:jmp("jslt", v, 0, done)
  fn:emit { op = "mov", dst = idx, a = 1 }
  fn:jmp("jeq", v, 0, done)
  fn:emit { op = "mov", dst = idx, a = 2 }
  -- binary search for the highest set bit, halving the step
  local big = fn:mov(1 << 32)
  local skip = fn:newlabel("hist")
  fn:jmp("jlt", v, big, skip)
  fn:emit { op = "alu", alu = "rsh", dst = v, a = v, b = 32 }
  fn:emit { op = "alu", alu = "add", dst = idx, a = idx, b = 32 }
  fn:label(skip)
  for _, s in ipairs { 16, 8, 4, 2, 1 } do
    local l = fn:newlabel("hist")
    fn:jmp("jlt", v, 1 << s, l)
    fn:emit { op = "alu", alu = "rsh", dst = v, a = v, b = s }
    fn:emit { op = "alu", alu = "add", dst = idx, a = idx, b = s }
    fn:label(l)
  end
  fn:label(done)
  return idx
end

-- The bucket of a linear histogram: 0 below min, n + 1 at or above max.
local function lhist_bucket(fn, x, lo, hi, step)
  local v = value.wide(x)
  if type(v) == "number" then v = fn:mov(v) end
  local n = (hi - lo) // step
  local idx = fn:v()
  local done = fn:newlabel("lhist")
  fn:emit { op = "mov", dst = idx, a = 0 }
  fn:jmp("jslt", v, lo, done)
  fn:emit { op = "mov", dst = idx, a = n + 1 }
  fn:jmp("jsge", v, hi, done)
  local d = lo ~= 0 and fn:alu("sub", v, lo) or v
  local q = step ~= 1 and fn:alu("div", d, step) or d
  fn:emit { op = "alu", alu = "add", dst = idx, a = q, b = 1 }
  fn:label(done)
  return idx
end

-- Key components -----------------------------------------------------------

-- A key component's description from a value: {kind = "int", size, signed,
-- fmt} or {kind = "str", n} (a field of the key struct), or "ustack" (an id
-- and a pid).
local function component(x)
  local v = value.val(x, "a map key")
  local t = v[K]
  if t.kind == "str" then return { kind = "str", n = t.n, buf = t.buf, fmt = t.fmt }, v end
  if t.fmt == "ustack" then return { kind = "ustack" }, v end
  return { kind = "int", size = type(t.v) == "number" and 8 or t.size, signed = t.signed, fmt = t.fmt }, v
end

local function key_list(k)
  if k == nil then return {} end
  if type(k) == "table" and not value.is(k) and getmetatable(k) == nil then
    if #k == 0 then fail("trace: a map key tuple must list at least one value") end
    return k
  end
  return { k }
end

local INT_TYPE = { [1] = "u8", [2] = "u16", [4] = "u32", [8] = "u64" }
local SINT_TYPE = { [1] = "i8", [2] = "i16", [4] = "i32", [8] = "i64" }

-- The key struct: one field per component (a ustack has two), and the
-- bucket of a histogram last.
local function key_fields(comps, bucket)
  local fields = {}
  for i, c in ipairs(comps) do
    if c.kind == "str" then
      fields[#fields + 1] = { "k" .. i, c.buf and "u8" or "char", c.n }
    elseif c.kind == "ustack" then
      fields[#fields + 1] = { "k" .. i, "i64" }
      fields[#fields + 1] = { "k" .. i .. "pid", "u32" }
    else
      fields[#fields + 1] = { "k" .. i, (c.signed and SINT_TYPE or INT_TYPE)[c.size] }
    end
  end
  if bucket then fields[#fields + 1] = { "bucket", "u32" } end
  return fields
end

-- Map definitions ------------------------------------------------------------

local Map = {}
M.Map = Map

-- new(session, name) -> an undefined map: the first use decides its kind
-- and key.
function M.new(session, name)
  return setmetatable({ [K] = { session = session, name = name } }, Map)
end

local function def(m) return m[K] end

local PERCPU = { count = true, sum = true, min = true, max = true, avg = true, hist = true, lhist = true }

-- Fixes (or checks) the map's kind and key layout at its first use.
local function declare(m, kind, comps, extra)
  local d = def(m)
  if d.session.built then fail("trace: map @" .. d.name .. " is used in a body after the maps were created") end
  if not d.kind then
    d.kind = kind
    d.comps = comps
    d.extra = extra or {}
    local bucket = kind == "hist" or kind == "lhist"
    if #comps > 0 or bucket then
      local fields = key_fields(comps, bucket and #comps > 0)
      if #comps > 0 then
        d.key = require("ebpfdsl.structs").define("key_" .. d.name, fields)
      end
    end
    d.session:map_defined(m)
    return d
  end
  if d.kind ~= kind and not (d.kind == "value" and kind == "read") and kind ~= "delete" then
    fail(("trace: map @%s holds %s values; it cannot also take %s"):format(d.name, d.kind, kind))
  end
  if kind == "lhist" then
    local e = d.extra
    if e.min ~= extra.min or e.max ~= extra.max or e.step ~= extra.step then
      fail(("trace: map @%s is an lhist(%d, %d, %d); every use must give the same bounds"):format(d.name,
        e.min, e.max, e.step))
    end
  end
  if #comps ~= #d.comps then
    fail(("trace: map @%s has keys of %d values, here %d"):format(d.name, #d.comps, #comps))
  end
  for i, c in ipairs(comps) do
    local o = d.comps[i]
    if (c.kind == "str") ~= (o.kind == "str") or (c.kind == "ustack") ~= (o.kind == "ustack") then
      fail(("trace: key %d of map @%s was a %s, here a %s"):format(i, d.name, o.kind, c.kind))
    end
  end
  return d
end

-- The key, written to a new stack buffer: {stack = obj}.
local function write_key(fn, d, vals, bucket)
  local layout = d.key
  local buf = fn:stack(layout:size(), "key")
  local base = { stack = buf }
  -- zero what no field writes in full: padding, and strings read with
  -- probe_read_*_str, which stop at the NUL
  local covered = {}
  local fields = layout:fields()
  for _, fld in ipairs(fields) do
    if fld.type ~= "pad" then
      for b = fld.offset, fld.offset + fld.size - 1 do covered[b] = true end
    end
  end
  for i, v in ipairs(vals) do
    local t = v[K]
    if t.kind == "str" and not t.comm then
      local info = layout:field("k" .. i)
      for b = info.offset, info.offset + info.size - 1 do covered[b] = nil end
    end
  end
  local at = 0
  local size = layout:size()
  while at < size do
    if covered[at] then
      at = at + 1
    else
      local w = 8
      while w > 1 and (at % w ~= 0 or at + w > size or not (function()
        for b = at, at + w - 1 do if covered[b] then return false end end
        return true
      end)()) do w = w // 2 end
      fn:st(value.SIZE[w], base, at, 0)
      at = at + w
    end
  end
  for i, v in ipairs(vals) do
    local info = layout:field("k" .. i)
    local t = v[K]
    if t.kind == "str" then
      value.write_str(v, base, info.offset, info.size)
    else
      local r = info.size > (t.size or 8) and value.wide(v) or t.v
      fn:st(value.SIZE[info.size], base, info.offset, r)
      if d.comps[i].kind == "ustack" then
        fn:st("w", base, layout:field("k" .. i .. "pid").offset, t.pid[K].v)
      end
    end
  end
  if bucket then fn:st("w", base, layout:field("bucket").offset, bucket) end
  return base
end

local function map_arg(m) return { map = m } end

-- lookup -> vreg of the value pointer (maybe NULL)
local function lookup(fn, m, key)
  return fn:call("map_lookup_elem", { map_arg(m), { stack = key.stack, off = 0 } }, true)
end

-- The u32 0 of a one-slot array, or a bucket index, as a key.
local function index_key(fn, idx)
  local buf = fn:stack(4, "index")
  fn:st("w", { stack = buf }, 0, idx)
  return { stack = buf }
end

-- Inserts `words` (a list of vregs or constants, 8 bytes each) as the value.
local function insert(fn, m, key, words)
  local buf = fn:stack(8 * #words, "value")
  for i, w in ipairs(words) do fn:st("dw", { stack = buf }, 8 * (i - 1), w) end
  fn:call("map_update_elem", { map_arg(m), { stack = key.stack, off = 0 }, { stack = buf, off = 0 }, 0 })
end

local function as_reg(fn, x)
  if type(x) == "number" then return fn:mov(x) end
  return x
end

-- assign(m, key_or_nil, rhs): m[key] = rhs in a body.
function M.assign(m, k, rhs)
  local fn = value.current
  if not fn then fail("trace: internal: assign outside a body") end
  local vals, comps = {}, {}
  for i, x in ipairs(key_list(k)) do comps[i], vals[i] = component(x) end
  local kind = M.is_agg(rhs) and rhs.kind or "value"
  local extra
  if kind == "lhist" then extra = { min = rhs.min, max = rhs.max, step = rhs.step } end
  local x
  if kind == "value" then
    if rhs == nil then fail("trace: to delete a key, use T.delete(map, key)") end
    local v = value.val(rhs, "a map value")
    if v[K].kind == "str" then
      kind, x = "string", v
      extra = { n = v[K].n }
    else
      x = v
      extra = { signed = v[K].signed, fmt = v[K].fmt }
    end
  elseif rhs.x ~= nil then
    x = value.val(rhs.x, kind .. "'s argument")
  end
  local d = declare(m, kind, comps, extra)
  local keyed = #vals > 0
  local done = fn:newlabel("map")

  if kind == "hist" or kind == "lhist" then
    local idx = kind == "hist" and log2_bucket(fn, x) or lhist_bucket(fn, x, rhs.min, rhs.max, rhs.step)
    local key = keyed and write_key(fn, d, vals, idx) or index_key(fn, idx)
    local p = lookup(fn, m, key)
    local miss = fn:newlabel("miss")
    fn:jmp("jeq", p, 0, keyed and miss or done)
    fn:emit { op = "xadd", size = "dw", base = p, off = 0, src = fn:mov(1) }
    if keyed then
      fn:ja(done)
      fn:label(miss)
      insert(fn, m, key, { 1 })
    end
  elseif kind == "count" or kind == "sum" or kind == "avg" then
    local key = keyed and write_key(fn, d, vals) or index_key(fn, 0)
    local amount = kind == "count" and 1 or value.wide(x)
    local p = lookup(fn, m, key)
    local miss = fn:newlabel("miss")
    fn:jmp("jeq", p, 0, keyed and miss or done)
    fn:emit { op = "xadd", size = "dw", base = p, off = 0, src = as_reg(fn, amount) }
    if kind == "avg" then fn:emit { op = "xadd", size = "dw", base = p, off = 8, src = fn:mov(1) } end
    if keyed then
      fn:ja(done)
      fn:label(miss)
      insert(fn, m, key, kind == "avg" and { amount, 1 } or { amount })
    end
  elseif kind == "min" or kind == "max" then
    local key = keyed and write_key(fn, d, vals) or index_key(fn, 0)
    local xv = as_reg(fn, value.wide(x))
    local p = lookup(fn, m, key)
    local miss, set = fn:newlabel("miss"), fn:newlabel("set")
    fn:jmp("jeq", p, 0, keyed and miss or done)
    local seen = fn:ld("dw", p, 8)
    fn:jmp("jeq", seen, 0, set)
    local cur = fn:ld("dw", p, 0)
    fn:jmp(kind == "min" and "jsle" or "jsge", cur, xv, done)
    fn:label(set)
    fn:st("dw", p, 0, xv)
    fn:st("dw", p, 8, 1)
    if keyed then
      fn:ja(done)
      fn:label(miss)
      insert(fn, m, key, { xv, 1 })
    end
  elseif kind == "value" or kind == "string" then
    local key = keyed and write_key(fn, d, vals) or index_key(fn, 0)
    local buf = fn:stack(kind == "string" and d.extra.n or 8, "value")
    if kind == "string" then
      if not x[K].comm then
        for at = 0, buf.size - 8, 8 do fn:st("dw", { stack = buf }, at, 0) end
      end
      value.write_str(x, { stack = buf }, 0, d.extra.n)
    else
      fn:st("dw", { stack = buf }, 0, value.wide(x))
    end
    fn:call("map_update_elem", { map_arg(m), { stack = key.stack, off = 0 }, { stack = buf, off = 0 }, 0 })
  end
  fn:label(done)
end

-- read(m, key) -> m[key] in a body: the value, 0 when the key is missing.
function M.read(m, k)
  local fn = value.current
  local d = def(m)
  if not d.kind then
    fail(("trace: map @%s is read before any probe stores into it; store first (maps are typed by their " ..
      "first store)"):format(d.name))
  end
  if d.kind ~= "value" then
    fail(("trace: map @%s holds %s aggregations, which only user space reads; store plain values to read " ..
      "them in a probe"):format(d.name, d.kind))
  end
  local vals, comps = {}, {}
  for i, x in ipairs(key_list(k)) do comps[i], vals[i] = component(x) end
  declare(m, "read", comps)
  local key = #vals > 0 and write_key(fn, d, vals) or index_key(fn, 0)
  local p = lookup(fn, m, key)
  local out = fn:v()
  local L = fn:newlabel("read")
  fn:emit { op = "mov", dst = out, a = 0 }
  fn:jmp("jeq", p, 0, L)
  fn:emit { op = "ld", size = "dw", dst = out, base = p, off = 0 }
  fn:label(L)
  return value.int(fn, out, 8, d.extra.signed, true, d.extra.fmt)
end

-- delete(m, key) in a body.
function M.delete(m, k)
  local fn = value.current
  local d = def(m)
  if not d.kind then fail(("trace: map @%s is deleted from before any probe stores into it"):format(d.name)) end
  local vals, comps = {}, {}
  for i, x in ipairs(key_list(k)) do comps[i], vals[i] = component(x) end
  declare(m, "delete", comps)
  if #vals == 0 then fail("trace: T.delete needs a key; a map without keys is cleared from user space") end
  local key = write_key(fn, d, vals)
  fn:call("map_delete_elem", { map_arg(m), { stack = key.stack, off = 0 } })
end

-- Kernel side ------------------------------------------------------------------

local VALUE = {
  count = "u64", sum = "u64", value = "u64",
}

-- Creates the BPF map of a defined map (once).
function Map:bpf_map()
  local d = def(self)
  if d.bpf then return d.bpf end
  local maps, structs = require "ebpfdsl.maps", require "ebpfdsl.structs"
  local kind, keyed = d.kind, d.key ~= nil
  local spec = { name = d.name:sub(1, 15) }
  local val
  if kind == "min" or kind == "max" then
    val = structs.define("minmax", { { "v", "i64" }, { "set", "u64" } })
  elseif kind == "avg" then
    val = structs.define("avg", { { "sum", "i64" }, { "count", "u64" } })
  elseif kind == "string" then
    val = structs.define("str", { { "s", "char", d.extra.n } })
  else
    val = VALUE[kind] or "u64"
    if kind == "sum" or (kind == "value" and d.extra.signed) then val = "i64" end
  end
  spec.value = val
  if keyed then
    spec.type = PERCPU[kind] and "percpu_hash" or "hash"
    spec.key = d.key
    spec.max_entries = d.session.max_entries or M.MAX_ENTRIES
  else
    spec.type = PERCPU[kind] and "percpu_array" or "array"
    spec.key = "u32"
    spec.max_entries = kind == "hist" and M.HIST_BUCKETS or
      (kind == "lhist" and (d.extra.max - d.extra.min) // d.extra.step + 2 or 1)
  end
  local m, msg, errno = maps.create(spec)
  if not m then error(("trace: creating map @%s: %s"):format(d.name, msg), 0) end
  d.bpf, d.errno = m, errno
  return m
end

-- User side ----------------------------------------------------------------------

local function sum_cpus(v)
  if type(v) ~= "table" then return v end
  if v.sum then return v.sum end
  return v
end

-- entries(m) -> list of {key = {k1, ...} | nil, value = v} as report.map
-- takes them: integers, {sum=, count=} for avg, bucket counts for
-- histograms.
function M.entries(m)
  local d = def(m)
  if not d.kind or not d.bpf then return {} end
  local kind, b = d.kind, d.bpf
  local out = {}
  local function key_of(k)
    local key = {}
    for i, c in ipairs(d.comps) do
      if c.kind == "ustack" then key[i] = { id = k["k" .. i], pid = k["k" .. i .. "pid"] }
      else key[i] = k["k" .. i] end
    end
    return key
  end
  if kind == "hist" or kind == "lhist" then
    if not d.key then
      local counts, any = {}, false
      for idx, v in pairs(b) do
        local n = sum_cpus(v)
        if n ~= 0 then counts[idx] = n; any = true end
      end
      if any then out[1] = { value = counts } end
      return out
    end
    local by = {}
    for k, v in pairs(b) do
      local key = key_of(k)
      local id = table.concat((function()
        local parts = {}
        for i, x in ipairs(key) do parts[i] = type(x) == "table" and (x.id .. "/" .. x.pid) or tostring(x) end
        return parts
      end)(), "\0")
      local e = by[id]
      if not e then e = { key = key, value = {} }; by[id] = e; out[#out + 1] = e end
      local n = sum_cpus(v)
      if n ~= 0 then e.value[k.bucket] = (e.value[k.bucket] or 0) + n end
    end
    return out
  end
  local function val_of(v)
    if kind == "avg" then
      local s, c = 0, 0
      for _, x in ipairs(v) do s, c = s + x.sum, c + x.count end
      return c > 0 and { sum = s, count = c } or nil
    elseif kind == "min" or kind == "max" then
      local best
      for _, x in ipairs(v) do
        if x.set ~= 0 and (best == nil or (kind == "min" and x.v < best) or (kind == "max" and x.v > best)) then
          best = x.v
        end
      end
      return best
    elseif kind == "string" then
      return v.s
    end
    return sum_cpus(v)
  end
  if not d.key then
    local v = b[0]
    local x = v and val_of(v)
    local empty = x == nil or ((kind == "count" or kind == "sum") and x == 0)
    if not empty then out[1] = { value = x } end
    return out
  end
  for k, v in pairs(b) do
    local x = val_of(v)
    if x ~= nil then out[#out + 1] = { key = key_of(k), value = x } end
  end
  return out
end

local REPORT_KIND = { string = "value" }

-- What report.map takes for the map: name, entries, kind, options
-- (opts.top = n keeps the n largest).
function M.report_args(m, opts)
  local d = def(m)
  local o = { top = opts and opts.top }
  if d.kind == "lhist" then o.lhist = { min = d.extra.min, max = d.extra.max, step = d.extra.step } end
  local fmts = {}
  for i, c in ipairs(d.comps or {}) do fmts[i] = c.fmt or (c.kind == "ustack" and "ustack") or nil end
  if next(fmts) then
    o.key_format = function(k, i)
      local name = fmts[i]
      if name then return d.session.formatters(name, k, "key") end
      return nil
    end
  end
  return d.name, M.entries(m), REPORT_KIND[d.kind] or d.kind, o
end

-- The bpftrace text of a map, as print(@name[, top]) writes it.
function M.text(m, opts)
  return require("ebpfdsl.report").map(M.report_args(m, opts))
end

-- Metatable: body vs user space.
Map.__index = function(m, k)
  local M_ = Map.methods[k]
  if M_ then return M_ end
  if value.current then return M.read(m, k) end
  -- user space: the value at a key (a tuple as a list)
  return Map.methods.read(m, k)
end

Map.__newindex = function(m, k, v)
  if value.current then return M.assign(m, k, v) end
  fail("trace: maps are written by probes; in user space, read them or :clear() them")
end

Map.__tostring = function(m)
  local d = def(m)
  if not d.bpf then return ("trace map @%s (%s)"):format(d.name, d.kind or "not used yet") end
  return M.text(m)
end

Map.__pairs = function(m)
  local list = M.entries(m)
  local i = 0
  return function()
    i = i + 1
    local e = list[i]
    if not e then return nil end
    local key = e.key
    if key and #key == 1 then key = key[1] end
    return key == nil and true or key, e.value
  end
end

-- A key-less map used as a value in a body reads it.
Map.__trace_value = function(m) return M.read(m, nil) end
for _, mm in ipairs { "__add", "__sub", "__mul", "__idiv", "__mod", "__band", "__bor", "__bxor", "__shl", "__shr" } do
  Map[mm] = function(a, b)
    return value.V[mm](getmetatable(a) == Map and M.read(a) or a, getmetatable(b) == Map and M.read(b) or b)
  end
end

Map.methods = {
  -- m:clear(): empties the map in the kernel
  clear = function(m)
    local d = def(m)
    if d.bpf then d.bpf:clear() end
  end,
  -- m:read([key]) -> the value at key (a value or a tuple list; none for
  -- a map without keys), nil when there is none
  read = function(m, k)
    local d = def(m)
    if value.current then return M.read(m, k) end
    if not d.bpf then return nil end
    local list = key_list(k)
    for _, e in ipairs(M.entries(m)) do
      local key = e.key or {}
      local same = #key == #list
      if same then
        for i, x in ipairs(list) do if key[i] ~= x then same = false end end
      end
      if same then return e.value end
    end
    return nil
  end,
  -- m:top(n) -> the text of the n largest entries
  top = function(m, n) return M.text(m, { top = n }) end,
  -- m:entries() -> the list report.map prints
  entries = function(m) return M.entries(m) end,
  -- m:print([n]) writes the map (the n largest) to io.output()
  print = function(m, n)
    local s = M.text(m, { top = n })
    if s ~= "" then io.write(s, "\n") end
  end,
  -- m:bpf_map() -> the kernel's map (ebpfdsl.Map), created on first call
  bpf_map = Map.bpf_map,
  -- m:name(), m:kind()
  name = function(m) return def(m).name end,
  kind = function(m) return def(m).kind end,
}
for _, name in ipairs { "eq", "ne", "lt", "le", "gt", "ge" } do
  Map.methods[name] = function(m, other) return value.METHODS[name](M.read(m), other) end
end

return M
