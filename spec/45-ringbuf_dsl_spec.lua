-- SPDX-License-Identifier: MIT
-- The ring-buffer words of ebpfdsl.dsl: golden instruction lists, the
-- constants against <linux/bpf.h>, argument placement checked by
-- simulating every register combination, and (once ebpfdsl.maps exists)
-- programs the kernel verifies and runs.
local env = require "support.env"
local dsl = require "ebpfdsl.dsl"

local function call(name) return { op = "call", imm = dsl.helper_id(name), helper = name } end
local function mov(dst, x)
  if type(x) == "string" then return { op = "mov", dst = dst, src = x } end
  return { op = "mov", dst = dst, imm = x }
end
local function mapfd(dst, fd) return { op = "ld_map_fd", dst = dst, imm = fd } end

describe("ring-buffer words", function()
  it("reserve: map in r1, size in r2, flags 0 in r3, the pointer (or NULL) in dst", function()
    assert.same({ mapfd("r1", 7), mov("r2", 64), mov("r3", 0), call("ringbuf_reserve"), mov("r6", "r0") },
      dsl.ringbuf_reserve("r6", 7, 64))
    assert.same({ mapfd("r1", 7), mov("r2", "r8"), mov("r3", 0), call("ringbuf_reserve") },
      dsl.ringbuf_reserve("r0", 7, "r8"))
  end)

  it("keeps the map object so a program holds it alive", function()
    local m = { fd = function() return 9 end }
    local list = dsl.ringbuf_reserve("r6", m, 16)
    assert.equal(m, list[1].map)
    assert.equal(9, list[1].imm)
  end)

  it("submit and discard take the record and optional wakeup flags", function()
    assert.same({ mov("r1", "r6"), mov("r2", 0), call("ringbuf_submit") }, dsl.ringbuf_submit("r6"))
    assert.same({ mov("r1", "r6"), mov("r2", dsl.BPF_RB_NO_WAKEUP), call("ringbuf_submit") },
      dsl.ringbuf_submit("r6", "no_wakeup"))
    assert.same({ mov("r2", dsl.BPF_RB_FORCE_WAKEUP), call("ringbuf_discard") },
      dsl.ringbuf_discard("r1", "BPF_RB_FORCE_WAKEUP"))
    assert.same({ mov("r1", "r7"), mov("r2", "r8"), call("ringbuf_discard") }, dsl.ringbuf_discard("r7", "r8"))
  end)

  it("output and query", function()
    assert.same({ mapfd("r1", 3), mov("r2", "r6"), mov("r3", 24), mov("r4", 0), call("ringbuf_output") },
      dsl.ringbuf_output(3, "r6", 24))
    assert.same({ mapfd("r1", 3), mov("r2", dsl.BPF_RB_AVAIL_DATA), call("ringbuf_query") },
      dsl.ringbuf_query(3, "avail_data"))
    assert.same({ mapfd("r1", 3), mov("r2", dsl.BPF_RB_RING_SIZE), call("ringbuf_query"), mov("r7", "r0") },
      dsl.ringbuf_query(3, "ring_size", "r7"))
  end)

  it("reserve_or_count_loss bumps key 0 of the loss map and jumps on NULL", function()
    local list = dsl.reserve_or_count_loss("r6", 7, 48, 8, "lost", { ok_label = "have_record" })
    assert.same({
      mapfd("r1", 7), mov("r2", 48), mov("r3", 0), call("ringbuf_reserve"), mov("r6", "r0"),
      { op = "jne", dst = "r6", imm = 0, target = "have_record" },
      { op = "st", size = "w", dst = "r10", off = -4, imm = 0 },
      mapfd("r1", 8), mov("r2", "r10"), { op = "add", dst = "r2", imm = -4 },
      call("map_lookup_elem"),
      { op = "jeq", dst = "r0", imm = 0, target = "lost" },
      mov("r1", 1),
      { op = "atomic_add", size = "dw", dst = "r0", off = 0, src = "r1" },
      { op = "ja", target = "lost" },
      { op = "label", name = "have_record" },
    }, list)
    -- two uses in one program get distinct labels
    local a = dsl.reserve_or_count_loss("r6", 7, 48, 8, "lost")
    local b = dsl.reserve_or_count_loss("r7", 7, 48, 8, "lost")
    assert.are_not.equal(a[#a].name, b[#b].name)
    assert.is_string(dsl.assemble { a, b, dsl.label("lost"), dsl.mov("r0", 0), dsl.exit() })
  end)

  it("rejects unknown flags and queries, naming the known ones", function()
    assert.has_error(function() dsl.ringbuf_submit("r6", "loud") end,
      "ringbuf_submit: unknown wakeup flag 'loud' (known: force_wakeup, no_wakeup)")
    assert.has_error(function() dsl.ringbuf_query(3, "size") end,
      "ringbuf_query: unknown query 'size' (known: avail_data, cons_pos, prod_pos, ring_size)")
    assert.has_error(function() dsl.ringbuf_reserve("r6", "m", 8) end)
    assert.has_error(function() dsl.reserve_or_count_loss("r6", 7, 8, 8, nil) end)
    assert.has_error(function() dsl.ringbuf_reserve("r6", 7, 8, "no_wakeup") end,
      "ringbuf_reserve: takes no named flags ('no_wakeup'); give 0, an integer or a register")
    local ok, err = pcall(dsl.reserve_or_count_loss, "r6", 7, 8, 8, "lost", 4)
    assert.is_false(ok)
    assert.matches("reserve_or_count_loss", err)
    assert.matches("options table", err)
  end)

  -- Run a list of movs and map loads on a register file.
  local function simulate(list)
    local r = {}
    for i = 0, 9 do r["r" .. i] = "v" .. i end
    for _, x in ipairs(list) do
      if x.op == "ld_map_fd" then r[x.dst] = "map"
      elseif x.op == "mov" then r[x.dst] = x.src and r[x.src] or x.imm
      elseif x.op == "call" then break
      else error("unexpected " .. x.op) end
    end
    return r
  end

  it("puts every argument where the helper wants it, whatever registers hold them", function()
    local n = 0
    local srcs = { 5 }
    for i = 0, 9 do srcs[#srcs + 1] = "r" .. i end
    for i = 0, 9 do
      local data = "r" .. i
      for _, size in ipairs(srcs) do
        for _, flags in ipairs(srcs) do
          local r = simulate(dsl.ringbuf_output(3, data, size, flags))
          assert.equal("map", r.r1)
          assert.equal("v" .. i, r.r2, ("data %s size %s flags %s"):format(data, size, flags))
          assert.equal(type(size) == "string" and ("v" .. size:sub(2)) or size, r.r3)
          assert.equal(type(flags) == "string" and ("v" .. flags:sub(2)) or flags, r.r4)
          n = n + 1
        end
      end
    end
    assert.equal(10 * 11 * 11, n)
  end)

  env.it("uses the values <linux/bpf.h> gives the flags and queries", { "gcc" }, function()
    local dir = env.tmpdir()
    local f = assert(io.open(dir .. "/rb.c", "w"))
    f:write [[
#include <stdio.h>
#include <linux/bpf.h>
int main(void) {
  printf("BPF_RB_NO_WAKEUP %d\nBPF_RB_FORCE_WAKEUP %d\n", BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP);
  printf("BPF_RB_AVAIL_DATA %d\nBPF_RB_RING_SIZE %d\n", BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE);
  printf("BPF_RB_CONS_POS %d\nBPF_RB_PROD_POS %d\n", BPF_RB_CONS_POS, BPF_RB_PROD_POS);
  return 0;
}
]]
    f:close()
    local out = env.run(("gcc -o %s/rb %s/rb.c && %s/rb"):format(dir, dir, dir))
    local n = 0
    for name, v in out:gmatch("(BPF_RB_[%u_]+) (%d+)") do
      assert.equal(tonumber(v), dsl[name], name)
      n = n + 1
    end
    assert.equal(6, n)
    env.run("rm -rf " .. dir)
  end)
end)

-- The verifier and the kernel need real maps, which ebpfdsl.maps makes.
local maps = require "ebpfdsl.maps"

describe("ring-buffer programs in the kernel", function()
  local programs = require "ebpfdsl.programs"
  local function ringbuf(size)
    return assert(maps.create { type = "ringbuf", max_entries = size or 4096 })
  end
  local function run(list)
    local p, msg, _, log = programs.load { type = "socket_filter", name = "rb_spec", insns = list }
    assert(p, tostring(msg) .. "\n" .. tostring(log))
    local r = assert(p:test_run { data = string.rep("\0", 64) })
    p:close()
    return r.retval
  end

  env.it("verifies reserve, submit, discard, output and query, and the queries see the records", { "bpf" },
    function()
      local rb = ringbuf(4096)
      -- reserve 16 bytes, fill, submit; then 8 more through output; the ring
      -- then holds two records of 8-byte header + data
      local avail = run {
        dsl.ringbuf_reserve("r6", rb, 16),
        dsl.jeq("r6", 0, "none"),
        dsl.st("dw", "r6", 0, 1), dsl.st("dw", "r6", 8, 2),
        dsl.ringbuf_submit("r6", "no_wakeup"),
        dsl.st("dw", "r10", -8, 3),
        dsl.mov("r7", "r10"), dsl.add("r7", -8),
        dsl.ringbuf_output(rb, "r7", 8, "no_wakeup"),
        dsl.ringbuf_query(rb, "avail_data"),
        dsl.exit(),
        dsl.label("none"), dsl.mov("r0", 0), dsl.exit(),
      }
      assert.equal((8 + 16) + (8 + 8), avail)
      assert.equal(4096, run { dsl.ringbuf_query(rb, "ring_size"), dsl.exit() })
      -- a discarded record still takes its room until the reader passes it
      local rb2 = ringbuf(4096)
      assert.equal(8 + 32, run {
        dsl.ringbuf_reserve("r6", rb2, 32),
        dsl.jeq("r6", 0, "none"),
        dsl.ringbuf_discard("r6"),
        dsl.ringbuf_query(rb2, "prod_pos"),
        dsl.exit(),
        dsl.label("none"), dsl.mov("r0", 0), dsl.exit(),
      })
      rb:close()
      rb2:close()
    end)

  env.it("counts a reservation the ring cannot hold in the loss map", { "bpf" }, function()
    local rb = ringbuf(4096)
    local loss = assert(maps.create { type = "percpu_array", key_size = 4, value_size = 8, max_entries = 1 })
    -- a run of five (one CPU: test runs do not migrate) counts five losses
    local prog = {
      dsl.reserve_or_count_loss("r6", rb, 8192, loss, "lost"),
      dsl.ringbuf_discard("r6"),
      dsl.mov("r0", 100), dsl.exit(),
      dsl.label("lost"),
      dsl.st("w", "r10", -4, 0),
      dsl.ld_map_fd("r1", loss), dsl.mov("r2", "r10"), dsl.add("r2", -4),
      dsl.call("map_lookup_elem"),
      dsl.jeq("r0", 0, "out"),
      dsl.ldx("dw", "r0", "r0", 0),
      dsl.label("out"), dsl.exit(),
    }
    local p = assert(programs.load { type = "socket_filter", name = "rb_loss", insns = prog })
    assert.equal(5, assert(p:test_run { data = string.rep("\0", 64), ["repeat"] = 5 }).retval)
    p:close()
    rb:close()
    loss:close()
  end)
end)
