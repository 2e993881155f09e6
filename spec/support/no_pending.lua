-- SPDX-License-Identifier: MIT
-- Busted helper (.busted loads it for every run): when EBPFDSL_REQUIRE_KERNEL=1
-- a pending spec fails the run, whoever marked it pending (env.it, or a
-- spec calling busted's pending itself), so CI cannot pass by skipping.
-- Without the variable, pending stays allowed.
local busted = require "busted"

if os.getenv("EBPFDSL_REQUIRE_KERNEL") == "1" then
  local pending = {}

  busted.subscribe({ "test", "end" }, function(element, parent, status)
    -- a kernel feature refused (support/env.lua) is reported, not failed
    if status == "pending" and not tostring(element.name):find(" [refused by this kernel: ", 1, true) then
      local where = element.trace and element.trace.short_src and
        (" (" .. element.trace.short_src .. ":" .. tostring(element.trace.currentline) .. ")") or ""
      pending[#pending + 1] = ((parent and parent.name and parent.name .. " ") or "") .. tostring(element.name) .. where
    end
    return nil, true
  end)

  -- After the output handlers have printed their summary ('suite end'),
  -- before busted's own exit: busted would exit 0 with pending specs.
  busted.subscribe({ "exit" }, function()
    if #pending > 0 then
      io.stderr:write(("\nEBPFDSL_REQUIRE_KERNEL=1: %d spec(s) pending, which this run counts as failures:\n")
        :format(#pending))
      for _, name in ipairs(pending) do io.stderr:write("  ", name, "\n") end
      io.stderr:flush()
      os.exit(1, true)
    end
    return nil, true
  end)
end
