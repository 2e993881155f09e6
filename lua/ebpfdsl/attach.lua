-- SPDX-License-Identifier: MIT
-- Attaching programs: the prog:attach_* methods live on every Prog (see
-- csrc/lua/lua_attach.c); this module adds pinned links, attach type names,
-- ELF symbol lookup for uprobes, and where cgroup v2 is mounted.
local core = require "ebpfdsl.core"
local features = require "ebpfdsl.features"

local M = {}

-- attach.open_pinned(path) -> Link | nil, msg, errno: a bpf link pinned
-- at a bpffs path, by this process or another one.
M.open_pinned = core.link_open_pinned

-- attach.types: {cgroup_inet_ingress = 0, ...}, every attach type the
-- kernel names (core.attach_types lists the names).
M.types = {}
for _, name in ipairs(core.attach_types()) do M.types[name] = core.attach_type(name) end

-- attach.type("connect4") -> 10: an attach type by its libbpf name or a
-- short cgroup one ("ingress", "egress", "connect4", "sendmsg6", "sysctl").
M.type = core.attach_type

-- attach.find_binary("c") -> "/usr/lib/x86_64-linux-gnu/libc.so.6": a
-- path, a library name ("c" and "libc" are this process's C library), or
-- a program on $PATH, as a uprobe's path= resolves it.
M.find_binary = core.find_binary

-- attach.symbol_offset(path_or_name, "malloc") -> file offset, path: where
-- a uprobe on that symbol goes.
M.symbol_offset = core.symbol_offset

-- attach.uprobe_prefetch{path=, symbol= | offset=, pid=, retprobe=,
-- ref_ctr_offset=} -> true | nil, msg, errno: the uprobe's perf event
-- opened in a thread now, for a later prog:attach_uprobe of the same place,
-- kind and pid to take (registering a uprobe can wait a kernel grace
-- period); attach.uprobe_prefetch_drop() closes those none took -> count.
M.uprobe_prefetch = core.uprobe_prefetch
M.uprobe_prefetch_drop = core.uprobe_prefetch_drop

-- attach.supported(kind) -> true | false, why, errno: whether a program
-- of the kind loads and attaches here (ebpfdsl.features' "attach:<kind>",
-- probed once). attach.kinds() lists the kinds: socket, tracepoint,
-- raw_tracepoint, tp_btf, perf_event, uprobe, uretprobe, uprobe_multi, kprobe,
-- kretprobe, kprobe_events (tracefs), kprobe_multi, fentry, fexit,
-- fmod_ret, lsm, iter.
function M.supported(kind)
  for _, k in ipairs(core.probe_kinds()) do
    if k == kind then return features.check("attach:" .. kind) end
  end
  error(("attach.supported: unknown attach kind '%s' (attach.kinds() lists them)"):format(tostring(kind)), 2)
end
M.kinds = core.probe_kinds

-- attach.cgroup2() -> the cgroup v2 mount point (/sys/fs/cgroup, or
-- /sys/fs/cgroup/unified on hybrid systems) | nil, msg
function M.cgroup2()
  local f, err = io.open("/proc/self/mounts", "r")
  if not f then return nil, err end
  for line in f:lines() do
    local _, dir, fstype = line:match("^(%S+)%s+(%S+)%s+(%S+)")
    if fstype == "cgroup2" then
      f:close()
      return (dir:gsub("\\040", " "))
    end
  end
  f:close()
  return nil, "no cgroup2 file system is mounted (see /proc/self/mounts)"
end

return M
