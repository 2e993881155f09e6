-- SPDX-License-Identifier: MIT
-- BPF maps: maps.create{type=, ...} and one short constructor per map type
-- (maps.hash{...}, maps.ringbuf(size)), pins, and sizes each type requires.
local core = require "ebpfdsl.core"
local errors = require "ebpfdsl._errors"
-- ebpfdsl.features loads when a question for it comes (start-up loads
-- what is used)
local function features() return require "ebpfdsl.features" end

local M = {}

local type, pairs, ipairs, tostring, select = type, pairs, ipairs, tostring, select

-- Map flags (BPF_F_*), by the kernel's names lowercased.
M.flags = {
  no_prealloc = 0x1, no_common_lru = 0x2, numa_node = 0x4, rdonly = 0x8, wronly = 0x10,
  stack_build_id = 0x20, zero_seed = 0x40, rdonly_prog = 0x80, wronly_prog = 0x100, clone = 0x200,
  mmapable = 0x400, preserve_elems = 0x800, inner_map = 0x1000, link = 0x2000, path_fd = 0x4000,
  vtype_btf_obj_fd = 0x8000, token_fd = 0x10000, segv_on_fault = 0x20000, no_user_conv = 0x40000,
}

local F = M.flags

-- Errors blame the first caller outside this file and the C core: the
-- user's line.
local raise = errors.outside_file(debug.getinfo(1, "S").source, true)

local PAGE = select(3, core.ringbuf_size_check(0))
local NCPUS = {} -- stands for core.possible_cpus(), asked when a map needs it

-- What a type fixes, filled in when the caller leaves it out; `need`
-- flags are added whatever the caller passes, since the kernel refuses
-- the type without them.
local DEFAULTS = {
  array = { key_size = 4 },
  percpu_array = { key_size = 4 },
  prog_array = { key_size = 4, value_size = 4 },
  perf_event_array = { key_size = 4, value_size = 4, max_entries = NCPUS },
  cgroup_array = { key_size = 4, value_size = 4 },
  stack_trace = { key_size = 4, value_size = 8 * 127 },
  lpm_trie = { need = F.no_prealloc },
  array_of_maps = { key_size = 4, value_size = 4 },
  hash_of_maps = { value_size = 4 },
  devmap = { key_size = 4, value_size = 4 },
  devmap_hash = { key_size = 4, value_size = 4 },
  sockmap = { key_size = 4, value_size = 8 },
  sockhash = { value_size = 8 },
  cpumap = { key_size = 4, value_size = 4, max_entries = NCPUS },
  xskmap = { key_size = 4, value_size = 4 },
  reuseport_sockarray = { key_size = 4, value_size = 8 },
  cgroup_storage = { key_size = 16 },
  percpu_cgroup_storage = { key_size = 16 },
  sk_storage = { key_size = 4, need = F.no_prealloc },
  inode_storage = { key_size = 4, need = F.no_prealloc },
  task_storage = { key_size = 4, need = F.no_prealloc },
  cgrp_storage = { key_size = 4, need = F.no_prealloc },
  struct_ops = { key_size = 4, max_entries = 1 },
  arena = { need = F.mmapable },
}

local KNOWN = {} -- the type names core.map_types() gives, filled below

local function is_layout(x)
  local mt = getmetatable(x)
  return type(x) == "userdata" and type(mt) == "table" and mt.__name == "ebpfdsl.Layout"
end

local SCALAR_SIZE = { u8 = 1, u16 = 2, u32 = 4, u64 = 8, i8 = 1, i16 = 2, i32 = 4, i64 = 8 }

-- BTF for a map's key and value: a layout is the struct clang would write
-- for it (so spin locks, timers and kptrs in it work, and bpftool prints
-- the values by field), a scalar name its C type, anything else bytes.
-- Made when key or value is a layout, or btf = true; never with btf = false.
-- -> the create fields it sets, or nil; or nil, message, errno.
local function map_btf(s)
  if s.kptrs ~= nil and not is_layout(s.value) then raise("maps.create: kptrs name fields of a value layout") end
  local want = s.btf
  if want == nil then want = is_layout(s.key) or is_layout(s.value) end
  if not want or s.btf_fd ~= nil then return nil end
  local w = core.btf_writer()
  local function side(x, size)
    if is_layout(x) then return w:layout(x, { kptrs = x == s.value and s.kptrs or nil }) end
    if SCALAR_SIZE[x] then return w:scalar(x) end
    size = size or 0
    if size == 0 then return 0 end
    return w:array(w:scalar("u8"), size)
  end
  -- a 4-byte key given by size is an index (arrays) or an fd (storage
  -- maps): the kernel wants an int there
  local ok, k, v = pcall(function()
    return side(s.key == nil and s.key_size == 4 and "u32" or s.key, s.key_size), side(s.value, s.value_size)
  end)
  if not ok then raise("maps.create: " .. tostring(k):gsub("^[^:]*:%d+: ", "")) end
  local b = core.btf_from_bytes(w:bytes(), "map '" .. (s.name or "") .. "'")
  local loaded, msg, errno = b:load()
  if not loaded then
    b:close()
    return nil, "maps.create: " .. msg, errno
  end
  return { btf = b, key = k, value = v }
end

local function flag_bits(flags)
  if flags == nil then return 0 end
  if type(flags) == "number" then return flags end
  if type(flags) == "string" then flags = { flags } end
  if type(flags) ~= "table" then raise("maps.create: flags must be an integer or a list of flag names") end
  local bits = 0
  for _, name in ipairs(flags) do
    local b = F[name]
    if not b then raise(("maps.create: unknown map flag '%s'"):format(tostring(name))) end
    bits = bits | b
  end
  return bits
end

local function is_ring(t) return t == "ringbuf" or t == "user_ringbuf" end

local function ring_check(tname, size)
  if type(size) ~= "number" or math.tointeger(size) == nil then
    raise(("maps.%s: the size (max_entries) must be an integer, got %s"):format(tname, type(size)))
  end
  local ok, below, above = core.ringbuf_size_check(size)
  if ok then return end
  local near = below > 0 and ("%d and %d"):format(below, above) or ("%d"):format(above)
  raise(("maps.%s: size %d is not a power-of-two multiple of the page size (%d); nearest valid sizes: %s")
    :format(tname, size, PAGE, near))
end

-- maps.create{type=, key_size=|key=, value_size=|value=, max_entries=,
--   name=, flags=, inner_map=, numa_node=, map_extra=, ...}
--   -> Map | nil, message, errno
-- key/value: a layout (:size, :encode, :decode), or "u8".."u64",
-- "i8".."i64", "bytes", "fd", "lpm"; integers are unsigned unless named "iN".
function M.create(spec)
  if type(spec) ~= "table" then raise("maps.create: expected a table {type=, ...}") end
  -- the field names are the rows of csrc/lua/lua_map.c
  local unknown = core.map_create_check(spec)
  if unknown then raise(unknown) end
  local tname = spec.type
  if type(tname) ~= "string" then raise("maps.create: type must be a map type name such as 'hash'") end
  -- known by name, not probed: whether the kernel takes it, it says
  if not KNOWN[tname] then
    raise(("maps.create: unknown map type '%s' (maps.types() lists them)"):format(tname))
  end
  local s = {}
  for k, v in pairs(spec) do s[k] = v end
  local d = DEFAULTS[tname] or {}
  if s.key == nil and s.key_size == nil then s.key_size = d.key_size end
  if s.value == nil and s.value_size == nil then s.value_size = d.value_size end
  if s.max_entries == nil then s.max_entries = d.max_entries end
  if s.max_entries == NCPUS then s.max_entries = core.possible_cpus() end
  s.flags = flag_bits(s.flags) | (d.need or 0)
  if is_ring(tname) then ring_check(tname, s.max_entries) end
  -- an inner map given as a spec: a template that lives for the create only
  local template
  if type(s.inner_map) == "table" and not s.inner_map.fd then
    local err, errno
    template, err, errno = M.create(s.inner_map)
    if not template then return nil, "inner_map template: " .. err, errno end
    s.inner_map = template
  end
  local bt, berr, berrno = map_btf(s)
  if berr then
    if template then template:close() end
    return nil, berr, berrno
  end
  s.btf, s.kptrs = nil, nil
  if bt then
    s.btf_fd, s.btf_key_type_id, s.btf_value_type_id = bt.btf:fd(), bt.key, bt.value
  end
  -- misuse found in C (sizes, kinds, names) is raised at the user's line
  local ok, m, err, errno = pcall(core.map_create, s)
  if bt then bt.btf:close() end -- the map holds its own reference
  if template then template:close() end
  if not ok then raise((tostring(m):gsub("^[^:]*:%d+: ", ""))) end
  if not m and core.privileged() then
    -- a refusal says whether the kernel refuses the type itself (the
    -- feature probe, asked only now that a create failed); without the
    -- privileges, the message already says that they are the cause
    local avail, why = features().check("map:" .. tname)
    if not avail then err = ("%s (this kernel refuses %s maps: %s)"):format(err, tname, why) end
  end
  return m, err, errno
end

-- One constructor per type: maps.hash{...} is maps.create{type="hash", ...}.
for _, tname in ipairs(core.map_types()) do
  KNOWN[tname] = true
  M[tname] = function(spec)
    local s = {}
    for k, v in pairs(spec or {}) do s[k] = v end
    if s.type ~= nil and s.type ~= tname then
      raise(("maps.%s: type is %s here, got '%s'"):format(tname, tname, tostring(s.type)))
    end
    s.type = tname
    return M.create(s)
  end
end

-- Ring buffers take their size first: maps.ringbuf(256 * 1024, {name=}).
local function ring(tname)
  return function(size, opts)
    local s = { type = tname }
    if type(size) == "table" then
      opts = size
    else
      ring_check(tname, size)
      s.max_entries = size
    end
    for k, v in pairs(opts or {}) do s[k] = v end
    return M.create(s)
  end
end
M.ringbuf = ring("ringbuf")
M.user_ringbuf = ring("user_ringbuf")

-- The type names this library knows, as the kernel names them.
M.types = core.map_types

-- maps.type_info(name) -> {id=, percpu=} | nil for unknown names; asks
-- the kernel nothing.
M.type_info = core.map_type_info

-- maps.supported(name) -> true | false, why, errno: whether this kernel
-- creates maps of the type (ebpfdsl.features' "map:<name>", probed once).
function M.supported(tname)
  if type(tname) ~= "string" or not core.map_type_info(tname) then
    raise(("maps.supported: unknown map type '%s'"):format(tostring(tname)))
  end
  return features().check("map:" .. tname)
end

-- maps.open_pinned(path[, {key=, value=}]) -> Map learning type, sizes
-- and name from the kernel | nil, message, errno.
M.open_pinned = core.map_open_pinned
-- maps.open_id(id[, {key=, value=}]): the map with that kernel id (as
-- get_inner returns it).
M.open_id = core.map_open_id

M.possible_cpus = core.possible_cpus
M.bpffs_mount = core.bpffs_mount
-- A pidfd as a Lua file: the key of task_storage maps.
M.pidfd = core.pidfd

return M
