-- SPDX-License-Identifier: MIT
-- Packets for the packet-word specs, built from scratch in Lua: Ethernet
-- (with VLAN tags), IPv4 (with options), IPv6, TCP, UDP and ICMP, every
-- checksum computed over the whole header and payload (RFC 1071), so a
-- packet a program rewrote can be compared byte for byte with one built
-- here with the new values. spec/support/scapy.lua checks them in turn.
local M = {}

-- The Internet checksum of bytes: the one's complement of the one's
-- complement sum of its 16-bit big-endian words (an odd byte padded).
function M.csum(bytes)
  if #bytes % 2 == 1 then bytes = bytes .. "\0" end
  local sum = 0
  for i = 1, #bytes, 2 do sum = sum + (bytes:byte(i) << 8 | bytes:byte(i + 1)) end
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  return ~sum & 0xffff
end

function M.mac(s)
  local b = {}
  for h in s:gmatch("%x%x") do b[#b + 1] = string.char(tonumber(h, 16)) end
  assert(#b == 6, "a MAC address has 6 bytes: " .. s)
  return table.concat(b)
end

function M.ip4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  assert(a, "not an IPv4 address: " .. s)
  return string.char(tonumber(a), tonumber(b), tonumber(c), tonumber(d))
end

-- The address as a host-order integer (what a load of it in BPF gives after be32).
function M.ip4n(s) return (string.unpack(">I4", M.ip4(s))) end

-- "fd00::1:2" and the like (one "::" at most)
function M.ip6(s)
  local head, tail = s:match("^(.-)::(.*)$")
  local function words(part)
    local t = {}
    for w in part:gmatch("[^:]+") do t[#t + 1] = tonumber(w, 16) end
    return t
  end
  local w
  if head then
    local h, t = words(head), words(tail)
    w = h
    for _ = 1, 8 - #h - #t do w[#w + 1] = 0 end
    for _, x in ipairs(t) do w[#w + 1] = x end
  else
    w = words(s)
  end
  assert(#w == 8, "not an IPv6 address: " .. s)
  return string.pack(">I2I2I2I2I2I2I2I2", table.unpack(w))
end

-- eth{dst=, src=, proto=, vlans={{tci=, tpid=}, ...}} .. payload
function M.eth(o, payload)
  local out = { M.mac(o.dst or "02:00:00:00:00:02"), M.mac(o.src or "02:00:00:00:00:01") }
  for _, v in ipairs(o.vlans or {}) do
    out[#out + 1] = string.pack(">I2I2", v.tpid or 0x8100, v.tci or 0)
  end
  out[#out + 1] = string.pack(">I2", o.proto)
  out[#out + 1] = payload or ""
  return table.concat(out)
end

-- ipv4{src=, dst=, proto=, ttl=, id=, tos=, frag_off=, options=} .. payload
function M.ipv4(o, payload)
  payload = payload or ""
  local options = o.options or ""
  assert(#options % 4 == 0, "IPv4 options come in 4-byte words")
  local ihl = 5 + #options // 4
  local function header(check)
    return string.pack(">BBI2I2I2BBI2", 0x40 | ihl, o.tos or 0, ihl * 4 + #payload, o.id or 1, o.frag_off or 0x4000,
      o.ttl or 64, o.proto, check) .. M.ip4(o.src) .. M.ip4(o.dst) .. options
  end
  return header(M.csum(header(0))) .. payload
end

-- ipv6{src=, dst=, nexthdr=, hop=} .. payload
function M.ipv6(o, payload)
  payload = payload or ""
  return string.pack(">I4I2BB", 0x60000000, #payload, o.nexthdr, o.hop or 64) .. M.ip6(o.src) .. M.ip6(o.dst) ..
    payload
end

-- The pseudo-header of a TCP or UDP checksum: addresses (4 or 16 bytes), protocol, length.
local function pseudo(src, dst, proto, len)
  if #src == 4 then return src .. dst .. string.pack(">BBI2", 0, proto, len) end
  return src .. dst .. string.pack(">I4I3B", len, 0, proto)
end

local function addr(s) return s:find(":", 1, true) and M.ip6(s) or M.ip4(s) end

-- tcp{src=, dst= (for the pseudo-header), sport=, dport=, seq=, ack=, flags=, window=, options=, payload=}
function M.tcp(o)
  local payload, options = o.payload or "", o.options or ""
  local doff = 5 + #options // 4
  local function header(check)
    return string.pack(">I2I2I4I4BBI2I2I2", o.sport, o.dport, o.seq or 1, o.ack or 0, doff << 4, o.flags or 0x18,
      o.window or 512, check, 0) .. options
  end
  local h = header(0)
  local check = M.csum(pseudo(addr(o.src), addr(o.dst), 6, #h + #payload) .. h .. payload)
  return header(check) .. payload
end

-- udp{src=, dst=, sport=, dport=, payload=, nocsum=}
function M.udp(o)
  local payload = o.payload or ""
  local len = 8 + #payload
  local check = 0
  if not o.nocsum then
    check = M.csum(pseudo(addr(o.src), addr(o.dst), 17, len) .. string.pack(">I2I2I2I2", o.sport, o.dport, len, 0) ..
      payload)
    if check == 0 then check = 0xffff end
  end
  return string.pack(">I2I2I2I2", o.sport, o.dport, len, check) .. payload
end

-- icmp{type=, code=, id=, seq=, payload=}: an echo by default
function M.icmp(o)
  local payload = o.payload or ""
  local function header(check)
    return string.pack(">BBI2I2I2", o.type or 8, o.code or 0, check, o.id or 1, o.seq or 1)
  end
  return header(M.csum(header(0) .. payload)) .. payload
end

-- A whole frame: packet{l3 = "ipv4"|"ipv6", l4 = "tcp"|"udp"|"icmp", src=, dst=, sport=, dport=,
-- vlans=, payload=, ttl=, options=, nocsum=, flags=}
function M.packet(o)
  local l4
  if o.l4 == "tcp" then
    l4 = M.tcp(o)
  elseif o.l4 == "udp" then
    l4 = M.udp(o)
  elseif o.l4 == "icmp" then
    l4 = M.icmp(o)
  else
    l4 = o.payload or ""
  end
  local proto = ({ tcp = 6, udp = 17, icmp = 1 })[o.l4] or o.proto or 253
  local l3
  if (o.l3 or "ipv4") == "ipv4" then
    l3 = M.ipv4({ src = o.src, dst = o.dst, proto = proto, ttl = o.ttl, id = o.id, options = o.options }, l4)
  else
    l3 = M.ipv6({ src = o.src, dst = o.dst, nexthdr = proto, hop = o.ttl }, l4)
  end
  return M.eth({ proto = (o.l3 or "ipv4") == "ipv4" and 0x0800 or 0x86dd, vlans = o.vlans }, l3)
end

return M
