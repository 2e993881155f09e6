-- SPDX-License-Identifier: MIT
-- Internal (ebpfdsl.trace): command-line options as bcc's tools take them:
-- -p PID, -d SECONDS, -i SECONDS, -h, flags and positional arguments.
local ir = require "ebpfdsl._trace_ir"

local M = {}

local fail = ir.fail

-- parse(spec, argv, script) -> options table | nil, message, usage text.
-- spec: {"what the tool does", pid = true, duration = true, interval = true,
--        flags = {{"m", "ms", "print milliseconds"}}, args = {"NAME", ...}}
function M.parse(spec, argv, script)
  local usage = { "usage: " .. script }
  local lines = {}
  if spec.pid then
    usage[#usage + 1] = "[-p PID]"
    lines[#lines + 1] = "  -p PID      trace this process only"
  end
  if spec.duration then
    usage[#usage + 1] = "[-d SECONDS]"
    lines[#lines + 1] = "  -d SECONDS  trace for this long, then print and exit (default: until Ctrl-C)"
  end
  if spec.interval then
    usage[#usage + 1] = "[-i SECONDS]"
    lines[#lines + 1] = "  -i SECONDS  print every SECONDS seconds"
  end
  local flags = {}
  for _, f in ipairs(spec.flags or {}) do
    if type(f) ~= "table" or type(f[1]) ~= "string" or #f[1] ~= 1 then
      fail("trace.options: a flag is {\"letter\", \"name\", \"help\"}")
    end
    flags[f[1]] = f
    usage[#usage + 1] = "[-" .. f[1] .. "]"
    lines[#lines + 1] = ("  -%s          %s"):format(f[1], f[3] or f[2])
  end
  usage[#usage + 1] = "[-h]"
  for _, a in ipairs(spec.args or {}) do usage[#usage + 1] = a end
  lines[#lines + 1] = "  -h          show this help and exit"
  local text = table.concat(usage, " ") .. "\n" .. (spec[1] and (spec[1] .. "\n") or "") .. table.concat(lines, "\n")
    .. "\n"

  local o = { args = {} }
  local i = 1
  local function number(flag, what)
    local s = argv[i + 1]
    local n = tonumber(s)
    if not n then return nil, ("%s needs %s, got %s"):format(flag, what, s and ("'" .. s .. "'") or "nothing") end
    i = i + 1
    return n
  end
  while i <= #argv do
    local a = argv[i]
    local err
    if a == "-h" or a == "--help" then
      o.help = true
    elseif a == "-p" and spec.pid then
      o.pid, err = number("-p", "a process id")
      if o.pid and (math.tointeger(o.pid) == nil or o.pid <= 0) then err = "-p needs a process id" end
    elseif a == "-d" and spec.duration then
      o.duration, err = number("-d", "a number of seconds")
      if o.duration and o.duration <= 0 then err = "-d needs a positive number of seconds" end
    elseif a == "-i" and spec.interval then
      o.interval, err = number("-i", "a number of seconds")
      if o.interval and o.interval <= 0 then err = "-i needs a positive number of seconds" end
    elseif a:match("^%-%a$") and flags[a:sub(2)] then
      o[flags[a:sub(2)][2]] = true
    elseif a:sub(1, 1) == "-" and #a > 1 then
      err = "unknown option " .. a
    else
      o.args[#o.args + 1] = a
    end
    if err then return nil, err, text end
    i = i + 1
  end
  if not o.help then
    local want = #(spec.args or {})
    if #o.args ~= want then
      return nil, want == 0 and ("unexpected argument '" .. tostring(o.args[1]) .. "'")
        or ("expected %d argument%s (%s)"):format(want, want == 1 and "" or "s", table.concat(spec.args, " ")), text
    end
    for k, name in ipairs(spec.args or {}) do o[name:lower():gsub("[^%w]+", "_")] = o.args[k] end
  end
  return o, nil, text
end

return M
