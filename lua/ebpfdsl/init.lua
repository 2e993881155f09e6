-- SPDX-License-Identifier: MIT
-- require "ebpfdsl": the facade. Submodules load on first use
-- (ebpfdsl.dsl, ebpfdsl.programs, ...), so requiring it stays cheap.
local M = { version = "0.1.0" }

return setmetatable(M, {
  __index = function(t, k)
    if type(k) ~= "string" or not k:match("^[%l_]+$") then return nil end
    local ok, mod = pcall(require, "ebpfdsl." .. k)
    if not ok then
      if tostring(mod):find("module 'ebpfdsl." .. k .. "' not found", 1, true) then return nil end
      error(mod, 2)
    end
    rawset(t, k, mod)
    return mod
  end,
})
