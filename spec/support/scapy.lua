-- SPDX-License-Identifier: MIT
-- Scapy (Debian's python3-scapy) as an oracle nobody here wrote: it parses
-- frames and says whether each checksum in them is the one it computes.
local env = require "support.env"
local json = require "dkjson"

local M = {}

local SCRIPT = [=[
import sys, json
from scapy.all import Ether, IP, IPv6, TCP, UDP, ICMP, Dot1Q, raw

def fixed(pkt, layer, field):
    """The checksum scapy computes for that layer, the packet's own deleted."""
    p = pkt.copy()
    delattr(p[layer], field)
    return getattr(Ether(raw(p))[layer], field)

for line in sys.stdin:
    pkt = Ether(bytes.fromhex(line.strip()))
    out = {"vlans": [], "len": len(raw(pkt))}
    layer = pkt
    while Dot1Q in layer:
        layer = layer[Dot1Q]
        out["vlans"].append(layer.vlan)
        layer = layer.payload
    for l3, name in ((IP, "ipv4"), (IPv6, "ipv6")):
        if l3 in pkt:
            ip = pkt[l3]
            out["l3"] = name
            out["src"], out["dst"] = ip.src, ip.dst
            out["ttl"] = ip.ttl if l3 is IP else ip.hlim
            if l3 is IP:
                out["ip_ok"] = ip.chksum == fixed(pkt, IP, "chksum")
    for l4, name in ((TCP, "tcp"), (UDP, "udp"), (ICMP, "icmp")):
        if l4 in pkt:
            seg = pkt[l4]
            out["l4"] = name
            if l4 is not ICMP:
                out["sport"], out["dport"] = seg.sport, seg.dport
            if l4 is UDP and seg.chksum == 0:
                out["l4_ok"] = "none"
            else:
                out["l4_ok"] = seg.chksum == fixed(pkt, l4, "chksum")
    print(json.dumps(out))
]=]

local path
local function script()
  if not path then
    path = env.tmpdir() .. "/scapy_oracle.py"
    local f = assert(io.open(path, "w"))
    f:write(SCRIPT)
    f:close()
  end
  return path
end

-- parse({frame, ...}) -> {{l3=, src=, dst=, ttl=, ip_ok=, l4=, sport=, dport=, l4_ok=, vlans=}, ...}
function M.parse(frames)
  local input = os.tmpname()
  local f = assert(io.open(input, "w"))
  for _, frame in ipairs(frames) do
    f:write((frame:gsub(".", function(c) return ("%02x"):format(c:byte()) end)), "\n")
  end
  f:close()
  local out = env.run(("/usr/bin/python3 %s < %s 2>/dev/null"):format(script(), input))
  os.remove(input)
  local list = {}
  for line in out:gmatch("[^\n]+") do list[#list + 1] = assert(json.decode(line)) end
  assert(#list == #frames, "scapy parsed " .. #list .. " of " .. #frames .. " frames")
  return list
end

return M
