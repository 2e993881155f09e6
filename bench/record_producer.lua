-- SPDX-License-Identifier: MIT
-- The record the ring-buffer benches drain, {u64 ts; u32 pid; u32 tgid;
-- u64 counter; u64 arg} (32 bytes, as in issue 9's measurements), and a
-- program that reserves one in `ring`, fills it and submits it, counting
-- records in entry 0 of `counter` (an array map of one u64).
local dsl = require "ebpfdsl.dsl"
local structs = require "ebpfdsl.structs"

local M = {}

M.Record = structs.define("record", {
  { "ts", "u64" }, { "pid", "u32" }, { "tgid", "u32" }, { "counter", "u64" }, { "arg", "u64" },
})

-- flags: submit's wakeup flag (nil, "no_wakeup").
function M.insns(ring, counter, flags)
  local R = M.Record
  return {
    dsl.st("w", "fp", -4, 0),
    dsl.ld_map_fd("r1", counter), dsl.mov("r2", "fp"), dsl.add("r2", -4), dsl.call("map_lookup_elem"),
    dsl.jeq("r0", 0, "out"),
    dsl.mov("r7", 1), dsl.atomic_fetch_add("dw", "r0", 0, "r7"), -- r7 = this record's number
    dsl.ringbuf_reserve("r6", ring, R:size()),
    dsl.jeq("r6", 0, "out"),
    dsl.stx("dw", "r6", R:offset("counter"), "r7"),
    dsl.call("ktime_get_ns"), dsl.stx("dw", "r6", R:offset("ts"), "r0"),
    dsl.call("get_current_pid_tgid"), dsl.stx("w", "r6", R:offset("pid"), "r0"),
    dsl.rsh("r0", 32), dsl.stx("w", "r6", R:offset("tgid"), "r0"),
    dsl.call("get_prandom_u32"), dsl.stx("dw", "r6", R:offset("arg"), "r0"),
    dsl.ringbuf_submit("r6", flags),
    dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
  }
end

return M
