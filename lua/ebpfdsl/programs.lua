-- SPDX-License-Identifier: MIT
-- Loading programs into the kernel: programs.load{type=, insns=, ...}
-- returns an ebpfdsl.Prog, or nil, message, errno, verifier log.
local core = require "ebpfdsl.core"

local M = {}

local LOAD_FIELDS = { type = true, insns = true, name = true, license = true, expected_attach_type = true,
                      attach_btf_id = true, flags = true, log_level = true, cpu = true }

-- programs.load{type="socket_filter", insns=list_or_bytes, name=, license=}
-- or, as clj-ebpf has it, programs.load(bytes_or_list, type, name).
function M.load(spec, ptype, name)
  if type(spec) ~= "table" or spec.op or spec[1] ~= nil then
    spec = { insns = spec, type = ptype, name = name }
  end
  for k in pairs(spec) do
    if not LOAD_FIELDS[k] then error(("programs.load: unknown field '%s'"):format(tostring(k)), 2) end
  end
  if type(spec.type) ~= "string" then
    error("programs.load: type must be a program type name such as 'socket_filter'", 2)
  end
  local insns, labels, maps = spec.insns, nil, nil
  if type(insns) == "table" then
    insns, labels, maps = core.assemble(insns, { cpu = spec.cpu })
  elseif type(insns) ~= "string" then
    error("programs.load: insns must be a list of instructions or program bytes", 2)
  end
  -- argument errors raised in C blame the caller's line, as the ones above do
  local ok, prog, msg, errno, log = pcall(core.prog_load, spec.type, insns, {
    name = spec.name, license = spec.license, expected_attach_type = spec.expected_attach_type,
    attach_btf_id = spec.attach_btf_id, flags = spec.flags, log_level = spec.log_level,
    labels = labels, maps = maps,
  })
  if not ok then error(prog, 2) end
  if prog then return prog, msg end -- msg: the log, when log_level asked for one
  return nil, msg, errno, log
end

-- The program type names this libbpf knows, as the kernel names them.
M.types = core.prog_types

return M
