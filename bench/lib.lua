-- SPDX-License-Identifier: MIT
-- What every benchmark shares: a monotonic clock, a runner that repeats a
-- job until it has run long enough to time, and the report line format
-- (a figure beside its baseline from the same run, and their ratio).
local core = require "ebpfdsl.core"

local M = {}

M.now_ns = core.monotime_ns

-- Runs fn(n) with growing n until it takes at least min_ms; returns the
-- rate in operations per second (fn(n) performs n operations).
function M.rate(fn, min_ms)
  min_ms = min_ms or 300
  local n = 1
  while true do
    local t0 = M.now_ns()
    fn(n)
    local dt = M.now_ns() - t0
    if dt >= min_ms * 1e6 then return n / (dt / 1e9) end
    n = n * (dt < 1e6 and 10 or 2)
  end
end

-- Runs a C baseline built by `make bench` and returns its output lines
-- as a table of key = number ("rate 1234.5" -> rate = 1234.5).
function M.c_baseline(name, args)
  local cmd = "build/bench/" .. name .. (args and (" " .. args) or "")
  local p = assert(io.popen(cmd))
  local out = {}
  for line in p:lines() do
    local k, v = line:match("^(%S+)%s+(%S+)")
    if k then out[k] = tonumber(v) end
  end
  assert(p:close(), cmd .. " failed")
  return out
end

local function human(x)
  if x >= 1e9 then return ("%.2fG"):format(x / 1e9) end
  if x >= 1e6 then return ("%.2fM"):format(x / 1e6) end
  if x >= 1e3 then return ("%.2fk"):format(x / 1e3) end
  return ("%.2f"):format(x)
end
M.human = human

-- A target of issue 9 beside a figure: ">= 9M" is met by 9.2e6.
local function target_note(value, target)
  if not target then return "" end
  local met = (target.op == ">=" and value >= target.value) or (target.op == "<=" and value <= target.value)
  return ("  target %s%s %s"):format(target.op, human(target.value), met and "met" or "NOT met")
end

-- report("assemble 4096 insns from Lua", 1.2e6, "insns/s", 5e8, "memcpy"[, {op = ">=", value = 6e6}])
-- prints the figure, the baseline and figure/baseline (and the target).
function M.report(what, value, unit, baseline, baseline_name, target)
  print(("%-48s %10s %-9s  baseline %-24s %10s  ratio %.4f%s"):format(what, human(value), unit,
    baseline_name, human(baseline), value / baseline, target_note(value, target)))
end

-- For times (lower is better): ratio is value/baseline as well; a target
-- is on the ratio.
function M.report_time(what, value_ns, baseline_ns, baseline_name, target)
  print(("%-48s %10.3f ms        baseline %-24s %10.3f ms  ratio %.2f%s"):format(what, value_ns / 1e6,
    baseline_name, baseline_ns / 1e6, value_ns / baseline_ns, target_note(value_ns / baseline_ns, target)))
end

return M
