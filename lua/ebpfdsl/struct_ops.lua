-- SPDX-License-Identifier: MIT
-- struct_ops from DSL programs: a kernel struct of function pointers (a
-- tcp_congestion_ops) filled with struct_ops programs and plain members,
-- laid out by the running kernel's BTF, and registered with the kernel.
local core = require "ebpfdsl.core"
local btf = require "ebpfdsl.btf"
local maps = require "ebpfdsl.maps"
local errors = require "ebpfdsl._errors"

local M = {}

local raise = errors.outside_file(debug.getinfo(1, "S").source, true)

local function member_of(t, name)
  for _, m in ipairs(t.members) do
    if m.name == name then return m end
  end
  local names = {}
  for _, m in ipairs(t.members) do names[#names + 1] = m.name end
  local near = core.suggest(name, names, 1)[1]
  raise(("struct_ops: struct %s has no member '%s'%s"):format(t.name, name,
    near and ("; did you mean '" .. near .. "'") or ""))
end

-- Whether a member's type is a pointer to a function: a program's slot.
local function is_func_ptr(b, type_id)
  local t = b:type(type_id)
  while t.kind == "typedef" or t.kind == "const" or t.kind == "volatile" do t = b:type(t.type_id) end
  return t.kind == "ptr" and b:type(t.type_id).kind == "func_proto"
end

-- struct_ops.value(type_name, fields) -> bytes: the kernel's struct
-- bpf_struct_ops_<type_name>, its `data` member laid out from fields:
-- function pointer members take loaded struct_ops programs (their fds go
-- in), the others Lua values typed by BTF (name = "my_cc").
function M.value(tname, fields)
  if type(tname) ~= "string" then raise("struct_ops.value: the struct's name must be a string") end
  if type(fields) ~= "table" then raise("struct_ops.value: expected a table of members") end
  local b = assert(btf.vmlinux())
  local vt = b:type("bpf_struct_ops_" .. tname, "struct")
  if not vt then
    raise(("struct_ops: the kernel has no struct_ops type '%s' (no bpf_struct_ops_%s in its BTF)"):format(tname,
      tname))
  end
  local data = member_of(vt, "data")
  local st = b:type(data.type_id)
  local bytes = string.rep("\0", vt.size)
  local plain, slots = {}, {}
  for k, v in pairs(fields) do
    if type(k) ~= "string" then raise("struct_ops.value: members are named by strings") end
    local m = member_of(st, k)
    if is_func_ptr(b, m.type_id) then
      if not ((type(v) == "userdata" or type(v) == "table") and v.fd) then
        raise(("struct_ops: %s.%s is a function: it takes a loaded struct_ops program, got %s"):format(tname, k,
          type(v)))
      end
      slots[#slots + 1] = { data.offset + m.offset, v:fd() }
    else
      plain[k] = v
    end
  end
  local ok, d = pcall(b.encode, b, data.type_id, plain, bytes:sub(data.offset + 1, data.offset + st.size))
  if not ok then
    raise((tostring(d):gsub("^[^:]*:%d+: ", ""):gsub("^encode: struct " .. tname, "struct_ops: " .. tname, 1)))
  end
  bytes = bytes:sub(1, data.offset) .. d .. bytes:sub(data.offset + st.size + 1)
  for _, s in ipairs(slots) do
    bytes = bytes:sub(1, s[1]) .. string.pack("=I8", s[2]) .. bytes:sub(s[1] + 9)
  end
  return bytes
end

-- struct_ops.register(type_name, fields[, {name=, link=}]) -> ebpfdsl.Link
-- | nil, message, errno. A struct_ops map of the type (named `name`, else
-- fields.name where that makes a map name, else the type's name), its value from fields as struct_ops.value
-- makes it, registered: with a struct_ops link where the kernel has them
-- (link = false: through the map's update alone). The link keeps the map;
-- detach (or close) unregisters.
function M.register(tname, fields, opts)
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "name" and k ~= "link" then raise(("struct_ops.register: unknown option '%s'"):format(tostring(k))) end
  end
  local value = M.value(tname, fields)
  -- the map takes the struct's own name where it makes a map name
  local own = type(fields.name) == "string" and #fields.name < 16 and fields.name:match("^[%w_.]+$") and fields.name
  local spec = { struct_ops = tname, name = opts.name or own or tname:sub(1, 15), max_entries = 1 }
  local map, msg, errno
  if opts.link ~= false then
    spec.flags = "link"
    map, msg, errno = maps.struct_ops(spec)
    if not map and errno == 22 and opts.link == nil then spec.flags = nil end -- a kernel before 6.4
  end
  if not map then map, msg, errno = maps.struct_ops(spec) end
  if not map then return nil, msg, errno end
  local link, lmsg, lerrno = core.struct_ops_register(map, value)
  if not link then
    map:close()
    return nil, lmsg, lerrno
  end
  return link
end

return M
