-- SPDX-License-Identifier: MIT
-- Kernel functions (kfuncs) by name, from the running kernel's BTF: vmlinux
-- first, then each module's. A module kfunc is called through the module's
-- BTF object, which a program names in its fd_array: the modules met here
-- are numbered from 1 for the whole process, and programs.load hands the
-- kernel that array, so dsl.call_kfunc("name") is all a program says.
local core = require "ebpfdsl.core"
local btf = require "ebpfdsl.btf"

local M = {}

local modules = {}   -- name -> { btf =, kfuncs = {name = id}, off = }
local in_array = {}  -- off -> module entry, for the fd_array

local function vmlinux_kfuncs()
  if not M._vmlinux then
    local v, msg, errno = btf.vmlinux()
    if not v then return nil, msg, errno end
    M._vmlinux = { btf = v, kfuncs = v:kfuncs() }
  end
  return M._vmlinux
end

-- The module's BTF and kfuncs, opened once; nil when it cannot be read.
local function module(name)
  if modules[name] == nil then
    local b = core.btf_kernel(name)
    modules[name] = b and { btf = b, kfuncs = b:kfuncs(), name = name } or false
  end
  return modules[name] or nil
end

local function all_names()
  local names = {}
  local v = vmlinux_kfuncs()
  if v then for n in pairs(v.kfuncs) do names[#names + 1] = n end end
  for _, m in pairs(modules) do
    if m then for n in pairs(m.kfuncs) do names[#names + 1] = n end end
  end
  table.sort(names)
  return names
end

-- kfuncs.find(name) -> {name=, id=, module= (nil for vmlinux), off=} |
-- nil, message (with the nearest names), errno. `off` is what a call
-- instruction carries: 0 for vmlinux, the module's index in fd_array.
function M.find(name)
  if type(name) ~= "string" then error("kfuncs.find: name must be a string", 2) end
  local v, msg, errno = vmlinux_kfuncs()
  if not v then return nil, msg, errno end
  -- a kernel built without bpf_kfunc tags (pahole < 1.26, as Debian 12's
  -- 6.1) tags none: any function of the name, which the verifier judges
  local untagged = not M.tagged()
  local id = v.kfuncs[name] or (untagged and v.btf:id(name, "func"))
  if id then return { name = name, id = id, off = 0 } end
  local mods = core.btf_modules() or {}
  for _, mname in ipairs(mods) do
    local m = module(mname)
    id = m and (m.kfuncs[name] or (untagged and m.btf:id(name, "func")))
    if id then
      if not m.off then
        m.off = #in_array + 1
        in_array[m.off] = m
      end
      return { name = name, id = id, module = mname, off = m.off }
    end
  end
  local hint = ""
  if untagged then
    hint = "; this kernel's BTF tags no kfuncs (pahole < 1.26): no names to suggest"
  else
    local near = core.suggest(name, all_names(), 4)
    if #near > 0 then hint = "; did you mean '" .. table.concat(near, "', '") .. "'" end
  end
  return nil, ("unknown kfunc '%s' (vmlinux and %d module%s searched)%s"):format(name, #mods,
    #mods == 1 and "" or "s", hint), 2
end

-- Whether the kernel's BTF tags its kfuncs (bpf_kfunc decl tags, pahole
-- 1.26+); without them names() is empty and find() takes any function of
-- the name, leaving the judgement to the verifier.
function M.tagged()
  local v, msg, errno = vmlinux_kfuncs()
  if not v then return nil, msg, errno end
  return next(v.kfuncs) ~= nil
end

-- The names of the kfuncs of vmlinux and of the modules looked into so
-- far (every module with `all`), sorted.
function M.names(all)
  if all then for _, m in ipairs(core.btf_modules() or {}) do module(m) end end
  return all_names()
end

-- The BTF objects a program's module kfunc calls index (from 1); empty
-- while no module kfunc was looked up.
function M.fd_array()
  local t = {}
  for i, m in ipairs(in_array) do t[i] = m.btf end
  return t
end

return M
