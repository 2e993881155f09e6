-- SPDX-License-Identifier: MIT
-- The table a spec run ends with: the running kernel's features as
-- ebpfdsl.features probes them, how many specs ran on each, which were
-- refused and why; and whether the core set (env.CORE) is all there.
local env = require "support.env"

local M = {}

local function uname()
  local p = io.popen("uname -r 2>/dev/null")
  local r = p and p:read("l") or "?"
  if p then p:close() end
  return r
end

-- Words wrapped at width, each line starting with indent.
local function wrap(words, indent, width)
  local lines, line = {}, indent
  for _, w in ipairs(words) do
    if #line + #w + 1 > width and line ~= indent then
      lines[#lines + 1] = line
      line = indent
    end
    line = line .. (line == indent and "" or " ") .. w
  end
  if line ~= indent then lines[#lines + 1] = line end
  return table.concat(lines, "\n")
end

-- render() -> text, refused core features (a list)
function M.render()
  local ok, features = pcall(require, "ebpfdsl.features")
  if not ok then return "kernel features: not probed (" .. tostring(features) .. ")\n", {} end
  local root, why = env.has("root")
  if not root then return "kernel features: not probed (" .. why .. ")\n", {} end

  local names, seen = features.names(), {}
  for _, n in ipairs(names) do seen[n] = true end
  local extra = {}
  for n in pairs(env.record) do if not seen[n] then extra[#extra + 1] = n end end
  table.sort(extra)
  for _, n in ipairs(extra) do names[#names + 1] = n end

  local out, quiet = {}, {}
  out[#out + 1] = ("Kernel features of Linux %s (ebpfdsl.features()), and the specs that needed them:"):format(uname())
  out[#out + 1] = ("  %-28s %-12s %s"):format("feature", "specs", "this kernel")
  for _, n in ipairs(names) do
    local avail, whynot = features.check(n)
    local r = env.record[n]
    if r or not avail then
      local specs = r and (r.ran > 0 or #r.refused == 0) and (r.ran .. " ran") or ""
      if r and #r.refused > 0 then specs = (specs ~= "" and specs .. ", " or "") .. #r.refused .. " refused" end
      out[#out + 1] = ("  %-28s %-12s %s"):format(n, specs, avail and "available" or "REFUSED: " .. whynot)
      for _, spec in ipairs(r and r.refused or {}) do out[#out + 1] = "      refused spec: " .. spec end
    else
      quiet[#quiet + 1] = n
    end
  end
  if #quiet > 0 then
    out[#out + 1] = ("  available, and needed by no spec (%d):"):format(#quiet)
    out[#out + 1] = wrap(quiet, "    ", 100)
  end
  local missing = {}
  for _, n in ipairs(env.CORE) do
    local avail, whynot = features.check(n)
    if not avail then missing[#missing + 1] = n .. ": " .. whynot end
  end
  if #missing == 0 then
    out[#out + 1] = ("  core set (%d features, needed when EBPFDSL_REQUIRE_KERNEL=1): all available"):format(#env.CORE)
  else
    out[#out + 1] = "  core set: REFUSED " .. table.concat(missing, "; ")
  end
  return table.concat(out, "\n") .. "\n", missing
end

return M
