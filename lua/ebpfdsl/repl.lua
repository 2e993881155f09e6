-- SPDX-License-Identifier: MIT
-- An interactive Lua 5.4 for exploring ebpfdsl (`make repl`): results print as
-- Lua literals, top-level locals live on from line to line, prompts as lua5.4's.
local M = {}

local type, tostring, pairs, ipairs, select = type, tostring, pairs, ipairs, select
local getmetatable, math_type, concat, sort = getmetatable, math.type, table.concat, table.sort

local ESCAPES = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESCAPES[c] or ("\\%d"):format(c:byte()) end) .. '"'
end

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true "
  .. "until while"):gmatch("%a+") do KEYWORDS[w] = true end

local function is_name(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[k]
end

-- keys in a stable order: numbers, then strings, then the rest by tostring
local RANK = { number = 1, string = 2, boolean = 3 }
local function key_order(a, b)
  local ra, rb = RANK[type(a)] or 4, RANK[type(b)] or 4
  if ra ~= rb then return ra < rb end
  if ra <= 2 then return a < b end
  return tostring(a) < tostring(b)
end

local show

local function show_table(t, indent, seen)
  if seen[t] then return "<cycle: " .. tostring(t) .. ">" end
  seen[t] = true
  local n = #t
  local items = {}
  for i = 1, n do items[#items + 1] = show(t[i], indent .. "  ", seen) end
  local keys = {}
  for k in pairs(t) do
    if not (math_type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  sort(keys, key_order)
  for _, k in ipairs(keys) do
    local key = is_name(k) and k or ("[" .. show(k, indent .. "  ", seen) .. "]")
    items[#items + 1] = key .. " = " .. show(t[k], indent .. "  ", seen)
  end
  seen[t] = nil
  if #items == 0 then return "{}" end
  local one = "{ " .. concat(items, ", ") .. " }"
  if #one + #indent <= 100 and not one:find("\n", 1, true) then return one end
  return "{\n" .. indent .. "  " .. concat(items, ",\n" .. indent .. "  ") .. ",\n" .. indent .. "}"
end

-- show(v) -> v as Lua would read it back where it can: strings quoted,
-- tables as constructors (long ones one field a line); a table or
-- userdata with __tostring, and functions, as tostring gives them.
function show(v, indent, seen)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then
    if math_type(v) == "float" and v == math.floor(v) and v > -1e15 and v < 1e15 then return ("%.1f"):format(v) end
    return tostring(v)
  end
  if t == "table" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__tostring then return tostring(v) end
    return show_table(v, indent or "", seen or {})
  end
  return tostring(v)
end
M.show = function(v) return show(v) end

local function print_to(file, n, ...)
  local out = {}
  for i = 1, n do out[i] = show((select(i, ...))) end
  file:write(concat(out, "\t"), "\n")
  file:flush()
end

-- print(...) with each value shown, tab-separated, as the REPL prints results.
function M.print(...) print_to(io.stdout, select("#", ...), ...) end

-- A chunk starting with a local declaration, as a global one: each line
-- typed is a chunk of its own, whose locals would die with it (and whose
-- <close> variables would close at once). "local a <close>, b = f()"
-- becomes "a, b = f()"; "local function f" becomes "function f".
function M.globalize(code)
  local lead, rest = code:match("^(%s*)local%s+(.*)$")
  if not lead then return code end
  if rest:match("^function[%s(]") then return lead .. rest end
  local names, s = {}, rest
  repeat
    local name, tail = s:match("^%s*([%a_][%w_]*)(.*)$")
    if not name or KEYWORDS[name] then return code end
    names[#names + 1] = name
    tail = tail:gsub("^%s*<%s*%a+%s*>", "", 1)
    local comma, after = tail:match("^%s*(,)(.*)$")
    s = comma and after or tail
  until not comma
  if s:match("^%s*=") then return lead .. concat(names, ", ") .. " " .. s:match("^%s*(.*)$") end
  return lead .. concat(names, ", ") .. " = nil" .. s
end

local function incomplete(err) return err:sub(-5) == "<eof>" end

local function report(err)
  io.stderr:write("lua5.4: ", tostring(err), "\n")
  io.stderr:flush()
end

-- the error with its traceback down to the typed chunk, not the REPL's own frames
local function handler(err)
  local tb = debug.traceback(tostring(err), 2)
  return (tb:gsub("\n\t%[C%]: in function 'xpcall'.*$", ""))
end

-- run{input=, output=} reads statements and expressions until the end of
-- input, with lua5.4's prompts ("> ", then ">> " while a statement is
-- incomplete); an expression's results print as M.show gives them.
function M.run(opts)
  opts = opts or {}
  local input, output = opts.input or io.stdin, opts.output or io.stdout
  local env = opts.env or _G
  local function prompt(p)
    output:write(p)
    output:flush()
  end
  if opts.banner ~= false then
    output:write(("ebpfdsl %s on %s: results print as Lua values; Ctrl-D quits\n")
      :format(require("ebpfdsl").version, _VERSION))
  end
  while true do
    prompt("> ")
    local line = input:read("l")
    if not line then break end
    -- an expression first, as lua5.4 tries it
    local chunk = load("return " .. line, "=stdin", "t", env)
    local code = line
    if not chunk then
      local err
      chunk, err = load(M.globalize(code), "=stdin", "t", env)
      while not chunk and incomplete(err) do
        prompt(">> ")
        local more = input:read("l")
        if not more then break end
        code = code .. "\n" .. more
        chunk, err = load(M.globalize(code), "=stdin", "t", env)
      end
      if not chunk then report(err) end
    end
    if chunk then
      local r = table.pack(xpcall(chunk, handler))
      if not r[1] then
        report(r[2])
      elseif r.n > 1 then
        print_to(output, r.n - 1, table.unpack(r, 2, r.n))
      end
    end
  end
  output:write("\n")
  output:flush()
end

return M
