-- SPDX-License-Identifier: MIT
-- Internal: misuse errors raised at the user's line, the first caller
-- outside the module (or outside every ebpfdsl module) that found it.
local getinfo, error = debug.getinfo, error

local M = {}

-- A function(msg) raising msg at the first frame, from its caller's caller
-- outwards, that inside(info) does not claim (info: debug.getinfo's "S",
-- or its `what` fields: "Sf" adds the function). Its caller is always
-- inside: the module that found the misuse.
function M.blamer(inside, what)
  what = what or "S"
  return function(msg)
    local level = 2
    while true do
      local info = getinfo(level + 1, what)
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

-- The message for the first key of t that `fields` (a set of names) does
-- not hold, naming the nearest known one when it is close (a typo), or
-- nil: the one check of every options table. The caller raises it, so
-- that its own blame puts it at the user's line.
function M.unknown_field(t, fields, what)
  for k in pairs(t) do
    if not fields[k] then
      local msg = ("%s: unknown field '%s'"):format(what, tostring(k))
      if type(k) == "string" then
        local names = {}
        for name in pairs(fields) do names[#names + 1] = name end
        table.sort(names) -- the suggestion does not depend on hash order
        -- of the nearest few, the one sharing the longest start with k
        -- ('max_entry': max_entries, not map_extra, as near by edits)
        local near, best = nil, -1
        for _, name in ipairs(require("ebpfdsl.core").suggest(k, names, 4)) do
          local n = 0
          while n < #k and k:byte(n + 1) == name:byte(n + 1) do n = n + 1 end
          if n > best then near, best = name, n end
        end
        if near then msg = ("%s (did you mean '%s'?)"):format(msg, near) end
      end
      return msg
    end
  end
  return nil
end

return M
