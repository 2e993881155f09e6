-- SPDX-License-Identifier: MIT
-- require "ebpfdsl": the facade. Submodules load on first use
-- (ebpfdsl.dsl, ebpfdsl.programs, ...), so requiring it stays cheap.
local M = { version = "0.1.0" }

-- require's searchers report a file they could not open as "no file":
-- out of descriptors, ebpfdsl.programs would look absent. The first
-- candidate on the search paths that exists but cannot be opened tells
-- the real cause; nil when every candidate is simply missing.
local function unopenable(name)
  local file = name:gsub("%.", "/")
  for _, path in ipairs { package.path, package.cpath } do
    for template in path:gmatch("[^;]+") do
      local candidate = template:gsub("%?", file)
      local f, msg, errno = io.open(candidate, "rb")
      if f then
        f:close()
      elseif errno ~= 2 then -- anything but ENOENT
        return msg
      end
    end
  end
  return nil
end

return setmetatable(M, {
  __index = function(t, k)
    if type(k) ~= "string" or not k:match("^[%l_]+$") then return nil end
    local name = "ebpfdsl." .. k
    local ok, mod = pcall(require, name)
    if not ok then
      if tostring(mod):find("module '" .. name .. "' not found", 1, true) then
        local why = unopenable(name)
        if why then error(("cannot load %s: %s"):format(name, why), 2) end
        return nil
      end
      error(mod, 2)
    end
    rawset(t, k, mod)
    return mod
  end,
})
