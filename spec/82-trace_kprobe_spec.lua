-- SPDX-License-Identifier: MIT
-- ebpfdsl.trace on kernel functions: kprobe, kretprobe, fentry and fexit
-- probes with arguments by name and type from the kernel's BTF and struct
-- member chains. Their programs pass the verifier wherever there is BTF;
-- they attach and run only where the kernel has kprobes (needs
-- "attach:kprobe", "attach:kretprobe") or BPF trampolines ("attach:fentry",
-- "attach:fexit"): `make vmtest` runs this file on Debian's 6.1 kernel,
-- which has both.
local env = require "support.env"
local target = require "support.trace_target"
local trace = require "ebpfdsl.trace"

local BUILD = { "bpf", "btf" }

-- The child reads n times size bytes from /dev/zero: what vfs_read sees.
local function run_on(S, n, size)
  local t = target.start { "read", tostring(n), tostring(size) }
  S.tracepoint("sched:sched_process_exit", function() S.exit() end)
  S.begin(function() t.go() end)
  S.run { pid = t.pid, duration = 20, print = false }
  t.wait()
end

-- vfs_read(struct file *file, char *buf, size_t count, loff_t *pos)
local function reads(S, kind)
  S[kind]("vfs_read", function(p)
    local name = p.args.file.f_path.dentry.d_name.name
    S.maps.calls[p.str(name, 16)] = S.count()
    S.maps.bytes = S.sum(p.args.count)
    S.maps.first = S.min(p.args[3])
  end)
  S[kind == "kprobe" and "kretprobe" or "fexit"]("vfs_read", function(p)
    S.maps.ret = S.sum(p.retval)
    S.maps.neg = S.sum(S.select(p.retval:lt(0), 1, 0))
  end)
end

-- The spec each pair of probes passes: a child's five reads of 100 bytes,
-- counted by reads(S, kind) on entry and on return.
local function counts_reads(kind, needs)
  env.it("count a child's reads by file name, with their sizes and return values", needs, function()
    local S = trace.new()
    reads(S, kind)
    run_on(S, 5, 100)
    assert.equal("@calls[zero]: 5\n", tostring(S.maps.calls))
    assert.equal(500, S.maps.bytes:read())
    assert.equal(100, S.maps.first:read())
    assert.equal(500, S.maps.ret:read())
    assert.equal(0, S.maps.neg:read() or 0)
  end)
end

local function count_calls(insns, helper)
  local n = 0
  for _, x in ipairs(insns) do if x.op == "call" and x.helper == helper then n = n + 1 end end
  return n
end

describe("kprobe and kretprobe programs", function()
  env.it("with BTF arguments and member chains pass the verifier", BUILD, function()
    local S = trace.new()
    reads(S, "kprobe")
    for _, pr in ipairs(S.probes()) do
      local prog, msg = pr:load()
      assert.truthy(prog, msg)
    end
    -- the chain file->f_path.dentry->d_name.name reads through two
    -- pointers (the embedded structs add their offsets): two reads, then
    -- the string
    local insns = S.probes()[1]:insns()
    assert.equal(2, count_calls(insns, "probe_read_kernel"))
    assert.equal(1, count_calls(insns, "probe_read_kernel_str"))
  end)

  env.it("raise at the body's line for names the prototype lacks", BUILD, function()
    local S = trace.new()
    S.kprobe("vfs_read", function(p) return p.args.nosuch end)
    local ok, err = pcall(S.start, {})
    assert.is_false(ok)
    assert.truthy(err:find("^spec/82%-trace_kprobe_spec%.lua:%d+: trace: vfs_read has no argument 'nosuch' " ..
      "%(file, buf, count, pos%)"), err)
  end)

  counts_reads("kprobe", { "bpf", "attach:kprobe", "attach:kretprobe", "tracefs", "gcc" })
end)

describe("fentry and fexit programs", function()
  env.it("read BTF-typed arguments with direct loads", BUILD, function()
    local insns = trace.compile("fentry", "vfs_read", function(p)
      trace.maps.x = trace.sum(p.args.file.f_path.dentry.d_inode.i_ino)
    end)
    assert.equal(0, count_calls(insns, "probe_read_kernel"))
  end)

  counts_reads("fentry", { "bpf", "attach:fentry", "attach:fexit", "tracefs", "gcc" })
end)
