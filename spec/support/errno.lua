-- SPDX-License-Identifier: MIT
-- errno values by name, read from the UAPI headers (asm-generic/errno-base.h
-- and errno.h) rather than written from memory: errno.EINVAL -> 22.
-- ENOTSUPP is the kernel's own (include/linux/errno.h, not UAPI).
local M = {}

local values = {
  ENOTSUPP = 524, -- include/linux/errno.h: kernel-internal, leaks out of bpf(2)
}

for _, header in ipairs { "/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h" } do
  local f = assert(io.open(header))
  for name, value in f:read("a"):gmatch("#define%s+(E[%u%d]+)%s+(%d+)") do values[name] = tonumber(value) end
  f:close()
end

return setmetatable(M, {
  __index = function(_, name)
    return values[name] or error("support.errno: no " .. tostring(name) .. " in the UAPI errno headers", 2)
  end,
})
