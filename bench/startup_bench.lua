-- SPDX-License-Identifier: MIT
-- Startup: from starting `lua5.4 bench/startup_probe.lua` to its attached
-- tracepoint probe (syscalls/sys_enter_openat) having received its first
-- event, against the same probe in C with libbpf (build/bench/startup_probe).
-- Each probe prints when each step was done (CLOCK_MONOTONIC); times count
-- from just before the process is started; medians of alternating runs.
-- Needs root and tracefs.
local lib = require "lib"

local RUNS = 21
local STEPS = { "map_ns", "load_ns", "attach_ns", "event_ns", "rss_kb" }

local function run(cmd)
  local t0 = lib.now_ns()
  local p = assert(io.popen(cmd))
  local out = {}
  for line in p:lines() do
    local k, v = line:match("^(%S+)%s+(%d+)$")
    if k then out[k] = k:match("_ns$") and tonumber(v) - t0 or tonumber(v) end
  end
  assert(p:close(), cmd .. " failed")
  for _, s in ipairs(STEPS) do assert(out[s], cmd .. " printed no " .. s) end
  return out
end

local function median(list)
  table.sort(list)
  local n = #list
  return n % 2 == 1 and list[(n + 1) // 2] or (list[n // 2] + list[n // 2 + 1]) / 2
end

local LUA_CMD = "exec lua5.4 bench/startup_probe.lua"
local C_CMD = "exec build/bench/startup_probe"

run(LUA_CMD) -- warm the page cache and the tracepoint's first enabling
run(C_CMD)
local lua_t, c_t = {}, {}
for _, s in ipairs(STEPS) do lua_t[s], c_t[s] = {}, {} end
for _ = 1, RUNS do
  local l, c = run(LUA_CMD), run(C_CMD)
  for _, s in ipairs(STEPS) do
    table.insert(lua_t[s], l[s])
    table.insert(c_t[s], c[s])
  end
end

-- What the interpreter alone holds (lua5.4 and its libraries) and the time
-- from starting it to its first line of output; then the same with the C
-- core loaded (dlopen of core.so, libbpf, libelf, libz, and luaopen), no
-- Lua module, no kernel call: for scale, the floors under the probe's
-- figures that no Lua code of ours can go below.
local RSS_NOW = [[local n = 0 for l in io.lines("/proc/self/smaps") do
  n = n + (tonumber(l:match("^Rss:%s+(%d+)")) or 0) end print(n)]]
local CORE = [[package.cpath = "build/?.so;" .. package.cpath require "ebpfdsl.core" ]]
local function floor(code)
  local times, kbs = {}, {}
  for _ = 1, RUNS do
    local t0 = lib.now_ns()
    local p = assert(io.popen("exec lua5.4 -e '" .. code .. "print(1)'"))
    assert(p:read("l") == "1")
    times[#times + 1] = lib.now_ns() - t0
    p:close()
    p = assert(io.popen("exec lua5.4 -e '" .. code .. RSS_NOW .. "'"))
    kbs[#kbs + 1] = tonumber(p:read("l"))
    p:close()
  end
  return times, kbs
end
local bare_ns, bare = floor("")
local core_ns, core_kb = floor(CORE)

local base = "C libbpf"
lib.report_time("startup to first tracepoint event (lua5.4)", median(lua_t.event_ns), median(c_t.event_ns), base,
  { op = "<=", value = 1.3 })
lib.report_time("  of which: start to ring buffer created", median(lua_t.map_ns), median(c_t.map_ns), base)
lib.report_time("  start to program built and loaded", median(lua_t.load_ns), median(c_t.load_ns), base)
lib.report_time("  start to tracepoint attached", median(lua_t.attach_ns), median(c_t.attach_ns), base)
lib.report_time("  the bare interpreter, start to its first line", median(bare_ns), median(c_t.event_ns), base)
lib.report_time("  the interpreter with core.so loaded, likewise", median(core_ns), median(c_t.event_ns), base)
print(("%-48s %10.0f kB        baseline %-24s %10.0f kB  ratio %.2f  target <=3072 kB %s"):format(
  "RSS at first event, ring pages excluded", median(lua_t.rss_kb), "C libbpf", median(c_t.rss_kb),
  median(lua_t.rss_kb) / median(c_t.rss_kb), median(lua_t.rss_kb) <= 3072 and "met" or "NOT met"))
print(("%-48s %10.0f kB"):format("  of which the bare interpreter (lua5.4 -e)", median(bare)))
print(("%-48s %10.0f kB"):format("  the interpreter with core.so loaded", median(core_kb)))
