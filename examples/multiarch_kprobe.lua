-- SPDX-License-Identifier: MIT
-- Shows: one kprobe source generating programs for every architecture
-- ebpfdsl knows (arch= on each builder), printing the pt_regs offsets each
-- reads: a kprobe on do_sys_openat2(dfd, filename, how), its kretprobe,
-- and a probe on the openat system call, read through the syscall
-- wrapper's struct pt_regs * where the architecture has one. Then it loads
-- this machine's programs through the verifier; kprobe programs load even
-- on kernels built without kprobes, only attaching them needs kprobes.
-- Needs: bpf (root or CAP_BPF for the verifier part; the table prints anywhere)
-- Expect: loongarch64
-- Expect: 3 of 3
local ebpf = require "ebpfdsl"
local d, arch, kprobe = ebpf.dsl, ebpf.arch, ebpf.kprobe

-- The probe, written once. Arguments count from 1 (PT_REGS_PARM1).
local function entry_probe(a)
  return kprobe.build_kprobe_program {
    arch = a, ctx_reg = "r9",
    args = { "r6", "r7" },                 -- dfd, filename
    body = { d.helper_get_current_pid_tgid(), d.rsh("r0", 32), d.mov("r8", "r0") },
    return_value = 0,
  }
end

local function return_probe(a)
  return kprobe.build_kretprobe_program { arch = a, ret_reg = "r6", body = { d.mov("r7", "r6") } }
end

local function syscall_probe(a)
  return { kprobe.read_syscall_args("r1", { { 1, "r6" }, { 2, "r7" }, { 3, "r8" } }, { arch = a }),
           d.mov("r0", 0), d.exit() }
end

-- The offsets a list reads from the context register r1.
local function ctx_offsets(list)
  local offs = {}
  for _, x in ipairs(d.disassemble((d.assemble(list)))) do
    if x.op == "ldx" and x.src == "r1" then offs[#offs + 1] = ("%s@%d"):format(x.size, x.off) end
  end
  return table.concat(offs, " ")
end

print(("%-12s %-5s %-20s %-8s %-30s %s"):format("arch", "regs", "do_sys_openat2 args", "ret", "openat kprobe on",
  "openat args 1-3 (pt_regs field@offset)"))
for _, a in ipairs(arch.list()) do
  local t = arch.pt_regs(a)
  local via = t.syscall_wrapper and (arch.syscall_function("openat", a) .. "(regs)") or
    arch.syscall_function("openat", a)
  local names = {}
  for i = 1, 3 do names[i] = t.names.syscall_args[i] .. "@" .. t.syscall_args[i] end
  print(("%-12s %-5d %-20s %-8s %-30s %s"):format(a, t.nargs, ctx_offsets(entry_probe(a)),
    ctx_offsets(return_probe(a)), via, table.concat(names, " ")))
end

local here = arch.current()
print()
print("the " .. here .. " kprobe, as the kernel would see it:")
io.write(d.dump(entry_probe(here)))

-- Load this machine's three programs when the kernel lets us.
local loaded = 0
for what, list in pairs { entry = entry_probe(here), ["return"] = return_probe(here), syscall = syscall_probe(here) } do
  local p, msg = ebpf.programs.load { type = "kprobe", insns = list, name = "march_" .. what }
  if not p then
    print(("not loaded (%s): %s"):format(what, msg))
  else
    loaded = loaded + 1
    p:close()
  end
end
print(("%d of 3 %s programs passed the verifier"):format(loaded, here))
