-- SPDX-License-Identifier: MIT
-- struct_ops registered with the kernel: a tcp_congestion_ops from a clang
-- object (obj:register) and one from DSL programs (struct_ops.register),
-- each seen in tcp_available_congestion_control, chosen by a real TCP
-- socket on loopback (its init runs, counted where we read it), and gone
-- again after detach.
local env = require "support.env"

local ebpf = require "ebpfdsl"
local d = ebpf.dsl
local object = require "ebpfdsl.object"
local struct_ops = require "ebpfdsl.struct_ops"

local NEEDS = { "bpf", "attach:struct_ops" }
local NEEDS_CLANG = { "bpf", "attach:struct_ops", "clang-19", "gcc" }

-- a congestion control name of this run's own: at most 15 characters
local PID = math.tointeger(io.open("/proc/self/stat"):read("n"))
local seq = 0
local function cc_name()
  seq = seq + 1
  return ("edsl%d_%d"):format(PID % 100000, seq)
end

local function available()
  local f = assert(io.open("/proc/sys/net/ipv4/tcp_available_congestion_control"))
  local t = {}
  for w in f:read("a"):gmatch("%S+") do t[w] = true end
  f:close()
  return t
end

-- A TCP connection on loopback whose client chooses congestion control
-- `name`; what the client's socket says it uses, or the error.
local function connect_with(name)
  return (env.run(([[python3 -c "
import socket
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen()
c = socket.socket()
try:
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b'%s')
except OSError as e:
    print('error', e.errno); raise SystemExit
c.connect(l.getsockname()); s, _ = l.accept(); c.sendall(b'x' * 65536); s.recv(65536)
print(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b'\0').decode())
"]]):format(name)):gsub("%s+$", ""))
end

local function source(name)
  return ([[
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct sock;
__u64 inits = 0;
SEC("struct_ops/ssthresh") __u32 cc_ssthresh(unsigned long long *ctx) { return 10; }
SEC("struct_ops/undo_cwnd") __u32 cc_undo(unsigned long long *ctx) { return 10; }
SEC("struct_ops/cong_avoid") void cc_avoid(unsigned long long *ctx) { }
SEC("struct_ops/init") void cc_init(unsigned long long *ctx) { __sync_fetch_and_add(&inits, 1); }
struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*init)(struct sock *sk);
	char name[16];
};
SEC(".struct_ops") struct tcp_congestion_ops cc = {
	.ssthresh = (void *)cc_ssthresh, .cong_avoid = (void *)cc_avoid, .undo_cwnd = (void *)cc_undo,
	.init = (void *)cc_init, .name = "%s",
};
char LICENSE[] SEC("license") = "GPL";
]]):format(name)
end

local function build(src)
  return require("support.bpf").compile(env.tmpdir(), "cc", src)
end

-- DSL programs for the members a tcp_congestion_ops must have, and an
-- init that counts into `counts`.
local function dsl_programs(counts)
  local function load(member, insns)
    return assert(ebpf.programs.load { type = "struct_ops", attach_to = "tcp_congestion_ops." .. member,
                                       name = member, insns = insns, license = "GPL" })
  end
  return {
    ssthresh = load("ssthresh", { d.mov("r0", 10), d.exit() }),
    undo_cwnd = load("undo_cwnd", { d.mov("r0", 10), d.exit() }),
    cong_avoid = load("cong_avoid", { d.mov("r0", 0), d.exit() }),
    init = load("init", require("support.count").add_one(d, counts)),
  }
end

describe("struct_ops", function()
  env.it("a tcp_congestion_ops from a clang object: registered, chosen by a socket, unregistered", NEEDS_CLANG,
    function()
      local name = cc_name()
      local obj <close> = assert(object.open(build(source(name))))
      assert(obj:load())
      local link = assert(obj:register("cc"))
      assert.equal("struct_ops", link:kind())
      assert.equal("ebpfdsl.Link struct_ops cc (by its update)", tostring(link))
      assert.is_true(available()[name])
      assert.equal(0, obj:var("inits"))
      assert.equal(name, connect_with(name))
      assert.equal(1, obj:var("inits")) -- its init ran for that one socket
      link:detach()
      assert.is_nil(available()[name])
      assert.equal("error 2", connect_with(name)) -- ENOENT: no such congestion control
    end)

  env.it("a tcp_congestion_ops from DSL programs, through a struct_ops link", NEEDS, function()
    local counts <close> = assert(ebpf.maps.array { value = "u64", max_entries = 1 })
    local p = dsl_programs(counts)
    local name = cc_name()
    local link = assert(struct_ops.register("tcp_congestion_ops", {
      name = name, ssthresh = p.ssthresh, undo_cwnd = p.undo_cwnd, cong_avoid = p.cong_avoid, init = p.init,
    }))
    assert.matches("^ebpfdsl.Link struct_ops map '" .. name .. "' %(id %d+%) %(fd=%d+%)$", tostring(link))
    local info = link:info()
    assert.equal("struct_ops", info.type)
    assert.is_true(available()[name])
    assert.equal(name, connect_with(name))
    assert.equal(1, counts:lookup(0))
    link:detach()
    assert.is_nil(available()[name])
  end)

  env.it("a tcp_congestion_ops from DSL programs, registered by the map's update alone", NEEDS, function()
    local counts <close> = assert(ebpf.maps.array { value = "u64", max_entries = 1 })
    local p = dsl_programs(counts)
    local name = cc_name()
    local link = assert(struct_ops.register("tcp_congestion_ops",
      { name = name, ssthresh = p.ssthresh, undo_cwnd = p.undo_cwnd, cong_avoid = p.cong_avoid },
      { link = false, name = "plain_ops" }))
    assert.equal("ebpfdsl.Link struct_ops map 'plain_ops' (id " .. link:target():match("id (%d+)") ..
      ") (by its update)", tostring(link))
    assert.is_true(available()[name])
    assert.equal(name, connect_with(name))
    assert.equal(0, counts:lookup(0)) -- no init given
    link:close()
    assert.is_nil(available()[name])
  end)

  env.it("lays out the kernel's value: programs' fds in the function pointers, the name in place", NEEDS, function()
    local counts <close> = assert(ebpf.maps.array { value = "u64", max_entries = 1 })
    local p = dsl_programs(counts)
    local b = assert(ebpf.btf.vmlinux())
    local v = struct_ops.value("tcp_congestion_ops", { name = "abc", ssthresh = p.ssthresh, flags = 0 })
    local vt = b:type("bpf_struct_ops_tcp_congestion_ops", "struct")
    assert.equal(vt.size, #v)
    local data = b:offsetof("bpf_struct_ops_tcp_congestion_ops", "data")
    local at = function(path) return data + b:offsetof("tcp_congestion_ops", path) end
    assert.equal(p.ssthresh:fd(), (string.unpack("=I8", v, at("ssthresh") + 1)))
    assert.equal(0, (string.unpack("=I8", v, at("undo_cwnd") + 1)))
    assert.equal("abc" .. string.rep("\0", 13), v:sub(at("name") + 1, at("name") + 16))
    assert.same({ name = "abc" }, { name = b:decode("tcp_congestion_ops", v:sub(data + 1)).name })
  end)

  env.it("b:encode and b:decode lay out any kernel type, as the bytes say", { "btf" }, function()
    local b = assert(ebpf.btf.vmlinux())
    local addr = { sin_family = 2, sin_port = 0x3412, sin_addr = { s_addr = 0x0100007f } }
    local bytes = b:encode("struct sockaddr_in", addr)
    assert.equal(string.pack("<I2I2I4", 2, 0x3412, 0x0100007f) .. string.rep("\0", 8), bytes)
    assert.same({ sin_family = 2, sin_port = 0x3412, sin_addr = { s_addr = 0x0100007f }, __pad = string.rep("\0", 8) },
      b:decode("sockaddr_in", bytes))
    -- bitfields land where TCP puts them on the wire: data offset in the
    -- high nibble of byte 12, SYN (0x02) and ACK (0x10) in byte 13
    local tcp = b:encode("struct tcphdr", { doff = 5, syn = 1, ack = 1 })
    assert.equal(string.rep("\0", 12) .. "\x50\x12" .. string.rep("\0", 6), tcp)
    local th = b:decode("tcphdr", tcp)
    assert.same({ 5, 1, 1, 0, 0 }, { th.doff, th.syn, th.ack, th.fin, th.res1 })
    -- over given bytes: what the value leaves out keeps them
    assert.equal(string.pack("<I2I2I4", 10, 0x3412, 0x0100007f) .. string.rep("\0", 8),
      b:encode("struct sockaddr_in", { sin_family = 10 }, bytes))
    local ok, e = pcall(b.encode, b, "struct sockaddr_in", { sin_port = 70000 })
    assert.is_false(ok)
    assert.matches("encode: struct sockaddr_in.sin_port is __be16: 70000 does not fit %(0..65535%)$", e)
    ok, e = pcall(b.encode, b, "struct no_such_thing", {})
    assert.is_false(ok)
    assert.matches("encode: no type named 'struct no_such_thing' in vmlinux BTF$", e)
  end)

  env.it("says what the kernel refused, and raises for what it cannot lay out", NEEDS, function()
    local counts <close> = assert(ebpf.maps.array { value = "u64", max_entries = 1 })
    local p = dsl_programs(counts)
    local link, msg, errno = struct_ops.register("tcp_congestion_ops", { name = cc_name(), ssthresh = p.ssthresh })
    assert.is_nil(link)
    assert.equal(22, errno)
    assert.matches("^register of map 'edsl%d+_%d+': the kernel refused the value %(a required member without a "
      .. "program, a program loaded for another member, or a name already registered%): Invalid argument$", msg)
    local function err(...)
      local ok, e = pcall(struct_ops.register, ...)
      assert.is_false(ok)
      return e
    end
    local here = "^spec/78%-struct_ops_spec%.lua:%d+: "
    assert.matches(here .. "struct_ops: struct tcp_congestion_ops has no member 'nmae'; did you mean 'name'$",
      err("tcp_congestion_ops", { nmae = "x" }))
    assert.matches(here .. "struct_ops: the kernel has no struct_ops type 'tcp_congestion_opz' %(no "
      .. "bpf_struct_ops_tcp_congestion_opz in its BTF%)$", err("tcp_congestion_opz", {}))
    assert.matches(here .. "struct_ops: tcp_congestion_ops.ssthresh is a function: it takes a loaded struct_ops "
      .. "program, got number$", err("tcp_congestion_ops", { ssthresh = 3 }))
    assert.matches(here .. "struct_ops: tcp_congestion_ops.name is char%[16%]: a string of at most 15 bytes %(and its "
      .. "NUL%), got 16$", err("tcp_congestion_ops", { name = string.rep("n", 16) }))
    assert.matches(here .. "struct_ops.register: unknown option 'lnk'$", err("tcp_congestion_ops", {}, { lnk = 1 }))
  end)

  env.it("obj:register names what it cannot register", NEEDS_CLANG, function()
    local obj <close> = assert(object.open(build(source(cc_name()))))
    local function err(...)
      local ok, e = pcall(obj.register, obj, ...)
      assert.is_false(ok)
      return (e:gsub("^[^:]*:%d+: ", ""))
    end
    assert.equal("register: ebpfdsl.Object cc is not loaded; call load() first", err("cc"))
    assert.equal("ebpfdsl.Object cc has no map 'c'", err("c"))
    assert(obj:load())
    assert.equal("register: map 'cc.bss' of cc is a array map, not a struct_ops one", err("cc.bss"))
  end)
end)
