-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): the runner: build, attach, print the header,
-- poll the ring buffer (output to stdout, flushed after each batch), run
-- the user-space hooks, and at the end of the duration or on Ctrl-C detach
-- everything, drain what is left, print the maps as bpftrace does and the
-- number of lost records, and return.
local core = require "ebpfdsl.core"
local maps = require "ebpfdsl._trace_maps"
local ir = require "ebpfdsl._trace_ir"

local M = {}

local EINTR = 4

local RUN_FIELDS = { pid = true, duration = true, interval = true, on_event = true, header = true, ring = true,
                     top = true, print = true, args = true, cpu = true, keys = true, stacks = true }

-- Output goes to io.output() (stdout unless the caller chose another
-- file), flushed after each batch; lost records are counted on stderr.

-- The maps as bpftrace prints them at exit (two blank lines, then each
-- map by name), or every interval (each map as print(@name) writes it).
local function print_maps(st, opts, at_exit)
  if opts.print == false then return end
  if type(opts.print) == "function" then return opts.print() end
  -- print = {"usecs", T.maps.other}: those maps only
  local only
  if type(opts.print) == "table" then
    only = {}
    for _, m in ipairs(opts.print) do only[type(m) == "string" and m or m:name()] = true end
  end
  local list = {}
  for _, m in ipairs(st.map_order) do
    if only and not only[m:name()] then goto continue end
    local name, entries, kind, o = maps.report_args(m, { top = opts.top })
    list[#list + 1] = { name = name, entries = entries, kind = kind, opts = o }
    ::continue::
  end
  if #list == 0 then return end
  local report = require "ebpfdsl.report"
  if at_exit then
    io.write(report.at_exit(list))
  else
    -- each as print(@name) writes it; empty ones (cleared) are left out
    for _, l in ipairs(list) do
      if #l.entries > 0 then io.write(report.map(l.name, l.entries, l.kind, l.opts)) end
    end
  end
end

function M.run(S, st, opts)
  for k in pairs(opts) do
    if not RUN_FIELDS[k] and type(k) ~= "number" then
      ir.fail(("trace: T.run: unknown option '%s' (pid, duration, interval, on_event, header, ring, keys, " ..
        "stacks, top, print)")
        :format(tostring(k)))
    end
  end
  if opts.on_event ~= nil and type(opts.on_event) ~= "function" then
    ir.fail("trace: T.run: on_event must be a function")
  end
  local pt = type(opts.print)
  if opts.print ~= nil and pt ~= "boolean" and pt ~= "function" and pt ~= "table" then
    ir.fail("trace: T.run: print is false, a function, or a list of maps (or their names)")
  end
  S.start(opts)
  local out = st.out
  local handler, layout = out:handler(opts.on_event)
  local ring = { handler = handler, layout = layout }
  if out.loss then ring.lost = out.loss end
  local rings = { [out:ring()] = ring }
  if out.exits then rings[out:ctl_ring()] = function() st.stop_requested = true end end
  local reader, msg = require("ebpfdsl.ringbuf").reader(rings)
  if not reader then
    S.stop()
    error("trace: reading the ring buffer: " .. tostring(msg), 0)
  end
  if opts.header then io.write(opts.header, "\n") end
  io.output():flush()

  local now = core.monotime_ns
  local start = now()
  local deadline = opts.duration and start + math.floor(opts.duration * 1e9)
  local timers = {}
  for _, h in ipairs(st.users.interval) do
    timers[#timers + 1] = { period = math.floor(h.seconds * 1e9), fn = h.fn }
  end
  if opts.interval then
    timers[#timers + 1] = { period = math.floor(opts.interval * 1e9), fn = function()
      print_maps(st, opts)
      for _, m in ipairs(st.map_order) do m:clear() end
    end }
  end
  -- user stacks are named from their processes' memory maps: read those
  -- while the processes live
  for _, m in ipairs(st.map_order) do
    for _, c in ipairs(m[require("ebpfdsl._trace_value").K].comps or {}) do
      if c.kind == "ustack" and not st.remembering then
        st.remembering = true
        timers[#timers + 1] = { period = 100000000, fn = function() require("ebpfdsl._trace_format").remember(st) end }
      end
    end
  end
  for _, t in ipairs(timers) do t.next = start + t.period end

  local ok, err = pcall(function()
    for _, h in ipairs(st.users.begin) do h.fn() end
    io.output():flush()
    while not st.stop_requested do
      local t = now()
      if deadline and t >= deadline then break end
      local wake = deadline
      for _, tm in ipairs(timers) do
        if t >= tm.next then
          tm.fn()
          io.output():flush()
          tm.next = tm.next + tm.period
          if tm.next <= t then tm.next = t + tm.period end
        end
        if not wake or tm.next < wake then wake = tm.next end
      end
      local timeout = wake and math.max(0, (wake - t + 999999) // 1000000) or -1
      local n, pmsg, errno = reader:poll(timeout)
      if not n and errno ~= EINTR then error(pmsg, 0) end
      if n and n > 0 then io.output():flush() end
      if st.stop_requested then break end
    end
  end)
  S.stop()
  -- what the rings still hold arrived before the detach
  local drained, derr = pcall(reader.consume, reader)
  io.output():flush()
  local interrupted = not ok and tostring(err):find("interrupted!$") ~= nil
  if ok or interrupted then
    for _, h in ipairs(st.users.finish) do h.fn() end
    print_maps(st, opts, true)
    local lost = out.loss and reader:lost() or 0
    if lost > 0 then io.stderr:write(("Lost %d events\n"):format(lost)) end
  end
  io.output():flush()
  reader:close()
  if not ok and not interrupted then error(err, 0) end
  if not drained then error(derr, 0) end
  return S
end

return M
