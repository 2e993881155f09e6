-- SPDX-License-Identifier: MIT
-- Reading ring buffers: ringbuf.reader{[map] = handler, [map2] = {layout =
-- E, handler = fn, lost = loss_map}} gives an ebpfdsl.RingBuf.
local core = require "ebpfdsl.core"

local M = {}

-- the fields of a ring's spec and the reader's options are the rows of
-- csrc/lua/lua_ringbuf.c, checked by core.ringbuf_ring_check and
-- core.ringbuf_reader_check

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and mt.__call ~= nil
end

-- An fd as every fd argument takes one (an integer, a Map, an io file, an
-- object with :getfd()), or nil and why not.
local function fd_of(map)
  local ok, fd = pcall(core.tofd, map, "fd")
  if ok then return fd end
  return nil, (tostring(fd):gsub("^fd: ", ""))
end

-- One ring of the spec: its entry for core.ringbuf_reader.
local function ring_entry(map, v)
  local fd, why = fd_of(map)
  if not fd then
    error(("ringbuf.reader: the keys must be ring buffer maps (or fds), got %s (%s)"):format(tostring(map), why), 3)
  end
  local entry = { map = map, fd = fd }
  if callable(v) then
    entry.handler = v
  elseif type(v) == "table" then
    local unknown = core.ringbuf_ring_check(v)
    if unknown then error(unknown, 3) end
    if v.handler ~= nil and not callable(v.handler) then
      error("ringbuf.reader: handler must be a function, got " .. type(v.handler), 3)
    end
    entry.handler, entry.layout, entry.lost, entry.mode = v.handler, v.layout, v.lost, v.mode
  else
    error("ringbuf.reader: expected a handler or {handler =, layout =, lost =} for " .. tostring(map) ..
      ", got " .. type(v), 3)
  end
  return entry
end

-- ringbuf.reader(spec) -> ebpfdsl.RingBuf | nil, message, errno
-- spec: {[map] = handler} or {[map] = {handler = fn, layout = E, mode = m,
-- lost = lm}} where map is a ring buffer map (an object with :fd(), or an
-- fd), handler gets each record (bytes, or the table E:decode gives; mode
-- picks another form, docs/readers.md), lost is a loss map that r:lost()
-- reads. A ring without handler is read with r:events(), r:poll_batch()
-- r:poll_columns() or r:poll_chunk(). String keys are options of the reader:
-- poll_interval = ms looks at the rings every ms while a poll waits.
function M.reader(spec)
  if type(spec) ~= "table" then
    error("ringbuf.reader: expected a table {[map] = handler or {handler =, layout =, lost =}}, got " ..
      type(spec), 2)
  end
  local list, opts = {}, nil
  for map, v in pairs(spec) do
    if type(map) == "string" then -- an option; no map or fd is a string
      opts = opts or {}
      opts[map] = v
    else
      list[#list + 1] = ring_entry(map, v)
    end
  end
  local unknown = opts and core.ringbuf_reader_check(opts)
  if unknown then error(unknown .. "; the other keys must be ring buffer maps (or fds)", 2) end
  if #list == 0 then error("ringbuf.reader: no ring buffer given", 2) end
  -- ring order by fd, so that a reader over the same maps is the same reader
  table.sort(list, function(a, b) return a.fd < b.fd end)
  -- argument errors raised in C blame the caller's line, as the ones above do
  local ok, r, msg, errno = pcall(core.ringbuf_reader, list, opts)
  if not ok then error(r, 2) end
  return r, msg, errno
end

return M
