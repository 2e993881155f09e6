-- SPDX-License-Identifier: MIT
-- The one gate for specs that need the machine: the kernel (BPF, tracefs,
-- uprobes, network namespaces) or an oracle tool (llvm-mc-19, clang-19,
-- gcc). Without it a spec is reported pending with the reason; when
-- EBPFDSL_REQUIRE_KERNEL=1 (set by .ci/run) a missing need is a failure,
-- so CI cannot pass by skipping.
local busted = require "busted"

local M = {}

M.required = os.getenv("EBPFDSL_REQUIRE_KERNEL") == "1"

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

probes.bpf = function()
  local ok, why = probes.root()
  if not ok then return false, why end
  local core = require "ebpfdsl.core"
  local bytes = core.assemble { { op = "mov", dst = "r0", imm = 0 }, { op = "exit" } }
  local prog, msg = core.prog_load("socket_filter", bytes, { name = "probe" })
  if not prog then return false, "cannot load a BPF program: " .. tostring(msg) end
  prog:close()
  return true
end

probes.tracefs = function()
  if file_exists("/sys/kernel/tracing/events/syscalls/sys_enter_openat/format") then return true end
  sh_ok("mount -t tracefs nodev /sys/kernel/tracing")
  if file_exists("/sys/kernel/tracing/events/syscalls/sys_enter_openat/format") then return true end
  return false, "tracefs with syscall tracepoints is not available at /sys/kernel/tracing"
end

probes.uprobe = function()
  if file_exists("/sys/bus/event_source/devices/uprobe/type") then return true end
  return false, "the kernel has no uprobe PMU (/sys/bus/event_source/devices/uprobe)"
end

probes.btf = function()
  if file_exists("/sys/kernel/btf/vmlinux") then return true end
  return false, "no kernel BTF at /sys/kernel/btf/vmlinux"
end

probes.netns = function()
  local ok, why = probes.root()
  if not ok then return false, why end
  local name = "ebpfdsl_probe_" .. tostring(os.time())
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
                     "bpftrace", "nm", "readelf" } do
  probes[t] = tool(t)
end

-- The kprobe family (support/kernel_features.lua): needs a kernel may
-- refuse. A refused one makes its specs pending and reported as refused,
-- not failed, unless EBPFDSL_REQUIRE_FEATURES lists it (make vmtest does).
local features = require "support.kernel_features"
for name, probe in pairs(features.probes) do probes[name] = probe end
M.features = features
M.demanded = {}
for name in (os.getenv("EBPFDSL_REQUIRE_FEATURES") or ""):gmatch("[^,%s]+") do M.demanded[name] = true end

local cache = {}
M._cache = cache

-- has(what) -> true | false, reason
function M.has(what)
  if cache[what] == nil then
    local probe = probes[what] or error("env.has: unknown need '" .. tostring(what) .. "'")
    local ok, why = probe()
    cache[what] = { ok = ok and true or false, why = why }
  end
  return cache[what].ok, cache[what].why
end

-- What is missing among needs (a name or a list), or nil; and its name.
function M.missing(needs)
  if type(needs) == "string" then needs = { needs } end
  for _, what in ipairs(needs) do
    local ok, why = M.has(what)
    if not ok then return what .. ": " .. why, what end
  end
  return nil
end

-- it(name, needs, fn): busted's `it` when the needs are met; otherwise
-- pending with the reason, or a failing spec when the run requires them.
function M.it(name, needs, fn)
  local missing, what = M.missing(needs)
  if not missing then return busted.it(name, fn) end
  if features.probes[what] and not M.demanded[what] then
    return busted.pending(name .. " [refused by this kernel: " .. missing .. "]")
  end
  if M.required or M.demanded[what] then
    local by = M.demanded[what] and "EBPFDSL_REQUIRE_FEATURES" or "EBPFDSL_REQUIRE_KERNEL=1"
    return busted.it(name, function() error("required by " .. by .. " but missing: " .. missing, 0) end)
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
