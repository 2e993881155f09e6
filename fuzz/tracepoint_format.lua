-- SPDX-License-Identifier: MIT
-- Fuzzing tracepoint.parse, which is Lua: a bounded random generator of
-- format text (real formats from fuzz/corpus/tracepoint mutated, and
-- formats made from a grammar with numbers at the edges: 2^31, 2^32,
-- 2^63, 2^64, declarations without names, duplicates, stray brackets).
-- Every text must either parse or be refused with the parser's own message
-- at the caller's line, and every method of what parses must work or
-- refuse the same way: no error may come from a line of the library.
--
-- Why not libFuzzer: the parser runs in the Lua VM (Debian's liblua5.4,
-- not built with coverage), so libFuzzer would see only its harness and
-- mutate blind; a generator that knows the format's shape reaches the
-- edges that matter much sooner.
--
--   lua5.4 fuzz/tracepoint_format.lua SECONDS [SEED]   (from the repository root)
-- A failure prints the seed and the iteration, and saves the text under
-- build/fuzz/artifacts/.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local tracepoint = require "ebpfdsl.tracepoint"

local SECONDS = tonumber(arg[1]) or 20
local SEED = tonumber(arg[2]) or (os.time() ~ math.floor(os.clock() * 1e6))
math.randomseed(SEED)
local random = math.random

local function pick(t) return t[random(#t)] end

local seeds = {}
for name in io.popen("ls fuzz/corpus/tracepoint"):lines() do
  local f = assert(io.open("fuzz/corpus/tracepoint/" .. name))
  seeds[#seeds + 1] = f:read("a")
  f:close()
end
assert(#seeds > 0, "no seeds in fuzz/corpus/tracepoint")

local NUMBERS = { "0", "1", "2", "3", "4", "7", "8", "16", "4095", "65535", "65536", "2147483647", "2147483648",
                  "4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
                  "18446744073709551615", "18446744073709551616", "99999999999999999999999999", "00000000008",
                  "", "-1", "0x10", "1e3", " 8" }
local TYPES = { "int", "unsigned int", "u8", "u16", "u32", "u64", "s8", "s64", "char", "unsigned char", "pid_t",
                "const char *", "void *", "struct foo *", "bool", "unsigned long", "__u64", "", "*", "const",
                "struct", "char[]" }
local NAMES = { "x", "pid", "comm", "filename", "common_pid", "common_type", "args", "_", "a1", "", "123",
                "name_with_a_long_tail_" .. string.rep("x", 200) }
local SUFFIXES = { "", "", "", "[16]", "[0]", "[4]", "[TASK_COMM_LEN]", "[]", "[", "]", "[ 8 ]",
                   "[4294967296]", "[99999999999999999999]", "[-1]" }
local PREFIXES = { "", "", "", "", "__data_loc ", "__rel_loc ", "__data_loc", "const ", "unsigned " }

local function field_line()
  local decl = pick(PREFIXES) .. pick(TYPES) .. (random(4) == 1 and "" or " ") .. pick(NAMES) .. pick(SUFFIXES)
  return ("\tfield:%s;\toffset:%s;\tsize:%s;\tsigned:%s;"):format(decl, pick(NUMBERS), pick(NUMBERS),
    pick { "0", "1", "2", "" })
end

local function generated()
  local lines = { "name: " .. pick(NAMES), "ID: " .. pick(NUMBERS), "format:" }
  for _ = 1, random(0, 12) do lines[#lines + 1] = field_line() end
  if random(2) == 1 then lines[#lines + 1] = "" end
  lines[#lines + 1] = 'print fmt: "x"'
  return table.concat(lines, "\n") .. "\n"
end

local function mutated()
  local lines = {}
  for l in pick(seeds):gmatch("[^\n]*") do lines[#lines + 1] = l end
  for _ = 1, random(1, 6) do
    local i = random(#lines)
    local how = random(8)
    if how == 1 then lines[i] = lines[i]:gsub("%d+", function() return pick(NUMBERS) end)
    elseif how == 2 then table.remove(lines, i)
    elseif how == 3 then table.insert(lines, i, lines[random(#lines)])
    elseif how == 4 then lines[i] = field_line()
    elseif how == 5 then lines[i] = lines[i]:gsub("field:([^;]*)", function(d)
        return "field:" .. (random(2) == 1 and d:gsub("[%w_]+%s*$", "") or d .. pick(SUFFIXES))
      end)
    elseif how == 6 then
      local j = random(#lines[i] + 1)
      lines[i] = lines[i]:sub(1, j - 1) .. string.char(random(0, 255)) .. lines[i]:sub(j + 1)
    elseif how == 7 then lines[i] = lines[i]:sub(1, random(0, #lines[i]))
    else lines[i] = lines[i]:gsub(pick { "offset", "size", "signed", "field", ";", ":" }, "", 1) end
  end
  return table.concat(lines, "\n")
end

local function text_of(v) return type(v) == "string" and v or tostring(v) end

-- An error is the library's own when it is a message raised at a line
-- outside lua/ebpfdsl (the caller's), never at one of the library's lines.
local function own(err)
  local msg = text_of(err)
  return type(err) == "string" and not msg:find("^lua/ebpfdsl/") and not msg:find("^%[C%]"), msg
end

local failures = 0
local function fail(why, text, iteration)
  failures = failures + 1
  os.execute("mkdir -p build/fuzz/artifacts")
  local path = ("build/fuzz/artifacts/tracepoint-%d-%d.format"):format(SEED, iteration)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  io.stderr:write(("tracepoint_format: seed %d, iteration %d: %s\n  input saved as %s\n"):format(SEED, iteration,
    why, path))
end

-- Every method on every field, each under pcall: it works or refuses.
local function exercise(fmt)
  local calls = {
    function() return tostring(fmt) end,
    function() return fmt:fields(), fmt:fields(true) end,
    function() return fmt:layout() end,
    function() return fmt:section_name() end,
  }
  for _, name in ipairs(fmt:fields()) do
    calls[#calls + 1] = function() return fmt:field(name), fmt:offset(name), fmt:size(name), fmt:signed(name) end
    calls[#calls + 1] = function() return fmt:read_field("r1", name, "r6") end
    calls[#calls + 1] = function() return fmt:read_field("r1", name, "r6", { sign_extend = true, raw = true }) end
    calls[#calls + 1] = function() return fmt:read_string("r1", name, "r7", 64) end
    calls[#calls + 1] = function() return fmt:field_addr("r1", name, "r2") end
    calls[#calls + 1] = function() return fmt:data_loc("r1", name, "r2", "r3") end
  end
  calls[#calls + 1] = function() return fmt:read_fields("r1", { { fmt:fields()[1], "r6" } }) end
  for _, call in ipairs(calls) do
    local ok, err = pcall(call)
    if not ok then
      local mine, msg = own(err)
      if not mine then return msg end
    end
  end
  return nil
end

local started = os.clock()
local deadline = started + SECONDS
local iteration, parsed = 0, 0
while os.clock() < deadline and failures == 0 do
  iteration = iteration + 1
  local text = random(3) == 1 and generated() or mutated()
  local ok, fmt = pcall(function() local f = tracepoint.parse(text, "fuzz", "t") return f end)
  if ok then
    parsed = parsed + 1
    for _, f in ipairs(fmt.field_list) do
      for _, k in ipairs { "offset", "size" } do
        if math.type(f[k]) ~= "integer" then fail(("field %s: %s is %s"):format(f.name, k, tostring(f[k])), text,
          iteration) end
      end
    end
    local why = exercise(fmt)
    if why then fail("a method died inside the library: " .. why, text, iteration) end
  else
    local mine, msg = own(fmt)
    if not mine or not msg:find("tracepoint%.parse: ") then
      fail("parse died inside the library: " .. msg, text, iteration)
    end
  end
end
print(("tracepoint_format: %d texts in %.1f s (seed %d), %d parsed, %d failures"):format(iteration,
  os.clock() - started, SEED, parsed, failures))
os.exit(failures == 0 and 0 or 1)
