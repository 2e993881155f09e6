-- SPDX-License-Identifier: MIT
-- Shows: event layouts with arrays, explicit padding and a nested struct;
-- the C layout against the packed one; the layout printed as its C
-- struct; encoding and decoding on the user side; and the BPF side: an
-- XDP program that fills the event in a packet with store_imm,
-- store_fields, zero_field and field_addr, run with BPF_PROG_TEST_RUN,
-- whose result E:decode reads back.
-- Needs: bpf (root, or CAP_BPF and CAP_NET_ADMIN, for the last part, which
-- loads the program; everything before it runs anywhere)
-- Expect: }; /* size 72, align 8 */
-- Expect: sizeof         24       15
-- Expect: -- decoded 72 bytes: pid=4242 comm="curl" timestamp=0xffffffffffffffff port=443 ip=10.0.0.1
-- Expect: ip=10.0.0.1 args={-1,0,7} hops[2].port=2 ok=true
-- Expect: -- offsets: saddr.port=28 hops[1].family=62 args[2]=48
-- Expect: -- the kernel wrote: pid=4242 comm="curl" port=443 family=2 args={-1,0,7} hops[2].port=8080
-- Expect: hops[2].port=8080 ok=true, timestamp
local ebpf = require "ebpfdsl"
local structs, d = ebpf.structs, ebpf.dsl

-- A nested struct and an event that holds it, an array of them, a string,
-- a list of arguments and explicit padding.
local Addr = structs.define("addr", { { "port", "u16" }, { "family", "u8" }, { "ip", "u8", 4 } })
local Event = structs.event("conn_event", {
  { "timestamp", "u64" },
  { "pid", "u32" },
  { "comm", "char", 16 },
  { "saddr", Addr },
  { "_reserved", "pad", 2 },
  { "args", "i32", 3 },
  { "hops", Addr, 2 },
  { "ok", "bool" },
})

print("-- the C struct it equals (gcc gives it the same layout):")
print(Event)

-- The same fields packed, as clj-ebpf laid them out: no padding at all.
local fields = { { "proto", "u8" }, { "bytes", "u64" }, { "port", "u16" }, { "pid", "u32" } }
local C = structs.define("flow_c", fields)
local Packed = structs.define("flow_packed", fields, { packed = true })
print("-- C layout against packed:")
print(("%-8s %8s %8s"):format("field", "C", "packed"))
for _, f in ipairs(C:fields()) do
  print(("%-8s %8d %8d"):format(f.name, C:offset(f.name), Packed:offset(f.name)))
end
print(("%-8s %8d %8d"):format("sizeof", C:size(), Packed:size()))
print(("%-8s %8d %8d"):format("align", C:align(), Packed:align()))
print()

-- User side: a table to bytes and back. Missing fields are zero; char
-- arrays come back cut at NUL, u8 arrays whole, u64 as the same 64 bits.
local bytes = Event:encode {
  timestamp = -1, pid = 4242, comm = "curl", saddr = { port = 443, family = 2, ip = "\10\0\0\1" },
  args = { -1, 0, 7 }, hops = { { port = 1 }, { port = 2, ip = { 192, 168, 0, 1 } } }, ok = true,
}
local ev = Event:decode(bytes)
print(("-- decoded %d bytes: pid=%d comm=%q timestamp=0x%x port=%d ip=%s args={%d,%d,%d} hops[2].port=%d ok=%s")
  :format(#bytes, ev.pid, ev.comm, ev.timestamp, ev.saddr.port, table.concat({ ev.saddr.ip:byte(1, -1) }, "."),
    ev.args[1], ev.args[2], ev.args[3], ev.hops[2].port, tostring(ev.ok)))
print(("-- offsets: saddr.port=%d hops[1].family=%d args[2]=%d"):format(Event:offset("saddr.port"),
  Event:offset("hops[1].family"), Event:offset("args[2]")))
print()

-- BPF side: r2 points at the packet (the event is written at its start),
-- r6 keeps the context for the helper call.
local prog = {
  d.mov("r6", "r1"),
  d.ldx("w", "r2", "r1", 0), d.ldx("w", "r3", "r1", 4),
  d.mov("r4", "r2"), d.add("r4", Event:size() + 16), d.jgt("r4", "r3", "out"),
  structs.zero_field("r2", Event),                        -- the whole record (the packet is 0xff)
  structs.zero_field("r2", Event, "comm"),                -- one field: a string, with the widest stores
  d.call("ktime_get_ns"), d.mov("r7", "r0"),              -- r0..r5 are clobbered by calls:
  d.ldx("w", "r2", "r6", 0), d.ldx("w", "r3", "r6", 4),   -- find the packet again
  d.mov("r4", "r2"), d.add("r4", Event:size() + 16), d.jgt("r4", "r3", "out"),
  structs.store_field("r2", Event, "timestamp", "r7"),
  structs.store_fields("r2", Event, {
    pid = { imm = 4242 }, ["saddr.port"] = { imm = 443 }, ["saddr.family"] = { imm = 2 },
    ["args[0]"] = { imm = -1 }, ["hops[1].port"] = { imm = 8080 }, ok = { imm = true },
  }),
  structs.store_imm("r2", Event, "args[2]", 7),
  -- through the address of a field, as a helper writing into it would
  structs.field_addr("r5", "r2", Event, "comm"),
  d.st("w", "r5", 0, string.unpack("<i4", "curl")),
  d.mov("r0", 2), -- XDP_PASS
  d.exit(),
  d.label("out"),
  d.mov("r0", 1),
  d.exit(),
}
print("-- the XDP program that writes the event:")
io.write(d.dump(prog))

local p, msg = ebpf.programs.load { type = "xdp", insns = prog, name = "event_structs" }
if not p then
  local id = io.popen("id -u")
  local uid = id:read("l")
  id:close()
  if uid ~= "0" then
    print("-- not loading it (not root): " .. tostring(msg))
    return
  end
  error(msg)
end
local run = assert(p:test_run { data = ("\255"):rep(Event:size() + 16) })
p:close()
assert(run.retval == 2, "the packet was too short")
local got = Event:decode(run.data_out)
print(("-- the kernel wrote: pid=%d comm=%q port=%d family=%d args={%d,%d,%d} hops[2].port=%d ok=%s, "
  .. "timestamp %d ns"):format(got.pid, got.comm, got.saddr.port, got.saddr.family, got.args[1], got.args[2],
  got.args[3], got.hops[2].port, tostring(got.ok), got.timestamp))
assert(got.pid == 4242 and got.comm == "curl" and got.hops[2].port == 8080 and got.args[3] == 7)
