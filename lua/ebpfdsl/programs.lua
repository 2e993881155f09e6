-- SPDX-License-Identifier: MIT
-- Loading programs into the kernel: programs.load{type=, insns=, ...}
-- returns an ebpfdsl.Prog, or nil, message, errno, verifier log (in our
-- disassembly and labels), the verifier's log as the kernel wrote it.
local core = require "ebpfdsl.core"
-- ebpfdsl.features loads when a question for it comes (start-up loads
-- what is used)
local function features() return require "ebpfdsl.features" end

local M = {}

-- What each type= name means (its program type, the attach type it
-- implies or defaults to, whether it needs one) is the row core.prog_def
-- gives, from csrc/kernel/prog_defs.c: fentry = tracing + trace_fentry.

-- BPF_F_* load flags by name
local FLAGS = { strict_alignment = 1, any_alignment = 2, test_rnd_hi32 = 4, test_state_freq = 8, sleepable = 16,
                xdp_has_frags = 32, xdp_dev_bound_only = 64 }

local function flags_of(f, sleepable)
  local v = 0
  if type(f) == "number" then
    v = f
  elseif type(f) == "table" then
    for _, name in ipairs(f) do
      v = v | (FLAGS[name] or error(("programs.load: unknown flag '%s' (sleepable, strict_alignment, " ..
        "any_alignment, xdp_has_frags, xdp_dev_bound_only, ...)"):format(tostring(name)), 3))
    end
  elseif f ~= nil then
    error("programs.load: flags must be a number or a list of names", 3)
  end
  if sleepable then v = v | FLAGS.sleepable end
  return v
end

-- Source lines for line_info: {[slot] = "file.lua:12" | {file=, line=,
-- col=, text=}} as a list in slot order; "file:line" takes its text from
-- the file (each file read once).
local function lines_list(lines)
  if lines == nil then return nil end
  if type(lines) ~= "table" then error("programs.load: lines must be a table {[slot] = \"file:line\"}", 3) end
  local files, list = {}, {}
  local function source_line(file, n)
    if files[file] == nil then
      local t, f = {}, io.open(file, "r")
      if f then
        for l in f:lines() do t[#t + 1] = l end
        f:close()
      end
      files[file] = t
    end
    local text = files[file][n]
    return text and text:match("^%s*(.-)%s*$") or ("%s:%d"):format(file, n)
  end
  for slot, v in pairs(lines) do
    if math.type(slot) ~= "integer" or slot < 0 then
      error("programs.load: lines are keyed by instruction slot (an integer from 0)", 3)
    end
    local e
    if type(v) == "string" then
      local file, n = v:match("^(.*):(%d+)$")
      if not file then error(("programs.load: lines[%d] = '%s' is not \"file:line\""):format(slot, v), 3) end
      e = { slot = slot, file = file, line = tonumber(n), text = source_line(file, tonumber(n)) }
    elseif type(v) == "table" then
      e = { slot = slot, file = v.file, line = v.line, col = v.col, text = v.text }
    else
      error(("programs.load: lines[%d] must be \"file:line\" or {file=, line=, col=, text=}"):format(slot), 3)
    end
    list[#list + 1] = e
  end
  table.sort(list, function(a, b) return a.slot < b.slot end)
  return list
end

-- The program's own BTF: a FUNC for it and for each subprogram and
-- callback (func_info), a line for each instruction (line_info). It goes
-- with the program when the kernel needs it (subprograms, callbacks),
-- when lines are given, or when btf = true; never with btf = false.
-- -> the load options it adds, or nil; or nil, message, errno, log.
local function debug_info(spec, bytes, labels)
  local want = spec.btf
  if want == nil then want = spec.lines ~= nil or #core.prog_funcs(bytes) > 1 end
  if not want then return nil end
  local btf_bytes, func_info, line_info = core.prog_btf(bytes, { name = spec.name, labels = labels,
    lines = lines_list(spec.lines), file = spec.file })
  local b = core.btf_from_bytes(btf_bytes, ("program '%s'"):format(spec.name or ""))
  local ok, msg, errno, log = b:load()
  if not ok then
    b:close()
    return nil, msg, errno, log
  end
  return { prog_btf = b, func_info = func_info, line_info = line_info }
end

-- programs.load{type="socket_filter", insns=list_or_bytes, name=, license=,
--   expected_attach_type=, attach_to=, attach_btf=, attach_prog=, flags=,
--   sleepable=, log_level=}
-- or, as clj-ebpf has it, programs.load(bytes_or_list, type, name).
--
-- Tracing and LSM programs: type="fentry" (or type="tracing",
-- expected_attach_type="trace_fentry") with attach_to="do_unlinkat";
-- likewise "fexit", "fmod_ret", "tp_btf" (attach_to a tracepoint such as
-- "sched_switch"), "iter" (attach_to "task", "bpf_map", ...), "lsm"
-- (attach_to a hook such as "file_open"). attach_to is looked up in the
-- kernel's BTF, or in attach_btf when given.
function M.load(spec, ptype, name)
  if type(spec) ~= "table" or spec.op or spec[1] ~= nil then
    spec = { insns = spec, type = ptype, name = name }
  end
  -- the field names are the rows of csrc/lua/lua_prog_load.c
  local unknown = core.prog_load_check(spec)
  if unknown then error(unknown, 2) end
  local ptype_name, attach = spec.type, spec.expected_attach_type
  if type(ptype_name) ~= "string" then
    error("programs.load: type must be a program type name such as 'socket_filter'", 2)
  end
  local def = core.prog_def(ptype_name)
  if def and def.implied then
    ptype_name = def.type
    if attach ~= nil and attach ~= def.attach_type then
      error(("programs.load: type '%s' implies expected_attach_type '%s', got '%s'"):format(
        spec.type, def.attach_type, tostring(attach)), 2)
    end
    attach = def.attach_type
  end
  if attach == nil and def and def.default then attach = def.attach_type end
  if attach == nil and def and def.needs_attach then
    error(("programs.load: type '%s' needs expected_attach_type: %s"):format(ptype_name, def.choices), 2)
  end
  if spec.attach_to ~= nil and type(spec.attach_to) ~= "string" then
    error("programs.load: attach_to must be a name such as 'do_unlinkat'", 2)
  end
  local insns, labels, maps = spec.insns, nil, nil
  if type(insns) == "table" then
    insns, labels, maps = core.assemble(insns, { cpu = spec.cpu })
  elseif type(insns) ~= "string" then
    error("programs.load: insns must be a list of instructions or program bytes", 2)
  end
  if spec.file ~= nil and type(spec.file) ~= "string" then error("programs.load: file must be a string", 2) end
  local dbg, dmsg, derrno, dlog = debug_info(spec, insns, labels)
  if dmsg then
    return nil, ("load of %s '%s': %s"):format(ptype_name, spec.name or "", dmsg), derrno, dlog, dlog
  end
  dbg = dbg or {}
  -- argument errors raised in C blame the caller's line, as the ones above do
  local ok, prog, msg, errno, log, raw = pcall(core.prog_load, ptype_name, insns, {
    name = spec.name, license = spec.license, expected_attach_type = attach,
    attach_btf_id = spec.attach_btf_id, attach_to = spec.attach_to, attach_btf = spec.attach_btf,
    attach_prog = spec.attach_prog, flags = flags_of(spec.flags, spec.sleepable), log_level = spec.log_level,
    labels = labels, maps = maps,
    prog_btf = dbg.prog_btf, func_info = dbg.func_info, line_info = dbg.line_info,
    -- module kfuncs (dsl.call_kfunc by name) are called through this array
    fd_array = package.loaded["ebpfdsl.kfuncs"] and package.loaded["ebpfdsl.kfuncs"].fd_array() or nil,
  })
  if dbg.prog_btf then dbg.prog_btf:close() end -- a loaded program holds its own reference
  if not ok then error(prog, 2) end
  if prog then return prog, msg end -- msg: the log, when log_level asked for one
  return nil, msg, errno, log, raw
end

-- programs.open_pinned(path) -> ebpfdsl.Prog | nil, message, errno: the
-- type and name come from the kernel, the instructions too (as the kernel
-- rewrote them).
M.open_pinned = core.prog_open_pinned

-- programs.explain(log, bytes[, labels]) -> message, insn index: the
-- instruction a verifier log stopped at and why, in the program's own
-- terms (the message programs.load gives on a refusal).
M.explain = core.vlog_explain

-- programs.annotate(log, bytes[, labels]) -> the log with each instruction
-- line in our disassembly and label lines before labelled instructions
-- (the log programs.load gives on a refusal; the kernel's own comes fifth).
M.annotate = core.vlog_annotate

-- The program type and attach type names this libbpf and kernel know.
M.types = core.prog_types
M.attach_types = core.attach_types

-- programs.supported(type[, helper]) -> true | false, why, errno: whether
-- this kernel loads programs of the type (libbpf_probe_bpf_prog_type; for
-- fentry, fexit, fmod_ret, tp_btf, iter, lsm, kprobe_multi and uprobe_multi, a load
-- with a real target), and with a helper name whether they may call it.
-- ebpfdsl.features' "prog:<type>" and "helper:<type>:<helper>", probed once.
local function known_type(name)
  if core.prog_def(name) then return true end
  for _, t in ipairs(core.prog_types()) do if t == name and t ~= "unspec" then return true end end
  return false
end

function M.supported(ptype, helper)
  if type(ptype) ~= "string" or not known_type(ptype) then
    error(("programs.supported: unknown program type '%s'"):format(tostring(ptype)), 2)
  end
  if helper == nil then return features().check("prog:" .. ptype) end
  if type(helper) ~= "string" or not core.helper_id(helper) then
    error(("programs.supported: unknown helper '%s'"):format(tostring(helper)), 2)
  end
  local def = core.prog_def(ptype)
  return features().check("helper:" .. (def and def.type or ptype) .. ":" .. helper)
end

return M
