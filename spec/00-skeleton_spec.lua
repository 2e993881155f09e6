-- SPDX-License-Identifier: MIT
-- The project's shape: the rockspec lists exactly the files on disk, the
-- module loads under Lua 5.4 without touching _G, layers keep to their
-- folders, and the rock installs into a fresh tree and loads from there.
local env = require "support.env"

local function lines(cmd)
  local out = {}
  for l in env.run(cmd):gmatch("[^\n]+") do out[#out + 1] = l end
  table.sort(out)
  return out
end

local function rockspec()
  local t = {}
  local chunk = assert(loadfile("rockspec/ebpfdsl-scm-1.rockspec", "t", t))
  chunk()
  return t
end

describe("the rockspec", function()
  it("lists every C source on disk, and nothing else", function()
    local sources = {}
    for _, s in ipairs(rockspec().build.modules["ebpfdsl.core"].sources) do sources[#sources + 1] = s end
    table.sort(sources)
    assert.same(lines("ls csrc/core/*.c csrc/kernel/*.c csrc/lua/*.c"), sources)
  end)

  it("lists every Lua module on disk, and nothing else", function()
    local files = {}
    for name, src in pairs(rockspec().build.modules) do
      if type(src) == "string" then
        files[#files + 1] = src
        local expect = name == "ebpfdsl" and "lua/ebpfdsl/init.lua" or ("lua/" .. name:gsub("%.", "/") .. ".lua")
        assert.equal(expect, src)
      end
    end
    table.sort(files)
    assert.same(lines("ls lua/ebpfdsl/*.lua"), files)
  end)

  env.it("installs with luarocks into a fresh tree and loads from there", { "gcc" }, function()
    -- luarocks builds in the source tree: build a copy, leave ours clean
    local tree, src = env.tmpdir(), env.tmpdir()
    env.run("cp -r csrc lua rockspec " .. src)
    env.run("cd " .. src .. " && luarocks --lua-version 5.4 make --tree " .. tree .. " rockspec/ebpfdsl-scm-1.rockspec")
    local out = env.run("cd / && lua5.4 -e 'package.path=\"" .. tree .. "/share/lua/5.4/?.lua;" .. tree ..
      "/share/lua/5.4/?/init.lua\"; package.cpath=\"" .. tree .. "/lib/lua/5.4/?.so\"; " ..
      "local e = require \"ebpfdsl\"; print(#e.dsl.assemble{e.dsl.mov(\"r0\", 1), e.dsl.exit()})'")
    assert.equal("16\n", out)
    env.run("rm -rf " .. tree .. " " .. src)
  end)
end)

describe("make install", function()
  it("installs the module, the header and the static library under DESTDIR", function()
    local dest = env.tmpdir()
    env.run("make -s install DESTDIR=" .. dest .. " PREFIX=/usr/local")
    local root = dest .. "/usr/local"
    for _, f in ipairs { "/include/ebpfdsl.h", "/lib/libebpfdsl.a", "/lib/lua/5.4/ebpfdsl/core.so",
                         "/share/lua/5.4/ebpfdsl/init.lua" } do
      assert.truthy(io.open(root .. f), "not installed: " .. f)
    end
    -- every Lua module, and it loads from there alone
    local installed = env.run("cd " .. root .. "/share/lua/5.4 && ls ebpfdsl/*.lua")
    assert.equal(env.run("cd lua && ls ebpfdsl/*.lua"), installed)
    local out = env.run("cd / && lua5.4 -e 'package.path=\"" .. root .. "/share/lua/5.4/?.lua;" .. root ..
      "/share/lua/5.4/?/init.lua\"; package.cpath=\"" .. root .. "/lib/lua/5.4/?.so\"; " ..
      "local e = require \"ebpfdsl\"; print(#e.dsl.assemble{e.dsl.mov(\"r0\", 1), e.dsl.exit()})'")
    assert.equal("16\n", out)
    env.run("rm -rf " .. dest)
  end)
end)

describe("the module", function()
  it("loads under Lua 5.4 and leaves _G untouched", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    local e = require "ebpfdsl"
    assert.equal("Lua 5.4", _VERSION)
    assert.is_table(e.dsl)
    assert.is_table(e.programs)
    for k in pairs(_G) do assert.is_true(before[k], "new global " .. tostring(k)) end
  end)

  it("gives nil for a submodule that does not exist", function()
    assert.is_nil(require("ebpfdsl").no_such_module)
  end)
end)

describe("the layers", function()
  it("include lua.h only in csrc/lua", function()
    local hits = env.run("grep -rl 'lua.h\\|lauxlib.h' csrc || true")
    for f in hits:gmatch("[^\n]+") do assert.truthy(f:match("^csrc/lua/"), f .. " includes Lua") end
  end)

  it("keep csrc/core free of syscalls, libbpf and Lua", function()
    local hits = env.run("grep -rn '#include <bpf/\\|#include <sys/syscall\\|#include <unistd' csrc/core || true")
    assert.equal("", hits)
  end)

  it("open every file with an SPDX line", function()
    local files = env.run("ls csrc/*.h csrc/*/*.[ch] lua/ebpfdsl/*.lua spec/*.lua")
    for f in files:gmatch("[^\n]+") do
      local h = io.open(f):read("l")
      assert.truthy(h:find("SPDX%-License%-Identifier"), f)
    end
  end)
end)
