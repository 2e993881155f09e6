-- SPDX-License-Identifier: MIT
-- Kernel errors that say what happened: the errno each operation really
-- gets from the kernel, told in the words of csrc/kernel/explain.c's one
-- table ("map is full (max_entries=2)", "index 7 out of range"), the raw
-- errno kept as the third value; a process without CAP_BPF told that this
-- is the cause, with nothing printed behind its back.
local env = require "support.env"

local ebpf = require "ebpfdsl"
local core = require "ebpfdsl.core"
local d = ebpf.dsl
local maps = ebpf.maps

local RET0 = { d.mov("r0", 0), d.exit() }

-- {nil, message, errno} of a call
local function refusal(...)
  local r = table.pack(...)
  assert.is_nil(r[1])
  return r[2], r[3]
end

describe("kernel errors per operation", function()
  env.it("on maps: full, out of range, there already, missing, not deletable, not readable", { "bpf" }, function()
    local h <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 2, name = "full" })
    assert(h:update(1, 1))
    assert(h:update(2, 2))
    local msg, errno = refusal(h:update(3, 3))
    assert.equal("update on hash map 'full': map is full (max_entries=2)", msg)
    assert.equal(7, errno) -- E2BIG, as the kernel said it
    msg, errno = refusal(h:update(1, 1, "noexist"))
    assert.equal("update on hash map 'full': the key is there already, and the update said \"noexist\"", msg)
    assert.equal(17, errno)
    msg, errno = refusal(h:update(9, 1, "exist"))
    assert.equal("update on hash map 'full': no element with this key, and the update said \"exist\"", msg)
    assert.equal(2, errno)
    local a <close> = assert(maps.array { value = "u32", max_entries = 4, name = "arr" })
    msg, errno = refusal(a:update(7, 1))
    assert.equal("update on array map 'arr': index 7 out of range (max_entries=4)", msg)
    assert.equal(7, errno)
    msg, errno = refusal(a:delete(1))
    assert.equal("delete on array map 'arr': elements of array maps cannot be deleted: update them with zeros "
      .. "instead", msg)
    assert.equal(22, errno)
    local q <close> = assert(maps.queue { value = "u32", max_entries = 1, name = "q" })
    assert(q:push(1))
    msg, errno = refusal(q:push(2))
    assert.equal("push on queue map 'q': queue is full (max_entries=1); push with \"exist\" drops the oldest", msg)
    assert.equal(7, errno)
    local pe <close> = assert(maps.perf_event_array { name = "pe" })
    msg, errno = refusal(pe:lookup(0))
    assert.equal("lookup on perf_event_array map 'pe': perf_event_array maps cannot be read from user space "
      .. "(ENOTSUPP)", msg)
    assert.equal(524, errno)
    local st <close> = assert(maps.stack_trace { max_entries = 4, name = "st" })
    msg, errno = refusal(st:update(1, string.rep("\0", 8 * 127)))
    assert.equal("update on stack_trace map 'st': stack_trace maps are filled by bpf_get_stackid, not from user "
      .. "space", msg)
    assert.equal(22, errno)
    local sm <close> = assert(maps.sockmap { max_entries = 2, name = "sm" })
    msg, errno = refusal(sm:update(0, io.stdout))
    assert.equal("update on sockmap map 'sm': a sockmap holds sockets: the value is not one", msg)
    assert.equal(88, errno) -- ENOTSOCK
  end)

  env.it("on program arrays: out of range, and a program of another type", { "bpf", "prog:xdp" }, function()
    local pa <close> = assert(maps.prog_array { max_entries = 2, name = "pa" })
    local sf <close> = assert(ebpf.programs.load { type = "socket_filter", insns = RET0 })
    local xdp <close> = assert(ebpf.programs.load { type = "xdp", insns = RET0 })
    assert(pa:set_prog(0, sf))
    local msg, errno = refusal(pa:set_prog(1, xdp))
    assert.equal("set_prog on prog_array map 'pa': the kernel refused the program: a prog_array holds programs of "
      .. "one type (the first one decides)", msg)
    assert.equal(22, errno)
    msg, errno = refusal(pa:set_prog(5, sf))
    assert.equal("set_prog on prog_array map 'pa': index 5 out of range (max_entries=2)", msg)
    assert.equal(7, errno)
  end)

  env.it("on loads that need a trampoline: the kernel refusing them here, or loading them", { "bpf" }, function()
    local features = require "ebpfdsl.features"
    for _, kind in ipairs { "fentry", "fexit", "lsm" } do
      local spec = { type = kind, attach_to = kind == "lsm" and "file_open" or "vfs_read", insns = RET0,
                     license = "GPL" }
      local ok, _, ferr = features.check("prog:" .. kind)
      local p, msg, errno = ebpf.programs.load(spec)
      if ok then
        assert.truthy(p, kind) -- a kernel with trampolines (Debian's 6.1): nothing to explain
        p:close()
      elseif ferr == 1 then
        assert.is_nil(p)
        assert.equal(1, errno)
        assert.equal(("load of %s '' failed: the kernel refuses %s here: BPF trampolines unavailable (EPERM)"):format(
          kind == "lsm" and "lsm" or "tracing", kind), msg)
      end
    end
  end)

  it("come from one table that other code asks too", function()
    assert.equal("map is full (max_entries=1024)",
      core.explain(7, { op = "update", map_type = "hash", max_entries = 1024 }))
    assert.equal("index 7 out of range (max_entries=4)",
      core.explain(7, { op = "update", map_type = "percpu_array", max_entries = 4, index = 7 }))
    -- an array's E2BIG with no index to name falls to the general row
    assert.equal("map is full (max_entries=4)", core.explain(7, { op = "update", map_type = "array", max_entries = 4 }))
    assert.equal("the kernel could not allocate the map (max_entries=100000000, value_size=4096)",
      core.explain(12, { op = "create", map_type = "hash", max_entries = 100000000, value_size = 4096 }))
    assert.is_nil(core.explain(2, { op = "lookup", map_type = "hash" })) -- nothing better than strerror
    assert.is_nil(core.explain(7, { op = "load", prog_type = "xdp" }))
    assert.has_error(function() core.explain(7, { op = "update", map_type = "hsah" }) end,
      "explain: unknown map type 'hsah'")
    -- its options are read by the one descriptor reader, which names a misspelt key
    assert.has_error(function() core.explain(7, { op = "update", map_typ = "hash" }) end,
      "explain: unknown field 'map_typ' (did you mean 'map_type'?)")
    if core.privileged() then
      assert.equal("the kernel refuses fmod_ret here: BPF trampolines unavailable (EPERM)",
        core.explain(1, { op = "load", prog_type = "tracing", attach_type = "modify_return" }))
      assert.is_nil(core.explain(1, { op = "load", prog_type = "xdp" }))
    end
  end)
end)

describe("a process without CAP_BPF", function()
  -- Runs code as user nobody with no capabilities; its stdout and stderr.
  local function as_nobody(code)
    local dir = env.tmpdir()
    local f = assert(io.open(dir .. "/child.lua", "w"))
    f:write('package.path = "lua/?.lua;lua/?/init.lua;" .. package.path\n',
            'package.cpath = "build/?.so;" .. package.cpath\n', code)
    f:close()
    env.run("chmod 755 " .. dir .. " && chmod 644 " .. dir .. "/child.lua")
    local out = env.run(("setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all "
      .. "lua5.4 %s/child.lua 2>%s/stderr"):format(dir, dir))
    local e = assert(io.open(dir .. "/stderr"))
    local err = e:read("a")
    e:close()
    return out, err
  end

  env.it("is told that this is the cause, for maps, loads and objects, with nothing on stderr",
    { "root", "clang-19", "gcc" }, function()
      local dir = env.tmpdir()
      local src = assert(io.open(dir .. "/o.c", "w"))
      src:write([[
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket") int f(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
]])
      src:close()
      local inc = env.run("gcc -print-multiarch"):gsub("%s+$", "")
      env.run(("clang-19 -O2 -g -target bpf -I/usr/include/%s -c %s/o.c -o %s/o.o && chmod 755 %s && chmod 644 %s/o.o")
        :format(inc, dir, dir, dir, dir))
      local out, err = as_nobody(([[
local e = require "ebpfdsl"
local function show(what, ok, msg, errno) print(what, tostring(ok), msg, errno) end
show("map", e.maps.hash { key = "u32", value = "u32", max_entries = 2, name = "m" })
show("load", e.programs.load { type = "kprobe", insns = { e.dsl.mov("r0", 0), e.dsl.exit() }, name = "k" })
local obj = assert(e.object.open("%s/o.o"))
show("object", obj:load())
print("privileged", tostring(require("ebpfdsl.core").privileged()))
]]):format(dir))
      assert.equal("", err) -- libbpf said nothing behind our back
      local lines = {}
      for what, ok, msg, errno in out:gmatch("(%w+)\t(%w+)\t([^\t]*)\t(%d+)\n") do
        lines[what] = { ok = ok, msg = msg, errno = tonumber(errno) }
      end
      local disabled = env.run("cat /proc/sys/kernel/unprivileged_bpf_disabled"):gsub("%s+$", "")
      local sysctl = disabled ~= "0" and ("; kernel.unprivileged_bpf_disabled is " .. disabled) or ""
      local cause = "not permitted: this process (uid 65534) has neither CAP_BPF nor CAP_SYS_ADMIN (run it as root, "
        .. "or give it CAP_BPF"
      assert.same({ ok = "nil", errno = 1, msg = "create of hash map 'm' (key_size=4 value_size=4 max_entries=2 "
        .. "flags=0x0): " .. cause .. ")" .. sysctl }, lines.map)
      assert.same({ ok = "nil", errno = 1, msg = "load of kprobe 'k' failed: " .. cause
        .. ", and CAP_PERFMON for tracing)" .. sysctl }, lines.load)
      assert.same({ ok = "nil", errno = 1, msg = "load of o failed: " .. cause .. ")" .. sysctl }, lines.object)
      assert.matches("privileged\tfalse", out)
    end)
end)
