-- SPDX-License-Identifier: MIT
-- Writes the seed corpora of the C harnesses under fuzz/corpus/<harness>/
-- (the tracepoint seeds are real format files, copied from tracefs once).
-- Run from the repository root after `make`: lua5.4 fuzz/seeds.lua
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local d = require "ebpfdsl.dsl"
local bb = require "support.btf_build"

local function write(dir, name, bytes)
  os.execute("mkdir -p fuzz/corpus/" .. dir)
  local f = assert(io.open(("fuzz/corpus/%s/%s"):format(dir, name), "wb"))
  f:write(bytes)
  f:close()
end

-- decode: programs as the assembler writes them, jumps, wide loads,
-- atomics, local calls, and bytes no row encodes
write("decode", "tour.bin", d.assemble {
  d.mov("r6", "r1"), d.call("ktime_get_ns"), d.mov("r0", 0), d.ldx("w", "r2", "r6", 0),
  d.jlt("r2", 64, "short"), d.mov("r0", 1), d.label("short"), d.exit() })
write("decode", "wide.bin", d.assemble {
  d.lddw("r1", 0x123456789abcdef0), d.ld_map_fd("r2", 3), d.atomic_fetch_add("dw", "r10", -8, "r1"),
  d.cmpxchg("dw", "r10", -8, "r2"), d.sdiv("r1", 3), d.movsx("r2", "r1", 16), d.bswap("r1", 32), d.exit() })
write("decode", "calls.bin", d.assemble {
  d.call_local("f"), d.ja("end"), d.label("f"), d.mov("r0", 2), d.exit(), d.label("end"), d.exit() })
write("decode", "raw.bin", string.rep("\255", 16) .. string.pack("<I8", 0x18) .. string.rep("\0", 7) .. "\1")

-- asm: [cpu][no_relax] then items (see fuzz/asm.c): a label, a jump to a
-- later label across a run past 16 bits (relaxed), a conditional one back
local function items(list) return string.char(3, 1, table.unpack(list)) end
write("asm", "relax.bin", items { 0, 0, 0, 4, 0, 0, 1, 1, 0, 5, 0, 0, 0, 3, 0, 1, 6, 0, 255, 3, 4, 0, 2, 0, 1,
  0, 0, 0, 0, 0, 0, 1, 7, 0 })
write("asm", "jset.bin", items { 0, 0, 2, 4, 0, 3, 2, 1, 3, 6, 0, 255, 0, 0, 0, 2, 7, 0 })
write("asm", "calls.bin", items { 5, 1, 4, 1, 7, 0, 0, 0, 4, 1, 0, 0, 42, 0, 0, 0, 7, 0, 2, 3, 1, 2, 3, 4, 5, 6,
  7, 8 })

-- layout: [packed][n] then per field [type][count]..., then the record
write("layout", "event.bin", string.char(0, 4, 3, 0, 2, 0, 8, 4, 12, 1) .. string.rep("\1\2\3\4", 8))
write("layout", "nested.bin", string.char(1, 3, 0, 2, 12, 1, 0, 2, 9, 0, 1, 4, 3) .. string.rep("\255", 40))

-- vlog: [nlabels][cnt][outlen u16][label slots][insns][log]
local prog = d.assemble { d.mov("r0", 0), d.ldx("dw", "r2", "r1", 8), d.label("out"), d.exit() }
local log = "func#0 @0\n0: R1=ctx() R10=fp0\n0: (b7) r0 = 0                        ; R0_w=0\n"
  .. "1: (79) r2 = *(u64 *)(r1 +8)\ninvalid bpf_context access off=8 size=8\n"
  .. "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n"
write("vlog", "refusal.bin", string.char(2, #prog // 8) .. string.pack("<I2", 300) .. string.char(0, 2) .. prog .. log)

-- btf: [path length][path][BTF]; the 75-byte file of issue 12 first
write("btf", "self_anon.btf", "\0" .. bb.self_anon())
write("btf", "self_anon_path.btf", "\3x.y" .. bb.self_anon())
-- types one byte off alignment (a 25-byte header), which UBSan caught
write("btf", "unaligned.btf", "\0" .. string.pack("<I2BBI4I4I4I4I4", 0xeB9F, 1, 0, 25, 0, 48, 48, 3) .. "\0"
  .. bb.self_anon():sub(25))
write("btf", "fan.btf", "\1x" .. bb.fan(20, 3))
write("btf", "proto_fan.btf", "\0" .. bb.proto_fan(50, 2))
write("btf", "event.btf", "\6pair.b" .. bb.build {
  { kind = "struct", name = "event", size = 16, members = { { name = "pid", type = 2 },
    { name = "pair", type = 3, bit_offset = 32 }, { name = "comm", type = 4, bit_offset = 64 } } },
  { kind = "int", name = "int", size = 4, bits = 32 },
  { kind = "struct", name = "pair", size = 4,
    members = { { name = "a", type = 5 }, { name = "b", type = 5, bit_offset = 16 } } },
  { kind = "array", type = 6, index_type = 2, nelems = 8 },
  { kind = "int", name = "short", size = 2, bits = 16 },
  { kind = "int", name = "char", size = 1, bits = 8 },
})
print("seeds written under fuzz/corpus/")
