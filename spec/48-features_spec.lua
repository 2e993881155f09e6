-- SPDX-License-Identifier: MIT
-- Feature probes (maps.supported, programs.supported, attach.supported,
-- ebpfdsl.features): checked against bpftool's feature probe, plain libbpf
-- in C, sysfs, and our own create, load and attach; probing happens only
-- through them, never as a side effect of an ordinary call.
local env = require "support.env"
local e = require "ebpfdsl"
local maps, programs, attach, d = e.maps, e.programs, e.attach, e.dsl

local function bpftool_probe()
  local out = env.run("bpftool feature probe kernel")
  local t = { map = {}, prog = {} }
  for kind, name, state in out:gmatch("eBPF (%a+)_type ([%w_]+) is (%a[%a ]*%a)") do
    t[kind == "program" and "prog" or kind][name] = state == "available"
  end
  return t
end

-- Runs a Lua script under strace; the bpf() commands it made, counted.
local function bpf_calls(script)
  local file, log = os.tmpname(), os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write('package.path = "lua/?.lua;lua/?/init.lua;" .. package.path\n',
          'package.cpath = "build/?.so;" .. package.cpath\n', script)
  f:close()
  env.run("strace -f -qq -o " .. log .. " -e trace=bpf lua5.4 " .. file)
  local g = assert(io.open(log))
  local text = g:read("a")
  g:close()
  os.remove(file)
  os.remove(log)
  local n = {}
  for cmd in text:gmatch("bpf%((BPF_[%u_]+)") do n[cmd] = (n[cmd] or 0) + 1 end
  return n, text
end

-- A C program against build/libebpfdsl.a, or with plain libbpf only.
local function run_c(src, with_lib)
  local dir = env.tmpdir()
  local f = assert(io.open(dir .. "/p.c", "w"))
  f:write(src)
  f:close()
  local lib = with_lib and " -Icsrc build/libebpfdsl.a" or ""
  env.run(("cc -std=gnu99 -o %s/p %s/p.c%s -lbpf -lelf -lz"):format(dir, dir, lib))
  local out = env.run(dir .. "/p")
  env.run("rm -rf " .. dir)
  return out
end

describe("maps.supported", function()
  env.it("agrees with bpftool's feature probe on every type bpftool knows", { "bpf", "bpftool" }, function()
    local oracle, compared = bpftool_probe().map, 0
    for _, t in ipairs(maps.types()) do
      if oracle[t] ~= nil then
        local ok, why, errno = maps.supported(t)
        assert.equal(oracle[t], ok, t .. ": " .. tostring(why))
        if not ok then
          assert.matches("%(E[%u%d]+%)", why)
          assert.is_true(math.type(errno) == "integer" and errno > 0)
        end
        compared = compared + 1
      end
    end
    assert.is_true(compared >= 30, "bpftool names only " .. compared .. " map types")
  end)

  env.it("agrees with plain libbpf on arena, newer than libbpf 1.1, errno included", { "bpf", "gcc" }, function()
    local out = run_c([[
#include <errno.h>
#include <stdio.h>
#include <bpf/bpf.h>
int main(void) {
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = 1U << 10); /* BPF_F_MMAPABLE */
	int fd = bpf_map_create(33, NULL, 0, 0, 1, &o);             /* BPF_MAP_TYPE_ARENA */
	printf("%d\n", fd >= 0 ? 0 : errno);
	return 0;
}
]])
    local want = tonumber(out)
    local ok, why, errno = maps.supported("arena")
    if want == 0 then
      assert.is_true(ok)
    else
      assert.is_false(ok)
      assert.equal(want, errno, why)
      -- and a create says so, in the probe's words
      local m, msg, err = maps.arena { max_entries = 1 }
      assert.is_nil(m)
      assert.equal(want, err)
      assert.matches("this kernel refuses arena maps: " .. why, msg, 1, true)
    end
  end)

  env.it("is asked once per process, and never by a create", { "bpf", "strace" }, function()
    local n = bpf_calls([[
local maps = require("ebpfdsl").maps
local m = assert(maps.hash { key = "u32", value = "u32", max_entries = 1 })
m:close()
]])
    -- the map itself, and nothing else (libbpf's own once-per-process
    -- check that the kernel takes object names loads two socket filters)
    assert.equal(1, n.BPF_MAP_CREATE)
    assert.is_true((n.BPF_PROG_LOAD or 0) <= 2)
    local probed = bpf_calls([[
local maps = require("ebpfdsl").maps
for _ = 1, 3 do maps.supported("queue") end
]])
    assert.equal(1, probed.BPF_MAP_CREATE) -- libbpf's probe: one map of the type, once
  end)
end)

describe("programs.supported", function()
  env.it("agrees with bpftool's feature probe on the types it loads without a target", { "bpf", "bpftool" },
    function()
      local oracle, compared = bpftool_probe().prog, 0
      for _, t in ipairs(programs.types()) do
        -- lsm is probed with a real hook (file_open), libbpf's with none
        if oracle[t] ~= nil and t ~= "lsm" then
          assert.equal(oracle[t], (programs.supported(t)), t)
          compared = compared + 1
        end
      end
      assert.is_true(compared >= 28, "bpftool names only " .. compared .. " program types")
    end)

  env.it("agrees with programs.load for the kinds loaded with a target, errno included", { "bpf", "btf" }, function()
    for _, c in ipairs {
      { "fentry", "vfs_read" }, { "fexit", "vfs_read" }, { "fmod_ret", "security_file_open" },
      { "lsm", "file_open" }, { "tp_btf", "sched_switch" }, { "iter", "task" },
    } do
      local ok, why, errno = programs.supported(c[1])
      local p, msg, err = programs.load { type = c[1], attach_to = c[2], insns = { d.mov("r0", 0), d.exit() } }
      assert.equal(ok, p ~= nil, c[1] .. ": " .. tostring(why) .. " / " .. tostring(msg))
      if p then p:close() else assert.equal(errno, err, c[1]) end
    end
  end)

  env.it("with a helper: what the type may call, as the verifier says", { "bpf" }, function()
    -- stable facts of the helper API: override_return is for kprobes only
    assert.is_true(programs.supported("socket_filter", "map_lookup_elem"))
    assert.is_true(programs.supported("xdp", "ktime_get_ns"))
    local ok, why, errno = programs.supported("socket_filter", "override_return")
    assert.is_false(ok)
    assert.equal("not supported by this kernel (EOPNOTSUPP): socket_filter programs may not call override_return",
      why)
    assert.equal(95, errno)
    -- the verifier, asked directly, refuses that call in those words
    local p, msg = programs.load { type = "socket_filter",
                                   insns = { d.call("override_return"), d.mov("r0", 0), d.exit() } }
    assert.is_nil(p)
    assert.is_truthy(msg:find("cannot use helper", 1, true) or msg:find("unknown func", 1, true), msg)
  end)
end)

-- What our own attach code does for each kind, on a program loaded for it:
-- true, or false and the message.
local OWN = {
  socket = function(p)
    local socket = require "socket"
    local s = assert(socket.udp())
    assert(s:setsockname("127.0.0.1", 0))
    local l, msg = p:attach_socket(s)
    s:close()
    return l, msg
  end,
  tracepoint = function(p) return p:attach_tracepoint("syscalls", "sys_enter_getppid") end,
  raw_tracepoint = function(p) return p:attach_raw_tracepoint("sys_enter") end,
  tp_btf = function(p) return p:attach_tracing() end,
  perf_event = function(p) return p:attach_perf_event { event = "cpu-clock", pid = 0, cpu = -1 } end,
  uprobe = function(p) return p:attach_uprobe { path = "c", symbol = "getpid", pid = 0 } end,
  uretprobe = function(p) return p:attach_uretprobe { path = "c", symbol = "getpid", pid = 0 } end,
  kprobe = function(p) return p:attach_kprobe("vfs_read") end,
  kretprobe = function(p) return p:attach_kretprobe("vfs_read") end,
  kprobe_multi = function(p) return p:attach_kprobe_multi({ "vfs_read" }, { fallback = false }) end,
  fentry = function(p) return p:attach_tracing() end,
  fexit = function(p) return p:attach_tracing() end,
  fmod_ret = function(p) return p:attach_tracing() end,
  lsm = function(p) return p:attach_tracing() end,
  iter = function(p) return p:attach_iter() end,
}
local LOAD = {
  socket = { type = "socket_filter" }, tracepoint = { type = "tracepoint" },
  raw_tracepoint = { type = "raw_tracepoint" }, tp_btf = { type = "tp_btf", attach_to = "sched_switch" },
  perf_event = { type = "perf_event" }, uprobe = { type = "kprobe" }, uretprobe = { type = "kprobe" },
  kprobe = { type = "kprobe" }, kretprobe = { type = "kprobe" }, kprobe_multi = { type = "kprobe_multi" },
  fentry = { type = "fentry", attach_to = "vfs_read" }, fexit = { type = "fexit", attach_to = "vfs_read" },
  fmod_ret = { type = "fmod_ret", attach_to = "security_file_open" },
  lsm = { type = "lsm", attach_to = "file_open" }, iter = { type = "iter", attach_to = "task" },
}

describe("attach.supported", function()
  env.it("agrees with our own attach of each kind: available means it attaches",
    { "bpf", "btf", "tracefs", "luasocket" }, function()
      local checked = 0
      for kind, own in pairs(OWN) do
        local ok, why = attach.supported(kind)
        local spec = { name = "feat", insns = { d.mov("r0", 0), d.exit() } }
        for k, v in pairs(LOAD[kind]) do spec[k] = v end
        local p, msg = programs.load(spec)
        local link
        if p then link, msg = own(p) end
        assert.equal(ok, link ~= nil, kind .. ": the probe says " .. tostring(ok and "yes" or why) ..
          ", our attach: " .. tostring(link or msg))
        if link then link:detach() end
        if p then p:close() end
        checked = checked + 1
      end
      assert.equal(15, checked)
    end)

  env.it("agrees with sysfs: a probe kind needs its PMU or tracefs file", { "bpf", "tracefs" }, function()
    local function exists(path)
      local f = io.open(path)
      if f then f:close() end
      return f ~= nil
    end
    assert.equal(exists("/sys/bus/event_source/devices/uprobe/type"), (attach.supported("uprobe")))
    assert.equal(exists("/sys/bus/event_source/devices/kprobe/type"), (attach.supported("kprobe")))
    if not attach.supported("kprobe") then
      local _, why, errno = attach.supported("kprobe")
      assert.equal(2, errno)
      assert.matches("no kprobe PMU", why, 1, true)
    end
    assert.equal(exists("/sys/kernel/tracing/kprobe_events"), (attach.supported("kprobe_events")))
  end)

  it("lists its kinds and raises for others", function()
    local kinds = attach.kinds()
    assert.same({ "socket", "tracepoint", "raw_tracepoint", "tp_btf", "perf_event", "uprobe", "uretprobe",
                  "uprobe_multi", "kprobe", "kretprobe", "kprobe_events", "kprobe_multi", "fentry", "fexit",
                  "fmod_ret", "lsm", "iter", "sockmap", "struct_ops" }, kinds)
    local ok, err = pcall(attach.supported, "xdp")
    assert.is_false(ok)
    assert.matches("attach.supported: unknown attach kind 'xdp' %(attach.kinds%(%) lists them%)", err)
  end)
end)

describe("ebpfdsl.features()", function()
  env.it("names every map type, program type and attach kind, each available or refused with why",
    { "bpf" }, function()
      local f = e.features()
      local names = {}
      for _, n in ipairs(f) do names[n] = true end
      for _, t in ipairs(maps.types()) do assert.is_true(names["map:" .. t], t) end
      for _, t in ipairs(programs.types()) do if t ~= "unspec" then assert.is_true(names["prog:" .. t], t) end end
      for _, k in ipairs(attach.kinds()) do assert.is_true(names["attach:" .. k], k) end
      assert.is_true(names.btf and names.test_run and names["link_info:perf_event"])
      assert.same({ "v4", "load_acquire", "may_goto", "addr_space_cast" }, e.features.insns())
      for _, k in ipairs(e.features.insns()) do assert.is_true(names["insn:" .. k], k) end
      local refused = 0
      for _, n in ipairs(f) do
        local r = f[n]
        assert.equal(r.available, (e.features.check(n)))
        if not r.available then
          refused = refused + 1
          assert.matches("^[%l ]+ %(E[%u%d]+%)", r.why, nil, n)
          assert.matches(("\n%s +refused: "):format(n:gsub("%p", "%%%0")), tostring(f))
        end
      end
      assert.matches(("^kernel features: %d available, %d refused\n"):format(#f - refused, refused), tostring(f))
    end)

  -- The kernel's release says whether it names a perf-event link's probe
  -- (6.6 added it); our own link:info() shows it, or shows only the type.
  env.it("link_info:perf_event agrees with the kernel's release and with link:info()",
    { "bpf", "tracefs", "attach:tracepoint" }, function()
      local ok, why, errno = e.features.check("link_info:perf_event")
      local major, minor = env.run("uname -r"):match("^(%d+)%.(%d+)")
      assert.equal(tonumber(major) * 1000 + tonumber(minor) >= 6006, ok, why)
      local p = assert(programs.load { type = "tracepoint", insns = { d.mov("r0", 0), d.exit() } })
      local link = assert(p:attach_tracepoint("syscalls", "sys_enter_getppid"))
      local info = assert(link:info())
      link:detach()
      p:close()
      assert.equal("perf_event", info.type)
      if ok then
        assert.same({ "tracepoint", "sys_enter_getppid" }, { info.perf_event_type, info.name })
      else
        assert.same({}, { info.perf_event_type, info.name })
        assert.equal(95, errno) -- EOPNOTSUPP
        assert.matches("^not supported by this kernel %(EOPNOTSUPP%): a perf%-event link's info names no event", why)
      end
    end)

  -- Each instruction family: the kernel's release says whether the verifier
  -- knows it, and a socket filter the DSL writes with it loads (addr_space_cast:
  -- is refused for want of an arena, by name) exactly where the probe says so.
  local INSN = {
    v4 = { 6006, { d.mov("r0", 0), d.movsx("r0", "r0", 8) } },
    load_acquire = { 6015, { d.st("dw", "fp", -8, 0), d.load_acquire("dw", "r0", "fp", -8) } },
    may_goto = { 6009, { d.mov("r0", 0), d.may_goto("out"), d.mov("r0", 0), d.label("out") } },
    addr_space_cast = { 6009, { d.mov("r0", 0), d.addr_space_cast("r0", "r0", 0, 1) } },
  }
  env.it("insn:<family> agrees with the kernel's release and with a load of the DSL's instruction", "bpf",
    function()
      local major, minor = env.run("uname -r"):match("^(%d+)%.(%d+)")
      local release = tonumber(major) * 1000 + tonumber(minor)
      for _, k in ipairs(e.features.insns()) do
        local since, insns = INSN[k][1], INSN[k][2]
        local ok, why, errno = e.features.check("insn:" .. k)
        assert.equal(release >= since, ok, k .. ": " .. tostring(why))
        insns[#insns + 1] = d.exit()
        local p, msg = programs.load { type = "socket_filter", insns = insns }
        if p then p:close() end
        if k == "addr_space_cast" then
          assert.equal(ok, (tostring(msg):find("associated arena", 1, true)) ~= nil, tostring(msg))
        else
          assert.equal(ok, p ~= nil, k .. ": " .. tostring(msg))
        end
        if not ok then
          assert.equal(22, errno) -- EINVAL
          assert.matches("^not known to this kernel %(EINVAL%): a socket filter using " .. k .. " %(6%.%d+%+%): %S",
            why)
        end
      end
    end)

  -- A kfunc: there when kfuncs.find finds it, refused with why otherwise.
  env.it("kfunc:<name> agrees with kfuncs.find", "btf", function()
    local kfuncs = require "ebpfdsl.kfuncs"
    assert.equal(kfuncs.find("bpf_task_from_pid") ~= nil, (e.features.check("kfunc:bpf_task_from_pid")))
    local ok, why, errno = e.features.check("kfunc:bpf_no_such_kfunc")
    assert.same({ false, 2 }, { ok, errno })
    assert.matches("^missing from this kernel %(ENOENT%): unknown kfunc 'bpf_no_such_kfunc'", why)
  end)

  env.it("agrees with the kernel on test runs and BTF", { "bpf" }, function()
    local p = assert(programs.load { type = "socket_filter", insns = { d.mov("r0", 3), d.exit() } })
    assert.equal(p:test_run { data = string.rep("\0", 64) } ~= nil, (e.features.check("test_run")))
    p:close()
    local f = io.open("/sys/kernel/btf/vmlinux", "rb")
    if f then f:close() end
    assert.equal(f ~= nil, (e.features.check("btf")))
  end)

  it("raises for an unknown feature, at the caller's line", function()
    local ok, err = pcall(function()
      local r = e.features.check("map:nope")
      return r
    end)
    assert.is_false(ok)
    assert.matches("48%-features_spec%.lua:%d+: features: unknown feature 'map:nope'", err)
    assert.has_error(function() maps.supported("nope") end, "maps.supported: unknown map type 'nope'")
    assert.has_error(function() programs.supported("nope") end, "programs.supported: unknown program type 'nope'")
    assert.has_error(function() programs.supported("xdp", "nope") end, "programs.supported: unknown helper 'nope'")
  end)
end)

describe("the C API", function()
  env.it("gives what the Lua functions give (ebpfdsl_probe_*)", { "bpf", "gcc" }, function()
    local out = run_c([[
#include <stdio.h>
#include "ebpfdsl.h"
int main(void) {
	char why[256];
	int r;
	r = ebpfdsl_probe_map_type(ebpfdsl_map_type_parse("arena"), why, sizeof(why));
	printf("map:arena %d %s\n", r, r == 1 ? "" : why);
	r = ebpfdsl_probe_prog_type(ebpfdsl_prog_type_parse("lirc_mode2"), why, sizeof(why));
	printf("prog:lirc_mode2 %d %s\n", r, r == 1 ? "" : why);
	r = ebpfdsl_probe_kind("kprobe", 1, why, sizeof(why));
	printf("attach:kprobe %d %s\n", r, r == 1 ? "" : why);
	r = ebpfdsl_probe_kind("uprobe", 1, why, sizeof(why));
	printf("attach:uprobe %d %s\n", r, r == 1 ? "" : why);
	r = ebpfdsl_probe_test_run(why, sizeof(why));
	printf("test_run %d %s\n", r, r == 1 ? "" : why);
	r = ebpfdsl_probe_perf_link_info(why, sizeof(why));
	printf("link_info:perf_event %d %s\n", r, r == 1 ? "" : why);
	r = ebpfdsl_probe_insn("load_acquire", why, sizeof(why));
	printf("insn:load_acquire %d %s\n", r, r == 1 ? "" : why);
	r = ebpfdsl_probe_insn("may_goto", why, sizeof(why));
	printf("insn:may_goto %d %s\n", r, r == 1 ? "" : why);
	r = ebpfdsl_probe_insn("nope", why, sizeof(why));
	printf("insn:nope %d %s\n", r, why);
	r = ebpfdsl_probe_kind("nope", 1, why, sizeof(why));
	printf("nope %d %s\n", r, why);
	return 0;
}
]], true)
    local lines = {}
    for name, r, why in out:gmatch("(%S+) (%-?%d+) ([^\n]*)\n") do lines[name] = { tonumber(r), why } end
    for _, n in ipairs { "map:arena", "prog:lirc_mode2", "attach:kprobe", "attach:uprobe", "test_run",
                         "link_info:perf_event", "insn:load_acquire", "insn:may_goto" } do
      local ok, why, errno = e.features.check(n)
      assert.equal(ok and 1 or -errno, lines[n][1], n)
      assert.equal(ok and "" or why, lines[n][2], n)
    end
    assert.same({ -22, "not known to this kernel (EINVAL): no probe for the kind 'nope'" }, lines.nope)
    assert.same({ -22, "not known to this kernel (EINVAL): no probe for the instruction 'nope'" }, lines["insn:nope"])
  end)
end)

-- A run of busted (as `make test` runs it) on a spec file of our own.
local function busted_run(body, required, features)
  local dir = env.tmpdir()
  local file = dir .. "/probe_spec.lua"
  local f = assert(io.open(file, "w"))
  f:write('local env = require "support.env"\n', body)
  f:close()
  local out = os.tmpname()
  local ok = os.execute(("EBPFDSL_REQUIRE_KERNEL=%s EBPFDSL_REQUIRE_FEATURES='%s' lua5.4 /usr/bin/busted "
    .. "-o plainTerminal %s >%s 2>&1"):format(required and "1" or "0", features or "", file, out))
  local g = assert(io.open(out))
  local text = g:read("a")
  g:close()
  os.remove(out)
  env.run("rm -rf " .. dir)
  return ok == true or ok == 0, text
end

describe("a spec run", function()
  -- override_return is for kprobes: every kernel refuses it to socket filters
  local REFUSED = "helper:socket_filter:override_return"
  local BODY = ([[
env.it("needs hash maps", { "map:hash" }, function() end)
env.it("needs what no kernel gives", { %q }, function() error("ran") end)
]]):format(REFUSED)

  env.it("reports a spec whose feature the kernel refuses, and passes", { "bpf" }, function()
    local ok, out = busted_run(BODY, true)
    assert.is_true(ok, out)
    assert.matches("1 success / 0 failures / 0 errors / 0 pending", out, 1, true)
    assert.matches("\n  map:hash +1 ran +available\n", out)
    assert.matches("\n  " .. REFUSED .. " +1 refused +REFUSED: not supported by this kernel %(EOPNOTSUPP%): " ..
      "socket_filter programs may not call override_return\n      refused spec: needs what no kernel gives " ..
      "%(.-probe_spec%.lua:3%)\n", out)
    assert.matches("core set %(13 features, needed when EBPFDSL_REQUIRE_KERNEL=1%): all available", out)
  end)

  env.it("fails when the kernel refuses a feature of the core set", { "bpf" }, function()
    local ok, out = busted_run(("table.insert(env.CORE, %q)\n"):format(REFUSED) .. BODY, true)
    assert.is_false(ok)
    assert.matches("required by EBPFDSL_REQUIRE_KERNEL=1 but refused by this kernel: " .. REFUSED, out, 1, true)
    assert.matches("EBPFDSL_REQUIRE_KERNEL=1: the kernel refuses features of the core set:\n  " .. REFUSED, out, 1,
      true)
    -- without the requirement the same run passes, the refusal reported
    ok, out = busted_run(("table.insert(env.CORE, %q)\n"):format(REFUSED) .. BODY, false)
    assert.is_true(ok, out)
    assert.matches("refused spec: needs what no kernel gives", out, 1, true)
  end)

  env.it("runs a spec of a feature's refusal (\"!feature\") only where the kernel refuses it", { "bpf" }, function()
    local ok, out = busted_run(BODY .. ([[
env.it("of its refusal", { "!%s" }, function() end)
env.it("of hash maps' refusal", { "!map:hash" }, function() error("ran") end)
]]):format(REFUSED), true)
    assert.is_true(ok, out)
    assert.matches("2 successes / 0 failures / 0 errors / 0 pending", out, 1, true)
    assert.matches("\n  map:hash +1 ran, 1 only where refused +available\n      spec of its refusal: of hash maps' "
      .. "refusal %(.-probe_spec%.lua:5%)\n", out)
    assert.matches("\n  " .. REFUSED .. " +1 refused, 1 ran on its refusal +REFUSED: ", out)
  end)

  env.it("fails when EBPFDSL_REQUIRE_FEATURES names a feature the kernel refuses, whether a spec needs it or not",
    { "bpf" }, function()
      local ok, out = busted_run(BODY, false, REFUSED .. ",map:hash")
      assert.is_false(ok)
      assert.matches("required by EBPFDSL_REQUIRE_FEATURES but refused by this kernel: " .. REFUSED, out, 1, true)
      assert.matches("EBPFDSL_REQUIRE_FEATURES: the kernel refuses features it names:\n  " .. REFUSED .. ": not "
        .. "supported by this kernel (EOPNOTSUPP)", out, 1, true)
      ok, out = busted_run('env.it("needs hash maps", { "map:hash" }, function() end)\n', false,
        "map:array " .. REFUSED)
      assert.is_false(ok)
      assert.matches("demanded by EBPFDSL_REQUIRE_FEATURES: REFUSED " .. REFUSED, out, 1, true)
      ok, out = busted_run(BODY, false, "map:hash,map:array")
      assert.is_true(ok, out)
      assert.matches("demanded by EBPFDSL_REQUIRE_FEATURES (map:hash map:array): all available", out, 1, true)
    end)
end)
