-- SPDX-License-Identifier: MIT
-- The kprobe DSL: golden instruction lists derived from the arch tables
-- (which spec 42 holds to libbpf, the UAPI headers and BTF) for every
-- architecture, and every builder's program loaded by the kernel verifier
-- as a kprobe program.
local env = require "support.env"
local arch = require "ebpfdsl.arch"
local kprobe = require "ebpfdsl.kprobe"
local dsl = require "ebpfdsl.dsl"

local PROBE_READ = dsl.helper_id("probe_read_kernel")

local function ldx(t, dst, src, off) return { op = "ldx", size = t.load_size, dst = dst, src = src, off = off } end
local function mov(dst, x)
  if type(x) == "string" then return { op = "mov", dst = dst, src = x } end
  return { op = "mov", dst = dst, imm = x }
end
local function add(dst, imm) return { op = "add", dst = dst, imm = imm } end
local EXIT = { op = "exit" }

describe("kprobe builders, for every architecture", function()
  for _, name in ipairs(arch.list()) do
    local t = arch.pt_regs(name)
    local o = { arch = name }

    describe(name, function()
      it("read_arg and read_args load each argument from its pt_regs slot", function()
        for n = 1, t.nargs do
          assert.same(ldx(t, "r6", "r1", t.args[n]), kprobe.read_arg("r1", n, "r6", o))
          assert.same(ldx(t, "r7", "r9", t.args[n]), dsl.read_kprobe_arg("r9", n, "r7", o))
        end
        local want, list = {}, {}
        for n = 1, math.min(t.nargs, 4) do
          list[n] = { n, "r" .. (5 + n) }
          want[n] = ldx(t, "r" .. (5 + n), "r1", t.args[n])
        end
        assert.same(want, kprobe.read_args("r1", list, o))
        -- clj-ebpf's name for it
        assert.same(want, kprobe.kprobe_read_args("r1", list, o))
      end)

      it("prologue reads arguments 1..n from r1, after saving the context when asked", function()
        local n = math.min(t.nargs, 3)
        local regs, want = {}, {}
        for i = 1, n do
          regs[i] = "r" .. (5 + i)
          want[i] = ldx(t, regs[i], "r1", t.args[i])
        end
        assert.same(want, kprobe.prologue(regs, o))
        local saved = { mov("r9", "r1") }
        for _, x in ipairs(want) do saved[#saved + 1] = x end
        assert.same(saved, kprobe.prologue("r9", regs, o))
      end)

      it("kretprobe_return_value loads PT_REGS_RC", function()
        assert.same(ldx(t, "r6", "r1", t.rc), kprobe.kretprobe_return_value("r1", "r6", o))
        assert.same(ldx(t, "r0", "r8", t.rc), kprobe.kretprobe_get_return_value("r8", "r0", o))
      end)

      it("build_kprobe_program: ctx save, argument reads, body, return value, exit", function()
        local body = { dsl.add("r6", "r7") }
        assert.same({ mov("r9", "r1"), ldx(t, "r6", "r1", t.args[1]), ldx(t, "r7", "r1", t.args[2]),
                      { op = "add", dst = "r6", src = "r7" }, mov("r0", "r6"), EXIT },
          kprobe.build_kprobe_program { args = { "r6", "r7" }, ctx_reg = "r9", body = body, return_value = "r6",
                                        arch = name })
        assert.same({ ldx(t, "r8", "r1", t.args[t.nargs]), mov("r0", 0), EXIT },
          kprobe.build_kprobe_program { args = { { t.nargs, "r8" } }, arch = name })
      end)

      it("build_kretprobe_program: ctx save, return value, body, exit", function()
        assert.same({ mov("r7", "r1"), ldx(t, "r6", "r1", t.rc), mov("r0", "r6"), EXIT },
          kprobe.build_kretprobe_program { ret_reg = "r6", ctx_reg = "r7", body = { dsl.mov("r0", "r6") },
                                           return_value = "r0", arch = name })
        assert.same({ mov("r0", 7), EXIT }, kprobe.build_kretprobe_program { return_value = 7, arch = name })
      end)

      it("define and define_kretprobe describe a program as clj-ebpf's macros did", function()
        local info = kprobe.define("my_probe", { ["function"] = "do_sys_openat2", args = { "r6", "r7" }, arch = name },
          { dsl.mov("r0", 0), dsl.exit() })
        assert.equal("my_probe", info.name)
        assert.equal("kprobe/do_sys_openat2", info.section)
        assert.equal("kprobe", info.type)
        assert.equal("do_sys_openat2", info["function"])
        assert.same({ ldx(t, "r6", "r1", t.args[1]), ldx(t, "r7", "r1", t.args[2]), mov("r0", 0), EXIT }, info.insns)
        local r = kprobe.define_kretprobe("my_ret", { ["function"] = "do_sys_openat2", ret_reg = "r6", arch = name },
          function() return { dsl.mov("r0", 0), dsl.exit() } end)
        assert.equal("kretprobe/do_sys_openat2", r.section)
        assert.equal("kprobe", r.type)
        assert.same({ ldx(t, "r6", "r1", t.rc), mov("r0", 0), EXIT }, r.insns)
      end)

      it("read_syscall_args reads the syscall's registers where the wrapper keeps them", function()
        local got = kprobe.read_syscall_args("r1", { { 1, "r6" }, { 2, "r7" } }, o)
        if t.syscall_wrapper then
          local want = { ldx(t, "r9", "r1", t.args[1]) }
          for _, b in ipairs { { 1, "r6" }, { 2, "r7" } } do
            for _, x in ipairs { mov("r1", "r10"), add("r1", -8), mov("r2", t.reg_size), mov("r3", "r9"),
                                 add("r3", t.syscall_args[b[1]]),
                                 { op = "call", imm = PROBE_READ, helper = "probe_read_kernel" },
                                 ldx(t, b[2], "r10", -8) } do want[#want + 1] = x end
          end
          assert.same(want, got)
          assert.same({ ldx(t, "r8", "r1", t.args[1]) }, kprobe.syscall_regs("r1", "r8", o))
        else
          assert.same({ ldx(t, "r6", "r1", t.syscall_args[1]), ldx(t, "r7", "r1", t.syscall_args[2]) }, got)
          assert.same({ mov("r8", "r1") }, kprobe.syscall_regs("r1", "r8", o))
        end
        -- the last syscall argument, and opts.wrapper overriding the table
        local n = t.nsyscall_args
        assert.same({ ldx(t, "r6", "r1", t.syscall_args[n]) },
          kprobe.read_syscall_args("r1", { { n, "r6" } }, { arch = name, wrapper = false }))
      end)

      it("says how many arguments travel in registers when asked for one more", function()
        assert.has_error(function() kprobe.read_arg("r1", t.nargs + 1, "r6", o) end,
          ("kprobe.read_arg: %s passes %d arguments in registers; argument %d is not in pt_regs"):format(name,
            t.nargs, t.nargs + 1))
        assert.has_error(function() kprobe.read_syscall_args("r1", { { t.nsyscall_args + 1, "r6" } }, o) end,
          ("kprobe.read_syscall_args: %s passes %d system call arguments in registers; argument %d is not in pt_regs")
          :format(name, t.nsyscall_args, t.nsyscall_args + 1))
      end)
    end)
  end
end)

describe("kprobe builders, golden text for x86_64", function()
  it("prints as llvm-objdump would", function()
    assert.equal(table.concat({
      "    0: r9 = r1",
      "    1: r6 = *(u64 *)(r1 + 0x70)",
      "    2: r7 = *(u64 *)(r1 + 0x68)",
      "    3: r8 = *(u64 *)(r1 + 0x40)",
      "    4: r0 = 0x0",
      "    5: exit", "" }, "\n"),
      dsl.dump(kprobe.build_kprobe_program { args = { "r6", "r7", { 6, "r8" } }, ctx_reg = "r9", arch = "x86_64" }))
    assert.equal("    0: r6 = *(u64 *)(r1 + 0x50)\n", dsl.dump { kprobe.kretprobe_return_value("r1", "r6",
      { arch = "x86_64" }) })
    -- the 4th syscall argument comes from r10, not rcx
    assert.equal("    0: r6 = *(u64 *)(r1 + 0x38)\n",
      dsl.dump(kprobe.read_syscall_args("r1", { { 4, "r6" } }, { arch = "x86_64", wrapper = false })))
  end)
end)

describe("kprobe DSL misuse", function()
  it("reads into the context register last, and refuses two such reads", function()
    local t = arch.pt_regs("x86_64")
    assert.same({ ldx(t, "r6", "r1", t.args[2]), ldx(t, "r1", "r1", t.args[1]) },
      kprobe.read_args("r1", { { 1, "r1" }, { 2, "r6" } }, { arch = "x86_64" }))
    assert.has_error(function() kprobe.read_args("r1", { { 1, "r1" }, { 2, "r1" } }) end,
      "kprobe.read_args: two arguments are read into the context register r1")
  end)

  it("catches arguments counted from 0, bad registers and unknown architectures", function()
    assert.has_error(function() kprobe.read_arg("r1", 0, "r6") end,
      "kprobe.read_arg: arguments are numbered from 1 (PT_REGS_PARM1 is argument 1), got 0")
    assert.has_error(function() kprobe.read_arg("r1", 1, "r11") end,
      "kprobe.read_arg: dst must be a register (r0..r10), got 'r11'")
    assert.has_error(function() kprobe.read_arg("r1", 1, "r10") end,
      "kprobe.read_arg: dst cannot be the read-only frame pointer r10")
    assert.has_error(function() kprobe.read_arg("r1", 1, "r6", { arch = "vax" }) end,
      "kprobe.read_arg: unknown architecture 'vax' (known: " .. table.concat(arch.list(), ", ") .. ")")
    assert.has_error(function() kprobe.build_kprobe_program { return_value = "x" } end,
      "kprobe.build_kprobe_program: return_value must be an integer or a register, got 'x'")
    assert.has_error(function() kprobe.build_kprobe_program { args = { "r6" }, ctx_reg = "r6" } end,
      "kprobe.build_kprobe_program: argument 1 is read into ctx_reg r6")
    assert.has_error(function() kprobe.define("x", { ["function"] = "f" }) end,
      "kprobe.define: a body is required; it must end the program (exit)")
    assert.has_error(function() kprobe.section_name("") end,
      "kprobe.section_name: the function name must be a non-empty string")
  end)

  it("blames the caller's line", function()
    local ok, err = pcall(function() kprobe.read_arg("r1", 99, "r6", { arch = "x86_64" }) end)
    assert.is_false(ok)
    assert.truthy(err:find("43%-kprobe_spec%.lua:%d+:"), err)
  end)

  it("keeps helper-clobbered destinations to one, read last", function()
    local list = kprobe.read_syscall_args("r1", { { 1, "r0" }, { 2, "r6" } }, { arch = "x86_64" })
    assert.same({ op = "ldx", size = "dw", dst = "r0", src = "r10", off = -8 }, list[#list])
    assert.has_error(function()
      kprobe.read_syscall_args("r1", { { 1, "r0" }, { 2, "r2" } }, { arch = "x86_64" })
    end, "kprobe.read_syscall_args: r0 and r2 would both be clobbered by bpf_probe_read_kernel; read into r6-r9")
    assert.has_error(function()
      kprobe.read_syscall_args("r1", { { 1, "r6" }, { 2, "r7" }, { 3, "r8" }, { 4, "r9" } }, { arch = "x86_64" })
    end, "kprobe.read_syscall_args: no callee-saved register is free for the pt_regs pointer; pass opts.regs_reg")
  end)

  it("prints program descriptions usefully", function()
    local info = kprobe.kretprobe_program_info("tcp_v4_connect", "ret", { dsl.mov("r0", 0), dsl.exit() })
    assert.equal("kprobe program 'ret' (section kretprobe/tcp_v4_connect, 2 instructions)", tostring(info))
    assert.equal("kretprobe/tcp_v4_connect", kprobe.kretprobe_section_name("tcp_v4_connect"))
  end)
end)

describe("kprobe programs and the verifier", function()
  local programs = require "ebpfdsl.programs"
  local function loads(what, list)
    local p, msg, _, log = programs.load { type = "kprobe", insns = list, name = "kp_spec" }
    assert(p, what .. ": " .. tostring(msg) .. "\n" .. tostring(log))
    p:close()
  end

  env.it("loads every builder's program for this machine", { "bpf" }, function()
    local t = arch.pt_regs()
    local regs = {}
    for i = 1, math.min(t.nargs, 3) do regs[i] = "r" .. (5 + i) end
    loads("build_kprobe_program", kprobe.build_kprobe_program {
      args = regs, ctx_reg = "r9",
      body = { dsl.add("r6", "r7"), dsl.helper_ktime_get_ns(), dsl.mov("r1", "r9") },
      return_value = "r6" })
    loads("build_kretprobe_program", kprobe.build_kretprobe_program {
      ret_reg = "r6", ctx_reg = "r7", body = { dsl.helper_get_current_pid_tgid(), dsl.add("r6", "r0") },
      return_value = 0 })
    local body = { dsl.mov("r0", 0), dsl.exit() }
    loads("prologue", { kprobe.prologue("r9", regs), body })
    loads("read_args (last argument)", { kprobe.read_args("r1", { { t.nargs, "r6" } }), body })
    loads("kretprobe_return_value", { kprobe.kretprobe_return_value("r1", "r0"), dsl.exit() })
    loads("dsl.read_kprobe_arg", { dsl.read_kprobe_arg("r1", 1, "r0"), dsl.exit() })
    local args = { { 1, "r6" }, { 2, "r7" }, { 3, "r8" }, { t.nsyscall_args, "r0" } }
    loads("read_syscall_args", { kprobe.read_syscall_args("r1", args), dsl.exit() })
    loads("read_syscall_args without a wrapper", { kprobe.read_syscall_args("r1", args, { wrapper = false }),
                                                   dsl.exit() })
    loads("syscall_regs", { kprobe.syscall_regs("r1", "r0"), dsl.exit() })
  end)

  env.it("loads define and define_kretprobe results as they are", { "bpf" }, function()
    for _, info in ipairs {
      kprobe.define("kp_define", { ["function"] = "tcp_v4_connect", args = { "r6", "r7" } },
        { dsl.mov("r0", "r6"), dsl.exit() }),
      kprobe.define_kretprobe("kp_define_ret", { ["function"] = "tcp_v4_connect", ret_reg = "r6" },
        { dsl.mov("r0", 0), dsl.exit() }),
      kprobe.program_info("tcp_v4_connect", "kp_info", kprobe.build_kprobe_program { args = { "r6" } }),
    } do
      local p, msg, _, log = programs.load(info)
      assert(p, tostring(msg) .. "\n" .. tostring(log))
      assert.truthy(tostring(p):find(info.name, 1, true))
      p:close()
    end
  end)

  env.it("rejects reading the wrapper's pt_regs directly, which is why read_syscall_args copies "
    .. "(without a wrapper, the context's own registers are read directly)", { "bpf" }, function()
      local t = arch.pt_regs()
      if t.syscall_wrapper then
        local p, msg, _, log = programs.load { type = "kprobe", name = "kp_direct", insns = {
          dsl.ldx("dw", "r2", "r1", t.args[1]), dsl.ldx("dw", "r0", "r2", t.syscall_args[1]), dsl.exit() } }
        assert.is_nil(p)
        assert.truthy((tostring(msg) .. tostring(log)):find("invalid mem access 'scalar'", 1, true),
          tostring(msg) .. "\n" .. tostring(log))
        assert.is_true(#kprobe.read_syscall_args("r1", { { 1, "r6" } }) > 1, "a wrapper needs a copy first")
      else
        -- no wrapper: the syscall's arguments are the probed context's own
        -- registers, read with one ldx each
        assert.same({ dsl.ldx("dw", "r6", "r1", t.syscall_args[1]) },
          kprobe.read_syscall_args("r1", { { 1, "r6" } }))
        local p, msg, _, log = programs.load { type = "kprobe", name = "kp_direct", insns = {
          kprobe.read_syscall_args("r1", { { 1, "r0" } }), dsl.exit() } }
        assert(p, tostring(msg) .. "\n" .. tostring(log))
        p:close()
      end
    end)
end)
