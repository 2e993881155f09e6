-- SPDX-License-Identifier: MIT
-- ebpfdsl.report against bpftrace itself: seeded data sets of every map kind (keys of
-- integers, strings and tuples; negative, zero and large values; lhist edges; top and div)
-- become a bpftrace BEGIN block of literal values, and its output must equal ours byte for
-- byte. A few golden texts, copied from bpftrace 0.17's output, need nothing.
local env = require "support.env"
local report = require "ebpfdsl.report"

-- The first line that differs, to make a failure readable.
local function first_difference(want, got)
  local wl, gl = {}, {}
  for l in (want .. "\n"):gmatch("([^\n]*)\n") do wl[#wl + 1] = l end
  for l in (got .. "\n"):gmatch("([^\n]*)\n") do gl[#gl + 1] = l end
  for i = 1, math.max(#wl, #gl) do
    if wl[i] ~= gl[i] then
      return ("line %d:\n  bpftrace: %q\n  ours:     %q"):format(i, tostring(wl[i]), tostring(gl[i]))
    end
  end
  return "same lines, different bytes"
end

describe("report golden texts (bpftrace 0.17's output)", function()
  it("include docs/report.md's examples, which run", function()
    require("support.doc_blocks").run("docs/report.md")
  end)

  it("prints a log2 histogram from its first to its last bucket with counts", function()
    assert.equal(table.concat {
      "(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      "[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      "[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      "[2, 4)                 0 |                                                    |\n",
      "[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      "[8, 16)                0 |                                                    |\n",
      "[16, 32)               0 |                                                    |\n",
      "[32, 64)               0 |                                                    |\n",
      "[64, 128)              0 |                                                    |\n",
      "[128, 256)             0 |                                                    |\n",
      "[256, 512)             0 |                                                    |\n",
      "[512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
    }, report.hist { [0] = 1, [1] = 1, [2] = 1, [4] = 1, [11] = 1 })
    assert.equal("[512M, 1G)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n" ..
                 "[1G, 2G)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n" ..
                 "[2G, 4G)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      report.hist { [31] = 1, [32] = 1, [33] = 1 })
    -- bars are scaled in single precision: 15 of 26 is 30 '@', where doubles give 29
    assert.equal("[1]                   15 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@                      |\n" ..
                 "[2, 4)                26 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      report.hist { [2] = 15, [3] = 26 })
    assert.equal("", report.hist {})
    assert.equal("", report.hist { [5] = 0 })
  end)

  it("prints linear histograms with the edges bpftrace gives them", function()
    assert.equal("[90, 100)              1 |@@@@@@@@@@@@@@@@@                                   |\n" ..
                 "[105, ...)             3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      report.lhist({ [10] = 1, [11] = 3 }, 0, 105, 10))
    -- lhist(100, 0, 105, 10), lhist(104, ...), lhist(105, ...) all went to the last bucket
    assert.equal(11, report.lhist_index(100, 0, 105, 10))
    assert.equal(11, report.lhist_index(105, 0, 105, 10))
    assert.equal(10, report.lhist_index(99, 0, 105, 10))
    assert.equal(11, report.lhist_index(100, 0, 100, 10))
    assert.equal(0, report.lhist_index(-1, 0, 100, 10))
    assert.equal("(..., 1K)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n" ..
                 "[1K, 1536)             0 |                                                    |\n" ..
                 "[1536, 2K)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n" ..
                 "[2K, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n",
      report.lhist({ [0] = 2, [2] = 1, [3] = 1 }, 1024, 2048, 512))
  end)

  it("prints whole maps: keys, sorting, avg's blank line, string values, empty maps", function()
    assert.equal("@c[a]: 1\n@c[bb]: 2\n", report.map("c", { { key = { "bb" }, value = 2 }, { key = "a", value = 1 } },
      "count"))
    assert.equal("@s[2, y]: -5\n@s[1, x]: 10\n",
      report.map("@s", { { key = { 1, "x" }, value = 10 }, { key = { 2, "y" }, value = -5 } }, "sum"))
    assert.equal("@a: 1\n\n", report.map("a", { { value = { sum = 3, count = 2 } } }, "avg"))
    assert.equal("@a[j]: -4\n@a[k]: 3\n\n", report.map("a", { { key = "k", value = { sum = 7, count = 1 } },
      { key = "j", value = { sum = -9, count = 1 } } }, "avg", { div = 2 }))
    assert.equal("@v[1]: hi\n@v[3]: mid\n@v[-2]: lo\n", report.map("v", { { key = 3, value = "mid" },
      { key = -2, value = "lo" }, { key = 1, value = "hi" } }, "value"))
    assert.equal("@i[3]: 2\n@i[-1]: 5\n@i[-7]: 9\n", report.map("i", { { key = -7, value = 9 },
      { key = 3, value = 2 }, { key = -1, value = 5 } }, "value"))
    assert.equal("@s[x, -3]: 100000\n", report.map("s", { { key = { "a b", 2 }, value = 7 },
      { key = { "x", -3 }, value = 1000000 } }, "sum", { top = 1, div = 10 }))
    assert.equal("@h[1]: \n\n@h[2]: \n\n",
      report.map("h", { { key = 2, value = {} }, { key = 1, value = {} } }, "hist"))
    assert.equal("\n", report.map("e", {}, "count"))
    assert.equal("\n", report.map("e", {}, "hist"))
    assert.equal("\n\n@a: 1\n\n@b: 1\n", report.at_exit { { name = "b", kind = "count", entries = { { value = 1 } } },
      { name = "a", kind = "avg", entries = { { value = { sum = 1, count = 1 } } } } })
  end)

  it("numbers log2 buckets over all 64 bits, labelled as bpftrace 0.20 labels them", function()
    assert.same({ 0, 1, 2, 3, 3, 4, 11, 33, 34, 42, 64, 0 },
      { report.hist_index(-1), report.hist_index(0), report.hist_index(1), report.hist_index(2),
        report.hist_index(3), report.hist_index(4), report.hist_index(1023), report.hist_index((1 << 32) - 1),
        report.hist_index(1 << 32), report.hist_index(1 << 40), report.hist_index(math.maxinteger),
        report.hist_index(math.mininteger) })
    assert.equal("[1T, 2T)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n" ..
                 "[2T, 4T)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      report.hist { [42] = 1, [43] = 2 })
    assert.equal("[512T, 1P)             3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      report.hist { [51] = 3 })
    assert.equal("[4E, 8E)               7 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
      report.hist { [64] = 7 })
  end)

  it("keys: tuples, single values, none, and components shown by key_format", function()
    assert.equal("[bash, 12]", report.key { "bash", 12 })
    assert.equal("[-3]", report.key(-3))
    assert.equal("", report.key(nil))
    assert.equal("[getppid, 7]", report.key({ 110, 7 }, function(_, i) if i == 1 then return "getppid" end end))
    assert.equal("@[getppid]: 5\n", report.map("", { { key = 110, value = 5 } }, "count",
      { key_format = function(k) return k == 110 and "getppid" or nil end }))
  end)

  it("sorts as bpftrace does and keeps the top n", function()
    local e = { { key = "a", value = 3 }, { key = "b", value = 1 }, { key = "c", value = 2 } }
    local s = report.sorted(e, "count", { top = 2 })
    assert.same({ "c", "a" }, { s[1].key, s[2].key })
    -- counts are unsigned: 2^63 and above sort last and print as such
    assert.equal("@n[small]: 1\n@n[huge]: 18446744073709551615\n",
      report.map("n", { { key = "huge", value = -1 }, { key = "small", value = 1 } }, "count"))
    -- hist maps by total count; ties by the key's bytes (little-endian integers)
    local h = report.sorted({ { key = 256, value = { [3] = 1 } }, { key = 1, value = { [3] = 1 } },
      { key = 2, value = { [2] = 5 } } }, "hist")
    assert.same({ 256, 1, 2 }, { h[1].key, h[2].key, h[3].key })
  end)

  it("raises on misuse at the caller's line", function()
    assert.has_error(function() report.map("x", {}, "median") end,
      "report.map: unknown map kind median (one of avg, count, hist, lhist, max, min, sum, value)")
    assert.has_error(function() report.lhist({}, 10, 5, 1) end,
      "report.lhist: min must be less than max (min 10, max 5)")
    assert.has_error(function() report.lhist({}, 0, 10, 0) end, "report.lhist: step must be >= 1 (0 given)")
    assert.has_error(function() report.hist { [65] = 1 } end, "report.hist: bucket 65 is outside 0..64")
    assert.has_error(function() report.map("x", { { key = 1, value = 1.5 } }, "sum") end,
      "report.map: a sum map's values are integers, got 1.5")
    assert.has_error(function() report.map("x", { { key = {}, value = 1 } }, "lhist") end,
      "report.map: an lhist map needs opts.lhist = {min =, max =, step =}")
    assert.has_error(function() report.key { true } end,
      "report: key component 1 is a boolean (true); integers and strings print, other values need opts.key_format")
  end)
end)

------------------------------------------------------------------------------
-- Data sets for bpftrace
------------------------------------------------------------------------------

local rnd = math.random
local function pick(t) return t[rnd(#t)] end

local function random_string(n)
  local chars = "abcdefghijklmnopqrstuvwxyz0123456789_ -"
  n = n or rnd(1, 10)
  local s = {}
  for i = 1, n do
    local c = rnd(#chars)
    s[i] = chars:sub(c, c)
  end
  return table.concat(s)
end

-- Integers across magnitudes and signs, below `limit` in absolute value.
local function random_int(limit, nonneg)
  local bits = rnd(0, 62)
  local v = rnd(0, (1 << bits) - 1)
  if v >= limit then v = v % limit end
  if not nonneg and rnd(3) == 1 then v = -v end
  return v
end

-- A bpftrace literal for a key component.
local function literal(k)
  if type(k) == "string" then return '"' .. k .. '"' end
  return ("%d"):format(k)
end

local SHAPES = { {}, { "int" }, { "str" }, { "int", "str" }, { "str", "int", "int" } }

-- String keys of 7 or 15 letters: with other lengths, bpftrace 0.17 sometimes builds a BEGIN
-- program the verifier refuses ("misaligned stack access"). Some 15-letter keys extend a
-- 7-letter one, so that a prefix sorts before its extensions.
local function key_string(previous)
  if #previous > 0 and rnd(3) == 1 then
    local p = pick(previous)
    return #p == 7 and p .. random_string(8) or p:sub(1, 7)
  end
  return random_string(pick { 7, 15 })
end

local function random_keys(shape, n)
  if #shape == 0 then return { {} } end
  local keys, seen, strings = {}, {}, {}
  while #keys < n do
    local k = {}
    for i, t in ipairs(shape) do
      if t == "int" then
        k[i] = random_int(1 << 40)
      else
        k[i] = key_string(strings)
        strings[#strings + 1] = k[i]
      end
    end
    local id = table.concat(k, "\0")
    if not seen[id] then
      seen[id] = true
      keys[#keys + 1] = k
    end
  end
  return keys
end

local function key_text(name, k)
  if #k == 0 then return "@" .. name end
  local parts = {}
  for i, c in ipairs(k) do parts[i] = literal(c) end
  return "@" .. name .. "[" .. table.concat(parts, ", ") .. "]"
end

-- Values for one key, and what the map holds after them; `ranks` makes ranks distinct
-- where bpftrace's order of ties is its hash table's.
local GEN = {}
GEN.count = function(stmts, target, used)
  local c
  repeat c = rnd(1, 25) until not used[c]
  used[c] = true
  for _ = 1, c do stmts[#stmts + 1] = target .. " = count();" end
  return c
end
GEN.sum = function(stmts, target, used)
  local total
  repeat
    local vs = {}
    total = 0
    for i = 1, rnd(1, 3) do
      vs[i] = random_int(1 << 50)
      total = total + vs[i]
    end
    if not used[total] then
      for _, v in ipairs(vs) do stmts[#stmts + 1] = ("%s = sum(%d);"):format(target, v) end
    end
  until not used[total]
  used[total] = true
  return total
end
-- bpftrace 0.17 keeps min as 0xffffffff - v in a map whose missing entries read 0, and
-- max with 0 for missing: min works for v < 2^32 - 1, max for v >= 0.
GEN.min = function(stmts, target, used)
  local m
  repeat
    local vs, lo = {}, math.maxinteger
    for i = 1, rnd(1, 3) do
      vs[i] = rnd(-(1 << 31), (1 << 32) - 2)
      lo = math.min(lo, vs[i])
    end
    m = lo
    if not used[m] then
      for _, v in ipairs(vs) do stmts[#stmts + 1] = ("%s = min(%d);"):format(target, v) end
    end
  until not used[m]
  used[m] = true
  return m
end
GEN.max = function(stmts, target, used)
  local m
  repeat
    local vs, hi = {}, -1
    for i = 1, rnd(1, 3) do
      vs[i] = random_int(1 << 50, true)
      hi = math.max(hi, vs[i])
    end
    m = hi
    if not used[m] then
      for _, v in ipairs(vs) do stmts[#stmts + 1] = ("%s = max(%d);"):format(target, v) end
    end
  until not used[m]
  used[m] = true
  return m
end
GEN.avg = function(stmts, target, used, nkeys)
  local sum, count, a
  repeat
    local vs = {}
    sum, count = 0, rnd(1, 4)
    for i = 1, count do
      vs[i] = random_int(1 << 40)
      sum = sum + vs[i]
    end
    a = sum // count
    if sum < 0 and sum % count ~= 0 then a = a + 1 end
    if not used[a] or nkeys <= 16 then
      for _, v in ipairs(vs) do stmts[#stmts + 1] = ("%s = avg(%d);"):format(target, v) end
    end
  until not used[a] or nkeys <= 16 -- ties keep the key's byte order only up to 16 entries
  used[a] = true
  return { sum = sum, count = count }
end
GEN.value = function(stmts, target, used, _, map)
  if map.strings then
    local s = random_string()
    stmts[#stmts + 1] = ("%s = %s;"):format(target, literal(s))
    return s
  end
  local v
  repeat v = random_int(1 << 62) until not used[v]
  used[v] = true
  if rnd(2) == 1 then stmts[#stmts + 1] = ("%s = %d;"):format(target, random_int(1000)) end -- overwritten
  stmts[#stmts + 1] = ("%s = %d;"):format(target, v)
  return v
end
local function hist_values(stmts, target, used, nkeys, call, index)
  local counts, total
  repeat
    local vs = {}
    counts, total = {}, 0
    for i = 1, rnd(1, 30) do
      local v = call.value()
      vs[i] = v
      local b = index(v)
      counts[b] = (counts[b] or 0) + 1
      total = total + 1
    end
    if not used[total] or nkeys <= 16 then
      for _, v in ipairs(vs) do stmts[#stmts + 1] = call.text(target, v) end
    end
  until not used[total] or nkeys <= 16
  used[total] = true
  return counts
end
GEN.hist = function(stmts, target, used, nkeys)
  -- bpftrace 0.17 puts every value from 2^32 up in one bucket: stay below
  local call = {
    value = function()
      local r = rnd(10)
      if r == 1 then return 0 end
      if r == 2 then return -rnd(1, 1 << 40) end
      return rnd(1, (1 << rnd(1, 32)) - 1)
    end,
    text = function(target_, v) return ("%s = hist(%d);"):format(target_, v) end,
  }
  return hist_values(stmts, target, used, nkeys, call, report.hist_index)
end
GEN.lhist = function(stmts, target, used, nkeys, map)
  local l = map.opts.lhist
  local call = {
    value = function()
      local r = rnd(8)
      if r == 1 then return l.min - rnd(1, 3 * l.step) end
      if r == 2 then return l.max + rnd(0, 3 * l.step) end
      if r == 3 then return l.max end
      return rnd(l.min, l.max)
    end,
    text = function(target_, v) return ("%s = lhist(%d, %d, %d, %d);"):format(target_, v, l.min, l.max, l.step) end,
  }
  return hist_values(stmts, target, used, nkeys, call,
    function(v) return report.lhist_index(v, l.min, l.max, l.step) end)
end

local KIND_LIST = { "count", "sum", "min", "max", "avg", "value", "value", "hist", "hist", "lhist", "lhist" }

local function random_lhist()
  local step = pick { 1, 2, 5, 10, 64, 100, 512, 1024, 4096 }
  local n = rnd(1, 30)
  local min = pick { 0, 0, rnd(0, 1000), 1024 * rnd(0, 8), 1048576 * rnd(0, 3) }
  local max = min + n * step
  if rnd(4) == 1 then max = max + rnd(0, step - 1) end -- (max - min) not a multiple of step
  return { min = min, max = max, step = step }
end

-- A data set: maps of random kinds and keys, the BEGIN block that fills them, prints
-- with top and div, and our text for all of it.
local function data_set(seed)
  math.randomseed(seed)
  local stmts, maps, names = {}, {}, {}
  for _ = 1, rnd(3, 7) do
    local name
    repeat name = rnd(8) == 1 and "" or random_string():gsub("[^%a]", "") until not names[name]
    names[name] = true
    local kind = pick(KIND_LIST)
    local shape = pick(SHAPES)
    local nkeys = #shape == 0 and 1 or rnd(1, pick { 4, 12, 16, 24 })
    local map = { name = name, kind = kind, entries = {}, opts = {}, strings = kind == "value" and rnd(2) == 1 }
    if kind == "lhist" then map.opts.lhist = random_lhist() end
    local used = {}
    for _, k in ipairs(random_keys(shape, nkeys)) do
      local v = GEN[kind](stmts, key_text(name, k), used, nkeys, map)
      map.entries[#map.entries + 1] = { key = #k > 0 and k or nil, value = v }
    end
    maps[#maps + 1] = map
  end
  local want = {}
  for _ = 1, rnd(0, 3) do
    local m = pick(maps)
    local top, div = pick { 0, 0, 1, 2, 5 }, pick { 0, 1, 1, 3, 1000 }
    stmts[#stmts + 1] = ("print(@%s, %d, %d);"):format(m.name, top, div)
    want[#want + 1] = report.map(m.name, m.entries, m.kind,
      { top = top, div = div, lhist = m.opts.lhist })
  end
  want[#want + 1] = report.at_exit(maps)
  return "BEGIN {\n  " .. table.concat(stmts, "\n  ") .. "\n  exit();\n}\n", table.concat(want)
end

local SEEDS = tonumber(os.getenv("EBPFDSL_REPORT_SEEDS") or "") or 16

describe("report against bpftrace", function()
  env.it(("prints %d seeded data sets of every map kind as bpftrace does"):format(SEEDS), { "bpf", "bpftrace" },
    function()
      local dir = env.tmpdir()
      for seed = 1, SEEDS do
        local prog, want = data_set(seed)
        local path = dir .. "/set" .. seed .. ".bt"
        local f = assert(io.open(path, "w"))
        f:write(prog)
        f:close()
        local out = env.run("bpftrace " .. path .. " 2>/dev/null")
        local got = out:gsub("^Attaching 1 probe%.%.%.\n", "")
        if got ~= want then
          error(("seed %d (%s): %s"):format(seed, path, first_difference(got, want)), 0)
        end
      end
      env.run("rm -rf " .. dir)
    end)

  env.it("puts each value in the log2 bucket bpftrace gives it, below 2^32, and scales bars as it does",
    { "bpf", "bpftrace" }, function()
    math.randomseed(4242)
    -- four maps of 16 keys: bpftrace orders ties by key only up to 16 entries
    local stmts, maps = {}, {}
    for i = 1, 64 do
      local v = i <= 33 and (1 << (i - 1)) - 1 or rnd(-(1 << 40), (1 << 32) - 1)
      local name = "h" .. (i - 1) // 16
      stmts[#stmts + 1] = ("@%s[%d] = hist(%d);"):format(name, i, v)
      if i % 16 == 1 then maps[#maps + 1] = { name = name, kind = "hist", entries = {} } end
      table.insert(maps[#maps].entries, { key = i, value = { [report.hist_index(v)] = 1 } })
    end
    -- bars where single and double precision disagree: 15 of 26 is 30 '@' in bpftrace, not 29
    for i, p in ipairs { { 15, 26 }, { 15, 52 }, { 45, 78 }, { 30, 104 }, { 7, 9 } } do
      local name = "bar" .. i
      for _ = 1, p[1] do stmts[#stmts + 1] = ("@%s = hist(1);"):format(name) end
      for _ = 1, p[2] do stmts[#stmts + 1] = ("@%s = hist(2);"):format(name) end
      maps[#maps + 1] = { name = name, kind = "hist", entries = { { value = { [2] = p[1], [3] = p[2] } } } }
    end
    local want = report.at_exit(maps)
    local out = env.run("bpftrace -e 'BEGIN { " .. table.concat(stmts, " ") .. " exit(); }' 2>/dev/null")
    local got = out:gsub("^Attaching 1 probe%.%.%.\n", "")
    assert(got == want, first_difference(got, want))
  end)
end)
