-- SPDX-License-Identifier: MIT
-- Names for addresses: kernel symbols from /proc/kallsyms, a process's from its mappings and
-- the ELF symbols of each mapped file; stacks in bpftrace's text; syscall names by number.
--
--   local ks = assert(symbols.kernel())          -- read once per process, when first asked
--   ks:resolve(addr)   --> {name = "do_sys_openat2", offset = 5, module = nil}
--   local us = assert(symbols.process(pid))
--   print(symbols.format_stack(symbols.stack(stack_bytes, us)))
--   symbols.syscall_name(110) --> "getppid" (x86_64)
-- The ELF and kallsyms reading is the C core's (ebpfdsl.Symtab); this module maps addresses.
local core = require "ebpfdsl.core"

local M = {}

local type, tostring, tonumber, ipairs, next, setmetatable = type, tostring, tonumber, ipairs, next, setmetatable
local tointeger, ult = math.tointeger, math.ult
local fail = require("ebpfdsl._errors").outside_modules

------------------------------------------------------------------------------
-- The kernel
------------------------------------------------------------------------------

local Kernel = { __name = "ebpfdsl.symbols.Kernel" }
Kernel.__index = Kernel

local function check_addr(fname, addr)
  return tointeger(addr) or fail(("%s: expected an integer address, got %s"):format(fname, tostring(addr)))
end

-- ks:resolve(addr) -> {name =, offset =, module = (nil for vmlinux)} | nil: the symbol before
-- addr (kallsyms gives no sizes; data symbols are left out).
function Kernel:resolve(addr)
  local name, offset, module = self.tab:resolve(check_addr("ks:resolve", addr))
  if not name then return nil end
  return { name = name, offset = offset, module = module }
end

-- ks:address(name) -> the address of a kernel code symbol | nil
function Kernel:address(name)
  if type(name) ~= "string" then fail("ks:address: expected a symbol name, got " .. type(name)) end
  return (self.tab:find(name))
end

function Kernel:__len() return #self.tab end
function Kernel:__tostring() return ("ebpfdsl.symbols kernel (%d symbols from /proc/kallsyms)"):format(#self.tab) end

local kernel -- read once: 120,000 symbols take a tenth of a second

-- kernel() -> the kernel's symbolizer | nil, message, errno (no /proc/kallsyms, or every
-- address shown as 0 because of kernel.kptr_restrict). Read on the first call only.
function M.kernel()
  if not kernel then
    local tab, msg, errno = core.kallsyms()
    if not tab then return nil, msg, errno end
    kernel = setmetatable({ tab = tab }, Kernel)
  end
  return kernel
end

------------------------------------------------------------------------------
-- Processes
------------------------------------------------------------------------------

-- Symbol tables of files, shared by every process symbolizer while one holds it: a
-- library mapped by many processes is read once. Keyed by device, inode and path.
local files = setmetatable({}, { __mode = "v" })

-- /proc/PID/maps: "start-end perms offset dev inode path", sorted by start.
local function read_maps(pid)
  local f, msg, errno = io.open(("/proc/%d/maps"):format(pid), "r")
  if not f then return nil, msg, errno end
  local maps = {}
  for line in f:lines() do
    local s, e, perms, off, dev, inode, path =
      line:match("^(%x+)%-(%x+)%s+(%S+)%s+(%x+)%s+(%S+)%s+(%d+)%s*(.-)%s*$")
    if s then
      maps[#maps + 1] = { start = tointeger(tonumber(s, 16)), stop = tointeger(tonumber(e, 16)), perms = perms,
                          offset = tointeger(tonumber(off, 16)), dev = dev, inode = tointeger(tonumber(inode)),
                          path = path }
    end
  end
  f:close()
  return maps
end

-- A file mapping (not anonymous, not [stack], [vdso] and the like).
local function is_file(m)
  return m.inode ~= 0 and m.path:sub(1, 1) == "/"
end

local Process = { __name = "ebpfdsl.symbols.Process" }
Process.__index = Process

-- The symbol table of a mapping's file | nil, message. Tried in order: the path inside the
-- process's root (containers), the path, the kernel's link to the very file mapped
-- (which survives deletion).
function Process:_symtab(m)
  local key = m.dev .. ":" .. m.inode .. ":" .. m.path
  local tab = self.tabs[key] or files[key]
  if tab then
    self.tabs[key] = tab
    return tab
  end
  local path = m.path:gsub(" %(deleted%)$", "")
  local tries = { ("/proc/%d/root%s"):format(self.pid, path), path,
                  ("/proc/%d/map_files/%x-%x"):format(self.pid, m.start, m.stop) }
  local msg
  for _, p in ipairs(tries) do
    local t, why = core.elf_symbols(p)
    if t then
      files[key], self.tabs[key] = t, t
      return t
    end
    msg = msg or why
  end
  self.tabs[key] = false -- not an ELF file, or gone: not tried again
  return nil, msg
end

-- The mapping holding addr, by binary search.
local function mapping_of(maps, addr)
  local lo, hi = 1, #maps
  while lo <= hi do
    local mid = (lo + hi) // 2
    local m = maps[mid]
    if ult(addr, m.start) then
      hi = mid - 1
    elseif not ult(addr, m.stop) then
      lo = mid + 1
    else
      return m
    end
  end
  return nil
end

-- us:resolve(addr) -> {name =, offset =, file =} | nil. The address is taken through its
-- mapping to a file offset, and through the file's loadable segments to the address its
-- symbols use, so PIE executables, shared libraries and fixed-address programs all work.
function Process:resolve(addr)
  addr = check_addr("us:resolve", addr)
  local m = mapping_of(self.maps, addr)
  if not m or not is_file(m) then return nil end
  local tab = self:_symtab(m)
  if not tab then return nil end
  local vaddr = tab:file_addr(addr - m.start + m.offset)
  if not vaddr then return nil end
  local name, offset = tab:resolve(vaddr)
  if not name then return nil end
  return { name = name, offset = offset, file = m.path }
end

-- us:address(name[, file]) -> where the function `name` is in this process | nil: in the
-- file whose path ends with `file` when given, else the first mapped file that has it
-- (the executable comes first).
function Process:address(name, file)
  if type(name) ~= "string" then fail("us:address: expected a function name, got " .. type(name)) end
  if file ~= nil and type(file) ~= "string" then fail("us:address: file must be a string, got " .. type(file)) end
  local seen = {}
  for _, m in ipairs(self.maps) do
    if is_file(m) and not seen[m.path] and (not file or m.path:sub(-#file) == file) then
      seen[m.path] = true
      local tab = self:_symtab(m)
      local vaddr = tab and tab:find(name)
      if vaddr then
        for _, s in ipairs(tab:segments()) do
          if vaddr >= s.vaddr and vaddr - s.vaddr < s.filesz then
            local off = vaddr - s.vaddr + s.offset
            for _, mm in ipairs(self.maps) do
              if mm.path == m.path and off >= mm.offset and off - mm.offset < mm.stop - mm.start then
                return mm.start + off - mm.offset
              end
            end
          end
        end
      end
    end
  end
  return nil
end

-- us:refresh() -> us, with the mappings read again (after dlopen) | nil, message, errno
function Process:refresh()
  local maps, msg, errno = read_maps(self.pid)
  if not maps then return nil, msg, errno end
  self.maps = maps
  return self
end

function Process:__tostring()
  local n = 0
  for _, m in ipairs(self.maps) do if is_file(m) then n = n + 1 end end
  return ("ebpfdsl.symbols process %d (%d file mappings)"):format(self.pid, n)
end

-- process(pid) -> a symbolizer for the process | nil, message, errno (it is gone, or its
-- maps are not ours to read). Mappings are read now; each file's symbols when first needed.
function M.process(pid)
  pid = tointeger(pid)
  if not pid or pid <= 0 then fail("symbols.process: expected a process id, got " .. tostring(pid)) end
  local maps, msg, errno = read_maps(pid)
  if not maps then return nil, msg, errno end
  return setmetatable({ pid = pid, maps = maps, tabs = {} }, Process)
end

------------------------------------------------------------------------------
-- Stacks
------------------------------------------------------------------------------

-- stack(addrs, symbolizer) -> {{addr =, name =, offset =, module = | file =}, ...}: addrs is
-- a list of integers or a stack_trace map's value (8-byte addresses), cut at the first 0;
-- frames the symbolizer (kernel() or process(pid); nil: none) cannot name keep addr only.
function M.stack(addrs, symbolizer)
  local list = addrs
  if type(addrs) == "string" then
    list = {}
    for i = 1, #addrs - 7, 8 do list[#list + 1] = string.unpack("=i8", addrs, i) end
  elseif type(addrs) ~= "table" then
    fail("symbols.stack: expected a list of addresses or a stack_trace value, got " .. type(addrs))
  end
  if symbolizer ~= nil and (type(symbolizer) ~= "table" or type(symbolizer.resolve) ~= "function") then
    fail("symbols.stack: the symbolizer must be symbols.kernel() or symbols.process(pid)")
  end
  local frames = {}
  for _, a in ipairs(list) do
    a = check_addr("symbols.stack", a)
    if a == 0 then break end
    local f = symbolizer and symbolizer:resolve(a) or {}
    f.addr = a
    frames[#frames + 1] = f
  end
  return frames
end

-- m:stack(id[, who]) on a stack_trace map (the Map method hands over here)
--   -> the frames of the stack the kernel stored at id, innermost first
--   | nil when the map holds no stack at id | nil, message, errno when
--   who's symbols cannot be read. who: nil for a kernel stack, a pid for a
--   user stack of that process (read while it runs), or a symbolizer.
local STACK_BUILD_ID = 0x20 -- BPF_F_STACK_BUILD_ID: build ids, not addresses
local blame = require("ebpfdsl._errors").blamer(function(info)
  return info.what == "C" or info.source:find("ebpfdsl[/\\][%w_]+%.lua$") ~= nil
end)
function M.map_stack(m, id, who)
  if m:type() ~= "stack_trace" then
    blame(("stack: %s maps hold no stacks (a stack_trace map does)"):format(m:type()))
  end
  local info, msg, errno = m:info()
  if not info then return nil, msg, errno end
  if info.flags & STACK_BUILD_ID ~= 0 then
    blame(("stack: map '%s' holds build ids and offsets (stack_build_id), not addresses"):format(m:name()))
  end
  id = tointeger(id)
  if not id or id < 0 or id > 0xffffffff then
    blame("stack: a stack id is what get_stackid returned, 0..4294967295, got " .. tostring(id))
  end
  if who ~= nil and type(who) ~= "number" and type(who) ~= "table" then
    blame("stack: who must be a pid, a symbolizer, or nil for the kernel, got " .. type(who))
  end
  local bytes
  bytes, msg, errno = m:lookup(id)
  if bytes == nil then return nil, msg, errno end
  if type(who) ~= "table" then
    who, msg, errno = (who == nil and M.kernel or M.process)(who)
    if not who then return nil, msg, errno end
  end
  return M.stack(bytes, who)
end

local function frame_text(f)
  if f.name then return ("%s+%d"):format(f.name, f.offset or 0) end
  return ("0x%x"):format(f.addr)
end

-- format_stack(frames[, opts]) -> bpftrace's text for kstack/ustack: a newline, then one
-- "name+offset" line per frame (0x... when unnamed) indented by opts.indent spaces: 4 as
-- in a map key (the default), 8 as in printf("%s") or print(). opts.perf = true gives
-- bpftrace's perf mode instead: "\t<hex address> name+offset" with " (file)" for user
-- frames (opts.user, else when a frame has a file), " ([unknown])" when unnamed.
function M.format_stack(frames, opts)
  if type(frames) ~= "table" then fail("symbols.format_stack: expected a list of frames, got " .. type(frames)) end
  opts = opts or {}
  local indent = opts.indent or 4
  if tointeger(indent) == nil or indent < 0 then
    fail("symbols.format_stack: indent must be a non-negative integer, got " .. tostring(indent))
  end
  local user = opts.user
  if user == nil then
    for _, f in ipairs(frames) do if f.file then user = true end end
  end
  local pad = (" "):rep(indent)
  local out = { "\n" }
  for i, f in ipairs(frames) do
    if type(f) ~= "table" or tointeger(f.addr) == nil then
      fail(("symbols.format_stack: frame %d has no integer addr"):format(i))
    end
    if opts.perf then
      local module = ""
      if user then module = " (" .. (f.name and f.file or "[unknown]") .. ")" end
      out[#out + 1] = ("\t%x %s%s\n"):format(f.addr, frame_text(f), module)
    else
      out[#out + 1] = pad .. frame_text(f) .. "\n"
    end
  end
  return table.concat(out)
end

------------------------------------------------------------------------------
-- Syscalls
------------------------------------------------------------------------------

-- The table is made by `make`; luarocks' builtin build cannot list <asm/unistd.h>'s macros.
local function check_table(fname)
  if next(core.syscalls()) == nil then
    fail(fname .. ": this build of ebpfdsl has no syscall table (it is listed from <asm/unistd.h> by " ..
      "`make`, which luarocks' builtin build does not run: run make first)")
  end
end

-- syscall_name(nr) -> "getppid" | nil, for the architecture ebpfdsl was built for (from the
-- build host's <asm/unistd.h>).
function M.syscall_name(nr)
  nr = tointeger(nr) or fail("symbols.syscall_name: expected an integer, got " .. tostring(nr))
  local name = core.syscall_name(nr)
  if name == nil then check_table("symbols.syscall_name") end
  return name
end

-- syscall_nr(name) -> the number | nil; "sys_getppid" is "getppid".
function M.syscall_nr(name)
  if type(name) ~= "string" then fail("symbols.syscall_nr: expected a syscall name, got " .. type(name)) end
  local nr = core.syscall_nr(name)
  if nr == nil then check_table("symbols.syscall_nr") end
  return nr
end

-- syscalls() -> {name = number, ...}: every syscall of the table.
function M.syscalls()
  check_table("symbols.syscalls")
  return core.syscalls()
end

return M
