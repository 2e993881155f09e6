-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): C types of what probes read, from the running
-- kernel's BTF (function arguments, struct members) and from tracepoint
-- formats, and member and element access on places and typed pointers.
--
-- A C type here ("ctype") is a small table:
--   {kind = "int", size =, signed =}      integers, bools, chars
--   {kind = "enum", size =, signed =}
--   {kind = "ptr", to = ctype-or-thunk, user =}   user: a __user pointer
--   {kind = "struct" | "union", id =, size =, btf =}
--   {kind = "array", elem =, n =, elem_size =, char =}
--   {kind = "void"} / {kind = "func"}
-- every one with decl (the C spelling) for messages.
local value = require "ebpfdsl._trace_value"
local ir = require "ebpfdsl._trace_ir"

local M = {}

local type, tointeger = type, math.tointeger
local fail, K = ir.fail, value.K

local vmlinux
-- The running kernel's BTF, loaded on first need (it takes tens of ms).
function M.btf()
  if not vmlinux then
    local b, msg = require("ebpfdsl.btf").vmlinux()
    if not b then fail("trace: this needs the kernel's BTF (/sys/kernel/btf/vmlinux): " .. tostring(msg)) end
    vmlinux = b
  end
  return vmlinux
end

local types_cache = setmetatable({}, { __mode = "k" })

local function type_of(b, id)
  local c = types_cache[b]
  if not c then c = {}; types_cache[b] = c end
  local t = c[id]
  if not t then
    t = assert(b:type(id))
    c[id] = t
  end
  return t
end

local ctype_cache = setmetatable({}, { __mode = "k" })

-- classify(b, id) -> ctype of BTF type id (typedefs, const, volatile and
-- tags seen through; a "user" type tag marks user memory).
function M.classify(b, id, user)
  local cache = ctype_cache[b]
  if not cache then cache = {}; ctype_cache[b] = cache end
  local key = user and -id or id
  if cache[key] then return cache[key] end
  local t = id == 0 and { kind = "void", decl = "void" } or type_of(b, id)
  local k = t.kind
  local ct
  if k == "typedef" or k == "const" or k == "volatile" or k == "restrict" then
    ct = M.classify(b, t.type_id, user)
  elseif k == "type_tag" then
    ct = M.classify(b, t.type_id, user or t.name == "user")
  elseif k == "int" then
    ct = { kind = "int", size = t.size, signed = t.signed }
  elseif k == "enum" or k == "enum64" then
    ct = { kind = "enum", size = t.size, signed = t.signed }
  elseif k == "ptr" then
    local target = t.type_id
    -- a "user" tag sits between the pointer and its target
    local tt = target ~= 0 and type_of(b, target)
    local is_user = tt and tt.kind == "type_tag" and tt.name == "user"
    ct = { kind = "ptr", user = is_user, to_id = target, btf = b }
  elseif k == "struct" or k == "union" then
    ct = { kind = k, id = id, size = t.size, btf = b }
  elseif k == "array" then
    local elem = M.classify(b, t.type_id)
    ct = { kind = "array", elem = elem, n = t.nelems, elem_size = elem.size,
           char = elem.kind == "int" and elem.size == 1 }
  elseif k == "fwd" then
    ct = { kind = "struct", id = id, fwd = true, btf = b }
  elseif k == "void" then
    ct = t
  else
    ct = { kind = k }
  end
  if not ct.decl then ct.decl = t.decl end
  if ct.kind ~= "void" or id ~= 0 then cache[key] = ct end
  return ct
end

-- The pointee of a pointer ctype.
function M.pointee(ct)
  if ct.to then return ct.to end
  if ct.btf and ct.to_id then
    ct.to = M.classify(ct.btf, ct.to_id, ct.user)
    return ct.to
  end
  return { kind = "void", decl = "void" }
end

-- member(ct, name) -> byte offset, member ctype, bitfield info | nil;
-- members of anonymous structs and unions are found through them.
function M.member(ct, name)
  local b = ct.btf
  local t = type_of(b, ct.id)
  for _, m in ipairs(t.members or {}) do
    if m.name == name then return m.offset, M.classify(b, m.type_id), m end
    if m.name == "" then
      local inner = M.classify(b, m.type_id)
      if inner.kind == "struct" or inner.kind == "union" then
        local off, mct, info = M.member(inner, name)
        if off then return m.offset + off, mct, info end
      end
    end
  end
end

local function members_list(ct)
  local names = {}
  for _, m in ipairs(type_of(ct.btf, ct.id).members or {}) do
    if m.name ~= "" then names[#names + 1] = m.name end
    if #names >= 12 then names[#names + 1] = "..." break end
  end
  return table.concat(names, ", ")
end

-- C integer types by name, for format fields wider than their type (the
-- syscalls tracepoints store every argument in 8 bytes, "int dfd" too).
local C_INTS = {
  char = { 1, true }, ["signed char"] = { 1, true }, ["unsigned char"] = { 1, false }, bool = { 1, false },
  short = { 2, true }, ["unsigned short"] = { 2, false }, int = { 4, true }, ["unsigned int"] = { 4, false },
  unsigned = { 4, false }, long = { 8, true }, ["unsigned long"] = { 8, false }, ["long long"] = { 8, true },
  ["unsigned long long"] = { 8, false }, pid_t = { 4, true }, uid_t = { 4, false }, gid_t = { 4, false },
  umode_t = { 2, false }, size_t = { 8, false }, ssize_t = { 8, true }, loff_t = { 8, true },
  key_serial_t = { 4, true }, clockid_t = { 4, true }, mqd_t = { 4, true }, qid_t = { 4, false },
  rwf_t = { 4, false }, timer_t = { 4, true }, aio_context_t = { 8, false }, off_t = { 8, true },
}
for _, w in ipairs { 8, 16, 32, 64 } do
  for _, p in ipairs { "u", "__u" } do C_INTS[p .. w] = { w // 8, false } end
  for _, p in ipairs { "s", "__s" } do C_INTS[p .. w] = { w // 8, true } end
end
local BIG_ENDIAN = string.pack("=I2", 1):byte() == 0

-- A format field's ctype; category tells user pointers (syscalls) apart.
-- Returns the ctype and the byte offset of the value within the field.
function M.from_field(fld, category)
  local decl = fld.decl
  if fld.kind == "scalar" then
    local t = fld.type:gsub("^const%s+", ""):gsub("^volatile%s+", "")
    local c = C_INTS[t]
    if c and c[1] < fld.size then
      -- the low bytes of the field: at its start, or its end on big-endian
      return { kind = "int", size = c[1], signed = c[2], decl = decl }, BIG_ENDIAN and fld.size - c[1] or 0
    end
    return { kind = "int", size = fld.size, signed = fld.signed, decl = decl }, 0
  elseif fld.kind == "pointer" then
    local char = fld.type:match("char%s*%*$") ~= nil
    return { kind = "ptr", to = char and { kind = "int", size = 1, signed = true, decl = "char" } or
      { kind = "void", decl = "void" }, user = M.user_category(category), decl = decl }, 0
  elseif fld.kind == "array" then
    local es = fld.elem_size or 1
    local char = fld.type:match("char$") ~= nil and es == 1
    return { kind = "array", char = char, n = fld.count or fld.size // es, elem_size = es,
             elem = { kind = "int", size = es, signed = fld.signed }, decl = decl }, 0
  end
  return { kind = fld.kind, decl = decl }, 0
end

-- Tracepoints whose pointers (and numbers used as pointers) point to user
-- memory: system call arguments.
function M.user_category(category) return category == "syscalls" or category == "raw_syscalls" end

-- access(x, t, key): x.key or x[key] on a place or a typed pointer.
local function access(x, t, key)
  local fn = t.fn
  if t.kind == "int" and t.ptr then
    local to = M.pointee(t.ptr)
    if type(t.v) == "number" then fail("trace: a constant pointer cannot be read") end
    local how = t.space or "kernel"
    if how == "btf" and not (to.kind == "struct" or to.kind == "union") then how = "kernel" end
    local pl = value.place(fn, t.v, 0, to, how, t.name or to.decl)
    if type(key) == "number" then
      local i = tointeger(key) or fail("trace: an index must be an integer")
      local size = to.size or to.elem_size or fail("trace: cannot index a pointer to " .. tostring(to.decl))
      return value.load(value.place(fn, t.v, i * size, to, how, to.decl))
    end
    return access(pl, pl[K], key)
  end
  if t.kind ~= "place" then
    fail(("trace: %s has no member '%s'"):format(tostring(x), tostring(key)))
  end
  local ct = t.ctype
  if ct.kind == "ptr" then
    local p = value.load(x)
    local pt = p[K]
    pt.name = t.name
    return access(p, pt, key)
  end
  if ct.kind == "struct" or ct.kind == "union" then
    if type(key) ~= "string" then fail(("trace: %s is a struct; name a member"):format(t.name or ct.decl)) end
    local off, mct, info = M.member(ct, key)
    if not off then
      fail(("trace: %s has no member '%s' (members: %s)"):format(ct.decl or "the struct", key, members_list(ct)))
    end
    if info and info.bitfield_size and info.bitfield_size > 0 then
      fail(("trace: %s.%s is a bitfield, which this layer does not read"):format(ct.decl, key))
    end
    local pl = value.place(fn, t.base, t.off + off, mct, t.how, (t.name or ct.decl) .. "." .. key)
    pl[K].space = t.space
    if mct.kind == "struct" or mct.kind == "union" or mct.kind == "array" then return pl end
    return value.load(pl)
  end
  if ct.kind == "array" then
    local i = type(key) == "number" and tointeger(key)
    if not i and value.is(key) and type(key[K].v) == "number" then i = key[K].v end
    if not i then fail(("trace: %s is an array; index it with a constant integer"):format(t.name or ct.decl)) end
    if i < 0 or (ct.n and ct.n > 0 and i >= ct.n) then
      fail(("trace: index %d is out of %s's bounds (0..%d)"):format(i, t.name or ct.decl, (ct.n or 0) - 1))
    end
    local pl = value.place(fn, t.base, t.off + i * ct.elem_size, ct.elem, t.how, ("%s[%d]"):format(t.name or "", i))
    pl[K].space = t.space
    local ek = ct.elem.kind
    if ek == "struct" or ek == "union" or ek == "array" then return pl end
    return value.load(pl)
  end
  fail(("trace: %s (%s) has no member '%s'"):format(t.name or "the value", ct.decl or ct.kind, tostring(key)))
end
M.access = access
value.access = access

return M
