-- SPDX-License-Identifier: MIT
-- What start-up costs, as the kernel sees it (strace on a child lua5.4):
-- require "ebpfdsl" and its submodules open each file once and look for
-- the C core along package.cpath only; creating a map asks the kernel
-- for that map and probes nothing; the feature probes load when asked;
-- the DSL makes its helper wrappers on first use, for the header's names
-- only; a source tree loads its modules from make's bytecode only while
-- their sources are unchanged.
local env = require "support.env"

-- Runs a Lua chunk in a child under strace; returns the trace lines.
local function traced(syscalls, code)
  local dir = env.tmpdir()
  local f = assert(io.open(dir .. "/chunk.lua", "w"))
  f:write('package.path = "lua/?.lua;lua/?/init.lua;" .. package.path\n',
    'package.cpath = "build/?.so;" .. package.cpath\n', code)
  f:close()
  env.run(("strace -f -o %s/trace -e trace=%s lua5.4 %s/chunk.lua"):format(dir, syscalls, dir))
  local lines = {}
  for line in io.lines(dir .. "/trace") do lines[#lines + 1] = line end
  env.run("rm -rf " .. dir)
  return lines
end

describe("start-up", function()
  env.it("opens each module once, and finds ebpfdsl.core along package.cpath only", "strace", function()
    local lines = traced("openat,open", [[
      local e = require "ebpfdsl"
      local _ = e.dsl, e.structs, e.maps, e.programs, e.ringbuf, e.perfbuf, e.btf, e.attach, e.kprobe
      assert(require "ebpfdsl.dsl" == e.dsl)
    ]])
    local opened = {}
    for _, l in ipairs(lines) do
      local path = l:match('open[a-z]*%([^"]*"([^"]+)"')
      if path and path:find("ebpfdsl", 1, true) then opened[path] = (opened[path] or 0) + 1 end
    end
    local modules = 0
    for path, n in pairs(opened) do
      -- the facade is found by Lua's own searcher (a probe, then the load);
      -- it then looks for its neighbours itself
      if path:match("^lua/ebpfdsl/[%w_]+%.lua$") and path ~= "lua/ebpfdsl/init.lua" then
        modules = modules + 1
        assert.equal(1, n, path .. " opened " .. n .. " times")
      end
      assert.is_nil(path:match("ebpfdsl/core%.lua$") or path:match("ebpfdsl/core/init%.lua$"),
        "looked for the C core as a Lua file: " .. path)
    end
    assert.is_true(modules >= 9, "only " .. modules .. " modules seen")
    assert.equal(1, opened["build/ebpfdsl/core.so"])
  end)

  it("loads a source tree's modules from make's bytecode while each source is unchanged", function()
    -- what make builds: every module, after the name and text it came from
    env.run("make -s all")
    for file in env.run("ls lua/ebpfdsl/*.lua"):gmatch("[^\n]+") do
      local blob = assert(io.open("build/" .. file .. "c", "rb"), "make built no bytecode for " .. file):read("a")
      local name, text, pos = string.unpack("<s4s4", blob)
      assert.equal("@" .. file, name)
      assert.equal(assert(io.open(file, "rb")):read("a"), text, file .. "'s bytecode is stale")
      assert.is_function(load(blob:sub(pos), name, "b"))
    end
    -- a copy of the tree whose report.luac says something of its own
    local dir = env.tmpdir()
    finally(function() env.run("rm -rf " .. dir) end)
    env.run(("mkdir -p %s/build/lua && cp -r lua %s/ && cp -r build/lua/ebpfdsl %s/build/lua/"):format(dir, dir, dir))
    local src = dir .. "/lua/ebpfdsl/report.lua"
    local text = assert(io.open(src, "rb")):read("a")
    local function bytecode(name, made_from, code)
      local f = assert(io.open(dir .. "/build/lua/ebpfdsl/report.luac", "wb"))
      f:write(string.pack("<s4s4", name, made_from), code or string.dump(load("return 'from bytecode'", name)))
      f:close()
    end
    local function loaded()
      return env.run("cd " .. dir .. " && lua5.4 -e 'package.path = \"lua/?.lua;lua/?/init.lua\"; " ..
        "package.cpath = \"" .. env.run("pwd"):gsub("\n", "") .. "/build/?.so\"; " ..
        "local r = require(\"ebpfdsl\").report; print(type(r) == \"string\" and r or \"from source\")'")
    end
    bytecode("@lua/ebpfdsl/report.lua", text)
    assert.equal("from bytecode\n", loaded())
    bytecode("@/elsewhere/lua/ebpfdsl/report.lua", text) -- made for another path
    assert.equal("from source\n", loaded())
    bytecode("@lua/ebpfdsl/report.lua", text, "\27Lua, not this one's") -- another Lua's
    assert.equal("from source\n", loaded())
    bytecode("@lua/ebpfdsl/report.lua", text)
    local f = assert(io.open(src, "ab"))
    f:write("-- edited after make\n")
    f:close()
    assert.equal("from source\n", loaded())
  end)

  env.it("creates a map without probing the kernel for its type", { "strace", "bpf" }, function()
    local lines = traced("bpf", [[
      local maps = require "ebpfdsl.maps"
      assert(maps.ringbuf(8192))
      assert(maps.hash { key = "u32", value = "u64", max_entries = 7 })
      assert(maps.perf_event_array {})
    ]])
    local creates = {}
    for _, l in ipairs(lines) do
      if l:find("BPF_MAP_CREATE", 1, true) then creates[#creates + 1] = l:match("map_type=([%w_]+)") end
    end
    assert.same({ "BPF_MAP_TYPE_RINGBUF", "BPF_MAP_TYPE_HASH", "BPF_MAP_TYPE_PERF_EVENT_ARRAY" }, creates)
  end)

  it("loads the feature probes only when asked", function()
    local out = env.run([[lua5.4 -e 'package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/?.so;" .. package.cpath
      local e = require "ebpfdsl"
      local _ = e.maps, e.programs, e.ringbuf, e.structs, e.dsl
      io.write(tostring(package.loaded["ebpfdsl.features"] ~= nil), " ")
      pcall(e.maps.supported, "hash")
      io.write(tostring(package.loaded["ebpfdsl.features"] ~= nil))']])
    assert.equal("false true", out)
  end)

  it("makes helper wrappers for the header's names only, the same each time", function()
    local dsl = require "ebpfdsl.dsl"
    local f = dsl.helper_ktime_get_ns
    assert.equal(f, dsl.helper_ktime_get_ns)
    assert.same({ { op = "call", imm = 5, helper = "ktime_get_ns" } }, f())
    assert.is_nil(dsl.helper_bpf_ktime_get_ns)
    assert.is_nil(dsl.helper_no_such_helper)
    assert.is_nil(dsl.no_such_word)
  end)
end)
