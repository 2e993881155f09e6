-- SPDX-License-Identifier: MIT
-- kprobes on this kernel: it has no CONFIG_KPROBES, so an attach must
-- fail with a message naming the missing support and what was tried; on
-- a kernel with kprobes the same calls must succeed. kprobe_multi is
-- exercised as far as the kernel goes: glob resolution against the
-- kernel's own symbol list, the multi link, the per-function fallback.
local env = require "support.env"

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- The oracle for "does this kernel have kprobes": sysfs and tracefs.
local function kernel_has_kprobes()
  env.has("tracefs")
  return exists("/sys/bus/event_source/devices/kprobe/type") or exists("/sys/kernel/tracing/kprobe_events")
end

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

describe("prog:attach_kprobe", function()
  env.it("fails naming the missing kprobe support, or attaches where there is some", { "bpf", "tracefs" }, function()
    local e = require "ebpfdsl"
    local prog = kprobe_prog(e)
    for _, method in ipairs { "attach_kprobe", "attach_kretprobe" } do
      local link, msg, errno = prog[method](prog, "do_sys_openat2")
      if kernel_has_kprobes() then
        assert.truthy(link, msg)
        assert.equal("kprobe", link:kind())
        link:detach()
      else
        local kind = method == "attach_kprobe" and "kprobe" or "kretprobe"
        assert.is_nil(link)
        assert.equal(kind .. " on 'do_sys_openat2': the kernel lacks kprobe support (CONFIG_KPROBES): "
          .. "tried the kprobe PMU (/sys/bus/event_source/devices/kprobe/type: No such file or directory) "
          .. "and tracefs (/sys/kernel/tracing/kprobe_events: No such file or directory)", msg)
        assert.equal(95, errno) -- EOPNOTSUPP
      end
    end
    -- offsets and options are checked before the kernel is asked
    assert.has_error(function() prog:attach_kprobe("f", { offest = 4 }) end, "attach_kprobe: unknown option 'offest'")
    assert.has_error(function() prog:attach_kprobe("f", { offset = "4" }) end)
    local l, msg = prog:attach_kprobe("")
    assert.is_nil(l)
    assert.matches("a kernel function name is needed", msg)
  end)
end)

describe("prog:attach_kprobe_multi", function()
  env.it("resolves globs against the kernel's functions, then tries the multi link and the fallback",
    { "bpf", "tracefs" }, function()
    local e = require "ebpfdsl"
    local prog = kprobe_prog(e, true)
    local link, msg, errno = prog:attach_kprobe_multi("vfs_rea*")
    local n = kallsyms_matching("vfs_rea*")
    assert.truthy(n >= 2, "kallsyms has vfs_read and vfs_readv")
    if link then
      assert.equal("kprobe_multi", link:kind())
      if link:count() == 1 then
        assert.equal("kprobe_multi", link:info().type)
      else -- the fallback: one kprobe per function the glob found
        assert.matches("%(" .. link:count() .. " functions in ", link:target())
      end
      link:detach()
    else
      local src = msg:match("^kprobe_multi 'vfs_rea%*' %(%d+ functions? in (%S+)%)")
      assert.truthy(src, msg)
      if src == "/proc/kallsyms" then
        assert.truthy(msg:find(("(%d functions in /proc/kallsyms)"):format(n), 1, true), msg)
      end
      -- this kernel: no fprobe, so no multi link; no kprobes, so no fallback
      assert.matches("BPF_TRACE_KPROBE_MULTI link not supported by this kernel %(it needs CONFIG_FPROBE", msg)
      assert.matches("fallback, one kprobe per function, failed at 'vfs_rea[^']*' %(1 of %d+%): "
        .. "kprobe on 'vfs_rea[^']*': the kernel lacks kprobe support", msg)
      assert.equal(95, errno)
    end
  end)

  env.it("takes names with cookies, and can refuse the fallback", { "bpf", "tracefs" }, function()
    local e = require "ebpfdsl"
    local prog = kprobe_prog(e, true)
    local link, msg = prog:attach_kprobe_multi({ "vfs_read", "vfs_write" }, { cookies = { 1, 2 }, fallback = false })
    if link then
      link:detach()
    else
      assert.equal("kprobe_multi on 2 functions (vfs_read, ...): BPF_TRACE_KPROBE_MULTI link not supported by "
        .. "this kernel (it needs CONFIG_FPROBE, 5.18+): Operation not supported", msg)
    end
    link, msg = prog:attach_kprobe_multi({ "vfs_write" }, { retprobe = true })
    if link then link:detach() else assert.matches("fallback.*kretprobe on 'vfs_write'", msg) end
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
