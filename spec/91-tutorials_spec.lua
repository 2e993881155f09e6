-- SPDX-License-Identifier: MIT
-- Every tutorial's Lua code blocks run, in order, as one chunk per
-- tutorial; a tutorial declares what it needs in a "<!-- needs: ... -->"
-- line, as examples do in their headers.
local env = require "support.env"

local function blocks(path)
  local text = io.open(path):read("a")
  local code = {}
  for block in text:gmatch("```lua\n(.-)```") do code[#code + 1] = block end
  local needs = {}
  local n = text:match("<!%-%- needs:%s*(.-)%s*%-%->")
  if n then
    for w in n:gmatch("[^,%s]+") do if w ~= "nothing" then needs[#needs + 1] = w end end
  end
  return table.concat(code, "\n"), needs, #code
end

describe("every tutorial, and the README's tour,", function()
  for path in env.run("ls tutorials/[0-9]*.md README.md"):gmatch("[^\n]+") do
    local code, needs, count = blocks(path)
    env.it(path .. " runs (" .. count .. " code blocks)", needs, function()
      assert.is_true(count > 0, path .. " has no Lua code blocks")
      local chunk = assert(load(code, "=" .. path, "t", setmetatable({ print = function() end }, { __index = _G })))
      chunk()
    end)
  end

  it("are each listed in tutorials/README.md", function()
    local index = io.open("tutorials/README.md"):read("a")
    for path in env.run("ls tutorials/[0-9]*.md"):gmatch("[^\n]+") do
      assert.truthy(index:find("(" .. path:gsub("^tutorials/", "") .. ")", 1, true), path .. " is not in the index")
    end
  end)
end)
