-- SPDX-License-Identifier: MIT
-- The probes of tools/, written by hand in ebpfdsl.dsl instructions, as a
-- careful person writes them: registers chosen once for the whole program,
-- fields read straight where they go, one exit and one block counting lost
-- records. Each writes the records and map entries its tool's user side
-- reads (the layouts of the session: env.site(i), env.key(name)), so the
-- tool prints from them what it prints from the generated programs (spec
-- 84 runs both). env: pid (the -p filter, or nil), ring and loss (maps),
-- map(name), key(name) and tuple(name) (layouts), site(i) (a printf
-- record's layout; multi: more than one site, each record starts with its
-- number), field(category, name, field) (a tracepoint field's offset),
-- off(struct, path) (BTF), regs (pt_regs offsets), stacks() (the stack map).
local d = require "ebpfdsl.dsl"

local M = {}

local SIZE = { [1] = "b", [2] = "h", [4] = "w", [8] = "dw" }

-- The end every path reaches: r0 = 0.
local function out()
  return { d.label("out"), d.mov("r0", 0), d.exit() }
end

-- A reservation that failed: counted in the per-CPU loss map.
local function lost(e)
  return { d.label("lost"), d.st("w", "r10", -4, 0), d.ld_map_fd("r1", e.loss), d.mov("r2", "r10"), d.add("r2", -4),
           d.call("map_lookup_elem"), d.jeq("r0", 0, "out"), d.mov("r1", 1), d.atomic_add("dw", "r0", 0, "r1"),
           d.ja("out") }
end

-- A record of the site's layout in register r (one of r6-r9).
local function reserve(e, r, layout, site)
  local l = { d.ld_map_fd("r1", e.ring), d.mov("r2", layout:size()), d.mov("r3", 0), d.call("ringbuf_reserve"),
              d.jeq("r0", 0, "lost"), d.mov(r, "r0") }
  if e.multi then l[#l + 1] = d.st("w", r, 0, site - 1) end
  return l
end

local function submit(r) return { d.mov("r1", r), d.mov("r2", 0), d.call("ringbuf_submit") } end

-- The thread group id in r (r0 keeps pid_tgid: the thread id in w0), and
-- the -p filter.
local function pid(e, r)
  local l = { d.call("get_current_pid_tgid"), d.mov(r, "r0"), d.rsh(r, 32) }
  if e.pid then l[#l + 1] = d.jne32(r, e.pid, "out") end
  return l
end

-- The -p filter alone.
local function only_pid(e)
  if not e.pid then return {} end
  return { d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.jne32("r0", e.pid, "out") }
end

-- The command at rec + field.
local function comm(rec, layout, field)
  return { d.mov("r1", rec), d.add("r1", layout:field(field).offset), d.mov("r2", 16), d.call("get_current_comm") }
end

-- A register stored in a record field as wide as the field.
local function put(rec, layout, field, r)
  local f = layout:field(field)
  return d.stx(SIZE[f.size], rec, f.offset, r)
end

-- bpftrace's log2 bucket of r (not negative) into idx, by halving: 1 for 0,
-- then 2 + the highest bit set. r is spent; tmp is a scratch register.
local function log2(r, idx, tmp, done)
  local l = { d.mov(idx, 1), d.jeq(r, 0, done), d.mov(idx, 2),
              d.mov(tmp, r), d.rsh(tmp, 32), d.jeq(tmp, 0, done .. "_16"), d.mov(r, tmp), d.add(idx, 32),
              d.label(done .. "_16") }
  for _, s in ipairs { 16, 8, 4, 2, 1 } do
    local skip = ("%s_%d"):format(done, s // 2)
    l[#l + 1] = { d.jlt(r, 1 << s, skip), d.rsh(r, s), d.add(idx, s), d.label(skip) }
  end
  l[#l + 1] = d.label(done)
  return l
end

-- A per-CPU counter at key fp+key: one more (found), or a new entry of 1.
local function count(map, key, value)
  return { d.ld_map_fd("r1", map), d.mov("r2", "r10"), d.add("r2", key), d.call("map_lookup_elem"),
           d.jeq("r0", 0, "new"), d.mov("r1", 1), d.atomic_add("dw", "r0", 0, "r1"), d.ja("out"),
           d.label("new"), d.st("dw", "r10", value, 1),
           d.ld_map_fd("r1", map), d.mov("r2", "r10"), d.add("r2", key), d.mov("r3", "r10"), d.add("r3", value),
           d.mov("r4", 0), d.call("map_update_elem") }
end

-- One more in a one-key-per-bucket histogram (a per-CPU array), the bucket
-- in register idx; then goes to label next.
local function hist_add(map, idx, next)
  return { d.stx("w", "r10", -8, idx), d.ld_map_fd("r1", map), d.mov("r2", "r10"), d.add("r2", -8),
           d.call("map_lookup_elem"), d.jeq("r0", 0, next), d.mov("r1", 1), d.atomic_add("dw", "r0", 0, "r1") }
end

-- map[key at fp+key] = value at fp+value
local function update(map, key, value)
  return { d.ld_map_fd("r1", map), d.mov("r2", "r10"), d.add("r2", key), d.mov("r3", "r10"), d.add("r3", value),
           d.mov("r4", 0), d.call("map_update_elem") }
end

local function delete(map, key)
  return { d.ld_map_fd("r1", map), d.mov("r2", "r10"), d.add("r2", key), d.call("map_delete_elem") }
end

local function lookup(map, key)
  return { d.ld_map_fd("r1", map), d.mov("r2", "r10"), d.add("r2", key), d.call("map_lookup_elem") }
end

-- The probes, by label --------------------------------------------------------

M["tracepoint:syscalls:sys_enter_openat"] = function(e)
  local L = e.site(1)
  return {
    d.ldx("dw", "r6", "r1", e.field("syscalls", "sys_enter_openat", "filename")),
    pid(e, "r7"),
    reserve(e, "r8", L, 1),
    put("r8", L, "a1", "r7"),
    comm("r8", L, "a2"),
    d.mov("r1", "r8"), d.add("r1", L:field("a3").offset), d.mov("r2", L:field("a3").size), d.mov("r3", "r6"),
    d.call("probe_read_user_str"),
    submit("r8"), out(), lost(e),
  }
end

M["tracepoint:syscalls:sys_enter_execve"] = function(e)
  local L = e.site(1)
  local n, len = 16, L:field("a3").size // 16
  return {
    d.ldx("dw", "r6", "r1", e.field("syscalls", "sys_enter_execve", "argv")),
    pid(e, "r7"),
    d.call("get_current_task_btf"),
    d.ldx("dw", "r0", "r0", e.off("task_struct", "real_parent")),
    d.ldx("w", "r8", "r0", e.off("task_struct", "tgid")),
    reserve(e, "r9", L, 1),
    put("r9", L, "a1", "r7"),
    put("r9", L, "a2", "r8"),
    -- each argv pointer (r6), its string at r7, r8 counting
    d.mov("r7", "r9"), d.add("r7", L:field("a3").offset), d.mov("r8", 0),
    d.label("arg"),
    d.mov("r1", "r10"), d.add("r1", -8), d.mov("r2", 8), d.mov("r3", "r6"), d.call("probe_read_user"),
    d.ldx("dw", "r3", "r10", -8), d.jeq("r3", 0, "last"),
    d.mov("r1", "r7"), d.mov("r2", len), d.call("probe_read_user_str"),
    d.add("r7", len), d.add("r6", 8), d.add("r8", 1), d.jlt("r8", n, "arg"),
    d.ja("send"),
    d.label("last"), d.st("b", "r7", 0, 0),
    d.label("send"), submit("r9"), out(), lost(e),
  }
end

M["tracepoint:sched:sched_process_exit"] = function(e)
  local L = e.site(1)
  return {
    pid(e, "r6"),
    d.jne32("r6", "r0", "out"), -- a thread other than the leader
    d.call("get_current_task_btf"),
    d.ldx("w", "r7", "r0", e.off("task_struct", "exit_code")),
    d.ldx("dw", "r0", "r0", e.off("task_struct", "real_parent")),
    d.ldx("w", "r8", "r0", e.off("task_struct", "tgid")),
    reserve(e, "r9", L, 1),
    comm("r9", L, "a1"),
    put("r9", L, "a2", "r6"),
    put("r9", L, "a3", "r8"),
    d.mov("r1", "r7"), d.rsh("r1", 8), d["and"]("r1", 0xff), put("r9", L, "a4", "r1"),
    d["and"]("r7", 0x7f), put("r9", L, "a5", "r7"),
    submit("r9"), out(), lost(e),
  }
end

M["tracepoint:syscalls:sys_enter_kill"] = function(e)
  local V = e.tuple("call")
  return {
    d.ldx("w", "r6", "r1", e.field("syscalls", "sys_enter_kill", "pid")),
    d.ldx("w", "r7", "r1", e.field("syscalls", "sys_enter_kill", "sig")),
    e.pid and { d.call("get_current_pid_tgid"), d.mov("r1", "r0"), d.rsh("r1", 32), d.jne32("r1", e.pid, "out") }
      or d.call("get_current_pid_tgid"),
    d.stx("w", "r10", -4, "r0"),
    d.stx("w", "r10", -16 + V:field("v1").offset, "r6"),
    d.stx("w", "r10", -16 + V:field("v2").offset, "r7"),
    update(e.map("call"), -4, -16),
    out(),
  }
end

M["tracepoint:syscalls:sys_exit_kill"] = function(e)
  local L, V = e.site(1), e.tuple("call")
  local m = e.map("call")
  return {
    d.mov("r6", "r1"),
    e.pid and { d.call("get_current_pid_tgid"), d.mov("r1", "r0"), d.rsh("r1", 32), d.jne32("r1", e.pid, "out") }
      or d.call("get_current_pid_tgid"),
    d.stx("w", "r10", -4, "r0"),
    lookup(m, -4),
    d.jeq("r0", 0, "out"),
    d.ldx("w", "r8", "r0", V:field("v1").offset),
    d.ldx("w", "r9", "r0", V:field("v2").offset),
    delete(m, -4),
    d.jeq32("r9", 0, "out"), -- signal 0
    reserve(e, "r7", L, 1),
    put("r7", L, "a3", "r9"),
    put("r7", L, "a4", "r8"),
    d.call("get_current_pid_tgid"), d.rsh("r0", 32), put("r7", L, "a1", "r0"),
    comm("r7", L, "a2"),
    d.ldx("dw", "r1", "r6", e.field("syscalls", "sys_exit_kill", "ret")), put("r7", L, "a5", "r1"),
    submit("r7"), out(), lost(e),
  }
end

M["tracepoint:raw_syscalls:sys_enter"] = function(e)
  local K = e.key("calls")
  local key = -K:size()
  return {
    d.ldx("dw", "r6", "r1", e.field("raw_syscalls", "sys_enter", "id")),
    only_pid(e),
    -- (get_current_comm leaves what follows the name as it was before 6.4)
    d.st("dw", "r10", key + K:field("k1").offset, 0), d.st("dw", "r10", key + K:field("k1").offset + 8, 0),
    d.mov("r1", "r10"), d.add("r1", key + K:field("k1").offset), d.mov("r2", 16), d.call("get_current_comm"),
    d.stx("dw", "r10", key + K:field("k2").offset, "r6"),
    count(e.map("calls"), key, key - 8),
    out(),
  }
end

M["tracepoint:syscalls:sys_exit_read"] = function(e)
  return {
    d.ldx("dw", "r6", "r1", e.field("syscalls", "sys_exit_read", "ret")),
    only_pid(e),
    d.mov("r1", 0), d.jslt("r6", 0, "bucket"), -- a failed read: bucket 0
    log2("r6", "r1", "r2", "bucket"),
    hist_add(e.map("bytes"), "r1", "out"),
    out(),
  }
end

-- The end runqlat and funclatency share: the time stored in `starts` under
-- the u32 key at fp-4, its age in microseconds into usecs' log2 histogram,
-- the entry deleted.
local function since_start(e, starts)
  return {
    lookup(starts, -4),
    d.jeq("r0", 0, "out"),
    d.ldx("dw", "r6", "r0", 0),
    d.call("ktime_get_ns"), d.sub("r0", "r6"), d.div("r0", 1000),
    log2("r0", "r1", "r2", "bucket"),
    hist_add(e.map("usecs"), "r1", "done"),
    d.label("done"),
    delete(starts, -4),
  }
end

-- runqlat: BTF-enabled raw tracepoints; each argument a u64 of the context.
local function queued(e, task, skip)
  return {
    e.pid and { d.ldx("w", "r2", task, e.off("task_struct", "tgid")), d.jne32("r2", e.pid, skip) } or {},
    d.ldx("w", "r7", task, e.off("task_struct", "pid")),
    d.call("ktime_get_ns"),
    d.stx("w", "r10", -4, "r7"), d.stx("dw", "r10", -16, "r0"),
    update(e.map("qtime"), -4, -16),
  }
end

M["rawtracepoint:sched_wakeup"] = function(e)
  return { d.ldx("dw", "r1", "r1", 0), queued(e, "r1", "out"), out() }
end
M["rawtracepoint:sched_wakeup_new"] = M["rawtracepoint:sched_wakeup"]

M["rawtracepoint:sched_switch"] = function(e)
  -- (preempt, prev, next, prev_state)
  local q = e.map("qtime")
  return {
    d.mov("r6", "r1"),
    d.ldx("dw", "r1", "r6", 24), d.jne32("r1", 0, "next"), -- prev was not running: not queued again
    d.ldx("dw", "r1", "r6", 8),
    queued(e, "r1", "next"),
    d.label("next"),
    d.ldx("dw", "r1", "r6", 16),
    d.ldx("w", "r1", "r1", e.off("task_struct", "pid")),
    d.stx("w", "r10", -4, "r1"),
    since_start(e, q),
    out(),
  }
end

-- funclatency: uprobes, the tid's start time from call to return.
M.uprobe = function(e)
  return {
    d.call("get_current_pid_tgid"), d.mov("r6", "r0"),
    e.pid and { d.rsh("r0", 32), d.jne32("r0", e.pid, "out") } or {},
    d.call("ktime_get_ns"),
    d.stx("w", "r10", -4, "r6"), d.stx("dw", "r10", -16, "r0"),
    update(e.map("start"), -4, -16),
    out(),
  }
end

M.uretprobe = function(e)
  local s = e.map("start")
  return {
    e.pid and { d.call("get_current_pid_tgid"), d.mov("r1", "r0"), d.rsh("r1", 32), d.jne32("r1", e.pid, "out") }
      or d.call("get_current_pid_tgid"),
    d.stx("w", "r10", -4, "r0"),
    since_start(e, s),
    out(),
  }
end

M["profile:hz:99"] = function(e)
  local K = e.key("samples")
  local key = -K:size()
  local stacks = e.stacks()
  return {
    d.mov("r6", "r1"),
    pid(e, "r7"),
    d.mov("r1", "r6"), d.ld_map_fd("r2", stacks), d.mov("r3", 0), d.call("get_stackid"),
    d.stx("dw", "r10", key + K:field("k1").offset, "r0"),
    d.mov("r1", "r6"), d.ld_map_fd("r2", stacks), d.mov("r3", 256), d.call("get_stackid"), -- BPF_F_USER_STACK
    d.stx("dw", "r10", key + K:field("k2").offset, "r0"),
    d.stx("w", "r10", key + K:field("k2pid").offset, "r7"),
    -- the name and the padding at the end, zeroed (get_current_comm leaves
    -- what follows the name as it was before 6.4)
    d.st("w", "r10", key + K:field("k3").offset, 0), d.st("dw", "r10", key + K:field("k3").offset + 4, 0),
    d.st("dw", "r10", key + K:field("k3").offset + 12, 0),
    d.mov("r1", "r10"), d.add("r1", key + K:field("k3").offset), d.mov("r2", 16), d.call("get_current_comm"),
    count(e.map("samples"), key, key - 8),
    out(),
  }
end

-- tcpconnect from the tracepoint: fields of the record, one site per family.
M["tracepoint:sock:inet_sock_set_state"] = function(e)
  local f = function(name) return e.field("sock", "inet_sock_set_state", name) end
  local function send(site, n, saddr, daddr)
    local L = e.site(site)
    local l = { reserve(e, "r8", L, site), put("r8", L, "a1", "r7"), comm("r8", L, "a2") }
    for _, a in ipairs { { saddr, "a4" }, { daddr, "a5" } } do
      for at = 0, n - 1, n == 4 and 4 or 8 do
        local w = n == 4 and "w" or "dw"
        l[#l + 1] = { d.ldx(w, "r1", "r6", f(a[1]) + at), d.stx(w, "r8", L:field(a[2]).offset + at, "r1") }
      end
    end
    l[#l + 1] = { d.ldx("h", "r1", "r6", f("dport")), put("r8", L, "a6", "r1"), submit("r8") }
    return l
  end
  return {
    d.mov("r6", "r1"),
    d.ldx("h", "r1", "r6", f("protocol")), d.jne("r1", 6, "out"), -- TCP
    d.ldx("w", "r1", "r6", f("oldstate")), d.jne32("r1", 7, "out"), -- from CLOSE
    d.ldx("w", "r1", "r6", f("newstate")), d.jne32("r1", 2, "out"), -- to SYN_SENT
    pid(e, "r7"),
    d.ldx("h", "r1", "r6", f("family")), d.jne("r1", 2, "six"),
    send(1, 4, "saddr", "daddr"), d.ja("out"),
    d.label("six"),
    send(2, 16, "saddr_v6", "daddr_v6"),
    out(), lost(e),
  }
end

-- tcpconnect from a kprobe on tcp_connect(struct sock *sk): the port, a
-- spare u16 and the family read at once, the addresses straight into the
-- record.
M["kprobe:tcp_connect"] = function(e)
  local off = function(path) return e.off("sock", "__sk_common." .. path) end
  local dport = off("skc_dport")
  local function send(site, n, saddr, daddr)
    local L = e.site(site)
    local l = { reserve(e, "r9", L, site), put("r9", L, "a1", "r7"), comm("r9", L, "a2") }
    for _, a in ipairs { { saddr, "a4" }, { daddr, "a5" } } do
      l[#l + 1] = { d.mov("r1", "r9"), d.add("r1", L:field(a[2]).offset), d.mov("r2", n), d.mov("r3", "r6"),
                    d.add("r3", off(a[1])), d.call("probe_read_kernel") }
    end
    l[#l + 1] = { put("r9", L, "a6", "r8"), submit("r9") }
    return l
  end
  assert(off("skc_family") == dport + 4)
  return {
    d.ldx("dw", "r6", "r1", e.regs.args[1]),
    pid(e, "r7"),
    d.mov("r1", "r10"), d.add("r1", -8), d.mov("r2", 8), d.mov("r3", "r6"), d.add("r3", dport),
    d.call("probe_read_kernel"),
    d.ldx("h", "r8", "r10", -8), d.be("r8", 16),
    d.ldx("h", "r1", "r10", -4), d.jne("r1", 2, "six"),
    send(1, 4, "skc_rcv_saddr", "skc_daddr"), d.ja("out"),
    d.label("six"),
    send(2, 16, "skc_v6_rcv_saddr", "skc_v6_daddr"),
    out(), lost(e),
  }
end

-- env(S, opts) -> what the programs above are written against, from a
-- session whose probes are built (maps and records made).
function M.env(S, opts)
  local K = require("ebpfdsl._trace_value").K
  local st = S._state
  local b = require("ebpfdsl.btf").vmlinux()
  local formats = {}
  local e = { pid = opts.pid, multi = #st.out.sites > 1, regs = require("ebpfdsl.arch").pt_regs() }
  function e.site(i) return st.out.sites[i].layout end
  function e.map(name) return S.maps[name]:bpf_map() end
  function e.key(name) return S.maps[name][K].key end
  function e.tuple(name) return S.maps[name][K].extra.layout end
  function e.field(cat, name, field)
    local key = cat .. ":" .. name
    formats[key] = formats[key] or assert(require("ebpfdsl.tracepoint").format(cat, name))
    return formats[key].by_name[field].offset
  end
  function e.off(struct, path) return (assert(b:offsetof(struct, path))) end
  function e.stacks() return st.stack_ref():bpf_map() end
  e.ring = st.out:ring()
  if st.out.loss_ref then e.loss = st.out:loss_map() end
  return e
end

-- The hand-written program for a probe of a session: its instructions.
function M.program(S, probe, opts)
  local f = M[probe.label] or M[probe.kind]
  assert(f, "no hand-written program for " .. probe.label)
  return f(M.env(S, opts))
end

return M
