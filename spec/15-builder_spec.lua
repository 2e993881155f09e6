-- SPDX-License-Identifier: MIT
-- dsl.builder against the table path it stands for: for every word of
-- ebpfdsl.dsl, b:word(...) records what dsl.assemble{dsl.word(...)}
-- reads (the same bytes, labels and maps) and refuses what the word
-- refuses with the same message at the caller's line; C methods and the
-- words they leave to the constructor alike.
local dsl = require "ebpfdsl.dsl"
local core = require "ebpfdsl.core"
local asan = require "support.asan"
local env = require "support.env"

local THIS = debug.getinfo(1, "S").short_src

-- Assembles `calls` ({word, args...} lists) both ways.
local function both(calls, opts)
  local list, b = {}, dsl.builder(opts)
  for _, c in ipairs(calls) do
    list[#list + 1] = dsl[c[1]](table.unpack(c, 2, c.n or #c))
    local r = b[c[1]](b, table.unpack(c, 2, c.n or #c))
    assert(rawequal(r, b), c[1] .. " did not return the builder")
  end
  local want = { dsl.assemble(list, opts) }
  return want, { b:assemble() }
end

-- Arguments for every shape of the instruction table, each way a word
-- takes them (registers, immediates, fp, numeric offsets, 2.0 for 2).
local function calls_for(row)
  local n, s = row.name, row.shape
  if s == "alu" then
    local shift = n:match("sh") -- shifts take small immediates
    return { { n, "r1", "r2" }, { n, "r3", shift and 3 or 7 }, { n, "fp", 2.0 }, { n, "r4", shift and 5 or -9 },
             { n, "r5", "r10" } }
  elseif s == "jcond" then
    return { { n, "r1", "r2", "L" }, { n, "r3", 5, "L" }, { n, "r0", -1, 1 }, { n, "fp", "r9", 0 } }
  elseif s == "ja" or s == "gotol" then
    return { { n, "L" }, { n, 0 } }
  elseif s == "exit" then
    return { { n } }
  elseif s == "lddw" then
    return { { n, "r1", 0x123456789 }, { n, "r9", -1 } }
  elseif s == "ldx" or s == "ldsx" then
    return { { n, "w", "r1", "r10", -8 }, { n, "b", "r2", "r3" }, { n, "h", "r4", "fp", 2.0 } }
  elseif s == "st" then
    return { { n, "dw", "r10", -8, 5 }, { n, "b", "r1", 0, 255 } }
  elseif s == "stx" then
    return { { n, "w", "r10", -4, "r1" }, { n, "dw", "fp", -16, "r2" } }
  elseif s == "call" then
    return { { n, "ktime_get_ns" }, { n, "bpf_map_lookup_elem" }, { n, 14 } }
  elseif s == "neg" then
    return { { n, "r1" } }
  elseif s == "movsx" then
    return { { n, "r1", "r2", 8 }, { n, "r1", "r2", 16 } }
  elseif s == "end" then
    return { { n, "r1", 16 }, { n, "r2", 64 } }
  elseif s == "atomic" then
    return { { n, "dw", "r1", -8, "r2" }, { n, "w", "r3", 4, "r4" } }
  end
  return {}
end

describe("dsl.builder", function()
  it("records what assembling each word's tables gives, for every shape of the table", function()
    local calls = { { "label", "L" } }
    for _, row in ipairs(core.isa()) do
      for _, c in ipairs(calls_for(row)) do calls[#calls + 1] = c end
    end
    calls[#calls + 1] = { "exit" }
    assert.is_true(#calls > 250)
    local want, got = both(calls)
    assert.equal(want[1], got[1])
    assert.same(want[2], got[2])
  end)

  it("takes the helper, ring-buffer and map words, raw bytes and lists", function()
    local map = { fd = function() return 7 end }
    local calls = {
      { "and", "r1", 3 }, { "or", "r1", "r2" }, { "and32", "r1", 1 }, { "or32", "r2", "r3" },
      { "exit" }, { "call", "ktime_get_ns" }, { "mov", "r6", "r1" }, { "ldx", "w", "r1", "r2", 4 },
      { "st", "dw", "r10", -8, 0 }, { "stx", "b", "r10", -1, "r1" }, { "be", "r1", 32 }, { "neg", "r2" },
      { "jeq", "r1", 0, "L" }, { "jgt32", "r1", 9, "L" }, { "helper_get_current_pid_tgid" },
      { "helper_map_lookup_elem", "r6", "r7" }, { "ld_map_fd", "r1", map }, { "ld_map_value", "r2", 5, 16 },
      { "ringbuf_reserve", "r6", 9, 32 }, { "ringbuf_submit", "r6", "no_wakeup" }, { "raw", 0xb7, 0, 0, 0, 42 },
      { "ld_abs", "h", 12 }, { "call_local", "L" }, { "label", "L" }, { "exit" },
    }
    local want, got = both(calls, { cpu = 4 })
    assert.equal(want[1], got[1])
    assert.same(want[2], got[2])
    assert.same(want[3], got[3]) -- the map objects, kept alive
    assert.equal(map, got[3][1])
    local b = dsl.builder()
    b:emit { dsl.mov("r0", 1), { dsl.label("x"), { op = "exit" } } }
    assert.equal(dsl.assemble { dsl.mov("r0", 1), dsl.label("x"), dsl.exit() }, (b:assemble()))
  end)

  it("refuses what each word refuses, with its message, at the caller's line", function()
    local cases = {
      { "mov", "r0", 1.5 }, { "mov", "r11", 1 }, { "mov", "r0", "five" }, { "add32", "r11", 1 },
      { "add", "r0", true }, { "jeq", "r1", 0, {} }, { "jeq", 1, 0, "L" }, { "ja", true }, { "label", "" },
      { "label", 5 }, { "lddw", "r1", 2 ^ 63 }, { "ldx", 8, "r0", "r1" }, { "ldx", "w", "r0", "r1", 0.5 },
      { "st", "w", "r10", nil, 1 }, { "stx", "w", "r10", -4, 3 }, { "call", "ktime_get_nss" }, { "call", {} },
      { "neg", "r12" }, { "helper_ktime_get_ns", 1, 2, 3, 4, 5, 6 }, { "ld_map_fd", "r1", "map" },
    }
    for _, c in ipairs(cases) do
      local n = select("#", table.unpack(c)) -- holes: st's nil offset
      local ok1, e1 = pcall(function() return dsl[c[1]](table.unpack(c, 2, n)) end)
      local b = dsl.builder()
      local line = debug.getinfo(1, "l").currentline + 1
      local ok2, e2 = pcall(function() return b[c[1]](b, table.unpack(c, 2, n)) end)
      assert.is_false(ok1, c[1])
      assert.is_false(ok2, c[1])
      assert.equal(THIS .. ":" .. line .. ": " .. e1:gsub("^[^:]+:%d+: ", ""), e2)
    end
  end)

  it("refuses what the assembler refuses, as it happens, and takes no word after assemble", function()
    local b = dsl.builder()
    b:label("a")
    assert.error_matches(function() b:label("a") end, "insn 0: duplicate label 'a' %(first defined at insn 0%)")
    b = dsl.builder { cpu = 1 }
    assert.error_matches(function() b:jeq32("r1", 0, "x") end, "insn 0 %(jeq32%): needs cpu v3 %(assembling for v1%)$")
    b = dsl.builder()
    b:ja("nowhere")
    assert.error_matches(function() b:assemble() end, "undefined label 'nowhere'")
    b = dsl.builder()
    b:mov("r0", 0):exit()
    local bytes = b:assemble()
    assert.equal(bytes, (b:assemble()))
    assert.error_matches(function() b:exit() end, "emit after finalize")
    assert.error_matches(function() dsl.builder { cpus = 1 } end, "builder: unknown option 'cpus'")
    assert.error_matches(function() dsl.builder(5) end, "builder: argument 1 must be a table of options")
  end)

  it("prints, counts slots, and closes", function()
    local b = dsl.builder()
    b:lddw("r1", 1):exit()
    assert.equal(3, #b)
    assert.equal("ebpfdsl.Builder, 3 slots", tostring(b))
    b:close()
    b:close()
    assert.equal("ebpfdsl.Builder (closed)", tostring(b))
    assert.error_matches(function() b:exit() end, "attempt to use a closed ebpfdsl.Builder")
    assert.error_matches(function() b:assemble() end, "attempt to use a closed ebpfdsl.Builder")
    assert.is_nil(b.no_such_word)
    assert.is_nil(b.assemble_all)
  end)

  env.it("builds and frees without a bad access (AddressSanitizer)", "asan", function()
    local ok, out = asan.run [[
      local dsl = require "ebpfdsl.dsl"
      for round = 1, 20 do
        local b = dsl.builder()
        for i = 1, 500 do
          b:label("l" .. i):mov("r1", i):jeq("r1", i, "l" .. (i + 1)):ldx("w", "r2", "r10", -4):neg("r2")
          b:call("ktime_get_ns")
          pcall(b.mov, b, "r0", 1.5)
        end
        b:label("l501"):exit()
        if round % 2 == 0 then assert(#b:assemble() > 0) end
        if round % 3 == 0 then b:close() end
        collectgarbage()
      end
      print("builder ok")
    ]]
    assert(ok and out:find("builder ok", 1, true), out)
  end)
end)
