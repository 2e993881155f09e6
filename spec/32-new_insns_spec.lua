-- SPDX-License-Identifier: MIT
-- The newest instructions in the kernel: load-acquire and store-release
-- (6.15+) in every size, held against the ISA's definition (a sized store
-- writes only its bytes, a sized load zero-extends); may_goto (6.9+),
-- which lets the verifier take a loop it cannot bound. Their encodings are
-- spec 10's (llvm-mc-19 and the kernel's own examples).
local env = require "support.env"
local dsl = require "ebpfdsl.dsl"
local maps = require "ebpfdsl.maps"
local programs = require "ebpfdsl.programs"

local PACKET = string.rep("\0", 64)
local BITS = { b = 8, h = 16, w = 32, dw = 64 }
local PATTERN = 0x1122334455667788 -- what the slot holds before the store

local function trunc(x, bits) return bits == 64 and x or x & ((1 << bits) - 1) end

-- Runs `body` (which leaves a value in r6) as a socket filter and returns
-- the 64 bits of r6, written into entry 0 of an array.
local function run(name, body)
  local out <close> = assert(maps.array { value = "u64", max_entries = 1 })
  local prog <close>, msg, _, log = programs.load { type = "socket_filter", name = name, insns = {
    body,
    dsl.st("w", "fp", -4, 0),
    dsl.stx("dw", "fp", -16, "r6"),
    dsl.ld_map_fd("r1", out), dsl.mov("r2", "fp"), dsl.add("r2", -4),
    dsl.mov("r3", "fp"), dsl.add("r3", -16), dsl.mov("r4", 0),
    dsl.call("map_update_elem"),
    dsl.mov("r0", 0), dsl.exit(),
  } }
  assert(prog, tostring(msg) .. "\n" .. tostring(log))
  assert(prog:test_run { data = PACKET })
  return out:lookup(0)
end

describe("load-acquire and store-release in the kernel", function()
  local VALUES = { 0, 1, -1, 0x7f, 0x80, 0xfedcba9876543210, math.mininteger }
  for _, size in ipairs { "b", "h", "w", "dw" } do
    env.it(("store_release and load_acquire of size %s write and read exactly %d bits"):format(size, BITS[size]),
      { "bpf", "insn:load_acquire" }, function()
        local bits = BITS[size]
        for _, v in ipairs(VALUES) do
          -- the sized store over a known pattern, read back whole by ldx
          local stored = run("strel_" .. size, {
            dsl.lddw("r1", PATTERN), dsl.stx("dw", "fp", -24, "r1"),
            dsl.lddw("r2", v),
            dsl.store_release(size, "fp", -24, "r2"),
            dsl.ldx("dw", "r6", "fp", -24),
          })
          local mask = bits == 64 and -1 or (1 << bits) - 1
          assert.equal((PATTERN & ~mask) | (v & mask), stored, ("store_release %s of 0x%x"):format(size, v))
          -- the sized load-acquire of a whole slot, zero-extended
          local loaded = run("ldacq_" .. size, {
            dsl.lddw("r1", v), dsl.stx("dw", "fp", -24, "r1"),
            dsl.mov("r6", -1),
            dsl.load_acquire(size, "r6", "fp", -24),
          })
          assert.equal(trunc(v, bits), loaded, ("load_acquire %s of 0x%x"):format(size, v))
        end
      end)
  end

  env.it("are refused misaligned, as every atomic is", { "bpf", "insn:load_acquire" }, function()
    local prog, msg = programs.load { type = "socket_filter", insns = {
      dsl.mov("r1", 7), dsl.stx("dw", "fp", -16, "r1"),
      dsl.load_acquire("w", "r0", "fp", -14), dsl.exit(),
    } }
    assert.is_nil(prog)
    assert.matches("misaligned", msg)
  end)
end)

describe("may_goto in the kernel", function()
  env.it("leaves a counted loop alone: 1000 turns give 1000", { "bpf", "insn:may_goto" }, function()
    local got = run("maygoto_1000", {
      dsl.mov("r6", 0),
      dsl.label("loop"),
      dsl.may_goto("out"),
      dsl.add("r6", 1),
      dsl.jlt("r6", 1000, "loop"),
      dsl.label("out"),
    })
    assert.equal(1000, got)
  end)

  env.it("lets the verifier take a loop it cannot bound, which then ends", { "bpf", "insn:may_goto" }, function()
    -- 2^64 turns: the verifier gives up on it
    local prog, msg = programs.load { type = "socket_filter", insns = {
      dsl.mov("r6", 0), dsl.label("loop"), dsl.add("r6", 1), dsl.jne("r6", 0, "loop"),
      dsl.mov("r0", 0), dsl.exit(),
    } }
    assert.is_nil(prog)
    assert.matches("too large", msg)
    -- no bound at all, but may_goto: the loop runs until the kernel's
    -- budget for it is spent, and ends
    local turns = run("maygoto_inf", {
      dsl.mov("r6", 0),
      dsl.label("loop"),
      dsl.may_goto("out"),
      dsl.add("r6", 1),
      dsl.ja("loop"),
      dsl.label("out"),
    })
    assert.is_true(turns > 1000, "only " .. turns .. " turns")
  end)
end)

describe("addr_space_cast in the kernel", function()
  -- an arena page from bpf_arena_alloc_pages is an address in the arena's
  -- space (1); cast to the kernel's (0), the program stores into it and
  -- reads it back, as LLVM compiles a __arena pointer's use
  env.it("makes an arena page's address one the program writes and reads", { "bpf", "btf", "map:arena",
    "prog:syscall", "insn:addr_space_cast" }, function()
    local arena <close> = assert(maps.arena { max_entries = 4 })
    local p <close>, msg, _, log = programs.load { type = "syscall", sleepable = true, name = "arena", insns = {
      dsl.ld_map_fd("r1", arena), dsl.mov("r2", 0), dsl.mov("r3", 1), dsl.mov("r4", -1), dsl.mov("r5", 0),
      dsl.call_kfunc("bpf_arena_alloc_pages"),
      dsl.jne("r0", 0, "got"), dsl.mov("r0", 1), dsl.exit(),
      dsl.label("got"), dsl.mov("r6", "r0"),
      dsl.addr_space_cast("r7", "r6", 0, 1),
      dsl.st("w", "r7", 0, 0x5a5a), dsl.ldx("w", "r8", "r7", 0),
      dsl.ld_map_fd("r1", arena), dsl.mov("r2", "r6"), dsl.mov("r3", 1),
      dsl.call_kfunc("bpf_arena_free_pages"),
      dsl.mov("r0", "r8"), dsl.exit(),
    } }
    assert(p, tostring(msg) .. "\n" .. tostring(log))
    assert.equal(0x5a5a, p:test_run {}.retval)
  end)

  env.it("is refused without an arena: the kernel wants one with the program",
    { "bpf", "prog:syscall", "insn:addr_space_cast" }, function()
    local p, msg = programs.load { type = "syscall", sleepable = true, insns = {
      dsl.mov("r1", 0), dsl.addr_space_cast("r0", "r1", 0, 1), dsl.exit() } }
    assert.is_nil(p)
    assert.matches("addr_space_cast insn can only be used in a program that has an associated arena", msg, 1, true)
  end)
end)
