-- SPDX-License-Identifier: MIT
-- bpftrace's text for aggregations, byte for byte: log2 and linear histograms,
-- whole maps of each kind with their keys, sorted and cut to the top N as bpftrace prints them.
--
--   report.hist{[1] = 3, [8] = 100}            -- the lines under "@name:"
--   report.map("bytes", entries, "hist")       -- "@bytes[...]: \n" + lines, as print(@bytes)
--   report.key{"bash", 12}                     -- "[bash, 12]"
-- Pure Lua: the numbers come from wherever the caller read them (ebpfdsl.trace's maps).
local M = {}

local type, ipairs, pairs, tostring = type, ipairs, pairs, tostring
local concat, sort, rep = table.concat, table.sort, string.rep
local tointeger, ult = math.tointeger, math.ult
local spack, sunpack = string.pack, string.unpack
local fail = require("ebpfdsl._errors").outside_modules

-- The geometry of bpftrace's histogram lines (src/output.cpp): a bucket label
-- padded to 16 columns, the count right-aligned in 8, then a 52-column bar.
local LABEL_WIDTH, COUNT_WIDTH, BAR_WIDTH = 16, 8, 52
local LINE = "%-" .. LABEL_WIDTH .. "s%" .. COUNT_WIDTH .. "s |%-" .. BAR_WIDTH .. "s|\n"
-- log2 buckets: 0 (negative), 1 (zero), 2..64 (one per power of two of a signed 64-bit value).
M.HIST_BUCKETS = 65
-- bpftrace refuses an lhist with more buckets than this between min and max.
M.LHIST_MAX_BUCKETS = 1000

------------------------------------------------------------------------------
-- Integer arithmetic as C does it on int64_t and uint64_t
------------------------------------------------------------------------------

-- Unsigned decimal of a 64-bit value (counts are uint64_t in bpftrace).
local function udec(v)
  if v >= 0 then return ("%d"):format(v) end
  local q = (v >> 1) // 5 -- v / 10 as unsigned: the shift makes it non-negative
  return ("%d%d"):format(q, v - q * 10)
end

-- C's truncating division of int64_t values.
local function cdiv(a, b)
  local q = a // b
  if q < 0 and q * b ~= a then q = q + 1 end
  return q
end

-- uint64_t / a positive divisor.
local function udiv(a, b)
  if a >= 0 then return a // b end
  local q = ((a >> 1) // b) << 1
  if not ult(a - q * b, b) then q = q + 1 end
  return q
end

-- bpftrace scales bars in single precision: count / (float)max * 52, truncated.
local function f32(x) return (sunpack("f", spack("f", x))) end
local function bar(count, max)
  return rep("@", (f32(f32(f32(count) / f32(max)) * BAR_WIDTH) // 1))
end

------------------------------------------------------------------------------
-- Buckets
------------------------------------------------------------------------------

-- hist_index(v) -> the log2 bucket of v: 0 for v < 0, 1 for 0, k >= 2 for
-- 2^(k-2) <= v < 2^(k-1). (bpftrace before 0.20 put every v >= 2^32 in bucket
-- 33, "[2G, 4G)"; 0.20 and later agree with this for all 64-bit values.)
function M.hist_index(v)
  v = tointeger(v) or fail("report.hist_index: expected an integer, got " .. tostring(v))
  if v < 0 then return 0 end
  if v == 0 then return 1 end
  local k = 2
  while v > 1 do v, k = v >> 1, k + 1 end
  return k
end

-- lhist_index(v, min, max, step) -> the linear bucket of v: 0 below min; 1 + (v - min) // step
-- up to max; 1 + (max - min) // step above max. So with (max - min) a multiple of step,
-- bucket n + 1 (n = (max - min) // step) holds v >= max; otherwise it also holds the values
-- from min + n * step up to max, as in bpftrace.
function M.lhist_index(v, min, max, step)
  v = tointeger(v) or fail("report.lhist_index: expected an integer, got " .. tostring(v))
  if v < min then return 0 end
  if v > max then return 1 + (max - min) // step end
  return 1 + (v - min) // step
end

------------------------------------------------------------------------------
-- Histograms
------------------------------------------------------------------------------

-- Powers of two as bpftrace labels them: 1, 2, ... 512, 1K, ... 512K, 1M, ...
-- (bpftrace 0.17 stops at T; its buckets never reach 2^50. P and E are 0.20's.)
local SUFFIX = { [0] = "", "K", "M", "G", "T", "P", "E" }
local function pow2_label(p) return ("%d%s"):format(1 << (p % 10), SUFFIX[p // 10]) end

local function hist_label(i)
  if i == 0 then return "(..., 0)" end
  if i == 1 then return "[0]" end
  if i == 2 then return "[1]" end
  return "[" .. pow2_label(i - 2) .. ", " .. pow2_label(i - 1) .. ")"
end

-- Counts are a table {[bucket] = count}; missing buckets count 0.
local function check_counts(fname, counts, last)
  if type(counts) ~= "table" then fail(fname .. ": expected a table of counts by bucket, got " .. type(counts)) end
  for i, c in pairs(counts) do
    if tointeger(i) == nil or i < 0 or i > last then
      fail(("%s: bucket %s is outside 0..%d"):format(fname, tostring(i), last))
    end
    if tointeger(c) == nil then
      fail(("%s: the count of bucket %d must be an integer, got %s"):format(fname, i, tostring(c)))
    end
  end
end

-- The lines for buckets first..last (those with counts), each "label count |bar|".
local function lines(counts, first, last, label, div)
  local max = 0
  for i = first, last do
    local c = counts[i] or 0
    if c > max then max = c end
  end
  local out = {}
  for i = first, last do
    local c = counts[i] or 0
    out[#out + 1] = LINE:format(label(i), udec(udiv(c, div)), bar(c, max))
  end
  return concat(out)
end

-- The first and last bucket in 0..last with a count, or nil.
local function span(counts, last)
  local first, final
  for i = 0, last do
    if (counts[i] or 0) > 0 then
      first = first or i
      final = i
    end
  end
  return first, final
end

local function check_div(fname, div)
  if div == nil or div == 0 then return 1 end
  if tointeger(div) == nil or div < 0 or div > 0xffffffff then
    fail(fname .. ": div must be an integer in 0..2^32-1 (0 and nil mean 1), got " .. tostring(div))
  end
  return div
end

-- hist(counts[, div]) -> the lines bpftrace prints for a log2 histogram, from the first bucket
-- with a count to the last, each ending in "\n"; "" when every count is 0. div divides the
-- printed counts (print(@h, 0, div)), not the bars.
function M.hist(counts, div)
  check_counts("report.hist", counts, M.HIST_BUCKETS - 1)
  div = check_div("report.hist", div)
  local first, last = span(counts, M.HIST_BUCKETS - 1)
  if not first then return "" end
  return lines(counts, first, last, hist_label, div)
end

-- Linear bucket bounds as bpftrace labels them: exact multiples of 1M and 1K shortened.
local function lhist_number(n)
  if n ~= 0 and n % 1048576 == 0 then return cdiv(n, 1048576) .. "M" end
  if n ~= 0 and n % 1024 == 0 then return cdiv(n, 1024) .. "K" end
  return ("%d"):format(n)
end

local function check_range(fname, min, max, step)
  for _, p in ipairs { { "min", min }, { "max", max }, { "step", step } } do
    if tointeger(p[2]) == nil then fail(("%s: %s must be an integer, got %s"):format(fname, p[1], tostring(p[2]))) end
  end
  if step < 1 then fail(("%s: step must be >= 1 (%d given)"):format(fname, step)) end
  if min >= max then fail(("%s: min must be less than max (min %d, max %d)"):format(fname, min, max)) end
  if max - min < step then fail(("%s: step %d is larger than max - min (%d)"):format(fname, step, max - min)) end
  local n = (max - min) // step
  if n > M.LHIST_MAX_BUCKETS then
    fail(("%s: %d buckets between min and max; bpftrace allows at most %d"):format(fname, n, M.LHIST_MAX_BUCKETS))
  end
  return n
end

-- lhist(counts, min, max, step) -> the lines bpftrace prints for lhist(v, min, max, step):
-- buckets 0 ("(..., min)") to n + 1 ("[max, ...)"), n = (max - min) // step, trimmed to those
-- with counts; "" when every count is 0. (bpftrace prints these counts undivided.)
function M.lhist(counts, min, max, step)
  local n = check_range("report.lhist", min, max, step)
  check_counts("report.lhist", counts, n + 1)
  local first, last = span(counts, n + 1)
  if not first then return "" end
  local function label(i)
    if i == 0 then return "(..., " .. lhist_number(min) .. ")" end
    if i == n + 1 then return "[" .. lhist_number(max) .. ", ...)" end
    return "[" .. lhist_number((i - 1) * step + min) .. ", " .. lhist_number(i * step + min) .. ")"
  end
  return lines(counts, first, last, label, 1)
end

------------------------------------------------------------------------------
-- Keys
------------------------------------------------------------------------------

-- A key is nil (a map without keys), one value, or a tuple {k1, k2, ...}.
local function tuple(key)
  if key == nil then return {} end
  if type(key) == "table" then return key end
  return { key }
end

local function component_text(k, i, key_format)
  if key_format then
    local s = key_format(k, i)
    if s ~= nil then return tostring(s) end
  end
  if type(k) == "string" then return k end
  if tointeger(k) then return ("%d"):format(k) end
  fail(("report: key component %d is a %s (%s); integers and strings print, other values need opts.key_format")
    :format(i, type(k), tostring(k)))
end

-- key(key[, key_format]) -> "[k1, k2]" as bpftrace prints a key after the map's name, "" for
-- none. Integers print as signed decimals, strings as they are; key_format(k, i), when it
-- returns a string, shows component i its own way (a syscall's name, a symbolized stack).
function M.key(key, key_format)
  local t = tuple(key)
  if #t == 0 then return "" end
  local parts = {}
  for i, k in ipairs(t) do parts[i] = component_text(k, i, key_format) end
  return "[" .. concat(parts, ", ") .. "]"
end

-- bpftrace keeps hist and avg entries in a std::map ordered by the key's bytes (integers
-- little-endian, strings NUL-padded) and sorts them by a stable insertion sort when there
-- are at most 16: that order breaks ties there, and we use it to break every tie.
local function key_bytes_less(a, b)
  local ta, tb = tuple(a), tuple(b)
  for i = 1, math.max(#ta, #tb) do
    local x, y = ta[i], tb[i]
    if x == nil or y == nil then return x == nil and y ~= nil end
    if tointeger(x) and tointeger(y) then
      x, y = spack("<i8", x), spack("<i8", y)
    elseif type(x) ~= type(y) or type(x) ~= "string" then
      x, y = type(x) .. tostring(x), type(y) .. tostring(y)
    end
    if x ~= y then return x < y end
  end
  return false
end

-- bpftrace's sort of maps with non-integer values (sort_by_key): by each key component in
-- turn, integers as unsigned, strings by their bytes.
local function key_value_less(a, b)
  local ta, tb = tuple(a), tuple(b)
  for i = 1, math.max(#ta, #tb) do
    local x, y = ta[i], tb[i]
    if x == nil or y == nil then return x == nil and y ~= nil end
    if x ~= y then
      if tointeger(x) and tointeger(y) then return ult(x, y) end
      if type(x) == "string" and type(y) == "string" then return x < y end
      return type(x) .. tostring(x) < type(y) .. tostring(y)
    end
  end
  return false
end

------------------------------------------------------------------------------
-- Maps
------------------------------------------------------------------------------

local function int_value(kind, v)
  return tointeger(v) or fail(("report.map: a %s map's values are integers, got %s"):format(kind, tostring(v)))
end

local function avg_of(v)
  if type(v) ~= "table" or tointeger(v.sum) == nil or tointeger(v.count) == nil then
    fail("report.map: an avg map's values are {sum = integer, count = integer}, got " .. tostring(v))
  end
  return v.count ~= 0 and cdiv(v.sum, v.count) or 0
end

local function hist_total(v)
  if type(v) ~= "table" then fail("report.map: a hist map's values are tables of counts by bucket") end
  local total = 0
  for i, c in pairs(v) do
    if tointeger(c) == nil then
      fail(("report.map: the count of bucket %s must be an integer, got %s"):format(tostring(i), tostring(c)))
    end
    total = total + c
  end
  return total
end

-- Each kind: rank(v) is what bpftrace sorts by (unsigned = compared as uint64_t, by_key =
-- the key, for maps of strings), text(v, opts) the printed value, `hist` a histogram below
-- the key line, `extra` what bpftrace writes after the newline ending the last entry.
local KINDS = {
  count = { rank = int_value, unsigned = true, text = function(v, div) return udec(udiv(v, div)) end },
  sum = { rank = int_value, text = function(v, div) return ("%d"):format(cdiv(v, div)) end },
  min = { rank = int_value, text = function(v, div) return ("%d"):format(cdiv(v, div)) end },
  max = { rank = int_value, text = function(v, div) return ("%d"):format(cdiv(v, div)) end },
  avg = { rank = function(_, v) return avg_of(v) end, extra = "\n",
          text = function(v, div) return ("%d"):format(cdiv(avg_of(v), div)) end },
  value = {
    rank = function(_, v)
      if type(v) == "string" then return nil end
      return int_value("value", v)
    end,
    text = function(v, div)
      if type(v) == "string" then return v end
      return ("%d"):format(cdiv(v, div))
    end,
  },
  hist = { rank = function(_, v) return hist_total(v) end, unsigned = true, hist = true,
           text = function(v, div) return M.hist(v, div) end },
  lhist = { rank = function(_, v) return hist_total(v) end, unsigned = true, hist = true },
}
M.KINDS = {}
for k in pairs(KINDS) do M.KINDS[#M.KINDS + 1] = k end
sort(M.KINDS)

local function check_kind(fname, kind)
  local K = KINDS[kind]
  if not K then
    fail(("%s: unknown map kind %s (one of %s)"):format(fname, tostring(kind), concat(M.KINDS, ", ")))
  end
  return K
end

local function check_entries(fname, entries)
  if type(entries) ~= "table" then
    fail(fname .. ": expected a list of {key =, value =} entries, got " .. type(entries))
  end
  for i, e in ipairs(entries) do
    if type(e) ~= "table" or e.value == nil then
      fail(("%s: entry %d must be a table {key = ..., value = ...}"):format(fname, i))
    end
  end
end

-- sorted(entries, kind[, opts]) -> a new list of the entries in the order bpftrace prints
-- them: ascending by value (count, sum, min, max, avg's average, integer values), by total
-- count (hist, lhist), by key (string values); ties by the key's bytes. opts.top = n keeps
-- the n last (the largest), as print(@map, n).
function M.sorted(entries, kind, opts)
  local K = check_kind("report.sorted", kind)
  check_entries("report.sorted", entries)
  opts = opts or {}
  local rows = {}
  local by_key = false
  for i, e in ipairs(entries) do
    local r = K.rank(kind, e.value)
    if r == nil then by_key = true end
    rows[i] = { e = e, r = r }
  end
  sort(rows, function(a, b)
    if not by_key and a.r ~= b.r then
      if K.unsigned then return ult(a.r, b.r) end
      return a.r < b.r
    end
    if by_key and a.e.key ~= b.e.key then
      if key_value_less(a.e.key, b.e.key) then return true end
      if key_value_less(b.e.key, a.e.key) then return false end
    end
    return key_bytes_less(a.e.key, b.e.key)
  end)
  local top = opts.top
  if top ~= nil and (tointeger(top) == nil or top < 0) then
    fail("report: top must be a non-negative integer (0: all), got " .. tostring(top))
  end
  local skip = (top and top > 0 and #rows > top) and #rows - top or 0
  local out = {}
  for i = skip + 1, #rows do out[#out + 1] = rows[i].e end
  return out
end

local function map_name(name)
  if name == nil then name = "" end
  if type(name) ~= "string" then fail("report.map: the map's name must be a string, got " .. type(name)) end
  if name:sub(1, 1) ~= "@" then name = "@" .. name end
  return name
end

-- map(name, entries, kind[, opts]) -> exactly what bpftrace writes for print(@name) (and
-- for the map at exit): "@name[k1, k2]: value" lines, or "@name[k]: " lines each followed
-- by its histogram and a blank line; "\n" alone for an empty map; avg maps end with a
-- blank line. name is "bytes" or "@bytes" ("" for bpftrace's anonymous "@").
-- entries: {{key = {k1, ...} | k | nil, value = v}, ...}, v being an integer (count, sum,
-- min, max, value; value also takes strings), {sum =, count =} (avg) or a table of counts
-- by bucket (hist, lhist). opts: top = n (the n largest), div = d (print(@name, top, d)),
-- lhist = {min =, max =, step =} (required for lhist), key_format = fn(k, i).
function M.map(name, entries, kind, opts)
  local K = check_kind("report.map", kind)
  opts = opts or {}
  name = map_name(name)
  local div = check_div("report.map", opts.div)
  local text = K.text
  if kind == "lhist" then
    local l = opts.lhist
    if type(l) ~= "table" then fail("report.map: an lhist map needs opts.lhist = {min =, max =, step =}") end
    check_range("report.map", l.min, l.max, l.step)
    text = function(v) return M.lhist(v, l.min, l.max, l.step) end
  end
  local kf = opts.key_format
  if kf ~= nil and type(kf) ~= "function" then fail("report.map: key_format must be a function, got " .. type(kf)) end
  local out = {}
  for i, e in ipairs(M.sorted(entries, kind, opts)) do
    local head = name .. M.key(e.key, kf) .. ": "
    if K.hist then
      out[i] = head .. "\n" .. text(e.value, div)
    else
      out[i] = head .. text(e.value, div)
    end
  end
  return concat(out, "\n") .. "\n" .. (K.extra or "")
end

-- at_exit(maps) -> what bpftrace prints when it ends: a blank line twice, then every map
-- in name order. maps: a list of {name =, entries =, kind =, opts =}.
function M.at_exit(maps)
  if type(maps) ~= "table" then fail("report.at_exit: expected a list of maps, got " .. type(maps)) end
  local list = {}
  for i, m in ipairs(maps) do
    if type(m) ~= "table" then
      fail(("report.at_exit: map %d must be a table {name =, entries =, kind =}"):format(i))
    end
    list[i] = { name = map_name(m.name), m = m }
  end
  sort(list, function(a, b) return a.name < b.name end)
  local out = { "\n\n" }
  for _, l in ipairs(list) do out[#out + 1] = M.map(l.name, l.m.entries, l.m.kind, l.m.opts) end
  return concat(out)
end

return M
