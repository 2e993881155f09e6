-- SPDX-License-Identifier: MIT
-- Shows: the kernel's BTF from Lua: a struct's members with offsets and C
-- declarations, offsetof through nested members, a kernel function's
-- parameters, an enum; then a tp_btf program loaded by naming its
-- tracepoint, and a refused program explained in our own disassembly.
-- Needs: btf, bpf (root for the two loads)
-- Expect: offsetof(task_struct, se.vruntime) =
-- Expect: int do_unlinkat(int dfd, struct filename *name)
-- Expect: insn 2 (at label 'out'): r0 += r2: R2 !read_ok
local ebpf = require "ebpfdsl"
local d = ebpf.dsl

local b = assert(ebpf.btf.vmlinux())
print(b)

local task = b:type("task_struct")
print(("struct task_struct: %d bytes, %d members; the first five:"):format(task.size, #task.members))
for i = 1, 5 do
  local m = task.members[i]
  print(("  +%-4d %s"):format(m.offset, m.decl))
end
local off, field = b:offsetof("task_struct", "se.vruntime")
print(("offsetof(task_struct, se.vruntime) = %d (%s, %d bytes)"):format(off, field.type, field.size))
print(b:func("do_unlinkat").decl)
local xdp = b:enum("xdp_action")
print(("XDP_PASS = %d, XDP_DROP = %d"):format(xdp.values.XDP_PASS, xdp.values.XDP_DROP))

-- a program on the sched_switch BTF tracepoint: attach_to names it
local p = assert(ebpf.programs.load { type = "tp_btf", attach_to = "sched_switch", name = "on_switch",
                                      insns = { d.mov("r0", 0), d.exit() } })
print(("tp_btf program '%s' targets BTF id %d (%s)"):format(p:name(), p:info().attach_btf_id,
  b:type(p:info().attach_btf_id).name))

-- r2 is never set on the path that jumps to 'out'
local _, msg = ebpf.programs.load { type = "socket_filter", insns = {
  d.mov("r0", 0), d.jeq("r1", 0, "out"), d.label("out"), d.add("r0", "r2"), d.exit() } }
print(msg)
