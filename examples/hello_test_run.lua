-- SPDX-License-Identifier: MIT
-- Shows: building a program from Lua tables, printing its disassembly,
-- loading it into the kernel and running it with BPF_PROG_TEST_RUN.
-- Needs: bpf (root or CAP_BPF for the load; assembling runs anywhere)
-- Expect: the kernel ran it: r0 = 55
local ebpf = require "ebpfdsl"
local d = ebpf.dsl

-- r0 = sum of 1..10, with a loop the verifier can bound
local prog = {
  d.mov("r0", 0),
  d.mov("r1", 1),
  d.label("loop"),
  d.add("r0", "r1"),
  d.add("r1", 1),
  d.jle("r1", 10, "loop"),
  d.exit(),
}

io.write(d.dump(prog))
local p = assert(ebpf.programs.load { type = "socket_filter", insns = prog, name = "sum_1_to_10" })
local run = assert(p:test_run { data = string.rep("\0", 64) })
print(("the kernel ran it: r0 = %d, in %d ns"):format(run.retval, run.duration_ns))
p:close()
