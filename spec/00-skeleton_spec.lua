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

  -- the README's commands, run as written in a copy of the source (luarocks
  -- builds in the source tree: leave ours clean), with HOME a fresh
  -- directory: --local then means its .luarocks, which nothing else has
  env.it("installs with the README's luarocks commands into a fresh tree and loads from there",
    { "gcc", "luarocks" }, function()
    local text = assert(io.open("README.md")):read("a")
    local block = assert(text:match("<!%-%- luarocks%-command %-%->\n```sh\n(.-)```"), "no luarocks-command block")
    assert.matches("luarocks %-%-lua%-version 5%.4", block)
    local home, src = env.tmpdir(), env.tmpdir()
    env.run("cp -r csrc lua rockspec " .. src)
    local script = src .. "/readme.sh"
    local f = assert(io.open(script, "w"))
    -- then, away from the build's own files: where the module comes from,
    -- and that it works
    f:write("set -e\n", block, "cd /\n",
      "lua5.4 -e 'local e = require(\"ebpfdsl\") print(e.version, package.searchpath(\"ebpfdsl.core\", package.cpath), "
      .. "#e.dsl.assemble{e.dsl.mov(\"r0\", 1), e.dsl.exit()})'\n")
    f:close()
    local out = env.run(("cd %s && HOME=%s sh %s"):format(src, home, script))
    local version, again, where, bytes = out:match("\n([%d.]+)\n([%d.]+)\t([^\t]+)\t(%d+)\n$")
    assert.equal(require("ebpfdsl").version, version, out)
    assert.equal(version, again)
    assert.equal(home .. "/.luarocks/lib/lua/5.4/ebpfdsl/core.so", where)
    assert.equal("16", bytes)
    env.run("rm -rf " .. home .. " " .. src)
  end)
end)

describe("the Debian packages", function()
  -- apt's own dependency graph is the oracle: what installing a list pulls in
  local function closure(list)
    local pkgs = {}
    for line in io.lines(list) do
      if line:match("^[%w]") then pkgs[#pkgs + 1] = line end
    end
    return env.run("apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks "
      .. "--no-replaces --no-enhances " .. table.concat(pkgs, " ") .. " | grep -v '^ '")
  end
  local HEAVY = { "^llvm", "^clang", "^libllvm", "^libclang", "%-cross$", "^bpftool$", "^lua%-busted$" }

  env.it("that make probe and make repl install pull in no LLVM, clang, cross headers or bpftool",
    { "apt-cache" }, function()
      for _, target in ipairs { "probe", "repl", "run" } do
        assert.matches("scripts/deps run\n", env.run("make -n " .. target), 1, true)
      end
      local run, all = closure("scripts/packages-run.txt"), closure("scripts/packages.txt")
      for _, pattern in ipairs(HEAVY) do
        for pkg in run:gmatch("[^\n]+") do assert.is_nil(pkg:match(pattern), pkg) end
      end
      -- the test list does pull them in: the check can see them
      assert.matches("\nllvm%-19\n", "\n" .. all)
      assert.matches("\nbpftool\n", "\n" .. all)
      for _, pkg in ipairs { "libbpf-dev", "libelf-dev", "lua5.4", "liblua5.4-dev", "gcc" } do
        assert.matches("\n" .. pkg:gsub("%p", "%%%0") .. "\n", "\n" .. run)
      end
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
    -- beside each module its bytecode, named after the installed source
    -- (not DESTDIR's copy): loaded in its place, errors name that file
    local paths = "package.path=\"" .. root .. "/share/lua/5.4/?.lua;" .. root .. "/share/lua/5.4/?/init.lua\"; "
      .. "package.cpath=\"" .. root .. "/lib/lua/5.4/?.so\"; "
    assert.equal(installed:gsub("%.lua\n", ".luac\n"), env.run("cd " .. root .. "/share/lua/5.4 && ls ebpfdsl/*.luac"))
    local where = "cd / && lua5.4 -e '" .. paths .. "local e = require \"ebpfdsl\"; "
      .. "print(debug.getinfo(e.dsl.neg, \"S\").source, select(2, xpcall(e.dsl.neg, debug.traceback, \"r99\")))'"
    local out1 = env.run(where)
    assert.matches("^@/usr/local/share/lua/5%.4/ebpfdsl/dsl%.lua\t", out1)
    assert.matches("\n%s*/usr/local/share/lua/5%.4/ebpfdsl/dsl%.lua:%d+: in ", out1)
    -- bytecode this Lua cannot load is passed over for the source
    local f = assert(io.open(root .. "/share/lua/5.4/ebpfdsl/dsl.luac", "w"))
    f:write("\27Lua not this one")
    f:close()
    assert.matches("^@" .. root:gsub("%p", "%%%0") .. "/share/lua/5%.4/ebpfdsl/dsl%.lua\t", env.run(where))
    -- the installed tools go through that searcher
    local tool = assert(io.open(root .. "/bin/ebpfdsl-opensnoop")):read("a")
    assert.matches('\npcall%(require, "ebpfdsl"%)[^\n]*\nlocal T = require "ebpfdsl.trace"\n', tool)
    env.run("rm -rf " .. dest)
  end)
end)

describe("make install's pkg-config file", function()
  -- pkg-config itself reads it, with DESTDIR as its sysroot; the C examples
  -- then build with exactly its flags against what was installed, and those
  -- that need no root run.
  env.it("gives the flags that build and link the C examples against the installed header and library",
    { "gcc", "pkg-config" }, function()
    local dest = env.tmpdir()
    env.run("make -s install DESTDIR=" .. dest .. " PREFIX=/usr/local")
    local pc = dest .. "/usr/local/lib/pkgconfig"
    local query = ("PKG_CONFIG_SYSROOT_DIR=%s PKG_CONFIG_PATH=%s pkg-config "):format(dest, pc)
    assert.equal(require("ebpfdsl").version .. "\n", env.run(query .. "--modversion ebpfdsl"))
    local flags = env.run(query .. "--cflags --libs ebpfdsl"):gsub("%s+$", "")
    assert.matches("^%-I" .. dest:gsub("%p", "%%%0") .. "/usr/local/include ", flags)
    assert.matches(" %-L" .. dest:gsub("%p", "%%%0") .. "/usr/local/lib %-lebpfdsl ", flags)
    local built = 0
    for src in env.run("ls examples/c/*.c"):gmatch("[^\n]+") do
      local bin = dest .. "/" .. src:match("([%w_]+)%.c$")
      -- from DESTDIR, away from csrc: only the installed header can give ebpfdsl.h
      env.run(("cd %s && gcc -std=c99 -Wall -Werror %s/%s -o %s %s"):format(dest, env.run("pwd"):gsub("%s+$", ""),
        src, bin, flags))
      built = built + 1
      if io.open(src):read("a"):match("Needs no root") then
        assert.truthy(#env.run(bin) > 0, src)
      end
    end
    assert.is_true(built >= 2)
    env.run("make -s uninstall DESTDIR=" .. dest .. " PREFIX=/usr/local")
    assert.falsy(io.open(pc .. "/ebpfdsl.pc"), "make uninstall left ebpfdsl.pc")
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

-- Every #include of a C file: { {delim = "<" or '"', name = ..., line = n} }.
-- A line that starts a preprocessor include in any other shape (a macro,
-- a missing delimiter) fails, so nothing slips past the checks below.
local function includes(path)
  local t, n = {}, 0
  for l in io.lines(path) do
    n = n + 1
    if l:match("^%s*#%s*include") then
      local open, name, close = l:match("^%s*#%s*include%s*([<\"])([^>\"]+)([>\"])")
      assert(open and (open == "<") == (close == ">"), ("%s:%d: an #include we cannot read: %s"):format(path, n, l))
      t[#t + 1] = { delim = open, name = name, line = n }
    end
  end
  return t
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- ISO C99/C11's own headers: they build anywhere, with no OS behind them.
local ISO_C = {}
for h in ([[assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
  math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h
  stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h]]):gmatch("%S+") do ISO_C[h] = true end

describe("the layers", function()
  it("include Lua's headers only in csrc/lua", function()
    local lua_headers = { ["lua.h"] = true, ["lauxlib.h"] = true, ["lualib.h"] = true, ["luaconf.h"] = true }
    local files = lines("find csrc -name '*.[ch]'")
    assert.is_true(#files > 0)
    for _, f in ipairs(files) do
      if not f:match("^csrc/lua/") then
        for _, inc in ipairs(includes(f)) do
          assert.is_falsy(lua_headers[inc.name:match("[^/]+$")], ("%s:%d includes %s"):format(f, inc.line, inc.name))
        end
      end
    end
  end)

  -- Kernel UAPI constants the core is generated from, as it is from <linux/bpf.h>, and
  -- the lists the Makefile makes from them into build/gen; <linux/btf.h> is the format
  -- the BTF writer writes.
  local UAPI = { ["asm/unistd.h"] = true, ["linux/btf.h"] = true }
  local GENERATED = { ["syscall_names.h"] = true }

  it("keep csrc/core to its own headers, ISO C's, <asm/unistd.h>, <linux/btf.h> and ebpfdsl.h (adding <linux/bpf.h>)",
    function()
    local files = lines("ls csrc/core/*.c csrc/core/*.h")
    local checked = 0
    for _, f in ipairs(files) do
      for _, inc in ipairs(includes(f)) do
        local where = ("%s:%d: #include %s%s%s"):format(f, inc.line, inc.delim, inc.name,
          inc.delim == "<" and ">" or '"')
        if inc.delim == '"' then
          -- a header of csrc/core itself, or the public one
          assert.truthy(inc.name == "../ebpfdsl.h" or GENERATED[inc.name] or (inc.name:match("^[%w_]+%.h$")
            and exists("csrc/core/" .. inc.name)), where .. ": not a csrc/core header")
        else
          assert.truthy(ISO_C[inc.name] or UAPI[inc.name], where .. ": not an ISO C header")
        end
        checked = checked + 1
      end
    end
    assert.is_true(checked > #files, "found only " .. checked .. " #include lines")
    for _, inc in ipairs(includes("csrc/ebpfdsl.h")) do
      assert.truthy(inc.delim == "<" and (ISO_C[inc.name] or inc.name == "linux/bpf.h"),
        ("csrc/ebpfdsl.h:%d: #include %s is neither ISO C nor <linux/bpf.h>"):format(inc.line, inc.name))
    end
  end)

  it("open every file with an SPDX line", function()
    local files = env.run("ls csrc/*.h csrc/*/*.[ch] lua/ebpfdsl/*.lua spec/*.lua")
    for f in files:gmatch("[^\n]+") do
      local h = io.open(f):read("l")
      assert.truthy(h:find("SPDX%-License%-Identifier"), f)
    end
  end)
end)

describe("the static library", function()
  -- An embedding program links libebpfdsl.a beside its own code: a global
  -- without our prefix could collide with one of its names.
  env.it("defines only ebpfdsl_-prefixed global symbols", "nm", function()
    local out = env.run("nm -g --defined-only build/libebpfdsl.a")
    local defined, bad = 0, {}
    local member
    for l in out:gmatch("[^\n]+") do
      local m = l:match("^(.+%.o):$")
      if m then
        member = m
      else
        local kind, name = l:match("^%x*%s+(%a)%s+(%S+)$")
        assert(kind, "an nm line we cannot read: " .. l)
        defined = defined + 1
        if not name:match("^ebpfdsl_") then bad[#bad + 1] = member .. ": " .. kind .. " " .. name end
      end
    end
    assert.is_true(defined > 100, "found only " .. defined .. " defined globals")
    assert.same({}, bad)
  end)

  -- Each kind of link owns its undo (its ops, in the file that makes it):
  -- link.c calls through them, never into a file that makes links, so
  -- those files depend on link.c and not the other way round.
  env.it("has link.o call nothing that the files making links define", "nm", function()
    local defined_in, undefined, member = {}, {}, nil
    for l in env.run("nm build/libebpfdsl.a"):gmatch("[^\n]+") do
      local m = l:match("^(.+%.o):$")
      if m then
        member = m
      else
        local kind, name = l:match("^%x*%s+(%a)%s+(%S+)$")
        if kind == "U" and member == "link.o" then
          undefined[#undefined + 1] = name
        elseif kind and kind:match("[TDBR]") then
          defined_in[name] = member
        end
      end
    end
    local ours, bad = 0, {}
    for _, name in ipairs(undefined) do
      local from = defined_in[name]
      if from then ours = ours + 1 end
      if from and (from:match("^attach_") or from == "tracefs.o" or from == "object.o") then
        bad[#bad + 1] = name .. " (" .. from .. ")"
      end
    end
    assert.is_true(ours >= 3, "link.o calls only " .. ours .. " functions of the library")
    assert.same({}, bad)
  end)
end)

describe("csrc/kernel", function()
  -- The graph: a node per concept (link.c and link.h are one node, "link"),
  -- an edge from each file's node to the node of each csrc/kernel header it
  -- includes with "..."; a cycle ties concepts to each other both ways.
  local function graph()
    local edges = {}
    for f in env.run("ls csrc/kernel/*.c csrc/kernel/*.h"):gmatch("[^\n]+") do
      local from = f:match("([%w_]+)%.[ch]$")
      edges[from] = edges[from] or {}
      for _, inc in ipairs(includes(f)) do
        if inc.delim == '"' and inc.name:match("^[%w_]+%.h$") and exists("csrc/kernel/" .. inc.name) then
          local to = inc.name:match("^([%w_]+)%.h$")
          if to ~= from then edges[from][to] = f .. ":" .. inc.line end
        end
      end
    end
    return edges
  end

  -- The first cycle found by a depth-first walk, as "a -> b -> a", or nil.
  local function cycle(edges)
    local state, stack = {}, {}
    local function walk(n)
      state[n] = "open"
      stack[#stack + 1] = n
      local tos = {}
      for to in pairs(edges[n] or {}) do tos[#tos + 1] = to end
      table.sort(tos)
      for _, to in ipairs(tos) do
        if state[to] == "open" then
          local path, on = {}, false
          for _, s in ipairs(stack) do
            on = on or s == to
            if on then path[#path + 1] = s end
          end
          path[#path + 1] = to
          return table.concat(path, " -> ")
        elseif not state[to] then
          local c = walk(to)
          if c then return c end
        end
      end
      stack[#stack] = nil
      state[n] = "done"
    end
    local nodes = {}
    for n in pairs(edges) do nodes[#nodes + 1] = n end
    table.sort(nodes)
    for _, n in ipairs(nodes) do
      if not state[n] then
        local c = walk(n)
        if c then return c end
      end
    end
  end

  it("finds a cycle where there is one (the check can fail)", function()
    assert.equal("a -> b -> c -> a", cycle { a = { b = "" }, b = { c = "" }, c = { a = "" }, d = { a = "" } })
    assert.is_nil(cycle { a = { b = "", c = "" }, b = { c = "" }, c = {} })
  end)

  it("has no include cycle among its files (a .c and its .h are one node)", function()
    local edges = graph()
    local n = 0
    for _, tos in pairs(edges) do for _ in pairs(tos) do n = n + 1 end end
    assert.is_true(n > 10, "found only " .. n .. " include edges")
    assert.is_nil(cycle(edges))
  end)
end)
