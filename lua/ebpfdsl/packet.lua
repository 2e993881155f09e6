-- SPDX-License-Identifier: MIT
-- Packet words for XDP, TC and sk_skb programs: bounds-checked header
-- cursors (Ethernet, VLAN, IPv4, IPv6, TCP, UDP, ICMP), fields loaded and
-- stored in host order, checksum updates, NAT rewrites and a token bucket
-- (_packet_csum.lua, _packet_limit.lua). Each word returns an instruction
-- list, as the DSL's words do; the verifier checks what they emit.
local d = require "ebpfdsl.dsl"
local errors = require "ebpfdsl._errors"
local REGS = require("ebpfdsl._regs").REGS
local SIZE_NAME = require("ebpfdsl._regs").SIZE_NAME

local M = {}

local raise = errors.outside_modules

-- Constants, as <linux/if_ether.h>, <linux/in.h>, <linux/bpf.h> and
-- <linux/pkt_cls.h> name them (spec 33 compares with gcc).
M.ETH_P = { ip = 0x0800, arp = 0x0806, vlan = 0x8100, qinq = 0x88a8, ipv6 = 0x86dd }
M.IPPROTO = { icmp = 1, tcp = 6, udp = 17, icmpv6 = 58 }
M.XDP = { aborted = 0, drop = 1, pass = 2, tx = 3, redirect = 4 }
M.TC = { unspec = -1, ok = 0, reclassify = 1, shot = 2, pipe = 3, stolen = 4, queued = 5, ["repeat"] = 6,
         redirect = 7 }
M.SK = { drop = 0, pass = 1 }
M.TCP_FLAGS = { fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20, ece = 0x40, cwr = 0x80 }

-- Header layouts in network byte order: field = {offset, size}. The one
-- table every word reads (spec 33 compares it with gcc's offsetof over
-- the kernel's UAPI headers). tcp.doff is the byte holding the data
-- offset (its high nibble); tcp.flags the byte of FIN..CWR.
M.headers = {
  eth = { size = 14, dst = { 0, 6 }, src = { 6, 6 }, proto = { 12, 2 } },
  vlan = { size = 4, tci = { 0, 2 }, proto = { 2, 2 } },
  ipv4 = { size = 20, ver_ihl = { 0, 1 }, tos = { 1, 1 }, tot_len = { 2, 2 }, id = { 4, 2 }, frag_off = { 6, 2 },
           ttl = { 8, 1 }, protocol = { 9, 1 }, check = { 10, 2 }, saddr = { 12, 4 }, daddr = { 16, 4 } },
  ipv6 = { size = 40, ver_tc_flow = { 0, 4 }, payload_len = { 4, 2 }, nexthdr = { 6, 1 }, hop_limit = { 7, 1 },
           saddr = { 8, 16 }, daddr = { 24, 16 } },
  tcp = { size = 20, source = { 0, 2 }, dest = { 2, 2 }, seq = { 4, 4 }, ack_seq = { 8, 4 }, doff = { 12, 1 },
          flags = { 13, 1 }, window = { 14, 2 }, check = { 16, 2 }, urg_ptr = { 18, 2 } },
  udp = { size = 8, source = { 0, 2 }, dest = { 2, 2 }, len = { 4, 2 }, check = { 6, 2 } },
  icmp = { size = 8, type = { 0, 1 }, code = { 1, 1 }, checksum = { 2, 2 }, id = { 4, 2 }, sequence = { 6, 2 } },
}

-- Where each program type's context keeps the packet: xdp_md's data and
-- data_end, __sk_buff's (spec 33 compares with gcc).
M.context = {
  xdp = { data = 0, data_end = 4 },
  sched_cls = { data = 76, data_end = 80 },
  sched_act = { data = 76, data_end = 80 },
  sk_skb = { data = 76, data_end = 80 },
  cgroup_skb = { data = 76, data_end = 80 },
}
M.context.tc = M.context.sched_cls

M.LITTLE_ENDIAN = string.pack("=I2", 1):byte(1) == 1

-- The bytes of a value in network order, read as the host reads memory:
-- what a load of the packet's field gives, and what a store must be given.
function M.raw(value, size)
  if not M.LITTLE_ENDIAN or size == 1 then return value end
  local fmt = ({ [2] = "I2", [4] = "I4" })[size] or raise("packet.raw: sizes are 1, 2 or 4, got " .. tostring(size))
  return (string.unpack("<" .. fmt, string.pack(">" .. fmt, value)))
end

-- An unsigned 32-bit value as the signed immediate that holds its bits
-- (st and mov32 keep the low 32 bits).
function M.imm32(v)
  if v >= 0x80000000 then return v - 0x100000000 end
  return v
end

-- "ipv4.saddr" -> offset, size, header name
function M.field(path)
  if type(path) ~= "string" then raise("packet: a field is named 'header.field', got " .. type(path)) end
  local h, f = path:match("^(%w+)%.([%w_]+)$")
  local hdr = h and M.headers[h]
  if not hdr then
    raise(("packet: unknown header in '%s' (eth, vlan, ipv4, ipv6, tcp, udp, icmp)"):format(path))
  end
  local spec = hdr[f]
  if type(spec) ~= "table" then
    local names = {}
    for k, v in pairs(hdr) do if type(v) == "table" then names[#names + 1] = k end end
    table.sort(names)
    raise(("packet: %s has no field '%s' (%s)"):format(h, f, table.concat(names, ", ")))
  end
  return spec[1], spec[2], h
end

local function reg(fname, x)
  if type(x) ~= "string" or not REGS[x] then
    raise(("%s: expected a register (r0..r10), got %s"):format(fname, type(x) == "string" and ("'" .. x .. "'")
      or tostring(x)))
  end
  return x
end

local function label(fname, x)
  if type(x) ~= "string" or x == "" then raise(fname .. ": expected a label name, got " .. tostring(x)) end
  return x
end

local seq = 0
-- A label no program text can collide with.
function M.fresh(what)
  seq = seq + 1
  return ("__pkt_%s_%d"):format(what, seq)
end

-- =====================================================================
-- Cursors
-- =====================================================================

local Cursor = {}
Cursor.__index = Cursor
M.Cursor = Cursor

local CURSOR_OPTS = { kind = true, ctx = true, data = true, data_end = true, miss = true, scratch = true }

-- packet.cursor{kind=, ctx=, data=, data_end=, miss=[, scratch=]} -> a
-- cursor: kind "xdp", "tc" (sched_cls), "sched_act", "sk_skb" or
-- "cgroup_skb"; ctx the register holding the context (r6 after mov r6,
-- r1, so that helper calls keep it); data and data_end the registers the
-- packet's bounds live in; miss the label a failed bounds check jumps to.
-- scratch: the registers words may clobber (default r0..r5).
function M.cursor(opts)
  if type(opts) ~= "table" then raise("packet.cursor: expected a table {kind=, ctx=, data=, data_end=, miss=}") end
  for k in pairs(opts) do
    if not CURSOR_OPTS[k] then raise(("packet.cursor: unknown option '%s'"):format(tostring(k))) end
  end
  local kind = opts.kind
  if not M.context[kind] then
    raise(("packet.cursor: kind must be xdp, tc, sched_cls, sched_act, sk_skb or cgroup_skb, got %s"):format(
      tostring(kind)))
  end
  local c = setmetatable({
    kind = kind == "tc" and "sched_cls" or kind,
    ctx = reg("packet.cursor ctx", opts.ctx or "r6"),
    data = reg("packet.cursor data", opts.data or "r7"),
    data_end = reg("packet.cursor data_end", opts.data_end or "r8"),
    miss = label("packet.cursor miss", opts.miss),
    scratch = opts.scratch or { "r0", "r1", "r2", "r3", "r4", "r5" },
  }, Cursor)
  for _, r in ipairs(c.scratch) do reg("packet.cursor scratch", r) end
  if c.data == c.data_end or c.ctx == c.data or c.ctx == c.data_end then
    raise("packet.cursor: ctx, data and data_end must be three registers")
  end
  return c
end

-- A register a word writes: any but the two the bounds live in.
function Cursor:out(fname, r)
  reg(fname, r)
  if r == self.data or r == self.data_end then
    raise(("%s: %s holds the cursor's %s"):format(fname, r, r == self.data and "data" or "data_end"))
  end
  return r
end

-- The first n scratch registers not among the ones given (registers the
-- word reads or writes).
function Cursor:temps(fname, n, ...)
  local busy = { [self.ctx] = true, [self.data] = true, [self.data_end] = true }
  for i = 1, select("#", ...) do
    local r = select(i, ...)
    if type(r) == "string" then busy[r] = true end
  end
  local out = {}
  for _, r in ipairs(self.scratch) do
    if not busy[r] then out[#out + 1] = r end
    if #out == n then return table.unpack(out) end
  end
  raise(("%s: needs %d scratch registers besides its arguments; the cursor's scratch list (%s) has too few"):format(
    fname, n, table.concat(self.scratch, ", ")))
end

-- c:load_data() -> data and data_end from the context (again after any
-- helper that may move the packet: skb_store_bytes, the csum helpers)
function Cursor:load_data()
  local at = M.context[self.kind]
  return {
    d.ldx("w", self.data, self.ctx, at.data),
    d.ldx("w", self.data_end, self.ctx, at.data_end),
  }
end

-- c:check(ptr, n[, miss]) -> ptr + n <= data_end, else goto miss: the
-- comparison the verifier needs before it lets n bytes at ptr be read.
function Cursor:check(ptr, n, miss)
  reg("check", ptr)
  local t = self:temps("check", 1, ptr)
  return {
    d.mov(t, ptr), d.add(t, n),
    d.jgt(t, self.data_end, miss and label("check", miss) or self.miss),
  }
end

-- c:load(dst, "ipv4.saddr", ptr[, {raw = true}]) -> dst = the field of
-- the header at ptr, in host order (raw: as the packet's bytes are).
-- Fields of 1, 2 or 4 bytes; ptr must have been checked for the header.
function Cursor:load(dst, path, ptr, opts)
  self:out("load", dst)
  reg("load", ptr)
  local off, size = M.field(path)
  if not SIZE_NAME[size] or size == 8 then
    raise(("load: %s is %d bytes: load it a piece at a time (packet.field gives its offset)"):format(path, size))
  end
  local out = { d.ldx(SIZE_NAME[size], dst, ptr, off) }
  if size > 1 and not (opts and opts.raw) then out[2] = d.be(dst, size * 8) end
  return out
end

-- c:store(ptr, "ipv4.daddr", src[, {raw = true}]) -> the field of the
-- header at ptr = src (a register or an integer) given in host order
-- (raw: as the packet's bytes are). No checksum changes: c:rewrite does.
function Cursor:store(ptr, path, src, opts)
  reg("store", ptr)
  local off, size = M.field(path)
  if not SIZE_NAME[size] or size == 8 then raise(("store: %s is %d bytes"):format(path, size)) end
  local raw = opts and opts.raw
  if type(src) == "number" then
    return { d.st(SIZE_NAME[size], ptr, off, M.imm32(raw and src or M.raw(src, size))) }
  end
  reg("store", src)
  if raw or size == 1 then return { d.stx(SIZE_NAME[size], ptr, off, src) } end
  local t = self:temps("store", 1, ptr, src)
  return { d.mov(t, src), d.be(t, size * 8), d.stx(SIZE_NAME[size], ptr, off, t) }
end

-- c:eth(l3, proto[, {vlans = 2}]) -> checks the Ethernet header at data,
-- leaves its ethertype in proto (host order) and l3 pointing past it;
-- up to `vlans` 802.1Q/802.1ad tags are stepped over, proto then being
-- the innermost ethertype. Data must have been loaded (c:load_data()).
function Cursor:eth(l3, proto, opts)
  self:out("eth", l3)
  self:out("eth", proto)
  if l3 == proto then raise("eth: l3 and proto must be two registers") end
  local vlans = opts and opts.vlans or 2
  local done = M.fresh("eth_done")
  local out = {
    self:check(self.data, M.headers.eth.size),
    self:load(proto, "eth.proto", self.data),
    d.mov(l3, self.data), d.add(l3, M.headers.eth.size),
  }
  for _ = 1, vlans do
    local tag = M.fresh("vlan")
    out[#out + 1] = {
      d.jeq(proto, M.ETH_P.vlan, tag),
      d.jeq(proto, M.ETH_P.qinq, tag),
      d.ja(done),
      d.label(tag),
      self:check(l3, M.headers.vlan.size),
      self:load(proto, "vlan.proto", l3),
      d.add(l3, M.headers.vlan.size),
    }
  end
  out[#out + 1] = d.label(done)
  return out
end

-- c:ipv4(ip, l4, proto) -> checks the IPv4 header at ip (version 4, IHL
-- of 5 or more, all of it in the packet), leaves its protocol in proto
-- and l4 pointing past its options. Fragments are not looked at: a
-- program that reads L4 headers should test ipv4.frag_off itself.
function Cursor:ipv4(ip, l4, proto)
  reg("ipv4", ip)
  self:out("ipv4", l4)
  self:out("ipv4", proto)
  if ip == l4 or ip == proto or l4 == proto then raise("ipv4: ip, l4 and proto must be three registers") end
  local t = self:temps("ipv4", 1, ip, l4, proto)
  return {
    self:check(ip, M.headers.ipv4.size),
    d.ldx("b", l4, ip, 0),
    d.mov(t, l4), d.rsh(t, 4), d.jne(t, 4, self.miss),
    d["and"](l4, 0x0f), d.jlt(l4, 5, self.miss),
    d.lsh(l4, 2), d.add(l4, ip),
    d.jgt(l4, self.data_end, self.miss),
    d.ldx("b", proto, ip, M.headers.ipv4.protocol[1]),
  }
end

-- c:ipv6(ip, l4, proto) -> checks the IPv6 header at ip (version 6),
-- leaves its next header in proto and l4 past the fixed 40 bytes
-- (extension headers are not walked: proto is then theirs).
function Cursor:ipv6(ip, l4, proto)
  reg("ipv6", ip)
  self:out("ipv6", l4)
  self:out("ipv6", proto)
  if ip == l4 or ip == proto or l4 == proto then raise("ipv6: ip, l4 and proto must be three registers") end
  local t = self:temps("ipv6", 1, ip, l4, proto)
  return {
    self:check(ip, M.headers.ipv6.size),
    d.ldx("b", t, ip, 0), d.rsh(t, 4), d.jne(t, 6, self.miss),
    d.ldx("b", proto, ip, M.headers.ipv6.nexthdr[1]),
    d.mov(l4, ip), d.add(l4, M.headers.ipv6.size),
  }
end

-- c:tcp(l4[, payload]), c:udp(l4), c:icmp(l4) -> the L4 header at l4 is
-- in the packet (TCP: its 20 fixed bytes; with payload, a register left
-- pointing past its options, checked against a data offset below 5).
function Cursor:tcp(l4, payload)
  reg("tcp", l4)
  local out = { self:check(l4, M.headers.tcp.size) }
  if payload ~= nil then
    self:out("tcp", payload)
    if payload == l4 then raise("tcp: l4 and payload must be two registers") end
    out[#out + 1] = {
      d.ldx("b", payload, l4, M.headers.tcp.doff[1]), d.rsh(payload, 4), d.jlt(payload, 5, self.miss),
      d.lsh(payload, 2), d.add(payload, l4),
      d.jgt(payload, self.data_end, self.miss),
    }
  end
  return out
end

function Cursor:udp(l4)
  reg("udp", l4)
  return self:check(l4, M.headers.udp.size)
end

function Cursor:icmp(l4)
  reg("icmp", l4)
  return self:check(l4, M.headers.icmp.size)
end

-- Checksums, rewrites and NAT; the token bucket.
require("ebpfdsl._packet_csum")(M, Cursor, raise, reg)
require("ebpfdsl._packet_limit")(M, Cursor, raise, reg)

return M
