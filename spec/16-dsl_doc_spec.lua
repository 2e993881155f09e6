-- SPDX-License-Identifier: MIT
-- docs/dsl.md, the reference of ebpfdsl.dsl: it names every constructor
-- and word of dsl, ebpfdsl.words (the helper_<name> family as one) and every
-- alias of ebpfdsl.compat, and its examples run, in the kernel, as one chunk.
local env = require "support.env"
local dsl = require "ebpfdsl.dsl"

local function read(path) return assert(require("support.files").read(path)) end

describe("docs/dsl.md", function()
  it("names every name ebpfdsl.dsl, ebpfdsl.words and ebpfdsl.compat have", function()
    local doc = read("docs/dsl.md")
    local missing, names = {}, {}
    for _, m in ipairs { dsl, require "ebpfdsl.words", (require "ebpfdsl.compat") } do
      for name in pairs(m) do names[name] = true end
    end
    for name in pairs(names) do
      if not name:match("^helper_.") and not doc:find("`" .. name .. "`", 1, true) and
        not doc:find("`" .. name .. "(", 1, true) then
        missing[#missing + 1] = name
      end
    end
    table.sort(missing)
    assert.same({}, missing)
    assert.truthy(doc:find("`helper_<name>(", 1, true))
  end)

  it("names every mnemonic", function()
    local doc = read("docs/dsl.md")
    for _, op in ipairs(dsl.mnemonics()) do assert.truthy(doc:find("`" .. op, 1, true), op) end
  end)

  env.it("runs its examples", { "bpf", "btf", "prog:syscall", "prog:xdp" }, function()
    assert.is_true(require("support.doc_blocks").run("docs/dsl.md") >= 8)
  end)
end)
