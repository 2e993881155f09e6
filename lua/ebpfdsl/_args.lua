-- SPDX-License-Identifier: MIT
-- Internal: the one blame and argument check of the DSL's word modules
-- (dsl, words, compat): "<word>: argument <n> must be <what>, got <value>".
local type, tointeger = type, math.tointeger
local REGS, SIZES = require("ebpfdsl._regs").REGS, require("ebpfdsl._regs").SIZES

local M = {}

local HERE = debug.getinfo(1, "S").source

-- The checks for the module whose source (its own debug.getinfo(1,
-- "S").source) is `source`, raising at the first caller outside it and
-- this file: the user's line. Functions in the set `skip` (dsl's words
-- made in C, which call the module's) are passed over too. C.blame(msg)
-- raises so too.
function M.checks(source, skip)
  local C = {}
  local inside
  if skip then
    inside = function(info) return info.source == source or info.source == HERE or skip[info.func] ~= nil end
  else
    inside = function(info) return info.source == source or info.source == HERE end
  end
  local blame = require("ebpfdsl._errors").blamer(inside, skip and "Sf" or "S")
  C.blame = blame

  function C.argerr(fname, n, want, got)
    -- the value itself where it says more than its type: 'r11', 1.5, 8
    local shown = type(got) == "string" and ("'" .. got .. "'") or type(got) == "number" and tostring(got)
      or type(got)
    blame(("%s: argument %d must be %s, got %s"):format(fname, n, want, shown))
  end

  function C.reg(fname, n, x)
    if type(x) ~= "string" or not REGS[x] then C.argerr(fname, n, "a register (r0..r10 or fp)", x) end
    return x
  end

  function C.int(fname, n, x)
    local i = type(x) == "number" and tointeger(x)
    if not i then C.argerr(fname, n, "an integer", x) end
    return i
  end

  -- An integer, or 0 when left out.
  function C.optint(fname, n, x)
    if x == nil then return 0 end
    return C.int(fname, n, x)
  end

  function C.size(fname, n, x)
    if not SIZES[x] then C.argerr(fname, n, "a size (b, h, w or dw)", x) end
    return x
  end

  -- A register or an immediate: the field the instruction table gets.
  function C.source(fname, n, x)
    if type(x) == "string" then return "src", C.reg(fname, n, x) end
    local i = type(x) == "number" and tointeger(x)
    if not i then C.argerr(fname, n, "a register or an integer", x) end
    return "imm", i
  end

  -- A label name or a numeric jump offset: "target" or "off", the value.
  function C.goes_to(fname, n, x)
    if type(x) == "string" then return "target", x end
    local i = type(x) == "number" and tointeger(x)
    if not i then C.argerr(fname, n, "a label name or a jump offset", x) end
    return "off", i
  end

  function C.name(fname, n, x)
    if type(x) ~= "string" or x == "" then C.argerr(fname, n, "a non-empty name", x) end
    return x
  end

  -- A map object (anything with :fd()) or a map fd.
  function C.map(fname, n, m)
    if type(m) == "number" then return C.int(fname, n, m) end
    if (type(m) == "userdata" or type(m) == "table") and m.fd then return m end
    C.argerr(fname, n, "a map or a map fd", m)
  end

  return C
end

return M
