-- SPDX-License-Identifier: MIT
-- XDP and TC end to end on a veth pair into a network namespace the spec
-- makes: UDP datagrams whose first payload byte is 'X' are dropped, the
-- others pass, observed by the receiving socket; `ip`, `tc` and bpftool
-- confirm what is attached, and that nothing is once the links are gone.
local env = require "support.env"
local net = require "support.net"

local NEEDS = { "bpf", "netns", "luasocket", "bpftool" }
local PAYLOADS = { "A1", "X2", "B3", "Xx4", "C5" }
local KEPT = { "A1", "B3", "C5" }

-- The same filter for both hooks: Ethernet, IPv4 without options, UDP,
-- first payload byte. `data`/`data_end` live at different context
-- offsets, and the verdicts differ.
local function filter(d, data_off, end_off, drop, pass)
  return {
    d.ldx("w", "r2", "r1", data_off),
    d.ldx("w", "r3", "r1", end_off),
    d.mov("r4", "r2"),
    d.add("r4", 43),
    d.jgt("r4", "r3", "pass"),
    d.ldx("h", "r5", "r2", 12),
    d.jne("r5", 0x0008, "pass"), -- ETH_P_IP, loaded little-endian
    d.ldx("b", "r5", "r2", 23),
    d.jne("r5", 17, "pass"), -- IPPROTO_UDP
    d.ldx("b", "r5", "r2", 42),
    d.jne("r5", string.byte("X"), "pass"),
    d.mov("r0", drop),
    d.exit(),
    d.label("pass"),
    d.mov("r0", pass),
    d.exit(),
  }
end

local function xdp_prog(e)
  return assert(e.programs.load{ type = "xdp", name = "xdp_drop_x",
    insns = filter(e.dsl, 0, 4, 1 --[[XDP_DROP]], 2 --[[XDP_PASS]]) })
end

local function tc_prog(e)
  -- __sk_buff: data at 76, data_end at 80; TC_ACT_SHOT 2, TC_ACT_OK 0
  return assert(e.programs.load{ type = "sched_cls", name = "tc_drop_x",
    insns = filter(e.dsl, 76, 80, 2, 0) })
end

describe("prog:attach_xdp", function()
  env.it("drops and passes packets on a veth, in generic and driver mode", NEEDS, function()
    local e = require "ebpfdsl"
    local v = net.veth()
    finally(v.down)
    assert.same(PAYLOADS, net.into_host(v, PAYLOADS)) -- the path works unfiltered
    local prog = xdp_prog(e)
    for _, mode in ipairs { "generic", "driver" } do
      local link = assert(prog:attach_xdp(v.host_if, { mode = mode }))
      assert.equal("xdp", link:kind())
      assert.equal(v.host_if .. " (" .. mode .. " mode)", link:target())
      local info = assert(link:info())
      assert.equal("xdp", info.type)
      assert.equal(v.ifindex, info.ifindex) -- the kernel's word, against sysfs
      local shown = env.run("ip link show dev " .. v.host_if)
      -- ip's flag word on the first line: "xdpgeneric" for SKB mode, a
      -- bare "xdp" for driver mode (and "xdpgeneric" must not match it)
      local word = shown:match("^[^\n]* mtu %d+ (xdp%a*) ")
      assert.equal(mode == "generic" and "xdpgeneric" or "xdp", word, shown)
      assert.matches("prog/xdp id " .. info.prog_id, shown, 1, true)
      -- bpftool names the mode the kernel reports: generic or driver
      assert.equal(("%s(%d) %s id %d"):format(v.host_if, v.ifindex, mode, info.prog_id),
        env.run("bpftool net show dev " .. v.host_if):match("xdp:\n([^\n]*)\n"))
      assert.same(KEPT, net.into_host(v, PAYLOADS))
      link:detach()
      assert.not_matches("prog/xdp", env.run("ip link show dev " .. v.host_if), 1, true)
      assert.same(PAYLOADS, net.into_host(v, PAYLOADS))
    end
  end)

  env.it("attaches through netlink when asked, and detaches only its own program", NEEDS, function()
    local e = require "ebpfdsl"
    local v = net.veth()
    finally(v.down)
    local prog = xdp_prog(e)
    local link = assert(prog:attach_xdp(v.host_if, { mode = "generic", netlink = true }))
    local l, msg = link:fd()
    assert.is_nil(l)
    assert.matches("not a bpf link", msg)
    assert.matches("xdpgeneric", env.run("ip link show dev " .. v.host_if))
    assert.same(KEPT, net.into_host(v, PAYLOADS))
    -- a second program cannot take the interface while ours is there
    local other, why = xdp_prog(e):attach_xdp(v.host_if, { mode = "generic" })
    assert.is_nil(other)
    assert.matches("another XDP program is attached there", why)
    link:detach()
    assert.not_matches("prog/xdp", env.run("ip link show dev " .. v.host_if), 1, true)
    assert.same(PAYLOADS, net.into_host(v, PAYLOADS))
  end)

  env.it("names an unknown interface and a wrong program type", NEEDS, function()
    local e = require "ebpfdsl"
    local l, msg, errno = xdp_prog(e):attach_xdp("ebpfdsl_none0")
    assert.is_nil(l)
    assert.equal("xdp on 'ebpfdsl_none0': interface unknown in this network namespace: No such device", msg)
    assert.equal(19, errno)
    assert.has_error(function() xdp_prog(e):attach_xdp("lo", { mode = "turbo" }) end,
      "attach_xdp: unknown mode 'turbo' (generic, driver, offload)")
    local v = net.veth()
    finally(v.down)
    l, msg = tc_prog(e):attach_xdp(v.host_if)
    assert.is_nil(l)
    assert.matches("^xdp on " .. v.host_if, msg)
  end)
end)

describe("prog:attach_tc", function()
  env.it("filters ingress and egress through clsact", NEEDS, function()
    local e = require "ebpfdsl"
    local v = net.veth()
    finally(v.down)
    local prog = tc_prog(e)
    local ing = assert(prog:attach_tc(v.host_if, "ingress"))
    assert.equal("tc", ing:kind())
    assert.matches("^" .. v.host_if .. " ingress %(handle %d+, priority %d+%)$", ing:target())
    assert.matches("clsact", env.run("tc qdisc show dev " .. v.host_if))
    assert.matches("tc_drop_x", env.run("tc filter show dev " .. v.host_if .. " ingress"))
    assert.same(KEPT, net.into_host(v, PAYLOADS))
    assert.same(PAYLOADS, net.into_ns(v, PAYLOADS)) -- egress untouched
    ing:detach()
    assert.equal("", env.run("tc filter show dev " .. v.host_if .. " ingress"))
    assert.same(PAYLOADS, net.into_host(v, PAYLOADS))

    local eg = assert(prog:attach_tc(v.host_if, "egress", { priority = 7, handle = 3 }))
    assert.equal(v.host_if .. " egress (handle 3, priority 7)", eg:target())
    assert.matches("pref 7 bpf", env.run("tc filter show dev " .. v.host_if .. " egress"))
    assert.same(KEPT, net.into_ns(v, PAYLOADS))
    assert.same(PAYLOADS, net.into_host(v, PAYLOADS))
    local _, msg = eg:fd()
    assert.matches("a tc attachment is not a bpf link", msg)
    eg:detach()
    assert.equal("", env.run("tc filter show dev " .. v.host_if .. " egress"))
    assert.same(PAYLOADS, net.into_ns(v, PAYLOADS))
  end)

  env.it("says why an attach fails", NEEDS, function()
    local e = require "ebpfdsl"
    local l, msg = tc_prog(e):attach_tc("ebpfdsl_none0", "ingress")
    assert.is_nil(l)
    assert.matches("tc on 'ebpfdsl_none0': interface unknown", msg)
    assert.has_error(function() tc_prog(e):attach_tc("lo", "sideways") end)
    local v = net.veth()
    finally(v.down)
    l, msg = xdp_prog(e):attach_tc(v.host_if, "ingress")
    assert.is_nil(l)
    assert.matches("^tc ingress on " .. v.host_if .. ": filter refused", msg)
  end)
end)
