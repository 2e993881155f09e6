-- SPDX-License-Identifier: MIT
-- Instruction lists and listings as the specs read them: the DSL nests
-- lists freely, the kernel sees one flat run of instructions.
local M = {}

-- The instructions of a nested list, in order, appended to `out` (a new list when nil).
function M.flatten(list, out)
  out = out or {}
  if list.op then
    out[#out + 1] = list
  else
    for _, x in ipairs(list) do M.flatten(x, out) end
  end
  return out
end

-- The non-empty lines of a listing (ours or bpftool's), as a list.
function M.lines(text)
  local t = {}
  for l in text:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

return M
