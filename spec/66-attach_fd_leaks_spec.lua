-- SPDX-License-Identifier: MIT
-- No file descriptor leaks: 10,000 programs and 10,000 links made and
-- dropped (half closed, half collected), plus attach kinds that hold
-- extra fds, iterators, and failed attaches, against the count of
-- /proc/<pid>/fd of this very process.
local env = require "support.env"

-- Read in this process (lfs): `ls` through io.popen raced with popen
-- closing its pipe's other end, now and then counting one fd more.
local function fd_count()
  collectgarbage()
  collectgarbage()
  local n = 0
  for name in require("lfs").dir("/proc/self/fd") do if name ~= "." and name ~= ".." then n = n + 1 end end
  return n
end

local function btf_func_id(name)
  local out = env.run("(bpftool btf dump file /sys/kernel/btf/vmlinux | grep \"FUNC '" .. name .. "'\" || true)")
  return assert(tonumber(out:match("^%[(%d+)%]")), "no BTF FUNC " .. name)
end

-- drop(i, obj): close every other object; leave the rest to the collector
local function drop(i, obj)
  if i % 2 == 0 then obj:close() end
  if i % 500 == 0 then collectgarbage() end
end

describe("file descriptors", function()
  env.it("are all returned after 10,000 programs", { "bpf" }, function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local insns = e.dsl.assemble { d.mov("r0", 0), d.exit() }
    local before = fd_count()
    for i = 1, 10000 do drop(i, assert(e.programs.load{ type = "socket_filter", insns = insns })) end
    assert.equal(before, fd_count())
  end)

  env.it("are all returned after 10,000 links and every other attach kind", { "bpf", "btf", "bpftool", "luasocket" },
    function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local socket = require "socket"
    local ret0 = { d.mov("r0", 0), d.exit() }
    local before = fd_count()
    do
      -- iterator links are the cheapest to make: 10,000 of them, each
      -- also read once every 1,000 (an Iter fd of its own)
      local iter = assert(e.programs.load{ type = "tracing", insns = ret0, attach_btf_id = btf_func_id("bpf_iter_task"),
        expected_attach_type = e.attach.type("trace_iter") })
      for i = 1, 10000 do
        local l = assert(iter:attach_iter())
        if i % 1000 == 0 then assert(l:read_iter()) end
        drop(i, l)
      end
      -- raw tracepoints detach more slowly (the kernel waits for RCU); a
      -- fresh program each time: 6.1 takes a program on a tracepoint once
      -- (EEXIST while a link not yet collected still holds it)
      for i = 1, 200 do
        local raw = assert(e.programs.load{ type = "raw_tracepoint", insns = ret0 })
        drop(i, assert(raw:attach_raw_tracepoint("sys_enter")))
      end
      -- perf-event backed links own a perf fd and a link fd per part
      -- (a program runs once per tracepoint: a fresh one each time, kept
      -- alive by its link until the link goes)
      local pe = assert(e.programs.load{ type = "perf_event", insns = ret0 })
      for i = 1, 100 do
        local tp = assert(e.programs.load{ type = "tracepoint", insns = ret0 })
        drop(i, assert(tp:attach_tracepoint("syscalls", "sys_enter_getppid")))
        drop(i, assert(pe:attach_perf_event{ event = "cpu-clock", freq = 10 }))
      end
      local tp = assert(e.programs.load{ type = "tracepoint", insns = ret0 })
      -- socket filters keep a dup of the program fd
      local sf = assert(e.programs.load{ type = "socket_filter", insns = ret0 })
      local s = assert(socket.udp())
      assert(s:setsockname("127.0.0.1", 0))
      for i = 1, 500 do drop(i, assert(sf:attach_socket(s))) end
      s:close()
      -- failures must close what they opened on the way
      local kp = assert(e.programs.load{ type = "kprobe", insns = ret0 })
      local lookup = assert(e.programs.load{ type = "sk_lookup", insns = ret0,
        expected_attach_type = e.attach.type("sk_lookup") })
      for _ = 1, 200 do
        assert.is_nil(tp:attach_tracepoint("syscalls", "sys_enter_nonesuch"))
        assert.is_nil(sf:attach_tracepoint("syscalls", "sys_enter_getppid")) -- refused after perf_event_open
        -- a link where there is a hardware PMU (closed at once), else a refusal
        local hw, hw_msg = pe:attach_perf_event("cycles")
        if hw then hw:close() else assert.matches("^perf event cpu%-cycles: ", hw_msg) end
        assert.is_nil(sf:attach_cgroup("/tmp", "ingress"))
        -- a link where the kernel has kprobes (closed at once), else a refusal
        local k, k_msg = kp:attach_kprobe("vfs_read")
        if k then k:close() else assert.matches("^kprobe on 'vfs_read': ", k_msg) end
        assert.is_nil(kp:attach_uprobe{ path = "c", symbol = "ebpfdsl_nonesuch" })
        assert.is_nil(lookup:attach_netns("/tmp")) -- opened, then refused
      end
    end
    assert.equal(before, fd_count())
  end)
end)
