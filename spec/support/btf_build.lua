-- SPDX-License-Identifier: MIT
-- Raw BTF files built byte by byte (the layout of <linux/btf.h>), for
-- specs and fuzz seeds that need BTF no compiler would write: types that
-- contain themselves, chains that fan out, protos that point at themselves.
local M = {}

local KIND = { int = 1, ptr = 2, array = 3, struct = 4, union = 5, typedef = 8, const = 10, func_proto = 13 }

-- build(types) -> bytes. types[i] is type id i:
--   {kind = "struct"|"union", name =, size =, members = {{name =, type =, bit_offset =}}}
--   {kind = "int", name =, size =, bits =}
--   {kind = "ptr"|"typedef"|"const", name =, type =}
--   {kind = "array", type =, nelems =}
--   {kind = "func_proto", type = ret, params = {{name =, type =}}}
function M.build(types)
  local strs, offs = { "\0" }, { [""] = 0 }
  local len = 1
  local function str(s)
    s = s or ""
    if not offs[s] then
      offs[s] = len
      strs[#strs + 1] = s .. "\0"
      len = len + #s + 1
    end
    return offs[s]
  end
  local out = {}
  for _, t in ipairs(types) do
    local k = assert(KIND[t.kind], t.kind)
    local list = t.members or t.params or {}
    local info = (k << 24) | #list
    if t.kind == "struct" or t.kind == "union" then
      out[#out + 1] = string.pack("<I4I4I4", str(t.name), info, t.size or 4)
      for _, m in ipairs(list) do
        out[#out + 1] = string.pack("<I4I4I4", str(m.name), m.type, m.bit_offset or 0)
      end
    elseif t.kind == "int" then
      out[#out + 1] = string.pack("<I4I4I4I4", str(t.name), info, t.size or 4, t.bits or 32)
    elseif t.kind == "array" then
      out[#out + 1] = string.pack("<I4I4I4I4I4I4", 0, info, 0, t.type, t.index_type or t.type, t.nelems or 1)
    elseif t.kind == "func_proto" then
      out[#out + 1] = string.pack("<I4I4I4", 0, info, t.type or 0)
      for _, p in ipairs(list) do out[#out + 1] = string.pack("<I4I4", str(p.name), p.type) end
    else
      out[#out + 1] = string.pack("<I4I4I4", str(t.name), info, t.type)
    end
  end
  local body, strings = table.concat(out), table.concat(strs)
  return string.pack("<I2BBI4I4I4I4I4", 0xeB9F, 1, 0, 24, 0, #body, #body, #strings) .. body .. strings
end

-- The 75-byte file of issue 12: struct S holds three anonymous members of
-- its own type, so a search through anonymous members never ends.
function M.self_anon()
  local m = { type = 1 }
  return M.build { { kind = "struct", name = "S", members = { m, m, m } } }
end

-- A chain of `depth` structs, each holding `width` anonymous members of
-- the next: no loop, but width^depth paths to the last.
function M.fan(depth, width)
  local types = {}
  for i = 1, depth do
    local ms = {}
    for _ = 1, width do ms[#ms + 1] = { type = i + 1 } end
    types[i] = { kind = "struct", name = "F" .. i, members = ms }
  end
  types[depth + 1] = { kind = "struct", name = "last", members = { { name = "x", type = depth + 2 } } }
  types[depth + 2] = { kind = "int", name = "int" }
  return M.build(types)
end

-- A chain of `depth` function prototypes whose `width` parameters each
-- point at the next: no loop, but the C spelling doubles with every level.
function M.proto_fan(depth, width)
  local types = {}
  for i = 1, depth do
    local ps = {}
    for j = 1, width do ps[j] = { name = "p" .. j, type = depth + i } end
    types[i] = { kind = "func_proto", type = 0, params = ps }
  end
  for i = 1, depth do types[depth + i] = { kind = "ptr", type = i < depth and i + 1 or 0 } end
  return M.build(types)
end

return M
