-- SPDX-License-Identifier: MIT
-- ELF objects built by clang (clang -O2 -target bpf -g -c x.c), opened
-- through libbpf: list and load their programs and maps, share maps with
-- DSL programs, attach programs by their section names.
local core = require "ebpfdsl.core"
local errors = require "ebpfdsl._errors"

-- misuse found in C is raised at the user's line
local raise = errors.outside_file(debug.getinfo(1, "S").source, true)

local M = {}

-- object.open(path_or_bytes[, {name=, maps={name=map_or_fd},
-- vars={name=value}}]) -> ebpfdsl.Object | nil, message, errno. Bytes (an
-- ELF image in a string) are recognised by their ELF magic. `maps` reuses
-- existing maps for the object's maps of those names, as obj:reuse_map
-- does; `vars` sets global variables before load, as obj:set_var does.
function M.open(src, opts)
  if type(src) ~= "string" then error("object.open: expected a path or the bytes of an ELF object", 2) end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "name" and k ~= "maps" and k ~= "vars" then
      error(("object.open: unknown option '%s'"):format(tostring(k)), 2)
    end
  end
  local obj, msg, err = core.object_open(src, opts.name)
  if not obj then return nil, msg, err end
  for name, map in pairs(opts.maps or {}) do
    local ok, rmsg, rerr = obj:reuse_map(name, map)
    if not ok then
      obj:close()
      return nil, rmsg, rerr
    end
  end
  for name, value in pairs(opts.vars or {}) do
    local ok, r, rmsg, rerr = pcall(obj.set_var, obj, name, value)
    if not ok or not r then
      obj:close()
      if not ok then raise((tostring(r):gsub("^[^:]*:%d+: ", ""))) end
      return nil, rmsg, rerr
    end
  end
  return obj
end

return M
