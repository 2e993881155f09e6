-- SPDX-License-Identifier: MIT
-- Whole files in and out, as the specs read and write them: sources they
-- compile, BTF they craft, outputs they compare.
local M = {}

-- The contents of `path`, or nil and io.open's message.
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- Writes `s` to `path`, raising when it cannot.
function M.write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

return M
