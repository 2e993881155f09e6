-- SPDX-License-Identifier: MIT
-- Shows: a real probe, written in Lua from end to end: a tracepoint program on
-- syscalls/sys_enter_openat sends one event per file opened (process id,
-- command, file name) through a ring buffer; Lua decodes each event and
-- prints it, and at the end prints how many opens each command made. It
-- opens a few files itself, so an idle machine shows events too.
-- Run: lua5.4 examples/trace_openat.lua [seconds, default 3] [pid, or "self"]
-- With a pid, only that process's opens are sent (the filter runs in the
-- kernel, so a busy machine cannot fill the ring); the specs run it on
-- itself that way.
-- Args: 3 self
-- Needs: bpf, tracefs (root, a kernel with BPF ring buffers and tracepoints)
-- Expect: opens by command
-- Expect: /etc/hostname
local ebpf = require "ebpfdsl"
local d, structs, maps, tracepoint = ebpf.dsl, ebpf.structs, ebpf.maps, ebpf.tracepoint

local seconds = tonumber(arg and arg[1]) or 3
local only = arg and arg[2]
if only == "self" then only = io.open("/proc/self/stat"):read("n") end -- Lua has no getpid
only = only and assert(math.tointeger(tonumber(only)), "the pid must be a number or \"self\"")

-- The event, laid out as C would lay out the same struct.
local Event = structs.define("open_event", {
  { "pid", "u32" },             -- the process (thread group) id
  { "tid", "u32" },             -- the thread id
  { "comm", "char", 16 },       -- the command name
  { "filename", "char", 256 },  -- as passed to openat, cut at 255 bytes
})

local events = assert(maps.ringbuf(1024 * 1024))
local openat = assert(tracepoint.format("syscalls", "sys_enter_openat"))

-- With a pid: leave at once when another process opens a file.
local filter = only and {
  d.helper_get_current_pid_tgid(),
  d.rsh("r0", 32),                                    -- the process id
  d.jne("r0", only, "out"),
} or {}

local prog = {
  d.mov("r6", "r1"),                                  -- r6 = the tracepoint record
  filter,                                             -- lists nest
  d.ringbuf_reserve("r7", events, Event:size()),      -- r7 = room for one event, or NULL
  d.jeq("r7", 0, "out"),
  d.helper_get_current_pid_tgid(),                    -- r0 = tgid << 32 | tid
  structs.store_field("r7", Event, "tid", "r0"),      -- a 4-byte store keeps the low half
  d.rsh("r0", 32),
  structs.store_field("r7", Event, "pid", "r0"),
  structs.field_addr("r1", "r7", Event, "comm"),
  d.mov("r2", 16),
  d.call("get_current_comm"),
  structs.field_addr("r8", "r7", Event, "filename"),
  openat:read_string("r6", "filename", "r8", 256),    -- bpf_probe_read_user_str
  d.ringbuf_submit("r7"),
  d.label("out"),
  d.mov("r0", 0),
  d.exit(),
}

local p = assert(ebpf.programs.load { type = "tracepoint", insns = prog, name = "trace_openat" })
local link = assert(p:attach_tracepoint("syscalls", "sys_enter_openat"))

local counts, total = {}, 0
local reader = assert(ebpf.ringbuf.reader {
  [events] = {
    layout = Event,
    handler = function(ev)
      total = total + 1
      counts[ev.comm] = (counts[ev.comm] or 0) + 1
      print(("%7d %-16s %s"):format(ev.pid, ev.comm, ev.filename))
    end,
  },
})

print(("tracing openat for %d seconds%s"):format(seconds, only and (" in process " .. only) or ""))
print(("%7s %-16s %s"):format("PID", "COMMAND", "FILE"))
for _, path in ipairs { "/etc/hostname", "/etc/os-release" } do   -- something to see
  local f = io.open(path)                                          -- on an idle machine
  if f then f:close() end
end
local deadline = os.time() + seconds
while os.time() < deadline do assert(reader:poll(200)) end
link:detach()
assert(reader:consume())               -- what arrived before the detach

print(("\nopens by command (%d in all):"):format(total))
local names = {}
for name in pairs(counts) do names[#names + 1] = name end
table.sort(names, function(a, b) return counts[a] > counts[b] or (counts[a] == counts[b] and a < b) end)
for _, name in ipairs(names) do print(("%7d %s"):format(counts[name], name)) end
reader:close()
p:close()
