-- SPDX-License-Identifier: MIT
-- The probe DSLs end to end on this kernel: kprobe-DSL programs attached as
-- uprobes and uretprobes to a function of a test binary (gcc-built from
-- spec/support/probe_target.c) read its six arguments and its return value
-- into a ring buffer, decoded by a layout and compared with what the binary
-- was told to pass and printed back; a tracepoint-DSL probe on
-- syscalls/sys_enter_openat reports the file a child opened; the same
-- kprobe programs attached as kprobes fail naming the missing support
-- where the kernel has none, and attach where it has them.
local env = require "support.env"

local NEEDS = { "bpf", "uprobe", "tracefs", "gcc", "attach:uretprobe", "attach:tracepoint" }
local SRC = "spec/support/probe_target.c"
local FUNC = "ebpfdsl_six"

local built
local function build()
  if not built then
    local dir = env.tmpdir()
    env.run(("gcc -O2 -Wall -pthread -o %s/target %s"):format(dir, SRC))
    built = dir .. "/target"
  end
  return built
end

local start = require("support.targets").run

-- What the target computes, in Lua's wrapping 64-bit integers.
local function six(v) return v[1] + 2 * v[2] + 3 * v[3] + 4 * v[4] + 5 * v[5] + 6 * v[6] end

-- Distinctive 64-bit values: each argument differs from the others in every
-- call, so a read of the wrong register shows; extremes and values whose
-- high and low halves differ catch a 32-bit load.
local CALLS = {
  { how = "call", 0x1111111111111111, 0x2222222222222222, 0x3333333333333333, 0x4444444444444444,
    0x5555555555555555, 0x6666666666666666 },
  { how = "call", math.mininteger, math.maxinteger, -1, 0, 1, 0xdeadbeefcafebabe },
  { how = "tcall", 0x0123456789abcdef, -0x0123456789abcdef, 42, -42, 0x7f00000000000001, 0x00000000ffffffff },
  { how = "call", -7, 0x100000000, 0xffffffff00000000, 0x00000000fffffffe, 3, 0x0102030405060708 },
}

-- Event kinds: which program wrote a record.
local ENTRY_BUILD, ENTRY_PROLOGUE, RET_BUILD, RET_DEFINE = 1, 2, 3, 4

-- The four programs: two entries (a builder, and a prologue by hand) and
-- two returns (a builder, and define_kretprobe), all of type kprobe.
local function programs_for(e, ring, Call)
  local d, s, kprobe = e.dsl, e.structs, e.kprobe
  -- reserve a Call in r8, zero it, stamp kind, pid and tgid, run `fill`,
  -- submit; r6, r7 and r9 survive (helpers clobber r0-r5 only)
  local function record(kind, fill)
    return {
      d.ringbuf_reserve("r8", ring, Call:size()),
      d.jeq("r8", 0, "out"),
      s.zero_field("r8", Call),
      s.store_imm("r8", Call, "kind", kind),
      d.call("get_current_pid_tgid"),
      s.store_field("r8", Call, "pid", "r0"), -- a 32-bit store keeps the low half: the thread id
      d.rsh("r0", 32),
      s.store_field("r8", Call, "tgid", "r0"),
      fill,
      d.ringbuf_submit("r8"),
      d.label("out"),
    }
  end
  local function store_args(list)
    local out = {}
    for _, b in ipairs(list) do out[#out + 1] = s.store_field("r8", Call, ("args[%d]"):format(b[1] - 1), b[2]) end
    return out
  end

  -- arguments 1 and 2 into r6, r7 by the builder, the context kept in r9
  -- for arguments 3..6 after the helper calls
  local entry_build = kprobe.build_kprobe_program {
    ctx_reg = "r9", args = { "r6", "r7" },
    body = record(ENTRY_BUILD, {
      kprobe.read_args("r9", { { 3, "r1" }, { 4, "r2" }, { 5, "r3" }, { 6, "r4" } }),
      store_args { { 1, "r6" }, { 2, "r7" }, { 3, "r1" }, { 4, "r2" }, { 5, "r3" }, { 6, "r4" } },
    }),
  }
  -- the other way round: 5 and 6 in the prologue, 1..4 afterwards
  local entry_prologue = {
    kprobe.prologue("r9", { { 5, "r6" }, { 6, "r7" } }),
    record(ENTRY_PROLOGUE, {
      kprobe.read_args("r9", { { 1, "r1" }, { 2, "r2" }, { 3, "r3" }, { 4, "r4" } }),
      store_args { { 1, "r1" }, { 2, "r2" }, { 3, "r3" }, { 4, "r4" }, { 5, "r6" }, { 6, "r7" } },
    }),
    d.mov("r0", 0), d.exit(),
  }
  local ret_build = kprobe.build_kretprobe_program {
    ret_reg = "r6", ctx_reg = "r9",
    body = record(RET_BUILD, { s.store_field("r8", Call, "ret", "r6") }),
  }
  local ret_define = kprobe.define_kretprobe("six_ret_define", { ["function"] = FUNC, ret_reg = "r7" }, {
    record(RET_DEFINE, { s.store_field("r8", Call, "ret", "r7") }),
    d.mov("r0", 0), d.exit(),
  })
  local function load(name, insns)
    local p, msg, _, log = e.programs.load { type = "kprobe", name = name, insns = insns }
    return assert(p, tostring(msg) .. "\n" .. tostring(log))
  end
  return {
    entry_build = load("six_entry", entry_build),
    entry_prologue = load("six_prologue", entry_prologue),
    ret_build = load("six_ret", ret_build),
    ret_define = assert(e.programs.load(ret_define)), -- a program description loads as it is
    ret_define_info = ret_define,
  }
end

local function call_layout(e)
  return e.structs.define("six_call", {
    { "kind", "u32" }, { "pid", "u32" }, { "tgid", "u32" }, { "args", "i64", 6 }, { "ret", "i64" },
  })
end

-- readelf's word on where FUNC lives in the file: its address moved by
-- the LOAD segment that maps it
local function readelf_offset(path)
  local addr = tonumber(env.run(("nm %s | awk '$3 == \"%s\" {print $1}'"):format(path, FUNC)), 16)
  for off, vaddr, filesz in env.run("readelf -lW " .. path):gmatch("LOAD%s+0x(%x+)%s+0x(%x+)%s+0x%x+%s+0x(%x+)") do
    off, vaddr, filesz = tonumber(off, 16), tonumber(vaddr, 16), tonumber(filesz, 16)
    if addr >= vaddr and addr < vaddr + filesz then return addr - vaddr + off end
  end
  error("readelf: no LOAD segment holds " .. FUNC)
end

describe("kprobe DSL programs attached as a uprobe and a uretprobe", function()
  env.it("read all six arguments and the return value into a ring buffer", NEEDS, function()
    local e = require "ebpfdsl"
    local path = build()
    local t = start(path)
    finally(t.stop)
    local Call = call_layout(e)
    assert.equal(72, Call:size()) -- 3 u32, 4 bytes of padding, 7 i64
    local ring <close> = assert(e.maps.ringbuf(64 * 1024))
    local p = programs_for(e, ring, Call)

    -- one entry program by symbol, the other by the offset
    -- uprobe.symbol_offset gives (which readelf confirms below): both fire
    local off = assert(e.uprobe.symbol_offset(path, FUNC))
    local links = {
      assert(p.entry_build:attach_uprobe { path = path, symbol = FUNC }),
      assert(p.entry_prologue:attach_uprobe { path = path, offset = off }),
      assert(p.ret_build:attach_uretprobe { path = path, symbol = FUNC, pid = t.pid }),
      assert(p.ret_define:attach_uprobe { path = path, symbol = p.ret_define_info["function"], retprobe = true }),
    }

    local events = {}
    local r <close> = assert(e.ringbuf.reader {
      [ring] = { layout = Call, handler = function(ev) events[#events + 1] = ev end },
    })
    local answers = {}
    for i, c in ipairs(CALLS) do
      local line = t.send(("%s %d %d %d %d %d %d"):format(c.how, table.unpack(c)))
      local ret, tid = line:match("^ret (%-?%d+) tid (%d+)$")
      assert(ret, "target said: " .. line)
      answers[i] = { ret = math.tointeger(tonumber(ret)), tid = tonumber(tid) }
      assert.equal(six(c), answers[i].ret) -- the binary computed what we expect
    end
    for _, l in ipairs(links) do l:detach() end
    r:consume()

    assert.equal(4 * #CALLS, #events)
    for i, c in ipairs(CALLS) do
      local want_args = { table.unpack(c) }
      local tid = answers[i].tid
      if c.how == "call" then assert.equal(t.pid, tid) else assert.are_not.equal(t.pid, tid) end
      -- a call's two entry records come before its two return records
      local group = { table.unpack(events, 4 * i - 3, 4 * i) }
      local kinds = {}
      for j, ev in ipairs(group) do
        kinds[ev.kind] = true
        assert.equal(t.pid, ev.tgid, "tgid of call " .. i)
        assert.equal(tid, ev.pid, "thread id of call " .. i)
        if j <= 2 then
          assert.truthy(ev.kind == ENTRY_BUILD or ev.kind == ENTRY_PROLOGUE, "call " .. i .. " record " .. j)
          assert.same(want_args, ev.args, "arguments of call " .. i .. ", kind " .. ev.kind)
          assert.equal(0, ev.ret)
        else
          assert.truthy(ev.kind == RET_BUILD or ev.kind == RET_DEFINE, "call " .. i .. " record " .. j)
          assert.equal(answers[i].ret, ev.ret, "return of call " .. i .. ", kind " .. ev.kind)
          assert.same({ 0, 0, 0, 0, 0, 0 }, ev.args)
        end
      end
      assert.same({ true, true, true, true }, kinds)
    end
    -- detached: a further call writes nothing
    t.send("call 1 2 3 4 5 6")
    assert.equal(0, r:consume())
  end)

  env.it("symbol_offset puts the function where readelf does", { "gcc" }, function()
    local e = require "ebpfdsl"
    local path = build()
    local off, where = e.uprobe.symbol_offset(path, FUNC)
    assert.equal(readelf_offset(path), off)
    assert.equal(path, where)
    local none, msg = e.uprobe.symbol_offset(path, "ebpfdsl_nonesuch")
    assert.is_nil(none)
    assert.matches("symbol 'ebpfdsl_nonesuch' not found in " .. path:gsub("%p", "%%%0"), msg)
  end)

  -- NEEDS and `extra`
  local function needs_and(extra)
    local t = { table.unpack(extra) }
    for _, n in ipairs(NEEDS) do table.insert(t, n) end
    return t
  end
  -- fn(prog, method, kind) for the entry and return programs, loaded as kprobes
  local function each_kprobe(fn)
    local e = require "ebpfdsl"
    local ring <close> = assert(e.maps.ringbuf(4096))
    local p = programs_for(e, ring, call_layout(e))
    fn(p.entry_build, "attach_kprobe", "kprobe")
    fn(p.ret_build, "attach_kretprobe", "kretprobe")
  end

  -- where the kernel has no kprobes at all (no PMU, no kprobe_events)
  env.it("fail as kprobes on a kernel function without kprobes, naming the missing support",
    needs_and { "!attach:kprobe", "!attach:kprobe_events" }, function()
    each_kprobe(function(prog, method, kind)
      local link, msg, errno = prog[method](prog, "tcp_v4_connect")
      assert.is_nil(link)
      assert.equal(kind .. " on 'tcp_v4_connect': the kernel lacks kprobe support (CONFIG_KPROBES)",
        msg:match("^[^:]+: [^:]+"))
      assert.equal(95, errno) -- EOPNOTSUPP
    end)
  end)

  env.it("attach as a kprobe and a kretprobe on a kernel function where the kernel has them",
    needs_and { "attach:kprobe", "attach:kretprobe" }, function()
    each_kprobe(function(prog, method, kind)
      local link = assert(prog[method](prog, "tcp_v4_connect"))
      assert.equal("kprobe", link:kind())
      assert.equal((kind == "kretprobe" and "return of " or "") .. "tcp_v4_connect", link:target())
      link:detach()
    end)
  end)
end)

describe("a tracepoint DSL probe on syscalls/sys_enter_openat", function()
  env.it("reports the file a child opened, with its pid, flags and mode", NEEDS, function()
    local e = require "ebpfdsl"
    local d, s = e.dsl, e.structs
    local fmt = assert(e.tracepoint.format("syscalls", "sys_enter_openat"))
    local Open = s.define("open_event", {
      { "pid", "u32" }, { "tgid", "u32" }, { "dfd", "i32" }, { "flags", "u32" }, { "mode", "u32" },
      { "filename", "char", 256 },
    })
    local ring <close> = assert(e.maps.ringbuf(1024 * 1024))
    local loss <close> = assert(e.maps.percpu_array { value = "u64", max_entries = 1 })
    local dir = env.tmpdir()
    local target = dir .. "/opened-by-child-" .. tostring(os.time())
    local t = start(build())
    finally(function() t.stop() os.execute("rm -rf " .. dir) end)
    -- the child's opens only: whatever else opens files meanwhile stays out
    local prog = assert(e.programs.load(fmt:program_info("openat_e2e", e.tracepoint.build_program {
      format = fmt, ctx_reg = "r9", fields = { { "dfd", "r6" }, { "flags", "r7" } },
      body = {
        d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.jne("r0", t.pid, "out"),
        d.reserve_or_count_loss("r8", ring, Open:size(), loss, "out"),
        d.call("get_current_pid_tgid"),
        s.store_field("r8", Open, "pid", "r0"),
        d.rsh("r0", 32),
        s.store_field("r8", Open, "tgid", "r0"),
        s.store_fields("r8", Open, { dfd = "r6", flags = "r7" }),
        fmt:read_field("r9", "mode", "r1"),
        s.store_field("r8", Open, "mode", "r1"),
        s.field_addr("r1", "r8", Open, "filename"),
        fmt:read_string("r9", "filename", "r1", Open:field_size("filename")),
        d.jsgt("r0", 0, "copied"),
        s.store_imm("r8", Open, "filename[0]", 0), -- unreadable: an empty name
        d.label("copied"),
        d.ringbuf_submit("r8"),
        d.label("out"),
      },
    })))
    local r <close> = assert(e.ringbuf.reader { [ring] = { layout = Open, lost = loss } })

    local link = assert(prog:attach_tracepoint("syscalls", "sys_enter_openat"))
    local answer = t.send("open " .. target)
    link:detach()
    local ok, dfd, flags, mode = answer:match("^open (%-?%d+) dfd (%-?%d+) flags (%d+) mode (%d+)$")
    assert.equal("0", ok, "the child could not open " .. target)

    local mine = {}
    for ev in r:events(0) do
      if ev.filename == target then mine[#mine + 1] = ev end
    end
    assert.equal(0, r:lost(), "the ring overflowed")
    assert.equal(1, #mine, "records naming " .. target)
    local ev = mine[1]
    assert.same({ pid = t.pid, tgid = t.pid, dfd = tonumber(dfd), flags = tonumber(flags), mode = tonumber(mode),
                  filename = target }, ev)
    assert.equal(-100, ev.dfd) -- AT_FDCWD
  end)
end)
