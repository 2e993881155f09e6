-- SPDX-License-Identifier: MIT
-- The producer the ring-buffer benches share: a program that reserves one
-- 32-byte event (ts, tid, pid, comm[16]) in `ring`, fills it and submits.
local dsl = require "ebpfdsl.dsl"
local structs = require "ebpfdsl.structs"

local M = {}

M.Event = structs.define("event", { { "ts", "u64" }, { "tid", "u32" }, { "pid", "u32" }, { "comm", "char", 16 } })

function M.insns(ring)
  local E = M.Event
  return {
    dsl.ld_map_fd("r1", ring), dsl.mov("r2", E:size()), dsl.mov("r3", 0), dsl.call("ringbuf_reserve"),
    dsl.jeq("r0", 0, "out"),
    dsl.mov("r6", "r0"),
    dsl.call("ktime_get_ns"), dsl.stx("dw", "r6", E:offset("ts"), "r0"),
    dsl.call("get_current_pid_tgid"), dsl.stx("w", "r6", E:offset("tid"), "r0"),
    dsl.rsh("r0", 32), dsl.stx("w", "r6", E:offset("pid"), "r0"),
    dsl.mov("r1", "r6"), dsl.add("r1", E:offset("comm")), dsl.mov("r2", 16), dsl.call("get_current_comm"),
    dsl.mov("r1", "r6"), dsl.mov("r2", 0), dsl.call("ringbuf_submit"),
    dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
  }
end

return M
