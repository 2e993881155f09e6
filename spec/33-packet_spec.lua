-- SPDX-License-Identifier: MIT
-- ebpfdsl.packet in the kernel: header cursors, loads and stores, checksum
-- updates, NAT and a token bucket, each run with BPF_PROG_TEST_RUN on
-- frames built in Lua (spec/support/packet.lua, every checksum computed
-- from scratch). Rewritten frames must equal, byte for byte, frames built
-- with the new values; scapy parses both and finds their checksums right;
-- the header table agrees with gcc over the kernel's UAPI headers.
local env = require "support.env"
local P = require "support.packet"

local ebpf = require "ebpfdsl"
local d = ebpf.dsl
local packet = require "ebpfdsl.packet"

local NEEDS = { "bpf", "prog:xdp", "test_run" }
local NEEDS_TC = { "bpf", "prog:sched_cls", "test_run" }

local function load(ptype, insns, name)
  local p, msg, _, log = ebpf.programs.load { type = ptype, insns = insns, name = name or "pkt_spec", license = "GPL" }
  if not p then error(msg .. "\n" .. tostring(log), 2) end
  return p
end

local function run(p, data)
  return assert(p:test_run { data = data })
end

-- A TCP/IPv4 frame most cases start from.
local function tcp4(o)
  o = o or {}
  return P.packet { l3 = "ipv4", l4 = o.l4 or "tcp", src = o.src or "10.0.0.1", dst = o.dst or "10.0.0.2",
                    sport = o.sport or 40000, dport = o.dport or 80, vlans = o.vlans, options = o.options,
                    payload = o.payload or "hello", ttl = o.ttl, id = o.id, nocsum = o.nocsum }
end

describe("packet headers", function()
  env.it("agree with gcc over the kernel's UAPI headers: offsets, sizes, constants, contexts", { "gcc" }, function()
    local dir = env.tmpdir()
    local C = { "#include <stdio.h>", "#include <stddef.h>", "#include <string.h>", "#include <linux/if_ether.h>",
                "#include <linux/ip.h>", "#include <linux/ipv6.h>", "#include <linux/tcp.h>",
                "#include <linux/udp.h>", "#include <linux/icmp.h>", "#include <linux/in.h>",
                "#include <linux/bpf.h>", "#include <linux/pkt_cls.h>", "int main(void) {" }
    local cnames = {
      eth = { "struct ethhdr", dst = "h_dest", src = "h_source", proto = "h_proto" },
      ipv4 = { "struct iphdr", tos = "tos", tot_len = "tot_len", id = "id", frag_off = "frag_off", ttl = "ttl",
               protocol = "protocol", check = "check", saddr = "saddr", daddr = "daddr" },
      ipv6 = { "struct ipv6hdr", payload_len = "payload_len", nexthdr = "nexthdr", hop_limit = "hop_limit",
               saddr = "saddr", daddr = "daddr" },
      tcp = { "struct tcphdr", source = "source", dest = "dest", seq = "seq", ack_seq = "ack_seq", window = "window",
              check = "check", urg_ptr = "urg_ptr" },
      udp = { "struct udphdr", source = "source", dest = "dest", len = "len", check = "check" },
      icmp = { "struct icmphdr", type = "type", code = "code", checksum = "checksum", id = "un.echo.id",
               sequence = "un.echo.sequence" },
    }
    local function p(fmt, ...) C[#C + 1] = fmt:format(...) end
    for h, m in pairs(cnames) do
      p('printf("%s size %%zu\\n", sizeof(%s));', h, m[1])
      for f, cf in pairs(m) do
        if f ~= 1 then
          p('{ %s x; printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), sizeof(x.%s)); }', m[1], h, f, m[1], cf, cf)
        end
      end
    end
    -- tcphdr's bitfields: where doff and the flags land
    p('{ struct tcphdr t; unsigned char *b = (unsigned char *)&t; memset(&t, 0, sizeof(t)); t.doff = 5; t.syn = 1;')
    p('  t.ack = 1; printf("tcp.bits %%d %%d\\n", b[12], b[13]); }')
    for name, v in pairs { ETH_P_IP = "ETH_P_IP", ETH_P_IPV6 = "ETH_P_IPV6", ETH_P_8021Q = "ETH_P_8021Q",
                           ETH_P_8021AD = "ETH_P_8021AD", ETH_P_ARP = "ETH_P_ARP", IPPROTO_TCP = "IPPROTO_TCP",
                           IPPROTO_UDP = "IPPROTO_UDP", IPPROTO_ICMP = "IPPROTO_ICMP",
                           IPPROTO_ICMPV6 = "IPPROTO_ICMPV6", XDP_ABORTED = "XDP_ABORTED", XDP_DROP = "XDP_DROP",
                           XDP_PASS = "XDP_PASS", XDP_TX = "XDP_TX", XDP_REDIRECT = "XDP_REDIRECT",
                           TC_ACT_OK = "TC_ACT_OK", TC_ACT_SHOT = "TC_ACT_SHOT", TC_ACT_UNSPEC = "TC_ACT_UNSPEC",
                           TC_ACT_PIPE = "TC_ACT_PIPE", TC_ACT_STOLEN = "TC_ACT_STOLEN",
                           TC_ACT_REDIRECT = "TC_ACT_REDIRECT", SK_PASS = "SK_PASS", SK_DROP = "SK_DROP" } do
      p('printf("const %s %%d\\n", (int)%s);', name, v)
    end
    p('printf("ctx xdp %%zu %%zu\\n", offsetof(struct xdp_md, data), offsetof(struct xdp_md, data_end));')
    p('printf("ctx skb %%zu %%zu\\n", offsetof(struct __sk_buff, data), offsetof(struct __sk_buff, data_end));')
    C[#C + 1] = "return 0; }"
    local src = assert(io.open(dir .. "/h.c", "w"))
    src:write(table.concat(C, "\n"))
    src:close()
    local out = env.run(("gcc -o %s/h %s/h.c && %s/h"):format(dir, dir, dir))
    local seen = 0
    for h, size in out:gmatch("\n?(%w+) size (%d+)") do
      assert.equal(tonumber(size), packet.headers[h].size, h)
      seen = seen + 1
    end
    for h, f, off, size in out:gmatch("(%w+)%.([%w_]+) (%d+) (%d+)") do
      if f == "bits" then break end
      assert.same({ tonumber(off), tonumber(size) }, packet.headers[h][f], h .. "." .. f)
      seen = seen + 1
    end
    local b12, b13 = out:match("tcp%.bits (%d+) (%d+)")
    assert.equal(5 << 4, tonumber(b12)) -- doff: the high nibble of tcp.doff's byte
    assert.equal(packet.TCP_FLAGS.syn | packet.TCP_FLAGS.ack, tonumber(b13))
    local c = {}
    for name, v in out:gmatch("const ([%w_]+) (%-?%d+)") do c[name] = tonumber(v) end
    assert.same({ c.ETH_P_IP, c.ETH_P_IPV6, c.ETH_P_8021Q, c.ETH_P_8021AD, c.ETH_P_ARP },
      { packet.ETH_P.ip, packet.ETH_P.ipv6, packet.ETH_P.vlan, packet.ETH_P.qinq, packet.ETH_P.arp })
    assert.same({ c.IPPROTO_TCP, c.IPPROTO_UDP, c.IPPROTO_ICMP, c.IPPROTO_ICMPV6 },
      { packet.IPPROTO.tcp, packet.IPPROTO.udp, packet.IPPROTO.icmp, packet.IPPROTO.icmpv6 })
    assert.same({ c.XDP_ABORTED, c.XDP_DROP, c.XDP_PASS, c.XDP_TX, c.XDP_REDIRECT },
      { packet.XDP.aborted, packet.XDP.drop, packet.XDP.pass, packet.XDP.tx, packet.XDP.redirect })
    assert.same({ c.TC_ACT_OK, c.TC_ACT_SHOT, c.TC_ACT_UNSPEC, c.TC_ACT_PIPE, c.TC_ACT_STOLEN, c.TC_ACT_REDIRECT },
      { packet.TC.ok, packet.TC.shot, packet.TC.unspec, packet.TC.pipe, packet.TC.stolen, packet.TC.redirect })
    assert.same({ c.SK_PASS, c.SK_DROP }, { packet.SK.pass, packet.SK.drop })
    local x0, x1 = out:match("ctx xdp (%d+) (%d+)")
    local s0, s1 = out:match("ctx skb (%d+) (%d+)")
    assert.same({ tonumber(x0), tonumber(x1) }, { packet.context.xdp.data, packet.context.xdp.data_end })
    for _, k in ipairs { "sched_cls", "sched_act", "sk_skb", "cgroup_skb" } do
      assert.same({ tonumber(s0), tonumber(s1) }, { packet.context[k].data, packet.context[k].data_end }, k)
    end
    assert.equal(39, seen) -- 6 sizes and 33 fields compared
  end)

  it("the builder's checksums are the ones computed by hand", function()
    -- the classic IPv4 example: 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7
    local h = P.ipv4({ src = "192.168.0.1", dst = "192.168.0.199", proto = 17, id = 0, frag_off = 0x4000, ttl = 64 },
      string.rep("\0", 0x73 - 20))
    assert.equal("\x45\x00\x00\x73\x00\x00\x40\x00\x40\x11\xb8\x61\xc0\xa8\x00\x01\xc0\xa8\x00\xc7", h:sub(1, 20))
    assert.equal(0, P.csum(h:sub(1, 20))) -- a header with its checksum sums to 0xffff
    assert.equal(0xffff - 0x0102 - 0x0304, P.csum("\1\2\3\4"))
  end)

  env.it("the builder's frames are what scapy parses, each checksum right", { "scapy" }, function()
    local scapy = require "support.scapy"
    local frames = {
      tcp4(), tcp4 { vlans = { { tci = 5 } } }, tcp4 { l4 = "udp" }, tcp4 { l4 = "udp", nocsum = true },
      tcp4 { l4 = "icmp" }, tcp4 { options = "\1\1\1\0" },
      P.packet { l3 = "ipv6", l4 = "udp", src = "fd00::1", dst = "fd00::2:3", sport = 53, dport = 5353, payload = "x" },
      P.packet { l3 = "ipv6", l4 = "tcp", src = "fd00::1", dst = "fd00::2", sport = 1, dport = 2, payload = "yz" },
    }
    local got = scapy.parse(frames)
    for i, g in ipairs(got) do
      if g.l3 == "ipv4" then assert.is_true(g.ip_ok, "frame " .. i) end
      assert.is_true(g.l4_ok == true or (i == 4 and g.l4_ok == "none"), "frame " .. i)
    end
    assert.same({ 5 }, got[2].vlans)
    assert.equal("fd00::2:3", got[7].dst)
    assert.same({ 40000, 80 }, { got[1].sport, got[1].dport })
  end)
end)

-- A program that parses as far as it can: returns the L4 header's offset
-- plus 1000 * the L4 protocol, 100 for a frame that is not IP, and 1
-- (XDP_DROP) when a bounds check fails.
local function parser(kind)
  local c = packet.cursor { kind = kind, ctx = "r6", data = "r7", data_end = "r8", miss = "miss" }
  return c, {
    d.mov("r6", "r1"),
    c:load_data(),
    c:eth("r9", "r2"),
    d.jeq("r2", packet.ETH_P.ip, "v4"),
    d.jeq("r2", packet.ETH_P.ipv6, "v6"),
    d.mov("r0", 100), d.exit(),
    d.label("v4"), c:ipv4("r9", "r3", "r4"), d.ja("l4"),
    d.label("v6"), c:ipv6("r9", "r3", "r4"),
    d.label("l4"),
    d.jeq("r4", packet.IPPROTO.tcp, "tcp"),
    d.jeq("r4", packet.IPPROTO.udp, "udp"),
    d.jeq("r4", packet.IPPROTO.icmp, "icmp"),
    d.ja("done"),
    d.label("tcp"), c:tcp("r3", "r5"), d.ja("done"),
    d.label("udp"), c:udp("r3"), d.ja("done"),
    d.label("icmp"), c:icmp("r3"),
    d.label("done"),
    d.mov("r0", "r3"), d.sub("r0", "r7"),
    d.mul("r4", 1000), d.add("r0", "r4"),
    d.exit(),
    d.label("miss"), d.mov("r0", packet.XDP.drop), d.exit(),
  }
end

describe("packet cursors", function()
  env.it("find each header through VLAN tags, IPv4 options and IPv6", NEEDS, function()
    local _, insns = parser("xdp")
    local p <close> = load("xdp", insns)
    local cases = {
      { tcp4(), 6034 },
      { tcp4 { vlans = { { tci = 7 } } }, 6038 },
      { tcp4 { vlans = { { tpid = 0x88a8, tci = 1 }, { tci = 2 } } }, 6042 },
      { tcp4 { options = "\1\1\1\0" }, 6038 },
      { tcp4 { options = string.rep("\1", 40) }, 6074 }, -- the most options IHL allows
      { tcp4 { l4 = "udp" }, 17034 },
      { tcp4 { l4 = "icmp" }, 1034 },
      { P.packet { l3 = "ipv6", l4 = "udp", src = "fd00::1", dst = "fd00::2", sport = 1, dport = 2 }, 17054 },
      { P.packet { l3 = "ipv6", l4 = "tcp", src = "fd00::1", dst = "fd00::2", sport = 1, dport = 2,
                   vlans = { { tci = 3 } } }, 6058 },
      { P.eth({ proto = packet.ETH_P.arp }, string.rep("\0", 28)), 100 },
    }
    for i, case in ipairs(cases) do assert.equal(case[2], run(p, case[1]).retval, "case " .. i) end
  end)

  env.it("miss when a header is cut short, however short", NEEDS, function()
    local _, insns = parser("xdp")
    local p <close> = load("xdp", insns)
    for _, frame in ipairs { tcp4 { payload = "" }, tcp4 { l4 = "udp", payload = "" },
                             tcp4 { vlans = { { tci = 1 }, { tci = 2 } }, payload = "" },
                             P.packet { l3 = "ipv6", l4 = "udp", src = "fd00::1", dst = "fd00::2", sport = 1,
                                        dport = 2 } } do
      local full = run(p, frame).retval
      assert.is_true(full > 1000)
      -- test runs need a whole Ethernet header; shorter than the L4 header's end: a miss
      for n = 14, #frame - 1 do assert.equal(1, run(p, frame:sub(1, n)).retval, n .. " bytes") end
    end
  end)

  env.it("miss on a bad IPv4 version or IHL, and a TCP data offset below 5", NEEDS, function()
    local _, insns = parser("xdp")
    local p <close> = load("xdp", insns)
    local f = tcp4()
    local function patch(s, at, byte) return s:sub(1, at - 1) .. string.char(byte) .. s:sub(at + 1) end
    assert.equal(1, run(p, patch(f, 15, 0x44)).retval) -- IHL 4
    assert.equal(1, run(p, patch(f, 15, 0x65)).retval) -- version 6 in an IPv4 ethertype
    assert.equal(1, run(p, patch(f, 15, 0x4f)).retval) -- IHL 15: more than the frame
    assert.equal(1, run(p, patch(f, 14 + 20 + 13, 0x40)).retval) -- TCP data offset 4
    assert.equal(1, run(p, patch(f, 14 + 20 + 13, 0xf0)).retval) -- TCP data offset 15: past the end
  end)

  env.it("load fields in host order and store them back in network order", NEEDS, function()
    local frame = tcp4 { src = "10.1.2.3", dst = "172.16.5.9", sport = 51234, dport = 443, ttl = 33, id = 0xbeef }
    local want = { ["ipv4.ttl"] = 33, ["ipv4.id"] = 0xbeef, ["ipv4.saddr"] = P.ip4n("10.1.2.3"),
                   ["ipv4.daddr"] = P.ip4n("172.16.5.9"), ["ipv4.tot_len"] = 20 + 20 + 5, ["ipv4.protocol"] = 6,
                   ["tcp.source"] = 51234, ["tcp.dest"] = 443, ["tcp.seq"] = 1, ["eth.proto"] = 0x0800 }
    for path, v in pairs(want) do
      local c = packet.cursor { kind = "xdp", ctx = "r6", data = "r7", data_end = "r8", miss = "miss" }
      local hdr = path:match("^(%w+)")
      local p <close> = load("xdp", {
        d.mov("r6", "r1"), c:load_data(), c:eth("r9", "r2"), c:ipv4("r9", "r3", "r4"), c:tcp("r3"),
        c:load("r0", path, hdr == "tcp" and "r3" or hdr == "eth" and "r7" or "r9"),
        d.exit(),
        d.label("miss"), d.mov("r0", -1), d.exit(),
      })
      assert.equal(v, run(p, frame).retval, path)
    end
    -- raw: the packet's own bytes, as the host reads them
    local c = packet.cursor { kind = "xdp", ctx = "r6", data = "r7", data_end = "r8", miss = "miss" }
    local raw <close> = load("xdp", { d.mov("r6", "r1"), c:load_data(), c:eth("r9", "r2"), c:ipv4("r9", "r3", "r4"),
      c:load("r0", "ipv4.saddr", "r9", { raw = true }), d.exit(), d.label("miss"), d.mov("r0", 0), d.exit() })
    assert.equal(string.unpack("=I4", P.ip4("10.1.2.3")), run(raw, frame).retval)
    -- stores: an integer and a register, in host order
    local st <close> = load("xdp", {
      d.mov("r6", "r1"), c:load_data(), c:eth("r9", "r2"), c:ipv4("r9", "r3", "r4"), c:tcp("r3"),
      c:store("r9", "ipv4.ttl", 7),
      c:store("r3", "tcp.dest", 8080),
      d.mov("r5", 0x01020304), c:store("r9", "ipv4.id", "r5"),
      d.mov("r0", packet.XDP.pass), d.exit(),
      d.label("miss"), d.mov("r0", 0), d.exit(),
    })
    local out = run(st, frame).data_out
    local expect = frame:sub(1, 14 + 4) .. string.pack(">I2", 0x0304) .. frame:sub(14 + 7, 14 + 8) .. "\7" ..
      frame:sub(14 + 10, 14 + 20 + 2) .. string.pack(">I2", 8080) .. frame:sub(14 + 20 + 5)
    assert.equal(expect, out) -- no checksum moved: c:store leaves them to c:rewrite
  end)
end)

-- The NAT program: the new address and port from an array map (host
-- order), so that one program serves every case. Registers: ctx r6; XDP
-- keeps data, data_end in r7, r8 and l4 in r6 (ctx is done with once data
-- is loaded); TC keeps them in r2, r3 and l4 in r8, which the helpers
-- leave alone; ip in r9; the new address in r0, the port in r1.
local function nat_program(kind, o, target)
  local xdp = kind == "xdp"
  local c = packet.cursor { kind = kind, ctx = "r6", data = xdp and "r7" or "r2", data_end = xdp and "r8" or "r3",
                            miss = "miss", scratch = { "r0", "r1", "r2", "r3", "r4", "r5", "r7" } }
  local l4 = xdp and "r6" or "r8"
  return load(kind, {
    d.mov("r6", "r1"),
    c:load_data(),
    c:eth("r9", "r4"),
    d.jne("r4", packet.ETH_P.ip, "pass"),
    c:ipv4("r9", l4, "r4"),
    o.proto == "tcp" and c:tcp(l4) or c:udp(l4),
    d.ld_map_value("r5", target, 0),
    d.ldx("w", "r0", "r5", 0),
    d.ldx("h", "r1", "r5", 4),
    c:nat { ip = "r9", l4 = l4, proto = o.proto, dir = o.dir, addr = "r0", port = "r1", method = o.method },
    d.label("pass"), d.mov("r0", xdp and packet.XDP.pass or packet.TC.ok), d.exit(),
    d.label("miss"), d.mov("r0", 99), d.exit(),
  }, "nat_" .. kind)
end

describe("checksums and NAT", function()
  -- one case: frame options, the rewrite, and the frame expected after it
  local function nat_case(o, frame_opts, addr, port)
    local before = tcp4(frame_opts)
    local after = {}
    for k, v in pairs(frame_opts) do after[k] = v end
    if o.dir == "src" then
      after.src, after.sport = addr, port
    else
      after.dst, after.dport = addr, port
    end
    return before, tcp4(after)
  end

  local function each_case(fn)
    for _, proto in ipairs { "tcp", "udp" } do
      for _, dir in ipairs { "dst", "src" } do
        for _, extra in ipairs { {}, { vlans = { { tci = 9 } } }, { options = "\1\1\1\0" }, { nocsum = true } } do
          if not (extra.nocsum and proto == "tcp") then
            local f = { l4 = proto }
            for k, v in pairs(extra) do f[k] = v end
            fn({ proto = proto, dir = dir }, f)
          end
        end
      end
    end
  end

  local function set_target(m, addr, port)
    m:update(0, string.pack("=I4I2", P.ip4n(addr), port) .. "\0\0")
  end

  env.it("in XDP, computed in BPF, give the frame built with the new address and port", NEEDS, function()
    local target <close> = assert(ebpf.maps.array { value_size = 8, max_entries = 1 })
    each_case(function(o, f)
      local p <close> = nat_program("xdp", o, target)
      set_target(target, "192.168.7.9", 8080)
      local before, after = nat_case(o, f, "192.168.7.9", 8080)
      local r = run(p, before)
      assert.equal(packet.XDP.pass, r.retval)
      assert.equal(after, r.data_out, ("%s %s %s"):format(o.proto, o.dir, next(f, next(f)) or ""))
    end)
  end)

  env.it("in TC, through l3_csum_replace and l4_csum_replace, give the same frames", NEEDS_TC, function()
    local target <close> = assert(ebpf.maps.array { value_size = 8, max_entries = 1 })
    each_case(function(o, f)
      for _, method in ipairs { "helpers", "bpf" } do
        o.method = method
        local p <close> = nat_program("sched_cls", o, target)
        set_target(target, "10.9.8.7", 53)
        local before, after = nat_case(o, f, "10.9.8.7", 53)
        local r = run(p, before)
        assert.equal(packet.TC.ok, r.retval)
        assert.equal(after, r.data_out, method)
      end
    end)
  end)

  env.it("take integers too, however high their bytes", NEEDS, function()
    for _, kind in ipairs { "xdp", "sched_cls" } do
      -- TC: data and data_end where the helpers may clobber them (they are reloaded), l4 where they may not
      local xdp = kind == "xdp"
      local c = packet.cursor { kind = kind, ctx = "r6", data = xdp and "r7" or "r2", data_end = xdp and "r8" or "r3",
                                miss = "miss" }
      local l4 = xdp and "r6" or "r8"
      local p <close> = load(kind, {
        d.mov("r6", "r1"), c:load_data(), c:eth("r9", "r4"), c:ipv4("r9", l4, "r4"), c:udp(l4),
        c:nat { ip = "r9", l4 = l4, proto = "udp", dir = "src", addr = P.ip4n("10.0.200.254"), port = 65535 },
        d.label("miss"), d.mov("r0", 2), d.exit(),
      })
      local r = run(p, tcp4 { l4 = "udp", src = "10.0.0.1", sport = 1 })
      assert.equal(tcp4 { l4 = "udp", src = "10.0.200.254", sport = 65535 }, r.data_out, kind)
    end
  end)

  env.it("hold for random frames and targets, the outputs checked by scapy too", { "bpf", "test_run", "scapy" },
    function()
      local scapy = require "support.scapy"
      local target <close> = assert(ebpf.maps.array { value_size = 8, max_entries = 1 })
      local progs = {}
      for _, kind in ipairs { "xdp", "sched_cls" } do
        for _, proto in ipairs { "tcp", "udp" } do
          for _, dir in ipairs { "dst", "src" } do
            progs[#progs + 1] = { kind = kind, o = { proto = proto, dir = dir },
                                  p = nat_program(kind, { proto = proto, dir = dir }, target) }
          end
        end
      end
      math.randomseed(32)
      local function ip() return ("%d.%d.%d.%d"):format(math.random(0, 255), math.random(0, 255),
        math.random(0, 255), math.random(0, 255)) end
      local outs = {}
      for i = 1, 160 do
        local pr = progs[(i - 1) % #progs + 1]
        local f = { l4 = pr.o.proto, src = ip(), dst = ip(), sport = math.random(0, 65535),
                    dport = math.random(0, 65535), ttl = math.random(1, 255), id = math.random(0, 65535),
                    payload = string.rep("p", math.random(0, 40)),
                    vlans = math.random(0, 2) == 1 and { { tci = math.random(0, 4095) } } or nil,
                    options = math.random(0, 3) == 1 and string.rep("\1", 4 * math.random(1, 10)) or nil }
        local addr, port = ip(), math.random(0, 65535)
        set_target(target, addr, port)
        local before, after = nat_case(pr.o, f, addr, port)
        local r = run(pr.p, before)
        assert.equal(after, r.data_out, ("case %d (%s %s %s)"):format(i, pr.kind, pr.o.proto, pr.o.dir))
        outs[#outs + 1] = r.data_out
      end
      for i, g in ipairs(scapy.parse(outs)) do
        assert.is_true(g.ip_ok, "frame " .. i)
        assert.is_true(g.l4_ok == true, "frame " .. i)
      end
      for _, pr in ipairs(progs) do pr.p:close() end
    end)

  env.it("update a checksum word by word, wherever the sum wraps", NEEDS, function()
    -- csum_update on a 16-bit field of a frame of nothing but that field and a checksum
    local p <close> = load("xdp", {
      d.ldx("w", "r2", "r1", 0), d.ldx("w", "r3", "r1", 4),
      d.mov("r4", "r2"), d.add("r4", 20), d.jgt("r4", "r3", "out"),
      d.ldx("h", "r5", "r2", 14), -- the old value, as loaded
      d.ldx("h", "r1", "r2", 18), -- the new one, from the frame itself
      d.stx("h", "r2", 14, "r1"),
      packet.csum_update("r2", 16, "r5", "r1", 2, "r3", "r4"),
      d.label("out"), d.mov("r0", 2), d.exit(),
    })
    math.randomseed(1624)
    for _ = 1, 300 do
      local body = {}
      for i = 1, 7 do body[i] = math.random(0, 0xffff) end
      local words = string.pack(">I2I2I2I2I2I2I2", table.unpack(body))
      -- words: 7 words before ours, ours, the checksum, the new value
      local old, new = math.random(0, 0xffff), math.random(0, 0xffff)
      if math.random(0, 4) == 0 then old, new = 0xffff - new, 0 end
      local function frame(v, with) return words .. string.pack(">I2", v) .. string.pack(">I2", with) ..
        string.pack(">I2", new) end
      local sum0 = P.csum(words .. string.pack(">I2", old) .. "\0\0" .. string.pack(">I2", new))
      local out = run(p, frame(old, sum0)).data_out
      local sum1 = P.csum(words .. string.pack(">I2", new) .. "\0\0" .. string.pack(">I2", new))
      assert.equal(frame(new, sum1):sub(1, 18), out:sub(1, 18))
    end
  end)
end)

describe("packet.rate_limit", function()
  env.it("lets a source's burst through, then one packet per token, each source its own", NEEDS, function()
    local buckets <close> = assert(packet.rate_limit_map { max_entries = 16, name = "rl_spec" })
    local c = packet.cursor { kind = "xdp", ctx = "r6", data = "r7", data_end = "r8", miss = "pass" }
    local p <close> = load("xdp", {
      d.mov("r6", "r1"), c:load_data(), c:eth("r9", "r2"),
      d.jne("r2", packet.ETH_P.ip, "pass"),
      c:ipv4("r9", "r3", "r4"),
      c:load("r1", "ipv4.saddr", "r9", { raw = true }),
      c:rate_limit { map = buckets, key = "r1", rate = 1, burst = 3, over = "drop" },
      d.label("pass"), d.mov("r0", packet.XDP.pass), d.exit(),
      d.label("drop"), d.mov("r0", packet.XDP.drop), d.exit(),
    })
    local a, b = tcp4 { src = "10.0.0.1" }, tcp4 { src = "10.0.0.7" }
    local got = {}
    for i = 1, 5 do got[i] = run(p, a).retval end
    -- at one token a second, the milliseconds between runs add nothing
    assert.same({ 2, 2, 2, 1, 1 }, got)
    assert.equal(2, run(p, b).retval) -- another source: its own full bucket
    local key = P.ip4("10.0.0.1")
    local v = buckets:lookup(key)
    assert.is_true(v.tokens < 1000000000)
    -- two seconds ago: two tokens come back, and no more than the burst
    buckets:update(key, { tokens = v.tokens, last_ns = v.last_ns - 2 * 1000000000 })
    got = {}
    for i = 1, 3 do got[i] = run(p, a).retval end
    assert.same({ 2, 2, 1 }, got)
    v = buckets:lookup(key)
    buckets:update(key, { tokens = 0, last_ns = v.last_ns - 3600 * 1000000000 })
    got = {}
    for i = 1, 4 do got[i] = run(p, a).retval end
    assert.same({ 2, 2, 2, 1 }, got) -- an hour refills only up to the burst
  end)
end)

describe("packet words", function()
  it("name what is wrong at the caller's line", function()
    local function err(fn, ...)
      local args = table.pack(...)
      local ok, e = pcall(function() return (fn(table.unpack(args, 1, args.n))) end) -- no tail call
      assert.is_false(ok)
      assert.matches("^spec/33%-packet_spec%.lua:%d+: ", e)
      return (e:gsub("^[^:]*:%d+: ", ""))
    end
    assert.equal("packet.cursor: kind must be xdp, tc, sched_cls, sched_act, sk_skb or cgroup_skb, got socket_filter",
      err(packet.cursor, { kind = "socket_filter", miss = "x" }))
    assert.equal("packet.cursor: unknown option 'dataend'",
      err(packet.cursor, { kind = "xdp", miss = "x", dataend = 1 }))
    assert.equal("packet.cursor miss: expected a label name, got nil", err(packet.cursor, { kind = "xdp" }))
    local c = packet.cursor { kind = "xdp", miss = "m" }
    assert.equal("packet: ipv4 has no field 'dadr' (check, daddr, frag_off, id, protocol, saddr, tos, "
      .. "tot_len, ttl, ver_ihl)", err(c.load, c, "r0", "ipv4.dadr", "r9"))
    assert.equal("packet: unknown header in 'ip.saddr' (eth, vlan, ipv4, ipv6, tcp, udp, icmp)",
      err(c.load, c, "r0", "ip.saddr", "r9"))
    assert.equal("load: eth.dst is 6 bytes: load it a piece at a time (packet.field gives its offset)",
      err(c.load, c, "r0", "eth.dst", "r7"))
    assert.equal("eth: expected a register (r0..r10), got 'r12'", err(c.eth, c, "r12", "r2"))
    assert.equal("ipv4: ip, l4 and proto must be three registers", err(c.ipv4, c, "r9", "r9", "r2"))
    assert.equal("ipv4: r8 holds the cursor's data_end", err(c.ipv4, c, "r9", "r8", "r2"))
    assert.equal("nat: a port needs proto 'tcp' or 'udp'", err(c.nat, c, { ip = "r9", port = 80 }))
    assert.equal("nat: the csum helpers are for TC programs; a xdp cursor rewrites with method 'bpf'",
      err(c.nat, c, { ip = "r9", addr = 1, method = "helpers" }))
    local tc = packet.cursor { kind = "tc", ctx = "r1", miss = "m" }
    assert.equal("nat: the helpers clobber r1-r5: keep ctx, ip and l4 in r6-r9 (ctx is in r1)",
      err(tc.nat, tc, { ip = "r9", addr = 1 }))
    assert.equal("rate_limit: rate is tokens a second, 1..2^31-1",
      err(c.rate_limit, c, { map = {}, key = "r1", rate = 0, burst = 1, over = "x" }))
    local tight = packet.cursor { kind = "xdp", miss = "m", scratch = { "r0" } }
    assert.equal("rewrite: needs 4 scratch registers besides its arguments; the cursor's scratch list (r0) has "
      .. "too few", err(tight.rewrite, tight, "r9", "ipv4.daddr", 1, {}))
  end)
end)

describe("docs/packet.md", function()
  env.it("runs its examples", NEEDS, function()
    assert.equal(3, require("support.doc_blocks").run("docs/packet.md"))
  end)
end)
