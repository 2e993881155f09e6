-- SPDX-License-Identifier: MIT
-- Shows: the seed's tcp-connect tracer written with the probe DSLs alone:
-- an event layout (timestamp, pid, tgid, comm[16], daddr, dport, padding),
-- a kprobe prologue reading the probed function's argument, pid/tgid,
-- a timestamp, a ring-buffer reservation filled with the structs stores and
-- get_current_comm, submitted and decoded by a reader. It is built and
-- loaded as a kprobe program always, and attached to tcp_v4_connect where
-- the kernel has kprobes (make vmtest runs it so on Debian's 6.1: spec 88).
-- Without kprobes (CONFIG_KPROBES off, as on the development kernel) the
-- same program goes, as a uprobe, on the C library's connect(), and a child
-- (bash's /dev/tcp) really connects to a loopback listener this script
-- opens. That is the honest stand-in: a real process makes a real TCP
-- connection, and the program reads what the kernel function would get.
-- tcp_v4_connect(sk, uaddr, addr_len) and connect(fd, addr, len) share
-- arguments 2 and 3; argument 2 is the destination (a struct sockaddr_in),
-- and it is the one to read at entry anyway, because tcp_v4_connect only
-- writes the destination into sk as it runs (the seed's prologue read sk
-- into a register it never used). One thing differs, and the builder takes
-- it as a parameter: the sockaddr lives in kernel memory for the kprobe
-- (probe_read_kernel) and in the process's memory for the uprobe
-- (probe_read_user). A test function taking a fake sk would exercise the
-- same instructions on made-up data; connect() gives real data.
-- The child is started first and waits; the program keeps the connects of
-- its process only (a pid test in the kernel), so other connects on a busy
-- machine can neither fill the ring nor keep the reader busy.
-- Needs: bpf, uprobe, luasocket (root; uprobes where kprobes are missing; LuaSocket)
-- Expect: verifier: 'tcp_connect' loaded as a kprobe program
-- Expect: comm=bash daddr=127.0.0.1
-- Expect: the event matches the child's connection: pid, tgid, comm, address, port
local e = require "ebpfdsl"
local socket = require "socket"
local d, s, kprobe = e.dsl, e.structs, e.kprobe

local AF_INET = 2

local Event = s.define("tcp_connect_event", {
  { "timestamp", "u64" },
  { "pid", "u32" },       -- the thread id (the low half of get_current_pid_tgid)
  { "tgid", "u32" },      -- the process id
  { "comm", "char", 16 },
  { "daddr", "u32" },     -- IPv4 address, in network byte order (as in memory)
  { "dport", "u16" },     -- port, in host byte order
  { "padding", "u16" },
})

-- The tracer. `read` is the helper that copies the sockaddr: "probe_read_kernel"
-- for tcp_v4_connect, "probe_read_user" for connect() in a process; only
-- the process `tgid` is traced.
local function tcp_connect_probe(events, read, tgid)
  return {
    -- r9 = the context (helper calls clobber r1), r7 = argument 2, uaddr.
    -- Arguments count from 1 here; clj-ebpf's prologue counted from 0.
    kprobe.prologue("r9", { { 2, "r7" } }),
    d.call("get_current_pid_tgid"), d.rsh("r0", 32),
    d.jne("r0", tgid, "out"), -- another process
    -- copy family, port and address (the first 8 bytes of sockaddr_in) to fp-8
    d.mov("r1", "fp"), d.add("r1", -8), d.mov("r2", 8), d.mov("r3", "r7"),
    d.call(read),
    d.jne("r0", 0, "out"),
    d.ldx("h", "r1", "fp", -8),
    d.jne("r1", AF_INET, "out"), -- IPv4 only (connect() also serves unix sockets)
    d.call("get_current_pid_tgid"), d.mov("r6", "r0"),
    d.call("ktime_get_ns"), d.mov("r7", "r0"),
    d.ringbuf_reserve("r8", events, Event:size()),
    d.jeq("r8", 0, "out"), -- a full ring: no record
    s.store_field("r8", Event, "timestamp", "r7"),
    s.store_field("r8", Event, "pid", "r6"), -- a 32-bit store keeps the low half
    d.rsh("r6", 32),
    s.store_field("r8", Event, "tgid", "r6"),
    d.ldx("w", "r1", "fp", -4),
    s.store_field("r8", Event, "daddr", "r1"),
    d.ldx("h", "r1", "fp", -6),
    d.be("r1", 16), -- network to host order (a swap on this little-endian machine)
    s.store_field("r8", Event, "dport", "r1"),
    s.store_imm("r8", Event, "padding", 0),
    s.field_addr("r1", "r8", Event, "comm"), d.mov("r2", Event:field_size("comm")),
    d.call("get_current_comm"),
    d.ringbuf_submit("r8"),
    d.label("out"),
    d.mov("r0", 0),
    d.exit(),
  }
end

-- programs.load takes a program description as it is
local function load(info)
  local prog, msg, _, log = e.programs.load(info)
  if not prog then error(msg .. "\n" .. tostring(log)) end
  return prog, info
end

-- the listener, and a child that connects to it once told to (bash's /dev/tcp)
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
port = math.tointeger(tonumber(port))
local said = os.tmpname()
local child = assert(io.popen(("exec bash -c 'echo $$ > %s; read go; "
  .. "exec 3<>/dev/tcp/127.0.0.1/%d && echo connected >> %s'"):format(said, port, said), "w"))
local function child_said()
  local f = io.open(said)
  local text = f and f:read("a") or ""
  if f then f:close() end
  return text
end
local child_pid
for _ = 1, 500 do
  child_pid = math.tointeger(tonumber(child_said():match("^(%d+)\n")))
  if child_pid then break end
  os.execute("sleep 0.01")
end
assert(child_pid, "the child did not start")

local events = assert(e.maps.ringbuf(64 * 1024))
print(Event)
local info = kprobe.program_info("tcp_v4_connect", "tcp_connect", tcp_connect_probe(events, "probe_read_kernel",
  child_pid))
local prog = load(info)
print(("verifier: '%s' loaded as a %s program (section %s)"):format(info.name, info.type, info.section))
local ok_btf, vmlinux = pcall(e.btf.vmlinux)
if ok_btf and vmlinux then print("  probes " .. vmlinux:func("tcp_v4_connect").decl) end

local link, why = prog:attach_kprobe("tcp_v4_connect")
if link then
  print("attached: " .. tostring(link))
else
  print("kprobe: " .. why)
  prog:close()
  info = e.uprobe.program_info("c", "connect", "tcp_connect", tcp_connect_probe(events, "probe_read_user", child_pid))
  prog = load(info)
  link = assert(prog:attach_uprobe { path = info.binary, symbol = info.target })
  print(("attached instead as a uprobe (section %s): %s"):format(info.section, link:target()))
end

-- now the child connects
child:write("go\n")
child:close() -- waits for it
assert(child_said():find("\nconnected\n"), "the child could not connect")
os.remove(said)
server:settimeout(5)
local conn = assert(server:accept())
local peer_ip, peer_port = conn:getpeername()
conn:close()
server:close()
print(("listener on 127.0.0.1:%d accepted %s:%s from bash (pid %d)"):format(port, peer_ip, peer_port, child_pid))

-- the child's IPv4 connects
local function ip(daddr) return ("%d.%d.%d.%d"):format(string.unpack("BBBB", string.pack("<I4", daddr))) end
local mine
local reader <close> = assert(e.ringbuf.reader { [events] = { layout = Event } })
for ev in reader:events(200) do
  print(("event: ts=%d pid=%d tgid=%d comm=%s daddr=%s dport=%d"):format(ev.timestamp, ev.pid, ev.tgid, ev.comm,
    ip(ev.daddr), ev.dport))
  if ev.tgid == child_pid then mine = ev end
end
link:detach()
assert(mine, "no event from the child")
assert(mine.pid == child_pid and mine.comm == "bash" and ip(mine.daddr) == "127.0.0.1" and mine.dport == port)
print("the event matches the child's connection: pid, tgid, comm, address, port")
