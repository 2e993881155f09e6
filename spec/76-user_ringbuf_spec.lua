-- SPDX-License-Identifier: MIT
-- The user-space end of a user_ringbuf: records written from Lua (bytes,
-- or tables a layout encodes) are drained by a clang-built program with
-- bpf_user_ringbuf_drain, which sums what it read; the ring holds as many
-- records as its size says, a drain makes room, a write that waits is
-- woken by a drain in a tracepoint another process triggers.
local env = require "support.env"

local ebpf = require "ebpfdsl"
local object = require "ebpfdsl.object"
local user_ringbuf = require "ebpfdsl.user_ringbuf"

local NEEDS = { "bpf", "map:user_ringbuf", "clang-19", "gcc" }

local SOURCE = [[
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_USER_RINGBUF); __uint(max_entries, 4096); } urb SEC(".maps");
struct rec { __u32 kind; __u32 pad; __u64 value; };
__u64 total = 0, count = 0, short_ones = 0;

static long on_record(struct bpf_dynptr *dynptr, void *ctx)
{
	struct rec r;
	if (bpf_dynptr_read(&r, sizeof(r), dynptr, 0, 0)) {
		short_ones++;
		return 0;
	}
	total += r.value * r.kind;
	count++;
	return 0;
}

SEC("socket")
int drain(struct __sk_buff *skb)
{
	return bpf_user_ringbuf_drain(&urb, on_record, NULL, 0);
}

SEC("tp/syscalls/sys_enter_getppid")
int drain_on_getppid(void *ctx)
{
	bpf_user_ringbuf_drain(&urb, on_record, NULL, 0);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
]]

local dir
local function build()
  dir = dir or env.tmpdir()
  return require("support.bpf").compile(dir, "urb", SOURCE)
end

local PKT = string.rep("\0", 64)

local function loaded()
  local obj = assert(object.open(build()))
  assert(obj:load())
  return obj
end

local function rec(kind, value) return string.pack("=I4I4I8", kind, 0, value) end

describe("user_ringbuf.producer", function()
  env.it("writes records that a BPF program drains, in order and whole", NEEDS, function()
    local obj <close> = loaded()
    local p <close> = assert(user_ringbuf.producer(obj:map("urb")))
    assert.matches("^ebpfdsl.UserRingBuf on map fd %d+ %(4096 bytes%)$", tostring(p))
    assert.equal(4096, p:size())
    local want = 0
    for i = 1, 10 do
      assert.is_true(p:write(rec(3, i * 7)))
      want = want + 3 * i * 7
    end
    assert.is_true(p:write("short")) -- 5 bytes: the program's read of 16 fails
    local run = assert(obj:prog("drain"):test_run { data = PKT })
    assert.equal(11, run.retval) -- records drained
    assert.equal(want, obj:var("total"))
    assert.equal(10, obj:var("count"))
    assert.equal(1, obj:var("short_ones"))
    assert.equal(0, obj:prog("drain"):test_run { data = PKT }.retval) -- nothing left
  end)

  env.it("encodes tables with a layout", NEEDS, function()
    local obj <close> = loaded()
    local R = ebpf.structs.define("rec", { { "kind", "u32" }, { "pad", "u32" }, { "value", "u64" } })
    local p <close> = assert(user_ringbuf.producer(obj:map("urb"), { layout = R }))
    assert.is_true(p:write { kind = 2, pad = 0, value = 21 })
    assert.is_true(p:write(rec(1, 100))) -- bytes still go as they are
    assert.equal(2, obj:prog("drain"):test_run { data = PKT }.retval)
    assert.equal(142, obj:var("total"))
  end)

  env.it("holds as many records as the ring's bytes allow, and a drain makes room", NEEDS, function()
    local obj <close> = loaded()
    local p <close> = assert(user_ringbuf.producer(obj:map("urb")))
    local n = 0
    local ok, msg, errno
    repeat
      ok, msg, errno = p:write(rec(1, 1))
      if ok then n = n + 1 end
    until not ok
    -- each record: 16 bytes of data and the kernel's 8-byte header
    assert.equal(4096 // (16 + 8), n)
    assert.equal(28, errno) -- ENOSPC
    assert.equal("write of 16 bytes: the ring is full (a BPF program must drain it first): No space left on device",
      msg)
    assert.equal(n, obj:prog("drain"):test_run { data = PKT }.retval)
    assert.is_true(p:write(rec(1, 1)))
    local big, bmsg, berr = p:write(string.rep("x", 4096))
    assert.is_nil(big)
    assert.equal(7, berr) -- E2BIG
    assert.equal("write of 4096 bytes: a record and its 8-byte header cannot exceed the ring's 4096 bytes: "
      .. "Argument list too long", bmsg)
  end)

  env.it("waits for room, woken by a drain in a tracepoint another process triggers", NEEDS, function()
    local obj <close> = loaded()
    local p <close> = assert(user_ringbuf.producer(obj:map("urb")))
    while p:write(rec(1, 1)) do end
    local link <close> = assert(obj:attach("drain_on_getppid"))
    local bin = dir .. "/getppid_n"
    env.run("gcc -O2 -o " .. bin .. " spec/support/getppid_n.c")
    local child = assert(io.popen("sleep 0.3; " .. bin .. " 1 >/dev/null", "r"))
    assert.is_true(p:write(rec(5, 5), 10000)) -- room made while it waited
    child:close()
    link:detach()
    assert.is_true(obj:var("count") >= 4096 // 24)
  end)

  env.it("says what is wrong", NEEDS, function()
    local m <close> = assert(ebpf.maps.ringbuf(4096))
    local none, msg, errno = user_ringbuf.producer(m)
    assert.is_nil(none)
    assert.equal(22, errno)
    assert.matches("^user_ringbuf on fd %d+: not a user_ringbuf map: Invalid argument$", msg)
    local u <close> = assert(ebpf.maps.user_ringbuf(4096))
    local p = assert(user_ringbuf.producer(u))
    local ok, e = pcall(p.write, p, { kind = 1 })
    assert.is_false(ok)
    assert.matches("write: a record is a string of bytes %(or give the producer a layout%), got table$", e)
    ok, e = pcall(user_ringbuf.producer, u, { layuot = 1 })
    assert.is_false(ok)
    assert.matches("^spec/76%-user_ringbuf_spec%.lua:%d+: user_ringbuf.producer: unknown option 'layuot'$", e)
    ok, e = pcall(p.write, p, "x", -2)
    assert.is_false(ok)
    assert.matches("a timeout in milliseconds, or %-1 for none", e)
    p:close()
    assert.equal("ebpfdsl.UserRingBuf (closed)", tostring(p))
    assert.has_error(function() p:write("x") end, "attempt to use a closed ebpfdsl.UserRingBuf")
  end)
end)
