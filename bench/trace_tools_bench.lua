-- SPDX-License-Identifier: MIT
-- The ebpfdsl.trace tools: from starting `lua5.4 tools/NAME.lua -p 1` to its
-- header line (printed once its probes are attached), against the C libbpf
-- probe of startup_bench (build/bench/startup_probe) from start to attached;
-- and, in this process, the time to compile each tool's probe: running the
-- body on symbolic values (build), then clean-up, register allocation and
-- instruction tables (codegen), its maps already made. Medians.
-- Needs root and tracefs.
local lib = require "lib"
local core = require "ebpfdsl.core"

local RUNS = 15
local TOOLS = { "opensnoop", "syscount", "readhist" }

local function median(list)
  table.sort(list)
  local n = #list
  return n % 2 == 1 and list[(n + 1) // 2] or (list[n // 2] + list[n // 2 + 1]) / 2
end

local function tool_start(name)
  local t0 = lib.now_ns()
  local p = assert(io.popen("exec lua5.4 tools/" .. name .. ".lua -p 1 -d 0.01"))
  local header = p:read("l")
  local t = lib.now_ns() - t0
  p:read("a")
  assert(p:close(), name .. " failed")
  assert(header, name .. " printed no header")
  return t
end

local function c_attach()
  local t0 = lib.now_ns()
  local p = assert(io.popen("exec build/bench/startup_probe"))
  local attach
  for line in p:lines() do
    local v = line:match("^attach_ns%s+(%d+)$")
    if v then attach = tonumber(v) - t0 end
  end
  assert(p:close())
  return assert(attach)
end

-- The probes of each tool, as the tools write them: kind, target, body.
local PROBES = {
  opensnoop = function(T)
    return "tracepoint", "syscalls:sys_enter_openat", function(p)
      T.printf("%-7d %-16s %s\n", p.pid, p.comm, p.str(p.args.filename, 256))
    end
  end,
  syscount = function(T)
    return "tracepoint", "raw_syscalls:sys_enter", function(p)
      T.maps.calls[{ p.comm, T.syscall_name(p.args.id) }] = T.count()
    end
  end,
  readhist = function(T)
    return "tracepoint", "syscalls:sys_exit_read", function(p) T.maps.bytes = T.hist(p.args.ret) end
  end,
}

-- Medians of the body's run and of the code generation, in ns, and the
-- program's instruction count.
local function compile_times(name)
  local T = require("ebpfdsl.trace").new()
  local insns = T.compile(PROBES[name](T)) -- once: the maps and the ring are made
  local builds, gens = {}, {}
  for _ = 1, 30 do
    local kind, target, body = PROBES[name](T)
    local pr = T[kind](target, body)
    local t0 = core.monotime_ns()
    pr:build()
    local t1 = core.monotime_ns()
    pr:insns()
    local t2 = core.monotime_ns()
    builds[#builds + 1], gens[#gens + 1] = t1 - t0, t2 - t1
  end
  local n = 0
  for _, x in ipairs(insns) do if x.op ~= "label" then n = n + 1 end end
  return median(builds), median(gens), n
end

tool_start("readhist") -- warm the page cache
c_attach()
for _, name in ipairs(TOOLS) do
  local lua_t, c_t = {}, {}
  for _ = 1, RUNS do
    lua_t[#lua_t + 1] = tool_start(name)
    c_t[#c_t + 1] = c_attach()
  end
  lib.report_time(("tools/%s.lua: start to header (attached)"):format(name), median(lua_t), median(c_t),
    "C libbpf attach")
end
for _, name in ipairs(TOOLS) do
  local b, g, n = compile_times(name)
  print(("%-48s body %.3f ms, codegen %.3f ms (%d instructions)"):format("compile " .. name .. "'s probe", b / 1e6,
    g / 1e6, n))
end
