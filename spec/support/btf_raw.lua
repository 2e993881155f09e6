-- SPDX-License-Identifier: MIT
-- Reads `bpftool btf dump file X format raw` into a table by type id: the
-- oracle the BTF specs compare ebpfdsl.btf against.
local M = {}

local function unquote(s)
  if s == "(anon)" then return "" end
  return s
end

-- parse(text) -> { [id] = {kind=, name=, size=, type_id=, vlen=, members=,
--   params=, values=, ...} }, count (the highest id)
function M.parse(text)
  local types, cur, max = {}, nil, 0
  for line in text:gmatch("[^\n]+") do
    local id, kind, name, rest = line:match("^%[(%d+)%] (%S+) '(.-)'(.*)$")
    if id then
      id = tonumber(id)
      if id > max then max = id end
      cur = { id = id, kind = kind:lower(), name = unquote(name), members = {} }
      for k, v in rest:gmatch("([%w_]+)=([^%s,]+)") do cur[k] = tonumber(v) or v end
      types[id] = cur
    elseif cur then
      local mname, mrest = line:match("^\t'(.-)'(.*)$")
      if mname then
        local m = { name = unquote(mname) }
        for k, v in mrest:gmatch("([%w_]+)=([^%s,]+)") do
          m[k] = tonumber(v) or v
          if k == "val" then m.raw_val = v end
        end
        cur.members[#cur.members + 1] = m
      else
        local tid, off, sz, vname = line:match("^\ttype_id=(%d+) offset=(%d+) size=(%d+) %(VAR '(.-)'%)")
        if tid then
          cur.members[#cur.members + 1] = { type_id = tonumber(tid), offset = tonumber(off), size = tonumber(sz),
                                            name = vname }
        end
      end
    end
  end
  return types, max
end

-- The decimal digits of a 64-bit integer read as unsigned.
function M.udec(v)
  if v >= 0 then return tostring(v) end
  local q = (v >> 1) // 5
  local r = v - q * 10
  return tostring(q) .. tostring(r)
end

return M
