-- SPDX-License-Identifier: MIT
-- Internal: misuse errors raised at the user's line, the first caller
-- outside the module (or outside every ebpfdsl module) that found it.
local getinfo, error = debug.getinfo, error

local M = {}

-- A function(msg) raising msg at the first frame, from its caller's caller
-- outwards, that inside(info) does not claim (info: debug.getinfo's "S").
-- Its caller is always inside: the module that found the misuse.
function M.blamer(inside)
  return function(msg)
    local level = 2
    while true do
      local info = getinfo(level + 1, "S")
      if not info or not inside(info) then break end
      level = level + 1
    end
    error(msg, level + 1)
  end
end

-- A blame(msg) for the module whose source (its own
-- debug.getinfo(1, "S").source) is `source`; with skip_c, C functions
-- between it and the user (pcall, the C core) are passed over too.
function M.outside_file(source, skip_c)
  return M.blamer(function(info) return info.source == source or (skip_c and info.what == "C") end)
end

-- blame(msg) at the first caller outside every ebpfdsl module: for DSL
-- words that call one another across modules (arch, kprobe, tracepoint).
M.outside_modules = M.blamer(function(info) return info.source:find("ebpfdsl[/\\][%w_]+%.lua$") ~= nil end)

return M
