-- SPDX-License-Identifier: MIT
-- What the running kernel allows, by feature name ("map:arena", "prog:kprobe",
-- "attach:uprobe"): probed once per process (csrc/kernel/features.c), then cached.
local core = require "ebpfdsl.core"
local errors = require "ebpfdsl._errors"

local M = {}

-- maps.supported and its kin call in here: blame the first line outside ebpfdsl
local raise = errors.outside_modules

local KINDS = {}
for _, k in ipairs(core.probe_kinds()) do KINDS[k] = true end

-- Programs named as programs.load's type= names them that need a target
-- or an attach type to load (their rows in core.prog_defs say so): probed
-- by loading one for the kind (fentry on vfs_read, lsm on file_open, ...),
-- not by libbpf's probe of the type. Made at the first question (the rows'
-- type numbers read the kernel's BTF).
local PROG_BY_KIND
local function prog_by_kind()
  if not PROG_BY_KIND then
    PROG_BY_KIND = {}
    for _, d in ipairs(core.prog_defs()) do
      if KINDS[d.name] and (d.implied or d.target_prefix) then PROG_BY_KIND[d.name] = true end
    end
  end
  return PROG_BY_KIND
end
local INSNS = {}
for _, k in ipairs(core.probe_insns()) do INSNS[k] = true end

local function is_map(t) return core.map_type_info(t) ~= nil end
local function is_prog(t)
  for _, name in ipairs(core.prog_types()) do if name == t then return true end end
  return false
end

-- name -> function() -> true | false, why, errno; nil for unknown names
local function prober(name)
  local class, rest = name:match("^(%a+):(.+)$")
  if class == "map" and is_map(rest) then
    return function() return core.probe_map_type(rest) end
  elseif class == "prog" and prog_by_kind()[rest] then
    return function() return core.probe_kind(rest, false) end
  elseif class == "prog" and rest ~= "unspec" and is_prog(rest) then
    return function() return core.probe_prog_type(rest) end
  elseif class == "attach" and KINDS[rest] then
    return function() return core.probe_kind(rest, true) end
  elseif class == "helper" then
    local ptype, helper = rest:match("^([%w_]+):([%w_]+)$")
    if ptype and is_prog(ptype) and core.helper_id(helper) then
      return function() return core.probe_prog_type(ptype, helper) end
    end
  elseif class == "insn" and INSNS[rest] then
    return function() return core.probe_insn(rest) end
  elseif class == "kfunc" and rest:match("^[%a_][%w_]*$") then
    return function()
      local k, msg, errno = require("ebpfdsl.kfuncs").find(rest)
      if k then return true end
      if errno == 2 then msg = "missing from this kernel (ENOENT): " .. msg end
      return false, msg, errno
    end
  elseif name == "test_run" then
    return core.probe_test_run
  elseif name == "btf" then
    return core.probe_btf
  elseif name == "link_info:perf_event" then
    return core.probe_perf_link_info
  end
  return nil
end

local cache = {}

-- features.check(name) -> true | false, why, errno. Names: "map:<type>",
-- "prog:<type>" (and the kinds fentry, fexit, fmod_ret, tp_btf, iter,
-- lsm, kprobe_multi, uprobe_multi), "attach:<kind>" (features.kinds()),
-- "helper:<prog type>:<helper>", "test_run", "btf" (vmlinux BTF),
-- "link_info:perf_event" (link:info() of a perf-event link names what it
-- probes: 6.6+), "insn:<family>" (the verifier knows v4 (6.6), may_goto,
-- addr_space_cast (6.9), load_acquire (6.15): features.insns()),
-- "kfunc:<name>" (a kfunc of vmlinux or a module BTF: kfuncs.find).
function M.check(name)
  local hit = cache[name]
  if not hit then
    local probe = type(name) == "string" and prober(name)
    if not probe then
      raise(("features: unknown feature '%s' (map:<type>, prog:<type>, attach:<kind>, " ..
        "helper:<prog type>:<helper>, insn:<family>, kfunc:<name>, test_run, btf, link_info:perf_event)")
        :format(tostring(name)))
    end
    local ok, why, errno = probe()
    hit = { available = ok and true or false, why = why, errno = errno }
    cache[name] = hit
  end
  if hit.available then return true end
  return false, hit.why, hit.errno
end

-- The attach kinds there is a probe for.
M.kinds = core.probe_kinds

-- The instruction families there is a probe for.
M.insns = core.probe_insns

-- Every feature features() reports, in a stable order.
function M.names()
  local names = { "btf", "test_run" }
  for _, t in ipairs(core.map_types()) do names[#names + 1] = "map:" .. t end
  local progs = {}
  for _, t in ipairs(core.prog_types()) do if t ~= "unspec" then progs[#progs + 1] = t end end
  for t in pairs(prog_by_kind()) do if not is_prog(t) then progs[#progs + 1] = t end end
  table.sort(progs)
  for _, t in ipairs(progs) do names[#names + 1] = "prog:" .. t end
  for _, k in ipairs(core.probe_kinds()) do names[#names + 1] = "attach:" .. k end
  names[#names + 1] = "link_info:perf_event"
  for _, k in ipairs(core.probe_insns()) do names[#names + 1] = "insn:" .. k end
  return names
end

local Table = {}
Table.__name = "ebpfdsl.features"

-- Refused features first, one a line with why; then the available ones.
function Table.__tostring(t)
  local lines, avail = {}, {}
  for _, name in ipairs(t) do
    local f = t[name]
    if f.available then avail[#avail + 1] = name
    else lines[#lines + 1] = ("%-24s refused: %s"):format(name, f.why) end
  end
  table.insert(lines, 1, ("kernel features: %d available, %d refused"):format(#avail, #lines))
  lines[#lines + 1] = "available: " .. table.concat(avail, " ")
  return table.concat(lines, "\n")
end

-- features() -> { name, ..., [name] = {available=, why=, errno=} }: every
-- feature, probed (once per process); it prints as a table.
function M.all()
  local t = setmetatable({}, Table)
  for i, name in ipairs(M.names()) do
    local ok, why, errno = M.check(name)
    t[i] = name
    t[name] = { available = ok, why = why, errno = errno }
  end
  return t
end

return setmetatable(M, { __call = function(_, ...) return M.all(...) end })
