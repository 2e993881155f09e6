-- SPDX-License-Identifier: MIT
-- Network fixtures for attach specs: a veth pair between this namespace
-- and a fresh network namespace, torn down even when a spec fails, and
-- UDP exchanges across it observed with LuaSocket on both sides.
local env = require "support.env"

local M = {}

-- this process, read once: Lua has no getpid
local PID = math.tointeger(io.open("/proc/self/stat"):read("n"))

local seq = 0

-- M.netns(name) -> {ns=, path=, down=fn}: a fresh network namespace with
-- its loopback up. Call :down() (busted's finally) to remove it.
function M.netns(name)
  local t = { ns = name, path = "/run/netns/" .. name }
  function t.down() os.execute("ip netns del " .. t.ns .. " >/dev/null 2>&1") end
  local ok, err = pcall(env.run, ("ip netns add %s && ip -n %s link set lo up"):format(name, name))
  if not ok then
    t.down()
    error(err, 2)
  end
  return t
end

-- M.veth() -> {ns=, path=, host_if=, ns_if=, host_ip=, ns_ip=, ifindex=, down=fn}
-- Call :down() (busted's finally) to remove it; removing the namespace
-- removes both ends of the pair.
function M.veth()
  seq = seq + 1
  -- names and a /24 of this process's own, so suites running side by
  -- side never share an interface name or an address
  local id = ("%d_%d"):format(PID, seq)
  local t = M.netns("ebpfdsl_" .. id)
  local ns_down = t.down
  t.host_if = ("eh%x_%d"):format(PID, seq)   -- at most 15 characters
  t.ns_if = ("en%x_%d"):format(PID, seq)
  local n = (PID * 7 + seq) % 230 + 20        -- 10.213.0.0/16 only
  t.host_ip = ("10.213.%d.1"):format(n)
  t.ns_ip = ("10.213.%d.2"):format(n)
  function t.down()
    ns_down()
    os.execute("ip link del " .. t.host_if .. " >/dev/null 2>&1")
  end
  local ok, err = pcall(function()
    env.run(("ip link add %s type veth peer name %s netns %s"):format(t.host_if, t.ns_if, t.ns))
    env.run(("ip addr add %s/24 dev %s && ip link set %s up"):format(t.host_ip, t.host_if, t.host_if))
    env.run(("ip -n %s addr add %s/24 dev %s && ip -n %s link set %s up"):format(t.ns, t.ns_ip, t.ns_if, t.ns, t.ns_if))
  end)
  if not ok then
    t.down()
    error(err, 2)
  end
  t.ifindex = tonumber(env.run("cat /sys/class/net/" .. t.host_if .. "/ifindex"))
  return t
end

-- Everything the socket receives until its timeout, in order.
function M.receive_all(sock)
  local got = {}
  while true do
    local m = sock:receive()
    if not m then break end
    got[#got + 1] = m
  end
  return got
end

local function lua_cmd(code)
  return ("lua5.4 -e %q"):format(code)
end

local function quote_list(list)
  local q = {}
  for i, p in ipairs(list) do q[i] = ("%q"):format(p) end
  return "{" .. table.concat(q, ",") .. "}"
end

-- Sends payloads from inside the namespace to host_ip:port; returns what
-- a socket bound here received, in order.
function M.into_host(t, payloads)
  local socket = require "socket"
  local rx = assert(socket.udp())
  assert(rx:setsockname(t.host_ip, 0))
  rx:settimeout(0.3)
  local _, port = rx:getsockname()
  local code = ([[local s = require"socket".udp() assert(s:setpeername(%q, %d))
    for _, p in ipairs(%s) do assert(s:send(p)) end]]):format(t.host_ip, port, quote_list(payloads))
  env.run(("ip netns exec %s %s"):format(t.ns, lua_cmd(code)))
  local got = M.receive_all(rx)
  rx:close()
  return got
end

-- Sends payloads from here to a socket inside the namespace; returns what
-- it received, in order.
function M.into_ns(t, payloads)
  local socket = require "socket"
  local code = ([[local s = require"socket".udp() assert(s:setsockname(%q, 0)) s:settimeout(0.5)
    local _, port = s:getsockname() io.write(port, "\n") io.flush()
    while true do local m = s:receive() if not m then break end io.write(m, "\n") io.flush() end]])
    :format(t.ns_ip)
  local p = assert(io.popen(("ip netns exec %s %s"):format(t.ns, lua_cmd(code)), "r"))
  local port = tonumber(p:read("l"))
  assert(port, "the receiver in the namespace did not start")
  local tx = assert(socket.udp())
  assert(tx:setpeername(t.ns_ip, port))
  for _, pl in ipairs(payloads) do assert(tx:send(pl)) end
  tx:close()
  local got = {}
  for line in p:lines() do got[#got + 1] = line end
  p:close()
  return got
end

return M
