-- SPDX-License-Identifier: MIT
-- The uprobe DSL (section names, descriptions, the reads it shares with
-- the kprobe DSL, programs the verifier loads), the seam to the ELF
-- symbol reader, and what examples/multiarch_kprobe.lua prints (spec 90
-- checks its header and that it runs).
local env = require "support.env"
local arch = require "ebpfdsl.arch"
local uprobe = require "ebpfdsl.uprobe"
local dsl = require "ebpfdsl.dsl"

describe("uprobe DSL", function()
  it("names sections as libbpf does", function()
    assert.equal("uprobe/libc.so.6:malloc", uprobe.section_name("libc.so.6", "malloc"))
    assert.equal("uretprobe//usr/bin/bash:readline", uprobe.uretprobe_section_name("/usr/bin/bash", "readline"))
    assert.equal("uprobe//tmp/t:0x1139", uprobe.section_name("/tmp/t", 0x1139))
    assert.has_error(function() uprobe.section_name("/tmp/t", -1) end,
      "uprobe.section_name: the target must be a function name or a non-negative file offset, got -1")
  end)

  it("reads arguments and return values as a kprobe does, for every architecture", function()
    for _, name in ipairs(arch.list()) do
      local o = { arch = name }
      local t = arch.pt_regs(name)
      local function ldx(dst, off) return { op = "ldx", size = t.load_size, dst = dst, src = "r1", off = off } end
      assert.same({ ldx("r6", t.args[1]), ldx("r7", t.args[t.nargs]) },
        uprobe.read_args("r1", { { 1, "r6" }, { t.nargs, "r7" } }, o), name)
      assert.same(ldx("r6", t.rc), uprobe.return_value("r1", "r6", o), name)
      assert.same({ ldx("r6", t.args[1]), { op = "mov", dst = "r0", imm = 0 }, { op = "exit" } },
        uprobe.build_uprobe_program { args = { "r6" }, arch = name }, name)
    end
  end)

  it("describes programs with binary, target and function", function()
    local info = uprobe.define("up_six", { binary = "/tmp/t", ["function"] = "six", args = { "r6", "r7" },
                                           arch = "x86_64" }, { dsl.mov("r0", 0), dsl.exit() })
    assert.equal("uprobe//tmp/t:six", info.section)
    assert.equal("kprobe", info.type)
    assert.equal("/tmp/t", info.binary)
    assert.equal("six", info.target)
    assert.equal("six", info["function"])
    assert.same({ { op = "ldx", size = "dw", dst = "r6", src = "r1", off = 112 },
                  { op = "ldx", size = "dw", dst = "r7", src = "r1", off = 104 },
                  { op = "mov", dst = "r0", imm = 0 }, { op = "exit" } }, info.insns)
    local r = uprobe.define_uretprobe("up_ret", { binary = "/tmp/t", offset = 0x40, ret_reg = "r6", arch = "arm64" },
      { dsl.exit() })
    assert.equal("uretprobe//tmp/t:0x40", r.section)
    assert.is_nil(r["function"])
    assert.same({ op = "ldx", size = "dw", dst = "r6", src = "r1", off = 0 }, r.insns[1])
    assert.has_error(function() uprobe.define("x", { binary = "/tmp/t" }, {}) end,
      "uprobe.define: give the function name (function=) or a file offset (offset=)")
  end)

  env.it("loads uprobe and uretprobe programs through the verifier", { "bpf" }, function()
    local programs = require "ebpfdsl.programs"
    for _, info in ipairs {
      uprobe.define("up_entry", { binary = "/bin/true", ["function"] = "main", args = { "r6", "r7", "r8" } },
        { dsl.add("r6", "r7"), dsl.add("r6", "r8"), dsl.mov("r0", 0), dsl.exit() }),
      uprobe.define_uretprobe("up_return", { binary = "/bin/true", ["function"] = "main", ret_reg = "r6" },
        { dsl.mov("r0", 0), dsl.exit() }),
      uprobe.program_info("/bin/true", 0x1000, "up_offset", uprobe.build_uretprobe_program { ret_reg = "r6" }),
    } do
      local p, msg, _, log = programs.load(info)
      assert(p, tostring(msg) .. "\n" .. tostring(log))
      p:close()
    end
  end)
end)

describe("uprobe symbol offsets", function()
  env.it("match nm and readelf on a test binary", { "gcc" }, function()
    local dir = env.tmpdir()
    local f = assert(io.open(dir .. "/t.c", "w"))
    f:write("__attribute__((noinline)) int probe_me(int a) { return a + 1; }\nint main(void) { return probe_me(1); }\n")
    f:close()
    env.run(("gcc -O1 -o %s/t %s/t.c"):format(dir, dir))
    -- the oracle: the symbol's address, moved into the file by the LOAD
    -- segment holding it
    local addr = tonumber(env.run(("nm %s/t | awk '$3 == \"probe_me\" {print $1}'"):format(dir)), 16)
    local want
    for off, vaddr, filesz in env.run("readelf -lW " .. dir .. "/t"):gmatch(
      "LOAD%s+0x(%x+)%s+0x(%x+)%s+0x%x+%s+0x(%x+)") do
      off, vaddr, filesz = tonumber(off, 16), tonumber(vaddr, 16), tonumber(filesz, 16)
      if addr >= vaddr and addr < vaddr + filesz then want = addr - vaddr + off end
    end
    local off, path = uprobe.symbol_offset(dir .. "/t", "probe_me")
    assert.equal(want, off)
    assert.equal(dir .. "/t", path)
    env.run("rm -rf " .. dir)
  end)

  it("resolves library names as attach_uprobe does, and checks its arguments", function()
    local off, path = uprobe.symbol_offset("c", "malloc")
    assert.is_true(math.type(off) == "integer" and off > 0)
    assert.matches("/libc%.so[%.%d]*$", path)
    assert.has_error(function() uprobe.symbol_offset("c", "") end, "uprobe.symbol_offset: the symbol must be a name")
    assert.has_error(function() uprobe.symbol_offset(nil, "f") end,
      "uprobe.symbol_offset: the binary must be a path or library name")
  end)
end)

describe("examples/multiarch_kprobe.lua", function()
  local function run()
    return env.run("lua5.4 -e 'package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path; " ..
      "package.cpath=\"build/?.so;\"..package.cpath' examples/multiarch_kprobe.lua")
  end

  it("prints, for every architecture, the offsets its programs read", function()
    local out = run()
    for _, name in ipairs(arch.list()) do
      local t = arch.pt_regs(name)
      local line = out:match("\n" .. name:gsub("%p", "%%%0") .. " [^\n]*")
      assert(line, "no line for " .. name)
      assert.truthy(line:find(("%s@%d %s@%d"):format(t.load_size, t.args[1], t.load_size, t.args[2]), 1, true), line)
      assert.truthy(line:find(("%s@%d"):format(t.names.syscall_args[1], t.syscall_args[1]), 1, true), line)
      assert.truthy(line:find(arch.syscall_function("openat", name), 1, true), line)
    end
  end)

  env.it("loads this machine's programs when run as root", { "bpf" }, function()
    assert.truthy(run():find("3 of 3 " .. arch.current() .. " programs passed the verifier", 1, true))
  end)
end)
