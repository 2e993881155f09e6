-- SPDX-License-Identifier: MIT
-- A tool of tools/ loaded in this process: its file runs against a fresh
-- ebpfdsl.trace session with the given command line, up to its T.run,
-- which is kept for later. The probes are declared, nothing is built.
local M = {}

-- load("opensnoop", {"-p", 12}) -> session S, run(more_opts) (the tool's
-- own T.run call, with more options merged in), and the options its probes
-- are built with ({pid =}: probe:build(opts) as T.run would)
-- opts.has = {kprobe = true}: what T.has answers there (a kprobe tool's
-- programs build and load where kprobes do not attach)
function M.load(name, argv, opts)
  local trace = require "ebpfdsl.trace"
  local S = trace.new()
  if opts and opts.has then
    local real = S.has
    S.has = function(kind)
      if opts.has[kind] ~= nil then return opts.has[kind] end
      return real(kind)
    end
  end
  local real_run = S.run
  local saved = { mod = package.loaded["ebpfdsl.trace"], arg = arg, path = package.path, cpath = package.cpath }
  local call
  S.run = function(o, more) call = { o, more } end
  package.loaded["ebpfdsl.trace"] = S
  local a = { [0] = "tools/" .. name .. ".lua" }
  for i, x in ipairs(argv or {}) do a[i] = tostring(x) end
  arg = a -- luacheck: ignore 121 (the tool reads the global, as a script does)
  local ok, err = pcall(dofile, "tools/" .. name .. ".lua")
  package.loaded["ebpfdsl.trace"], arg = saved.mod, saved.arg -- luacheck: ignore 121
  package.path, package.cpath = saved.path, saved.cpath
  if not ok then error(err, 0) end
  assert(call, name .. " never called T.run")
  S.run = real_run
  -- what T.run passes on to the probes: pid, from the parsed options
  local built = { pid = call[1] and call[1].pid }
  return S, function(extra)
    local more = {}
    for k, v in pairs(call[2] or {}) do more[k] = v end
    for k, v in pairs(extra or {}) do more[k] = v end
    return real_run(call[1], more)
  end, built
end

-- Instructions as the kernel counts them (a 64-bit immediate is two).
function M.count(insns)
  return #require("ebpfdsl.dsl").assemble(insns) // 8
end

return M
