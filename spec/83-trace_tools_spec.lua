-- SPDX-License-Identifier: MIT
-- The tools on ebpfdsl.trace, run as a user runs them (lua5.4 tools/NAME.lua
-- -p PID from the repository root), each against a child of this spec
-- (spec/support/trace_target.c) that waits until the tool has printed its
-- header and then does exactly known work; the output is compared whole.
-- Summary tools end on SIGINT, as on Ctrl-C, and exit 0. Each tool stays
-- within its number of lines that are neither blank nor comments.
local env = require "support.env"
local target = require "support.trace_target"
local cases = require "support.tool_cases"

local NEEDS = cases.NEEDS
local C = cases.cases

-- Lines of code each tool may have (issue 8): the five everyday ones 12,
-- the others 20.
local LIMITS = { opensnoop = 12, execsnoop = 12, syscount = 12, readhist = 12, funclatency = 12, exitsnoop = 20,
                 killsnoop = 20, tcpconnect = 20, runqlat = 20, profile = 20 }
local TOOLS = {}
for name in pairs(LIMITS) do TOOLS[#TOOLS + 1] = name end
table.sort(TOOLS)

local function code_lines(path)
  local n = 0
  for line in io.lines(path) do
    if not line:match("^%s*$") and not line:match("^%s*%-%-") and not line:match("^#!") then n = n + 1 end
  end
  return n
end

describe("the tools", function()
  it("are the ten of issue 8, no more", function()
    local found = {}
    for f in env.run("ls tools"):gmatch("[^\n]+") do found[#found + 1] = f:match("^(.-)%.lua$") or f end
    table.sort(found)
    assert.same(TOOLS, found)
  end)

  for _, name in ipairs(TOOLS) do
    it(("%s is at most %d lines of code, options included"):format(name, LIMITS[name]), function()
      assert.is_true(code_lines("tools/" .. name .. ".lua") <= LIMITS[name])
    end)
  end

  it("print their usage on -h and exit 0, and refuse a bad option with usage and exit 2", function()
    for _, name in ipairs(TOOLS) do
      local out = env.run("lua5.4 tools/" .. name .. ".lua -h")
      assert.truthy(out:find("^usage: tools/" .. name .. "%.lua %[%-p PID%] %[%-d SECONDS%] [^\n]*%[%-h%][^\n]*\n" ..
        name .. ": "), out)
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
    for _, name in ipairs(TOOLS) do
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

local hist_line = cases.hist_line

describe("tools/opensnoop.lua", function()
  env.it("prints its header once attached, then the one file the child opened", NEEDS, function()
    cases.run(C.opensnoop)
  end)

  env.it("ends by itself after -d seconds", NEEDS, function()
    local tool = target.tool("tools/opensnoop.lua", "-p", 1, "-d", 0.5)
    local rc, out = tool.wait(10)
    assert.equal(0, rc)
    assert.equal(("%-7s %-16s %s\n"):format("PID", "COMM", "FILE"), out)
  end)
end)

describe("tools/syscount.lua", function()
  env.it("counts a child's 100 getppid calls as 100, on Ctrl-C", NEEDS, function() cases.run(C.syscount) end)
end)

describe("tools/readhist.lua", function()
  env.it("puts a child's 100 reads of 100 bytes in [64, 128)", NEEDS, function() cases.run(C.readhist) end)

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

describe("tools/execsnoop.lua", function()
  env.it("prints the exact argv of a child's exec, with its pid and its parent's", NEEDS, function()
    cases.run(C.execsnoop)
  end)
end)

describe("tools/exitsnoop.lua", function()
  env.it("prints a child's exit code", NEEDS, function() cases.run(C.exitsnoop) end)
  env.it("prints the signal that killed a child", NEEDS, function() cases.run(C.exitsnoop_signal) end)
end)

describe("tools/killsnoop.lua", function()
  env.it("prints a kill of a known pid with a known signal, and one that fails", NEEDS, function()
    cases.run(C.killsnoop)
  end)
end)

describe("tools/funclatency.lua", function()
  env.it("puts a user function's calls of known durations in their buckets", cases.UPROBE, function()
    cases.run(C.funclatency)
  end)
end)

describe("tools/tcpconnect.lua", function()
  -- program types in the kernel's fdinfo: 2 kprobe, 5 tracepoint
  env.it("prints a child's loopback connects, IPv4 and IPv6, to a known port (sock:inet_sock_set_state)", NEEDS,
    function()
      assert.same({ [5] = true }, cases.run(C.tcpconnect).types)
    end)

  env.it("does the same from a kprobe on tcp_connect where the kernel has kprobes", cases.KPROBE, function()
    assert.same({ [2] = true }, cases.run(C.tcpconnect_kprobe).types)
  end)

  env.it("takes the tracepoint without -t where the kernel has no kprobes",
    { "bpf", "tracefs", "gcc", "!attach:kprobe" }, function()
    assert.same({ [5] = true }, cases.run(C.tcpconnect_kprobe).types)
  end)
end)

describe("tools/runqlat.lua", function()
  env.it("counts each of a child's wakeups from its sleeps, in a histogram of microseconds", NEEDS, function()
    cases.run(C.runqlat)
  end)
end)

describe("tools/profile.lua", function()
  env.it("shows the child's own busy function in its user stack, under its command", NEEDS, function()
    cases.run(C.profile)
  end)
end)
