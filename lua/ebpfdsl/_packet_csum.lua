-- SPDX-License-Identifier: MIT
-- Internal to ebpfdsl.packet: checksums kept right when fields change.
-- In BPF (any program with direct packet access: XDP's only way), RFC
-- 1624's incremental update HC' = ~(~HC + ~m + m'); for TC, the kernel's
-- l3_csum_replace and l4_csum_replace with skb_store_bytes. Rewrites of
-- one field and IPv4 NAT (addresses and ports) on top of both.
local d = require "ebpfdsl.dsl"

local BPF_F_PSEUDO_HDR, BPF_F_MARK_MANGLED_0 = 0x10, 0x20

return function(M, Cursor, raise, reg)
  local SIZE_NAME = require("ebpfdsl._regs").SIZE_NAME

  -- One's-complement sums in 64-bit registers: two folds bring any sum
  -- of a few 16-bit words back to 16 bits.
  local function fold(t1, t2)
    return {
      d.mov(t2, t1), d.rsh(t2, 16), d["and"](t1, 0xffff), d.add(t1, t2),
      d.mov(t2, t1), d.rsh(t2, 16), d["and"](t1, 0xffff), d.add(t1, t2),
    }
  end

  -- Adds the 16-bit halves of x (a register holding `size` bytes as
  -- loaded), complemented when `neg`, to the sum in t1.
  local function add_halves(t1, t2, x, size, neg)
    local out = {}
    for half = 0, size // 2 - 1 do
      out[#out + 1] = d.mov(t2, x)
      if half > 0 then out[#out + 1] = d.rsh(t2, 16 * half) end
      out[#out + 1] = d["and"](t2, 0xffff)
      if neg then out[#out + 1] = d.xor(t2, 0xffff) end
      out[#out + 1] = d.add(t1, t2)
    end
    return out
  end

  -- packet.csum_update(ptr, off, old, new, size, t1, t2[, {udp = true}])
  -- -> the 16-bit checksum at ptr + off updated for a 2- or 4-byte field
  -- that went from old to new (registers, as loaded from the packet: the
  -- sum is the same in either byte order). t1, t2: scratch. udp: a UDP
  -- checksum of 0 means none and stays 0, and a result of 0 is written as
  -- 0xffff (RFC 768).
  function M.csum_update(ptr, off, old, new, size, t1, t2, opts)
    for _, r in ipairs { ptr, old, new, t1, t2 } do reg("csum_update", r) end
    if size ~= 2 and size ~= 4 then raise("csum_update: fields of 2 or 4 bytes, got " .. tostring(size)) end
    local udp = opts and opts.udp
    local skip = M.fresh("csum_skip")
    local out = { d.ldx("h", t1, ptr, off) }
    if udp then out[#out + 1] = d.jeq(t1, 0, skip) end
    out[#out + 1] = d.xor(t1, 0xffff)
    out[#out + 1] = add_halves(t1, t2, old, size, true)
    out[#out + 1] = add_halves(t1, t2, new, size, false)
    out[#out + 1] = fold(t1, t2)
    out[#out + 1] = d.xor(t1, 0xffff)
    if udp then
      local store = M.fresh("csum_store")
      out[#out + 1] = { d.jne(t1, 0, store), d.mov(t1, 0xffff), d.label(store) }
    end
    out[#out + 1] = d.stx("h", ptr, off, t1)
    out[#out + 1] = d.label(skip)
    return out
  end

  -- c:rewrite(ptr, "ipv4.daddr", new, {{ip, "ipv4.check"}, {l4, "tcp.check"}}[, keep])
  -- -> the field at ptr becomes new (a register in host order, or an
  -- integer), and each checksum listed follows: the IPv4 header's, and
  -- an L4 one (whose pseudo-header holds the addresses; a udp.check of 0
  -- stays 0). Every pointer must have been checked for its header. A
  -- register new keeps its value, cut to the field's size; keep lists
  -- other registers the word must not use as scratch. It takes three
  -- scratch registers (four for an integer new).
  function Cursor:rewrite(ptr, path, new, csums, keep)
    reg("rewrite", ptr)
    local imm = type(new) == "number"
    if not imm then reg("rewrite", new) end
    local off, size = M.field(path)
    if size ~= 2 and size ~= 4 then raise(("rewrite: %s is %d bytes (2 or 4 can be rewritten)"):format(path, size)) end
    local args = { ptr, new }
    for _, c in ipairs(csums or {}) do
      if type(c) ~= "table" then raise("rewrite: checksums are given as {pointer, 'header.field'}") end
      args[#args + 1] = reg("rewrite", c[1])
    end
    for _, r in ipairs(keep or {}) do args[#args + 1] = r end
    local old, t1, t2, nw = self:temps("rewrite", imm and 4 or 3, table.unpack(args))
    local out = { d.ldx(SIZE_NAME[size], old, ptr, off) }
    if imm then
      out[#out + 1] = d.mov32(nw, M.imm32(M.raw(new, size)))
    else
      -- the register itself, swapped to network order and back after
      nw = new
      out[#out + 1] = d.be(nw, size * 8)
    end
    out[#out + 1] = d.stx(SIZE_NAME[size], ptr, off, nw)
    for _, c in ipairs(csums or {}) do
      local coff, csize, hdr = M.field(c[2])
      if csize ~= 2 then raise(("rewrite: %s is no checksum"):format(c[2])) end
      out[#out + 1] = M.csum_update(c[1], coff, old, nw, size, t1, t2, { udp = hdr == "udp" })
    end
    if not imm then out[#out + 1] = d.be(nw, size * 8) end
    return out
  end

  local NAT_OPTS = { ip = true, l4 = true, proto = true, dir = true, addr = true, port = true, method = true,
                     stack = true }

  -- c:nat{ip=, l4=, proto="tcp"|"udp"|nil, dir="dst"|"src", addr=, port=,
  -- method=, stack=} -> DNAT (dir "dst") or SNAT ("src") of IPv4: the
  -- address and/or the port become addr and port (registers in host
  -- order, or integers), with the IPv4 checksum and the TCP or UDP one
  -- (pseudo-header and port) kept right. ip (and l4 when a port changes
  -- or proto is given) must have been checked. method "bpf" (the default
  -- for XDP) computes the checksums in the program; "helpers" (the
  -- default for TC) calls l4_csum_replace, l3_csum_replace and
  -- skb_store_bytes, then reloads data and data_end: packet pointers
  -- other than those two are invalid afterwards. It uses the stack below
  -- stack (default -8: fp-48 to fp-1) and r1-r5.
  function Cursor:nat(o)
    if type(o) ~= "table" then raise("nat: expected a table {ip=, l4=, proto=, dir=, addr=, port=}") end
    for k in pairs(o) do
      if not NAT_OPTS[k] then raise(("nat: unknown option '%s'"):format(tostring(k))) end
    end
    local dir = o.dir or "dst"
    if dir ~= "dst" and dir ~= "src" then raise("nat: dir is 'dst' or 'src', got " .. tostring(dir)) end
    if o.proto ~= nil and o.proto ~= "tcp" and o.proto ~= "udp" then
      raise("nat: proto is 'tcp', 'udp' or nil (no L4 checksum), got " .. tostring(o.proto))
    end
    if o.port ~= nil and not o.proto then raise("nat: a port needs proto 'tcp' or 'udp'") end
    if o.addr == nil and o.port == nil then raise("nat: give addr, port or both") end
    reg("nat", o.ip)
    if o.proto then reg("nat", o.l4) end
    local method = o.method or (self.kind == "xdp" and "bpf" or "helpers")
    if method ~= "bpf" and method ~= "helpers" then
      raise("nat: method is 'bpf' or 'helpers', got " .. tostring(method))
    end
    if method == "helpers" and self.kind ~= "sched_cls" and self.kind ~= "sched_act" then
      raise(("nat: the csum helpers are for TC programs; a %s cursor rewrites with method 'bpf'"):format(self.kind))
    end
    local addr_field = "ipv4." .. (dir == "dst" and "daddr" or "saddr")
    local port_field = o.proto and (o.proto .. "." .. (dir == "dst" and "dest" or "source"))
    local check = o.proto and (o.proto .. ".check")
    if method == "bpf" then
      local out = {}
      if o.addr ~= nil then
        local csums = { { o.ip, "ipv4.check" } }
        if check then csums[2] = { o.l4, check } end
        out[#out + 1] = self:rewrite(o.ip, addr_field, o.addr, csums, { o.port, o.l4 })
      end
      if o.port ~= nil then out[#out + 1] = self:rewrite(o.l4, port_field, o.port, { { o.l4, check } }, { o.ip }) end
      return out
    end
    return self:nat_helpers(o, addr_field, port_field, check)
  end

  -- The TC way: offsets and old and new values to the stack while the
  -- pointers hold, then helper calls, which may move the packet.
  function Cursor:nat_helpers(o, addr_field, port_field, check)
    local base = o.stack or -8
    if type(base) ~= "number" or base > -8 or base % 8 ~= 0 or base - 40 < -512 then
      raise("nat: stack must be a multiple of 8 from -8 down to -472")
    end
    local IP_OFF, L4_OFF, OLD_ADDR, NEW_ADDR, OLD_PORT, NEW_PORT = base, base - 8, base - 16, base - 24, base - 32,
      base - 40
    for _, r in ipairs { "r1", "r2", "r3", "r4", "r5" } do
      if r == self.ctx or r == o.ip or r == o.l4 then
        raise(("nat: the helpers clobber r1-r5: keep ctx, ip and l4 in r6-r9 (%s is in %s)"):format(
          r == self.ctx and "ctx" or r == o.ip and "ip" or "l4", r))
      end
    end
    local udp = check and check:match("^udp") and BPF_F_MARK_MANGLED_0 or 0
    local addr_off = M.field(addr_field)
    local check_off = check and M.field(check)
    local port_off = port_field and M.field(port_field)
    -- the new values first, while the registers holding them are whole:
    -- stored as they are, then swapped in place on the stack
    local out = {}
    local function stash(slot, size, new)
      if type(new) == "number" then
        return { d.st("dw", "fp", slot, 0), d.st(SIZE_NAME[size], "fp", slot, M.imm32(M.raw(new, size))) }
      end
      reg("nat", new)
      return { d.st("dw", "fp", slot, 0), d.stx(SIZE_NAME[size], "fp", slot, new) }
    end
    local function swap(slot, size, new)
      if type(new) == "number" then return {} end
      return { d.ldx(SIZE_NAME[size], "r1", "fp", slot), d.be("r1", size * 8),
               d.stx(SIZE_NAME[size], "fp", slot, "r1") }
    end
    if o.addr ~= nil then out[#out + 1] = stash(NEW_ADDR, 4, o.addr) end
    if o.port ~= nil then out[#out + 1] = stash(NEW_PORT, 2, o.port) end
    if o.addr ~= nil then out[#out + 1] = swap(NEW_ADDR, 4, o.addr) end
    if o.port ~= nil then out[#out + 1] = swap(NEW_PORT, 2, o.port) end
    out[#out + 1] = { d.mov("r1", o.ip), d.sub("r1", self.data), d.stx("dw", "fp", IP_OFF, "r1") }
    if check then out[#out + 1] = { d.mov("r1", o.l4), d.sub("r1", self.data), d.stx("dw", "fp", L4_OFF, "r1") } end
    local function save(slot_old, ptr, off, size)
      return {
        d.st("dw", "fp", slot_old, 0),
        d.ldx(SIZE_NAME[size], "r1", ptr, off), d.stx(SIZE_NAME[size], "fp", slot_old, "r1"),
      }
    end
    if o.addr ~= nil then out[#out + 1] = save(OLD_ADDR, o.ip, addr_off, 4) end
    if o.port ~= nil then out[#out + 1] = save(OLD_PORT, o.l4, port_off, 2) end
    local function call(helper, slot_base, off, old, new, flags)
      return {
        d.mov("r1", self.ctx),
        d.ldx("dw", "r2", "fp", slot_base), d.add("r2", off),
        d.ldx("dw", "r3", "fp", old), d.ldx("dw", "r4", "fp", new),
        d.mov("r5", flags),
        d.call(helper),
        d.jne("r0", 0, self.miss),
      }
    end
    local function store(slot_base, off, new, size)
      return {
        d.mov("r1", self.ctx),
        d.ldx("dw", "r2", "fp", slot_base), d.add("r2", off),
        d.mov("r3", "fp"), d.add("r3", new), d.mov("r4", size), d.mov("r5", 0),
        d.call("skb_store_bytes"),
        d.jne("r0", 0, self.miss),
      }
    end
    if o.addr ~= nil then
      if check then out[#out + 1] = call("l4_csum_replace", L4_OFF, check_off, OLD_ADDR, NEW_ADDR,
        BPF_F_PSEUDO_HDR | udp | 4) end
      out[#out + 1] = call("l3_csum_replace", IP_OFF, M.field("ipv4.check"), OLD_ADDR, NEW_ADDR, 4)
      out[#out + 1] = store(IP_OFF, addr_off, NEW_ADDR, 4)
    end
    if o.port ~= nil then
      out[#out + 1] = call("l4_csum_replace", L4_OFF, check_off, OLD_PORT, NEW_PORT, udp | 2)
      out[#out + 1] = store(L4_OFF, port_off, NEW_PORT, 2)
    end
    out[#out + 1] = self:load_data()
    return out
  end
end
