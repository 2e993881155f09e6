-- SPDX-License-Identifier: MIT
-- The tools on ebpfdsl.trace, run as a user runs them (lua5.4 tools/NAME.lua
-- -p PID from the repository root), each against a child of this spec
-- (spec/support/trace_target.c) that waits until the tool has printed its
-- header and then does exactly known work; the output is compared whole.
-- Summary tools end on SIGINT, as on Ctrl-C, and exit 0. Each tool stays
-- within 12 lines that are neither blank nor comments.
local env = require "support.env"
local target = require "support.trace_target"

local NEEDS = { "bpf", "tracefs", "gcc" }

-- bpftrace's histogram line: label in 16 columns, count in 8, a 52-wide bar.
local function hist_line(label, count, max)
  return ("%-16s%8d |%-52s|\n"):format(label, count, ("@"):rep(count * 52 // max))
end

local function code_lines(path)
  local n = 0
  for line in io.lines(path) do
    if not line:match("^%s*$") and not line:match("^%s*%-%-") and not line:match("^#!") then n = n + 1 end
  end
  return n
end

describe("the tools", function()
  for _, name in ipairs { "opensnoop", "syscount", "readhist" } do
    it(name .. " is at most 12 lines of code, options included", function()
      assert.is_true(code_lines("tools/" .. name .. ".lua") <= 12)
    end)
  end

  it("print their usage on -h and exit 0, and refuse a bad option with usage and exit 2", function()
    for _, name in ipairs { "opensnoop", "syscount", "readhist" } do
      local out = env.run("lua5.4 tools/" .. name .. ".lua -h")
      assert.truthy(out:find("^usage: tools/" .. name .. "%.lua %[%-p PID%] %[%-d SECONDS%] %[%-h%]\n" .. name .. ": "))
      local ok, _, code = os.execute("lua5.4 tools/" .. name .. ".lua -p nope >/dev/null 2>&1")
      assert.is_nil(ok)
      assert.equal(2, code)
    end
  end)
end)

describe("make install", function()
  it("installs the tools as ebpfdsl-NAME, which run from the installed tree alone", function()
    local dest = env.tmpdir()
    env.run("make -s install DESTDIR=" .. dest .. " PREFIX=/usr/local")
    local root = dest .. "/usr/local"
    for _, name in ipairs { "opensnoop", "syscount", "readhist" } do
      local bin = root .. "/bin/ebpfdsl-" .. name
      local out = env.run(("cd / && LUA_PATH='%s/share/lua/5.4/?.lua;;' LUA_CPATH='%s/lib/lua/5.4/?.so;;' %s -h")
        :format(root, root, bin))
      assert.truthy(out:find("^usage: " .. bin:gsub("%p", "%%%0") .. " %[%-p PID%]"), out)
      -- the line that finds the module in the source tree is gone
      assert.falsy(target.read(bin):find("package.path", 1, true))
    end
    env.run("rm -rf " .. dest)
  end)
end)

describe("tools/opensnoop.lua", function()
  env.it("prints its header once attached, then the one file the child opened", NEEDS, function()
    local path = env.tmpdir() .. "/opened-by-the-child"
    local t = target.start { "open", path }
    local tool = target.tool("tools/opensnoop.lua", "-p", t.pid)
    tool.wait_line("^PID")
    t.go()
    t.wait()
    tool.wait_line(path:gsub("%p", "%%%0"), 10)
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    assert.equal(("%-7s %-16s %s\n%-7d %-16s %s\n"):format("PID", "COMM", "FILE", t.pid, "trace_target", path), out)
    assert.equal("", err)
  end)

  env.it("ends by itself after -d seconds", NEEDS, function()
    local tool = target.tool("tools/opensnoop.lua", "-p", 1, "-d", 0.5)
    local rc, out = tool.wait(10)
    assert.equal(0, rc)
    assert.equal(("%-7s %-16s %s\n"):format("PID", "COMM", "FILE"), out)
  end)
end)

describe("tools/syscount.lua", function()
  env.it("counts a child's 100 getppid calls as 100, on Ctrl-C", NEEDS, function()
    local t = target.start { "getppid", "100" }
    local tool = target.tool("tools/syscount.lua", "-p", t.pid)
    tool.wait_line("^Tracing")
    t.go()
    t.wait()
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    assert.equal("Tracing syscalls... Hit Ctrl-C to end.\n\n\n" ..
      "@calls[trace_target, exit_group]: 1\n" ..
      "@calls[trace_target, getppid]: 100\n", out)
  end)
end)

describe("tools/readhist.lua", function()
  env.it("puts a child's 100 reads of 100 bytes in [64, 128)", NEEDS, function()
    local t = target.start { "read", "100", "100" }
    local tool = target.tool("tools/readhist.lua", "-p", t.pid)
    tool.wait_line("^Tracing")
    t.go()
    t.wait()
    tool.interrupt()
    local rc, out, err = tool.wait()
    assert.equal(0, rc, err)
    assert.equal("Tracing read() sizes... Hit Ctrl-C to end.\n\n\n@bytes: \n" .. hist_line("[64, 128)", 100, 100) ..
      "\n", out)
  end)

  env.it("prints the histogram at the end of -d too", NEEDS, function()
    local t = target.start { "read", "3", "1", "read", "5", "5000" }
    local tool = target.tool("tools/readhist.lua", "-p", t.pid, "-d", 3)
    tool.wait_line("^Tracing")
    t.go()
    t.wait()
    local rc, out = tool.wait()
    assert.equal(0, rc)
    assert.equal("Tracing read() sizes... Hit Ctrl-C to end.\n\n\n@bytes: \n" ..
      hist_line("[1]", 3, 5) .. hist_line("[2, 4)", 0, 5) .. hist_line("[4, 8)", 0, 5) ..
      hist_line("[8, 16)", 0, 5) .. hist_line("[16, 32)", 0, 5) .. hist_line("[32, 64)", 0, 5) ..
      hist_line("[64, 128)", 0, 5) .. hist_line("[128, 256)", 0, 5) .. hist_line("[256, 512)", 0, 5) ..
      hist_line("[512, 1K)", 0, 5) .. hist_line("[1K, 2K)", 0, 5) .. hist_line("[2K, 4K)", 0, 5) ..
      hist_line("[4K, 8K)", 5, 5) .. "\n", out)
  end)
end)
