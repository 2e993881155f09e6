-- SPDX-License-Identifier: MIT
-- The table a spec run ends with: the running kernel's features as
-- ebpfdsl.features probes them, how many specs ran on each, which were
-- refused and why; and whether the core set (env.CORE) and the features
-- EBPFDSL_REQUIRE_FEATURES demands (env.DEMANDED) are all there.
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

-- What the specs did with a feature: "3 ran, 1 refused", and for the
-- specs of its refusal ("!f") "1 ran where refused" or "1 only where refused".
local function specs(r)
  if not r then return "" end
  local parts = {}
  local none = #r.refused == 0 and r.ran_refused == 0 and #r.has_it == 0
  if r.ran > 0 or none then parts[#parts + 1] = r.ran .. " ran" end
  if #r.refused > 0 then parts[#parts + 1] = #r.refused .. " refused" end
  if r.ran_refused > 0 then parts[#parts + 1] = r.ran_refused .. " ran on its refusal" end
  if #r.has_it > 0 then parts[#parts + 1] = #r.has_it .. " only where refused" end
  return table.concat(parts, ", ")
end

-- The features of a list the kernel refuses, as "name: why" (a name
-- ebpfdsl.features does not know, as misspelt in EBPFDSL_REQUIRE_FEATURES,
-- counts as refused, with the error).
local function refused_of(list)
  local missing = {}
  for _, n in ipairs(list) do
    local ok, avail, whynot = pcall(env.check, n)
    if not ok then avail, whynot = false, tostring(avail) end
    if not avail then missing[#missing + 1] = n .. ": " .. whynot end
  end
  return missing
end

-- render() -> text, refused core features (a list), refused demanded ones
function M.render()
  local ok, features = pcall(require, "ebpfdsl.features")
  if not ok then return "kernel features: not probed (" .. tostring(features) .. ")\n", {}, {} end
  local root, why = env.has("root")
  if not root then return "kernel features: not probed (" .. why .. ")\n", {}, {} end

  local names, seen = features.names(), {}
  for _, n in ipairs(names) do seen[n] = true end
  local extra = {}
  for n in pairs(env.record) do if not seen[n] then extra[#extra + 1] = n end end
  table.sort(extra)
  for _, n in ipairs(extra) do names[#names + 1] = n end

  local out, quiet = {}, {}
  out[#out + 1] = ("Kernel features of Linux %s (ebpfdsl.features()), and the specs that needed them:"):format(uname())
  local width = 12 -- the specs column: as wide as its widest entry
  for _, r in pairs(env.record) do width = math.max(width, #specs(r)) end
  local row = "  %-28s %-" .. width .. "s %s"
  out[#out + 1] = row:format("feature", "specs", "this kernel")
  for _, n in ipairs(names) do
    local avail, whynot = env.check(n)
    local r = env.record[n]
    if r or not avail then
      out[#out + 1] = row:format(n, specs(r), avail and "available" or "REFUSED: " .. whynot)
      for _, spec in ipairs(r and r.refused or {}) do out[#out + 1] = "      refused spec: " .. spec end
      for _, spec in ipairs(r and r.has_it or {}) do out[#out + 1] = "      spec of its refusal: " .. spec end
    else
      quiet[#quiet + 1] = n
    end
  end
  if #quiet > 0 then
    out[#out + 1] = ("  available, and needed by no spec (%d):"):format(#quiet)
    out[#out + 1] = wrap(quiet, "    ", 100)
  end
  local missing = refused_of(env.CORE)
  if #missing == 0 then
    out[#out + 1] = ("  core set (%d features, needed when EBPFDSL_REQUIRE_KERNEL=1): all available"):format(#env.CORE)
  else
    out[#out + 1] = "  core set: REFUSED " .. table.concat(missing, "; ")
  end
  local demanded = refused_of(env.DEMANDED)
  if #env.DEMANDED > 0 and #demanded == 0 then
    out[#out + 1] = ("  demanded by EBPFDSL_REQUIRE_FEATURES (%s): all available")
      :format(table.concat(env.DEMANDED, " "))
  elseif #demanded > 0 then
    out[#out + 1] = "  demanded by EBPFDSL_REQUIRE_FEATURES: REFUSED " .. table.concat(demanded, "; ")
  end
  return table.concat(out, "\n") .. "\n", missing, demanded
end

return M
