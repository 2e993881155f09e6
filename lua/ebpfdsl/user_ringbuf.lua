-- SPDX-License-Identifier: MIT
-- Writing into a user_ringbuf map, the ring a BPF program drains with
-- bpf_user_ringbuf_drain: user_ringbuf.producer(map[, {layout=}]).
local core = require "ebpfdsl.core"
local errors = require "ebpfdsl._errors"

local M = {}

local raise = errors.outside_file(debug.getinfo(1, "S").source, true)

-- producer(map[, {layout = L}]) -> ebpfdsl.UserRingBuf | nil, message,
-- errno. map: a user_ringbuf map (maps.user_ringbuf(size)), or its fd.
-- p:write(record[, timeout_ms]) writes one record: bytes, or a table the
-- layout encodes; p:size(), p:close().
function M.producer(map, opts)
  opts = opts or {}
  if type(opts) ~= "table" then raise("user_ringbuf.producer: options must be a table {layout=}") end
  for k in pairs(opts) do
    if k ~= "layout" then raise(("user_ringbuf.producer: unknown option '%s'"):format(tostring(k))) end
  end
  local ok, p, msg, errno = pcall(core.user_ringbuf_new, map, opts.layout)
  if not ok then raise((tostring(p):gsub("^[^:]*:%d+: ", ""))) end
  return p, msg, errno
end

return M
