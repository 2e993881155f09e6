-- SPDX-License-Identifier: MIT
-- Every example runs, so examples cannot rot. Each example's header says
-- what it needs ("-- Needs: bpf, tracefs" or "-- Needs: nothing") and may
-- give lines its output must contain ("-- Expect: ...") and the arguments
-- to run it with ("-- Args: ...").
local env = require "support.env"

local LUA = "lua5.4 -e 'package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path; " ..
  "package.cpath=\"build/?.so;\"..package.cpath'"

-- "-- Needs: bpf, tracefs (why, for the reader)" -> {"bpf", "tracefs"}
local function header(path)
  local needs, expects, args = {}, {}, ""
  for line in io.lines(path) do
    if not line:match("^%-%-") then break end
    local n = line:match("^%-%- Needs:%s*(.-)%s*$")
    if n then
      n = n:gsub("%b()", ""):gsub("%(.*$", "")
      for w in n:gmatch("[^,%s]+") do
        if w ~= "nothing" then needs[#needs + 1] = w end
      end
    end
    local e = line:match("^%-%- Expect:%s*(.-)%s*$")
    if e then expects[#expects + 1] = e end
    -- arguments the spec runs it with: "-- Args: 3 self"
    args = line:match("^%-%- Args:%s*(.-)%s*$") or args
  end
  return needs, expects, args
end

-- Runs an example; its stdout and stderr. Raises when it fails.
local function run(path, args)
  local out, err = os.tmpname(), os.tmpname()
  local ok, how, code = os.execute(("timeout 120 %s %s %s >%s 2>%s"):format(LUA, path, args, out, err))
  local function slurp(name)
    local f = assert(io.open(name, "rb"))
    local text = f:read("a")
    f:close()
    os.remove(name)
    return text
  end
  local stdout, stderr = slurp(out), slurp(err)
  assert(ok, ("%s: %s %s\n%s%s"):format(path, how, tostring(code), stdout, stderr))
  return stdout, stderr
end

describe("every example", function()
  local files = env.run("ls examples/*.lua"):gmatch("[^\n]+")
  for path in files do
    local needs, expects, args = header(path)
    env.it(path .. " runs, prints what it expects and nothing on stderr", needs, function()
      local out, err = run(path, args)
      assert.equal("", err, path .. " wrote to stderr")
      assert.is_true(#expects > 0, path .. " has no -- Expect: line")
      for _, e in ipairs(expects) do
        assert.truthy(out:find(e, 1, true), ("%s: output lacks %q:\n%s"):format(path, e, out))
      end
    end)
  end

  it("opens with what it shows, what it needs and what it must print", function()
    for path in env.run("ls examples/*.lua"):gmatch("[^\n]+") do
      local head = {}
      for line in io.lines(path) do
        if not line:match("^%-%-") then break end
        head[#head + 1] = line
      end
      local text = table.concat(head, "\n")
      assert.truthy(text:find("Shows:", 1, true), path .. " does not say what it shows")
      assert.truthy(text:find("Needs:", 1, true), path .. " does not say what it needs")
      assert.truthy(text:find("\n%-%- Expect: %S"), path .. " gives no '-- Expect:' line its output must contain")
    end
  end)

  it("is listed in examples/README.md", function()
    local readme = io.open("examples/README.md"):read("a")
    for path in env.run("ls examples/*.lua examples/c/*.c"):gmatch("[^\n]+") do
      assert.truthy(readme:find(path:gsub("^examples/", ""), 1, true), path .. " missing from examples/README.md")
    end
  end)
end)
