-- SPDX-License-Identifier: MIT
-- Shows: attaching programs and what links are: a tracepoint program that
-- counts getppid(2) calls per process into a hash map, its link printed,
-- inspected (the kernel's own record) and detached; and a kprobe attach,
-- which on a kernel without kprobes fails with a message saying so.
-- Needs: bpf, tracefs (root, and tracefs at /sys/kernel/tracing)
-- Expect: counted 3 getppid calls from 3 shells
-- Expect: link: tracepoint syscalls/sys_enter_getppid
local ebpf = require "ebpfdsl"
local d, maps = ebpf.dsl, ebpf.maps

local counts <close> = assert(maps.hash { key = "u32", value = "u64", max_entries = 1024, name = "getppid" })
local prog = assert(ebpf.programs.load { type = "tracepoint", name = "count_getppid", insns = {
  d.call("get_current_pid_tgid"),
  d.rsh("r0", 32),
  d.stx("w", "fp", -4, "r0"), -- the key: this process's id
  d.ld_map_fd("r1", counts), d.mov("r2", "fp"), d.add("r2", -4),
  d.call("map_lookup_elem"),
  d.jeq("r0", 0, "new"),
  d.mov("r1", 1),
  d.atomic_add("dw", "r0", 0, "r1"),
  d.ja("out"),
  d.label("new"),
  d.st("dw", "fp", -16, 1),
  d.ld_map_fd("r1", counts), d.mov("r2", "fp"), d.add("r2", -4), d.mov("r3", "fp"), d.add("r3", -16),
  d.mov("r4", 0),
  d.call("map_update_elem"),
  d.label("out"),
  d.mov("r0", 0),
  d.exit(),
} })

do
  local link <close> = assert(prog:attach_tracepoint("syscalls", "sys_enter_getppid"))
  print(link)
  print(("link: %s %s"):format(link:kind(), link:target()))
  for k, v in pairs(link:info()) do print("  " .. k, v) end
  -- a POSIX shell reads getppid(2) once as it starts, for $PPID
  local total = 0
  for _ = 1, 3 do
    local sh = io.popen("sh -c 'echo $$'")
    local pid = tonumber(sh:read("l"))
    sh:close()
    total = total + (counts[pid] or 0)
  end
  print(("counted %d getppid calls from 3 shells"):format(total))
end -- the link detaches here

local kp = assert(ebpf.programs.load { type = "kprobe", insns = { d.mov("r0", 0), d.exit() } })
local link, msg = kp:attach_kprobe("do_sys_openat2")
if link then
  print("kprobe attached: " .. tostring(link))
  link:detach()
else
  print("kprobe: " .. msg)
end
