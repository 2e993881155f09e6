-- SPDX-License-Identifier: MIT
-- `make repl` driven as a person would drive it, through a terminal
-- (spec/support/pty_run.c types each line after the prompt): results print
-- as Lua literals that Lua reads back, and every tutorial's code and the
-- README's tour, pasted line by line, work.
local env = require "support.env"
local repl = require "ebpfdsl.repl"

local built
local function pty_run()
  if not built then
    built = env.tmpdir() .. "/pty_run"
    env.run("gcc -std=gnu99 -O2 -Wall -o " .. built .. " spec/support/pty_run.c -lutil")
  end
  return built
end

-- Types the lines into `make -s repl`; -> exited well, the transcript
-- (output and echo, with the terminal's \r\n as \n).
local function session(lines)
  local dir = env.tmpdir()
  local f = assert(io.open(dir .. "/in", "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local ok = os.execute(("%s %s/in 120 -- make -s repl >%s/out 2>&1"):format(pty_run(), dir, dir))
  f = assert(io.open(dir .. "/out", "rb"))
  local text = f:read("a"):gsub("\r\n", "\n")
  f:close()
  env.run("rm -rf " .. dir)
  return ok == true or ok == 0, text
end

-- The lines the REPL printed in answer to the typed line `typed`.
local function answer(text, typed)
  local at = assert(text:find("\n> " .. typed .. "\n", 1, true), "not typed: " .. typed)
  local from = at + #typed + 4
  return text:sub(from, text:find("\n>", from - 1, true) - 1)
end

local function deep_equal(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b or (a ~= a and b ~= b) end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

describe("repl.show", function()
  it("writes values as Lua reads them back", function()
    local cycle = {}
    cycle.self = cycle
    for _, v in ipairs {
      { 1, 2, 3 }, { x = { y = "z\n", [1] = false } }, { [3.5] = "f", ["not a name"] = 1, ["end"] = 2, [-1] = 0 },
      "tab\there \"quoted\" \0 \255", 42, -0.5, 2.0, math.maxinteger, {}, { { {} } }, true,
      { 1, nil, 3 }, { ops = { { op = "mov", dst = "r0", imm = 5 }, { op = "exit" } } },
    } do
      local shown = repl.show(v)
      local back = assert(load("return " .. shown))()
      assert.is_true(deep_equal(v, back), shown)
      assert.equal(shown, repl.show(back)) -- stable: keys in one order
    end
    assert.equal('{ 1, 2, [4] = 4, a = 1, b = { c = "d" } }', repl.show { 1, 2, [4] = 4, a = 1, b = { c = "d" } })
    assert.matches("^{ self = <cycle: table: 0x%x+> }$", repl.show(cycle))
    local long = {}
    for i = 1, 40 do long[i] = "item" .. i end
    assert.matches('^{\n  "item1",\n  "item2",\n', repl.show(long))
    assert.equal("fancy", repl.show(setmetatable({}, { __tostring = function() return "fancy" end })))
    assert.matches("^function: ", repl.show(print))
  end)

  it("turns a leading local declaration into a global one", function()
    for _, c in ipairs {
      { "local x = 1", "x = 1" },
      { "local a <close>, b <const> = f()", "a, b = f()" },
      { "local m <close> = assert(maps.array { value = 'u64' })", "m = assert(maps.array { value = 'u64' })" },
      { "local function f(a)\n  return a\nend", "function f(a)\n  return a\nend" },
      { "local x", "x = nil" },
      { "  local y, z", "  y, z = nil" },
      { "x = 1", "x = 1" },
      { "print('local x = 1')", "print('local x = 1')" },
    } do
      assert.equal(c[2], repl.globalize(c[1]))
    end
  end)
end)

describe("make repl", function()
  env.it("prints results as Lua literals, and objects as they print themselves", { "bpf", "gcc" }, function()
    local typed = {
      [[{1, 2, x = {y = "z"}, [10] = false}]],
      [["tab\there", 2^53, 7 // 2]],
      [[local e = require "ebpfdsl"]],
      [[e.dsl.mov("r0", 5)]],
      [[local m <close> = e.maps.array { value = "u32", max_entries = 1 }]],
      [[m]],
      [[m:type(), m:info().max_entries]],
    }
    local ok, text = session(typed)
    assert.is_true(ok, text)
    assert.matches("^ebpfdsl %d+%.%d+%.%d+ on Lua 5%.4: results print as Lua values; Ctrl%-D quits\n", text)
    local env_e = { e = require "ebpfdsl" }
    for _, i in ipairs { 1, 4 } do
      local want = assert(load("return " .. typed[i], "=want", "t", env_e))()
      local shown = answer(text, typed[i])
      assert.is_true(deep_equal(want, assert(load("return " .. shown))()), shown)
    end
    assert.equal('{ 1, 2, [10] = false, x = { y = "z" } }', answer(text, typed[1]))
    assert.equal('"tab\\there"\t9.007199254741e+15\t3', answer(text, typed[2]))
    assert.equal("", answer(text, typed[5])) -- a statement prints nothing
    assert.matches("^ebpfdsl%.Map array '' fd=%d+ key_size=4 value_size=4 max_entries=1$", answer(text, typed[6]))
    assert.equal('"array"\t1', answer(text, typed[7]))
  end)

  env.it("keeps a line's locals, continues a statement with >>, and goes on after an error", { "gcc" }, function()
    local ok, text = session {
      "local n <const> = 20",
      "local function twice(x)",
      "  return 2 * x",
      "end",
      "twice(n + 1)",
      "error('boom')",
      "for i = 1, 2 do",
      "  io.write(i, ';')",
      "end",
      "n",
    }
    assert.is_true(ok, text)
    assert.matches("\n> local function twice%(x%)\n>>   return 2 %* x\n>> end\n> twice%(n %+ 1%)\n42\n", text)
    assert.matches("\n> error%('boom'%)\nlua5%.4: stdin:1: boom\nstack traceback:\n", text)
    assert.matches("\n> for i = 1, 2 do\n>>   io.write%(i, ';'%)\n>> end\n1;2;> n\n20\n", text)
    assert.matches("\n> \n$", text) -- Ctrl-D: a newline, and the REPL ends
  end)

  -- Each tutorial's Lua blocks (and the README's tour), in order, one
  -- session per file, with the needs its "<!-- needs: -->" line names.
  for path in env.run("ls tutorials/[0-9]*.md README.md"):gmatch("[^\n]+") do
    local text = assert(io.open(path)):read("a")
    local lines, blocks = {}, 0
    for block in text:gmatch("```lua\n(.-)```") do
      blocks = blocks + 1
      for line in block:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    end
    local needs = { "gcc" }
    for w in (text:match("<!%-%- needs:%s*(.-)%s*%-%->") or ""):gmatch("[^,%s]+") do
      if w ~= "nothing" then needs[#needs + 1] = w end
    end
    env.it(path .. ": its " .. blocks .. " code blocks, pasted line by line, work", needs, function()
      assert.is_true(#lines > 0, path .. " has no Lua code")
      local ok, transcript = session(lines)
      assert.is_true(ok, transcript)
      assert.is_nil(transcript:find("\nlua5.4: ", 1, true), transcript)
      local _, prompts = transcript:gsub("\n>>? ", "")
      assert.equal(#lines + 1, prompts, "one prompt per line typed, and one at the end")
    end)
  end
end)
