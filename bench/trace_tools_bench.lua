-- SPDX-License-Identifier: MIT
-- The ebpfdsl.trace tools: from starting `lua5.4 tools/NAME.lua -p 1` to its
-- header line (printed once its probes are attached), against the C libbpf
-- probe of startup_bench (build/bench/startup_probe) from start to attached;
-- and, in this process, the time to compile each tool's probes: running the
-- bodies on symbolic values, then clean-up, register allocation and
-- instruction tables, against clang-19 compiling opensnoop's probe written
-- in C (bench/bpf/opensnoop.c), with the instructions of each. Medians.
-- Needs root and tracefs (clang-19 for its baseline).
package.path = "spec/?.lua;" .. package.path
local lib = require "lib"
local core = require "ebpfdsl.core"
local ts = require "support.tool_session"

local RUNS = 15
-- funclatency times a function of the C baseline's own binary
local TOOLS = { { "opensnoop" }, { "execsnoop" }, { "exitsnoop" }, { "killsnoop" }, { "syscount" }, { "readhist" },
                { "funclatency", "build/bench/startup_probe", "main" }, { "tcpconnect" }, { "runqlat" },
                { "profile" } }

local function median(list)
  table.sort(list)
  local n = #list
  return n % 2 == 1 and list[(n + 1) // 2] or (list[n // 2] + list[n // 2 + 1]) / 2
end

local function tool_start(t)
  local t0 = lib.now_ns()
  local p = assert(io.popen(("exec lua5.4 tools/%s.lua -p 1 -d 0.01 %s"):format(t[1], table.concat(t, " ", 2))))
  local header = p:read("l")
  local dt = lib.now_ns() - t0
  p:read("a")
  assert(p:close(), t[1] .. " failed")
  assert(header, t[1] .. " printed no header")
  return dt
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

-- A probe's declaration arguments, to declare it again in its session.
local function target_of(pr)
  if pr.kind == "tracepoint" then return pr.category .. ":" .. pr.tpname end
  if pr.kind == "rawtracepoint" then return pr.tpname end
  if pr.kind == "profile" then return pr.hz end
  if pr.kind == "uprobe" or pr.kind == "uretprobe" then return pr.binary, pr.func end
  return pr.func
end

-- Medians over runs of the bodies' run (build) and the code generation of
-- all the tool's probes, in ns, and their instructions. The tool's maps
-- are made once first: what is timed is the compiler, not the kernel.
local function compile_times(t)
  local S, _, opts = ts.load(t[1], { "-p", 1, table.unpack(t, 2) })
  local n = 0
  for _, pr in ipairs(S.probes()) do
    pr:build(opts)
    n = n + ts.count(pr:insns())
  end
  local probes = require "ebpfdsl._trace_probes"
  local builds, gens = {}, {}
  for _ = 1, 30 do
    local b, g = 0, 0
    for _, pr in ipairs(S.probes()) do
      local again = probes.new(S._state, pr.kind, pr.body, target_of(pr))
      local t0 = core.monotime_ns()
      again:build(opts)
      local t1 = core.monotime_ns()
      again:insns()
      b, g = b + t1 - t0, g + core.monotime_ns() - t1
    end
    builds[#builds + 1], gens[#gens + 1] = b, g
  end
  return median(builds), median(gens), n
end

-- clang-19 on opensnoop's probe in C: ns, and the instructions it made.
local function clang_compile()
  if not os.execute("command -v clang-19 >/dev/null 2>&1") then return nil end
  local out = os.tmpname()
  local cmd = "clang-19 -O2 -target bpf -I/usr/include/$(uname -m)-linux-gnu -c bench/bpf/opensnoop.c -o " .. out
  local times = {}
  for _ = 1, 5 do
    local t0 = lib.now_ns()
    assert(os.execute(cmd), cmd)
    times[#times + 1] = lib.now_ns() - t0
  end
  local p = assert(io.popen("llvm-objdump-19 -d " .. out))
  local n = 0
  for line in p:lines() do
    local bytes = line:match("^%s+%d+:%s+(%x%x[%x ]+)\t")
    if bytes then n = n + #bytes:gsub(" ", "") // 16 end
  end
  p:close()
  os.remove(out)
  return median(times), n
end

print(("(load average: %s)"):format((io.open("/proc/loadavg"):read("l"):match("^(%S+ %S+ %S+)"))))
tool_start(TOOLS[1]) -- warm the page cache
c_attach()
for _, t in ipairs(TOOLS) do
  local lua_t, c_t = {}, {}
  for _ = 1, RUNS do
    lua_t[#lua_t + 1] = tool_start(t)
    c_t[#c_t + 1] = c_attach()
  end
  lib.report_time(("tools/%s.lua: start to header (attached)"):format(t[1]), median(lua_t), median(c_t),
    "C libbpf attach")
end
local clang_ns, clang_n = clang_compile()
for _, t in ipairs(TOOLS) do
  local b, g, n = compile_times(t)
  -- (report_time's two decimals would round these ratios to 0)
  print(("%-48s %10.3f ms        baseline %-24s %10.3f ms  ratio %.5f"):format(
    ("compile %s's probes (%d insns)"):format(t[1], n), (b + g) / 1e6,
    clang_ns and ("clang-19 opensnoop (%d)"):format(clang_n) or "(no clang-19)", (clang_ns or 0) / 1e6,
    clang_ns and (b + g) / clang_ns or 0))
  print(("%-48s body %.3f ms, codegen %.3f ms"):format("", b / 1e6, g / 1e6))
end
