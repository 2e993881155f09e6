-- SPDX-License-Identifier: MIT
-- Shows: an XDP firewall in one page with ebpfdsl.packet: Ethernet, VLAN and IPv4 cursors,
-- a map of blocked TCP/UDP ports, a token bucket per source for ICMP, verdicts counted
-- per CPU; run on frames made here with the kernel's test runs (attach_xdp puts it on a link).
-- Needs: bpf (root or CAP_BPF)
-- Expect: tcp to port 22: drop
-- Expect: tcp to port 80: pass
-- Expect: ping 4 from 10.0.0.9: drop
-- Expect: counted: pass 6, drop 3
local ebpf = require "ebpfdsl"
local packet = require "ebpfdsl.packet"
local d = ebpf.dsl

local blocked = assert(ebpf.maps.hash { key = "u16", value = "u8", max_entries = 64, name = "fw_blocked" })
local verdicts = assert(ebpf.maps.percpu_array { value = "u64", max_entries = 4, name = "fw_verdicts" })
local buckets = assert(packet.rate_limit_map { max_entries = 1024, name = "fw_icmp" })
for _, port in ipairs { 22, 23, 3389 } do blocked[port] = 1 end

-- ctx in r6, data and data_end in r7 and r8, the IPv4 header in r9; l4 in r3, protocol in r4
local c = packet.cursor { kind = "xdp", ctx = "r6", data = "r7", data_end = "r8", miss = "pass" }
local function verdict(action)
  return { d.st("w", "fp", -4, action), d.ld_map_fd("r1", verdicts), d.mov("r2", "fp"), d.add("r2", -4),
           d.call("map_lookup_elem"), d.jeq("r0", 0, "out_" .. action),
           d.mov("r1", 1), d.atomic_add("dw", "r0", 0, "r1"),
           d.label("out_" .. action), d.mov("r0", action), d.exit() }
end
local prog = assert(ebpf.programs.load { type = "xdp", name = "firewall", license = "GPL", insns = {
  d.mov("r6", "r1"), c:load_data(),
  c:eth("r9", "r2"),                             -- steps over VLAN tags
  d.jne("r2", packet.ETH_P.ip, "pass"),
  c:ipv4("r9", "r3", "r4"),
  d.jeq("r4", packet.IPPROTO.icmp, "icmp"),
  d.jeq("r4", packet.IPPROTO.tcp, "ports"),
  d.jne("r4", packet.IPPROTO.udp, "pass"),
  d.label("ports"), c:udp("r3"),                  -- both start with source and dest ports
  c:load("r1", "udp.dest", "r3"), d.stx("h", "fp", -8, "r1"),
  d.ld_map_fd("r1", blocked), d.mov("r2", "fp"), d.add("r2", -8), d.call("map_lookup_elem"),
  d.jne("r0", 0, "drop"), d.ja("pass"),
  d.label("icmp"),
  c:load("r1", "ipv4.saddr", "r9", { raw = true }),
  c:rate_limit { map = buckets, key = "r1", rate = 1, burst = 3, over = "drop", stack = -16 },
  d.label("pass"), verdict(packet.XDP.pass),
  d.label("drop"), verdict(packet.XDP.drop),
} })

-- Frames: Ethernet, IPv4 (checksums left 0: a firewall only reads), then TCP, UDP or ICMP.
local function frame(proto, src, dport)
  local l4 = proto == 1 and string.pack(">BBI2I2I2", 8, 0, 0, 1, 1)              -- an echo request
    or proto == 17 and string.pack(">I2I2I2I2", 40000, dport, 8, 0)
    or string.pack(">I2I2I4I4BBI2I2I2", 40000, dport, 1, 0, 0x50, 0x02, 512, 0, 0) -- a SYN
  local ip = string.pack(">BBI2I2I2BBI2", 0x45, 0, 20 + #l4, 1, 0, 64, proto, 0) ..
    string.char(src:match("(%d+)%.(%d+)%.(%d+)%.(%d+)")) .. "\10\0\0\2"
  return ("\2\0\0\0\0\2\2\0\0\0\0\1\8\0") .. ip .. l4
end
local NAMES = { [packet.XDP.pass] = "pass", [packet.XDP.drop] = "drop" }
local function try(what, f) print(("%s: %s"):format(what, NAMES[assert(prog:test_run { data = f }).retval])) end

try("tcp to port 22", frame(6, "10.0.0.1", 22))
try("tcp to port 80", frame(6, "10.0.0.1", 80))
try("udp to port 3389", frame(17, "10.0.0.1", 3389))
try("udp to port 53", frame(17, "10.0.0.1", 53))
for i = 1, 4 do try(("ping %d from 10.0.0.9"):format(i), frame(1, "10.0.0.9", 0)) end
try("ping 1 from 10.0.0.10", frame(1, "10.0.0.10", 0))
print(("counted: pass %d, drop %d"):format(verdicts[packet.XDP.pass].sum, verdicts[packet.XDP.drop].sum))
-- On a real link: local link <close> = assert(prog:attach_xdp("eth0"))
