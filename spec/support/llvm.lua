-- SPDX-License-Identifier: MIT
-- LLVM as the oracle of the ISA specs: llvm-objdump-19's instruction lines
-- and ours side by side, compared with the jump annotations set aside,
-- and the small file and hex helpers the comparisons need.
local env = require "support.env"

local M = {}

function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function M.slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function M.hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- llvm-objdump -d: {slot=, text=} per instruction, in order; `opts` are
-- more options (e.g. "-j .text").
function M.objdump(obj, opts)
  local out = env.run("llvm-objdump-19 --mcpu=v4 --no-show-raw-insn -d " .. (opts and opts .. " " or "") .. obj)
  local lines = {}
  for slot, text in out:gmatch("\n%s*(%d+):%s+([^\n]*)") do
    lines[#lines + 1] = { slot = tonumber(slot), text = text }
  end
  return lines
end

-- Our dump: "  12: text <annot>" lines as {slot=, text=}; label lines are skipped.
function M.our_dump(text)
  local lines = {}
  for slot, t in text:gmatch("%s*(%d+): ([^\n]*)") do lines[#lines + 1] = { slot = tonumber(slot), text = t } end
  return lines
end

-- Both annotate jump targets (objdump: <.text+0x..> or <fn+0x..>, we:
-- <label>/<helper>): the text without them.
function M.strip(t) return (t:gsub("%s+<[^<>]*>$", ""):gsub("%s+$", "")) end

-- One line per instruction where ours and llvm-objdump's differ.
function M.compare_lines(ours, theirs)
  local bad = {}
  for j = 1, math.max(#ours, #theirs) do
    local a, b = ours[j], theirs[j]
    if not a or not b or a.slot ~= b.slot or M.strip(a.text) ~= M.strip(b.text) then
      bad[#bad + 1] = ("slot %s: ours %q, llvm-objdump %q"):format(a and a.slot or b.slot, a and a.text or "-",
        b and b.text or "-")
    end
  end
  return bad
end

return M
