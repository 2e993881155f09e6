-- SPDX-License-Identifier: MIT
-- A tracepoint end to end: a program on syscalls/sys_enter_getppid counts
-- calls per process of our own trigger binary into a hash map; children
-- that call getppid(2) a known number of times are counted exactly, and
-- only while attached.
local env = require "support.env"
local count = require "support.count"

local NEEDS = { "bpf", "tracefs", "gcc", "attach:tracepoint" }

local built
local function getppid_n()
  if not built then
    built = env.tmpdir() .. "/getppid_n"
    env.run("gcc -O2 -Wall -o " .. built .. " spec/support/getppid_n.c")
  end
  return built
end

-- counts[tgid] += 1 for every sys_enter_getppid of a getppid_n process:
-- whatever else on the machine calls getppid stays out of the map
local function counter(e, counts)
  local d = e.dsl
  return assert(e.programs.load{ type = "tracepoint", name = "count_getppid", insns = {
    count.only_comm(d, "getppid_n", "out"),
    d.call("get_current_pid_tgid"),
    d.rsh("r0", 32),
    d.stx("w", "fp", -4, "r0"), -- key: the tgid
    count.bump(d, counts, -4),
    d.label("out"),
    d.mov("r0", 0),
    d.exit(),
  } })
end

describe("a tracepoint program on syscalls/sys_enter_getppid", function()
  env.it("counts exactly the calls each child makes", NEEDS, function()
    local e = require "ebpfdsl"
    local counts <close> = assert(e.maps.hash{ key = "u32", value = "u64", max_entries = 1024 })
    local link = assert(counter(e, counts):attach_tracepoint("syscalls", "sys_enter_getppid"))
    local runs = { 7, 1, 250, 13 }
    local pids = {}
    for i, n in ipairs(runs) do pids[i] = tonumber(env.run(getppid_n() .. " " .. n)) end
    for i, n in ipairs(runs) do
      assert.equal(n, counts[pids[i]], ("child %d called getppid %d times"):format(pids[i], n))
    end
    -- a child that never calls it is not in the map
    local quiet = tonumber(env.run(getppid_n() .. " 0"))
    assert.is_nil(counts[quiet])
    link:detach()
    local after = tonumber(env.run(getppid_n() .. " 5"))
    assert.is_nil(counts[after])
  end)

  env.it("counts through a link that is pinned and then dropped by this process", NEEDS, function()
    local e = require "ebpfdsl"
    local counts <close> = assert(e.maps.hash{ key = "u32", value = "u64", max_entries = 64 })
    local path = env.unique("/sys/fs/bpf/ebpfdsl_spec_tp_")
    finally(function() os.remove(path) end)
    do
      local link = assert(counter(e, counts):attach_tracepoint("syscalls/sys_enter_getppid"))
      assert(link:pin(path))
    end
    collectgarbage()
    collectgarbage() -- the Link and its Prog are gone; the pin holds both in the kernel
    local pid = tonumber(env.run(getppid_n() .. " 3"))
    assert.equal(3, counts[pid])
    local pinned = assert(e.attach.open_pinned(path))
    assert.equal("perf_event", pinned:info().type)
    -- the tracepoint's name where the kernel tells (6.6+), else nothing
    assert.equal(env.has("link_info:perf_event") and "sys_enter_getppid" or nil, pinned:info().name)
    os.remove(path)
    pinned:close()
    pid = tonumber(env.run(getppid_n() .. " 3"))
    assert.is_nil(counts[pid])
  end)
end)
