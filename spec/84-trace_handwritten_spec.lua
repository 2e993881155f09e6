-- SPDX-License-Identifier: MIT
-- The programs ebpfdsl.trace generates for the tools, against the same
-- probes written by hand in instructions (spec/support/handwritten.lua):
-- the generated ones take at most 1.25 times the instructions, both kinds
-- pass the verifier, and the tools print the same from the hand-written
-- ones as from their own, on the workloads of spec 83.
local env = require "support.env"
local ts = require "support.tool_session"
local cases = require "support.tool_cases"
local hand = require "support.handwritten"
local programs = require "ebpfdsl.programs"

local BUILD = { "bpf", "tracefs", "btf", "gcc" }
local RATIO = 1.25

-- Each tool as built and compared: its arguments besides -p, and what
-- T.has answers (the kprobe variant of tcpconnect builds and loads where
-- kprobes do not attach).
local TOOLS = {
  { "opensnoop" }, { "execsnoop" }, { "exitsnoop" }, { "killsnoop" }, { "syscount" }, { "readhist" },
  { "funclatency", function() return { require("support.trace_target").binary(), "trace_target_sleep" } end },
  { "tcpconnect", function() return { "-t" } end, label = "tcpconnect (tracepoint)" },
  { "tcpconnect", has = { kprobe = true }, label = "tcpconnect (kprobe)" },
  { "runqlat" }, { "profile" },
}

-- Builds the tool's probes as T.run would (-p or not): {probe, generated
-- insns, hand-written insns} for each.
local function both(t, pid)
  local argv = pid and { "-p", pid } or {}
  for _, a in ipairs(t[2] and t[2]() or {}) do argv[#argv + 1] = a end
  local S, _, opts = ts.load(t[1], argv, { has = t.has })
  local out = {}
  for _, pr in ipairs(S.probes()) do
    pr:build(opts)
    local gen = pr:insns()
    out[#out + 1] = { probe = pr, gen = gen, hand = hand.program(S, pr, opts) }
  end
  return out, S
end

describe("generated programs against hand-written ones", function()
  for _, t in ipairs(TOOLS) do
    env.it(("%s: at most %.2f times the instructions, with -p and without; both pass the verifier"):format(
      t.label or t[1], RATIO), BUILD, function()
      for _, pid in ipairs { 4242, false } do
        for _, x in ipairs(both(t, pid)) do
          local pr = x.probe
          local g, h = ts.count(x.gen), ts.count(x.hand)
          assert.is_true(g <= RATIO * h, ("%s%s: %d generated, %d by hand"):format(pr.label,
            pid and " -p" or "", g, h))
          local prog, msg = pr:load()
          assert.truthy(prog, msg)
          local spec = pr.k.prog(pr)
          spec.insns, spec.name = x.hand, "hand"
          local hp, hmsg, _, log = programs.load(spec)
          assert.truthy(hp, tostring(hmsg) .. "\n" .. tostring(log))
          hp:close()
        end
      end
    end)
  end
end)

describe("the tools run on hand-written programs", function()
  -- prepare: builds each probe, then gives it the hand-written program,
  -- whose tag (the kernel's hash of the instructions) is kept
  local tags = {}
  local function swap(S, opts)
    for _, pr in ipairs(S.probes()) do
      pr:build(opts)
      pr:insns()
      pr.list, pr.lines = hand.program(S, pr, opts), {}
      local spec = pr.k.prog(pr)
      spec.insns, spec.name = pr.list, "hand"
      local p = assert(programs.load(spec))
      tags[pr] = p:info().tag
      p:close()
    end
  end
  local C = cases.cases
  for _, name in ipairs { "opensnoop", "execsnoop", "exitsnoop", "exitsnoop_signal", "killsnoop", "syscount",
                          "readhist", "funclatency", "tcpconnect", "tcpconnect_kprobe", "runqlat", "profile" } do
    local case = C[name]
    env.it(name .. " prints what it prints from its own", case.needs, function()
      local _, S = cases.run_here(case, swap)
      -- the kernel ran the hand-written programs
      for _, pr in ipairs(S.probes()) do assert.equal(tags[pr], pr.prog:info().tag) end
    end)
  end
end)
