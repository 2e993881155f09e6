-- SPDX-License-Identifier: MIT
-- ebpfdsl.trace in the kernel: every probe here runs on a child of this spec
-- (spec/support/trace_target.c), filtered on its pid, which waits for the
-- probes to be attached, does exactly known work and exits; what the
-- probes report is compared with what the child did, and with Lua's own
-- arithmetic on the same numbers.
local env = require "support.env"
local target = require "support.trace_target"
local trace = require "ebpfdsl.trace"
local core = require "ebpfdsl.core"

local NEEDS = { "bpf", "tracefs", "gcc" }
local UPROBE = { "bpf", "tracefs", "gcc", "uprobe" }

-- Runs session S on a child doing `args`: the child starts when the probes
-- are attached, and the run ends when it exits. Returns what on_event got
-- (printf text or emit tables), the child, the monotonic times around it.
local function run_on(S, args, opts, setup)
  local t = target.start(args)
  if setup then setup(t) end
  S.tracepoint("sched:sched_process_exit", function() S.exit() end)
  local before
  S.begin(function()
    before = core.monotime_ns()
    t.go()
  end)
  local events = {}
  local o = { pid = t.pid, duration = 20, print = false, on_event = function(e) events[#events + 1] = e end }
  for k, v in pairs(opts or {}) do o[k] = v end
  S.run(o)
  t.wait()
  return events, t, before, core.monotime_ns()
end

-- A system call's number on this machine, from the C library's header.
local function syscall_nr(name)
  local out = env.run(("printf '#include <sys/syscall.h>\\nSYS_%s\\n' | gcc -E -P - | tail -1"):format(name))
  return assert(tonumber(out:match("%d+")), out)
end

local function field(path, n)
  local s = target.read(path)
  return s and s:match("^%d+ %b() %S+ " .. ("(%-?%d+) "):rep(n - 3))
end

describe("trace builtins", function()
  env.it("give pid, tid, uid, gid, comm, cpu, nsecs, cgroup, curtask and the probe's names", NEEDS, function()
    local S = trace.new()
    local ppid
    S.tracepoint("syscalls:sys_enter_getppid", function(p)
      S.emit { pid = p.pid, tid = p.tid, uid = p.uid, gid = p.gid, comm = p.comm, cpu = p.cpu, nsecs = p.nsecs,
               cgroup = p.cgroup, ppid = p.curtask.real_parent.tgid, me = p.curtask.tgid, probe = p.probe }
    end)
    local cgroup_dir
    local events, t, before, after = run_on(S, { "getppid", "1" }, nil, function(t)
      cgroup_dir = (target.read("/proc/" .. t.pid .. "/cgroup") or ""):match("0::([^\n]*)")
      ppid = tonumber(field("/proc/" .. t.pid .. "/stat", 4))
    end)
    assert.equal(1, #events)
    local e = events[1]
    assert.equal(t.pid, e.pid)
    assert.equal(t.pid, e.tid) -- one thread
    assert.equal(0, e.uid)
    assert.equal(0, e.gid)
    assert.equal("trace_target", e.comm)
    assert.is_true(e.cpu >= 0 and e.cpu < require("ebpfdsl.maps").possible_cpus())
    assert.is_true(e.nsecs > before and e.nsecs < after)
    -- the cgroup v2 id is the inode of the cgroup's directory
    local ino = env.run("stat -c %i /sys/fs/cgroup" .. assert(cgroup_dir)):gsub("%s+", "")
    assert.equal(tonumber(ino), e.cgroup)
    -- the child's parent, as /proc/PID/stat's 4th field gives it
    assert.equal(ppid, e.ppid)
    assert.equal(t.pid, e.me)
    assert.equal("tracepoint:syscalls:sys_enter_getppid", e.probe)
  end)
end)

describe("tracepoint arguments", function()
  env.it("read scalars, signed ints, user strings and array elements by name", NEEDS, function()
    local S = trace.new()
    local path = env.tmpdir() .. "/a-file-of-the-child"
    S.tracepoint("syscalls:sys_enter_openat", function(p)
      S.emit { dfd = p.args.dfd, flags = p.args.flags, file = p.str(p.args.filename, 128),
               short = p.str(p.args.filename, 5) }
    end)
    local events = run_on(S, { "open", path })
    assert.equal(1, #events)
    assert.equal(-100, events[1].dfd) -- AT_FDCWD, sign-extended
    assert.equal(0, events[1].flags) -- O_RDONLY
    assert.equal(path, events[1].file)
    assert.equal(path:sub(1, 4), events[1].short) -- 5 bytes with the NUL
  end)

  env.it("index array fields from 0, as the format's C does", NEEDS, function()
    local S = trace.new()
    local path = env.tmpdir() .. "/x"
    S.tracepoint("raw_syscalls:sys_enter", function(p)
      -- openat(dfd, filename, flags, mode): args[0] is dfd, AT_FDCWD
      -- as an int in a 64-bit register (the child's gcc zero-extends it)
      S.filter((p.args.args[0] & 0xffffffff):eq(0xffffff9c))
      S.emit { id = p.args.id, flags = p.args.args[2], file = p.str(p.args.args[1], 64) }
    end)
    local events = run_on(S, { "open", path })
    assert.equal(1, #events)
    assert.equal(path, events[1].file)
    assert.equal(0, events[1].flags)
  end)

  env.it("raise at the body's line for a field the format lacks", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_openat", function(p) return p.args.nosuch end)
    local ok, err = pcall(S.start, {})
    assert.is_false(ok)
    assert.truthy(err:find("^spec/81%-trace_spec%.lua:%d+: trace: syscalls:sys_enter_openat has no field 'nosuch'"))
    assert.truthy(err:find("filename", 1, true))
  end)
end)

describe("printf", function()
  env.it("formats integers, strings and constants as C's printf does", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_getppid", function(p)
      S.printf("%d|%5d|%-5d|%05d|%u|%x|%X|%o|%c|%s|%s|%d|%%|%ld|%llu|%s|%p\n", p.pid, 42, 42, 42, p.pid - p.pid - 1,
        255, 255, 8, 65, p.comm, "lit", -3, p.pid, p.pid, p.pid, 4096)
    end)
    local events, t = run_on(S, { "getppid", "1" })
    assert.same({ ("%d|   42|42   |00042|18446744073709551615|ff|FF|10|A|trace_target|lit|-3|%%|%d|%d|%d|0x1000\n")
      :format(t.pid, t.pid, t.pid, t.pid) }, events)
  end)

  env.it("raises at the body's line when conversions and values disagree", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_getppid", function(p) S.printf("%d %d\n", p.pid) end)
    local ok, err = pcall(S.start, {})
    assert.is_false(ok)
    assert.truthy(err:find("^spec/81%-trace_spec%.lua:%d+: trace: printf: '%%d %%d\n' has more conversions"))
    S = trace.new()
    S.tracepoint("syscalls:sys_enter_getppid", function(p) S.printf("%d\n", p.comm) end)
    ok, err = pcall(S.start, {})
    assert.is_false(ok)
    assert.truthy(err:find("value 1 is a string; print it with %s", 1, true))
  end)

  env.it("counts the records a full ring buffer refused: printed + lost = made", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_getppid", function(p)
      S.printf("%d %s %s\n", p.pid, p.comm, p.str(p.comm, 16))
    end)
    local n = 5000
    local stderr = io.stderr
    io.stderr = assert(io.tmpfile()) -- luacheck: ignore 122
    local ok, events = pcall(run_on, S, { "getppid", tostring(n) }, { ring = 4096 })
    local err = io.stderr
    io.stderr = stderr -- luacheck: ignore 122
    assert(ok, events)
    assert.is_true(S.lost() > 0)
    assert.equal(n, #events + S.lost())
    err:seek("set")
    assert.equal(("Lost %d events\n"):format(S.lost()), err:read("a"))
  end)
end)

describe("arithmetic and conditions", function()
  env.it("compute in the kernel what Lua computes, on a uprobe's arguments", UPROBE, function()
    local S = trace.new()
    local a, b = 123456789, 1000
    S.uprobe(target.binary(), "trace_target_add", function(p)
      local x, y = p.args[1], p.args[2]
      S.emit { sum = x + y, diff = y - x, prod = x * y, quo = x // y, rem = x % y, band = x & 0xffff, bor = x | y,
               bxor = x ~ y, shl = x << 3, shr = x >> 2, neg = -x, bnot = ~x, mix = (x * 3 + 7) // 2 - y % 7,
               pow2 = x * 16 + x // 8 + x % 64, k = 2 * 3 + 1 }
      S.emit { lt = S.select(x:lt(y), 1, 0), gt = S.select(x:gt(y), 1, 0), eq = S.select(x:eq(a), 1, 0),
               ne = S.select(x:ne(a), 1, 0), le = S.select(y:le(1000), 1, 0), ge = S.select(y:ge(1001), 1, 0),
               both = S.select(x:gt(y) & y:eq(b), 1, 0), either = S.select(x:lt(y) | y:eq(b), 1, 0),
               neither = S.select(S.not_(x:lt(y) | y:ne(b)), 1, 0), inv = S.select(~x:eq(a), 1, 0) }
    end)
    local events = run_on(S, { "add", tostring(a), tostring(b) })
    assert.equal(2, #events)
    assert.same({ sum = a + b, diff = b - a, prod = a * b, quo = a // b, rem = a % b, band = a & 0xffff, bor = a | b,
                  bxor = a ~ b, shl = a << 3, shr = a >> 2, neg = -a, bnot = ~a, mix = (a * 3 + 7) // 2 - b % 7,
                  pow2 = a * 16 + a // 8 + a % 64, k = 7 }, events[1])
    assert.same({ lt = 0, gt = 1, eq = 1, ne = 0, le = 1, ge = 0, both = 1, either = 1, neither = 1, inv = 0 },
      events[2])
  end)

  env.it("compare signed values as signed: a uretprobe's negative return value", UPROBE, function()
    local S = trace.new()
    S.uretprobe(target.binary(), "trace_target_add", function(p)
      local r = p.retval
      S.emit { r = r, neg = S.select(r:lt(0), 1, 0), half = r >> 1, big = S.select(r:gt(-1000), 1, 0) }
    end)
    local events = run_on(S, { "add", "-5000", "3" })
    assert.same({ { r = -4997, neg = 1, half = -4997 >> 1 | (1 << 63), big = 0 } }, events)
  end)

  env.it("filter, branch with when, and compare strings", NEEDS, function()
    local S = trace.new()
    local nr = syscall_nr("getppid")
    S.tracepoint("raw_syscalls:sys_enter", function(p)
      S.filter(p.comm:eq("trace_target"))
      S.filter(S.not_(p.comm:eq("trace_targe")) & p.comm:ne("bash") & p.comm:ne("a much longer name than comm"))
      S.when(p.args.id:eq(nr) | p.args.id:eq(-1), function()
        S.maps.getppid = S.count()
      end, function()
        S.maps.others = S.count()
      end)
      S.when(p.args.id:ne(nr), function() S.maps.others2 = S.count() end)
    end)
    run_on(S, { "getppid", "7" })
    assert.equal(7, S.maps.getppid:read())
    assert.equal(1, S.maps.others:read()) -- exit_group
    assert.equal(1, S.maps.others2:read())
  end)
end)

describe("maps", function()
  env.it("count, sum, min, max, avg by key, read in user space and printed as bpftrace prints", UPROBE, function()
    local S = trace.new()
    S.uprobe(target.binary(), "trace_target_sleep", function(p)
      local us = p.args[1]
      S.maps.n[us % 2] = S.count()
      S.maps.total = S.sum(us)
      S.maps.least = S.min(us)
      S.maps.most[p.comm] = S.max(us)
      S.maps.mean = S.avg(us)
    end)
    run_on(S, { "sleep", "10", "20", "35", "1" })
    assert.equal(2, S.maps.n[0])
    assert.equal(2, S.maps.n[1])
    assert.equal("@n[0]: 2\n@n[1]: 2\n", tostring(S.maps.n))
    assert.equal("@total: 66\n", tostring(S.maps.total))
    assert.equal("@least: 1\n", tostring(S.maps.least))
    assert.equal("@most[trace_target]: 35\n", tostring(S.maps.most))
    assert.equal("@mean: 16\n\n", tostring(S.maps.mean))
    local seen = {}
    for k, v in pairs(S.maps.n) do seen[k] = v end
    assert.same({ [0] = 2, [1] = 2 }, seen)
    S.maps.n:clear()
    assert.is_nil(next(S.maps.n:entries()))
  end)

  env.it("open each uprobe's event before the build, as its attach opens it, and leave none behind", UPROBE,
    function()
      local attach = require "ebpfdsl.attach"
      local asked, real = {}, core.uprobe_prefetch
      core.uprobe_prefetch = function(o) -- a spy: what the session asks for
        asked[#asked + 1] = o
        return real(o)
      end
      finally(function() core.uprobe_prefetch = real end)
      local S = trace.new()
      S.uprobe(target.binary(), "trace_target_sleep", function() S.maps.calls = S.count() end)
      S.uretprobe(target.binary(), "trace_target_sleep", function() S.maps.returns = S.count() end)
      local _, t = run_on(S, { "sleep", "1", "2" })
      assert.same({ { path = target.binary(), symbol = "trace_target_sleep", pid = t.pid },
                    { path = target.binary(), symbol = "trace_target_sleep", pid = t.pid, retprobe = true } }, asked)
      assert.same({ 2, 2 }, { S.maps.calls:read(), S.maps.returns:read() })
      assert.equal(0, attach.uprobe_prefetch_drop())
      -- a body that fails after the prefetch: its event is closed too
      local function perf_fds()
        local n = 0
        for _ in env.run("ls -l /proc/" .. env.pid .. "/fd"):gmatch("anon_inode:%[perf_event%]") do n = n + 1 end
        return n
      end
      local before = perf_fds()
      local S2 = trace.new()
      S2.uprobe(target.binary(), "trace_target_sleep", function(p) return p.no_such_builtin + 1 end)
      assert.has_error(function() S2.start { pid = env.pid } end)
      assert.equal(before, perf_fds())
      assert.equal(0, attach.uprobe_prefetch_drop())
    end)

  env.it("hist and lhist by bpftrace's buckets", UPROBE, function()
    local S = trace.new()
    S.uprobe(target.binary(), "trace_target_sleep", function(p)
      S.maps.h = S.hist(p.args[1] - 1)
      S.maps.l[p.comm] = S.lhist(p.args[1], 0, 100, 10)
    end)
    run_on(S, { "sleep", "1", "2", "3", "100", "101", "55", "200" })
    local h = S.maps.h:entries()[1].value
    -- values 0, 1, 2, 99, 100, 54, 199
    assert.same({ [1] = 1, [2] = 1, [3] = 1, [7] = 1, [8] = 2, [9] = 1 }, h)
    local l = S.maps.l:entries()[1]
    assert.same({ "trace_target" }, l.key)
    assert.same({ [1] = 3, [6] = 1, [11] = 3 }, l.value)
  end)

  env.it("store, read and delete plain values: a latency from entry to return", UPROBE, function()
    local S = trace.new()
    S.uprobe(target.binary(), "trace_target_sleep", function(p)
      S.maps.start[p.tid] = p.nsecs
    end)
    S.uretprobe(target.binary(), "trace_target_sleep", function(p)
      local t0 = S.maps.start[p.tid]
      S.filter(t0:ne(0))
      S.maps.us = S.hist((p.nsecs - t0) // 1000)
      S.maps.calls = S.count()
      S.delete(S.maps.start, p.tid)
    end)
    run_on(S, { "sleep", "3000", "20000", "20000" })
    assert.equal(3, S.maps.calls:read())
    local h = S.maps.us:entries()[1].value
    -- a sleep lasts at least what it asked for (a loaded machine adds):
    -- 3 ms is in bucket 13 ([2K, 4K) us) or above, 20 ms in 16 ([16K, 32K))
    -- or above
    local n, long = 0, 0
    for i, c in pairs(h) do
      assert.is_true(i >= 13 and i <= 20, "bucket " .. i)
      n = n + c
      if i >= 16 then long = long + c end
    end
    assert.equal(3, n)
    assert.is_true(long >= 2)
    assert.is_nil(next(S.maps.start:entries())) -- deleted at each return
  end)

  env.it("raise at the body's line when one map is used two ways", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_getppid", function(p)
      S.maps.x[p.pid] = S.count()
      S.maps.x[p.pid] = S.sum(p.pid)
    end)
    local ok, err = pcall(S.start, {})
    assert.is_false(ok)
    assert.truthy(err:find("^spec/81%-trace_spec%.lua:%d+: trace: map @x holds count values; it cannot also take sum"))
  end)
end)

describe("a verifier refusal", function()
  env.it("names the Lua line that built the refused instruction", NEEDS, function()
    local S = trace.new()
    local value = require "ebpfdsl._trace_value"
    local line
    S.tracepoint("syscalls:sys_enter_getppid", function(p)
      S.printf("%d\n", p.pid)
      -- past what a tracepoint's context can be (8 KiB): only a layer
      -- bypassed can do this
      local fn = value.current; line = debug.getinfo(1, "l").currentline + 1
      S.maps.bad = S.sum(value.int(fn, fn:ld("dw", fn.ctx, 10000)))
    end)
    local ok, err = pcall(S.start, {})
    assert.is_false(ok)
    assert.truthy(err:find("^spec/81%-trace_spec%.lua:" .. line .. ": the verifier refused " ..
      "tracepoint:syscalls:sys_enter_getppid: "), err)
    assert.truthy(err:find("invalid bpf_context access", 1, true), err)
  end)

  env.it("through the public API: 2^20 paths the verifier cannot prune name the body's line", NEEDS, function()
    -- each select doubles the paths, each with its own constant; the
    -- filter on the sum makes every one matter to the verifier, which
    -- gives up after a million instructions
    local S = trace.new()
    local line = debug.getinfo(1, "l").currentline + 5
    S.tracepoint("syscalls:sys_enter_getppid", function(p)
      local x = p.pid
      local sum = 0
      for i = 0, 19 do
        sum = S.select(((x >> i) & 1):ne(0), sum + (1 << i), sum)
      end
      S.filter(sum:ne(123456))
      S.maps.n = S.count()
    end)
    local ok, err = pcall(S.start, {})
    assert.is_false(ok)
    -- the instruction it stopped at: one of the selects' (most likely), the
    -- filter's or the count's
    local at = tonumber(err:match("^spec/81%-trace_spec%.lua:(%d+): the verifier refused " ..
      "tracepoint:syscalls:sys_enter_getppid: "))
    assert.truthy(at == line or at == line + 2 or at == line + 3, err)
    assert.truthy(err:find("BPF program is too large", 1, true), err)
  end)
end)

describe("body mistakes", function()
  local function refused(body)
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_getppid", body)
    local ok, err = pcall(S.start, {})
    assert.is_false(ok)
    return err
  end

  env.it("raise at the user's line with what to do instead", NEEDS, function()
    local function at(err, n, text)
      assert.truthy(err:find(":" .. n .. ": trace: " .. text, 1, true), err)
    end
    local L = debug.getinfo(1, "l").currentline
    at(refused(function(p) return p.pid < 1 end), L + 1, "==, <, <= give Lua booleans")
    at(refused(function(p) return p.pid / 2 end), L + 2, "'/' is float division")
    at(refused(function(p) return p.nosuch end), L + 3, "p has no 'nosuch'")
    at(refused(function(p) return p.args.x end), L + 4, "syscalls:sys_enter_getppid has no field 'x'")
    at(refused(function(p) return p.curtask.nosuch end), L + 5, "struct task_struct has no member 'nosuch'")
    at(refused(function(p) return p.pid + 1.5 end), L + 6, "an operand must be an integer")
    local saved
    refused(function(p) saved = p.pid; error("stop") end)
    local ok, err = pcall(function() return saved + 1 end)
    assert.is_false(ok)
    assert.truthy(err:find("outside its body", 1, true))
  end)
end)

describe("the runner", function()
  env.it("runs begin, interval and finish hooks, and prints the maps each interval", NEEDS, function()
    local S = trace.new()
    local ticks, finished = 0, false
    S.tracepoint("syscalls:sys_enter_getppid", function() S.maps.calls = S.count() end)
    S.interval(0.2, function() ticks = ticks + 1 end)
    S.finish(function() finished = true end)
    local t = target.start { "getppid", "3" }
    S.begin(function() t.go() end)
    S.run { pid = t.pid, duration = 1, print = false }
    t.wait()
    assert.is_true(ticks >= 2 and ticks <= 5, "ticks " .. ticks)
    assert.is_true(finished)
    assert.equal("@calls: 3\n", tostring(S.maps.calls))
  end)

  env.it("prints the maps every interval, clearing them, and at exit as bpftrace does", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_getppid", function(p) S.maps.calls[p.comm] = S.count() end)
    local t = target.start { "getppid", "3" }
    S.begin(function() t.go() end)
    local file = assert(io.tmpfile())
    local saved = io.output()
    io.output(file)
    local ok, err = pcall(S.run, { pid = t.pid, duration = 1, interval = 0.3, header = "HEADER" })
    io.output(saved)
    assert(ok, err)
    t.wait()
    file:seek("set")
    local text = file:read("a")
    -- the header, a print with the 3 calls, nothing more in the next
    -- intervals (cleared, empty), then bpftrace's exit printout: two blank
    -- lines and the empty map
    assert.equal("HEADER\n@calls[trace_target]: 3\n\n\n\n", text)
  end)

  env.it("refuses unknown options at the caller's line", NEEDS, function()
    local S = trace.new()
    local ok, err = pcall(S.run, { duraton = 1 })
    assert.is_false(ok)
    assert.truthy(err:find("unknown option 'duraton'", 1, true))
  end)
end)

describe("more probe kinds and values", function()
  env.it("rawtracepoint: arguments by position, after the tracepoint's own (sys_enter: regs, id)",
    { "bpf", "tracefs", "gcc", "btf" }, function()
    local S = trace.new()
    local nr = syscall_nr("getppid")
    S.rawtracepoint("sys_enter", function(p)
      S.filter(p.args[2]:eq(nr))
      S.maps.n = S.count()
    end)
    run_on(S, { "getppid", "4" })
    assert.equal(4, S.maps.n:read())
  end)

  env.it("profile: samples a spinning child's user stack, named from its symbols", NEEDS, function()
    local S = trace.new()
    S.profile(99, function(p) S.maps.s[p.ustack] = S.count() end)
    run_on(S, { "spin", "300", "sleep", "400000" })
    local text = tostring(S.maps.s)
    assert.truthy(text:find("\n    trace_target_spin%+%d+\n"), text)
    assert.truthy(text:find("\n    main%+%d+\n"), text)
    local total = 0
    for _, n in pairs(S.maps.s) do total = total + n end
    assert.is_true(total >= 10 and total <= 45, "samples " .. total) -- 99 Hz for 0.3 s of CPU
  end)

  env.it("exec: the file, the joined argv and the parent's pid, from two tracepoints", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_execve", function(p)
      S.printf("%s %s %d\n", p.str(p.args.filename), p.join(p.args.argv), p.curtask.real_parent.tgid)
    end)
    S.tracepoint("sched:sched_process_exec", function(p)
      S.printf("exec %s\n", p.args.filename)
    end)
    local ppid
    local events = run_on(S, { "exec", "/bin/echo", "one", "two words", "" }, nil, function(t)
      ppid = tonumber(field("/proc/" .. t.pid .. "/stat", 4))
    end)
    assert.same({ ("/bin/echo /bin/echo one two words %d\n"):format(ppid), "exec /bin/echo\n" }, events)
  end)

  env.it("keys bigger than the 512-byte stack: a per-CPU scratch value holds them", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_execve", function(p)
      S.maps.argv[{ p.comm, p.join(p.args.argv, 8, 100) }] = S.count() -- 816 bytes of key
    end)
    run_on(S, { "exec", "/bin/true", "x", "y" })
    assert.equal("@argv[trace_target, /bin/true x y]: 1\n", tostring(S.maps.argv))
    assert.is_true(S.probes()[1].stack_depth <= 512)
  end)

  env.it("ntop: the address of a connection from sock:inet_sock_set_state", NEEDS, function()
    local S = trace.new()
    S.tracepoint("sock:inet_sock_set_state", function(p)
      S.filter(p.args.newstate:eq(2)) -- TCP_SYN_SENT
      S.emit { daddr = S.ntop(p.args.daddr), dport = p.args.dport, six = S.ntop(p.args.daddr_v6) }
    end)
    local events = run_on(S, { "connect", "9" })
    assert.same({ { daddr = "127.0.0.1", dport = 9, six = "::ffff:127.0.0.1" } }, events)
  end)
end)

describe("values kept and shown", function()
  env.it("masks give C's bits of a narrow signed value, shifted or not (an int of -100)", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_openat", function(p)
      local x = p.args.dfd -- int, AT_FDCWD
      S.emit { a = x & 0x7f, b = (x >> 4) & 0xff, c = (x >> 28) & 0xf, d = (x >> 28) & 0x1f, e = x & 0xffff,
               f = (x >> 8) & 0xffffff, g = x >> 4, h = x & 0x1ffffffff }
    end)
    local events = run_on(S, { "open", "/" })
    local x = -100
    -- Lua's // floors as an arithmetic shift does; & on the 64-bit value
    assert.same({ { a = x & 0x7f, b = (x // 16) & 0xff, c = (x // (1 << 28)) & 0xf, d = (x // (1 << 28)) & 0x1f,
                    e = x & 0xffff, f = (x // 256) & 0xffffff, g = x // 16, h = x & 0x1ffffffff } }, events)
  end)

  env.it("tuples: stored at a call's entry, read at its return and in user space", NEEDS, function()
    local S = trace.new()
    S.tracepoint("syscalls:sys_enter_openat", function(p)
      S.maps.args[p.tid] = { p.args.dfd, p.args.flags, p.pid }
    end)
    S.tracepoint("syscalls:sys_exit_openat", function(p)
      local a = S.maps.args[p.tid]
      S.emit { dfd = a[1], flags = a[2], pid = a[3], gone = S.maps.args[p.tid + 1][1] }
    end)
    local events, t = run_on(S, { "open", "/" })
    assert.same({ { dfd = -100, flags = 0, pid = t.pid, gone = 0 } }, events)
    assert.same({ -100, 0, t.pid }, S.maps.args:read(t.pid))
    assert.equal(("@args[%d]: (-100, 0, %d)\n"):format(t.pid, t.pid), tostring(S.maps.args))
  end)

  env.it("a pointer stored in a map keeps its C type: curtask at entry, its parent's pid at return", NEEDS,
    function()
      local S = trace.new()
      S.tracepoint("syscalls:sys_enter_getppid", function(p) S.maps.task[p.tid] = p.curtask end)
      S.tracepoint("syscalls:sys_exit_getppid", function(p)
        S.emit { ppid = S.maps.task[p.tid].real_parent.tgid, ret = p.args.ret }
      end)
      local events, t = run_on(S, { "getppid", "1" })
      assert.same({ { ppid = t.ppid, ret = t.ppid } }, events)
    end)

  env.it("bswap and ntop: a port in network order, an address in an integer", NEEDS, function()
    local S = trace.new()
    S.tracepoint("sock:inet_sock_set_state", function(p)
      S.filter(p.args.newstate:eq(2)) -- TCP_SYN_SENT
      S.emit { port = S.bswap(p.args.dport), back = S.bswap(S.bswap(p.args.dport)), k = S.bswap(0x1234),
               dfd = S.ntop(p.args.oldstate) }
    end)
    local events = run_on(S, { "connect", "9" })
    -- oldstate TCP_CLOSE (7) as a 32-bit address in memory: 7, 0, 0, 0
    assert.same({ { port = 9 << 8, back = 9, k = 0x3412 << 48, dfd = "7.0.0.0" } }, events)
  end)

  env.it("T.has agrees with the attempts of the specs' own feature probes", { "bpf" }, function()
    for _, kind in ipairs { "kprobe", "uprobe", "fentry" } do
      assert.equal(env.has("attach:" .. kind), (trace.has(kind)), kind)
    end
    assert.is_true(trace.has("tracepoint"))
    assert.has_error(function() trace.has("nosuch") end)
  end)

  env.it("raw tracepoints whose arguments the body reads load as BTF-enabled ones, the others not",
    { "bpf", "tracefs", "btf" }, function()
      local S = trace.new()
      local typed = S.rawtracepoint("sched_switch", function(p) S.maps.n[p.args[3].pid] = S.count() end)
      local plain = S.rawtracepoint("sched_switch", function() S.maps.all = S.count() end)
      assert.equal("tracing", assert(typed:load()):type())
      assert.equal("raw_tracepoint", assert(plain:load()):type())
      -- next->pid: a direct load, no bpf_probe_read_kernel
      for _, x in ipairs(typed:insns()) do assert.is_false(x.op == "call" and x.helper == "probe_read_kernel") end
    end)
end)

describe("docs/trace.md", function()
  env.it("runs its code blocks", NEEDS, function()
    assert.is_true(require("support.doc_blocks").run("docs/trace.md") >= 2)
  end)
end)
