-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): user-space text for values a program stored as
-- numbers or bytes: syscall names, kernel symbols, stacks (through
-- ebpfdsl.symbols), IP addresses; and printf outside probe bodies.
local output = require "ebpfdsl._trace_output"
local value = require "ebpfdsl._trace_value"
local ir = require "ebpfdsl._trace_ir"

local M = {}

local function symbols() return require "ebpfdsl.symbols" end

-- The addresses a stack id names in the stack map, cut at the first 0.
local function stack_addrs(st, id)
  if type(id) ~= "number" or id < 0 or not st.stacks then return {} end
  local bytes = st.stacks:lookup(id)
  if not bytes then return {} end
  local addrs = {}
  for i = 1, #bytes // 8 do
    local a = string.unpack("=I8", bytes, 8 * (i - 1) + 1)
    if a == 0 then break end
    addrs[#addrs + 1] = a
  end
  return addrs
end

local function ntop(b)
  if type(b) ~= "string" then return tostring(b) end
  if #b == 4 then return ("%d.%d.%d.%d"):format(b:byte(1, 4)) end
  if #b == 16 then
    local words = {}
    for i = 1, 8 do words[i] = ("%x"):format(string.unpack(">I2", b, 2 * i - 1)) end
    -- the longest run of zero words becomes ::
    local best, len, at, run = nil, 1, nil, 0
    for i = 1, 9 do
      if i <= 8 and words[i] == "0" then
        if run == 0 then at = i end
        run = run + 1
      else
        if run > len then best, len = at, run end
        run = 0
      end
    end
    -- as inet_ntop: an IPv4-compatible or -mapped address ends in dotted form
    local v4 = best == 1 and (len == 6 or (len == 5 and words[6] == "ffff"))
    if v4 then
      return "::" .. (len == 5 and "ffff:" or "") .. ("%d.%d.%d.%d"):format(b:byte(13, 16))
    end
    if not best then return table.concat(words, ":") end
    local head = table.concat(words, ":", 1, best - 1)
    local tail = table.concat(words, ":", best + len, 8)
    return head .. "::" .. tail
  end
  return (b:gsub(".", function(c) return ("\\x%02x"):format(c:byte()) end))
end
M.ntop = ntop

local FORMAT = {
  syscall = function(_, v) return symbols().syscall_name(v) or tostring(v) end,
  ksym = function(_, v)
    local s = symbols().kernel():resolve(v)
    return s and s.name or ("0x%x"):format(v)
  end,
  -- stacks: indented by 4 in a map key, by 8 in printf (as bpftrace)
  kstack = function(st, v, where)
    local S = symbols()
    return S.format_stack(S.stack(stack_addrs(st, v), S.kernel()), { indent = where == "key" and 4 or 8 })
  end,
  ustack = function(st, v, where)
    local S = symbols()
    return S.format_stack(S.stack(stack_addrs(st, v.id), M.process(st, v.pid)), { indent = where == "key" and 4 or 8 })
  end,
  ntop = function(_, v) return ntop(v) end,
  -- join: slots of `len` bytes, each a string cut at its NUL, up to the
  -- first empty one, joined by spaces
  join = function(_, v, _, len)
    local parts = {}
    for i = 1, #v, len do
      local s = v:sub(i, i + len - 1):match("^[^%z]*")
      if s == "" then break end
      parts[#parts + 1] = s
    end
    return table.concat(parts, " ")
  end,
}

-- A process's symbolizer, kept once made: a process that has exited can no
-- longer be read, so the runner asks early (M.remember) for those it sees.
function M.process(st, pid)
  st.symbolizers = st.symbolizers or {}
  local s = st.symbolizers[pid]
  if s == nil then
    s = symbols().process(pid) or false
    st.symbolizers[pid] = s
  end
  return s or nil
end

-- remember(st): makes a symbolizer now for every process that a user
-- stack in a map names, while it still runs.
function M.remember(st)
  for _, m in ipairs(st.map_order) do
    local d = m[value.K]
    if d.bpf and d.comps then
      for i, c in ipairs(d.comps) do
        if c.kind == "ustack" then
          for k in d.bpf:pairs() do M.process(st, k["k" .. i .. "pid"]) end
        end
      end
    end
  end
end

-- format(st, "name[:arg]", v, where) -> text; where is "key", "printf" or
-- "event".
function M.format(st, name, v, where)
  local base, arg = name:match("^([%w_]+):?(%d*)$")
  local f = FORMAT[base]
  if not f then return tostring(v) end
  return f(st, v, where, tonumber(arg))
end

-- printf(fmt, ...) in user space (begin, finish, interval hooks): the text,
-- formatted as a probe's printf would format it.
function M.printf(fmt, ...)
  if type(fmt) ~= "string" then ir.fail("trace: printf: the format must be a Lua string") end
  local pieces = output.parse_format(fmt)
  local out, n = {}, 0
  for i, p in ipairs(pieces) do
    if p.lit then
      out[i] = p.lit
    else
      n = n + 1
      local v = select(n, ...)
      if value.is(v) then ir.fail("trace: a probe's value is printed inside its body") end
      out[i] = output.format_one(p, v)
    end
  end
  return table.concat(out)
end

return M
