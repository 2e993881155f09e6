-- SPDX-License-Identifier: MIT
-- ebpfdsl.programs against the kernel: a minimal valid program of every
-- type this kernel has, reading its context at offsets taken from the
-- kernel's BTF and returning what the type must return; test runs where
-- the kernel has them; attach types by name; attach_to resolved to the BTF
-- ids the kernel then reports; prog:info() against bpftool; pinning.
local env = require "support.env"
local json = require "dkjson"

local ebpf = require "ebpfdsl"
local d = ebpf.dsl
local programs = ebpf.programs
local btf = require "ebpfdsl.btf"

local function off(struct, path) return assert(btf.vmlinux():offsetof(struct, path)) end
local function size(struct) return btf.vmlinux():type(struct, "struct").size end

-- An Ethernet + IPv4 frame: 14 header bytes, then 50 more.
local PKT = string.rep("\0", 12) .. "\8\0" .. string.rep("\1", 50)
local ETH_HLEN = 14

local function read(sz, struct, field, ret)
  return { d.ldx(sz, "r2", "r1", off(struct, field)), d.mov("r0", ret), d.exit() }
end

-- type -> how a minimal program of it reads its context and what it
-- returns; `run` and `want` check the semantics where test runs exist;
-- `ret_range` marks types whose return value the verifier restricts.
local CASES = {
  socket_filter = { insns = function() return { d.ldx("w", "r0", "r1", off("__sk_buff", "len")), d.exit() } end,
                    run = { data = PKT }, want = #PKT - ETH_HLEN, ctx = "__sk_buff" },
  sched_cls = { insns = function() return { d.ldx("w", "r0", "r1", off("__sk_buff", "len")), d.exit() } end,
                run = { data = PKT }, want = #PKT, ctx = "__sk_buff" },
  sched_act = { insns = function() return { d.ldx("w", "r0", "r1", off("__sk_buff", "len")), d.exit() } end,
                run = { data = PKT }, want = #PKT, ctx = "__sk_buff" },
  xdp = { insns = function()
            return { d.ldx("w", "r2", "r1", off("xdp_md", "data")), d.ldx("w", "r3", "r1", off("xdp_md", "data_end")),
                     d.mov("r0", "r3"), d.sub("r0", "r2"), d.exit() }
          end, run = { data = PKT }, want = #PKT, ctx = "xdp_md" },
  cgroup_skb = { insns = function() return read("w", "__sk_buff", "len", 1) end, run = { data = PKT }, want = 1,
                 ret_range = true, ctx = "__sk_buff" },
  lwt_in = { insns = function() return { d.ldx("w", "r0", "r1", off("__sk_buff", "len")), d.exit() } end,
             run = { data = PKT }, want = #PKT - ETH_HLEN, ctx = "__sk_buff" },
  lwt_out = { insns = function() return { d.ldx("w", "r0", "r1", off("__sk_buff", "len")), d.exit() } end,
              run = { data = PKT }, want = #PKT - ETH_HLEN, ctx = "__sk_buff" },
  lwt_xmit = { insns = function() return { d.ldx("w", "r0", "r1", off("__sk_buff", "len")), d.exit() } end,
               run = { data = PKT }, want = #PKT - ETH_HLEN, ctx = "__sk_buff" },
  lwt_seg6local = { insns = function() return read("w", "__sk_buff", "len", 0) end, ctx = "__sk_buff" },
  flow_dissector = { insns = function() return read("dw", "__sk_buff", "flow_keys", 0) end, run = { data = PKT },
                     want = 0, ctx = "__sk_buff" },
  sk_skb = { insns = function() return read("w", "__sk_buff", "len", 1) end, ctx = "__sk_buff" },
  sk_msg = { insns = function() return read("w", "sk_msg_md", "size", 1) end, ctx = "sk_msg_md" },
  sk_reuseport = { insns = function() return read("w", "sk_reuseport_md", "len", 1) end, ctx = "sk_reuseport_md" },
  sock_ops = { insns = function() return read("w", "bpf_sock_ops", "op", 1) end, ctx = "bpf_sock_ops" },
  cgroup_sock = { insns = function() return read("w", "bpf_sock", "family", 1) end, ret_range = true,
                  ctx = "bpf_sock" },
  cgroup_sock_addr = { attach = "cgroup_inet4_connect", ret_range = true, ctx = "bpf_sock_addr",
                       insns = function() return read("w", "bpf_sock_addr", "user_family", 1) end },
  cgroup_device = { insns = function() return read("w", "bpf_cgroup_dev_ctx", "access_type", 1) end,
                    ret_range = true, ctx = "bpf_cgroup_dev_ctx" },
  cgroup_sysctl = { insns = function() return read("w", "bpf_sysctl", "write", 1) end, ret_range = true,
                    ctx = "bpf_sysctl" },
  cgroup_sockopt = { attach = "cgroup_getsockopt", insns = function() return read("w", "bpf_sockopt", "level", 1) end,
                     ret_range = true, ctx = "bpf_sockopt" },
  sk_lookup = { insns = function() return read("w", "bpf_sk_lookup", "family", 1) end, ret_range = true,
                ctx = "bpf_sk_lookup" },
  kprobe = { insns = function() return read("dw", "pt_regs", "di", 0) end, ctx = "pt_regs" },
  tracepoint = { insns = function() return { d.ldx("dw", "r2", "r1", 8), d.mov("r0", 0), d.exit() } end },
  raw_tracepoint = { insns = function()
                       return { d.ldx("dw", "r0", "r1", off("bpf_raw_tracepoint_args", "args[1]")), d.exit() }
                     end, run = { ctx = string.pack("<I8I8", 5, 1234) }, want = 1234 },
  raw_tracepoint_writable = { insns = function() return read("dw", "bpf_raw_tracepoint_args", "args", 0) end },
  perf_event = { insns = function() return read("dw", "bpf_perf_event_data", "sample_period", 0) end,
                 ctx = "bpf_perf_event_data" },
  struct_ops = { attach_to = "tcp_congestion_ops.ssthresh",
                 insns = function() return { d.ldx("dw", "r2", "r1", 0), d.mov("r0", 2), d.exit() } end },
  syscall = { sleepable = true, insns = function() return { d.mov("r0", 7), d.exit() } end,
              run = { ctx = string.rep("\0", 16) }, want = 7 },
  netfilter = { insns = function() return read("dw", "bpf_nf_ctx", "state", 1) end, ret_range = true },
  -- tracing and lsm need an attach target: see their own specs below
}

-- Types with no case above, and why.
local NOT_HERE = {
  unspec = "not a program type",
  tracing = "needs attach_to: the fentry/fexit/fmod_ret/tp_btf/iter specs below",
  lsm = "needs attach_to: the lsm spec below",
  ext = "replaces a function of a loaded program with BTF; DSL programs carry none",
  lirc_mode2 = "checked against CONFIG_BPF_LIRC_MODE2 below",
}

-- The running kernel's build configuration (/proc/config.gz, else
-- /boot/config-<release>): it must be readable, or the branch taken on it
-- would be a guess. name -> its value, or nil when it is not set.
local kconfig
local function config(name)
  if not kconfig then
    local release = env.run("uname -r"):gsub("%s+$", "")
    local f = io.open("/proc/config.gz", "rb")
    if f then
      f:close()
      kconfig = env.run("zcat /proc/config.gz")
    else
      kconfig = env.run("cat /boot/config-" .. release)
    end
    assert.truthy(kconfig:find("\nCONFIG_BPF=y\n", 1, true), "the kernel's config lacks CONFIG_BPF=y: unreadable?")
  end
  return kconfig:match("\n" .. name .. "=(%S+)")
end

local function load(ptype, case, extra)
  local spec = { type = ptype, name = ptype:sub(1, 15), insns = case.insns(), expected_attach_type = case.attach,
                 attach_to = case.attach_to, sleepable = case.sleepable }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return programs.load(spec)
end

describe("programs.load", function()
  it("has a case for every program type libbpf and the kernel name", function()
    for _, t in ipairs(programs.types()) do
      assert.truthy(CASES[t] or NOT_HERE[t], "no case for program type " .. t)
    end
  end)

  for ptype, case in pairs(CASES) do
    env.it(ptype .. ": loads a minimal program reading its context", { "bpf", "prog:" .. ptype }, function()
      local p, msg = load(ptype, case)
      assert.is_truthy(p, msg)
      assert.equal(ptype, p:type())
      local info = assert(p:info())
      assert.equal(ptype, info.type)
      assert.is_true(info.verified_insns >= 2)
      if case.run then
        local r = assert(p:test_run(case.run))
        assert.equal(case.want, r.retval)
      end
      p:close()
    end)

    if case.ctx then
      env.it(ptype .. ": refuses a context read past " .. case.ctx, { "bpf", "prog:" .. ptype }, function()
        local bad = { d.ldx("w", "r2", "r1", size(case.ctx) + 64), d.mov("r0", 0), d.exit() }
        local p, msg, err = programs.load { type = ptype, insns = bad, expected_attach_type = case.attach }
        assert.is_nil(p)
        assert.equal(13, err) -- EACCES
        assert.matches("invalid bpf_context access", msg, 1, true)
      end)
    end

    if case.ret_range then
      env.it(ptype .. ": refuses a return value outside what the type allows", { "bpf", "prog:" .. ptype }, function()
        local p, msg = programs.load { type = ptype, insns = { d.mov("r0", 7), d.exit() },
                                       expected_attach_type = case.attach }
        assert.is_nil(p)
        assert.matches("should have been in", msg, 1, true)
      end)
    end
  end

  env.it("lirc_mode2 loads exactly when the kernel has CONFIG_BPF_LIRC_MODE2", "bpf", function()
    local p, msg, err = programs.load { type = "lirc_mode2", insns = { d.mov("r0", 0), d.exit() } }
    if config("CONFIG_BPF_LIRC_MODE2") == "y" then
      assert.truthy(p, msg)
    else
      assert.is_nil(p)
      assert.equal(22, err) -- EINVAL: the kernel has no such type
      assert.equal("load of lirc_mode2 '' failed: Invalid argument", msg)
    end
  end)

  env.it("takes program bytes, type and name positionally, as clj-ebpf does", "bpf", function()
    local bytes = d.assemble { d.mov("r0", 3), d.exit() }
    local p = assert(programs.load(bytes, "socket_filter", "positional"))
    assert.equal("positional", p:name())
    assert.equal(3, p:test_run({ data = PKT }).retval)
  end)

  it("raises on misuse, naming the field", function()
    assert.has_error(function() programs.load { type = "socket_filter", insns = {}, colour = 1 } end,
      "programs.load: unknown field 'colour'")
    -- what programs.lua makes for the C load is not the caller's to give
    assert.has_error(function() programs.load { type = "socket_filter", insns = {}, fd_array = {} } end,
      "programs.load: unknown field 'fd_array'")
    -- a typo names the field meant, at the caller's line
    local ok, msg = pcall(function() programs.load { type = "xdp", insn = { d.mov("r0", 2), d.exit() } } end)
    assert.is_false(ok)
    assert.equal("spec/55-programs_spec.lua:" .. debug.getinfo(1, "l").currentline - 2 ..
      ": programs.load: unknown field 'insn' (did you mean 'insns'?)", msg)
    assert.has_error(function() programs.load { type = "tracing", insns = { d.exit() } } end,
      "programs.load: type 'tracing' needs expected_attach_type: trace_fentry, trace_fexit, modify_return, " ..
      "trace_raw_tp or trace_iter (or use type='fentry', ...)")
    assert.has_error(function()
      programs.load { type = "fentry", expected_attach_type = "trace_fexit", insns = { d.exit() } }
    end, "programs.load: type 'fentry' implies expected_attach_type 'trace_fentry', got 'trace_fexit'")
    assert.has_error(function()
      programs.load { type = "socket_filter", flags = { "fast" }, insns = { d.exit() } }
    end)
  end)
end)

describe("attach types", function()
  env.it("are named as the kernel's own enum names them, beyond what libbpf knows", "btf", function()
    local b = btf.vmlinux()
    local names = programs.attach_types()
    local pos = {}
    for i, n in ipairs(names) do pos[n] = i end
    local e = b:enum("bpf_attach_type")
    local seen = 0
    for _, v in ipairs(e.list) do
      local name = v.name:match("^BPF_(.*)$")
      if name and not v.name:match("^__") then
        assert.truthy(pos[name:lower()], "no attach type named " .. name:lower())
        seen = seen + 1
      end
    end
    assert.equal(seen, #names)
    local pt = b:enum("bpf_prog_type")
    local ptypes = {}
    for _, n in ipairs(programs.types()) do ptypes[n] = true end
    for _, v in ipairs(pt.list) do
      local name = v.name:match("^BPF_PROG_TYPE_(.*)$")
      if name then assert.truthy(ptypes[name:lower()], "no program type named " .. name:lower()) end
    end
  end)

  env.it("can be given by name or number, with the same result", "bpf", function()
    local insns = read("w", "bpf_sock_addr", "user_family", 1)
    local a = assert(programs.load { type = "cgroup_sock_addr", expected_attach_type = "cgroup_inet6_bind",
                                     insns = insns })
    local num = btf.vmlinux():enum("bpf_attach_type").values.BPF_CGROUP_INET6_BIND
    local b = assert(programs.load { type = "cgroup_sock_addr", expected_attach_type = num, insns = insns })
    assert.equal("cgroup_inet6_bind", a:expected_attach_type())
    assert.equal("cgroup_inet6_bind", b:expected_attach_type())
    assert.has_error(function()
      programs.load { type = "cgroup_sock_addr", expected_attach_type = "cgroup_inet9_bind", insns = insns }
    end, "unknown attach type 'cgroup_inet9_bind' (named as libbpf names them: \"trace_fentry\", " ..
      "\"cgroup_inet4_connect\", ...)")
  end)

  env.it("sets the implied one for sk_lookup", "bpf", function()
    local p = assert(programs.load { type = "sk_lookup", insns = { d.mov("r0", 1), d.exit() } })
    assert.equal("sk_lookup", p:expected_attach_type())
  end)

  env.it("sets the implied one for netfilter (6.4+)", { "bpf", "prog:netfilter" }, function()
    local p = assert(programs.load { type = "netfilter", insns = { d.mov("r0", 1), d.exit() } })
    assert.equal("netfilter", p:expected_attach_type())
  end)
end)

describe("attach_to", function()
  env.it("tp_btf: resolves a tracepoint to the BTF id the kernel reports", { "bpf", "btf" }, function()
    local b = btf.vmlinux()
    local p = assert(programs.load { type = "tp_btf", attach_to = "sched_switch", name = "tp_btf",
                                     insns = { d.ldx("dw", "r2", "r1", 8), d.mov("r0", 0), d.exit() } })
    assert.equal("tracing", p:type())
    assert.equal("trace_raw_tp", p:expected_attach_type())
    assert.equal(b:id("btf_trace_sched_switch", "typedef"), p:info().attach_btf_id)
  end)

  env.it("iter: resolves an iterator to its bpf_iter_ function", { "bpf", "btf" }, function()
    local b = btf.vmlinux()
    for _, target in ipairs { "task", "bpf_map", "tcp" } do
      local p = assert(programs.load { type = "iter", attach_to = target,
                                       insns = { d.ldx("dw", "r2", "r1", 0), d.mov("r0", 0), d.exit() } })
      assert.equal(b:id("bpf_iter_" .. target, "func"), p:info().attach_btf_id)
    end
  end)

  env.it("struct_ops: resolves struct.member to the struct's id and the member's index", { "bpf", "btf" }, function()
    local b = btf.vmlinux()
    local p = assert(programs.load { type = "struct_ops", attach_to = "tcp_congestion_ops.cong_avoid",
                                     insns = { d.mov("r0", 0), d.exit() } })
    assert.equal(b:id("tcp_congestion_ops", "struct"), p:info().attach_btf_id)
    local index
    for i, m in ipairs(b:type("tcp_congestion_ops").members) do if m.name == "cong_avoid" then index = i - 1 end end
    assert.equal(index, p:expected_attach_type())
  end)

  -- Programs that run through a BPF trampoline, where the kernel loads
  -- them (programs.supported; some kernels refuse them all with EPERM
  -- before the verifier runs): they load and report the function.
  for _, c in ipairs {
    { "fentry", "do_unlinkat", "func", "" }, { "fexit", "do_unlinkat", "func", "" },
    { "fmod_ret", "security_file_open", "func", "" }, { "lsm", "file_open", "func", "bpf_lsm_" },
  } do
    local ptype, target, kind, prefix = c[1], c[2], c[3], c[4]
    env.it(ptype .. ": resolves " .. target .. " and loads", { "bpf", "btf", "prog:" .. ptype }, function()
      local p, msg = programs.load { type = ptype, attach_to = target, name = ptype, log_level = 2,
                                     insns = { d.mov("r0", 0), d.exit() } }
      assert.is_truthy(p, msg)
      assert.equal(btf.vmlinux():id(prefix .. target, kind), p:info().attach_btf_id)
    end)
  end

  -- The kernel refuses these before it reads attach_btf_id, so what we sent
  -- is read from the syscall itself (strace) and compared with bpftool's
  -- id for the same function.
  env.it("fentry, fexit, fmod_ret, lsm: send the kernel bpftool's BTF id of their target (strace)",
    { "bpf", "btf", "bpftool", "strace" }, function()
      local dump = env.run("bpftool btf dump file /sys/kernel/btf/vmlinux")
      for _, c in ipairs {
        { "fentry", "do_unlinkat", "TRACING", "BPF_TRACE_FENTRY" },
        { "fexit", "do_unlinkat", "TRACING", "BPF_TRACE_FEXIT" },
        { "fmod_ret", "security_file_open", "TRACING", "BPF_MODIFY_RETURN" },
        { "lsm", "file_open", "LSM", "BPF_LSM_MAC", "bpf_lsm_file_open" },
      } do
        local ptype, target, kernel_type, attach_type, func = c[1], c[2], c[3], c[4], c[5] or c[2]
        local want = dump:match("\n%[(%d+)%] FUNC '" .. func .. "' ")
        assert.is_not_nil(want, "bpftool lists no FUNC " .. func)
        local text = require("support.child").strace("bpf", 'local e = require "ebpfdsl"\n' ..
          ('e.programs.load { type = %q, attach_to = %q, name = "ebpfdsl_at", ' ..
           'insns = { e.dsl.mov("r0", 0), e.dsl.exit() } }\n'):format(ptype, target))
        local loads = 0
        for call in text:gmatch("bpf%(BPF_PROG_LOAD, (%b{})") do
          if call:find('prog_name="ebpfdsl_at"', 1, true) then
            loads = loads + 1
            assert.equal("BPF_PROG_TYPE_" .. kernel_type, call:match("prog_type=([%w_]+)"), ptype)
            assert.equal(attach_type, call:match("expected_attach_type=([%w_]+)"), ptype)
            assert.equal(want, call:match("attach_btf_id=(%d+)"), ptype .. " " .. target)
          end
        end
        assert.is_true(loads >= 1, "no BPF_PROG_LOAD of " .. ptype .. " in strace's output:\n" .. text)
      end
    end)

  env.it("names what it looked for when the target does not exist", "btf", function()
    local p, msg, err = programs.load { type = "fentry", attach_to = "no_such_kernel_function",
                                        insns = { d.mov("r0", 0), d.exit() } }
    assert.is_nil(p)
    assert.equal("load of tracing '': no kernel function 'no_such_kernel_function' in vmlinux BTF", msg)
    assert.equal(2, err)
    p, msg = programs.load { type = "lsm", attach_to = "no_such_hook", insns = { d.mov("r0", 0), d.exit() } }
    assert.is_nil(p)
    assert.equal("load of lsm '': no LSM hook (function bpf_lsm_<hook>) 'no_such_hook' in vmlinux BTF", msg)
    p, msg = programs.load { type = "tp_btf", attach_to = "no_such_tp", insns = { d.mov("r0", 0), d.exit() } }
    assert.is_nil(p)
    assert.equal("load of tracing '': no BTF tracepoint (typedef btf_trace_<name>) 'no_such_tp' in vmlinux BTF",
      msg)
    assert.has_error(function()
      programs.load { type = "kprobe", attach_to = "do_unlinkat", insns = { d.mov("r0", 0), d.exit() } }
    end)
  end)
end)

describe("prog:info", function()
  env.it("agrees with bpftool", { "bpf", "bpftool" }, function()
    local p = assert(programs.load { type = "socket_filter", name = "info_check",
                                     insns = { d.mov("r0", 0), d.mov("r1", 2), d.add("r0", "r1"), d.exit() } })
    local info = assert(p:info())
    local theirs = json.decode(env.run("bpftool prog show id " .. info.id .. " --json"))
    assert.equal(theirs.id, info.id)
    assert.equal(theirs.name, info.name)
    assert.equal(theirs.tag, info.tag)
    assert.equal(theirs.type, info.type)
    assert.equal(theirs.bytes_xlated, info.xlated_size)
    assert.equal(theirs.bytes_jited, info.jited_size)
    assert.equal(theirs.gpl_compatible, info.gpl_compatible)
    assert.equal(theirs.uid, info.uid)
    assert.equal(4, info.verified_insns)
    assert.same({}, info.map_ids)
    p:close()
    assert.has_error(function() p:info() end, "attempt to use a closed ebpfdsl.Prog")
  end)
end)

describe("pinning", function()
  env.it("pins, reopens from the path alone in another process, and unpins", "bpf", function()
    local path = env.unique("/sys/fs/bpf/ebpfdsl_spec55_")
    local p = assert(programs.load { type = "socket_filter", name = "pinned_prog",
                                     insns = { d.mov("r0", 42), d.exit() } })
    assert.equal(p, p:pin(path))
    local q = assert(programs.open_pinned(path))
    assert.equal("socket_filter", q:type())
    assert.equal("pinned_prog", q:name())
    assert.equal(p:info().id, q:info().id)
    assert.equal(p:insns(), q:insns()) -- nothing for the kernel to rewrite here
    assert.equal(42, q:test_run({ data = PKT }).retval)
    local out = env.run("lua5.4 -e 'package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path; " ..
      "package.cpath=\"build/?.so;\"..package.cpath; local p = assert(require(\"ebpfdsl\").programs.open_pinned(\"" ..
      path .. "\")); print(p:type(), p:name(), p:test_run({data=(\"x\"):rep(64)}).retval)'")
    assert.equal("socket_filter\tpinned_prog\t42\n", out)
    assert.equal(p, p:unpin())
    local r, msg, err = programs.open_pinned(path)
    assert.is_nil(r)
    assert.equal(2, err)
    assert.equal("open of pinned program " .. path .. ": No such file or directory", msg)
    assert.has_error(function() p:unpin() end, "unpin: this program was not pinned through this handle; give the path")
  end)

  env.it("fails with the path when the pin cannot be made", "bpf", function()
    local p = assert(programs.load { type = "socket_filter", insns = { d.mov("r0", 0), d.exit() }, name = "nopin" })
    local r, msg, err = p:pin("/tmp/ebpfdsl-no-such-dir/x") -- not on a bpffs
    assert.is_nil(r)
    assert.equal(2, err)
    assert.equal("pin of 'nopin' at /tmp/ebpfdsl-no-such-dir/x: No such file or directory", msg)
  end)
end)

describe("the verifier's log", function()
  env.it("grows until the whole log fits", "bpf", function()
    local insns = {}
    for i = 1, 3000 do insns[#insns + 1] = d.mov("r0", i) end
    insns[#insns + 1] = d.exit()
    local p, log = programs.load { type = "socket_filter", insns = insns, log_level = 2 }
    assert.truthy(p)
    assert.is_true(#log > 64 * 1024, #log .. " bytes") -- past the first 64 KiB buffer
    assert.matches("\n3000: %(95%) exit\n", log)
    assert.matches("processed 3001 insns", log, 1, true)
  end)
end)
