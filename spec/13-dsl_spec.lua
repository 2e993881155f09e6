-- SPDX-License-Identifier: MIT
-- The Lua surface: one spec per bad input with its exact message, every
-- constructor the issue names building the table (and bytes) it should,
-- helper argument moves that never clobber an argument, and the dump of a
-- small program against text derived by hand from the ISA document.
local dsl = require "ebpfdsl.dsl"

local THIS = "spec/13-dsl_spec.lua"

-- Runs f, which must raise; returns the message.
local function raises(f)
  local ok, err = pcall(f)
  assert(not ok, "expected an error")
  return err
end

-- One spec per { instruction, message } case: assembling the instruction
-- alone raises an error ending in the message.
local function refused_each(cases)
  for _, c in ipairs(cases) do
    it(c[2], function()
      local err = raises(function() dsl.assemble { c[1] } end)
      assert.equal(c[2], err:sub(-#c[2]))
    end)
  end
end

local function insn(code, dst, src, off, imm)
  return string.pack("<BBi2i4", code, (src << 4) | dst, off, imm)
end

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

describe("bad input", function()
  describe("an unknown mnemonic", function()
    it("in a table names the instruction", function()
      assert.equal("insn 1 (movv): unknown mnemonic 'movv'",
        raises(function() dsl.assemble { dsl.mov("r0", 0), { op = "movv", dst = "r0", imm = 1 } } end)
          :gsub("^[^:]*:%d+: ", ""))
    end)
    it("that is not a string is refused as such", function()
      assert.matches("insn 0: op must be a mnemonic string, got number$",
        raises(function() dsl.assemble { { op = 5 } } end))
    end)
  end)

  describe("a bad register", function()
    it("in a constructor names the function, the argument and the value, at the caller's line", function()
      local line = debug.getinfo(1, "l").currentline + 1
      local err = raises(function() local x = dsl.mov("r11", 1) return x end)
      assert.equal(THIS .. ":" .. line .. ": mov: argument 1 must be a register (r0..r10 or fp), got 'r11'", err)
    end)
    it("in a table names the instruction and the field", function()
      assert.matches("insn 0 %(ldx%): src: bad register 'r16' %(r0%.%.r10 or fp%)$",
        raises(function() dsl.assemble { { op = "ldx", size = "w", dst = "r0", src = "r16" } } end))
    end)
    it("given as a number in a table", function()
      assert.matches("insn 0 %(mov%): dst must be a register name %(r0%.%.r10 or fp%), got number$",
        raises(function() dsl.assemble { { op = "mov", dst = 1, imm = 0 } } end))
    end)
  end)

  describe("an immediate out of range", function()
    local cases = {
      { dsl.mov("r0", 1 << 40), "insn 0 (mov): immediate 1099511627776 out of range -2147483648..2147483647" },
      { dsl.mov("r0", 0xffffffff), "insn 0 (mov): immediate 4294967295 out of range -2147483648..2147483647" },
      { dsl.add32("r0", 1 << 32), "insn 0 (add32): immediate 4294967296 out of range -2147483648..4294967295" },
      { dsl.lsh("r1", 64), "insn 0 (lsh): shift amount 64 out of range 0..63" },
      { dsl.arsh32("r1", -1), "insn 0 (arsh32): shift amount -1 out of range 0..31" },
      { dsl.div("r1", 0), "insn 0 (div): division by a zero immediate" },
      { dsl.st("b", "r10", -8, 256), "insn 0 (st): immediate 256 out of range -128..255" },
      { dsl.st("h", "r10", -8, -32769), "insn 0 (st): immediate -32769 out of range -32768..65535" },
      { dsl.ldx("dw", "r0", "r1", 32768), "insn 0 (ldx): offset 32768 out of range -32768..32767" },
      { dsl.jeq("r1", 1 << 31, 0), "insn 0 (jeq): immediate 2147483648 out of range -2147483648..2147483647" },
      { dsl.ja(-32769), "insn 0 (ja): jump offset -32769 out of range -32768..32767" },
      { dsl.call(-1), "insn 0 (call): helper id -1 out of range 0..2147483647" },
      { dsl.movsx("r1", "r2", 64), "insn 0 (movsx): bits must be 8, 16 or 32, got 64" },
      { dsl.movsx32("r1", "r2", 32), "insn 0 (movsx32): bits must be 8 or 16, got 32" },
      { dsl.bswap("r1", 8), "insn 0 (bswap): bits must be 16, 32 or 64, got 8" },
      { dsl.ldsx("dw", "r1", "r2", 0), "insn 0 (ldsx): size 'dw' not allowed here (b, h, w)" },
      { dsl.atomic_add("h", "r1", 0, "r2"), "insn 0 (atomic_add): size 'h' not allowed for atomics (w, dw)" },
    }
    refused_each(cases)
  end)

  it("an undefined label names the instruction, the label before it and the missing one", function()
    assert.matches("insn 2 %(jne, after label 'loop'%): undefined label 'done'$",
      raises(function() dsl.assemble { dsl.mov("r0", 0), dsl.label("loop"), dsl.add("r0", 1),
        dsl.jne("r0", 10, "done"), dsl.exit() } end))
  end)

  it("a duplicate label names both places", function()
    assert.matches("insn 2: duplicate label 'loop' %(first defined at insn 0%)$",
      raises(function() dsl.assemble { dsl.label("loop"), dsl.lddw("r0", 1), dsl.label("loop"), dsl.exit() } end))
  end)

  it("a jump out of range that cannot be relaxed says why", function()
    local body = {}
    for j = 1, 33000 do body[j] = dsl.mov("r0", j) end
    local prog = { dsl.jgt("r1", "r2", "end"), body, dsl.label("end"), dsl.exit() }
    assert.matches("insn 0 %(jgt%): jump to label 'end' is 33000 slots away, beyond the 16%-bit range " ..
      "%-32768%.%.32767, and gotol needs cpu v4$", raises(function() dsl.assemble(prog, { cpu = 2 }) end))
    assert.matches("and relaxation into gotol is off$", raises(function() dsl.assemble(prog, { relax = false }) end))
  end)

  it("a may_goto out of 16-bit range is an error: it has no long form to relax into", function()
    local body = {}
    for j = 1, 33000 do body[j] = dsl.mov("r0", j) end
    assert.matches("insn 0 %(may_goto%): may_goto to label 'end' is 33000 slots away, beyond its 16%-bit range " ..
      "%-32768%.%.32767$",
      raises(function() dsl.assemble { dsl.may_goto("end"), body, dsl.label("end"), dsl.exit() } end))
  end)

  describe("a wrong argument type to a constructor", function()
    local cases = {
      { function() local _ = dsl.load_acquire("q", "r0", "r1") end,
        "load_acquire: argument 1 must be a size (b, h, w or dw), got 'q'" },
      { function() local _ = dsl.store_release("w", "r1", nil, "r2") end,
        "store_release: argument 3 must be an integer, got nil" },
      { function() local _ = dsl.may_goto(1.5) end,
        "may_goto: argument 1 must be a label name or a jump offset, got 1.5" },
      { function() local _ = dsl.addr_space_cast("r1", "r1", 0x10000, 0) end,
        "addr_space_cast: argument 3 must be an address space 0..65535, got 65536" },
      { function() local _ = dsl.addr_space_cast("r1", "r1", 1, -1) end,
        "addr_space_cast: argument 4 must be an address space 0..65535, got -1" },
      { function() local _ = dsl.ldx(8, "r0", "r1", 0) end, "ldx: argument 1 must be a size (b, h, w or dw), got 8" },
      { function() local _ = dsl.mov("r0", 1.5) end, "mov: argument 2 must be a register or an integer, got 1.5" },
      { function() local _ = dsl.mov("r0", "five") end,
        "mov: argument 2 must be a register (r0..r10 or fp), got 'five'" },
      { function() local _ = dsl.jeq("r1", 0, {}) end,
        "jeq: argument 3 must be a label name or a jump offset, got table" },
      { function() local _ = dsl.label(5) end, "label: argument 1 must be a non-empty name, got 5" },
      { function() local _ = dsl.label("") end, "label: argument 1 must be a non-empty name, got ''" },
      { function() local _ = dsl.call({}) end, "call: argument 1 must be a helper name or id, got table" },
      { function() local _ = dsl.lddw("r1", 2 ^ 63) end,
        "lddw: argument 2 must be an integer, got 9.2233720368548e+18" },
      { function() local _ = dsl.ld_map_fd("r1", "map") end,
        "ld_map_fd: argument 2 must be a map or a map fd, got 'map'" },
      { function() local _ = dsl.movsx("r1", "r2") end, "movsx: argument 3 must be an integer, got nil" },
      { function() local _ = dsl.st("w", "r10", nil, 1) end, "st: argument 3 must be an integer, got nil" },
      { function() local _ = dsl.helper_ktime_get_ns(1, 2, 3, 4, 5, 6) end,
        "helper_ktime_get_ns: helpers take at most 5 arguments" },
      { function() local _ = dsl.helper_map_lookup_elem("r1", true) end,
        "helper_map_lookup_elem: argument 2 must be a register or an integer, got boolean" },
      { function() local _ = dsl.assemble("mov r0, 1") end,
        "assemble: argument 1 must be a list of instructions, got " ..
        "'mov r0, 1'" },
      { function() local _ = dsl.disassemble({}) end,
        "disassemble: argument 1 must be a string of program bytes, got table" },
    }
    for _, c in ipairs(cases) do
      it(c[2], function()
        local line = debug.getinfo(c[1], "S").linedefined
        assert.equal(THIS .. ":" .. line .. ": " .. c[2], raises(c[1]))
      end)
    end
  end)

  describe("a wrong field in an instruction table", function()
    local cases = {
      { { op = "mov", dst = "r0", imm = 1, dest = "x" }, "insn 0 (mov): unknown field 'dest'" },
      { { op = "mov", dst = "r0", imm = 1, [1] = 2 }, "insn 0 (mov): unexpected number key in an instruction" },
      { { op = "mov", dst = "r0", imm = "1" }, "insn 0 (mov): imm must be an integer, got string" },
      { { op = "mov", dst = "r0", imm = 1.5 }, "insn 0 (mov): imm must be an integer, got 1.5" },
      { { op = "mov", dst = "r0", imm = 1, src = "r1" }, "insn 0 (mov): takes src or imm, not both" },
      { { op = "mov", dst = "r0" }, "insn 0 (mov): needs src or imm" },
      { { op = "exit", dst = "r0" }, "insn 0 (exit): takes no dst" },
      { { op = "ldx", size = "q", dst = "r1", src = "r2" }, "insn 0 (ldx): size must be one of b, h, w, dw, got q" },
      { { op = "jeq", dst = "r1", imm = 0, target = 5 }, "insn 0 (jeq): target must be a label name, got number" },
      { { op = "label" }, "insn 0: label needs a name" },
      { { op = "label", name = 5 }, "insn 0 (label): name must be a string, got number" },
      { { op = "label", name = "x", target = "y" }, "insn 0 (label): unknown field 'target'" },
      { { op = "mov", dst = "r1", map = 3 }, "insn 0 (mov): takes no map" },
      { { op = "ld_map_fd", dst = "r1", map = {} }, "insn 0 (ld_map_fd): map: table has no fd method" },
      { { op = "ld_map_fd", dst = "r1", map = -1 }, "insn 0 (ld_map_fd): map: not a valid file descriptor" },
      { { op = "call", helper = "ktime_get_nss" }, "insn 0 (call): unknown helper 'ktime_get_nss'; did you mean " ..
        "'ktime_get_ns'" },
      { { op = "call", helper = 5, imm = 6 }, "insn 0 (call): helper 5 and imm 6 disagree" },
      { { op = "call", helper = "map_lookup_elem", imm = 5 }, "insn 0 (call): helper 1 and imm 5 disagree" },
      { { op = "call", helper = "bpf_map_lookup_elem", imm = 1 << 32 | 1 },
        "insn 0 (call): helper 1 and imm 4294967297 disagree" },
      { { op = "call", helper = "ktime_get_nss", imm = 5 }, "insn 0 (call): unknown helper 'ktime_get_nss'; did you " ..
        "mean 'ktime_get_ns'" },
      { { op = "mov", dst = "r0", helper = "ktime_get_ns" }, "insn 0 (mov): takes no helper" },
      { { op = "call_kfunc", helper = 5 }, "insn 0 (call_kfunc): takes no helper" },
      { { foo = 1 }, "insn 0: a table with neither 'op' nor list items (key foo)" },
    }
    refused_each(cases)
    it("or in the options", function()
      assert.matches("assemble: unknown option 'cpus'",
        raises(function() dsl.assemble({ dsl.exit() }, { cpus = 3 }) end))
      assert.matches("dump: unknown option 'byte'", raises(function() dsl.dump({ dsl.exit() }, { byte = true }) end))
    end)
  end)

  describe("an unknown helper", function()
    it("in call suggests the nearest names", function()
      assert.matches(": call: unknown helper 'ktime_get_nss'; did you mean 'ktime_get_ns'",
        raises(function() dsl.call("ktime_get_nss") end))
      assert.matches(": call: unknown helper 'map_lookup'; did you mean 'map_lookup_elem'",
        raises(function() dsl.call("bpf_map_lookup") end):gsub("bpf_", ""))
    end)
    it("in helper_id returns nil and the message", function()
      local id, msg = dsl.helper_id("get_current_pid")
      assert.is_nil(id)
      assert.matches("^unknown helper 'get_current_pid'; did you mean 'get_current_pid_tgid'", msg)
    end)
  end)
end)

describe("constructors", function()
  it("are, with the assembly words, all the module holds: one name per mnemonic", function()
    -- synonyms and clj-ebpf's names live in ebpfdsl.compat (spec 18)
    local want = { label = true, assemble = true, disassemble = true, dump = true, builder = true,
                   mnemonics = true, helper_id = true, helper_name = true, helpers = true }
    for _, name in ipairs(dsl.mnemonics()) do want[name] = true end
    local extra, count = {}, 0
    for name in pairs(dsl) do
      count = count + 1
      if not want[name] then extra[#extra + 1] = name end
    end
    table.sort(extra)
    assert.same({}, extra)
    assert.equal(#dsl.mnemonics() + 9, count)
    -- the ring-buffer and probe words are ebpfdsl.words', reached through dsl, not held
    local words = require "ebpfdsl.words"
    assert.equal(words.ringbuf_reserve, dsl.ringbuf_reserve)
    assert.equal(words.helper_ktime_get_ns, dsl.helper_ktime_get_ns)
    assert.is_nil(rawget(dsl, "ringbuf_reserve"))
    assert.is_nil(rawget(dsl, "helper_ktime_get_ns"))
  end)

  it("exist for every mnemonic of the instruction table", function()
    local missing = {}
    for _, name in ipairs(dsl.mnemonics()) do
      if type(dsl[name]) ~= "function" then missing[#missing + 1] = name end
    end
    assert.same({}, missing)
  end)

  it("build the tables the issue shows", function()
    assert.same({ op = "mov", dst = "r0", imm = 0 }, dsl.mov("r0", 0))
    assert.same({ op = "mov", dst = "r6", src = "r1" }, dsl.mov("r6", "r1"))
    assert.same({ op = "add32", dst = "r2", imm = 1 }, dsl.add32("r2", 1))
    assert.same({ op = "jeq", dst = "r1", imm = 0, target = "out" }, dsl.jeq("r1", 0, "out"))
    assert.same({ op = "ldx", size = "dw", dst = "r2", src = "r1", off = 8 }, dsl.ldx("dw", "r2", "r1", 8))
    assert.same({ op = "stx", size = "w", dst = "r10", off = -4, src = "r2" }, dsl.stx("w", "r10", -4, "r2"))
    assert.same({ op = "st", size = "b", dst = "r10", off = -8, imm = 0 }, dsl.st("b", "r10", -8, 0))
    assert.same({ op = "lddw", dst = "r1", imm = 0x123456789 }, dsl.lddw("r1", 0x123456789))
    assert.same({ op = "ld_map_fd", dst = "r1", imm = 7 }, dsl.ld_map_fd("r1", 7))
    local map = { fd = function() return 9 end }
    assert.same({ op = "ld_map_fd", dst = "r1", imm = 9, map = map }, dsl.ld_map_fd("r1", map))
    assert.same({ op = "call", imm = 5, helper = "ktime_get_ns" }, dsl.call("ktime_get_ns"))
    assert.same({ op = "call", imm = 5, helper = "ktime_get_ns" }, dsl.call("bpf_ktime_get_ns"))
    -- a name and an id that agree, with or without the prefix, are one call
    local call5 = dsl.assemble { dsl.call(5) }
    assert.equal(call5, dsl.assemble { { op = "call", imm = 5, helper = "ktime_get_ns" } })
    assert.equal(call5, dsl.assemble { { op = "call", imm = 5, helper = "bpf_ktime_get_ns" } })
    assert.same({ op = "call", imm = 14, helper = "get_current_pid_tgid" }, dsl.call(14))
    assert.same({ op = "exit" }, dsl.exit())
    assert.same({ op = "label", name = "out" }, dsl.label("out"))
    assert.same({ op = "atomic_add", size = "dw", dst = "r1", off = 0, src = "r2" },
      dsl.atomic_add("dw", "r1", 0, "r2"))
    assert.same({ op = "cmpxchg", size = "w", dst = "r1", off = 4, src = "r2" }, dsl.cmpxchg("w", "r1", 4, "r2"))
    assert.same({ op = "call_local", target = "fn" }, dsl.call_local("fn"))
    assert.same({ op = "ja", target = "out" }, dsl.ja("out"))
  end)

  it("keep what the common words (built in C) were given, and hand anything else to the checks", function()
    -- registers as written, integral floats as integers, off left out as 0
    local t = dsl.mov("fp", 2.0)
    assert.same({ op = "mov", dst = "fp", imm = 2 }, t)
    assert.equal("integer", math.type(t.imm))
    t = dsl.st("w", "r10", -8.0, 2.0)
    assert.same({ op = "st", size = "w", dst = "r10", off = -8, imm = 2 }, t)
    assert.equal("integer", math.type(t.off))
    assert.equal("integer", math.type(t.imm))
    assert.same({ op = "ldx", size = "w", dst = "r1", src = "fp", off = 0 }, dsl.ldx("w", "r1", "fp"))
    assert.same({ op = "ldsx", size = "b", dst = "r1", src = "r2", off = 0 }, dsl.ldsx("b", "r1", "r2"))
    assert.same({ op = "jsle32", dst = "r1", src = "r2", off = 3 }, dsl.jsle32("r1", "r2", 3))
    assert.same({ op = "lddw", dst = "r9", imm = -1 }, dsl.lddw("r9", -1))
    assert.same({ op = "label", name = "x" }, dsl.label("x"))
    local line = debug.getinfo(1, "l").currentline
    assert.equal(THIS .. ":" .. (line + 2) .. ": mov: argument 2 must be a register (r0..r10 or fp), got '5'",
      raises(function() return dsl.mov("r1", "5") end))
    assert.equal(THIS .. ":" .. (line + 4) .. ": stx: argument 4 must be a register (r0..r10 or fp), got 4",
      raises(function() return dsl.stx("dw", "r10", -8, 4) end))
    assert.equal(THIS .. ":" .. (line + 6) .. ": label: argument 1 must be a non-empty name, got ''",
      raises(function() return dsl.label("") end))
    assert.equal(THIS .. ":" .. (line + 8) .. ": jeq: argument 3 must be a label name or a jump offset, got nil",
      raises(function() return dsl.jeq("r1", 0) end))
  end)

  it("build the newest instructions' tables", function()
    assert.same({ op = "load_acquire", size = "w", dst = "r0", src = "r1", off = 0 }, dsl.load_acquire("w", "r0", "r1"))
    assert.same({ op = "load_acquire", size = "b", dst = "r2", src = "fp", off = -8 },
      dsl.load_acquire("b", "r2", "fp", -8))
    assert.same({ op = "store_release", size = "dw", dst = "r1", off = 8, src = "r3" },
      dsl.store_release("dw", "r1", 8, "r3"))
    assert.same({ op = "may_goto", target = "out" }, dsl.may_goto("out"))
    assert.same({ op = "may_goto", off = -3 }, dsl.may_goto(-3))
    -- address spaces: src_as | dst_as << 16, as the instruction holds them
    assert.same({ op = "addr_space_cast", dst = "r1", src = "r2", imm = 1 }, dsl.addr_space_cast("r1", "r2", 0, 1))
    assert.same({ op = "addr_space_cast", dst = "r1", src = "r2", imm = 0x10000 },
      dsl.addr_space_cast("r1", "r2", 1, 0))
    -- a kfunc by BTF id, with and without a module's fd_array index
    assert.same({ op = "call_kfunc", imm = 77 }, dsl.call_kfunc(77))
    assert.same({ op = "call_kfunc", imm = 77, off = 2 }, dsl.call_kfunc(77, 2))
  end)

  it("build the helper words' lists", function()
    assert.same({ { op = "call", imm = 14, helper = "get_current_pid_tgid" } }, dsl.helper_get_current_pid_tgid())
    assert.same({ { op = "call", imm = 5, helper = "ktime_get_ns" } }, dsl.helper_ktime_get_ns())
  end)

  it("take a register or an immediate wherever both forms exist", function()
    for _, base in ipairs { "add", "sub", "mul", "div", "sdiv", "mod", "smod", "or", "and", "lsh", "rsh", "arsh",
                            "xor", "mov" } do
      for _, name in ipairs { base, base .. "32" } do
        assert.same({ op = name, dst = "r1", imm = 3 }, dsl[name]("r1", 3))
        assert.same({ op = name, dst = "r1", src = "fp" }, dsl[name]("r1", "fp"))
      end
    end
    for _, c in ipairs { "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle" } do
      assert.same({ op = c, dst = "r1", imm = -1, target = "t" }, dsl[c]("r1", -1, "t"))
      assert.same({ op = c .. "32", dst = "r1", src = "r2", off = -2 }, dsl[c .. "32"]("r1", "r2", -2))
      assert.same({ op = c .. "32", dst = "r1", imm = 7, target = "t" }, dsl[c .. "32"]("r1", 7, "t"))
    end
  end)

  it("assemble to the bytes the ISA document gives", function()
    local map = { fd = function() return 9 end }
    local b = dsl.assemble {
      dsl.mov("r0", 0), dsl.mov("r6", "r1"), dsl.add32("r2", 1), dsl.jeq("r1", 0, "out"),
      dsl.ldx("dw", "r2", "r1", 8), dsl.stx("w", "r10", -4, "r2"), dsl.st("b", "r10", -8, 0),
      dsl.lddw("r1", 0x123456789), dsl.ld_map_fd("r1", map), dsl.call("ktime_get_ns"),
      dsl.atomic_fetch_add("dw", "r1", 0, "r2"), dsl.movsx("r3", "r4", 16), dsl.be("r5", 16), dsl.neg32("r6"),
      dsl.ld_abs("h", 12), dsl.jslt32("r1", "r2", "out"), dsl.label("out"), dsl.exit(),
    }
    local want = table.concat {
      insn(0xb7, 0, 0, 0, 0),                          -- ALU64 | MOV | K
      insn(0xbf, 6, 1, 0, 0),                          -- ALU64 | MOV | X
      insn(0x04, 2, 0, 0, 1),                          -- ALU | ADD | K
      insn(0x15, 1, 0, 14, 0),                         -- JMP | JEQ | K, to slot 18
      insn(0x79, 2, 1, 8, 0),                          -- LDX | MEM | DW
      insn(0x63, 10, 2, -4, 0),                        -- STX | MEM | W
      insn(0x72, 10, 0, -8, 0),                        -- ST | MEM | B
      insn(0x18, 1, 0, 0, 0x23456789), insn(0, 0, 0, 0, 1),  -- LD | IMM | DW, two slots
      insn(0x18, 1, 1, 0, 9), insn(0, 0, 0, 0, 0),     -- src 1: BPF_PSEUDO_MAP_FD
      insn(0x85, 0, 0, 0, 5),                          -- call helper 5
      insn(0xdb, 1, 2, 0, 0x01),                       -- STX | ATOMIC | DW, ADD | FETCH
      insn(0xbf, 3, 4, 16, 0),                         -- MOVSX: off holds the width
      insn(0xdc, 5, 0, 0, 16),                         -- ALU | END | TO_BE
      insn(0x84, 6, 0, 0, 0),                          -- ALU | NEG
      insn(0x28, 0, 0, 0, 12),                         -- LD | ABS | H
      insn(0xce, 1, 2, 0, 0),                          -- JMP32 | JSLT | X, to slot 18
      insn(0x95, 0, 0, 0, 0),
    }
    assert.equal(hex(want), hex(b))
  end)
end)

-- A register machine for mov, enough to run helper argument moves (which
-- must be movs: the verifier refuses arithmetic such as xor on pointers).
local function run_moves(list, regs)
  local r = {}
  for k, v in pairs(regs) do r[k] = v end
  local function name(x) return x == "fp" and "r10" or x end
  for _, x in ipairs(list) do
    if x.op == "mov" then
      r[name(x.dst)] = x.src and r[name(x.src)] or x.imm
    elseif x.op == "call" then
      break
    else
      error("unexpected " .. x.op)
    end
  end
  return r
end

describe("helper_<name> argument moves", function()
  it("end with a call of the right id and move nothing already in place", function()
    assert.same({ { op = "call", imm = 1, helper = "map_lookup_elem" } }, dsl.helper_map_lookup_elem("r1", "r2"))
    assert.same({ { op = "mov", dst = "r1", src = "r6" }, { op = "mov", dst = "r2", imm = 0 },
      { op = "call", imm = 1, helper = "map_lookup_elem" } }, dsl.helper_map_lookup_elem("r6", 0))
    assert.same({ { op = "mov", dst = "r2", src = "fp" }, { op = "call", imm = 1, helper = "map_lookup_elem" } },
      dsl.helper_map_lookup_elem(nil, "fp"))
  end)

  it("never clobber an argument another one still needs", function()
    -- every permutation of r1..r3 and mixes with other registers and immediates
    local initial = { r0 = 100, r1 = 1, r2 = 2, r3 = 3, r4 = 4, r5 = 5, r6 = 6, r7 = 7, r8 = 8, r9 = 9, r10 = 10 }
    local cases = {
      { "r2", "r1" }, { "r2", "r3", "r1" }, { "r3", "r1", "r2" }, { "r3", "r2", "r1" }, { "r1", "r3", "r2" },
      { "r6", 8, "r1" }, { "r2", "r1", "r4", "r3", 7 }, { "r5", "r4", "r3", "r2", "r1" }, { "r0", "r1", "r0" },
      { "r2", "r3", "r4", "r5", "r1" }, { "r1", "r1", "r1" }, { 0, "r1", "r2" }, { "fp", "r1" }, { "r2", "r2", "r0" },
    }
    for _, args in ipairs(cases) do
      local list = dsl.helper_probe_read_kernel(table.unpack(args, 1, 5))
      assert.same({ op = "call", imm = 113, helper = "probe_read_kernel" }, list[#list])
      local r = run_moves(list, initial)
      for i = 1, #args do
        local a = args[i]
        local want = type(a) == "number" and a or initial[a == "fp" and "r10" or a]
        assert(r["r" .. i] == want, ("args %s: r%d is %s, want %s"):format(table.concat(args, ","), i, r["r" .. i],
          want))
      end
      -- only r0..r5 may change: r6..r10 belong to the caller
      for i = 6, 10 do assert.equal(initial["r" .. i], r["r" .. i]) end
      dsl.assemble(list)
    end
  end)
end)

describe("dump", function()
  it("prints a small program as the ISA document spells it in LLVM syntax", function()
    -- Derived by hand: immediates print as signed hex, jumps as a signed
    -- distance in slots with the target label, 32-bit forms with w
    -- registers, lddw on one line over two slots, helpers by name.
    local text = dsl.dump {
      dsl.mov("r6", "r1"),
      dsl.ldx("w", "r2", "r6", 4),
      dsl.label("loop"),
      dsl.add32("r2", -1),
      dsl.jsgt32("r2", 0, "loop"),
      dsl.lddw("r3", -2),
      dsl.stx("dw", "fp", -8, "r3"),
      dsl.helper_ktime_get_ns(),
      dsl.jset("r0", 0x10, "out"),
      dsl.mov32("r0", 0xffffffff),
      dsl.label("out"),
      dsl.exit(),
    }
    assert.equal(table.concat({
      "    0: r6 = r1",
      "    1: w2 = *(u32 *)(r6 + 0x4)",
      "loop:",
      "    2: w2 += -0x1",
      "    3: if w2 s> 0x0 goto -0x2 <loop>",
      "    4: r3 = -0x2 ll",
      "    6: *(u64 *)(r10 - 0x8) = r3",
      "    7: call 0x5 <ktime_get_ns>",
      "    8: if r0 & 0x10 goto +0x1 <out>",
      "    9: w0 = -0x1",
      "out:",
      "   10: exit",
      "",
    }, "\n"), text)
  end)

  it("shows the bytes on request", function()
    assert.equal("    0: b7 00 00 00 2a 00 00 00 \tr0 = 0x2a\n    1: 95 00 00 00 00 00 00 00 \texit\n",
      dsl.dump({ dsl.mov("r0", 42), dsl.exit() }, { bytes = true }))
  end)
end)

describe("register and size names", function()
  -- one table (ebpfdsl._regs) behind every word that takes a register
  local structs = require "ebpfdsl.structs"
  local kprobe = require "ebpfdsl.kprobe"
  local tracepoint = require "ebpfdsl.tracepoint"
  local E = structs.define("regs_ev", { { "a", "u8" }, { "b", "u16" }, { "c", "u32" }, { "d", "u64" } })
  local fmt = tracepoint.parse("name: t\nID: 1\nformat:\n\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n", "cat")

  it("take r0..r10 and fp, and nothing else", function()
    for i = 0, 10 do
      assert.equal("r" .. i, dsl.mov("r" .. i, 0).dst)
      assert.equal("r" .. i, structs.store_field("r" .. i, E, "a", "r1").dst)
    end
    assert.equal("fp", dsl.mov("fp", 0).dst)
    for _, bad in ipairs { "r11", "R1", "r", "sp", "r01" } do
      assert.has_error(function() dsl.mov(bad, 0) end)
      assert.has_error(function() structs.store_field(bad, E, "a", "r1") end)
      assert.has_error(function() kprobe.read_arg("r1", 1, bad) end)
      assert.has_error(function() fmt:read_field("r1", "x", bad) end)
    end
  end)

  it("keep r10 out of what the probe words write or read a context from", function()
    assert.has_error(function() kprobe.read_arg("r1", 1, "fp") end, nil)
    for _, r in ipairs { "r10", "fp" } do
      local ok, err = pcall(fmt.read_field, fmt, "r1", "x", r)
      assert.is_false(ok)
      assert.matches("read_field: dst must be a register (r0..r9), got '" .. r .. "'", err, 1, true)
    end
    assert.equal("r9", fmt:read_field("r1", "x", "r9")[1].dst)
  end)

  it("size loads and stores by the field's width", function()
    local sizes = {}
    for _, f in ipairs { "a", "b", "c", "d" } do sizes[#sizes + 1] = structs.load_field("r0", "r1", E, f).size end
    assert.same({ "b", "h", "w", "dw" }, sizes)
    for _, sz in ipairs { "b", "h", "w", "dw" } do assert.equal(sz, dsl.ldx(sz, "r0", "r1", 0).size) end
    assert.has_error(function() dsl.ldx("q", "r0", "r1", 0) end)
  end)
end)
