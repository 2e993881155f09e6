-- SPDX-License-Identifier: MIT
-- Socket filters end to end: a filter on a loopback UDP socket drops
-- exactly the datagrams whose first payload byte is 'X', observed by what
-- the socket receives; links detach on :detach(), <close> and collection.
local env = require "support.env"
local net = require "support.net"

local NEEDS = { "bpf", "luasocket" }

local function load_filter(e)
  local d = e.dsl
  -- a UDP socket's filter sees the datagram from its UDP header: the
  -- payload starts at byte 8
  return assert(e.programs.load{ type = "socket_filter", name = "drop_x", insns = {
    d.mov("r6", "r1"),
    d.ld_abs("b", 8),
    d.jeq("r0", string.byte("X"), "drop"),
    d.mov("r0", -1), -- keep the whole datagram
    d.exit(),
    d.label("drop"),
    d.mov("r0", 0),
    d.exit(),
  } })
end

local function pair()
  local socket = require "socket"
  local rx = assert(socket.udp())
  assert(rx:setsockname("127.0.0.1", 0))
  rx:settimeout(0.2)
  local _, port = rx:getsockname()
  local tx = assert(socket.udp())
  assert(tx:setpeername("127.0.0.1", port))
  return rx, tx
end

-- sends each payload, then returns what arrived, in order
local function exchange(rx, tx, payloads)
  for _, p in ipairs(payloads) do assert(tx:send(p)) end
  return net.receive_all(rx)
end

describe("prog:attach_socket", function()
  env.it("drops exactly the datagrams the filter rejects, until detached", NEEDS, function()
    local e = require "ebpfdsl"
    local rx, tx = pair()
    local payloads = { "A1", "X2", "B3", "X4", "XX5", "C6", "xlower7" }
    -- without a filter everything arrives: the oracle for the exchange
    assert.same(payloads, exchange(rx, tx, payloads))
    local prog = load_filter(e)
    local link = assert(prog:attach_socket(rx)) -- LuaSocket: through :getfd()
    assert.equal("socket_filter", link:kind())
    assert.matches("^ebpfdsl.Link socket_filter socket fd %d+ %(prog 'drop_x'%)$", tostring(link))
    assert.same({ "A1", "B3", "C6", "xlower7" }, exchange(rx, tx, payloads))
    link:detach()
    assert.same(payloads, exchange(rx, tx, payloads))
    assert.matches("closed", tostring(link))
    assert.has_error(function() link:fd() end, "attempt to use a closed ebpfdsl.Link")
    link:detach() -- idempotent
    rx:close()
    tx:close()
  end)

  env.it("takes a plain integer fd, and the link keeps its program alive", NEEDS, function()
    local e = require "ebpfdsl"
    local rx, tx = pair()
    local link = assert(load_filter(e):attach_socket(math.tointeger(rx:getfd())))
    collectgarbage()
    collectgarbage() -- the Prog is referenced only by the link now
    assert.equal("drop_x", link:prog():name())
    assert.same({ "ok" }, exchange(rx, tx, { "Xno", "ok" }))
    do
      local scoped <close> = link
      assert.equal(link, scoped)
    end
    assert.same({ "Xno", "ok" }, exchange(rx, tx, { "Xno", "ok" }))
    rx:close()
    tx:close()
  end)

  env.it("detaches on collection of the link", NEEDS, function()
    local e = require "ebpfdsl"
    local rx, tx = pair()
    do
      local link = assert(load_filter(e):attach_socket(rx))
      assert.same({}, exchange(rx, tx, { "X" }))
      assert.equal("socket_filter", link:kind())
    end
    collectgarbage()
    collectgarbage()
    assert.same({ "X" }, exchange(rx, tx, { "X" }))
    rx:close()
    tx:close()
  end)

  env.it("detaching after the socket was closed is harmless, even to a socket that took its fd number", NEEDS,
    function()
    local e = require "ebpfdsl"
    collectgarbage()
    collectgarbage() -- no collected socket frees a lower fd number below
    local rx, tx = pair()
    local link = assert(load_filter(e):attach_socket(rx))
    local fd = rx:getfd()
    rx:close()
    tx:close()
    -- a new socket takes the lowest free fd number: the closed one's
    local rx2, tx2 = pair()
    assert.equal(fd, rx2:getfd())
    local other = assert(load_filter(e):attach_socket(rx2))
    link:detach()
    assert.equal("ebpfdsl.Link (closed)", tostring(link))
    assert.has_error(function() link:fd() end, "attempt to use a closed ebpfdsl.Link")
    assert.same({ "A1", "B3" }, exchange(rx2, tx2, { "A1", "X2", "B3" })) -- its filter is still there
    other:detach()
    assert.same({ "A1", "X2" }, exchange(rx2, tx2, { "A1", "X2" }))
    rx2:close()
    tx2:close()
  end)

  env.it("says why an attach fails", NEEDS, function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local rx, tx = pair()
    local prog = load_filter(e)
    -- a program's fd is no socket
    local l, msg, errno = prog:attach_socket(prog:fd())
    assert.is_nil(l)
    assert.matches("socket filter on fd %d+: not a socket", msg)
    assert.equal(88, errno) -- ENOTSOCK
    -- an XDP program cannot filter a socket
    local xdp = assert(e.programs.load{ type = "xdp", insns = { d.mov("r0", 2), d.exit() } })
    l, msg = xdp:attach_socket(rx)
    assert.is_nil(l)
    assert.matches("SO_ATTACH_BPF refused %(a socket_filter program is needed%)", msg)
    assert.has_error(function() prog:attach_socket("nope") end)
    prog:close()
    assert.has_error(function() prog:attach_socket(rx) end, "attempt to use a closed ebpfdsl.Prog")
    rx:close()
    tx:close()
  end)
end)
