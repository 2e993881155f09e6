-- SPDX-License-Identifier: MIT
-- Runs the Lua code blocks of a Markdown file as one chunk, so a document's examples
-- cannot rot: run(path) raises with the document's name when a block fails.
local M = {}

function M.run(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("a")
  f:close()
  local code = {}
  for block in text:gmatch("```lua\n(.-)```") do code[#code + 1] = block end
  assert(#code > 0, path .. " has no Lua code blocks")
  local chunk = assert(load(table.concat(code, "\n"), "=" .. path, "t",
    setmetatable({ print = function() end }, { __index = _G })))
  chunk()
  return #code
end

return M
