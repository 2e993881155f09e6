-- SPDX-License-Identifier: MIT
-- The other attach kinds, each observed through the kernel: tracepoint
-- and raw tracepoint links, perf_event sampling, fentry/fexit, cgroup
-- programs (skb, sock, sock_addr, sysctl, device), sk_lookup and
-- flow_dissector on a network namespace, a task iterator's output, and
-- pinned links. Oracles: bpftool (program run counts, cgroup and netns
-- attachments, pinned links), stat(1) inode numbers, /proc, and the
-- behaviour a process sees (EPERM, datagrams lost).
local env = require "support.env"

local function trivial(e, ptype, opts)
  local d = e.dsl
  local spec = { type = ptype, name = opts and opts.name or "t_" .. ptype:sub(1, 12),
                 insns = { d.mov("r0", opts and opts.ret or 0), d.exit() } }
  for k, v in pairs(opts or {}) do if k ~= "ret" and k ~= "name" then spec[k] = v end end
  return assert(e.programs.load(spec))
end

local count = require "support.count"
local net = require "support.net"

local function btf_func_id(name)
  local out = env.run("(bpftool btf dump file /sys/kernel/btf/vmlinux | grep \"FUNC '" .. name .. "'\" || true)")
  return tonumber(out:match("^%[(%d+)%]"))
end

local function inode(path)
  return tonumber((env.run("stat -L -c %i " .. path)))
end

describe("prog:attach_tracepoint", function()
  env.it("links a perf event of the tracefs id; the kernel reports the tracepoint back",
    { "bpf", "tracefs", "attach:tracepoint" },
    function()
    local e = require "ebpfdsl"
    local prog = trivial(e, "tracepoint")
    local link = assert(prog:attach_tracepoint("syscalls", "sys_enter_getppid", { cookie = 42 }))
    assert.equal("tracepoint", link:kind())
    assert.equal("syscalls/sys_enter_getppid", link:target())
    local info = assert(link:info())
    assert.equal("perf_event", info.type)
    if env.has("link_info:perf_event") then -- what the link probes: 6.6+
      assert.equal("tracepoint", info.perf_event_type)
      assert.equal("sys_enter_getppid", info.name)
      assert.equal(42, info.cookie)
    else -- the type and ids, and nothing made up
      assert.same({}, { info.perf_event_type, info.name, info.cookie })
    end
    assert.matches("^ebpfdsl.Link tracepoint syscalls/sys_enter_getppid %(prog 't_tracepoint', fd=%d+%)$",
      tostring(link))
    -- "category/name" in one string; a program runs once per tracepoint
    local again, msg = prog:attach_tracepoint("syscalls/sys_enter_getppid")
    assert.is_nil(again)
    assert.equal("tracepoint syscalls/sys_enter_getppid: the program is attached there already: File exists", msg)
    local other = assert(trivial(e, "tracepoint"):attach_tracepoint("syscalls/sys_enter_getppid"))
    assert.equal(link:target(), other:target())
    other:detach()
    link:detach()
  end)

  env.it("says which tracepoint does not exist, and why", { "bpf", "tracefs" }, function()
    local e = require "ebpfdsl"
    local prog = trivial(e, "tracepoint")
    local l, msg, errno = prog:attach_tracepoint("syscalls", "sys_enter_nonesuch")
    assert.is_nil(l)
    assert.equal("tracepoint syscalls/sys_enter_nonesuch: no such tracepoint in category 'syscalls' "
      .. "(/sys/kernel/tracing/events/syscalls/sys_enter_nonesuch/id): No such file or directory", msg)
    assert.equal(2, errno)
    msg = select(2, prog:attach_tracepoint("nocategory", "x"))
    assert.matches("no tracepoint category 'nocategory'", msg)
    msg = select(2, prog:attach_tracepoint("syscalls", "../../x"))
    assert.matches("category and name must be plain names", msg)
    l, msg = trivial(e, "xdp"):attach_tracepoint("syscalls", "sys_enter_getppid")
    assert.is_nil(l)
    assert.matches("^tracepoint syscalls/sys_enter_getppid: the kernel refused the program", msg)
    assert.has_error(function() prog:attach_tracepoint("syscalls", "x", { cokie = 1 }) end,
      "attach_tracepoint: unknown field 'cokie' (did you mean 'cookie'?)")
  end)
end)

describe("prog:attach_raw_tracepoint", function()
  env.it("runs the program on every syscall of the machine", { "bpf", "attach:raw_tracepoint" }, function()
    local e = require "ebpfdsl"
    local prog, runs = count.counter(e, "raw_tracepoint")
    local link = assert(prog:attach_raw_tracepoint("sys_enter"))
    local info = assert(link:info())
    assert.equal("raw_tracepoint", info.type)
    assert.equal("sys_enter", info.name)
    local before = runs()
    env.run("for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done")
    assert.truthy(runs() >= before + 10)
    link:detach()
    local l, msg = trivial(e, "raw_tracepoint"):attach_raw_tracepoint("ebpfdsl_nonesuch")
    assert.is_nil(l)
    assert.equal("raw tracepoint 'ebpfdsl_nonesuch': the kernel has no such tracepoint: No such file or directory", msg)
  end)
end)

describe("prog:attach_perf_event", function()
  env.it("samples cpu-clock on every online CPU, counted in a map", { "bpf", "attach:perf_event" }, function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local counts <close> = assert(e.maps.percpu_array{ value = "u64", max_entries = 1 })
    local prog = assert(e.programs.load{ type = "perf_event", name = "t_perf_event", insns = count.add_one(d, counts) })
    local link = assert(prog:attach_perf_event{ event = "cpu-clock", freq = 1000 })
    local ncpu = tonumber((env.run("nproc")))
    assert.equal(ncpu, link:count())
    assert.equal(("cpu-clock at 1000 Hz, %d CPUs"):format(ncpu), link:target())
    local before = counts[0].sum
    local t = os.clock()
    while os.clock() - t < 0.3 do end -- 300 ms on a CPU: about 300 samples there
    local got = counts[0].sum - before
    assert.truthy(got >= 30, "only " .. got .. " samples in 300 ms of CPU time at 1000 Hz")
    link:detach()
    local stopped = counts[0].sum
    t = os.clock()
    while os.clock() - t < 0.1 do end
    assert.equal(stopped, counts[0].sum) -- detached: no more samples
    link:detach()
    -- one CPU, a fixed period
    local one = assert(prog:attach_perf_event{ event = "task-clock", period = 1000000, cpu = 0 })
    assert.equal("task-clock every 1000000, cpu 0", one:target())
    assert.equal(1, one:count())
    local info = assert(one:info())
    assert.equal("perf_event", info.type)
    if env.has("link_info:perf_event") then
      assert.equal("event", info.perf_event_type)
      assert.equal(1, info.config) -- PERF_COUNT_SW_TASK_CLOCK, from the kernel
    else
      assert.same({}, { info.perf_event_type, info.config })
    end
    one:detach()
  end)

  env.it("says when hardware events are missing, and what is misused", { "bpf" }, function()
    local e = require "ebpfdsl"
    local prog = trivial(e, "perf_event")
    local link, msg = prog:attach_perf_event("cycles")
    local f = io.open("/sys/bus/event_source/devices/cpu/type")
    if f then
      f:close()
      assert.truthy(link, msg)
      link:detach()
    else
      assert.is_nil(link)
      assert.matches("^perf event cpu%-cycles: this machine has no hardware PMU "
        .. "%(/sys/bus/event_source/devices/cpu is missing; virtual machines often have none%)", msg)
    end
    assert.has_error(function() prog:attach_perf_event{ event = "bogus" } end)
    local l
    l, msg = prog:attach_perf_event{ event = "cpu-clock", freq = 10, period = 10 }
    assert.is_nil(l)
    assert.matches("give sample_period or sample_freq, not both", msg)
  end)

  -- A perf_event_attr bit passed through (an ATTR row of EBPFDSL_PERF_EVENT_OPTS):
  -- our own child spins in user space; cpu-clock samples of its task are
  -- counted, then counted again with exclude_user, which leaves them out.
  -- Not all: a preempted child is sampled in the kernel now and then (the
  -- timer's rest fires soon after it is switched back in), a few in a hundred
  -- under load, so the bound is a fifth.
  env.it("passes exclude_user to the kernel: a user-space spinner's samples are left out",
    { "bpf", "attach:perf_event" }, function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local pe = trivial(e, "perf_event")
    assert.matches("attach_perf_event: unknown field 'exclude_usr' %(did you mean 'exclude_user'%?%)$",
      select(2, pcall(pe.attach_perf_event, pe, { event = "cpu-clock", exclude_usr = true })))
    local p = assert(io.popen("lua5.4 -e 'local t = os.time() + 20 repeat for _ = 1, 1e6 do end "
      .. "until os.time() >= t' >/dev/null 2>&1 & echo $!"))
    local child = assert(math.tointeger(p:read("n")))
    p:close()
    -- the child's CPU time (user + system) in clock ticks, from /proc
    local function cpu_ticks()
      local f <close> = assert(io.open("/proc/" .. child .. "/stat"))
      local ut, st = f:read("a"):match("^%d+ %b() %a" .. (" %-?%d+"):rep(10) .. " (%d+) (%d+)")
      return tonumber(ut) + tonumber(st)
    end
    -- samples counted while the child runs 30 ticks (0.3 s at USER_HZ 100) more
    local function samples(opts)
      local counts <close> = assert(e.maps.percpu_array{ value = "u64", max_entries = 1 })
      local prog <close> = assert(e.programs.load{ type = "perf_event", name = "t_perf_excl",
                                                   insns = count.add_one(d, counts) })
      opts.event, opts.freq, opts.pid = "cpu-clock", 4000, child
      local link <close> = assert(prog:attach_perf_event(opts))
      local start, deadline = cpu_ticks(), os.time() + 10
      while cpu_ticks() - start < 30 and os.time() < deadline do env.run("sleep 0.05") end
      local ran = cpu_ticks() - start
      link:detach()
      return counts[0].sum, ran
    end
    local ok, err = pcall(function()
      local all, ran = samples {}
      assert.truthy(ran >= 30, "the child ran only " .. ran .. " ticks in 10 s")
      assert.truthy(all >= 120, "only " .. all .. " samples in " .. ran .. " ticks of the child at 4000 Hz")
      local kernel_only, ran2 = samples { exclude_user = true }
      assert.truthy(ran2 >= 30, "the child ran only " .. ran2 .. " ticks in 10 s")
      assert.truthy(kernel_only * 5 < all, ("%d samples with exclude_user, %d without"):format(kernel_only, all))
    end)
    os.execute("kill " .. child .. " 2>/dev/null")
    assert(ok, err)
  end)
end)

describe("prog:attach_tracing (tp_btf, fentry, fexit)", function()
  env.it("attaches a tp_btf program to its BTF tracepoint, where it runs on every syscall until detached",
    { "bpf", "btf", "bpftool", "attach:tp_btf" }, function()
    local e = require "ebpfdsl"
    local tp = env.run("bpftool btf dump file /sys/kernel/btf/vmlinux | grep \"TYPEDEF 'btf_trace_sys_enter'\"")
    local id = tonumber(tp:match("^%[(%d+)%]"))
    local prog, runs = count.counter(e, "tp_btf", { name = "t_tp_btf", attach_to = "sys_enter" })
    assert.truthy(prog, runs)
    assert.equal(id, prog:info().attach_btf_id)
    local link = assert(prog:attach_tracing())
    assert.equal("tracing", link:kind())
    assert.equal("btf_trace_sys_enter", link:target())
    local info = assert(link:info())
    assert.equal("raw_tracepoint", info.type)
    assert.equal("sys_enter", info.name)
    assert.equal(prog:info().id, info.prog_id)
    local before = runs()
    env.run("for i in 1 2 3; do sh -c 'echo $PPID'; done")
    assert.is_true(runs() > before + 3, "sys_enter ran " .. (runs() - before) .. " times for 3 shells")
    link:detach()
    env.run("true")
    local after = runs()
    env.run("for i in 1 2 3; do sh -c 'echo $PPID'; done")
    assert.equal(after, runs())
  end)

  local function getppid_id()
    return assert(btf_func_id("__x64_sys_getppid") or btf_func_id("__do_sys_getppid"))
  end

  env.it("fentry, fexit: attach to getppid's function and count its calls",
    { "bpf", "btf", "bpftool", "attach:fentry", "attach:fexit" }, function()
    local e = require "ebpfdsl"
    local id = getppid_id()
    for _, kind in ipairs { "trace_fentry", "trace_fexit" } do
      local prog, runs = count.counter(e, "tracing", { name = "t_" .. kind, attach_btf_id = id,
        expected_attach_type = e.attach.type(kind) })
      assert.truthy(prog, runs)
      local link = assert(prog:attach_tracing())
      local info = assert(link:info())
      assert.equal("tracing", info.type)
      assert.equal(kind, info.attach_type)
      assert.equal(id, info.target_btf_id)
      local before = runs()
      env.run("for i in 1 2 3; do sh -c 'echo $PPID'; done") -- each sh asks getppid(2) once
      assert.truthy(runs() > before)
      link:detach()
    end
  end)

  -- where the kernel refuses them (the development kernel, lockdown=integrity:
  -- EPERM before verification), the load says so with the probe's errno
  env.it("fentry, fexit: refused at load as the feature probe says", { "bpf", "btf", "bpftool", "!prog:fentry",
    "!prog:fexit" }, function()
    local e = require "ebpfdsl"
    local id = getppid_id()
    for _, kind in ipairs { "fentry", "fexit" } do
      local prog, msg, errno = count.counter(e, "tracing", { name = "t_" .. kind, attach_btf_id = id,
        expected_attach_type = e.attach.type("trace_" .. kind) })
      assert.is_nil(prog)
      local _, why, want = e.programs.supported(kind)
      assert.equal(want, errno, why)
      assert.matches("the kernel refuses f%a+ here: BPF trampolines unavailable %(EPERM%)", msg)
    end
  end)

  env.it("refuses a program of another type", { "bpf" }, function()
    local e = require "ebpfdsl"
    local l, msg = trivial(e, "raw_tracepoint"):attach_tracing()
    assert.is_nil(l)
    assert.matches("^tracing attach of 't_raw_tracepoi': refused %(a program of type tracing or lsm", msg)
  end)
end)

describe("prog:attach_cgroup", function()
  -- a UDP round trip on loopback: how many of 3 datagrams came back
  local ROUND_TRIP = [==[lua5.4 -e "local s = require [[socket]] local rx = s.udp() rx:setsockname([[127.0.0.1]], 0)
    rx:settimeout(0.2) local _, port = rx:getsockname() local tx = s.udp() tx:setpeername([[127.0.0.1]], port)
    for i = 1, 3 do tx:send([[m]]) end local n = 0 while rx:receive() do n = n + 1 end print(n)"]==]
  local CASES = {
    -- program type, attach type as written, its full name, a shell line
    -- in the child cgroup, and whether the line succeeds (from its
    -- status and output) when the program is not attached
    { "cgroup_skb", "egress", "cgroup_inet_egress", "exec 3>/dev/udp/127.0.0.1/9 && echo hi >&3" },
    { "cgroup_skb", "ingress", "cgroup_inet_ingress", ROUND_TRIP, function(ok, out) return ok and out == "3\n" end },
    { "cgroup_sock", nil, "cgroup_inet_sock_create", "exec 3>/dev/udp/127.0.0.1/9" },
    { "cgroup_sock_addr", "connect4", "cgroup_inet4_connect", "exec 3>/dev/udp/127.0.0.1/9" },
    { "cgroup_sysctl", nil, "cgroup_sysctl", "cat /proc/sys/kernel/ostype" },
    { "cgroup_device", nil, "cgroup_device", "head -c1 /dev/zero >/dev/null" },
  }

  env.it("denies what each kind guards, in a child cgroup only, until detached",
    { "bpf", "cgroup2", "bpftool", "luasocket" }, function()
    local e = require "ebpfdsl"
    local root = assert(e.attach.cgroup2())
    local cg = env.unique(root .. "/ebpfdsl_spec_")
    env.run("mkdir " .. cg)
    finally(function() os.execute("rmdir " .. cg .. " 2>/dev/null") end)
    local function sh(line, where)
      local enter = where and ("echo $$ > %s/cgroup.procs; "):format(where) or ""
      local p = io.popen(("bash -c '%s%s' 2>&1"):format(enter, line))
      local out = p:read("a")
      return p:close() == true, out
    end
    for _, c in ipairs(CASES) do
      local ptype, atype, full, line = c[1], c[2], c[3], c[4]
      local works = c[5] or function(ok) return ok end
      local prog = trivial(e, ptype, { expected_attach_type = e.attach.type(full) })
      assert.is_true(works(sh(line, cg)), ptype .. " before attach")
      local link = assert(prog:attach_cgroup(cg, atype))
      assert.equal(cg .. " " .. full, link:target())
      local info = assert(link:info())
      assert.equal("cgroup", info.type)
      assert.equal(full, info.attach_type)
      assert.equal(inode(cg), info.cgroup_id) -- a cgroup's id is its directory's inode
      assert.matches("%s" .. full .. "%s+multi%s+t_" .. ptype:sub(1, 12), env.run("bpftool cgroup show " .. cg))
      local ok, out = sh(line, cg)
      assert.is_false(works(ok, out), ("%s %s attached, yet: %s"):format(ptype, full, out))
      if not c[5] then assert.matches("not permitted", out) end
      assert.is_true(works(sh(line)), ptype .. " outside the child cgroup")
      link:detach()
      assert.equal("", env.run("bpftool cgroup show " .. cg))
      assert.is_true(works(sh(line, cg)), ptype .. " after detach")
    end
  end)

  -- an lsm program loaded as lsm_cgroup finds its row (lsm_cgroup, not
  -- lsm's) from its attach type: attach_cgroup needs no attach type named
  env.it("lsm_cgroup: denies a bind in a child cgroup, attached as its row says",
    { "bpf", "cgroup2", "luasocket", "attach:lsm" }, function()
    local e = require "ebpfdsl"
    local cg = env.unique(assert(e.attach.cgroup2()) .. "/ebpfdsl_spec_")
    env.run("mkdir " .. cg)
    finally(function() os.execute("rmdir " .. cg .. " 2>/dev/null") end)
    local BIND = [[lua5.4 -e 'assert(require([=[socket]=]).udp():setsockname([=[127.0.0.1]=], 0))']]
    local function binds(where)
      local enter = where and ("echo \\$\\$ > %s/cgroup.procs && "):format(where) or ""
      return os.execute(('bash -c "%sexec %s" >/dev/null 2>&1'):format(enter, BIND)) == true
    end
    local prog = trivial(e, "lsm_cgroup", { attach_to = "socket_bind" }) -- returns 0: denied
    assert.equal("lsm_cgroup", prog:expected_attach_type())
    assert.is_true(binds(cg), "bind refused before attach")
    local link = assert(prog:attach_cgroup(cg))
    assert.equal(cg .. " lsm_cgroup", link:target())
    assert.equal("lsm_cgroup", assert(link:info()).attach_type)
    assert.is_false(binds(cg), "bind allowed while attached")
    assert.is_true(binds(), "bind refused outside the child cgroup")
    link:detach()
    assert.is_true(binds(cg), "bind refused after detach")
  end)

  env.it("says what is wrong", { "bpf", "cgroup2" }, function()
    local e = require "ebpfdsl"
    local skb = trivial(e, "cgroup_skb")
    assert.has_error(function() skb:attach_cgroup("/sys/fs/cgroup") end,
      "attach_cgroup: a cgroup_skb program needs an attach type (\"ingress\" or \"egress\")")
    assert.has_error(function() skb:attach_cgroup("/sys/fs/cgroup", "sideways") end,
      "attach_cgroup: unknown attach type 'sideways'")
    local l, msg = skb:attach_cgroup("/nonexistent/cg", "ingress")
    assert.is_nil(l)
    assert.equal("cgroup cgroup_inet_ingress on /nonexistent/cg: No such file or directory", msg)
    msg = select(2, skb:attach_cgroup("/tmp", "ingress"))
    assert.matches("^cgroup cgroup_inet_ingress on /tmp: not a cgroup v2 directory", msg)
    l, msg = skb:attach_cgroup(e.attach.cgroup2(), "connect4")
    assert.is_nil(l)
    assert.matches("refused %(the program's type or expected_attach_type does not fit cgroup_inet4_connect%)", msg)
  end)
end)

describe("prog:attach_netns", function()
  local PROBE = [[lua5.4 -e 'local s = require "socket" local rx = s.udp() rx:setsockname("127.0.0.1", 0)
    rx:settimeout(0.2) local _, port = rx:getsockname() local tx = s.udp() tx:setpeername("127.0.0.1", port)
    for i = 1, 3 do tx:send("m" .. i) end local n = 0 while rx:receive() do n = n + 1 end print(n)']]

  env.it("steers socket lookups with sk_lookup, and installs a flow dissector",
    { "bpf", "netns", "luasocket", "bpftool" }, function()
    local e = require "ebpfdsl"
    local netns = net.netns(env.unique("ebpfdsl_sk"))
    finally(netns.down)
    local ns, path = netns.ns, netns.path
    local function delivered() return tonumber(env.run("ip netns exec " .. ns .. " " .. PROBE)) end
    assert.equal(3, delivered())
    local drop = trivial(e, "sk_lookup", { expected_attach_type = e.attach.type("sk_lookup") }) -- SK_DROP
    local link = assert(drop:attach_netns(path))
    assert.equal(path .. " sk_lookup", link:target())
    local info = assert(link:info())
    assert.same({ "netns", "sk_lookup", inode(path) }, { info.type, info.attach_type, info.netns_ino })
    assert.equal(0, delivered())
    assert.equal(3, tonumber(env.run(PROBE))) -- our own namespace is untouched
    link:detach()
    assert.equal(3, delivered())

    local fd = trivial(e, "flow_dissector", { expected_attach_type = e.attach.type("flow_dissector") })
    local fl = assert(fd:attach_netns(path))
    info = assert(fl:info())
    assert.same({ "netns", "flow_dissector", inode(path) }, { info.type, info.attach_type, info.netns_ino })
    local shown = env.run("ip netns exec " .. ns .. " bpftool net show")
    assert.matches("flow_dissector:%s+id " .. info.prog_id, shown)
    local again, msg = fd:attach_netns(path)
    assert.is_nil(again)
    assert.matches("one is attached there already", msg)
    fl:detach()
    assert.not_matches("id " .. info.prog_id, env.run("ip netns exec " .. ns .. " bpftool net show"))
  end)

  env.it("says what is wrong", { "bpf" }, function()
    local e = require "ebpfdsl"
    assert.has_error(function() trivial(e, "xdp"):attach_netns() end,
      "attach_netns: a xdp program cannot attach to a network namespace (flow_dissector and sk_lookup can)")
    local l, msg = trivial(e, "sk_lookup", { expected_attach_type = e.attach.type("sk_lookup") })
      :attach_netns("/run/netns/ebpfdsl_nonesuch")
    assert.is_nil(l)
    assert.equal("sk_lookup on network namespace /run/netns/ebpfdsl_nonesuch: No such file or directory", msg)
  end)
end)

describe("prog:attach_iter", function()
  -- the byte offset of a task_struct member, from bpftool's BTF dump
  local function task_member(name)
    local out = env.run("bpftool btf dump file /sys/kernel/btf/vmlinux format raw | "
      .. "awk '/^\\[[0-9]+\\] STRUCT .task_struct. size/{f=1;next} /^\\[/{f=0} f'")
    local bits = out:match("'" .. name .. "' type_id=%d+ bits_offset=(%d+)")
    return assert(tonumber(bits)) // 8
  end

  env.it("prints every process with bpf_seq_printf; the output matches /proc",
    { "bpf", "btf", "bpftool", "attach:iter" }, function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local prog = assert(e.programs.load{ type = "tracing", name = "iter_pids",
      expected_attach_type = e.attach.type("trace_iter"), attach_btf_id = assert(btf_func_id("bpf_iter_task")),
      insns = {
        d.ldx("dw", "r6", "r1", 0), -- ctx->meta
        d.ldx("dw", "r7", "r1", 8), -- ctx->task
        d.jeq("r7", 0, "out"),
        d.ldx("dw", "r8", "r6", 0), -- meta->seq
        d.ldx("w", "r2", "r7", task_member("tgid")),
        d.ldx("w", "r3", "r7", task_member("pid")),
        d.jne("r2", "r3", "out"), -- threads other than the leader
        d.stx("dw", "fp", -8, "r2"),
        d.st("w", "fp", -16, 0x000a6425), -- "%d\n\0"
        d.mov("r1", "r8"), d.mov("r2", "fp"), d.add("r2", -16), d.mov("r3", 4),
        d.mov("r4", "fp"), d.add("r4", -8), d.mov("r5", 8),
        d.call("seq_printf"),
        d.label("out"),
        d.mov("r0", 0),
        d.exit(),
      } })
    local function proc_pids()
      local t = {}
      for name in env.run("ls /proc"):gmatch("%d+") do t[tonumber(name)] = true end
      return t
    end
    local link = assert(prog:attach_iter())
    assert.equal("iter", link:kind())
    assert.equal("task", link:info().name)
    local child = io.popen("sleep 5 & echo $!; wait")
    local child_pid = tonumber(child:read("l"))
    local before = proc_pids()
    local out = assert(link:read_iter())
    local after = proc_pids()
    local seen, n = {}, 0
    for pid in out:gmatch("(%d+)\n") do seen[tonumber(pid)] = true n = n + 1 end
    assert.is_nil(out:find("[^%d\n]"), "only pids and newlines")
    -- this process, its parent and a child it started are printed; of the
    -- processes alive before and after, at most one is not visited (this
    -- VM's init is outside the kernel's walk); what was printed is what
    -- /proc listed, but for processes that lived only during the pass
    -- (other work on the machine), a few at most
    local unknown = {}
    for pid in pairs(seen) do if not (before[pid] or after[pid]) then unknown[#unknown + 1] = pid end end
    assert.truthy(#unknown * 20 <= n, "printed, never in /proc: " .. table.concat(unknown, " "))
    local self = tonumber(io.open("/proc/self/stat"):read("a"):match("^(%d+)"))
    local parent = tonumber(io.open("/proc/" .. self .. "/stat"):read("a"):match("^%d+ %b() %a (%d+)"))
    for _, pid in ipairs { self, parent, child_pid } do assert.truthy(seen[pid], "pid " .. pid .. " not printed") end
    local missing = {}
    for pid in pairs(before) do if after[pid] and not seen[pid] then missing[#missing + 1] = pid end end
    assert.truthy(#missing <= 1, "not visited: " .. table.concat(missing, " "))
    os.execute("kill " .. child_pid)
    child:close()
    -- an Iter reads a pass piece by piece; each open is a new pass
    local it = assert(link:open_iter())
    assert.matches("^ebpfdsl.Iter fd=%d+$", tostring(it))
    local head = assert(it:read(3))
    assert.equal(3, #head)
    local rest = assert(it:read())
    assert.equal("", it:read())
    assert.truthy(("\n" .. head .. rest):find("\n" .. self .. "\n", 1, true), "a second pass prints us too")
    it:close()
    assert.has_error(function() it:read() end, "attempt to use a closed ebpfdsl.Iter")
    -- other links are not iterators
    local rt = assert(trivial(e, "raw_tracepoint"):attach_raw_tracepoint("sys_enter"))
    local no, msg = rt:read_iter()
    assert.is_nil(no)
    assert.equal("open_iter: a raw_tracepoint link is not an iterator: Invalid argument", msg)
    rt:detach()
    link:detach()
  end)
end)

describe("link:pin", function()
  env.it("keeps a link attached past its process, until unpinned", { "bpf", "bpftool" }, function()
    local e = require "ebpfdsl"
    local path = env.unique("/sys/fs/bpf/ebpfdsl_spec_link_")
    finally(function() os.remove(path) end)
    local link = assert(trivial(e, "raw_tracepoint"):attach_raw_tracepoint("sys_enter"))
    local id = link:info().id
    assert.equal(link, link:pin(path))
    assert.equal(path, link:pin_path())
    assert.matches("pinned at " .. path, tostring(link), 1, true)
    local shown = env.run("bpftool -j link show pinned " .. path)
    assert.equal(id, tonumber(shown:match('"id":(%d+)')))
    link:close() -- the pin keeps it attached
    assert.matches('"id":' .. id, env.run("bpftool -j link show"))
    -- another process opens it by path and sees the same link
    local other = env.run(("lua5.4 -e 'package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path "
      .. "package.cpath=\"build/?.so;\"..package.cpath local a = require \"ebpfdsl.attach\" "
      .. "local l = assert(a.open_pinned(%q)) print(l:info().id, l:kind(), l:info().name)'"):format(path))
    assert.equal(id .. "\tpinned\tsys_enter\n", other)
    local again = assert(e.attach.open_pinned(path))
    assert.equal(id, again:info().id)
    assert.equal(path .. " (raw_tracepoint link)", again:target())
    assert.has_error(function() again:unpin() end, -- this handle did not pin it
      "unpin: this link was not pinned through this handle; give the path")
    os.remove(path)
    again:close()
    assert.not_matches('"id":' .. id .. ",", env.run("bpftool -j link show"))
    local l, msg = e.attach.open_pinned(path)
    assert.is_nil(l)
    assert.matches("^open pinned link " .. path .. ": No such file or directory", msg)
  end)

  env.it("pins and unpins in one process; refuses what is no bpf link", { "bpf", "tracefs", "netns" }, function()
    local e = require "ebpfdsl"
    local path = env.unique("/sys/fs/bpf/ebpfdsl_spec_tp_")
    finally(function() os.remove(path) end)
    local link = assert(trivial(e, "tracepoint"):attach_tracepoint("syscalls", "sys_enter_getppid"))
    assert(link:pin(path))
    local l, msg = link:pin(path .. "2")
    assert.is_nil(l)
    assert.matches("already pinned at " .. path, msg, 1, true)
    assert(link:unpin())
    assert.is_nil(io.open(path))
    assert.is_nil(link:pin_path())
    link:detach()
    local perf = assert(trivial(e, "perf_event"):attach_perf_event{ event = "cpu-clock" })
    if perf:count() > 1 then
      l, msg = perf:pin(path)
      assert.is_nil(l)
      assert.matches("only bpf links can be pinned", msg)
    end
    perf:detach()
  end)
end)

-- The C API's options structs: a caller's struct is read no further than
-- its sz says, and a result struct written no further. Each struct sits
-- right before a page the process may not touch, so reading or writing
-- past it is a crash, not a silent overrun.
describe("options structs of the C API", function()
  local PROGRAM = [[
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "ebpfdsl.h"

#define CHECK(c) do { if (!(c)) { printf("failed: %s (line %d)\n", #c, __LINE__); return 1; } } while (0)

/* n bytes ending where an inaccessible page begins */
static void *before_guard(size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + pg, (size_t)pg, PROT_NONE))
		return NULL;
	memset(p, 0, (size_t)pg);
	return p + pg - n;
}

struct small_link_info { size_t sz; uint32_t type, id; };
struct small_map_info { size_t sz; int type; uint32_t id; };

int main(void)
{
	struct bpf_insn ret0[2] = { { .code = 0xb7 }, { .code = 0x95 } }; /* r0 = 0; exit */
	size_t *none = before_guard(sizeof(size_t)); /* an options struct with sz 0 */
	char err[512];
	ebpfdsl_link *l = NULL;
	int prog, map, e;

	CHECK(none);
	/* sz 0 holds no field: the defaults apply, nothing past sz is read */
	e = ebpfdsl_attach_kprobe(-1, "vfs_read", (void *)none, &l, err, sizeof(err));
	CHECK(e < 0);
	e = ebpfdsl_attach_kprobe_multi(-1, (void *)none, &l, err, sizeof(err));
	CHECK(e == -EINVAL && strstr(err, "give either a pattern or a list of names"));
	e = ebpfdsl_attach_uprobe(-1, "c", (void *)none, &l, err, sizeof(err));
	CHECK(e < 0 && strstr(err, ":0x0: ")); /* no symbol: the default offset, 0 */
	e = ebpfdsl_attach_perf_event(-1, (void *)none, &l, err, sizeof(err));
	CHECK(e < 0);
	e = ebpfdsl_attach_xdp(-1, "ebpfdsl_nope0", (void *)none, &l, err, sizeof(err));
	CHECK(e < 0);
	e = ebpfdsl_attach_tc(-1, "ebpfdsl_nope0", (void *)none, &l, err, sizeof(err));
	CHECK(e < 0);
	e = ebpfdsl_attach_iter(-1, (void *)none, &l, err, sizeof(err));
	CHECK(e < 0);
	map = ebpfdsl_map__create(BPF_MAP_TYPE_HASH, 4, 4, 1, (void *)none);
	CHECK(map >= 0);

	prog = ebpfdsl_prog__load(BPF_PROG_TYPE_RAW_TRACEPOINT, ret0, 2, NULL);
	CHECK(prog >= 0);
	CHECK(ebpfdsl_attach_raw_tracepoint(prog, "sys_enter", &l, err, sizeof(err)) == 0);
	{
		/* results: sz 0 is refused; a smaller struct gets its part and keeps its sz */
		struct ebpfdsl_link_info *li0 = before_guard(sizeof(size_t));
		struct small_link_info *li = before_guard(sizeof(*li));
		struct ebpfdsl_map_info *mi0 = before_guard(sizeof(size_t));
		struct small_map_info *mi = before_guard(sizeof(*mi));
		CHECK(li0 && li && mi0 && mi);
		CHECK(ebpfdsl_link__info(l, li0) == -EINVAL);
		li->sz = sizeof(*li);
		CHECK(ebpfdsl_link__info(l, (struct ebpfdsl_link_info *)li) == 0);
		CHECK(li->sz == sizeof(*li) && li->type == BPF_LINK_TYPE_RAW_TRACEPOINT && li->id > 0);
		CHECK(ebpfdsl_map__info(map, mi0) == -EINVAL);
		mi->sz = sizeof(*mi);
		CHECK(ebpfdsl_map__info(map, (struct ebpfdsl_map_info *)mi) == 0);
		CHECK(mi->sz == sizeof(*mi) && mi->type == BPF_MAP_TYPE_HASH && mi->id > 0);
	}
	ebpfdsl_link__free(l);
	close(prog);
	close(map);
	printf("ok\n");
	return 0;
}
]]

  env.it("are read and written no further than their sz", { "bpf", "gcc" }, function()
    local dir = env.tmpdir()
    finally(function() os.execute("rm -rf " .. dir) end)
    local bin = require("support.capi").build(dir, "opts", PROGRAM, { std = "gnu99", flags = "-O2 -Wall" })
    local ok, out = pcall(env.run, bin .. " 2>&1")
    assert.is_true(ok, out)
    assert.equal("ok\n", out)
  end)
end)

describe("attach.types", function()
  env.it("maps every attach type's name to the kernel's number for it, as bpftool reads the BTF",
    { "btf", "bpftool" }, function()
    local e = require "ebpfdsl"
    local raw = require "support.btf_raw"
    local types = raw.parse(env.run("bpftool btf dump file /sys/kernel/btf/vmlinux format raw"))
    local enum
    for _, t in pairs(types) do
      if t.kind == "enum" and t.name == "bpf_attach_type" then enum = t end
    end
    assert.is_truthy(enum)
    local want, n = {}, 0
    for _, m in ipairs(enum.members) do
      local name = m.name:match("^BPF_(.*)$")
      if name then
        want[name:lower()] = m.val
        n = n + 1
      end
    end
    assert.is_true(n > 40)
    local got = 0
    for name, v in pairs(e.attach.types) do
      assert.equal(want[name], v, name)
      assert.equal(v, e.attach.type(name))
      got = got + 1
    end
    assert.equal(n, got) -- none missing (__MAX_BPF_ATTACH_TYPE has no BPF_ prefix)
    assert.equal(0, e.attach.types.cgroup_inet_ingress)
  end)
end)

-- Every prog:attach_* reads its options through one descriptor table per
-- kind (csrc/lua/lua_attach.c): each refuses what its rows do not hold,
-- at the caller's line, before the kernel is asked.
describe("attach options", function()
  local here = "^spec/65%-attach_kinds_spec%.lua:%d+: "
  local function raises(fn)
    local ok, err = pcall(fn)
    assert.is_false(ok)
    return err
  end

  env.it("refuse unknown fields naming the nearest, values of the wrong type and out of range", { "bpf" }, function()
    local e = require "ebpfdsl"
    local kp, pe, it = trivial(e, "kprobe"), trivial(e, "perf_event"), trivial(e, "kprobe")
    assert.matches(here .. "attach_kprobe_multi: unknown field 'retprob' %(did you mean 'retprobe'%?%)$",
      raises(function() kp:attach_kprobe_multi("a*", { retprob = true }) end))
    assert.matches(here .. "attach_perf_event: unknown field 'evnet' %(did you mean 'event'%?%)$",
      raises(function() pe:attach_perf_event{ evnet = "cpu-clock" } end))
    assert.matches(here .. "attach_iter: unknown field 'mapp' %(did you mean 'map'%?%)$",
      raises(function() it:attach_iter{ mapp = 1 } end))
    assert.matches(here .. "attach_uprobe: unknown field 'colour'$",
      raises(function() kp:attach_uprobe{ path = "c", symbol = "malloc", colour = 1 } end))
    assert.matches(here .. "attach_xdp: unknown field '1'$", raises(function() kp:attach_xdp("lo", { true }) end))
    assert.matches(here .. "attach_kprobe: field 'offset' must be an integer, got string$",
      raises(function() kp:attach_kprobe("f", { offset = "4" }) end))
    assert.matches(here .. "attach_xdp: field 'mode' must be a string, got number$",
      raises(function() kp:attach_xdp("lo", { mode = 1 }) end))
    assert.matches(here .. "attach_uprobe: field 'pid' must be from 0 to 2147483647, got %-1$",
      raises(function() kp:attach_uprobe{ path = "c", symbol = "malloc", pid = -1 } end))
    assert.matches(here .. "attach_tc: field 'handle' must be from 0 to 4294967295, got 4294967296$",
      raises(function() kp:attach_tc("lo", "ingress", { handle = 1 << 32 }) end))
    assert.matches(here .. "bad argument #2 to 'attach_tc' %(unknown direction 'sideways' %(ingress, egress%)%)$",
      raises(function() kp:attach_tc("lo", "sideways") end))
    assert.matches(here .. "attach_perf_event: field 'type' must be from %-1 to 4294967295, got %-2$",
      raises(function() pe:attach_perf_event{ type = -2 } end))
    assert.matches(here .. "attach_iter map: expected an fd",
      raises(function() it:attach_iter{ map = "x" } end))
  end)
end)
