-- SPDX-License-Identifier: MIT
-- BTF in the kernel: programs carry a FUNC per function and a line per
-- instruction (bpftool prints them back with the xlated code); maps whose
-- key or value is a layout carry it as BTF (bpftool prints their values by
-- field; spin locks, timers and kptrs work in them); helpers and kfuncs are
-- called by the names the running kernel's BTF gives them (bpftool's dump
-- of it is the oracle for the ids), with suggestions near a misspelling.
local env = require "support.env"
local oracle = require "support.map_oracle"
local dsl = require "ebpfdsl.dsl"
local maps = require "ebpfdsl.maps"
local programs = require "ebpfdsl.programs"
local structs = require "ebpfdsl.structs"
local kfuncs = require "ebpfdsl.kfuncs"

local PACKET = string.rep("\0", 64)

local load = require("support.bpf").load

local lines_of = require("support.insns").lines

-- ---------------------------------------------------------------------
-- Programs
-- ---------------------------------------------------------------------

local SUBPROGS = {
  dsl.mov("r1", 20), dsl.call_local("twice"), dsl.add("r0", 2), dsl.exit(),
  dsl.label("twice"), dsl.mov("r0", "r1"), dsl.add("r0", "r1"), dsl.exit(),
}

describe("a program's BTF in the kernel", function()
  env.it("names every function and gives every instruction its text, as bpftool dumps the program",
    { "bpf", "bpftool" }, function()
      local p <close> = load { type = "socket_filter", name = "outer", insns = SUBPROGS }
      assert.equal(42, p:test_run { data = PACKET }.retval)
      local info = p:info()
      assert.is_true(info.btf_id > 0)
      local dump = lines_of(env.run(("bpftool prog dump xlated id %d linum"):format(info.id)))
      local ours = {}
      for slot, text in dsl.dump(SUBPROGS):gmatch("%s*(%d+): ([^\n]*)") do ours[#ours + 1] = { slot, text } end
      -- each function opens with its prototype, each instruction with its line
      assert.equal("long outer(void * ctx):", dump[1])
      local k = 0
      for _, l in ipairs(dump) do
        local text, file, line = l:match("^; (.*) %[file:(%S+) line_num:(%d+) line_col:0%]$")
        if text then
          k = k + 1
          assert.same({ ours[k][2], "ebpfdsl", ours[k][1] }, { text, file, line })
        end
      end
      assert.equal(#ours, k)
      assert.is_truthy(table.concat(dump, "\n"):find("\nlong twice():\n", 1, true))
      local btf = env.run(("bpftool btf dump id %d"):format(info.btf_id))
      assert.matches("FUNC 'twice' type_id=%d+ linkage=static", btf)
    end)

  env.it("takes Lua source lines: bpftool shows the line a user wrote", { "bpf", "bpftool" }, function()
    local here = debug.getinfo(1, "S").short_src
    local at = debug.getinfo(1, "l").currentline
    local p <close> = load { type = "socket_filter", name = "src", insns = SUBPROGS,
      lines = { [0] = here .. ":" .. at, [4] = { file = "twice.lua", line = 9, col = 4, text = "return x + x" } } }
    local dump = env.run(("bpftool prog dump xlated id %d linum"):format(p:info().id))
    assert.matches(('; local at = debug.getinfo(1, "l").currentline [file:%s line_num:%d line_col:0]')
      :format(here, at), dump, 1, true)
    assert.matches("; return x + x [file:twice.lua line_num:9 line_col:4]", dump, 1, true)
    assert.equal(42, p:test_run { data = PACKET }.retval)
  end)

  env.it("carries a trace probe's Lua lines: bpftool shows the line each instruction came from",
    { "bpf", "bpftool", "prog:tracepoint" }, function()
      local T = require("ebpfdsl.trace").new()
      local here = debug.getinfo(1, "S").short_src
      local probe = T.tracepoint("syscalls:sys_enter_getppid", function(p)
        T.maps.calls[p.pid] = T.count() -- the line bpftool must show
      end)
      local line = debug.getinfo(1, "l").currentline - 2
      local prog = assert(probe:load())
      local dump = env.run(("bpftool prog dump xlated id %d linum"):format(prog:info().id))
      assert.matches(("; T.maps.calls[p.pid] = T.count() -- the line bpftool must show [file:%s line_num:%d"):format(
        here, line), dump, 1, true)
      prog:close()
    end)

  env.it("goes with a program only when asked, or when it has functions the kernel must know", "bpf", function()
    local plain <close> = load { type = "socket_filter", insns = { dsl.mov("r0", 1), dsl.exit() } }
    assert.equal(0, plain:info().btf_id)
    local asked <close> = load { type = "socket_filter", btf = true, insns = { dsl.mov("r0", 1), dsl.exit() } }
    assert.is_true(asked:info().btf_id > 0)
    local without <close> = load { type = "socket_filter", btf = false, insns = SUBPROGS }
    assert.equal(0, without:info().btf_id)
    assert.equal(42, without:test_run { data = PACKET }.retval) -- bpf-to-bpf calls need none
  end)

  env.it("reports a refused BTF with the kernel's reason", "bpf", function()
    -- a function name longer than the kernel's symbols may be
    local long = string.rep("f", 600)
    local prog, msg, errno, log = programs.load { type = "socket_filter", name = "long_name", insns = {
      dsl.call_local(long), dsl.exit(), dsl.label(long), dsl.mov("r0", 1), dsl.exit() } }
    assert.is_nil(prog)
    assert.equal(22, errno)
    assert.matches("load of socket_filter 'long_name': the kernel refused BTF program 'long_name': ", msg, 1, true)
    assert.matches("FUNC " .. long .. " type_id=%d+ Invalid name$", msg)
    assert.matches("btf_total_size", log, 1, true) -- the BTF loader's own log
  end)
end)

-- ---------------------------------------------------------------------
-- Maps
-- ---------------------------------------------------------------------

describe("maps with layouts carry BTF", function()
  local Hdr = structs.define("hdr58", { { "len", "u16" }, { "tag", "char", 6 } })
  local Val = structs.define("val58", { { "id", "u32" }, { "hdr", Hdr }, { "ok", "bool" }, { "delta", "i64" } })

  env.it("that bpftool prints their values with, field by field", { "bpf", "bpftool" }, function()
    local m <close> = assert(maps.hash { key = "u32", value = Val, max_entries = 4, name = "btf58" })
    m[7] = { id = 70, hdr = { len = 3, tag = "abc" }, ok = true, delta = -5 }
    local info = m:info()
    assert.is_true(info.btf_id > 0)
    local dump = env.run(("bpftool -j map dump id %d"):format(info.id))
    assert.matches('"key":7', dump, 1, true)
    assert.matches('"value":{"id":70,"hdr":{"len":3,"tag":"abc"},"ok":true,"delta":-5}', dump, 1, true)
    -- and the kernel's view of the type is the layout's
    local btf = env.run(("bpftool btf dump id %d"):format(info.btf_id))
    assert.matches(("STRUCT 'val58' size=%d vlen=4"):format(Val:size()), btf, 1, true)
    for _, f in ipairs(Val:fields()) do
      assert.matches(("'%s' type_id=%%d+ bits_offset=%d"):format(f.name, f.offset * 8), btf)
    end
    local none <close> = assert(maps.hash { key = "u32", value = Val, max_entries = 4, btf = false })
    assert.equal(0, none:info().btf_id)
    local scalars <close> = assert(maps.array { value = "u64", max_entries = 2, btf = true })
    scalars[1] = 99
    assert.matches('{"key":1,"value":99}', env.run(("bpftool -j map dump id %d"):format(scalars:info().id)), 1, true)
  end)

  env.it("so a value can hold a spin lock the program takes", { "bpf", "prog:xdp" }, function()
    local V = structs.define("locked58", { { "lock", structs.bpf_spin_lock }, { "n", "u64" } })
    local m <close> = assert(maps.array { value = V, max_entries = 1 })
    m[0] = { n = 5 }
    local body = {
      dsl.st("w", "fp", -4, 0), dsl.ld_map_fd("r1", m), dsl.mov("r2", "fp"), dsl.add("r2", -4),
      dsl.call("map_lookup_elem"), dsl.jeq("r0", 0, "out"), dsl.mov("r6", "r0"),
      dsl.mov("r1", "r6"), dsl.call("spin_lock"),
      dsl.ldx("dw", "r1", "r6", V:offset("n")), dsl.add("r1", 10), dsl.stx("dw", "r6", V:offset("n"), "r1"),
      dsl.mov("r1", "r6"), dsl.call("spin_unlock"),
      dsl.label("out"), dsl.mov("r0", 2), dsl.exit(),
    }
    local p <close> = load { type = "xdp", name = "locked", insns = body }
    assert(p:test_run { data = PACKET, repeats = 7 })
    assert.equal(5 + 70, m[0].n)
    -- the same value with no BTF: the verifier cannot see the lock
    local bare <close> = assert(maps.array { value = V, max_entries = 1, btf = false })
    local refused, msg = programs.load { type = "xdp", insns = {
      dsl.st("w", "fp", -4, 0), dsl.ld_map_fd("r1", bare), dsl.mov("r2", "fp"), dsl.add("r2", -4),
      dsl.call("map_lookup_elem"), dsl.jeq("r0", 0, "out"), dsl.mov("r1", "r0"), dsl.call("spin_lock"),
      dsl.label("out"), dsl.mov("r0", 2), dsl.exit() } }
    assert.is_nil(refused)
    assert.matches("has to have BTF in order to use bpf_spin_lock", msg, 1, true)
  end)

  env.it("so a value can hold a kptr: a task the map keeps a reference to",
    { "bpf", "btf", "prog:syscall", "kfunc:bpf_task_from_pid" },
    function()
    local off = require("ebpfdsl.btf").vmlinux():offsetof("task_struct", "tgid")
    local V = structs.define("holder58", { { "pid", "u32" }, { "task", "ptr" } })
    local m <close> = assert(maps.array { value = V, max_entries = 1, kptrs = { task = "task_struct" } })
    local btf = env.run(("bpftool btf dump id %d"):format(m:info().btf_id))
    assert.matches("TYPE_TAG 'kptr' type_id=", btf, 1, true)
    local lookup = { dsl.st("w", "fp", -4, 0), dsl.ld_map_fd("r1", m), dsl.mov("r2", "fp"), dsl.add("r2", -4),
      dsl.call("map_lookup_elem"), dsl.jne("r0", 0, "ok"), dsl.mov("r0", -2), dsl.exit(),
      dsl.label("ok"), dsl.mov("r7", "r0"), dsl.mov("r1", "r7"), dsl.add("r1", V:offset("task")) }
    -- put: the task of the pid in ctx goes into the map (a reference the map holds)
    local put <close> = load { type = "syscall", sleepable = true, name = "kptr_put", insns = {
      dsl.ldx("w", "r6", "r1", 0), lookup,
      dsl.mov("r1", "r6"), dsl.call_kfunc("bpf_task_from_pid"), dsl.jne("r0", 0, "found"),
      dsl.mov("r0", -1), dsl.exit(),
      dsl.label("found"),
      dsl.mov("r1", "r7"), dsl.add("r1", V:offset("task")), dsl.mov("r2", "r0"), dsl.call("kptr_xchg"),
      dsl.jeq("r0", 0, "done"), dsl.mov("r1", "r0"), dsl.call_kfunc("bpf_task_release"),
      dsl.label("done"), dsl.mov("r0", 0), dsl.exit() } }
    -- take: the task comes out of the map; its tgid is returned
    local take <close> = load { type = "syscall", sleepable = true, name = "kptr_take", insns = {
      lookup, dsl.mov("r2", 0), dsl.call("kptr_xchg"), dsl.jne("r0", 0, "got"), dsl.mov("r0", 0), dsl.exit(),
      dsl.label("got"), dsl.ldx("w", "r6", "r0", off), dsl.mov("r1", "r0"), dsl.call_kfunc("bpf_task_release"),
      dsl.mov("r0", "r6"), dsl.exit() } }
    local child = io.popen("exec sleep 30", "r")
    local pid = tonumber(env.run("pgrep -n -P " .. oracle.getpid() .. " sleep"))
    assert.equal(0, put:test_run { ctx = string.pack("<i4", pid) }.retval)
    assert.equal(0, m[0].task) -- the kernel never shows a kptr to user space
    env.run("kill " .. pid)
    child:close()
    -- the map's reference kept the task: its tgid is still there
    assert.equal(pid, take:test_run {}.retval)
    assert.equal(0, take:test_run {}.retval) -- and now the map holds none
  end)

  env.it("replacing the byte BTF a local storage map otherwise gets", { "bpf", "bpftool", "map:task_storage" },
    function()
    local S = structs.define("stored58", { { "calls", "u64" }, { "comm", "char", 16 } })
    local m <close> = assert(maps.task_storage { value = S })
    local me <close> = assert(maps.pidfd(oracle.getpid()))
    assert.is_true(m:update(me, { calls = 3, comm = "lua" }))
    assert.same({ calls = 3, comm = "lua" }, m:lookup(me))
    local btf = env.run(("bpftool btf dump id %d"):format(m:info().btf_id))
    assert.matches("STRUCT 'stored58' size=24 vlen=2", btf, 1, true)
  end)

  it("refuses kptrs without a value layout", function()
    assert.has_error(function() maps.array { value = "u64", max_entries = 1, kptrs = { x = "task_struct" } } end,
      "maps.create: kptrs name fields of a value layout")
  end)
end)

-- ---------------------------------------------------------------------
-- Names from the running kernel
-- ---------------------------------------------------------------------

-- bpftool's id of FUNC `name` in the kernel's BTF
local function bpftool_func_id(name)
  local dump = env.run("bpftool btf dump file /sys/kernel/btf/vmlinux | grep \"FUNC '" .. name .. "'\"")
  return tonumber(dump:match("^%[(%d+)%] FUNC '" .. name .. "'"))
end

describe("kfuncs by name", function()
  env.it("are found in the kernel's BTF with the ids bpftool reads there",
    { "btf", "bpftool", "kfunc:bpf_task_from_pid", "kfunc:bpf_cgroup_from_id" }, function()
    for _, name in ipairs { "bpf_task_from_pid", "bpf_task_release", "bpf_rcu_read_lock", "bpf_cgroup_from_id" } do
      local k = assert(kfuncs.find(name))
      assert.equal(bpftool_func_id(name), k.id)
      assert.same({ op = "call_kfunc", imm = k.id }, dsl.call_kfunc(name))
    end
  end)

  -- pahole before 1.26 (Debian's 6.12 among them) writes no bpf_kfunc tags:
  -- then nothing lists the kfuncs, and find() takes any function by name
  env.it("are listed as the kernel's BTF tags them, every tagged FUNC and no other", { "btf", "bpftool" },
    function()
    local names = kfuncs.names()
    local tagged = tonumber(env.run("bpftool btf dump file /sys/kernel/btf/vmlinux | grep -c \"DECL_TAG 'bpf_kfunc'\" "
      .. "|| true"))
    assert.equal(tagged, #names)
    assert.equal(tagged > 0, kfuncs.tagged())
    if kfuncs.tagged() then assert.is_true(#names > 50) end
  end)

  env.it("in modules: the modules with BTF are those /sys/kernel/btf lists", "btf", function()
    local btf = require "ebpfdsl.btf"
    local want = {}
    for name in env.run("ls /sys/kernel/btf"):gmatch("%S+") do
      if name ~= "vmlinux" then want[#want + 1] = name end
    end
    local got = btf.modules()
    table.sort(got)
    assert.same(want, got)
    for _, name in ipairs(got) do
      local m <close> = assert(btf.module(name))
      assert.is_true(m:fd() > 0) -- the kernel's object for it
    end
    local none, msg, errno = btf.module("no_such_module")
    assert.is_nil(none)
    assert.equal(2, errno)
    assert.matches("/sys/kernel/btf/no_such_module", msg, 1, true)
    assert.equal(22, select(3, btf.module("../vmlinux"))) -- a name, not a path
    assert.equal(22, select(3, btf.module("vmlinux"))) -- no module
  end)

  env.it("suggest the nearest names for a misspelling",
    { "btf", "kfunc:bpf_task_acquire", "kfunc:bpf_rcu_read_lock" }, function()
    local k, msg = kfuncs.find("bpf_task_acquir")
    assert.is_nil(k)
    local ok, err = pcall(dsl.call_kfunc, "bpf_rcu_read_lok")
    assert.is_false(ok)
    assert.matches("call_kfunc: unknown kfunc 'bpf_rcu_read_lok'", err, 1, true)
    -- a kernel whose BTF tags no kfunc (the spec above) has no names to
    -- suggest from, and says so (make vmtest's 6.12)
    if kfuncs.tagged() then
      assert.matches("^unknown kfunc 'bpf_task_acquir' %(vmlinux and %d+ modules? searched%); did you mean " ..
        "'bpf_task_acquire'", msg)
      assert.matches("did you mean 'bpf_rcu_read_lock'", err, 1, true)
    else
      assert.matches("^unknown kfunc 'bpf_task_acquir' %(vmlinux and %d+ modules? searched%); this kernel's BTF " ..
        "tags no kfuncs %(pahole < 1%.26%): no names to suggest$", msg)
      assert.matches("tags no kfuncs (pahole < 1.26): no names to suggest", err, 1, true)
    end
  end)

  env.it("are called by a program: bpf_task_from_pid finds a child and its comm is read",
    { "bpf", "btf", "prog:syscall", "kfunc:bpf_task_from_pid" },
    function()
      local comm = require("ebpfdsl.btf").vmlinux():offsetof("task_struct", "comm")
      local out <close> = assert(maps.array { value = "u64", max_entries = 1 })
      local p <close> = load { type = "syscall", sleepable = true, name = "from_pid", insns = {
        dsl.ldx("w", "r1", "r1", 0), dsl.call_kfunc("bpf_task_from_pid"),
        dsl.jne("r0", 0, "found"), dsl.mov("r0", -1), dsl.exit(),
        dsl.label("found"), dsl.mov("r6", "r0"),
        dsl.ldx("dw", "r1", "r6", comm), dsl.stx("dw", "fp", -8, "r1"),
        dsl.st("w", "fp", -12, 0), dsl.ld_map_fd("r1", out), dsl.mov("r2", "fp"), dsl.add("r2", -12),
        dsl.mov("r3", "fp"), dsl.add("r3", -8), dsl.mov("r4", 0), dsl.call("map_update_elem"),
        dsl.mov("r1", "r6"), dsl.call_kfunc("bpf_task_release"), dsl.mov("r0", 0), dsl.exit() } }
      local child = io.popen("exec sleep 30", "r")
      local pid = tonumber(env.run("pgrep -n -P " .. oracle.getpid() .. " sleep"))
      assert.equal(0, p:test_run { ctx = string.pack("<i4", pid) }.retval)
      local f = assert(io.open("/proc/" .. pid .. "/comm"))
      local want = f:read("l")
      f:close()
      env.run("kill " .. pid)
      child:close()
      assert.equal(want, (string.pack("<I8", out[0]):gsub("%z.*$", "")))
      -- a pid nobody has: NULL, which the program reports
      assert.equal(0xffffffff, p:test_run { ctx = string.pack("<i4", 0x3fffffff) }.retval)
    end)

  env.it("in vmlinux or a module alike: conntrack's lookup from XDP finds no connection",
    { "bpf", "btf", "prog:xdp", "kfunc:bpf_xdp_ct_lookup" },
    function()
      -- nf_conntrack is built in here; where it is a module (Debian's
      -- kernels), the same name finds it in the module's BTF, and the call
      -- goes through the fd_array programs.load passes
      local k = assert(kfuncs.find("bpf_xdp_ct_lookup"))
      if k.module then
        assert.is_true(k.off > 0)
        assert.equal(k.off, #kfuncs.fd_array())
      else
        assert.equal(0, k.off)
      end
      -- the struct is declared where the kfunc is: vmlinux or the module
      local btf = require "ebpfdsl.btf"
      local owner = k.module and assert(btf.module(k.module)) or btf.vmlinux()
      local opts_size = owner:type("bpf_ct_opts", "struct").size
      local p <close> = load { type = "xdp", name = "ct_lookup", insns = {
        dsl.mov("r6", "r1"),
        dsl.st("dw", "fp", -16, 0), dsl.st("dw", "fp", -8, 0), -- the tuple: 0.0.0.0:0 -> 0.0.0.0:0
        dsl.st("dw", "fp", -32, 0), dsl.st("dw", "fp", -24, 0),
        dsl.st("w", "fp", -32, -1), -- opts.netns_id = BPF_F_CURRENT_NETNS
        dsl.st("b", "fp", -24, 6), -- opts.l4proto = IPPROTO_TCP
        dsl.mov("r1", "r6"), dsl.mov("r2", "fp"), dsl.add("r2", -16), dsl.mov("r3", 12),
        dsl.mov("r4", "fp"), dsl.add("r4", -32), dsl.mov("r5", opts_size),
        dsl.call_kfunc("bpf_xdp_ct_lookup"),
        dsl.jeq("r0", 0, "none"), dsl.mov("r1", "r0"), dsl.call_kfunc("bpf_ct_release"),
        dsl.mov("r0", 1), dsl.exit(),
        dsl.label("none"), dsl.ldx("w", "r0", "fp", -28), dsl.exit(), -- opts.error
      } }
      assert.equal(0xfffffffe, p:test_run { data = PACKET }.retval) -- -ENOENT
    end)

  env.it("in modules go through fd_array: the kernel reads it, and wants module BTF there", "bpf", function()
    -- no module here need have BTF: a user BTF at index 1 shows the array
    -- reached the verifier, which checks what it holds
    local w = require("ebpfdsl.core").btf_writer()
    w:int("int", 4, "signed")
    local b <close> = require("ebpfdsl.core").btf_from_bytes(w:bytes())
    assert(b:load())
    local bytes = dsl.assemble { dsl.call_kfunc(1, 1), dsl.mov("r0", 0), dsl.exit() }
    local core = require "ebpfdsl.core"
    local p, msg = core.prog_load("socket_filter", bytes, { fd_array = { b } })
    assert.is_nil(p)
    assert.matches("is not a module BTF", msg, 1, true)
    local q, msg2 = core.prog_load("socket_filter", bytes, {})
    assert.is_nil(q)
    assert.matches("fd_array", msg2, 1, true)
  end)
end)

describe("helpers the build host's header lacks", function()
  env.it("are called by the kernel's names: cgrp_storage_get keeps a value on a cgroup",
    { "bpf", "cgroup2", "btf", "prog:syscall", "map:cgrp_storage", "kfunc:bpf_cgroup_from_id" },
    function()
      local dir = assert(oracle.cgroup2()) .. "/ebpfdsl_spec58_" .. oracle.getpid()
      env.run("mkdir " .. dir)
      local m <close> = assert(maps.cgrp_storage { value = "u64" })
      -- ctx: a cgroup id; the program stores 0xc0ffee on that cgroup
      local p <close> = load { type = "syscall", sleepable = true, name = "cgrp_get", insns = {
        dsl.ldx("dw", "r1", "r1", 0), dsl.call_kfunc("bpf_cgroup_from_id"),
        dsl.jne("r0", 0, "ok"), dsl.mov("r0", -1), dsl.exit(),
        dsl.label("ok"), dsl.mov("r6", "r0"),
        dsl.ld_map_fd("r1", m), dsl.mov("r2", "r6"), dsl.mov("r3", 0), dsl.mov("r4", 1), -- F_CREATE
        dsl.call("cgrp_storage_get"),
        dsl.jeq("r0", 0, "release"), dsl.lddw("r1", 0xc0ffee), dsl.stx("dw", "r0", 0, "r1"),
        dsl.label("release"), dsl.mov("r1", "r6"), dsl.call_kfunc("bpf_cgroup_release"),
        dsl.mov("r0", 0), dsl.exit() } }
      -- a cgroup's id is its directory's inode number
      local id = tonumber(env.run("stat -c %i " .. dir))
      local ok, err = pcall(function()
        assert.equal(0, p:test_run { ctx = string.pack("<I8", id) }.retval)
        local f <close> = assert(io.open(dir))
        assert.equal(0xc0ffee, m:lookup(f))
      end)
      env.run("rmdir " .. dir)
      assert(ok, err)
    end)
end)
