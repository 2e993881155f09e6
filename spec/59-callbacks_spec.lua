-- SPDX-License-Identifier: MIT
-- Callbacks in the kernel: bpf_loop, for_each_map_elem, timers, find_vma
-- and user_ringbuf_drain, each written as a labelled subprogram whose
-- address ld_func takes, each run by the kernel (test runs; find_vma in a
-- syscall program on this process), each result held against what the
-- spec put there: sums it computes, /proc/self/maps, libbpf's own user
-- ring buffer producer.
local env = require "support.env"
local dsl = require "ebpfdsl.dsl"
local maps = require "ebpfdsl.maps"
local programs = require "ebpfdsl.programs"
local structs = require "ebpfdsl.structs"

local PACKET = string.rep("\0", 64)

local load = require("support.bpf").load

local function run(prog, opts)
  local r, msg = prog:test_run(opts or { data = PACKET })
  assert(r, msg)
  return r.retval
end

describe("bpf_loop", function()
  -- r0 = the iterations bpf_loop ran << 16 | the sum of the indexes the
  -- callback saw; the callback stops the loop (returns 1) at index `stop`
  local function looper(n, stop)
    return load { type = "socket_filter", name = "loop", insns = {
      dsl.st("dw", "fp", -8, 0),
      dsl.mov("r1", n), dsl.ld_func("r2", "body"), dsl.mov("r3", "fp"), dsl.add("r3", -8), dsl.mov("r4", 0),
      dsl.call("loop"),
      dsl.lsh("r0", 16), dsl.ldx("dw", "r1", "fp", -8), dsl.add("r0", "r1"), dsl.exit(),
      dsl.label("body"), -- long body(u64 index, void *ctx)
      dsl.ldx("dw", "r3", "r2", 0), dsl.add("r3", "r1"), dsl.stx("dw", "r2", 0, "r3"),
      dsl.mov("r0", 0), dsl.jne("r1", stop, "go_on"), dsl.mov("r0", 1),
      dsl.label("go_on"), dsl.exit(),
    } }
  end

  env.it("runs its callback once per index, and stops when the callback says so", "bpf", function()
    for _, c in ipairs { { 10, -1 }, { 100, -1 }, { 1, -1 }, { 0, -1 }, { 50, 20 } } do
      local n, stop = c[1], c[2]
      local p <close> = looper(n, stop)
      local ran = stop >= 0 and stop + 1 or n
      local sum = ran * (ran - 1) // 2
      assert.equal((ran << 16) + sum, run(p), ("bpf_loop(%d), stop at %d"):format(n, stop))
    end
  end)

  env.it("is refused without the func_info the program's BTF gives", "bpf", function()
    local prog, msg = programs.load { type = "socket_filter", btf = false, insns = {
      dsl.mov("r1", 1), dsl.ld_func("r2", "cb"), dsl.mov("r3", 0), dsl.mov("r4", 0), dsl.call("loop"),
      dsl.mov("r0", 0), dsl.exit(),
      dsl.label("cb"), dsl.mov("r0", 0), dsl.exit(),
    } }
    assert.is_nil(prog)
    assert.matches("missing btf func_info", msg, 1, true)
  end)
end)

describe("for_each_map_elem", function()
  -- ctx: [0] visits, [8] sum of values, [16] sum of keys; the callback
  -- (long cb(map, key, value, ctx)) stops the walk at key `stop`. The
  -- count is never compared in the program: a compared one would have the
  -- verifier walk the callback once per value it could take.
  local function each(m, stop)
    return load { type = "socket_filter", name = "each", insns = {
      dsl.st("dw", "fp", -24, 0), dsl.st("dw", "fp", -16, 0), dsl.st("dw", "fp", -8, 0),
      dsl.ld_map_fd("r1", m), dsl.ld_func("r2", "visit"), dsl.mov("r3", "fp"), dsl.add("r3", -24),
      dsl.mov("r4", 0), dsl.call("for_each_map_elem"),
      dsl.stx("dw", "fp", -32, "r0"),
      dsl.ldx("dw", "r0", "fp", -16), dsl.ldx("dw", "r1", "fp", -32), dsl.lsh("r1", 24), dsl.add("r0", "r1"),
      dsl.ldx("dw", "r1", "fp", -8), dsl.lsh("r1", 16), dsl.add("r0", "r1"), dsl.exit(),
      dsl.label("visit"),
      dsl.ldx("dw", "r1", "r4", 8), dsl.ldx("dw", "r5", "r3", 0), dsl.add("r1", "r5"), dsl.stx("dw", "r4", 8, "r1"),
      dsl.ldx("w", "r5", "r2", 0),
      dsl.ldx("dw", "r1", "r4", 16), dsl.add("r1", "r5"), dsl.stx("dw", "r4", 16, "r1"),
      dsl.ldx("dw", "r1", "r4", 0), dsl.add("r1", 1), dsl.stx("dw", "r4", 0, "r1"),
      dsl.mov("r0", 0), dsl.jne("r5", stop, "more"), dsl.mov("r0", 1),
      dsl.label("more"), dsl.exit(),
    } }
  end

  env.it("visits every element with its key and value", "bpf", function()
    local h <close> = assert(maps.hash { key = "u32", value = "u64", max_entries = 16 })
    local keys, values = 0, 0
    for k = 1, 9 do
      h[k] = k * 10
      keys, values = keys + k, values + k * 10
    end
    local p <close> = each(h, 100)
    -- r0: visits (the helper's count) << 24 | keys << 16 | values
    assert.equal((9 << 24) + (keys << 16) + values, run(p))
  end)

  env.it("stops when the callback returns 1, the element it returned on counted", "bpf", function()
    local a <close> = assert(maps.array { value = "u64", max_entries = 8 })
    for k = 0, 7 do a[k] = k + 100 end
    local p <close> = each(a, 3) -- an array is walked in index order: 0, 1, 2, 3
    assert.equal((4 << 24) + (6 << 16) + 406, run(p))
  end)
end)

describe("timers", function()
  env.it("run their callback after timer_start, in a map value with a bpf_timer", { "bpf", "prog:xdp" }, function()
    local V = structs.define("timed", { { "timer", structs.bpf_timer }, { "fired", "u64" }, { "key", "u32" } })
    local m <close> = assert(maps.array { value = V, max_entries = 2, name = "timers59" })
    -- long fire(void *map, u32 *key, struct timed *value): records the key it came with
    local p <close> = load { type = "xdp", name = "timer", insns = {
      dsl.st("w", "fp", -4, 1), dsl.ld_map_fd("r1", m), dsl.mov("r2", "fp"), dsl.add("r2", -4),
      dsl.call("map_lookup_elem"), dsl.jeq("r0", 0, "out"), dsl.mov("r6", "r0"),
      dsl.mov("r1", "r6"), dsl.ld_map_fd("r2", m), dsl.mov("r3", 1), dsl.call("timer_init"), -- CLOCK_MONOTONIC
      dsl.mov("r1", "r6"), dsl.ld_func("r2", "fire"), dsl.call("timer_set_callback"),
      dsl.mov("r1", "r6"), dsl.mov("r2", 1000), dsl.mov("r3", 0), dsl.call("timer_start"),
      dsl.label("out"), dsl.mov("r0", 2), dsl.exit(),
      dsl.label("fire"),
      dsl.ldx("w", "r1", "r2", 0), dsl.stx("w", "r3", V:offset("key"), "r1"),
      dsl.mov("r1", 0x71e), dsl.stx("dw", "r3", V:offset("fired"), "r1"),
      dsl.mov("r0", 0), dsl.exit(),
    } }
    assert.equal(2, run(p))
    local deadline = os.time() + 5
    while m[1].fired == 0 and os.time() < deadline do env.run("sleep 0.01") end
    assert.same({ fired = 0x71e, key = 1 }, { fired = m[1].fired, key = m[1].key })
    assert.equal(0, m[0].fired) -- the other element's timer was never armed
  end)
end)

describe("find_vma", function()
  env.it("finds the mapping holding an address of this process, as /proc/self/maps lists it",
    { "bpf", "btf", "prog:syscall" },
    function()
      local v = require("ebpfdsl.btf").vmlinux()
      local vm_start, vm_end = v:offsetof("vm_area_struct", "vm_start"), v:offsetof("vm_area_struct", "vm_end")
      local out <close> = assert(maps.array { value = "u64", max_entries = 2 })
      local function put(k, r)
        return { dsl.st("w", "fp", -4, k), dsl.stx("dw", "fp", -16, r), dsl.ld_map_fd("r1", out), dsl.mov("r2", "fp"),
                 dsl.add("r2", -4), dsl.mov("r3", "fp"), dsl.add("r3", -16), dsl.mov("r4", 0),
                 dsl.call("map_update_elem") }
      end
      -- ctx: the address; r0: what find_vma returned
      local p <close> = load { type = "syscall", sleepable = true, name = "find_vma", insns = {
        dsl.ldx("dw", "r7", "r1", 0),
        dsl.call("get_current_task_btf"),
        dsl.mov("r1", "r0"), dsl.mov("r2", "r7"), dsl.ld_func("r3", "found"), dsl.mov("r4", 0), dsl.mov("r5", 0),
        dsl.call("find_vma"), dsl.exit(),
        dsl.label("found"), -- long found(struct task_struct *, struct vm_area_struct *, void *ctx)
        dsl.ldx("dw", "r8", "r2", vm_start), dsl.ldx("dw", "r9", "r2", vm_end),
        put(0, "r8"), put(1, "r9"),
        dsl.mov("r0", 0), dsl.exit(),
      } }
      local f = assert(io.open("/proc/self/maps"))
      local text = f:read("a")
      f:close()
      local checked = 0
      for a, b in text:gmatch("(%x+)%-(%x+) r%-xp") do
        a, b = tonumber(a, 16), tonumber(b, 16)
        out[0], out[1] = 0, 0
        assert.equal(0, run(p, { ctx = string.pack("<I8", a + (b - a) // 2) }))
        assert.same({ ("%x"):format(a), ("%x"):format(b) }, { ("%x"):format(out[0]), ("%x"):format(out[1]) })
        checked = checked + 1
      end
      assert.is_true(checked >= 3, "only " .. checked .. " mappings")
      -- nothing is mapped at 4096: ENOENT, and the callback never ran
      out[0] = 7
      assert.equal(-2, run(p, { ctx = string.pack("<I8", 4096) }) | ~0xffffffff)
      assert.equal(7, out[0])
    end)
end)

describe("user_ringbuf_drain", function()
  local producer
  local function produce(map, values)
    if not producer then
      producer = env.tmpdir() .. "/uringbuf_produce"
      env.run("gcc -O2 -Wall -o " .. producer .. " spec/support/uringbuf_produce.c -lbpf")
    end
    return tonumber(env.run(("%s %d %s"):format(producer, map:info().id, table.concat(values, " "))))
  end

  env.it("hands its callback each sample libbpf's producer wrote, in order", { "bpf", "gcc", "map:user_ringbuf" },
    function()
    local urb <close> = assert(maps.user_ringbuf(4096))
    -- ctx at fp-16: [0] samples seen, [8] a running hash of them in order;
    -- r0 = drained << 16 | seen, the hash in the array
    local out <close> = assert(maps.array { value = "u64", max_entries = 1 })
    local p <close> = load { type = "socket_filter", name = "drain", insns = {
      dsl.st("dw", "fp", -16, 0), dsl.st("dw", "fp", -8, 0),
      dsl.ld_map_fd("r1", urb), dsl.ld_func("r2", "sample"), dsl.mov("r3", "fp"), dsl.add("r3", -16),
      dsl.mov("r4", 0), dsl.call("user_ringbuf_drain"), dsl.mov("r6", "r0"),
      dsl.st("w", "fp", -20, 0), dsl.ld_map_fd("r1", out), dsl.mov("r2", "fp"), dsl.add("r2", -20),
      dsl.mov("r3", "fp"), dsl.add("r3", -8), dsl.mov("r4", 0), dsl.call("map_update_elem"),
      dsl.ldx("dw", "r0", "fp", -16), dsl.lsh("r6", 16), dsl.add("r0", "r6"), dsl.exit(),
      dsl.label("sample"), -- long sample(struct bpf_dynptr *, void *ctx)
      dsl.mov("r6", "r2"), dsl.mov("r3", "r1"),
      dsl.mov("r1", "fp"), dsl.add("r1", -8), dsl.mov("r2", 8), dsl.mov("r4", 0), dsl.mov("r5", 0),
      dsl.call("dynptr_read"),
      dsl.ldx("dw", "r1", "r6", 8), dsl.mul("r1", 31), dsl.ldx("dw", "r2", "fp", -8), dsl.add("r1", "r2"),
      dsl.stx("dw", "r6", 8, "r1"),
      dsl.ldx("dw", "r1", "r6", 0), dsl.add("r1", 1), dsl.stx("dw", "r6", 0, "r1"),
      dsl.mov("r0", 0), dsl.exit(),
    } }
    local values = { 5, 7, 11, 0x123456789, 2 }
    assert.equal(#values, produce(urb, values))
    local hash = 0
    for _, v in ipairs(values) do hash = hash * 31 + v end
    assert.equal((#values << 16) + #values, run(p))
    assert.equal(hash, out[0])
    -- drained: nothing left
    assert.equal(0, run(p))
  end)
end)
