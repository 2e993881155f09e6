-- SPDX-License-Identifier: MIT
-- Counting program runs for attach specs: a program of any type that
-- adds one to a per-CPU array slot each time it runs, and the array to
-- read the total from. Maps are the observation; nothing global (such
-- as kernel.bpf_stats_enabled) is touched.

local M = {}

-- M.counter(e, ptype[, load_opts]) -> prog, read() -> runs so far
function M.counter(e, ptype, opts)
  local d = e.dsl
  local runs = assert(e.maps.percpu_array{ value = "u64", max_entries = 1 })
  local spec = {
    type = ptype, name = opts and opts.name or ("c_" .. ptype):sub(1, 15),
    insns = {
      d.st("w", "fp", -4, 0),
      d.ld_map_fd("r1", runs), d.mov("r2", "fp"), d.add("r2", -4),
      d.call("map_lookup_elem"),
      d.jeq("r0", 0, "out"),
      d.mov("r1", 1),
      d.atomic_add("dw", "r0", 0, "r1"),
      d.label("out"),
      d.mov("r0", opts and opts.ret or 0),
      d.exit(),
    },
  }
  for k, v in pairs(opts or {}) do if k ~= "name" and k ~= "ret" then spec[k] = v end end
  local prog, msg, errno = e.programs.load(spec)
  if not prog then return nil, msg, errno end
  return prog, function() return runs[0].sum end
end

return M
