-- SPDX-License-Identifier: MIT
-- The per-architecture pt_regs tables against three oracles nobody here
-- wrote: libbpf's bpf_tracing.h compiled by clang for BPF, each
-- architecture's own UAPI headers compiled for that architecture, and the
-- running kernel's BTF; plus the Lua API over the tables.
local env = require "support.env"
local arch = require "ebpfdsl.arch"

-- Where Debian puts each architecture's headers, and the clang triple that
-- lays structs out as that architecture does.
local HEADERS = {
  x86_64 = { triple = "x86_64-linux-gnu", inc = { "/usr/include/x86_64-linux-gnu", "/usr/include" } },
  arm64 = { triple = "aarch64-linux-gnu", inc = { "/usr/aarch64-linux-gnu/include" } },
  s390x = { triple = "s390x-linux-gnu", inc = { "/usr/s390x-linux-gnu/include" } },
  ppc64le = { triple = "powerpc64le-linux-gnu", inc = { "/usr/powerpc64le-linux-gnu/include" } },
  riscv64 = { triple = "riscv64-linux-gnu", inc = { "/usr/riscv64-linux-gnu/include" } },
  arm = { triple = "arm-linux-gnueabihf", inc = { "/usr/arm-linux-gnueabihf/include" } },
  mips64 = { triple = "mips64el-linux-gnuabi64", inc = { "/usr/mips64el-linux-gnuabi64/include" } },
}

-- Where our table and libbpf 1.1 (the version installed here) part ways
-- on purpose. Each entry is checked to still differ, so none can hide an
-- agreement; the reason is the kernel source that decides.
local DIVERGES = {
  ["arm.parm5"] = "AAPCS passes 4 arguments (r0-r3); libbpf 1.1's PT_REGS_PARM5 reads r4, " ..
    "which holds no argument (later libbpf dropped it)",
  ["arm.ip"] = "libbpf 1.1 reads uregs[12], the scratch register r12 named 'ip'; the kernel's " ..
    "instruction_pointer() is ARM_pc, uregs[15] (arch/arm/include/asm/ptrace.h)",
  ["mips64.ip"] = "the UAPI struct puts cp0_epc after lo and hi (272); the kernel's struct pt_regs " ..
    "orders cp0_status, hi, lo, cp0_badvaddr, cp0_cause, cp0_epc (296), arch/mips/include/asm/ptrace.h",
  ["ppc64le.sp"] = "libbpf 1.1 names a field 'sp' that powerpc's pt_regs lacks; r1 is the stack " ..
    "pointer, gpr[1] (later libbpf reads gpr[1])",
  ["ppc64le.sysregs"] = "ppc64 wraps syscalls since Linux 6.1 (arch/powerpc/include/asm/syscall_wrapper.h); " ..
    "libbpf 1.1 predates it",
  ["riscv64.sysregs"] = "riscv wraps syscalls since Linux 6.6 (arch/riscv/include/asm/syscall_wrapper.h); " ..
    "libbpf 1.1 predates it",
  ["arm.sysregs"] = "arch/arm has no asm/syscall_wrapper.h and does not select ARCH_HAS_SYSCALL_WRAPPER; " ..
    "libbpf assumes a wrapper on every architecture it does not name",
  ["mips64.sysregs"] = "arch/mips has no asm/syscall_wrapper.h and does not select ARCH_HAS_SYSCALL_WRAPPER; " ..
    "libbpf assumes a wrapper on every architecture it does not name",
  ["riscv64.sys1"] = "since Linux 6.6 the wrapper reads the first argument from orig_a0 " ..
    "(arch/riscv/include/asm/syscall_wrapper.h); libbpf 1.1 reads a0",
}

local write = require("support.files").write

local function incflags(h)
  local t = {}
  for _, d in ipairs(h.inc) do t[#t + 1] = "-I" .. d end
  return table.concat(t, " ")
end

local function have_headers(name)
  local h = HEADERS[name]
  if not h then return false end
  local f = io.open(h.inc[1] .. "/asm/ptrace.h")
  if f then f:close() return true end
  return false
end

-- Oracle A. One function per macro, one per line, compiled with clang for
-- BPF against libbpf's bpf_tracing.h; a line that does not compile (a
-- macro this libbpf lacks for the architecture) is dropped and recorded.
-- Each function's first instruction names the offset:
--   r0 = *(u64 *)(r1 + off)            a direct read of the context
--   a CO-RE relocation + call 0x71     bpf_probe_read_kernel of a field of
--                                      the kernel's own pt_regs (libbpf 1.1's
--                                      PT_REGS_PARM1_SYSCALL on s390 and
--                                      arm64): the relocation names the
--                                      field, whose offset the kernel's
--                                      headers (not the UAPI ones) decide
--   r0 = r1                            PT_REGS_SYSCALL_REGS is ctx itself:
--                                      no syscall wrapper
local ITEMS = {}
for n = 1, 5 do ITEMS[#ITEMS + 1] = { "parm" .. n, "PT_REGS_PARM" .. n .. "(ctx)" } end
for _, r in ipairs { "rc", "sp", "ip", "fp" } do ITEMS[#ITEMS + 1] = { r, "PT_REGS_" .. r:upper() .. "(ctx)" } end
for n = 1, 5 do ITEMS[#ITEMS + 1] = { "sys" .. n, "PT_REGS_PARM" .. n .. "_SYSCALL(ctx)" } end
ITEMS[#ITEMS + 1] = { "sysregs", "(long)PT_REGS_SYSCALL_REGS(ctx)" }

local function libbpf_oracle(name, dir)
  local t = arch.pt_regs(name)
  local h = HEADERS[name]
  local live, dropped = {}, {}
  for i, item in ipairs(ITEMS) do live[i] = item end
  local src, obj = dir .. "/" .. name .. ".c", dir .. "/" .. name .. ".o"
  local out
  for _ = 1, #ITEMS do
    local lines = { "#include <linux/types.h>", "#include <asm/ptrace.h>", "#include <bpf/bpf_helpers.h>",
                    "#include <bpf/bpf_core_read.h>", "#include <bpf/bpf_tracing.h>" }
    local at = {}
    for _, item in ipairs(live) do
      lines[#lines + 1] = ("long %s(struct pt_regs *ctx) { return %s; }"):format(item[1], item[2])
      at[#lines] = item
    end
    write(src, table.concat(lines, "\n") .. "\n")
    local cmd = ("clang-19 -O2 -g -target bpf -D__TARGET_ARCH_%s %s -c %s -o %s 2>&1"):format(t.target,
      incflags(h), src, obj)
    local p = io.popen(cmd)
    out = p:read("a")
    local ok = p:close()
    if ok then break end
    local bad = {}
    for line in out:gmatch("[^\n]+") do
      local ln = line:match("^[^:]+%.c:(%d+):%d+: error:")
      if ln and at[tonumber(ln)] then bad[at[tonumber(ln)][1]] = line end
    end
    assert(next(bad), "clang failed on something other than one macro:\n" .. out)
    local keep = {}
    for _, item in ipairs(live) do
      if bad[item[1]] then dropped[item[1]] = bad[item[1]] else keep[#keep + 1] = item end
    end
    live = keep
  end
  local dis = env.run("llvm-objdump-19 -dr " .. obj)
  local res, cur = {}, nil
  for line in dis:gmatch("[^\n]+") do
    local fn = line:match("^%x+ <([%w_]+)>:")
    if fn then
      cur = { lines = {} }
      res[fn] = cur
    elseif cur then
      cur.lines[#cur.lines + 1] = line
    end
  end
  local oracle = {}
  for _, item in ipairs(ITEMS) do
    local k = item[1]
    local f = res[k]
    if dropped[k] then
      oracle[k] = { kind = "none", why = dropped[k] }
    else
      assert(f, "no function " .. k .. " in\n" .. dis)
      local text = table.concat(f.lines, "\n")
      local field = text:match("CO%-RE <byte_off> %[%d+%] struct [%w_]+::([%w_]+)")
      local bits, off = f.lines[1]:match("r0 = %*%(u(%d+) %*%)%(r1 %+ 0x(%x+)%)")
      if field then
        assert(text:find("call 0x71", 1, true), "a CO-RE read that is not bpf_probe_read_kernel:\n" .. text)
        oracle[k] = { kind = "core", field = field }
      elseif off then
        oracle[k] = { kind = "ldx", off = tonumber(off, 16), bits = tonumber(bits) }
      elseif f.lines[1]:match("r0 = r1$") then
        oracle[k] = { kind = "ctx" }
      else
        error("unexpected code for " .. k .. ":\n" .. text)
      end
    end
  end
  return oracle
end

-- Oracle B. The architecture's own UAPI header, laid out by clang for that
-- architecture (so 32-bit arm gets its 4-byte longs): the offset and size
-- of every field our table names and says the header shows.
local function header_oracle(name, dir)
  local t = arch.pt_regs(name)
  local h = HEADERS[name]
  local lines, want = { "#include <asm/ptrace.h>" }, {}
  local function add(key, reg)
    if not reg or reg.kernel_only then return end
    local id = key:gsub("%W", "_")
    lines[#lines + 1] = ("const long o_%s = (long)&((%s *)0)->%s;"):format(id, t.uapi_struct, reg.name)
    lines[#lines + 1] = ("const long s_%s = sizeof(((%s *)0)->%s);"):format(id, t.uapi_struct, reg.name)
    want[#want + 1] = { key = key, id = id, reg = reg }
  end
  for i, reg in ipairs(t.fields.args) do add("arg" .. i, reg) end
  for i, reg in ipairs(t.fields.syscall_args) do add("sys" .. i, reg) end
  for _, k in ipairs { "rc", "sp", "ip", "fp" } do add(k, t.fields[k]) end
  local src = dir .. "/" .. name .. "_layout.c"
  write(src, table.concat(lines, "\n") .. "\n")
  local ir = env.run(("clang-19 --target=%s -ffreestanding -nostdinc %s -S -emit-llvm -o - %s"):format(h.triple,
    incflags(h), src))
  local got = {}
  for var, v in ir:gmatch("\n@([%w_]+) = [^\n]-constant i%d+ (%-?%d+)") do got[var] = tonumber(v) end
  return want, got
end

-- Oracle C. The running kernel's BTF as bpftool prints it raw: every type
-- by id, struct and union members with their byte offsets.
local function btf_types(raw)
  local types, cur = {}, nil
  for line in raw:gmatch("[^\n]+") do
    local id, kind, name, rest = line:match("^%[(%d+)%] (%u+) '([^']*)'(.*)$")
    if id then
      cur = { kind = kind, name = name, size = tonumber(rest:match(" size=(%d+)")),
              type = tonumber(rest:match(" type_id=(%d+)")), nelems = tonumber(rest:match(" nr_elems=(%d+)")),
              members = {} }
      types[tonumber(id)] = cur
    else
      local mname, mtype, bits = line:match("^\t'([^']*)' type_id=(%d+) bits_offset=(%d+)")
      if mname and cur then
        cur.members[#cur.members + 1] = { name = mname, type = tonumber(mtype), off = tonumber(bits) // 8 }
      end
    end
  end
  return types
end

-- A type with its typedefs and qualifiers stripped, and its size.
local function btf_resolve(types, id, ptr_size)
  local ty = types[id]
  while ty.kind == "TYPEDEF" or ty.kind == "CONST" or ty.kind == "VOLATILE" or ty.kind == "RESTRICT" do
    ty = types[ty.type]
  end
  if ty.kind == "ARRAY" then return ty, ty.nelems * select(2, btf_resolve(types, ty.type, ptr_size)) end
  if ty.kind == "PTR" then return ty, ptr_size end
  return ty, ty.size
end

-- Offset and size of a path like "regs[29]", "psw.addr" or "di" in a
-- struct, looking through anonymous struct and union members as C does.
local function btf_path(types, struct, path, ptr_size)
  local function member(ty, name)
    for _, m in ipairs(ty.members) do
      local mt = btf_resolve(types, m.type, ptr_size)
      if m.name == name then return m.off, m.type end
      if m.name == "(anon)" and (mt.kind == "STRUCT" or mt.kind == "UNION") then
        local off, tid = member(mt, name)
        if off then return m.off + off, tid end
      end
    end
  end
  local ty, off, tid = struct, 0, nil
  for part in path:gmatch("[^.]+") do
    local name, index = part:match("^([%w_]+)%[(%d+)%]$")
    name = name or part
    local moff
    moff, tid = member(ty, name)
    if not moff then return nil end
    off = off + moff
    if index then
      local arr = btf_resolve(types, tid, ptr_size)
      if arr.kind ~= "ARRAY" or tonumber(index) >= arr.nelems then return nil end
      tid = arr.type
      off = off + tonumber(index) * select(2, btf_resolve(types, tid, ptr_size))
    end
    ty = btf_resolve(types, tid, ptr_size)
  end
  return off, select(2, btf_resolve(types, tid, ptr_size))
end

-- The names the x86_64 UAPI header and the kernel give one register.
local X86_KERNEL_NAME = { rdi = "di", rsi = "si", rdx = "dx", rcx = "cx", rax = "ax", rsp = "sp", rip = "ip",
                          rbp = "bp" }

describe("arch tables", function()
  local compared = { libbpf = 0, headers = 0 }

  for _, name in ipairs(arch.list()) do
    if have_headers(name) then
      env.it(name .. ": every offset libbpf's bpf_tracing.h compiles to", { "clang-19", "llvm-objdump-19" },
        function()
          local dir = env.tmpdir()
          local t = arch.pt_regs(name)
          local o = libbpf_oracle(name, dir)
          -- -target bpf is LP64: on 32-bit arm `long uregs[18]` gets 8-byte
          -- slots there, twice the kernel's; oracle B checks the real layout.
          local scale = 8 // t.reg_size
          local function check(key, oracle, ours, why)
            local tag = name .. "." .. key
            local agree
            if oracle.kind == "ldx" then
              agree = ours ~= nil and oracle.off == ours * scale and oracle.bits == 64
            elseif oracle.kind == "none" then
              agree = ours == nil
            end
            if DIVERGES[tag] then
              assert.is_false(agree, tag .. " is listed as diverging but agrees: remove it from DIVERGES")
            else
              local theirs = oracle.kind == "ldx" and ("reads offset " .. oracle.off // scale)
                or ("has none: " .. tostring(oracle.why))
              assert(agree, ("%s: libbpf %s, ours %s %s"):format(tag, theirs, tostring(ours), why or ""))
              compared.libbpf = compared.libbpf + 1
            end
          end
          for n = 1, 5 do check("parm" .. n, o["parm" .. n], t.args[n]) end
          for _, k in ipairs { "rc", "sp", "ip", "fp" } do check(k, o[k], t[k]) end
          for n = 1, 5 do
            local oracle, tag = o["sys" .. n], name .. ".sys" .. n
            if oracle.kind == "core" then
              -- a probe-read of a field only the kernel's pt_regs has
              local f = t.fields.syscall_args[n]
              assert.equal(oracle.field, f.name, tag)
              assert.is_true(f.kernel_only, tag .. " is read through the kernel's own struct pt_regs")
              compared.libbpf = compared.libbpf + 1
            else
              check("sys" .. n, oracle, t.syscall_args[n])
            end
          end
          local sr = o.sysregs
          local wrapper = sr.kind == "ldx" and sr.off == t.args[1] * scale
          assert(wrapper or sr.kind == "ctx", "PT_REGS_SYSCALL_REGS compiled to something unexpected")
          if DIVERGES[name .. ".sysregs"] then
            assert.are_not.equal(wrapper, t.syscall_wrapper)
          else
            assert.equal(wrapper, t.syscall_wrapper, name .. " syscall wrapper")
            compared.libbpf = compared.libbpf + 1
          end
          env.run("rm -rf " .. dir)
        end)

      env.it(name .. ": every offset and size its own UAPI header gives", { "clang-19" }, function()
        local dir = env.tmpdir()
        local t = arch.pt_regs(name)
        local want, got = header_oracle(name, dir)
        assert.is_true(#want > 0)
        for _, w in ipairs(want) do
          local off, size = got["o_" .. w.id], got["s_" .. w.id]
          assert(off, "no layout for " .. w.key)
          local tag = ("%s.%s (%s)"):format(name, w.key, w.reg.name)
          assert.equal(off, w.reg.offset, tag .. " offset")
          assert.equal(size, t.reg_size, tag .. " size")
          compared.headers = compared.headers + 1
        end
        env.run("rm -rf " .. dir)
      end)
    else
      it(name .. ": no headers here, so its table cites the kernel source", function()
        local src = assert(io.open("csrc/core/arch.c")):read("a")
        assert.truthy(src:find("arch/" .. arch.pt_regs(name).target .. "/include", 1, true),
          name .. " needs a kernel source citation in csrc/core/arch.c")
      end)
    end
  end

  -- The kernel's struct pt_regs names registers as our tables do, but for
  -- these: x86_64 drops the r (di, not rdi), riscv calls pc epc. Other
  -- architectures nest them in anonymous unions and arrays, which the
  -- BTF walk below follows, so every architecture is checked here.
  local KERNEL_NAME = { x86_64 = X86_KERNEL_NAME, riscv64 = { pc = "epc" } }

  env.it("the running kernel's struct pt_regs (BTF) agrees with the table of the running architecture",
    { "bpftool", "btf" }, function()
      local types = btf_types(env.run("bpftool btf dump file /sys/kernel/btf/vmlinux format raw"))
      local regs
      for _, ty in pairs(types) do
        if ty.kind == "STRUCT" and ty.name == "pt_regs" then regs = ty end
      end
      assert(regs, "no struct pt_regs in the kernel's BTF")
      local t = arch.pt_regs()
      assert.equal(arch.current(), t.arch)
      local rename = KERNEL_NAME[t.arch] or {}
      local n = 0
      local function check(reg)
        if not reg then return end
        local path = reg.name:gsub("^[%w_]+", function(w) return rename[w] or w end)
        local off, size = btf_path(types, regs, path, t.reg_size)
        assert(off, "the kernel's pt_regs has no member " .. path)
        assert.equal(off, reg.offset, reg.name)
        assert.equal(t.reg_size, size, reg.name .. " size")
        n = n + 1
      end
      for _, r in ipairs(t.fields.args) do check(r) end
      for _, r in ipairs(t.fields.syscall_args) do check(r) end
      local named = 0
      for _, k in ipairs { "rc", "sp", "ip", "fp" } do
        if t.fields[k] then named = named + 1 end
        check(t.fields[k])
      end
      assert.equal(t.nargs + t.nsyscall_args + named, n)
    end)

  it("compared offsets with the oracles (a summary that fails if they went missing)", function()
    if env.required then
      assert.is_true(compared.libbpf >= 90, "libbpf comparisons: " .. compared.libbpf)
      assert.is_true(compared.headers >= 110, "header comparisons: " .. compared.headers)
    end
  end)
end)

describe("ebpfdsl.arch", function()
  it("lists at least the eight architectures of the issue", function()
    local set = {}
    for _, n in ipairs(arch.list()) do set[n] = true end
    for _, n in ipairs { "x86_64", "arm64", "s390x", "ppc64le", "riscv64", "arm", "mips64", "loongarch64" } do
      assert.is_true(set[n], n)
      assert.is_true(arch.supported(n))
    end
    assert.is_false(arch.supported("vax"))
  end)

  it("knows the machine it was built for, as uname -m names it", function()
    local m = env.run("uname -m"):gsub("%s+$", "")
    assert.equal(arch.resolve(m), arch.current())
  end)

  it("resolves the usual aliases", function()
    assert.equal("x86_64", arch.resolve("amd64"))
    assert.equal("x86_64", arch.resolve("x86"))
    assert.equal("arm64", arch.resolve("aarch64"))
    assert.equal("ppc64le", arch.resolve("ppc64el"))
    assert.equal("arm", arch.resolve("armv7l"))
    assert.equal("mips64", arch.resolve("mips64el"))
    assert.equal("loongarch64", arch.resolve("loong64"))
    assert.has_error(function() arch.pt_regs("vax") end, "arch.pt_regs: unknown architecture 'vax' (known: " ..
      table.concat(arch.list(), ", ") .. ")")
  end)

  it("numbers arguments from 1 and says how many travel in registers", function()
    for _, name in ipairs(arch.list()) do
      local t = arch.pt_regs(name)
      for n = 1, t.nargs do assert.equal(t.args[n], arch.kprobe_arg_offset(n, name)) end
      assert.has_error(function() arch.kprobe_arg_offset(t.nargs + 1, name) end,
        ("arch.kprobe_arg_offset: %s passes %d arguments in registers; argument %d is on the stack, " ..
          "out of reach of pt_regs"):format(name, t.nargs, t.nargs + 1))
      for n = 1, t.nsyscall_args do assert.equal(t.syscall_args[n], arch.syscall_arg_offset(n, name)) end
      assert.has_error(function() arch.syscall_arg_offset(t.nsyscall_args + 1, name) end)
      assert.equal(t.rc, arch.return_offset(name))
      assert.equal(t.sp, arch.sp_offset(name))
      assert.equal(t.ip, arch.ip_offset(name))
      assert.equal(t.nargs, arch.kprobe_max_reg_args(name))
      assert.equal(t.reg_size == 8 and "dw" or "w", arch.load_size(name))
    end
    assert.has_error(function() arch.kprobe_arg_offset(0, "x86_64") end,
      "arch.kprobe_arg_offset: arguments are numbered from 1 (PT_REGS_PARM1), got 0")
    assert.has_error(function() arch.fp_offset("ppc64le") end, "arch.fp_offset: ppc64le has no frame pointer register")
  end)

  env.it("agrees with the C API that embedders use (examples/c/arch_offsets.c)", { "gcc" }, function()
    local out = env.run("make -s build/examples/arch_offsets >/dev/null && build/examples/arch_offsets")
    local n = 0
    assert.truthy(out:find("built for " .. arch.current(), 1, true))
    for name, what, i, off in out:gmatch("([%w_]+) (%a+)(%d*) (%-?%d+)\n") do
      local t = arch.pt_regs(name)
      if what == "arg" then assert.equal(t.args[tonumber(i)], tonumber(off))
      elseif what == "sys" then assert.equal(t.syscall_args[tonumber(i)], tonumber(off))
      else assert.equal(t.rc, tonumber(off)) end
      n = n + 1
    end
    local want = 0
    for _, name in ipairs(arch.list()) do
      local t = arch.pt_regs(name)
      want = want + t.nargs + t.nsyscall_args + 1
    end
    assert.equal(want, n)
  end)

  it("blames the caller's line for misuse", function()
    local ok, err = pcall(function() arch.kprobe_arg_offset(9, "x86_64") end)
    assert.is_false(ok)
    assert.truthy(err:find("42%-arch_spec%.lua:%d+:"), err)
  end)

  it("defaults every lookup to the current architecture", function()
    local cur = arch.pt_regs(arch.current())
    assert.equal(cur.args[1], arch.kprobe_arg_offset(1))
    assert.equal(cur.rc, arch.return_offset())
    assert.same(cur, arch.pt_regs())
  end)

  it("hands out copies, so a caller cannot corrupt the tables", function()
    local t = arch.pt_regs("x86_64")
    t.args[1] = -5
    t.fields.args[1].offset = -5
    assert.are_not.equal(-5, arch.pt_regs("x86_64").args[1])
    assert.are_not.equal(-5, arch.pt_regs("x86_64").fields.args[1].offset)
  end)

  it("names the function a syscall kprobe attaches to", function()
    assert.equal("__x64_sys_openat", arch.syscall_function("openat", "x86_64"))
    assert.equal("__arm64_sys_openat", arch.syscall_function("sys_openat", "arm64"))
    assert.equal("sys_openat", arch.syscall_function("openat", "mips64"))
    assert.is_true(arch.syscall_wrapper("s390x"))
    assert.is_false(arch.syscall_wrapper("arm"))
  end)
end)
