-- SPDX-License-Identifier: MIT
-- Counting in maps for the specs: a program of any type that adds one to
-- a per-CPU array slot each time it runs (and the array to read the total
-- from), and the instructions of a per-key count in a hash map. Maps are
-- the observation; nothing global (kernel.bpf_stats_enabled) is touched.
-- Also the instructions of a map update from two stack slots.

local M = {}

-- Instructions: one added to the u64 map[key] for the key stored at
-- fp + key_off, or a jump to the label `missing` when there is no entry.
local function add_to_entry(d, map, key_off, missing)
  return {
    d.ld_map_fd("r1", map), d.mov("r2", "fp"), d.add("r2", key_off),
    d.call("map_lookup_elem"),
    d.jeq("r0", 0, missing),
    d.mov("r1", 1),
    d.atomic_add("dw", "r0", 0, "r1"),
  }
end

-- M.add_one(d, map[, ret]) -> a whole program: one added to the u64 at
-- key 0 of `map` (an array, a per-CPU array, or a hash whose key 0 is
-- there), then return ret (0).
function M.add_one(d, map, ret)
  return {
    d.st("w", "fp", -4, 0),
    add_to_entry(d, map, -4, "out"),
    d.label("out"),
    d.mov("r0", ret or 0),
    d.exit(),
  }
end

-- M.update(d, map, key_off, value_off[, flags]) -> instructions:
-- map_update_elem(map, fp + key_off, fp + value_off, flags or 0); r0 its result.
function M.update(d, map, key_off, value_off, flags)
  return {
    d.ld_map_fd("r1", map), d.mov("r2", "fp"), d.add("r2", key_off), d.mov("r3", "fp"), d.add("r3", value_off),
    d.mov("r4", flags or 0),
    d.call("map_update_elem"),
  }
end

-- M.bump(d, map, key_off) -> instructions: map[key] += 1 for the key
-- stored at fp + key_off (above fp - 8), making the entry with 1 when it
-- is missing (BPF_NOEXIST: when another CPU made it meanwhile, add to
-- that one). Uses fp - 16 and r0..r5; ends at the label "bumped".
function M.bump(d, map, key_off)
  return {
    add_to_entry(d, map, key_off, "first"),
    d.ja("bumped"),
    d.label("first"),
    d.st("dw", "fp", -16, 1),
    M.update(d, map, key_off, -16, 1), -- BPF_NOEXIST
    d.jeq("r0", 0, "bumped"),
    add_to_entry(d, map, key_off, "bumped"),
    d.label("bumped"),
  }
end

-- M.only_comm(d, comm, skip) -> instructions: jump to the label `skip`
-- unless the running task's command (get_current_comm, 16 bytes, zero
-- padded) is `comm`: a spec's own trigger binary, whatever else runs.
-- Uses fp - 40 .. fp - 25 and r0..r3. The buffer is zeroed first: older
-- kernels (6.1) copy the name and its NUL only, leaving the rest as it was.
function M.only_comm(d, comm, skip)
  assert(#comm < 16, "a command name has at most 15 characters")
  local want = comm .. string.rep("\0", 16 - #comm)
  return {
    d.st("dw", "fp", -40, 0), d.st("dw", "fp", -32, 0),
    d.mov("r1", "fp"), d.add("r1", -40), d.mov("r2", 16),
    d.call("get_current_comm"),
    d.ldx("dw", "r1", "fp", -40), d.lddw("r2", (string.unpack("<i8", want))), d.jne("r1", "r2", skip),
    d.ldx("dw", "r1", "fp", -32), d.lddw("r2", (string.unpack("<i8", want, 9))), d.jne("r1", "r2", skip),
  }
end

-- M.counter(e, ptype[, load_opts]) -> prog, read() -> runs so far
function M.counter(e, ptype, opts)
  local runs = assert(e.maps.percpu_array{ value = "u64", max_entries = 1 })
  local spec = {
    type = ptype, name = opts and opts.name or ("c_" .. ptype):sub(1, 15),
    insns = M.add_one(e.dsl, runs, opts and opts.ret),
  }
  for k, v in pairs(opts or {}) do if k ~= "name" and k ~= "ret" then spec[k] = v end end
  local prog, msg, errno = e.programs.load(spec)
  if not prog then return nil, msg, errno end
  return prog, function() return runs[0].sum end
end

return M
