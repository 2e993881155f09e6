-- SPDX-License-Identifier: MIT
-- Busted helper (.busted loads it for every run). At the end of the run
-- it prints the kernel feature table (spec/support/feature_table.lua).
-- When EBPFDSL_REQUIRE_KERNEL=1 a pending spec fails the run, whoever
-- marked it pending (env.it, or a spec calling busted's pending itself),
-- and so does a refused feature of the core set, so CI cannot pass by
-- skipping. Without the variable, pending stays allowed.
local busted = require "busted"
-- loaded here, before busted insulates each spec file, so that every file
-- shares one env (its probe cache and its record of what ran)
local feature_table = require "support.feature_table"

local required = os.getenv("EBPFDSL_REQUIRE_KERNEL") == "1"
local pending = {}

if required then
  busted.subscribe({ "test", "end" }, function(element, parent, status)
    if status == "pending" then
      local where = element.trace and element.trace.short_src and
        (" (" .. element.trace.short_src .. ":" .. tostring(element.trace.currentline) .. ")") or ""
      pending[#pending + 1] = ((parent and parent.name and parent.name .. " ") or "") .. tostring(element.name) .. where
    end
    return nil, true
  end)
end

-- After the output handlers have printed their summary ('suite end'),
-- before busted's own exit: busted would exit 0 with pending specs.
busted.subscribe({ "exit" }, function()
  local text, core_refused = feature_table.render()
  io.stdout:write("\n", text)
  io.stdout:flush()
  local fail = false
  if required and #core_refused > 0 then
    io.stderr:write("\nEBPFDSL_REQUIRE_KERNEL=1: the kernel refuses features of the core set:\n")
    for _, f in ipairs(core_refused) do io.stderr:write("  ", f, "\n") end
    fail = true
  end
  if #pending > 0 then
    io.stderr:write(("\nEBPFDSL_REQUIRE_KERNEL=1: %d spec(s) pending, which this run counts as failures:\n")
      :format(#pending))
    for _, name in ipairs(pending) do io.stderr:write("  ", name, "\n") end
    fail = true
  end
  io.stderr:flush()
  if fail then os.exit(1, true) end
  return nil, true
end)
