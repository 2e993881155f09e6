#!/usr/bin/env lua5.4
-- SPDX-License-Identifier: MIT
-- tcpconnect: each TCP connect (its SYN about to go): pid, command, family,
-- addresses and port. Where the kernel has kprobes, from the socket that
-- tcp_connect() gets (tcp_v4_connect and tcp_v6_connect call it with the
-- addresses filled in); else, or with -t, from sock:inet_sock_set_state.
-- Run from the repository root after make: lua5.4 tools/tcpconnect.lua [-p PID] [-d SECONDS] [-t] [-h]
package.path, package.cpath = "lua/?.lua;" .. package.path, "build/?.so;" .. package.cpath
local T = require "ebpfdsl.trace"
local o = T.options { "tcpconnect: TCP connects", pid = true, duration = true, flags = { { "t", "tp", "tracepoint" } } }
local FMT = "%-7s %-16s %-2s %-16s %-16s %s"
local function show(p, ip, s, d, port) T.printf(FMT .. "\n", p.pid, p.comm, ip, T.ntop(s), T.ntop(d), port) end
if T.has("kprobe") and not o.tp then
  T.kprobe("tcp_connect", function(p)
    local c = p.args.sk.__sk_common
    local port = T.bswap(c.skc_dport) -- (in network order)
    T.when(c.skc_family:eq(2), function() show(p, 4, c.skc_rcv_saddr, c.skc_daddr, port) end,
      function() show(p, 6, c.skc_v6_rcv_saddr, c.skc_v6_daddr, port) end)
  end)
else -- a TCP socket from CLOSE to SYN_SENT
  T.tracepoint("sock:inet_sock_set_state", function(p)
    T.filter(p.args.protocol:eq(6) & p.args.oldstate:eq(7) & p.args.newstate:eq(2))
    T.when(p.args.family:eq(2), function() show(p, 4, p.args.saddr, p.args.daddr, p.args.dport) end,
      function() show(p, 6, p.args.saddr_v6, p.args.daddr_v6, p.args.dport) end)
  end)
end
T.run(o, { header = FMT:format("PID", "COMM", "IP", "SADDR", "DADDR", "DPORT") })
