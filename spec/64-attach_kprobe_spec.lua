-- SPDX-License-Identifier: MIT
-- kprobes as each kernel has them (the needs say which): without
-- CONFIG_KPROBES an attach fails with a message naming the missing support
-- and what was tried; with kprobes the same calls succeed. kprobe_multi:
-- glob resolution against the kernel's own symbol list, then the multi
-- link, the per-function fallback, or the refusal of both. Spec 88 runs
-- the whole family for real (make vmtest).
local env = require "support.env"

local function kprobe_prog(e, multi)
  local d = e.dsl
  return assert(e.programs.load{ type = "kprobe", name = multi and "kmulti" or "kp",
    expected_attach_type = multi and e.attach.type("trace_kprobe_multi") or nil,
    insns = { d.mov("r0", 0), d.exit() } })
end

-- Functions of /proc/kallsyms (text symbols, once each) matching a glob
-- made only of literal characters and '*'.
local function kallsyms_matching(glob)
  local pat = "^" .. glob:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
  local seen, n = {}, 0
  for line in io.lines("/proc/kallsyms") do
    local kind, name = line:match("^%x+ (%a) (%S+)")
    if (kind == "t" or kind == "T") and name:match(pat) and not seen[name] then
      seen[name] = true
      n = n + 1
    end
  end
  return n
end

-- No kprobes at all: neither the kprobe PMU nor tracefs kprobe_events.
local NO_KPROBES = { "bpf", "tracefs", "!attach:kprobe", "!attach:kprobe_events" }

describe("prog:attach_kprobe", function()
  env.it("attaches a kprobe and a kretprobe", { "bpf", "tracefs", "attach:kprobe", "attach:kretprobe" }, function()
    local e = require "ebpfdsl"
    local prog = kprobe_prog(e)
    for _, method in ipairs { "attach_kprobe", "attach_kretprobe" } do
      local link = assert(prog[method](prog, "do_sys_openat2"))
      assert.equal("kprobe", link:kind())
      link:detach()
    end
  end)

  env.it("fails naming the missing kprobe support and what was tried", NO_KPROBES, function()
    local e = require "ebpfdsl"
    local prog = kprobe_prog(e)
    for _, method in ipairs { "attach_kprobe", "attach_kretprobe" } do
      local link, msg, errno = prog[method](prog, "do_sys_openat2")
      local kind = method == "attach_kprobe" and "kprobe" or "kretprobe"
      assert.is_nil(link)
      assert.equal(kind .. " on 'do_sys_openat2': the kernel lacks kprobe support (CONFIG_KPROBES): "
        .. "tried the kprobe PMU (/sys/bus/event_source/devices/kprobe/type: No such file or directory) "
        .. "and tracefs (/sys/kernel/tracing/kprobe_events: No such file or directory)", msg)
      assert.equal(95, errno) -- EOPNOTSUPP
    end
  end)

  env.it("checks offsets, options and the name before the kernel is asked", { "bpf" }, function()
    local e = require "ebpfdsl"
    local prog = kprobe_prog(e)
    assert.has_error(function() prog:attach_kprobe("f", { offest = 4 }) end,
      "attach_kprobe: unknown field 'offest' (did you mean 'offset'?)")
    assert.has_error(function() prog:attach_kprobe("f", { offset = "4" }) end)
    local l, msg = prog:attach_kprobe("")
    assert.is_nil(l)
    assert.matches("a kernel function name is needed", msg)
  end)
end)

describe("prog:attach_kprobe_multi", function()
  -- the glob's functions, from kallsyms, and the message's count of them
  local function glob_attach(e)
    local link, msg, errno = kprobe_prog(e, true):attach_kprobe_multi("vfs_rea*")
    local n = kallsyms_matching("vfs_rea*")
    assert.truthy(n >= 2, "kallsyms has vfs_read and vfs_readv")
    return link, msg, errno, n
  end

  env.it("resolves a glob to the kernel's functions in one multi link", { "bpf", "tracefs", "attach:kprobe_multi" },
    function()
      local e = require "ebpfdsl"
      local link = assert(glob_attach(e))
      assert.equal("kprobe_multi", link:kind())
      assert.equal(1, link:count())
      assert.equal("kprobe_multi", link:info().type)
      link:detach()
    end)

  env.it("resolves a glob to the kernel's functions, one kprobe each where there is no multi link",
    { "bpf", "tracefs", "!attach:kprobe_multi", "attach:kprobe" }, function()
      local e = require "ebpfdsl"
      local link, msg = glob_attach(e)
      assert.truthy(link, msg)
      assert.equal("kprobe_multi", link:kind())
      assert.matches("^'vfs_rea%*' %(" .. link:count() .. " functions in /", link:target())
      assert.truthy(link:count() >= 2)
      link:detach()
    end)

  local NEITHER = { "!attach:kprobe_multi" }
  for _, n in ipairs(NO_KPROBES) do table.insert(NEITHER, n) end
  env.it("resolves a glob, then says why neither the multi link nor the fallback attach", NEITHER, function()
    local e = require "ebpfdsl"
    local link, msg, errno, n = glob_attach(e)
    assert.is_nil(link)
    local src = msg:match("^kprobe_multi 'vfs_rea%*' %(%d+ functions? in (%S+)%)")
    assert.truthy(src, msg)
    if src == "/proc/kallsyms" then
      assert.truthy(msg:find(("(%d functions in /proc/kallsyms)"):format(n), 1, true), msg)
    end
    assert.matches("BPF_TRACE_KPROBE_MULTI link not supported by this kernel %(it needs CONFIG_FPROBE", msg)
    assert.matches("fallback, one kprobe per function, failed at 'vfs_rea[^']*' %(1 of %d+%): "
      .. "kprobe on 'vfs_rea[^']*': the kernel lacks kprobe support", msg)
    assert.equal(95, errno)
  end)

  env.it("takes names with cookies, and on return", { "bpf", "tracefs", "attach:kprobe_multi" }, function()
    local e = require "ebpfdsl"
    local prog = kprobe_prog(e, true)
    assert(prog:attach_kprobe_multi({ "vfs_read", "vfs_write" }, { cookies = { 1, 2 }, fallback = false })):detach()
    assert(prog:attach_kprobe_multi({ "vfs_write" }, { retprobe = true })):detach()
  end)

  env.it("refuses the fallback when told to, saying why the multi link failed",
    { "bpf", "tracefs", "!attach:kprobe_multi" }, function()
      local e = require "ebpfdsl"
      local prog = kprobe_prog(e, true)
      local link, msg = prog:attach_kprobe_multi({ "vfs_read", "vfs_write" }, { cookies = { 1, 2 }, fallback = false })
      assert.is_nil(link)
      assert.equal("kprobe_multi on 2 functions (vfs_read, ...): BPF_TRACE_KPROBE_MULTI link not supported by "
        .. "this kernel (it needs CONFIG_FPROBE, 5.18+): Operation not supported", msg)
    end)

  env.it("falls back to a kretprobe per function", { "bpf", "tracefs", "!attach:kprobe_multi", "attach:kretprobe" },
    function()
      local e = require "ebpfdsl"
      local link = assert(kprobe_prog(e):attach_kprobe_multi({ "vfs_write" }, { retprobe = true }))
      assert.equal(1, link:count())
      assert.equal("return of on 1 function (vfs_write)", link:target())
      link:detach()
    end)

  env.it("says where the fallback kretprobe fails", NEITHER, function()
    local e = require "ebpfdsl"
    local link, msg = kprobe_prog(e, true):attach_kprobe_multi({ "vfs_write" }, { retprobe = true })
    assert.is_nil(link)
    assert.matches("fallback.*kretprobe on 'vfs_write'", msg)
  end)

  env.it("says what is wrong with the request", { "bpf", "tracefs" }, function()
    local e = require "ebpfdsl"
    local prog = kprobe_prog(e, true)
    local l, msg, errno = prog:attach_kprobe_multi("ebpfdsl_no_such_function_*")
    assert.is_nil(l)
    assert.matches("^kprobe_multi 'ebpfdsl_no_such_function_%*': no kernel function matches %(searched /", msg)
    assert.equal(2, errno)
    assert.has_error(function() prog:attach_kprobe_multi({ "a", "b" }, { cookies = { 1 } }) end,
      "attach_kprobe_multi: 1 cookies for 2 names")
    assert.has_error(function() prog:attach_kprobe_multi("a*", { cookies = { 1 } }) end,
      "attach_kprobe_multi: cookies go with a list of names, not a pattern")
    assert.has_error(function() prog:attach_kprobe_multi({}) end)
    assert.has_error(function() prog:attach_kprobe_multi({ "a", 3 }) end, "attach_kprobe_multi: name 2 is not a string")
  end)
end)
