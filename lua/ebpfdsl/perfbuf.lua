-- SPDX-License-Identifier: MIT
-- Reading perf event arrays: perfbuf.reader(map, handler, {pages=, lost=,
-- layout=}) gives an ebpfdsl.PerfBuf with one buffer per CPU.
local core = require "ebpfdsl.core"

local M = {}

-- perfbuf.reader(map, handler[, opts]) -> ebpfdsl.PerfBuf | nil, message, errno
-- handler(cpu, sample): sample is the bytes bpf_perf_event_output wrote
-- (padded by the kernel so that their length + 4 is a multiple of 8), or
-- what opts.layout:decode gives. opts.pages: data pages per CPU, a power
-- of 2 (default 8). opts.lost(cpu, n): the kernel dropped n samples on cpu.
function M.reader(map, handler, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("perfbuf.reader: opts must be a table, got " .. type(opts), 2) end
  local ok, r, msg, errno = pcall(core.perfbuf_reader, map, handler, opts)
  if not ok then error(r, 2) end
  return r, msg, errno
end

return M
