-- SPDX-License-Identifier: MIT
-- The reader's opt-in fast paths against its safe default: handler modes
-- ("reused", "fields", "chunk"), poll_columns, and poll_interval for
-- producers that submit with BPF_RB_NO_WAKEUP. One program writes the very
-- same record into several rings, so each form is compared, record by
-- record, with what the default reader (and E:decode of the bytes) gives
-- for its twin: same records, same order, none lost, none twice; handler
-- errors behave as documented; an AddressSanitizer build runs them too.
local env = require "support.env"
local P = require "support.producers"
local asan = require "support.asan"
local dsl = require "ebpfdsl.dsl"
local maps = require "ebpfdsl.maps"
local programs = require "ebpfdsl.programs"
local ringbuf = require "ebpfdsl.ringbuf"
local structs = require "ebpfdsl.structs"
local core = require "ebpfdsl.core"

-- A 32-byte record of every kind the flat decoder reads: seq, then bytes
-- that change with it (seq times an odd constant, three times).
local FLAT = structs.define("mixed", {
  { "seq", "u64" }, { "a", "i8" }, { "b", "u8" }, { "c", "i16" }, { "e", "i32" },
  { "f", "bool" }, { "g", "char" }, { "h", "char", 6 }, { "i", "u8", 4 }, { "j", "u32" },
})
-- The same 32 bytes through nested structs and arrays (the visitor's path).
local PAIR = structs.define("pair", { { "x", "i32" }, { "y", "u32" } })
local NESTED = structs.define("nested", {
  { "seq", "u64" }, { "pair", PAIR }, { "arr", "i16", 4 }, { "tail", "u64" },
})
assert(FLAT:size() == 32 and NESTED:size() == 32)

-- The names of the values a layout gives, in field order.
local function value_names(E)
  local names = {}
  for _, f in ipairs(E:fields()) do
    if f.type ~= "pad" then names[#names + 1] = f.name end
  end
  return names
end

local function deep_copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = deep_copy(v) end
  return c
end

-- reg = seq, the run's number from 0: counter[0] += 1, its old value;
-- jumps to "out" when the counter is missing
local function next_seq(counter, reg)
  return {
    dsl.st("w", "fp", -4, 0),
    dsl.ld_map_fd("r1", counter), dsl.mov("r2", "fp"), dsl.add("r2", -4), dsl.call("map_lookup_elem"),
    dsl.jeq("r0", 0, "out"),
    dsl.mov(reg, 1), dsl.atomic_fetch_add("dw", "r0", 0, reg),
  }
end

-- Loads a producer's instructions p, with the "out" its next_seq jumps to.
local function load_producer(p, name)
  p[#p + 1] = { dsl.label("out"), dsl.mov("r0", 0), dsl.exit() }
  return assert(programs.load { type = "socket_filter", name = name, insns = p })
end

-- Writes one 32-byte record into every ring of `rings` per run (submitted
-- with `flags`, e.g. "no_wakeup"); seq counts runs from 0.
local function twin_producer(rings, counter, flags)
  local p = {
    next_seq(counter, "r1"),
    dsl.stx("dw", "fp", -40, "r1"),
    dsl.lddw("r2", 0x9E3779B97F4A7C15),
    dsl.mul("r1", "r2"), dsl.stx("dw", "fp", -32, "r1"),
    dsl.mul("r1", "r2"), dsl.stx("dw", "fp", -24, "r1"),
    dsl.mul("r1", "r2"), dsl.stx("dw", "fp", -16, "r1"),
  }
  for _, ring in ipairs(rings) do
    p[#p + 1] = {
      dsl.ld_map_fd("r1", ring), dsl.mov("r2", "fp"), dsl.add("r2", -40), dsl.mov("r3", 32),
      dsl.mov("r4", dsl.ringbuf_flags[flags] or 0), dsl.call("ringbuf_output"),
    }
  end
  return load_producer(p, "ring_twins")
end

-- Polls without waiting until a poll handles nothing; how many in all.
local function drain(r)
  local handled = 0
  repeat
    local n = assert(r:poll(0))
    handled = handled + n
  until n == 0
  return handled
end

local function rings(n)
  local list = {}
  for i = 1, n do list[i] = assert(maps.ringbuf(256 * 1024)) end
  return list
end

-- Runs `fn` and returns the error it raised (nil when none).
local function raised(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return nil end
  return err
end

describe("ring-buffer reader modes", function()
  for _, E in ipairs { FLAT, NESTED } do
    env.it(("give the default's records, in order, in every form (%s layout)"):format(E:name()), "bpf", function()
      local N = 600 -- more than one staging chunk (256) per ring
      local rs = rings(5)
      local prod = twin_producer(rs, P.counter())
      local got = { tables = {}, reused = {}, fields = {}, chunks = {}, bytes = {} }
      local first_reused
      local r = assert(ringbuf.reader {
        [rs[1]] = { layout = E, handler = function(t) got.tables[#got.tables + 1] = t end },
        [rs[2]] = { layout = E, mode = "reused", handler = function(t)
          first_reused = first_reused or t
          assert(rawequal(t, first_reused), "mode reused gave another table")
          got.reused[#got.reused + 1] = deep_copy(t)
        end },
        [rs[3]] = { layout = E, mode = "fields", handler = function(...)
          got.fields[#got.fields + 1] = table.pack(...)
        end },
        [rs[4]] = { mode = "chunk", handler = function(chunk, pos, len)
          assert.equal("string", type(chunk))
          got.chunks[#got.chunks + 1] = chunk:sub(pos, pos + len - 1)
          -- string.unpack reads the record in place
          assert.equal(#got.chunks - 1, (string.unpack("<I8", chunk, pos)))
        end },
        [rs[5]] = { mode = "bytes", handler = function(b) got.bytes[#got.bytes + 1] = b end },
      })
      P.run(prod, N)
      assert.equal(5 * N, drain(r))
      local names = value_names(E)
      for _, list in pairs(got) do assert.equal(N, #list) end
      for i = 1, N do
        local want = E:decode(got.bytes[i])
        assert.equal(i - 1, want.seq)
        assert.same(want, got.tables[i])
        assert.same(want, got.reused[i])
        assert.equal(got.bytes[i], got.chunks[i])
        assert.equal(#names, got.fields[i].n)
        for k, name in ipairs(names) do assert.same(want[name], got.fields[i][k]) end
      end
      r:close()
    end)
  end

  for _, mode in ipairs { "table", "reused", "fields", "chunk", "bytes" } do
    env.it(("'%s': a handler error stops, is re-raised as raised, and the next poll resumes"):format(mode), "bpf",
      function()
        P.check_handler_errors(function(handler)
          local ring = rings(1)[1]
          local prod = twin_producer({ ring }, P.counter())
          local decode = mode ~= "chunk" and mode ~= "bytes"
          return assert(ringbuf.reader { [ring] = { layout = decode and FLAT or nil, mode = mode,
            handler = function(x, pos)
              if mode == "fields" then handler(x)
              elseif mode == "chunk" then handler((string.unpack("<I8", x, pos)))
              elseif mode == "bytes" then handler((string.unpack("<I8", x)))
              else handler(x.seq) end
            end } }), prod
        end)
      end)
  end

  for _, mode in ipairs { "reused", "fields" } do
    env.it(("'%s': a record shorter than the layout raises, then the reader goes on"):format(mode), "bpf",
      function()
        local ring, counter = rings(1)[1], P.counter()
        local long, short = twin_producer({ ring }, counter), P.ring_output(ring, counter, 5, 16)
        local seqs = {}
        local r = assert(ringbuf.reader { [ring] = { layout = FLAT, mode = mode, handler = function(x)
          seqs[#seqs + 1] = mode == "fields" and x or x.seq
        end } })
        P.run(long, 2)
        P.run(short, 1)
        P.run(long, 2)
        local err = raised(r.poll, r, 0)
        assert.matches("16%-byte record is shorter than its layout %(32 bytes%)", err)
        assert.same({ 0, 1 }, seqs)
        assert.equal(2, r:poll(0))
        assert.same({ 0, 1, 3, 4 }, seqs)
      end)
  end

  env.it("stop after a handler that closes the reader, in a fast mode", "bpf", function()
    local ring = rings(1)[1]
    local prod = twin_producer({ ring }, P.counter())
    local r
    local n = 0
    r = assert(ringbuf.reader { [ring] = { layout = FLAT, mode = "fields", handler = function()
      n = n + 1
      if n == 3 then r:close() end
    end } })
    P.run(prod, 10)
    assert.equal(3, r:poll(0))
    assert.error_matches(function() r:poll(0) end, "attempt to use a closed ebpfdsl.RingBuf")
  end)

  env.it("give events() and poll_batch() new tables whatever the mode", "bpf", function()
    local ring = rings(1)[1]
    local prod = twin_producer({ ring }, P.counter())
    local r = assert(ringbuf.reader { [ring] = { layout = FLAT, mode = "reused", handler = function() end } })
    P.run(prod, 4)
    local evs = r:poll_batch(2)
    assert.are_not.equal(evs[1], evs[2])
    assert.same({ 0, 1 }, { evs[1].seq, evs[2].seq })
    local seen = {}
    for ev in r:events(0) do seen[#seen + 1] = ev end
    assert.same({ 2, 3 }, { seen[1].seq, seen[2].seq })
    assert.are_not.equal(seen[1], seen[2])
  end)

  env.it("refuse modes that do not fit the ring, naming the ring and the mode", "bpf", function()
    local ring = rings(1)[1]
    local f = function() end
    local duck = P.layout(32)
    local cases = {
      { { mode = "fast", handler = f }, "unknown mode 'fast'" },
      { { mode = 1, handler = f }, "mode must be a string, got number" },
      { { mode = "reused", handler = f }, "mode 'reused' needs a layout" },
      { { mode = "chunk", layout = FLAT, handler = f }, "mode 'chunk' takes no layout" },
      { { mode = "bytes", layout = FLAT, handler = f }, "mode 'bytes' takes no layout" },
      { { mode = "fields", layout = duck, handler = f }, "mode 'fields' needs an ebpfdsl.Layout" },
      { { mode = "reused", layout = FLAT }, "mode 'reused' shapes what a handler gets, and the ring has none" },
    }
    for _, c in ipairs(cases) do
      local pattern = "ring 1: " .. c[2]:gsub("[%(%)%.%-']", "%%%0")
      assert.error_matches(function() ringbuf.reader { [ring] = c[1] } end, pattern)
    end
    -- the defaults may be named
    assert(ringbuf.reader { [ring] = { mode = "table", layout = duck, handler = f } }):close()
    assert(ringbuf.reader { [ring] = { mode = "bytes", handler = f } }):close()
  end)
end)

describe("ringbuf poll_columns", function()
  for _, E in ipairs { FLAT, NESTED } do
    env.it(("gives poll_batch's records as one new list per field (%s layout)"):format(E:name()), "bpf",
      function()
        local a, b = table.unpack(rings(2))
        local prod = twin_producer({ a, b }, P.counter())
        local batch = assert(ringbuf.reader { [a] = { layout = E } })
        local columns = assert(ringbuf.reader { [b] = { layout = E } })
        local names = value_names(E)
        P.run(prod, 250)
        local cols, kept
        local seen = 0
        for _, want in ipairs { 100, 100, 50, 0 } do
          local n, c = columns:poll_columns(100, 0, cols)
          local evs = batch:poll_batch(100)
          assert.equal(want, n)
          assert.equal(want, #evs)
          if cols then assert.equal(cols, c) end -- the table given is the table filled
          cols = c
          for _, name in ipairs(names) do assert.equal(n, #cols[name]) end
          for i = 1, n do
            assert.equal(seen + i - 1, cols.seq[i])
            for _, name in ipairs(names) do assert.same(evs[i][name], cols[name][i]) end
          end
          -- a list of an earlier call is the caller's to keep
          if kept then assert.same(kept.want, kept.list) end
          if n > 0 then kept = { list = cols.seq, want = { table.unpack(cols.seq) } } end
          seen = seen + n
        end
        assert.equal(250, seen)
      end)
  end

  env.it("makes a new table when none is given, and reads every ring of one layout in turn", "bpf", function()
    local a, b = table.unpack(rings(2))
    local prod = twin_producer({ a, b }, P.counter())
    local r = assert(ringbuf.reader { [a] = { layout = FLAT }, [b] = { layout = FLAT } })
    P.run(prod, 3)
    local n, cols = r:poll_columns(10)
    assert.equal(6, n)
    local count = {}
    for i = 1, n do count[cols.seq[i]] = (count[cols.seq[i]] or 0) + 1 end
    assert.same({ [0] = 2, [1] = 2, [2] = 2 }, count)
    local n2, cols2 = r:poll_columns(10)
    assert.equal(0, n2)
    assert.are_not.equal(cols, cols2)
  end)

  env.it("returns the rows before a short record, raises on the next call, then goes on", "bpf", function()
    local ring, counter = rings(1)[1], P.counter()
    local long, short = twin_producer({ ring }, counter), P.ring_output(ring, counter, 5, 16)
    local r = assert(ringbuf.reader { [ring] = { layout = FLAT } })
    P.run(long, 3)
    P.run(short, 1)
    P.run(long, 2)
    local n, cols = r:poll_columns(10)
    assert.equal(3, n)
    assert.same({ 0, 1, 2 }, cols.seq)
    assert.error_matches(function() r:poll_columns(10, 0, cols) end, "16%-byte record is shorter than its layout")
    n = r:poll_columns(10, 0, cols)
    assert.equal(2, n)
    assert.same({ 4, 5 }, cols.seq)
  end)

  env.it("refuses rings without one shared ebpfdsl.Layout, and bad arguments", "bpf", function()
    local a, b = table.unpack(rings(2))
    local other = structs.define("other", { { "x", "u64" } })
    local f = function() end
    assert.error_matches(function() assert(ringbuf.reader { [a] = f }):poll_columns(1) end,
      "every ring must have the same ebpfdsl.Layout %(ring 1 has none%)")
    assert.error_matches(function() assert(ringbuf.reader { [a] = { layout = P.layout(32) } }):poll_columns(1) end,
      "every ring must have the same ebpfdsl.Layout")
    local two = assert(ringbuf.reader { [a] = { layout = FLAT }, [b] = { layout = other } })
    assert.error_matches(function() two:poll_columns(1) end, "ring 2 has another")
    local r = assert(ringbuf.reader { [a] = { layout = FLAT } })
    assert.error_matches(function() r:poll_columns(0) end, "max must be 1..65536")
    assert.error_matches(function() r:poll_columns(65537) end, "max must be 1..65536")
    assert.error_matches(function() r:poll_columns(1, 0, "cols") end, "table expected, got string")
    assert.error_matches(function() r:poll_columns(1, -2) end, "timeout must be")
  end)
end)

describe("ringbuf poll_interval", function()
  env.it("takes records a producer in another process submitted with no_wakeup, while waiting",
    { "bpf", "tracefs", "gcc" }, function()
      -- the child prints its pid, waits to be let go (a FIFO), waits 200 ms
      -- more, so that our poll is waiting, then calls getppid 5 times
      local dir = env.tmpdir()
      local src = assert(io.open(dir .. "/calls.c", "w"))
      src:write([[
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) { char c; int fd; printf("%d\n", (int)getpid()); fflush(stdout);
  fd = open(argv[1], O_RDONLY); if (fd < 0 || read(fd, &c, 1) != 1) return 1; usleep(200000);
  for (int i = 0; i < 5; i++) syscall(SYS_getppid); return 0; }
]])
      src:close()
      env.run(("gcc -O2 -o %s/calls %s/calls.c && mkfifo %s/go"):format(dir, dir, dir))
      local child = assert(io.popen(("%s/calls %s/go"):format(dir, dir)))
      local child_pid = assert(tonumber(child:read("l")))
      local ring = assert(maps.ringbuf(64 * 1024))
      -- the child's getppid calls (not the others': the machine may be busy)
      -- write its tgid, waking nobody
      local prog = assert(programs.load { type = "tracepoint", name = "rb_nowake", insns = {
        dsl.call("get_current_pid_tgid"), dsl.rsh("r0", 32), dsl.jne("r0", child_pid, "out"),
        dsl.stx("w", "fp", -8, "r0"), dsl.mov("r7", "fp"), dsl.add("r7", -8),
        dsl.ringbuf_output(ring, "r7", 4, "no_wakeup"),
        dsl.label("out"), dsl.mov("r0", 0), dsl.exit(),
      } })
      local link = assert(prog:attach_tracepoint("syscalls", "sys_enter_getppid"))
      local mine = 0
      local r = assert(ringbuf.reader { [ring] = function(b)
        if string.unpack("<I4", b) == child_pid then mine = mine + 1 end
      end, poll_interval = 20 })
      local go = assert(io.open(dir .. "/go", "w"))
      go:write("x")
      go:close()
      local t0 = core.monotime_ns()
      while mine < 5 and core.monotime_ns() - t0 < 10e9 do assert(r:poll(10000)) end
      child:close()
      assert.equal(5, mine) -- all five calls of the child
      -- found by looking every 20 ms, not by poll(10000) timing out
      assert.is_true(core.monotime_ns() - t0 < 8e9, "the waiting poll did not look again")
      link:detach()
      env.run("rm -rf " .. dir)
    end)

  env.it("is refused when negative or not an integer", "bpf", function()
    local ring = assert(maps.ringbuf(64 * 1024))
    local f = function() end
    assert.error_matches(function() ringbuf.reader { [ring] = f, poll_interval = -1 } end,
      "poll_interval must be 0..2^31%-1 ms")
    assert.error_matches(function() ringbuf.reader { [ring] = f, poll_interval = "10" } end, "poll_interval")
  end)
end)

-- Into each ring of `list`, one 32-byte record {seq, seq, 0, 0} per run
-- through reserve, every third one (seq % 3 == 1) discarded: a reader
-- must skip those and take the others, in order.
local function discarding_producer(list, counter)
  local p = { next_seq(counter, "r7") }
  for i, ring in ipairs(list) do
    p[#p + 1] = {
      dsl.ringbuf_reserve("r6", ring, 32),
      dsl.jeq("r6", 0, "out"),
      dsl.stx("dw", "r6", 0, "r7"), dsl.stx("dw", "r6", 8, "r7"), dsl.st("dw", "r6", 16, 0), dsl.st("dw", "r6", 24, 0),
      dsl.mov("r8", "r7"), dsl.mod("r8", 3),
      dsl.jne("r8", 1, "submit" .. i),
      dsl.ringbuf_discard("r6"),
      dsl.ja("next" .. i),
      dsl.label("submit" .. i),
      dsl.ringbuf_submit("r6"),
      dsl.label("next" .. i),
    }
  end
  return load_producer(p, "ring_discard")
end

-- the seqs a discarding producer's n runs leave for a reader
local function kept_seqs(n)
  local want = {}
  for seq = 0, n - 1 do
    if seq % 3 ~= 1 then want[#want + 1] = seq end
  end
  return want
end

-- 900 runs of a discarding producer into a ring that reader(ring) reads:
-- events() takes one record (first_seq gives its seq; the rest of its
-- delivery stays staged), then take(r) until it gives nothing, a list of
-- {seq, again} per record. Staged records come first, none discarded.
local function staged_then_rings(reader, first_seq, take)
  local ring = rings(1)[1]
  local prod = discarding_producer({ ring }, P.counter())
  local r = reader(ring)
  P.run(prod, 900) -- 600 kept
  local seqs = { first_seq(r:events(0)()) }
  assert.is_true(r:staged() > 0)
  while true do
    local got = take(r)
    if #got == 0 then break end
    for _, rec in ipairs(got) do
      assert.equal(rec[1], rec[2])
      seqs[#seqs + 1] = rec[1]
    end
  end
  assert.equal(0, r:staged())
  assert.same(kept_seqs(900), seqs)
  r:close()
end

describe("reading in place (nothing staged)", function()
  local SEQ = structs.define("seq_rec", { { "seq", "u64" }, { "again", "u64" }, { "z", "u64", 2 } })

  env.it("chunk handlers over several rings: every submitted record once, in order per ring, none discarded",
    "bpf", function()
      local a, b = table.unpack(rings(2))
      local prod = discarding_producer({ a, b }, P.counter())
      local got = { [a] = {}, [b] = {} }
      local function keep(ring)
        return { mode = "chunk", handler = function(chunk, pos, len)
          assert.equal(32, len)
          local seq, again = string.unpack("<I8I8", chunk, pos)
          assert.equal(seq, again)
          got[ring][#got[ring] + 1] = seq
        end }
      end
      local r = assert(ringbuf.reader { [a] = keep(a), [b] = keep(b) })
      local N = 700 -- more than one delivery (256 records) per ring
      P.run(prod, N)
      local handled = drain(r)
      local want = kept_seqs(N)
      assert.equal(2 * #want, handled)
      assert.same(want, got[a])
      assert.same(want, got[b])
      -- and what comes later, too
      P.run(prod, 5)
      assert.equal(2 * 3, r:poll(0))
      assert.same({ 701, 702, 704 }, { table.unpack(got[a], #want + 1) }) -- 700 and 703: discarded
      r:close()
    end)

  env.it("a chunk handler that closes its reader stops it at once", "bpf", function()
    local ring = rings(1)[1]
    local prod = twin_producer({ ring }, P.counter())
    local r
    local n = 0
    r = assert(ringbuf.reader { [ring] = { mode = "chunk", handler = function()
      n = n + 1
      if n == 3 then r:close() end
    end } })
    P.run(prod, 10)
    assert.equal(3, r:poll(0))
    assert.equal(3, n)
    assert.error_matches(function() r:poll(0) end, "attempt to use a closed ebpfdsl.RingBuf")
  end)

  env.it("poll_columns skips discarded records, and gives staged records before the rings' own", "bpf",
    function()
      staged_then_rings(function(ring) return assert(ringbuf.reader { [ring] = { layout = SEQ } }) end,
        function(first)
          assert.equal(0, first.seq)
          return first.seq
        end,
        function(r)
          local n, cols = r:poll_columns(100)
          local got = {}
          for i = 1, n do got[i] = { cols.seq[i], cols.again[i] } end
          return got
        end)
    end)
end)

describe("ringbuf poll_chunk", function()
  -- the records of a poll_chunk result, as strings
  local function split(n, chunk, offs)
    assert.equal(n + 1, #offs)
    assert.equal(#chunk + 1, offs[n + 1])
    local list = {}
    for i = 1, n do list[i] = chunk:sub(offs[i], offs[i + 1] - 1) end
    return list
  end

  env.it("gives poll_batch's records, in order, none lost, in one string, refilling the offsets given", "bpf",
    function()
      local a, b = table.unpack(rings(2))
      local prod = twin_producer({ a, b }, P.counter())
      local chunks = assert(ringbuf.reader { [a] = function() end })
      local batch = assert(ringbuf.reader { [b] = function() end })
      P.run(prod, 250)
      local offs = {}
      local seen = 0
      for _, want in ipairs { 100, 100, 50, 0 } do
        local n, chunk, o = chunks:poll_chunk(100, 0, offs)
        assert.equal(offs, o) -- the table given is the table filled
        assert.equal(want, n)
        assert.equal(32 * n, #chunk)
        local evs = batch:poll_batch(100)
        assert.same(evs, split(n, chunk, offs))
        for i = 1, n do assert.equal(seen + i - 1, (string.unpack("<I8", chunk, offs[i]))) end
        seen = seen + n
      end
      assert.equal(250, seen)
      -- without a table, a new one each call
      P.run(prod, 2)
      local n, _, o1 = chunks:poll_chunk(1)
      local _, _, o2 = chunks:poll_chunk(1)
      assert.equal(1, n)
      assert.are_not.equal(o1, o2)
      chunks:close()
      batch:close()
    end)

  env.it("reads every ring in turn, records of any length and layout", "bpf", function()
    local a, b = table.unpack(rings(2))
    local counter = P.counter()
    local sizes = { 16, 40, 24 }
    local prods = {}
    for i, size in ipairs(sizes) do prods[i] = P.ring_output(i == 2 and b or a, counter, size, size) end
    local r = assert(ringbuf.reader { [a] = { layout = P.layout(16) }, [b] = { mode = "chunk", handler = error } })
    for _ = 1, 10 do
      for _, p in ipairs(prods) do P.run(p, 1) end
    end
    local n, chunk, offs = r:poll_chunk(1000)
    assert.equal(30, n)
    local seqs = { [a] = {}, [b] = {} }
    for _, rec in ipairs(split(n, chunk, offs)) do
      local seq, tag = string.unpack("<I8I8", rec)
      assert.equal(tag, #rec) -- each producer tags its records with their size
      assert.equal(string.rep("\0", #rec - 16), rec:sub(17))
      local list = seqs[tag == 40 and b or a]
      list[#list + 1] = seq
    end
    local want = { [a] = {}, [b] = {} }
    for seq = 0, 29 do
      local list = want[seq % 3 == 1 and b or a]
      list[#list + 1] = seq
    end
    assert.same(want, seqs) -- in order per ring, each once
    assert.equal(0, (r:poll_chunk(10)))
    r:close()
  end)

  env.it("skips discarded records, gives staged records first, then the rings' own", "bpf", function()
    local offs = {}
    staged_then_rings(function(ring) return assert(ringbuf.reader { [ring] = function() end }) end,
      function(first) return (string.unpack("<I8", first)) end,
      function(r)
        local n, chunk = r:poll_chunk(100, 0, offs)
        local got = {}
        for i = 1, n do got[i] = { string.unpack("<I8I8", chunk, offs[i]) } end
        return got
      end)
  end)

  env.it("gives an empty chunk and offs {1} when nothing came within timeout_ms", "bpf", function()
    local ring = rings(1)[1]
    local r = assert(ringbuf.reader { [ring] = function() end })
    local n, chunk, offs = r:poll_chunk(10, 20)
    assert.equal(0, n)
    assert.equal("", chunk)
    assert.same({ 1 }, offs)
    r:close()
  end)

  env.it("refuses bad arguments, reading from inside its own handler, and a closed reader", "bpf", function()
    local ring, inner, r = rings(1)[1], nil, nil
    r = assert(ringbuf.reader { [ring] = function() inner = raised(r.poll_chunk, r, 1) end })
    assert.error_matches(function() r:poll_chunk(0) end, "max must be 1..65536")
    assert.error_matches(function() r:poll_chunk(65537) end, "max must be 1..65536")
    assert.error_matches(function() r:poll_chunk("x") end, "number expected, got string")
    assert.error_matches(function() r:poll_chunk(1, 0, "offs") end, "table expected, got string")
    assert.error_matches(function() r:poll_chunk(1, -2) end, "timeout must be")
    local prod = twin_producer({ ring }, P.counter())
    P.run(prod, 3)
    assert.equal(1, r:poll_chunk(1)) -- the argument errors took nothing
    assert.equal(1, r:poll(0) > 0 and 1 or 0)
    assert.matches("cannot read from inside its own handler", inner)
    -- what a call returned stays the caller's after close
    P.run(prod, 4)
    local n, chunk, offs = r:poll_chunk(10)
    r:close()
    assert.equal(4, n)
    assert.equal(128, #chunk)
    assert.equal(3 + 3, (string.unpack("<I8", chunk, offs[4])))
    assert.error_matches(function() r:poll_chunk(1) end, "attempt to use a closed ebpfdsl.RingBuf")
  end)

  env.it("runs the example of docs/readers.md", "bpf", function()
    local doc = assert(io.open("docs/readers.md")):read("a")
    local block = doc:match("```lua\n([^`]-poll_chunk.-)```")
    local ring, counter = rings(1)[1], P.counter()
    P.run(P.ring_output(ring, counter, 7, 24), 300)
    local said
    local envt = setmetatable({ r = assert(ringbuf.reader { [ring] = function() end }),
                                print = function(s) said = s end }, { __index = _G })
    assert(load(block, "=docs/readers.md", "t", envt))()
    assert.equal("300 records, first fields summing to " .. 299 * 300 // 2, said)
  end)
end)

describe("the fast paths under AddressSanitizer", function()
  env.it("decode, refill, pass fields and chunks, fill columns and fail without a bad access",
    { "asan", "bpf" }, function()
      local ok, out = asan.run [[
package.path = "spec/?.lua;" .. package.path
local P = require "support.producers"
local maps = require "ebpfdsl.maps"
local ringbuf = require "ebpfdsl.ringbuf"
local structs = require "ebpfdsl.structs"
local PAIR = structs.define("pair", { { "x", "i32" }, { "y", "u32" } })
local FLAT = structs.define("flat", { { "seq", "u64" }, { "tag", "u64" }, { "t", "char", 8 }, { "b", "u8", 8 } })
local NESTED = structs.define("nested", { { "seq", "u64" }, { "p", PAIR }, { "a", "i16", 4 }, { "z", "u64" } })
for _, E in ipairs { FLAT, NESTED } do
  for _, mode in ipairs { "table", "reused", "fields" } do
    local ring, counter = assert(maps.ringbuf(64 * 1024)), P.counter()
    local prod, short = P.ring_output(ring, counter, 3, 32), P.ring_output(ring, counter, 3, 16)
    local n = 0
    local r = assert(ringbuf.reader { [ring] = { layout = E, mode = mode, handler = function(x)
      n = n + 1
      if n == 300 then error("boom") end
      collectgarbage("step")
    end } })
    P.run(prod, 400); P.run(short, 1); P.run(prod, 10)
    for _ = 1, 5 do pcall(r.poll, r, 0) end
    r:close()
    local c = assert(ringbuf.reader { [ring] = { layout = E } })
    P.run(prod, 300); P.run(short, 1); P.run(prod, 3)
    local cols = {}
    for _ = 1, 5 do pcall(c.poll_columns, c, 128, 0, cols); collectgarbage() end
    c:close()
  end
end
local ring, counter = assert(maps.ringbuf(64 * 1024)), P.counter()
local prod = P.ring_output(ring, counter, 3, 24)
local sum = 0
local r = assert(ringbuf.reader { [ring] = { mode = "chunk", handler = function(chunk, pos, len)
  sum = sum + string.unpack("<I8", chunk, pos) + len
end } })
P.run(prod, 700)
while r:poll(0) > 0 do end
assert(sum == 699 * 700 // 2 + 700 * 24, sum)
r:close()
-- poll_chunk: staged and in place, records of two lengths, reused offsets
local a, b = assert(maps.ringbuf(64 * 1024)), assert(maps.ringbuf(64 * 1024))
local pa, pb = P.ring_output(a, counter, 1, 16), P.ring_output(b, counter, 2, 40)
local rc = assert(ringbuf.reader { [a] = function() end, [b] = function() end })
local offs, got = {}, 0
for round = 1, 3 do
  P.run(pa, 500); P.run(pb, 300)
  if round == 2 then assert(rc:events(0)()) got = got + 1 end
  while true do
    local n, chunk = rc:poll_chunk(round * 100, 0, offs)
    if n == 0 then break end
    for i = 1, n do assert(string.unpack("<I8", chunk, offs[i + 1] - 8) == 0 or offs[i + 1] - offs[i] == 16) end
    got = got + n
    collectgarbage("step")
  end
end
assert(got == 3 * 800, got)
rc:close()
print("fast paths ok")
]]
      assert.is_true(ok, out)
      assert.matches("fast paths ok", out)
    end)
end)
