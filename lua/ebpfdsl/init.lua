-- SPDX-License-Identifier: MIT
-- require "ebpfdsl": the facade. Submodules load on first use
-- (ebpfdsl.dsl, ebpfdsl.programs, ...), so requiring it stays cheap.
local M = { version = "0.1.0" }

-- Where this file was found (require passes it): the submodules are its
-- neighbours. A searcher that looks there first finds each ebpfdsl.x with
-- one open, where Lua's own opens a file twice (a probe, then the load)
-- and tries every package.path entry for ebpfdsl.core before the C
-- searcher goes through package.cpath. Anything it does not find there
-- is left to the usual searchers.
local _, here = ...
local dir = type(here) == "string" and here:match("^(.*[/\\])init%.lua$")

-- make install puts beside each module its bytecode (x.luac, debug info
-- kept, named after the installed x.lua so that errors and tracebacks
-- point there): parsing the source was most of a tool's start-up. Its
-- init.luac says the tree has them, so a source tree costs no extra open.
-- Bytecode this Lua cannot load (another build or version) is ignored.
local marker = dir and io.open(dir .. "init.luac", "rb")
local compiled = marker ~= nil
if marker then marker:close() end

-- In a source tree, make compiles each module into build/lua/ebpfdsl/x.luac:
-- the chunk name and text of the source it was made from, then its
-- bytecode. It is loaded only while the source still has that name and
-- that text, so an edited module is never run stale (the comparison
-- costs a read; the parse it saves costs ten times more).
local built = not compiled and dir and dir .. "../../build/lua/ebpfdsl/"
if built then
  marker = io.open(built .. "init.luac", "rb")
  if marker then marker:close() else built = nil end
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- The module from its bytecode; else nil and the source's text when it
-- was read (the bytecode is stale, or not this Lua's), or nil alone when
-- the bytecode is missing or made for another path.
local function load_built(file, luac)
  local blob = read(luac)
  if not blob then return nil end
  local ok, name, made_from, pos = pcall(string.unpack, "<s4s4", blob)
  if not ok or name ~= "@" .. file then return nil end
  local text = read(file)
  if made_from ~= text then return nil, text end
  return load(blob:sub(pos), name, "b") or nil, text
end

local function searcher(name)
  local sub = name:match("^ebpfdsl%.([%w_]+)$")
  if not sub then return nil end
  if sub == "core" then
    -- each package.cpath entry once: dlopen is the look
    for template in package.cpath:gmatch("[^;]+") do
      local path = template:gsub("%?", "ebpfdsl/core")
      local f, err, where = package.loadlib(path, "luaopen_ebpfdsl_core")
      if f then return f, path end
      -- not there (dlerror's words depend on the locale: ask the file)
      local there = where ~= "open" or io.open(path, "rb")
      if there then
        if type(there) ~= "boolean" then there:close() end
        error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, err), 2)
      end
    end
    return nil
  end
  local file = dir .. sub .. ".lua"
  local f, err
  if compiled then
    f = loadfile(file .. "c", "b")
    if f then return f, file end
  end
  local text
  if built then
    f, text = load_built(file, built .. sub .. ".luac")
    if f then return f, file end
  end
  if text then
    f, err = load(text, "@" .. file)
  else
    f, err = loadfile(file)
    if not f and err:find("^cannot open") then return nil end
  end
  if f then return f, file end
  error(("error loading module '%s' from file '%s':\n\t%s"):format(name, file, err), 2)
end

if dir and not package.loaded["ebpfdsl._searcher"] then
  table.insert(package.searchers, 2, searcher) -- after package.preload
  package.loaded["ebpfdsl._searcher"] = searcher -- once per Lua state
end

-- require's searchers report a file they could not open as "no file":
-- out of descriptors, ebpfdsl.programs would look absent. The first
-- candidate on the search paths that exists but cannot be opened tells
-- the real cause; nil when every candidate is simply missing.
local function unopenable(name)
  local file = name:gsub("%.", "/")
  for _, path in ipairs { package.path, package.cpath } do
    for template in path:gmatch("[^;]+") do
      local candidate = template:gsub("%?", file)
      local f, msg, errno = io.open(candidate, "rb")
      if f then
        f:close()
      elseif errno ~= 2 then -- anything but ENOENT
        return msg
      end
    end
  end
  return nil
end

return setmetatable(M, {
  __index = function(t, k)
    if type(k) ~= "string" or not k:match("^[%l_]+$") then return nil end
    local name = "ebpfdsl." .. k
    local ok, mod = pcall(require, name)
    if not ok then
      if tostring(mod):find("module '" .. name .. "' not found", 1, true) then
        local why = unopenable(name)
        if why then error(("cannot load %s: %s"):format(name, why), 2) end
        return nil
      end
      error(mod, 2)
    end
    rawset(t, k, mod)
    return mod
  end,
})
