-- SPDX-License-Identifier: MIT
-- Pinning: a map pinned by one process outlives it and is opened by
-- another from the path alone; bpffs is mounted on demand; refusals are
-- explained. bpftool and stat(1) are the oracles.
local env = require "support.env"
local oracle = require "support.map_oracle"
local json = require "dkjson"
local e = require "ebpfdsl"
local E = require "support.errno"
local maps = e.maps

local NEEDS = { "bpf", "bpftool" }
local PID = oracle.getpid()
local DIR = "/sys/fs/bpf/ebpfdsl-spec52-" .. PID

-- Runs Lua code in a fresh lua5.4 process, with the module on its paths.
local function lua(code)
  local script = require("support.child").script('local maps = require("ebpfdsl").maps\n' .. code)
  local ok, out = pcall(env.run, "lua5.4 " .. script)
  os.remove(script)
  if not ok then error(out, 2) end
  return out
end

local function fstype(dir) return (env.run("stat -f -c %T " .. dir):gsub("%s+$", "")) end

-- pins cannot be opened as files; test(1) looks at the name only
local function exists(path)
  local ok = os.execute("test -e '" .. path .. "'")
  return ok == true or ok == 0
end

describe("pinning", function()
  teardown(function() os.execute("rm -rf " .. DIR) end)

  env.it("a pinned map outlives the process that wrote it and opens from its path in another", NEEDS, function()
    local path = DIR .. "/nested/dirs/counts"
    -- process 1 makes, fills and pins the map, then exits
    local id = tonumber(lua(([[
      local m = assert(maps.hash { key = "u32", value = "i64", max_entries = 16, name = "pinned52" })
      m[1] = 10; m[2] = 20; m[3] = -3
      assert(m:pin(%q))
      io.write(m:id())
    ]]):format(path)))
    assert.is_number(id)
    assert.equal("bpf_fs", fstype(DIR .. "/nested/dirs"))
    local shown = json.decode(env.run("bpftool map show pinned " .. path .. " -j"))
    assert.equal(id, shown.id)
    assert.equal("pinned52", shown.name)

    -- process 2 passes only the path, reads it all and adds an element
    local out = lua(([[
      local m = assert(maps.open_pinned(%q))
      local keys = {}
      for k, v in m:pairs() do keys[#keys + 1] = k .. "=" .. v end
      table.sort(keys)
      io.write(m:type(), " ", m:name(), " ", m:info().key_size, " ", m:info().value_size, " ",
               m:info().max_entries, " ", m:id(), " ", table.concat(keys, ","))
      m[4] = 40
    ]]):format(path))
    assert.equal(("hash pinned52 4 8 16 %d 1=10,2=20,3=-3"):format(id), out)

    -- and this process sees what the second one wrote
    local m <close> = assert(maps.open_pinned(path))
    assert.equal(40, m[4])
    assert.same({ [string.pack("<I4", 4)] = string.pack("<i8", 40) },
      (function()
        local t = {}
        for k, v in pairs(oracle.dump_map(m)) do if k == string.pack("<I4", 4) then t[k] = v end end
        return t
      end)())
    assert.equal(m, m:unpin(path))
    assert.is_false(exists(path))
    assert.equal(10, m[1]) -- still open here
    local gone, msg, errno = maps.open_pinned(path)
    assert.is_nil(gone)
    assert.equal(E.ENOENT, errno)
    assert.equal("open_pinned " .. path .. ": No such file or directory", msg)
  end)

  env.it("opens with the caller's layouts, checked against the kernel's sizes", NEEDS, function()
    local path = DIR .. "/layout"
    local m <close> = assert(maps.array { value_size = 8, max_entries = 2 })
    assert.equal(m, m:pin(path))
    assert.equal(path, m:info().pinned)
    local pair = {
      size = function() return 8 end,
      encode = function(_, t) return string.pack("<i4i4", t.a, t.b) end,
      decode = function(_, s) local a, b = string.unpack("<i4i4", s) return { a = a, b = b } end,
    }
    local again <close> = assert(maps.open_pinned(path, { value = pair }))
    again[1] = { a = 1, b = -1 }
    assert.equal(string.pack("<i4i4", 1, -1), string.pack("<I8", m[1]))
    assert.has_error(function() maps.open_pinned(path, { value = "u32" }) end,
      "value is 4 bytes but the array map's value_size is 8")
    assert.equal(m, m:unpin())
    assert.is_nil(m:info().pinned)
  end)

  env.it("explains refusals: missing pins, taken paths, paths off bpffs, pins of programs", NEEDS, function()
    local missing, msg, errno = maps.open_pinned(DIR .. "/no/such/pin")
    assert.is_nil(missing)
    assert.equal(E.ENOENT, errno)
    assert.matches("open_pinned " .. DIR .. "/no/such/pin: No such file or directory", msg, 1, true)

    local m <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 1, name = "taken" })
    assert.equal(m, m:pin(DIR .. "/taken"))
    local ok
    ok, msg, errno = m:pin(DIR .. "/taken")
    assert.is_nil(ok)
    assert.equal(E.EEXIST, errno)
    assert.equal("pin at " .. DIR .. "/taken on hash map 'taken': File exists", msg)

    local tmp = env.tmpdir()
    ok, msg = m:pin(tmp .. "/m")
    assert.is_nil(ok)
    assert.matches("(its directory is not on a bpf filesystem)", msg, 1, true)
    local plain = tmp .. "/file"
    io.open(plain, "w"):close()
    ok, msg, errno = m:unpin(plain)
    assert.is_nil(ok)
    assert.equal(E.EINVAL, errno)
    assert.matches("not on a bpf filesystem", msg, 1, true)
    assert.is_true(exists(plain)) -- unpin never removes an ordinary file
    ok, msg = maps.open_pinned(plain)
    assert.is_nil(ok)
    assert.matches("not on a bpf filesystem", msg, 1, true)
    os.execute("rm -rf " .. tmp)

    local name = "p52_" .. PID % 100000
    local prog <close> = assert(e.programs.load { type = "socket_filter", name = name, -- luacheck: ignore
      insns = { e.dsl.mov("r0", 0), e.dsl.exit() } })
    local progs = json.decode(env.run("bpftool prog show name " .. name .. " -j"))
    if progs.id then progs = { progs } end -- one match comes alone
    env.run(("bpftool prog pin id %d %s/prog"):format(progs[#progs].id, DIR))
    ok, msg = maps.open_pinned(DIR .. "/prog")
    assert.is_nil(ok)
    assert.equal("open_pinned " .. DIR .. "/prog: the pin is a program, not a map", msg)

    assert.has_error(function() m:pin("relative/path") end)
    assert.has_error(function() maps.open_pinned("relative") end)
    local unpinned <close> = assert(maps.array { value = "u32", max_entries = 1 })
    assert.has_error(function() unpinned:unpin() end,
      "unpin: this map was not pinned through this handle; give the path")
  end)

  env.it("mounts a bpffs where asked", { "bpf", "root" }, function()
    local dir = env.tmpdir()
    assert.are_not.equal("bpf_fs", fstype(dir))
    assert.is_true(maps.bpffs_mount(dir))
    assert.equal("bpf_fs", fstype(dir))
    assert.is_true(maps.bpffs_mount(dir)) -- already there: nothing to do
    local m <close> = assert(maps.array { value = "u32", max_entries = 1 })
    assert.equal(m, m:pin(dir .. "/a/b"))
    assert.is_true(exists(dir .. "/a/b"))
    env.run("umount " .. dir .. " && rmdir " .. dir)
  end)

  env.it("mounts /sys/fs/bpf on demand when a pin needs it", { "bpf", "root", "unshare" }, function()
    -- in a private mount namespace, so that nothing else sees the unmount
    local out = env.run([[unshare -m --propagation private sh -c '
      while [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ]; do umount -l /sys/fs/bpf || exit 1; done
      echo "before: $(stat -f -c %T /sys/fs/bpf)"
      lua5.4 -e "package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path
        package.cpath=\"build/?.so;\"..package.cpath
        local maps = require(\"ebpfdsl\").maps
        local m = assert(maps.array { value = \"u32\", max_entries = 1 })
        assert(m:pin(\"/sys/fs/bpf/ondemand/m\"))"
      echo "after: $(stat -f -c %T /sys/fs/bpf)"
      ls /sys/fs/bpf/ondemand
    ']])
    assert.matches("before: [^\n]+\n", out)
    assert.is_nil(out:match("before: bpf_fs"))
    assert.matches("after: bpf_fs\nm\n", out, 1, true)
  end)
end)

-- Maps, programs and links pin, unpin and open pins one way: the same
-- checks, the same messages; the kernel's kind of each pin is the oracle.
describe("pins of every kind", function()
  local dir = DIR .. "-kinds"
  teardown(function() os.execute("rm -rf " .. dir) end)

  local function objects()
    local m = assert(maps.hash { key = "u32", value = "u32", max_entries = 1 })
    local p = assert(e.programs.load { type = "raw_tracepoint", insns = { e.dsl.mov("r0", 0), e.dsl.exit() } })
    local l = assert(p:attach_raw_tracepoint("sys_enter"))
    return m, p, l
  end

  env.it("each open refuses a pin of another kind and names both", NEEDS, function()
    local m, p, l = objects()
    finally(function() l:close() p:close() m:close() end)
    assert(m:pin(dir .. "/m"))
    assert(p:pin(dir .. "/p"))
    assert(l:pin(dir .. "/l"))
    local opens = {
      { e.maps.open_pinned, "open_pinned", "map" },
      { e.programs.open_pinned, "open of pinned program", "program" },
      { e.attach.open_pinned, "open pinned link", "link" },
    }
    for _, o in ipairs(opens) do
      for _, pin in ipairs { { "m", "map" }, { "p", "program" }, { "l", "link" } } do
        local path = dir .. "/" .. pin[1]
        local got, msg, errno = o[1](path)
        if pin[2] == o[3] then
          assert.is_truthy(got, msg)
          got:close()
        else
          assert.is_nil(got)
          assert.equal(("%s %s: the pin is a %s, not a %s"):format(o[2], path, pin[2], o[3]), msg)
          assert.equal(E.EINVAL, errno)
        end
      end
    end
    assert(m:unpin())
    assert(p:unpin())
    assert(l:unpin())
  end)

  -- One convention, liolib's file:write: the handle itself, or nil, a
  -- message and the errno; bpftool reads back which object each pin holds.
  env.it("each pin and unpin gives the object itself, or nil, message, errno", NEEDS, function()
    local m, p, l = objects()
    finally(function() l:close() p:close() m:close() end)
    local function pinned_id(what, path)
      return json.decode(env.run(("bpftool %s show pinned %s -j"):format(what, path))).id
    end
    for _, k in ipairs { { "m", m, "map" }, { "p", p, "prog" }, { "l", l, "link" } } do
      local name, o, what = k[1], k[2], k[3]
      local path = dir .. "/conv_" .. name
      assert.equal(o, o:pin(path))
      assert.equal(o:info().id, pinned_id(what, path))
      local r, msg, errno = o:pin(dir .. "/conv_" .. name) -- once per handle for links; taken for the others
      assert.is_nil(r)
      assert.equal("string", type(msg))
      assert.equal(o == l and E.EBUSY or E.EEXIST, errno)
      assert.equal(o, o:unpin())
      assert.is_false(exists(path))
      r, msg, errno = o:unpin(path) -- nothing there any more
      assert.is_nil(r)
      assert.matches(path, msg, 1, true)
      assert.equal(E.ENOENT, errno)
    end
  end)

  env.it("each raises on a relative path", NEEDS, function()
    local m, p, l = objects()
    finally(function() l:close() p:close() m:close() end)
    for _, f in ipairs {
      function() m:pin("rel/x") end, function() p:pin("rel/x") end, function() l:pin("rel/x") end,
      function() m:unpin("rel/x") end, function() p:unpin("rel/x") end, function() l:unpin("rel/x") end,
      function() e.maps.open_pinned("rel/x") end, function() e.programs.open_pinned("rel/x") end,
      function() e.attach.open_pinned("rel/x") end,
    } do
      local ok, err = pcall(f)
      assert.is_false(ok)
      assert.matches("bad argument #%d to '[%w_]+' %(a pin path must be absolute%)$", err)
    end
  end)

  env.it("each unpins another path without forgetting its own pin", NEEDS, function()
    local m, p, l = objects()
    finally(function() l:close() p:close() m:close() end)
    for name, o in pairs { m = m, p = p, l = l } do
      local a, b = dir .. "/" .. name .. "a", dir .. "/" .. name .. "b"
      if o == l then
        -- a handle pins a link once: another handle on it makes the pin at a
        assert(l:pin(b))
        local twin = assert(e.attach.open_pinned(b))
        assert(twin:pin(a))
        twin:close()
      else
        assert(o:pin(a))
        assert(o:pin(b))
      end
      assert.equal(o, o:unpin(a))
      assert.is_false(exists(a))
      assert.is_true(exists(b))
      assert.equal(o, o:unpin()) -- the handle's own pin, b
      assert.is_false(exists(b))
    end
  end)

  env.it("a link's unpin, like every unpin, never removes a file outside a bpffs", { "bpf", "root" }, function()
    local fs = env.tmpdir()
    finally(function() os.execute("umount " .. fs .. " 2>/dev/null; rm -rf " .. fs) end)
    assert.is_true(maps.bpffs_mount(fs))
    local m, p, l = objects()
    finally(function() l:close() p:close() m:close() end)
    assert(l:pin(fs .. "/link"))
    env.run("umount " .. fs)
    local f = assert(io.open(fs .. "/link", "w")) -- an ordinary file where the pin was
    f:write("keep me")
    f:close()
    local ok, msg, errno = l:unpin()
    assert.is_nil(ok)
    assert.equal(E.EINVAL, errno)
    assert.equal("unpin of " .. fs .. "/link (its directory is not on a bpf filesystem): Invalid argument", msg)
    assert.equal("keep me", io.open(fs .. "/link"):read("a"))
  end)

  env.it("gives Map, Prog and Link one handle convention: fd, pin, unpin, close, __tostring", NEEDS, function()
    local m, p, l = objects()
    finally(function() l:close() p:close() m:close() end)
    for _, h in ipairs { { m, "map" }, { p, "program" }, { l, "link" } } do
      local o, noun = h[1], h[2]
      local class = getmetatable(o).__name
      assert.is_number(o:fd())
      assert.equal(o, o:pin(dir .. "/same"))
      assert.equal(o, o:unpin())
      assert.is_false(exists(dir .. "/same"))
      assert.has_error(function() o:unpin() end,
        ("unpin: this %s was not pinned through this handle; give the path"):format(noun))
      assert.equal(0, select("#", o:close()))
      assert.equal(0, select("#", getmetatable(o).__close(o))) -- idempotent, as __gc
      assert.matches(" %(closed%)$", tostring(o))
      assert.has_error(function() o:fd() end, "attempt to use a closed " .. class)
      assert.has_error(function() o:pin(dir .. "/same") end, "attempt to use a closed " .. class)
    end
  end)
end)
