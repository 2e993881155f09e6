-- SPDX-License-Identifier: MIT
-- The kprobe family's needs (kprobe, kretprobe, kprobe_events, kprobe_multi,
-- fentry, fexit, fmod_ret, lsm), each probed by a minimal real attempt: load
-- a trivial program, attach it, undo it. One kernel has them (Debian's 6.1
-- under make vmtest), another refuses them (no CONFIG_KPROBES, trampolines
-- refused); support/env.lua turns a refusal into a reported pending spec,
-- and a failure when EBPFDSL_REQUIRE_FEATURES names the feature.
local M = {}

-- In the order the table prints them.
M.names = { "kprobe", "kretprobe", "kprobe_events", "kprobe_multi", "fentry", "fexit", "fmod_ret", "lsm",
  "perf_link_info" }

-- What each attempts, for the table.
M.what = {
  kprobe = "kprobe on a kernel function",
  kretprobe = "kretprobe on a kernel function",
  kprobe_events = "a probe written to tracefs kprobe_events",
  kprobe_multi = "a BPF_TRACE_KPROBE_MULTI link (without it: one kprobe per function)",
  fentry = "fentry program, loaded and attached",
  fexit = "fexit program, loaded and attached",
  fmod_ret = "fmod_ret program on a security_ function",
  lsm = "BPF LSM program on file_open",
  perf_link_info = "link:info() of a perf-event link names its probe (6.6+)",
}

local function ebpf()
  local p = io.popen("id -u")
  local uid = p:read("l")
  p:close()
  if uid ~= "0" then return nil, "not running as root" end
  return require "ebpfdsl"
end

local function errname(errno)
  local ok, errnos = pcall(require, "support.errno")
  if ok and errno then
    for _, name in ipairs { "EPERM", "ENOENT", "EINVAL", "EOPNOTSUPP", "ENOTSUPP", "EACCES", "ESRCH", "EBUSY" } do
      if errnos[name] == errno then return name end
    end
  end
  return errno and ("errno " .. errno) or "no errno"
end

local function refused(msg, errno) return false, ("%s (%s)"):format(tostring(msg), errname(errno)) end

local function trivial(e, spec)
  spec.insns = { e.dsl.mov("r0", 0), e.dsl.exit() }
  spec.name = spec.name or "feature"
  return e.programs.load(spec)
end

-- The kernel function the probes (and the specs) use: getppid's, which
-- nothing on the machine calls at any rate that matters.
function M.syscall_function(e, name) return e.arch.syscall_function(name or "getppid") end

-- Loads with `spec`, then attach(prog) -> link | nil, msg, errno.
local function attempt(spec, attach)
  local e, why = ebpf()
  if not e then return false, why end
  local prog, msg, errno = trivial(e, spec(e))
  if not prog then return refused(msg, errno) end
  local link, amsg, aerrno = attach(prog, e)
  if not link then
    prog:close()
    return refused(amsg, aerrno)
  end
  link:detach()
  prog:close()
  return true
end

local probes = {}
M.probes = probes

probes.kprobe = function()
  return attempt(function() return { type = "kprobe" } end,
    function(p, e) return p:attach_kprobe(M.syscall_function(e)) end)
end

probes.kretprobe = function()
  return attempt(function() return { type = "kprobe" } end,
    function(p, e) return p:attach_kretprobe(M.syscall_function(e)) end)
end

-- The tracefs interface itself: define a probe, see its event, remove it.
probes.kprobe_events = function()
  local e, why = ebpf()
  if not e then return false, why end
  local dir
  for _, d in ipairs { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" } do
    local f = io.open(d .. "/kprobe_events")
    if f then
      f:close()
      dir = d
      break
    end
  end
  if not dir then return false, "no kprobe_events in tracefs (no CONFIG_KPROBE_EVENTS, or tracefs not mounted)" end
  local pid = io.open("/proc/self/stat"):read("n")
  local name = "ebpfdsl_feature_" .. pid
  -- r+: "a" seeks, which tracefs refuses; "w" truncates, which removes
  -- every probe on the machine
  local f, err = io.open(dir .. "/kprobe_events", "r+")
  if not f then return false, "opening kprobe_events: " .. tostring(err) end
  local ok, msg = f:write(("p:kprobes/%s %s\n"):format(name, M.syscall_function(e)))
  ok = ok and f:close()
  if not ok then return false, "writing a probe to kprobe_events: " .. tostring(msg) end
  local id = io.open(("%s/events/kprobes/%s/id"):format(dir, name))
  if id then id:close() end
  f = io.open(dir .. "/kprobe_events", "r+")
  if f then
    f:write("-:kprobes/" .. name .. "\n")
    f:close()
  end
  if not id then return false, "kprobe_events took the probe but made no event" end
  return true
end

probes.kprobe_multi = function()
  return attempt(function(e)
    return { type = "kprobe", expected_attach_type = e.attach.type("trace_kprobe_multi") }
  end, function(p, e) return p:attach_kprobe_multi({ M.syscall_function(e) }, { fallback = false }) end)
end

local function tracing(ptype, target)
  return function()
    return attempt(function() return { type = ptype, attach_to = target } end,
      function(p) return p:attach_tracing() end)
  end
end
-- the kernel's own test target for trampolines (net/bpf/test_run.c), in
-- its BTF wherever BPF is; syscall functions come and go from BTF
probes.fentry = tracing("fentry", "bpf_fentry_test1")
probes.fexit = tracing("fexit", "bpf_fentry_test1")
-- fmod_ret goes on error-injectable functions and security_ hooks only;
-- kernels without CONFIG_FUNCTION_ERROR_INJECTION (Debian's) leave the hooks
probes.fmod_ret = tracing("fmod_ret", "security_file_open")
probes.lsm = tracing("lsm", "file_open")

-- Kernels before 6.6 give a perf-event link's type and ids, not what it
-- probes (name, offset, cookie): the specs check those where they are.
probes.perf_link_info = function()
  return attempt(function() return { type = "tracepoint" } end, function(p)
    local link, msg, errno = p:attach_tracepoint("syscalls", "sys_enter_getppid")
    if not link then return nil, msg, errno end
    local info = link:info()
    if info and info.name == "sys_enter_getppid" then return link end
    link:detach()
    return nil, "the kernel reports no name for a tracepoint's perf-event link", nil
  end)
end

-- The table: one line per feature, with its reason when refused.
-- has(name) -> ok, why (support/env.lua's cached answer).
function M.table(has)
  local lines = {}
  local p = io.popen("uname -r")
  local release = p:read("l")
  p:close()
  lines[1] = ("kernel features (%s):"):format(release)
  for _, name in ipairs(M.names) do
    local ok, why = has(name)
    lines[#lines + 1] = ("  %-14s %-9s %s%s"):format(name, ok and "yes" or "refused", M.what[name],
      ok and "" or (": " .. tostring(why)))
  end
  return table.concat(lines, "\n")
end

return M
