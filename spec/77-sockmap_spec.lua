-- SPDX-License-Identifier: MIT
-- sk_msg and sk_skb programs on sockmaps and sockhashes, with real TCP
-- connections on loopback: a verdict that drops what a sender sends (the
-- sender is refused, the peer gets nothing), one that redirects a message
-- into another connection (that connection's reader gets it), an sk_skb
-- verdict that drops what arrives; links as the kernel reports them.
local env = require "support.env"

local ebpf = require "ebpfdsl"
local d = ebpf.dsl

local NEEDS = { "bpf", "luasocket", "attach:sockmap" }

-- Two ends of a fresh TCP connection on loopback: client, server side.
local function connection(srv, port)
  local socket = require "socket"
  local c = assert(socket.connect("127.0.0.1", port))
  local s = assert(srv:accept())
  c:settimeout(0.3)
  s:settimeout(0.3)
  return c, s
end

-- What a receive gives when nothing came: nil, "timeout" and no partial line.
local function nothing(sock)
  local line, err, partial = sock:receive()
  assert.is_nil(line)
  assert.equal("timeout", err)
  assert.equal("", partial)
end

local function listener()
  local socket = require "socket"
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  return srv, port
end

-- sk_msg: drop a message whose first byte is 'X', pass the others
local function drop_x()
  return assert(ebpf.programs.load { type = "sk_msg", name = "drop_x", insns = {
    d.ldx("dw", "r2", "r1", 0), -- msg->data
    d.ldx("dw", "r3", "r1", 8), -- msg->data_end
    d.mov("r4", "r2"), d.add("r4", 1),
    d.jgt("r4", "r3", "pass"),
    d.ldx("b", "r5", "r2", 0),
    d.jeq("r5", string.byte("X"), "drop"),
    d.label("pass"), d.mov("r0", 1), d.exit(), -- SK_PASS
    d.label("drop"), d.mov("r0", 0), d.exit(), -- SK_DROP
  } })
end

describe("prog:attach_sockmap", function()
  env.it("an sk_msg verdict drops what the sender sends: refused, and the peer gets nothing", NEEDS, function()
    local m <close> = assert(ebpf.maps.sockmap { max_entries = 2, name = "drop_socks" })
    local prog = drop_x()
    local link <close> = assert(prog:attach_sockmap(m))
    assert.equal("sockmap", link:kind())
    assert.matches("^ebpfdsl.Link sockmap map 'drop_socks' %(id %d+%) sk_msg_verdict %(prog 'drop_x', fd=%d+%)$",
      tostring(link))
    local info = link:info()
    assert.equal("sockmap", info.type)
    assert.equal(prog:info().id, info.prog_id)
    local srv, port = listener()
    local c, s = connection(srv, port)
    assert(m:update(0, c))
    assert.equal(6, c:send("hello\n"))
    assert.equal("hello", s:receive())
    local sent, err = c:send("Xdrop\n")
    assert.is_nil(sent)
    assert.equal("permission denied", err) -- EACCES: the verdict said no
    nothing(s)
    -- a socket outside the map is not looked at
    local c2, s2 = connection(srv, port)
    assert.equal(6, c2:send("Xkeep\n"))
    assert.equal("Xkeep", s2:receive())
    srv:close()
  end)

  env.it("an sk_msg verdict redirects a message into another connection's reader", NEEDS, function()
    local m <close> = assert(ebpf.maps.sockhash { key = "u32", max_entries = 4, name = "redir_socks" })
    local prog = assert(ebpf.programs.load { type = "sk_msg", name = "to_key_1", insns = {
      d.st("w", "fp", -4, 1),
      d.ld_map_fd("r2", m), d.mov("r3", "fp"), d.add("r3", -4),
      d.mov("r4", 1), -- BPF_F_INGRESS: as if received
      d.call("msg_redirect_hash"),
      d.exit(),
    } })
    local link <close> = assert(prog:attach_sockmap(m, "msg_verdict"))
    assert.equal("sockmap", link:kind())
    local srv, port = listener()
    local c1, s1 = connection(srv, port)
    local c2, s2 = connection(srv, port)
    assert(m:update(0, c1))
    assert(m:update(1, s2))
    assert.equal(12, c1:send("redirected!\n"))
    assert.equal("redirected!", s2:receive()) -- the other connection's server side reads it
    nothing(s1)
    nothing(c2)
    srv:close()
  end)

  env.it("an sk_skb verdict drops what arrives at the sockets in the map", NEEDS, function()
    local m <close> = assert(ebpf.maps.sockmap { max_entries = 2 })
    local prog = assert(ebpf.programs.load { type = "sk_skb", name = "skb_drop", insns = {
      d.mov("r0", 0), d.exit(),
    } })
    local link <close> = assert(prog:attach_sockmap(m, "verdict"))
    assert.matches(" sk_skb_verdict ", tostring(link))
    local srv, port = listener()
    local c, s = connection(srv, port)
    assert(m:update(0, s))
    assert.equal(4, c:send("zzz\n")) -- the sender is not told
    nothing(s)
    srv:close()
  end)

  env.it("an sk_skb verdict reads the stream through a packet cursor, and drops what starts with X", NEEDS,
    function()
      local packet = require "ebpfdsl.packet"
      local m <close> = assert(ebpf.maps.sockmap { max_entries = 2 })
      local c = packet.cursor { kind = "sk_skb", ctx = "r6", data = "r7", data_end = "r8", miss = "pass" }
      local prog = assert(ebpf.programs.load { type = "sk_skb", name = "skb_x", insns = {
        d.mov("r6", "r1"),
        -- the stream's bytes may sit outside the linear part: pull the first one in
        d.mov("r2", 1), d.call("skb_pull_data"),
        c:load_data(),
        c:check("r7", 1),
        d.ldx("b", "r2", "r7", 0),
        d.jeq("r2", string.byte("X"), "drop"),
        d.label("pass"), d.mov("r0", packet.SK.pass), d.exit(),
        d.label("drop"), d.mov("r0", packet.SK.drop), d.exit(),
      } })
      local link <close> = assert(prog:attach_sockmap(m, "verdict"))
      assert.equal("sockmap", link:kind())
      local srv, port = listener()
      local c1, s1 = connection(srv, port)
      assert(m:update(0, s1))
      assert.equal(3, c1:send("ok\n"))
      assert.equal("ok", s1:receive())
      assert.equal(3, c1:send("X!\n"))
      nothing(s1)
      srv:close()
    end)

  env.it("detaches, so that another program can take the map's place", NEEDS, function()
    local m <close> = assert(ebpf.maps.sockmap { max_entries = 2 })
    local a, b = drop_x(), drop_x()
    local link = assert(a:attach_sockmap(m))
    local none, msg, errno = b:attach_sockmap(m)
    assert.is_nil(none)
    assert.equal(16, errno) -- EBUSY
    assert.matches("^sk_msg_verdict on map '': the map already has a program of that kind: ", msg)
    link:detach()
    assert(b:attach_sockmap(m)):detach()
  end)

  env.it("names what cannot attach", NEEDS, function()
    local m <close> = assert(ebpf.maps.sockmap { max_entries = 2 })
    local h <close> = assert(ebpf.maps.hash { key = "u32", value = "u32", max_entries = 1, name = "plain" })
    local skb = assert(ebpf.programs.load { type = "sk_skb", name = "skb", insns = { d.mov("r0", 1), d.exit() } })
    local sf = assert(ebpf.programs.load { type = "socket_filter", name = "sf", insns = { d.mov("r0", 0), d.exit() } })
    local function err(fn, ...)
      local ok, e = pcall(fn, ...)
      assert.is_false(ok)
      return (e:gsub("^[^:]*:%d+: ", ""))
    end
    assert.equal("attach_sockmap: an sk_skb program needs a kind (\"verdict\", \"stream_verdict\" or "
      .. "\"stream_parser\")", err(skb.attach_sockmap, skb, m))
    assert.equal("attach_sockmap: kind 'msg_verdict' is for sk_msg programs, this one is sk_skb",
      err(skb.attach_sockmap, skb, m, "msg_verdict"))
    assert.equal("attach_sockmap: unknown kind 'parser' (msg_verdict, verdict, stream_verdict, stream_parser)",
      err(skb.attach_sockmap, skb, m, "parser"))
    assert.equal("attach_sockmap: a socket_filter program cannot attach to a sockmap (sk_skb and sk_msg can)",
      err(sf.attach_sockmap, sf, m))
    local none, msg, errno = skb:attach_sockmap(h, "stream_verdict")
    assert.is_nil(none)
    assert.equal(22, errno)
    assert.equal("sk_skb_stream_verdict on map 'plain': a sockmap or sockhash is needed, not a hash: "
      .. "Invalid argument", msg)
  end)
end)
