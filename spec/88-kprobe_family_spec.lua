-- SPDX-License-Identifier: MIT
-- The kprobe family for real, where the kernel has it (Debian's 6.1 under
-- `make vmtest`, which demands it; the development kernel refuses all of
-- it, and its feature table says so): kprobes and kretprobes on kernel functions, syscall
-- arguments read through the wrapper's pt_regs, the tracefs kprobe_events
-- path, kprobe_multi by glob and by list (the multi link, or one kprobe per
-- function where the kernel has no fprobe), fentry, fexit, fmod_ret, BPF
-- LSM, and the tcp_v4_connect example. Each program counts or records per
-- process, and each spec reads only the entries of the children it ran.
local env = require "support.env"
local targets = require "support.targets"

-- counts[tgid] += 1, for any program type; `only` filters on one tgid,
-- and only its calls return `ret` (others return 0: for fmod_ret and LSM
-- programs that is "carry on").
local function counter(e, spec, counts, only, ret)
  local d = e.dsl
  local count = require "support.count"
  spec.insns = {
    d.call("get_current_pid_tgid"),
    d.rsh("r0", 32),
    only and d.jne("r0", only, "others") or {},
    d.stx("w", "fp", -4, "r0"),
    count.bump(d, counts, -4),
    d.mov("r0", ret or 0),
    d.exit(),
    only and { d.label("others"), d.mov("r0", 0), d.exit() } or {},
  }
  spec.name = spec.name or "count"
  return e.programs.load(spec)
end

local function hash(e, key)
  return assert(e.maps.hash { key = key or "u32", value = "u64", max_entries = 1024 })
end

-- Children calling getppid n times are counted exactly; after detach, not.
local function counts_children(link, counts)
  local runs, pids = { 7, 1, 250 }, {}
  for i, n in ipairs(runs) do pids[i] = targets.getppid(n) end
  for i, n in ipairs(runs) do
    assert.equal(n, counts[pids[i]], ("child %d called getppid %d times"):format(pids[i], n))
  end
  assert.is_nil(counts[targets.getppid(0)], "a child that never called getppid")
  link:detach()
  assert.is_nil(counts[targets.getppid(5)], "a child after detach")
end

describe("kprobes on kernel functions", function()
  env.it("a kprobe counts exactly the getppid(2) calls each child makes", { "bpf", "gcc", "attach:kprobe" },
    function()
    local e = require "ebpfdsl"
    local fn = e.arch.syscall_function("getppid")
    local counts <close> = hash(e)
    local prog = assert(counter(e, { type = "kprobe" }, counts))
    local link = assert(prog:attach_kprobe(fn))
    assert.equal("kprobe", link:kind())
    assert.equal(fn, link:target())
    local info = assert(link:info())
    assert.equal("perf_event", info.type)
    assert.equal(prog:info().id, info.prog_id)
    counts_children(link, counts)
  end)

  env.it("a kretprobe reads the return value getppid(2) gave each child", { "bpf", "gcc", "attach:kretprobe" },
    function()
    local e = require "ebpfdsl"
    local d, kprobe = e.dsl, e.kprobe
    local fn = e.arch.syscall_function("getppid")
    local rets <close> = hash(e)
    -- rets[tgid] = the return value, as PT_REGS_RC reads it
    local info = kprobe.define_kretprobe("ppid", { ["function"] = fn, ret_reg = "r6" }, {
      d.call("get_current_pid_tgid"),
      d.rsh("r0", 32),
      d.stx("w", "fp", -4, "r0"),
      d.stx("dw", "fp", -16, "r6"),
      require("support.count").update(d, rets, -4, -16),
      d.mov("r0", 0),
      d.exit(),
    })
    local prog = assert(e.programs.load(info))
    local link = assert(prog:attach_kretprobe(info["function"]))
    assert.equal("return of " .. fn, link:target())
    for i = 1, 3 do
      local pid, ppid = targets.getppid(i)
      assert.is_true(ppid > 1)
      assert.equal(ppid, rets[pid], "what getppid returned to child " .. pid)
    end
    link:detach()
    local pid = targets.getppid(2)
    assert.is_nil(rets[pid], "a child after detach")
  end)

  -- kallsyms' address of a function (root sees real addresses)
  local function kallsyms(name)
    for line in io.lines("/proc/kallsyms") do
      local addr, sym = line:match("^(%x+) [tT] (%S+)$")
      if sym == name then return math.tointeger(tonumber(addr, 16)) end
    end
  end

  -- The kprobes the kernel has registered at an address, as debugfs lists them.
  local function registered_at(addr)
    local n = 0
    for line in io.lines("/sys/kernel/debug/kprobes/list") do
      local a = line:match("^(%x+)")
      if a and math.tointeger(tonumber(a, 16)) == addr then n = n + 1 end
    end
    return n
  end

  env.it("at an offset: refused between instructions, saying so; at an instruction, where kallsyms puts it",
    { "bpf", "gcc", "attach:kprobe" }, function()
    local e = require "ebpfdsl"
    local errno = require "support.errno"
    local fn = e.arch.syscall_function("getppid")
    local base = assert(kallsyms(fn), "kallsyms has no " .. fn)
    local counts <close> = hash(e)
    local prog = assert(counter(e, { type = "kprobe" }, counts))
    -- the first instruction is a few bytes long: the kernel refuses the
    -- offsets inside it, and takes the next instruction's
    local link, off
    for o = 1, 16 do
      local msg, err
      link, msg, err = prog:attach_kprobe(fn, { offset = o })
      if link then
        off = o
        break
      end
      assert.equal(errno.EILSEQ, err, msg)
      assert.equal(("kprobe on '%s'+%d: the kprobe PMU refused it: the offset is not at an instruction boundary "
        .. "of the function, or is past its end"):format(fn, o), msg:match("^(.-): [^:]*$"))
    end
    assert.truthy(off, "no offset from 1 to 16 was an instruction of " .. fn)
    assert.equal(("%s+%d"):format(fn, off), link:target())
    assert.equal(1, registered_at(base + off))
    counts_children(link, counts)
    assert.equal(0, registered_at(base + off))
    -- what else the kernel refuses, and why: a kretprobe past the entry.
    -- With IBT (6.12) the first boundary, just past endbr64, is still the
    -- entry to the kernel, so the one after it is where that shows.
    local past
    for o = off + 1, off + 16 do
      local k = prog:attach_kprobe(fn, { offset = o })
      if k then
        past = o
        k:close()
        break
      end
    end
    assert.truthy(past, "no second instruction boundary in " .. fn)
    local l, msg, err = prog:attach_kretprobe(fn, { offset = past })
    assert.is_nil(l)
    assert.equal(errno.EINVAL, err)
    assert.matches(("^kretprobe on '%s'%%+%d: the kprobe PMU refused it: a kretprobe goes on a function's entry "
      .. "only %%(offset 0%%)"):format(fn:gsub("%p", "%%%0"), past), msg)
    l, msg, err = prog:attach_kprobe("ebpfdsl_no_such_function")
    assert.is_nil(l)
    assert.equal(errno.ENOENT, err)
    assert.matches("^kprobe on 'ebpfdsl_no_such_function': the kprobe PMU refused it: no such kernel function", msg)
  end)

  env.it("kprobe.read_syscall_args reads openat(2)'s arguments behind the syscall wrapper",
    { "bpf", "gcc", "attach:kprobe" }, function()
    local e = require "ebpfdsl"
    local d, s, kprobe = e.dsl, e.structs, e.kprobe
    local Open = s.define("kprobe_open", {
      { "tgid", "u32" }, { "dfd", "i32" }, { "flags", "u32" }, { "mode", "u32" }, { "filename", "char", 256 },
    })
    local t = targets.start()
    finally(function() t.stop() end)
    local ring <close> = assert(e.maps.ringbuf(64 * 1024))
    local prog = assert(e.programs.load(kprobe.program_info(e.arch.syscall_function("openat"), "openat_args", {
      d.mov("r6", "r1"),
      d.call("get_current_pid_tgid"),
      d.rsh("r0", 32),
      d.jne("r0", t.pid, "out"), -- the child only
      -- dfd and flags first, kept on the stack; then filename and mode
      kprobe.read_syscall_args("r6", { { 1, "r7" }, { 3, "r8" } }),
      d.stx("dw", "fp", -16, "r7"), d.stx("dw", "fp", -24, "r8"),
      kprobe.read_syscall_args("r6", { { 2, "r7" }, { 4, "r8" } }),
      d.ringbuf_reserve("r9", ring, Open:size()),
      d.jeq("r9", 0, "out"),
      d.call("get_current_pid_tgid"), d.rsh("r0", 32),
      s.store_field("r9", Open, "tgid", "r0"),
      s.store_field("r9", Open, "mode", "r8"),
      d.ldx("dw", "r1", "fp", -16), s.store_field("r9", Open, "dfd", "r1"),
      d.ldx("dw", "r1", "fp", -24), s.store_field("r9", Open, "flags", "r1"),
      s.field_addr("r1", "r9", Open, "filename"), d.mov("r2", Open:field_size("filename")), d.mov("r3", "r7"),
      d.call("probe_read_user_str"),
      d.ringbuf_submit("r9"),
      d.label("out"),
      d.mov("r0", 0),
      d.exit(),
    })))
    local dir = env.tmpdir()
    finally(function() os.execute("rm -rf " .. dir) end)
    local path = dir .. "/opened-under-a-kprobe"
    local r <close> = assert(e.ringbuf.reader { [ring] = { layout = Open } })
    local link = assert(prog:attach_kprobe(e.arch.syscall_function("openat")))
    local ok, dfd, flags, mode = t.open(path)
    link:detach()
    assert.equal(0, ok)
    local got = {}
    for ev in r:events(0) do got[#got + 1] = ev end
    assert.same({ { tgid = t.pid, dfd = dfd, flags = flags, mode = mode, filename = path } }, got)
    assert.equal(-100, dfd) -- AT_FDCWD
  end)
end)

describe("kprobes through tracefs kprobe_events", function()
  -- Without the kprobe PMU (hidden by a bind mount in a private mount
  -- namespace) the attach writes a probe to kprobe_events and removes it
  -- on detach. The script prints one line per attempt.
  local SCRIPT = [[
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local e = require "ebpfdsl"
local count = require "support.count"
local pid = io.open("/proc/self/stat"):read("n")
local function events()
  local list = {}
  for line in io.lines("/sys/kernel/tracing/kprobe_events") do
    if line:find("kprobes/ebpfdsl_" .. pid .. "_", 1, true) then list[#list + 1] = line end
  end
  return list
end
local fn = e.arch.syscall_function("getppid")
print(pid)
local d = e.dsl
local function try(method, opts)
  local m = assert(e.maps.hash { key = "u32", value = "u64", max_entries = 64 })
  local p = assert(e.programs.load { type = "kprobe", insns = {
    d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.stx("w", "fp", -4, "r0"),
    count.bump(d, m, -4), d.mov("r0", 0), d.exit() } })
  local l, msg = p[method](p, fn, opts)
  if not l then return nil, msg end
  local listed = events()
  local child = io.popen(arg[1] .. " 3")
  local fired = m[tonumber(child:read("l"))] or 0
  child:close()
  l:detach()
  return ("%s: %s; fired %d; then %d listed"):format(method, table.concat(listed, ", "), fired, #events())
end
print(assert(try("attach_kprobe")))
print(assert(try("attach_kretprobe")))
for off = 1, 16 do
  local ok, msg = try("attach_kprobe", { offset = off })
  print(ok or msg)
  if ok then break end
end
]]

  env.it("fire, say why the kernel refuses one, and remove their event on detach",
    { "bpf", "gcc", "unshare", "attach:kprobe", "attach:kprobe_events" }, function()
    local dir = env.tmpdir()
    finally(function() os.execute("rm -rf " .. dir) end)
    local f = assert(io.open(dir .. "/script.lua", "w"))
    f:write(SCRIPT)
    f:close()
    env.run("mkdir " .. dir .. "/empty")
    env.run(("gcc -O2 -o %s/getppid_n spec/support/getppid_n.c"):format(dir))
    local out = env.run(("unshare -m --propagation private sh -c 'mount --bind %s/empty "
      .. "/sys/bus/event_source/devices/kprobe && lua5.4 %s/script.lua %s/getppid_n'"):format(dir, dir, dir))
    local pid = out:match("^(%d+)")
    for line in io.lines("/sys/kernel/tracing/kprobe_events") do -- whatever happened, leave nothing behind
      local ev = pid and line:match("^%a%d*:(kprobes/ebpfdsl_" .. pid .. "_%d+) ")
      if ev then os.execute("echo '-:" .. ev .. "' >> /sys/kernel/tracing/kprobe_events") end
    end
    local e = require "ebpfdsl"
    local fn = e.arch.syscall_function("getppid"):gsub("%p", "%%%0")
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.matches("^attach_kprobe: p:kprobes/ebpfdsl_" .. pid .. "_%d+ " .. fn .. "; fired 3; then 0 listed$",
      lines[2])
    assert.matches("^attach_kretprobe: r%d*:kprobes/ebpfdsl_" .. pid .. "_%d+ " .. fn .. "; fired 3; then 0 listed$",
      lines[3])
    -- offsets inside the first instruction, refused with the reason; then one that is an instruction
    assert.is_true(#lines >= 5, out)
    for i = 4, #lines - 1 do
      local off = i - 3
      assert.equal(("kprobe on '%s'+%d through tracefs kprobe_events: the offset is not at an instruction "
        .. "boundary of the function, or is past its end (writing 'p:kprobes/ebpfdsl_%s_%s %s+%d' to "
        .. "/sys/kernel/tracing/kprobe_events"):format(fn:gsub("%%", ""), off, pid, lines[i]:match("ebpfdsl_%d+_(%d+)"),
        fn:gsub("%%", ""), off), lines[i]:match("^(.-): [^:]*%)$"))
    end
    assert.matches(("^attach_kprobe: p:kprobes/ebpfdsl_%s_%%d+ %s%%+%d; fired 3; then 0 listed$")
      :format(pid, fn, #lines - 3), lines[#lines])
  end)
end)

describe("prog:attach_kprobe_multi", function()
  local function multi_prog(e, insns)
    return assert(e.programs.load { type = "kprobe", name = "kmulti", insns = insns,
      expected_attach_type = env.has("attach:kprobe_multi") and e.attach.type("trace_kprobe_multi") or nil })
  end

  -- the multi link where the kernel has one, else one kprobe per function
  local function check_link(link, n)
    assert.equal("kprobe_multi", link:kind())
    if env.has("attach:kprobe_multi") then
      assert.equal(1, link:count())
      assert.equal("kprobe_multi", assert(link:info()).type)
    else
      assert.equal(n, link:count())
    end
  end

  -- Functions every kernel can trace through ftrace (6.1 lists no
  -- getppid or getpid in available_filter_functions, which fprobe needs)
  local GLOB = "getp[gr]i*" -- getpgid, getpriority; neither getppid nor getpgrp

  env.it("by glob: resolves it to the kernel's functions and counts each child's calls",
    { "bpf", "gcc", "attach:kprobe" }, function()
    local e = require "ebpfdsl"
    local glob = e.arch.syscall_function("getppid"):gsub("getppid$", "") .. GLOB
    local counts <close> = hash(e)
    local prog = assert(counter(e, { type = "kprobe", name = "kmulti", expected_attach_type =
      env.has("attach:kprobe_multi") and e.attach.type("trace_kprobe_multi") or nil }, counts))
    local link = assert(prog:attach_kprobe_multi(glob))
    assert.matches("^'" .. glob:gsub("%p", "%%%0") .. "' %(2 functions in /[%w/_]+%)$", link:target())
    check_link(link, 2)
    local a = targets.syscalls { { "getpgid", 7 }, { "getpriority", 3 } }
    local b = targets.syscalls { { "getpriority", 40 } }
    local other = targets.syscalls { { "getppid", 5 } }
    link:detach()
    local after = targets.syscalls { { "getpgid", 2 } }
    assert.same({ 10, 40 }, { counts[a], counts[b] })
    assert.is_nil(counts[other], "a child calling neither")
    assert.is_nil(counts[after], "a child after detach")
  end)

  env.it("by list, with a cookie per function; and on return", { "bpf", "gcc", "attach:kprobe", "attach:kretprobe" },
    function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local count = require "support.count"
    local getpgid, getpriority = e.arch.syscall_function("getpgid"), e.arch.syscall_function("getpriority")
    local counts <close> = hash(e, "u64")
    -- counts[tgid * 256 + cookie] += 1
    local prog = multi_prog(e, {
      d.mov("r6", "r1"),
      d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.lsh("r0", 8), d.mov("r7", "r0"),
      d.mov("r1", "r6"), d.call("get_attach_cookie"), d["and"]("r0", 0xff), d["or"]("r7", "r0"),
      d.stx("dw", "fp", -8, "r7"),
      count.bump(d, counts, -8),
      d.mov("r0", 0),
      d.exit(),
    })
    for _, ret in ipairs { false, true } do
      local link = assert(prog:attach_kprobe_multi({ getpgid, getpriority },
        { cookies = { 11, 22 }, retprobe = ret }))
      check_link(link, 2)
      assert.equal((ret and "return of " or "") .. "on 2 functions (" .. getpgid .. ", ...)", link:target())
      local pid = targets.syscalls { { "getpgid", 9 }, { "getpriority", 4 } }
      link:detach()
      assert.same({ 9, 4 }, { counts[pid * 256 + 11], counts[pid * 256 + 22] })
      assert.is_nil(counts[targets.syscalls { { "getpgid", 3 } } * 256 + 11], "a child after detach")
    end
  end)

  -- cookies[tgid] = the attach cookie the program saw, from a program
  -- loaded for kprobe_multi links
  local function cookie_prog(e, cookies)
    local d = e.dsl
    return assert(e.programs.load { type = "kprobe", name = "kmulti_typed",
      expected_attach_type = e.attach.type("trace_kprobe_multi"), insns = {
        d.mov("r6", "r1"),
        d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.stx("w", "fp", -4, "r0"),
        d.mov("r1", "r6"), d.call("get_attach_cookie"), d.stx("dw", "fp", -16, "r0"),
        require("support.count").update(d, cookies, -4, -16),
        d.mov("r0", 0), d.exit() } })
  end

  env.it("a program loaded for kprobe_multi links sees its cookie through the multi link",
    { "bpf", "gcc", "attach:kprobe_multi" }, function()
    local e = require "ebpfdsl"
    local cookies <close> = hash(e)
    local prog = cookie_prog(e, cookies)
    local link = assert(prog:attach_kprobe_multi({ e.arch.syscall_function("getpgid") }, { cookies = { 7 } }))
    local pid = targets.syscalls { { "getpgid", 1 } }
    link:detach()
    assert.equal(7, cookies[pid])
  end)

  env.it("a program loaded for kprobe_multi links takes the fallback without cookies, saying why",
    { "bpf", "gcc", "!attach:kprobe_multi", "attach:kprobe" }, function()
    local e = require "ebpfdsl"
    local getpgid = e.arch.syscall_function("getpgid")
    local cookies <close> = hash(e)
    local prog = cookie_prog(e, cookies)
    -- the kernel takes such a program on a perf event (the ioctl), but
    -- not on a perf link, which alone carries a cookie
    local link, msg = prog:attach_kprobe_multi({ getpgid }, { cookies = { 7 } })
    assert.is_nil(link)
    assert.matches("%(a program loaded with expected_attach_type trace_kprobe_multi takes no cookies on single "
      .. "kprobes: load it without one where the kernel has no kprobe_multi links%)$", msg)
    link = assert(prog:attach_kprobe_multi({ getpgid }))
    assert.equal(1, link:count())
    local pid = targets.syscalls { { "getpgid", 1 } }
    link:detach()
    assert.equal(0, cookies[pid])
  end)
end)

describe("BPF trampolines", function()
  local function btf_id(e, fn) return e.btf.vmlinux():id(fn, "func") end

  -- getppid's function in the kernel's BTF (kernels differ in which of
  -- the wrapper and its body BTF keeps), and how many arguments it takes
  local function getppid_func(e)
    for _, name in ipairs { e.arch.syscall_function("getppid"), "__do_sys_getppid" } do
      local f = e.btf.vmlinux():func(name)
      if f then return name, #f.params end
    end
    error("neither getppid function is in the kernel's BTF")
  end

  env.it("fentry counts exactly the getppid(2) calls each child makes", { "bpf", "gcc", "btf", "attach:fentry" },
    function()
    local e = require "ebpfdsl"
    local fn = getppid_func(e)
    local counts <close> = hash(e)
    local prog = assert(counter(e, { type = "fentry", attach_to = fn }, counts))
    local link = assert(prog:attach_fentry())
    assert.equal("tracing", link:kind())
    local info = assert(link:info())
    assert.same({ "tracing", "trace_fentry", btf_id(e, fn) }, { info.type, info.attach_type, info.target_btf_id })
    counts_children(link, counts)
  end)

  env.it("fexit reads the return value getppid(2) gave each child", { "bpf", "gcc", "btf", "attach:fexit" },
    function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local fn, nargs = getppid_func(e)
    local rets <close> = hash(e)
    -- the context is the arguments as u64s, then the return value
    local prog = assert(e.programs.load { type = "fexit", attach_to = fn, name = "fexit_ppid", insns = {
      d.ldx("dw", "r6", "r1", 8 * nargs),
      d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.stx("w", "fp", -4, "r0"),
      d.stx("dw", "fp", -16, "r6"),
      require("support.count").update(d, rets, -4, -16),
      d.mov("r0", 0),
      d.exit(),
    } })
    local link = assert(prog:attach_fexit())
    local info = assert(link:info())
    assert.same({ "trace_fexit", btf_id(e, fn) }, { info.attach_type, info.target_btf_id })
    for i = 1, 3 do
      local pid, ppid = targets.getppid(i)
      assert.equal(ppid, rets[pid], "what getppid returned to child " .. pid)
    end
    link:detach()
    assert.is_nil(rets[targets.getppid(1)], "a child after detach")
  end)

  -- A child, a scratch directory for the files it opens, and a program for
  -- `spec` counting the child's calls into `counts` and failing them with errno `name`.
  local function denier(e, spec, counts, name)
    local t = targets.start()
    finally(function() t.stop() end)
    local dir = env.tmpdir()
    finally(function() os.execute("rm -rf " .. dir) end)
    return t, dir, assert(counter(e, spec, counts, t.pid, -require("support.errno")[name]))
  end

  -- fmod_ret goes on error-injectable functions and security_ hooks; the
  -- Debian kernel has no CONFIG_FUNCTION_ERROR_INJECTION, so a hook it is
  env.it("fmod_ret makes security_file_open refuse one child's opens, and only while attached",
    { "bpf", "gcc", "btf", "attach:fmod_ret" }, function()
    local e = require "ebpfdsl"
    local counts <close> = hash(e)
    local t, dir, prog = denier(e, { type = "fmod_ret", attach_to = "security_file_open" }, counts, "EACCES")
    local path = dir .. "/guarded"
    local link = assert(prog:attach_tracing())
    assert.equal("modify_return", assert(link:info()).attach_type)
    assert.equal(-1, (t.open(path)))
    assert.truthy(io.open("/proc/self/stat"), "this process opens files meanwhile")
    assert.equal(1, counts[t.pid])
    link:detach()
    assert.equal(0, (t.open(path)))
    assert.equal(1, counts[t.pid])
  end)

  env.it("an LSM program on file_open counts and denies one child's opens, until detached",
    { "bpf", "gcc", "btf", "attach:lsm" }, function()
    local e = require "ebpfdsl"
    local counts <close> = hash(e)
    local t, dir, prog = denier(e, { type = "lsm", attach_to = "file_open" }, counts, "EPERM")
    local link = assert(prog:attach_lsm())
    local info = assert(link:info())
    assert.same({ "lsm_mac", btf_id(e, "bpf_lsm_file_open") }, { info.attach_type, info.target_btf_id })
    assert.equal(-1, (t.open(dir .. "/a")))
    assert.equal(-1, (t.open(dir .. "/b")))
    assert.equal(2, counts[t.pid])
    assert.truthy(io.open("/proc/self/stat"), "this process opens files meanwhile")
    link:detach()
    assert.equal(0, (t.open(dir .. "/c")))
    assert.equal(2, counts[t.pid])
  end)
end)

describe("examples/pure_lua_kprobe.lua", function()
  env.it("attaches as a kprobe to tcp_v4_connect and reports the child's connection",
    { "bpf", "attach:kprobe", "luasocket" }, function()
    local out = env.run("lua5.4 -e 'package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path; "
      .. "package.cpath=\"build/?.so;\"..package.cpath' examples/pure_lua_kprobe.lua 2>&1")
    assert.matches("\nattached: ebpfdsl.Link kprobe tcp_v4_connect %(prog 'tcp_connect', fd=%d+%)\n", out)
    assert.falsy(out:find("as a uprobe", 1, true), out)
    local port = out:match("listener on 127%.0%.0%.1:(%d+)")
    local pid = out:match("accepted 127%.0%.0%.1:%d+ from bash %(pid (%d+)%)")
    assert.truthy(pid and port, out)
    local event = ("\nevent: ts=%%d+ pid=%s tgid=%s comm=bash daddr=127%%.0%%.0%%.1 dport=%s\n"):format(pid, pid, port)
    assert.truthy(out:find(event), out)
    assert.truthy(out:find("the event matches the child's connection: pid, tgid, comm, address, port", 1, true), out)
  end)
end)
