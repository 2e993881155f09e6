-- SPDX-License-Identifier: MIT
-- The one gate for specs that need the machine: the kernel (BPF, tracefs,
-- uprobes, network namespaces) or an oracle tool (llvm-mc-19, clang-19,
-- gcc). A missing tool or privilege makes a spec pending with the reason
-- (a failure when EBPFDSL_REQUIRE_KERNEL=1, set by .ci/run). A kernel
-- feature ("map:arena", "prog:kprobe", "attach:uprobe", as
-- ebpfdsl.features names them) that the kernel refuses makes the spec
-- refused: not run, not failed, listed with the reason in the feature
-- table the run ends with (spec/support/no_pending.lua); only the core set
-- (env.CORE) must be there when EBPFDSL_REQUIRE_KERNEL=1, and the features
-- EBPFDSL_REQUIRE_FEATURES names (make vmtest: the kprobe family) whenever
-- it is set. A need "!attach:kprobe" is a spec of what happens where the
-- kernel refuses attach:kprobe: it runs only there.
local busted = require "busted"

local M = {}

M.required = os.getenv("EBPFDSL_REQUIRE_KERNEL") == "1"

-- This process's id (Lua has no getpid), and names no other run shares,
-- for pins, cgroups and namespaces: math.random is no help, since specs
-- seed it with fixed values and every run then draws the same numbers.
M.pid = math.tointeger(io.open("/proc/self/stat"):read("n"))
local seq = 0
function M.unique(prefix)
  seq = seq + 1
  return ("%s%d_%d"):format(prefix, M.pid, seq)
end

local function sh_ok(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  return ok == true or ok == 0
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local probes = {}

probes.root = function()
  local p = io.popen("id -u")
  local uid = p:read("l")
  p:close()
  if uid == "0" then return true end
  return false, "not running as root (uid " .. tostring(uid) .. ")"
end

-- BPF at all: root, and the kernel loads a socket filter.
probes.bpf = function()
  local ok, why = probes.root()
  if not ok then return false, why end
  return require("ebpfdsl.features").check("prog:socket_filter")
end

probes.tracefs = function()
  if file_exists("/sys/kernel/tracing/events/syscalls/sys_enter_openat/format") then return true end
  sh_ok("mount -t tracefs nodev /sys/kernel/tracing")
  if file_exists("/sys/kernel/tracing/events/syscalls/sys_enter_openat/format") then return true end
  return false, "tracefs with syscall tracepoints is not available at /sys/kernel/tracing"
end


probes.netns = function()
  local ok, why = probes.root()
  if not ok then return false, why end
  local name = "ebpfdsl_probe_" .. M.pid
  if sh_ok("ip netns add " .. name) then
    sh_ok("ip netns del " .. name)
    return true
  end
  return false, "cannot create a network namespace with ip netns"
end

probes.luasocket = function()
  if pcall(require, "socket") then return true end
  return false, "LuaSocket for Lua 5.4 is not installed (Debian package lua-socket)"
end

probes.cgroup2 = function()
  local f = io.open("/proc/self/mounts")
  local text = f and f:read("a") or ""
  if f then f:close() end
  if text:find(" cgroup2 ") then return true end
  return false, "no cgroup2 file system is mounted"
end

-- scapy (Debian's python3-scapy) for Debian's python3: the packet specs' oracle
probes.scapy = function()
  if sh_ok("/usr/bin/python3 -c 'import scapy.all'") then return true end
  return false, "scapy is not installed for /usr/bin/python3 (Debian package python3-scapy; make deps installs it)"
end

-- gcc's AddressSanitizer, for spec/support/asan.lua
probes.asan = function()
  local p = io.popen("cc -print-file-name=libasan.so 2>/dev/null")
  local path = p and p:read("l")
  if p then p:close() end
  if path and path:sub(1, 1) == "/" and file_exists(path) then return true end
  return false, "the C compiler has no AddressSanitizer runtime (Debian package libasan8 with gcc)"
end

local function tool(name)
  return function()
    if sh_ok("command -v " .. name) then return true end
    return false, name .. " is not installed (make deps installs it)"
  end
end
for _, t in ipairs { "llvm-mc-19", "llvm-objdump-19", "clang-19", "gcc", "bpftool", "strace", "ss", "unshare",
                     "luarocks", "apt-cache", "bpftrace", "nm", "readelf", "pkg-config" } do
  probes[t] = tool(t)
end

-- An older name of a kernel feature, kept for the specs that use it.
local ALIAS = { uprobe = "attach:uprobe" }

-- The kernel features a run with EBPFDSL_REQUIRE_KERNEL=1 cannot do
-- without (issue 7): a kernel refusing one of these fails the run.
M.CORE = {
  "map:hash", "map:array", "map:percpu_hash", "map:percpu_array", "map:ringbuf", "map:perf_event_array",
  "prog:socket_filter", "prog:tracepoint", "prog:kprobe", "test_run",
  "attach:tracepoint", "attach:uprobe", "btf",
}
function M.is_core(feature)
  feature = ALIAS[feature] or feature
  for _, f in ipairs(M.CORE) do if f == feature then return true end end
  return false
end

-- The features this run may not find refused besides the core set:
-- EBPFDSL_REQUIRE_FEATURES, names separated by commas or spaces (make
-- vmtest names the kprobe family). A spec needing one fails where the
-- kernel refuses it, and the run fails if the kernel refuses one at all.
M.DEMANDED = {}
for name in (os.getenv("EBPFDSL_REQUIRE_FEATURES") or ""):gmatch("[^,%s]+") do
  M.DEMANDED[#M.DEMANDED + 1] = ALIAS[name] or name
end
function M.is_demanded(feature)
  feature = ALIAS[feature] or feature
  for _, f in ipairs(M.DEMANDED) do if f == feature then return true end end
  return false
end

-- A kernel feature, as ebpfdsl.features names it (or an alias of one),
-- or its refusal ("!attach:kprobe")?
function M.is_feature(what)
  what = what:gsub("^!", "")
  what = ALIAS[what] or what
  return what == "btf" or what == "test_run" or what:match("^[%a_]+:") ~= nil
end

-- The feature a need names: "attach:uprobe" for "uprobe" and "!uprobe".
local function feature_of(what)
  local f = what:gsub("^!", "")
  return ALIAS[f] or f
end

-- check(feature) -> true | false, why: ebpfdsl.features.check, except
-- that a map or program type the running kernel does not name (netfilter
-- on 6.1: type names past libbpf 1.1's come from the kernel's BTF) is
-- refused as unknown to it, where ebpfdsl.features raises.
function M.check(feature)
  local features = require "ebpfdsl.features"
  local ok, avail, why = pcall(features.check, feature)
  if ok then return avail, why end
  local class, name = feature:match("^(%a+):([%w_]+)$")
  if class == "map" or class == "prog" then
    return false, ("not known to this kernel: neither libbpf nor the kernel's BTF names a %s type '%s'")
      :format(class == "map" and "map" or "program", name)
  end
  error(avail, 0)
end

local cache = {}
M._cache = cache

-- has(what) -> true | false, reason, refused: a tool, a privilege or a
-- kernel feature; `refused` is true when the kernel decides (it refuses
-- the feature, or has the feature whose refusal "!feature" asks for), as
-- opposed to a missing tool or privilege.
function M.has(what)
  if cache[what] == nil then
    local ok, why, refused
    if M.is_feature(what) then
      ok, why = probes.root()
      if ok then
        local f = feature_of(what)
        ok, why = M.check(f)
        if what:sub(1, 1) == "!" then
          ok, why = not ok, ok and "this kernel has it (the spec is of kernels that refuse it)" or nil
        end
        refused = not ok
      end
    else
      local probe = probes[what] or error("env.has: unknown need '" .. tostring(what) .. "'")
      ok, why = probe()
    end
    cache[what] = { ok = ok and true or false, why = why, refused = refused or false }
  end
  return cache[what].ok, cache[what].why, cache[what].refused
end

-- What is missing among needs (a name or a list), or nil; then the
-- feature the kernel refuses, if that is what is missing.
function M.missing(needs)
  if type(needs) == "string" then needs = { needs } end
  -- tools and privileges first: without root every feature looks refused
  local first
  for pass = 1, 2 do
    for _, what in ipairs(needs) do
      if (pass == 1) ~= M.is_feature(what) then
        local ok, why, refused = M.has(what)
        if not ok then
          first = first or { what .. ": " .. why, refused and what or nil }
        end
      end
    end
    if first then return first[1], first[2] end
  end
  return nil
end

-- What the run did with each kernel feature a spec asked for:
-- record[feature] = {ran = n, refused = {spec names}, ran_refused = n,
-- has_it = {spec names}} (the last two for specs of its refusal, "!f"),
-- for the closing feature table (spec/support/feature_table.lua).
M.record = {}
-- a need that is not a feature but rests on one (root and a socket filter)
local RESTS_ON = { bpf = "prog:socket_filter" }
local function note(needs, outcome, name)
  if type(needs) == "string" then needs = { needs } end
  for _, what in ipairs(needs) do
    -- a spec not run is listed under the need that stopped it only
    if (M.is_feature(what) or RESTS_ON[what]) and (outcome == "ran" or outcome == what) then
      local f = RESTS_ON[what] or feature_of(what)
      local r = M.record[f] or { ran = 0, refused = {}, ran_refused = 0, has_it = {} }
      M.record[f] = r
      local negated = what:sub(1, 1) == "!"
      if outcome == "ran" then
        if negated then r.ran_refused = r.ran_refused + 1 else r.ran = r.ran + 1 end
      else
        local list = negated and r.has_it or r.refused
        list[#list + 1] = name
      end
    end
  end
end

-- The spec's line: env.it's caller, or the outermost caller in the same
-- file when a spec file wraps env.it in a helper of its own.
local function where()
  local level, info = 3, debug.getinfo(3, "Sl")
  if not info then return "" end
  while true do
    local up = debug.getinfo(level + 1, "Sl")
    if not up or up.short_src ~= info.short_src then break end
    level, info = level + 1, up
  end
  return " (" .. info.short_src .. ":" .. info.currentline .. ")"
end

-- it(name, needs, fn): busted's `it` when the needs are met. A missing
-- tool or privilege: pending with the reason, or a failing spec when the
-- run requires the machine. A kernel feature the kernel refuses: the spec
-- is recorded as refused (not run, not failed), unless the feature is
-- demanded (EBPFDSL_REQUIRE_FEATURES), or in the core set and the run
-- requires the machine, when it fails. A spec of a feature's refusal
-- ("!f") where the kernel has f: recorded, not run.
function M.it(name, needs, fn)
  local missing, refused = M.missing(needs)
  if not missing then
    return busted.it(name, function(...)
      note(needs, "ran")
      return fn(...)
    end)
  end
  local negated = refused and refused:sub(1, 1) == "!"
  local demanded = refused and not negated and M.is_demanded(refused)
  local core = refused and not negated and M.required and M.is_core(refused)
  if refused and not demanded and not core then
    note(needs, refused, name .. where())
    return
  end
  if M.required or demanded then
    local what = refused and "refused by this kernel" or "missing"
    local by = demanded and "EBPFDSL_REQUIRE_FEATURES" or "EBPFDSL_REQUIRE_KERNEL=1"
    return busted.it(name, function()
      error("required by " .. by .. " but " .. what .. ": " .. missing, 0)
    end)
  end
  return busted.pending(name .. " [" .. missing .. "]")
end

-- describe(name, needs, fn): the same for a whole block.
function M.describe(name, needs, fn)
  local missing = M.missing(needs)
  if not missing then return busted.describe(name, fn) end
  return busted.describe(name, function() M.it("(all of " .. name .. ")", needs, function() end) end)
end

-- Runs a shell command, returns its stdout; raises with stderr on failure.
function M.run(cmd)
  local out = os.tmpname()
  local err = os.tmpname()
  local ok = os.execute("(" .. cmd .. ") >" .. out .. " 2>" .. err)
  local f = io.open(out, "rb")
  local stdout = f:read("a")
  f:close()
  f = io.open(err, "rb")
  local stderr = f:read("a")
  f:close()
  os.remove(out)
  os.remove(err)
  if not (ok == true or ok == 0) then error(("command failed: %s\n%s%s"):format(cmd, stdout, stderr), 2) end
  return stdout
end

-- A fresh temporary directory, removed at exit of the Lua state.
function M.tmpdir()
  local d = M.run("mktemp -d /tmp/ebpfdsl-spec.XXXXXX"):gsub("%s+$", "")
  return d
end

return M
