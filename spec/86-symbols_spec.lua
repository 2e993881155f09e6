-- SPDX-License-Identifier: MIT
-- ebpfdsl.symbols against oracles it did not write: nm and readelf on binaries gcc builds
-- here (and on the C library), /proc/kallsyms read by the spec itself, the addresses a child
-- prints of its own functions, the kernel's own name for a loaded program, and bpftrace's
-- kstack and ustack text for the same child's stacks.
local env = require "support.env"
local symbols = require "ebpfdsl.symbols"
local core = require "ebpfdsl.core"

local function sh(cmd) return env.run(cmd) end

local dir
local function tmp()
  dir = dir or env.tmpdir()
  return dir
end

-- A program with static, global, weak functions, built as PIE and not.
local PROGRAM = [[
#include <stdio.h>
static int __attribute__((noinline)) s_one(int x) { return x * 3 + 1; }
static int __attribute__((noinline)) s_two(int x) { return s_one(x) ^ 5; }
int __attribute__((noinline)) g_one(int x) { return s_two(x) + 2; }
int __attribute__((noinline, weak)) w_one(int x) { return g_one(x) - 1; }
int main(int argc, char **argv) { (void)argv; printf("%d\n", w_one(argc)); return 0; }
]]

local built = {}
local function build(kind)
  if not built[kind] then
    local src = tmp() .. "/prog.c"
    local f = assert(io.open(src, "w"))
    f:write(PROGRAM)
    f:close()
    local out = tmp() .. "/prog_" .. kind
    local flags = { pie = "-O1 -fPIE -pie", nopie = "-O1 -fno-pie -no-pie" }
    sh(("gcc %s -o %s %s"):format(flags[kind], out, src))
    built[kind] = out
  end
  return built[kind]
end

local function stack_child()
  if not built.child then
    built.child = tmp() .. "/stack_child"
    sh("gcc -O0 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -Wall -o " .. built.child ..
       " spec/support/stack_child.c 2>/dev/null || gcc -O0 -fno-omit-frame-pointer -Wall -o " .. built.child ..
       " spec/support/stack_child.c")
  end
  return built.child
end

-- readelf's function symbols (FUNC and IFUNC, defined) of .symtab and .dynsym:
-- {{addr =, size =, name =}, ...}, each once
local function readelf(path)
  local list, seen = {}, {}
  for line in sh("readelf -sW " .. path):gmatch("[^\n]+") do
    local addr, size, t, ndx, name = line:match("^%s*%d+:%s+(%x+)%s+(%S+)%s+(%u+)%s+%u+%s+%u+%s+(%S+)%s+(%S+)$")
    if addr and (t == "FUNC" or t == "IFUNC") and ndx ~= "UND" and tonumber(addr, 16) ~= 0 then
      name = name:gsub("@.*", "")
      size = size:match("^0x") and tonumber(size:sub(3), 16) or tonumber(size)
      local key = name .. "@" .. addr
      if not seen[key] then
        seen[key] = true
        list[#list + 1] = { addr = tonumber(addr, 16), size = size, name = name }
      end
    end
  end
  return list
end

-- nm's letters (T t W i) by "name@addr", for functions
local function nm_letters(path, dynamic)
  local letters = {}
  for addr, t, name in sh(("nm %s --defined-only %s"):format(dynamic and "-D" or "", path)):gmatch(
    "(%x+) ([TtWi]) (%S+)") do
    letters[name:gsub("@.*", "") .. "@" .. tonumber(addr, 16)] = t
  end
  return letters
end

local function all_symbols(tab)
  local list = {}
  for i = 1, #tab do list[i] = tab:at(i) end
  return list
end

describe("symbol tables of ELF files", function()
  env.it("hold every function readelf lists, at its addresses and sizes, for PIE and fixed programs",
    { "gcc", "nm", "readelf" }, function()
      for _, kind in ipairs { "pie", "nopie" } do
        local path = build(kind)
        local tab = assert(core.elf_symbols(path))
        local ours = {}
        for _, s in ipairs(all_symbols(tab)) do ours[s.name .. "@" .. s.addr] = s end
        local want, letters = readelf(path), nm_letters(path)
        assert.is_true(#want >= 8, kind .. ": readelf found " .. #want)
        assert.equal(#want, #tab, kind .. ": as many functions as readelf lists")
        for _, w in ipairs(want) do
          local key = w.name .. "@" .. w.addr
          local s = ours[key]
          assert(s, ("%s: %s at 0x%x missing"):format(kind, w.name, w.addr))
          assert.equal(w.size, s.size, kind .. " " .. w.name)
          assert.equal(letters[key], s.type, kind .. " " .. w.name .. ": nm's letter")
        end
        for _, name in ipairs { "s_one", "s_two", "g_one", "w_one", "main" } do
          assert(tab:find(name), kind .. ": " .. name)
        end
        assert.equal("t", ours["s_one@" .. tab:find("s_one")].type)
        assert.equal("W", ours["w_one@" .. tab:find("w_one")].type)
        assert.is_nil(tab:at(#tab + 1))
        assert.equal(("ebpfdsl.Symtab %s (%d symbols)"):format(path, #want), tostring(tab))
        local s_one = tab:find("s_one")
        assert.equal(ours["s_one@" .. s_one].addr, s_one)
        assert.is_nil(tab:find("no_such_function"))
      end
    end)

  env.it("hold the C library's exported functions, and its local ones from the debug file when installed",
    { "readelf" }, function()
      local libc = sh("ldd /bin/sh | awk '/libc\\.so/ {print $3}'"):gsub("%s+$", "")
      local tab = assert(core.elf_symbols(libc))
      local have = {}
      for _, s in ipairs(all_symbols(tab)) do have[s.name .. "@" .. s.addr] = true end
      local want = readelf(libc)
      assert.is_true(#want > 1000)
      for _, w in ipairs(want) do assert(have[w.name .. "@" .. w.addr], w.name .. " missing") end
      local id = sh("readelf -n " .. libc .. " | awk '/Build ID/ {print $3}'"):gsub("%s+$", "")
      local debug = ("/usr/lib/debug/.build-id/%s/%s.debug"):format(id:sub(1, 2), id:sub(3))
      if io.open(debug) then -- libc6-dbg: the static functions too
        local n = 0
        for _, w in ipairs(readelf(debug)) do
          assert(have[w.name .. "@" .. w.addr], w.name .. " (from " .. debug .. ") missing")
          n = n + 1
        end
        assert.is_true(n > #want, n .. " functions in the debug file")
      end
    end)

  env.it("keep each file's loadable segments as readelf shows them", { "gcc", "readelf" }, function()
    for _, kind in ipairs { "pie", "nopie" } do
      local path = build(kind)
      local want = {}
      for off, vaddr, filesz, memsz in sh("readelf -lW " .. path):gmatch(
        "LOAD%s+0x(%x+)%s+0x(%x+)%s+0x%x+%s+0x(%x+)%s+0x(%x+)") do
        want[#want + 1] = { offset = tonumber(off, 16), vaddr = tonumber(vaddr, 16), filesz = tonumber(filesz, 16),
                            memsz = tonumber(memsz, 16) }
      end
      local got = assert(core.elf_symbols(path)):segments()
      assert.equal(#want, #got)
      for i, w in ipairs(want) do
        for k, v in pairs(w) do assert.equal(v, got[i][k], kind .. " segment " .. i .. " " .. k) end
      end
    end
  end)

  env.it("name every byte of each function and nothing past its end", { "gcc", "readelf" }, function()
    local path = build("pie")
    local tab = assert(core.elf_symbols(path))
    for _, w in ipairs(readelf(path)) do
      if w.size > 0 then
        for _, off in ipairs { 0, 1, w.size - 1 } do
          local name, offset = tab:resolve(w.addr + off)
          assert.equal(w.addr + off - offset, tab:find(name), w.name .. "+" .. off)
          assert.equal(off, offset, w.name)
        end
        local name, offset = tab:resolve(w.addr + w.size)
        assert.is_true(name ~= w.name or offset == 0, w.name .. " reaches past its size")
      else -- _init, _fini: bcc names nothing with them, nor do we
        local name = tab:resolve(w.addr + 1)
        assert.are_not.equal(w.name, name)
      end
    end
  end)

  it("tell a missing file and a file that is no ELF apart", function()
    local t, msg, errno = core.elf_symbols("/nonexistent/ebpfdsl")
    assert.is_nil(t)
    assert.equal(2, errno)
    assert.matches("opening /nonexistent/ebpfdsl", msg, 1, true)
    t, msg, errno = core.elf_symbols("/etc/hostname")
    assert.is_nil(t)
    assert.equal(8, errno)
    assert.equal("symbols: /etc/hostname is not an ELF file", msg)
  end)
end)

describe("a process's symbols", function()
  -- Starts the child and reads the addresses it prints of its own functions.
  local function start_child(exe, calls, rest)
    local p = assert(io.popen(("exec %s %d %d"):format(exe, calls or 0, rest or 30)))
    local line = p:read("l")
    local pid = tonumber(line:match("^(%d+)"))
    local addr = {}
    for name, hex in line:gmatch("(%w+)=0x(%x+)") do addr[name] = tonumber(hex, 16) end
    local stopped = false
    return pid, addr, function()
      if stopped then return end
      stopped = true
      os.execute("kill " .. pid .. " 2>/dev/null")
      p:close()
    end
  end

  env.it("names the child's functions at the addresses it prints, PIE or not", { "gcc" }, function()
    for _, flags in ipairs { "-fPIE -pie", "-fno-pie -no-pie" } do
      local exe = tmp() .. "/child" .. (flags:find("no") and "_nopie" or "_pie")
      sh(("gcc -O0 %s -o %s spec/support/stack_child.c"):format(flags, exe))
      local pid, addr, stop = start_child(exe)
      finally(stop)
      local us = assert(symbols.process(pid))
      for _, name in ipairs { "level1", "level2", "level3", "main" } do
        assert.same({ name = name, offset = 0, file = exe }, us:resolve(addr[name]), flags)
        assert.same({ name = name, offset = 3, file = exe }, us:resolve(addr[name] + 3), flags)
        assert.equal(addr[name], us:address(name), flags)
      end
      -- getppid is in the C library, mapped wherever the loader put it
      local r = us:resolve(addr.getppid + 1)
      assert.equal(1, r.offset)
      assert.matches("libc", r.file, 1, true)
      assert.equal(addr.getppid, us:address(r.name, "libc.so.6"))
      assert.is_nil(us:resolve(0x10))
      assert.matches("^ebpfdsl.symbols process " .. pid, tostring(us))
      stop()
    end
  end)

  it("reports a process that is not there", function()
    local us, msg, errno = symbols.process(0x3fffffff)
    assert.is_nil(us)
    assert.equal(2, errno)
    assert.matches("/proc/1073741823/maps", msg, 1, true)
    assert.has_error(function() symbols.process("me") end, "symbols.process: expected a process id, got nil")
  end)
end)

-- /proc/kallsyms as the spec reads it: vmlinux code symbols (modules and BPF programs come
-- and go while other specs run), {addr -> {names}} and {name -> count}.
local function kallsyms()
  local at, count, addrs = {}, {}, {}
  for line in io.lines("/proc/kallsyms") do
    local a, t, name, rest = line:match("^(%x+) (%a) (%S+)(.*)$")
    if a and rest == "" and not t:find("[bBdDrR]") then
      local addr = math.tointeger(tonumber(a, 16))
      if addr ~= 0 and math.ult(0x00ffffffffffffff, addr) then
        if not at[addr] then
          at[addr] = {}
          addrs[#addrs + 1] = addr
        end
        at[addr][#at[addr] + 1] = name
        count[name] = (count[name] or 0) + 1
      end
    end
  end
  table.sort(addrs, math.ult)
  return at, count, addrs
end

describe("kernel symbols", function()
  env.it("name sampled addresses of /proc/kallsyms as the file does", { "root" }, function()
    local ks = assert(symbols.kernel())
    assert.equal(ks, symbols.kernel(), "read once")
    local at, count, addrs = kallsyms()
    assert.is_true(#addrs > 10000, #addrs .. " addresses")
    math.randomseed(86)
    for _ = 1, 3000 do
      local i = math.random(#addrs - 1)
      local a, gap = addrs[i], addrs[i + 1] - addrs[i]
      for _, off in ipairs { 0, gap - 1 } do
        local r = assert(ks:resolve(a + off))
        assert.equal(off, r.offset)
        assert.is_nil(r.module)
        local ok = false
        for _, n in ipairs(at[a]) do ok = ok or n == r.name end
        assert(ok, ("%s at %x is not one of %s"):format(r.name, a, table.concat(at[a], " ")))
      end
      for _, n in ipairs(at[a]) do
        if count[n] == 1 then assert.equal(a, ks:address(n), n) end
      end
    end
    assert.is_nil(ks:address("no_such_kernel_function_ebpfdsl"))
    assert.matches("^ebpfdsl.symbols kernel %(%d+ symbols from /proc/kallsyms%)$", tostring(ks))
  end)

  env.it("say why when kptr_restrict shows an unprivileged user zeros", { "root" }, function()
    local zeros = sh("setpriv --reuid=65534 --regid=65534 --clear-groups head -1 /proc/kallsyms"):match("^0+ ") ~= nil
    local out = sh("setpriv --reuid=65534 --regid=65534 --clear-groups " ..
      "lua5.4 -e 'package.cpath = \"build/?.so;\" .. package.cpath " ..
      "print(require(\"ebpfdsl.core\").kallsyms())' 2>&1")
    if zeros then
      assert.matches("^nil\t/proc/kallsyms shows every address as 0: kernel.kptr_restrict is %d", out)
      assert.matches("\t1\n$", out) -- EPERM
    else
      assert.matches("^ebpfdsl.Symtab /proc/kallsyms", out)
    end
  end)

  env.it("names a BPF program's own frame as the kernel names the program", { "bpf" }, function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local st <close> = assert(e.maps.stack_trace { max_entries = 4 })
    local prog <close> = assert(e.programs.load { type = "raw_tracepoint", name = "symspec_frame", insns = {
      d.ld_map_fd("r2", st), d.mov("r3", 0), d.call("get_stackid"), d.exit(),
    } })
    local id = assert(prog:test_run { ctx = string.rep("\0", 8), ["repeat"] = 0, ctx_size_out = 0 }).retval
    local ks = assert(symbols.kernel())
    local frames = symbols.stack(st:lookup(id), ks)
    local want = ("bpf_prog_%s_symspec_frame"):format(prog:info().tag)
    -- the program was loaded after kallsyms was read: a fresh table has it
    local fresh = assert(core.kallsyms())
    local names = {}
    for i, f in ipairs(frames) do
      local name, _, module = fresh:resolve(f.addr)
      names[i] = name
      if name == want then assert.equal("bpf", module) end
    end
    local text = table.concat(names, " ")
    assert.matches(want, text, 1, true)
    assert.matches("__sys_bpf", text, 1, true)
  end)
end)

describe("stacks", function()
  it("print as bpftrace prints kstack and ustack", function()
    local frames = { { addr = 0x1000, name = "level3", offset = 7, file = "/t/a" },
                     { addr = 0x2000, name = "main", offset = 64, file = "/t/a" }, { addr = 0x7f00 } }
    assert.equal("\n    level3+7\n    main+64\n    0x7f00\n", symbols.format_stack(frames))
    assert.equal("\n        level3+7\n        main+64\n        0x7f00\n", symbols.format_stack(frames, { indent = 8 }))
    assert.equal("\n\t1000 level3+7 (/t/a)\n\t2000 main+64 (/t/a)\n\t7f00 0x7f00 ([unknown])\n",
      symbols.format_stack(frames, { perf = true }))
    assert.equal("\n\tffffffff81000130 entry+118\n",
      symbols.format_stack({ { addr = -2130706128, name = "entry", offset = 118 } }, { perf = true }))
    assert.equal("\n", symbols.format_stack {})
    local s = symbols.stack(string.pack("=i8i8i8i8", 0x1000, 0x2000, 0, 0x3000))
    assert.same({ { addr = 0x1000 }, { addr = 0x2000 } }, s)
    assert.has_error(function() symbols.stack(5) end,
      "symbols.stack: expected a list of addresses or a stack_trace value, got number")
  end)

  -- A tracepoint program that records the child's user and kernel stacks at each getppid.
  -- One stack_trace map each: a map keeps one stack per hash bucket, and a user and a
  -- kernel stack that fell in one bucket would leave get_stackid failing with EEXIST.
  local function stack_program(e, pid, st, ustacks, kstacks)
    local d = e.dsl
    local function record(flags, ids, done)
      return {
        d.mov("r1", "r6"), d.ld_map_fd("r2", st[flags]), d.mov("r3", flags), d.call("get_stackid"),
        d.jslt("r0", 0, done),
        d.stx("w", "fp", -4, "r0"), d.st("dw", "fp", -16, 1),
        d.ld_map_fd("r1", ids), d.mov("r2", "fp"), d.add("r2", -4), d.mov("r3", "fp"), d.add("r3", -16),
        d.mov("r4", 0), d.call("map_update_elem"),
        d.label(done),
      }
    end
    return assert(e.programs.load { type = "tracepoint", name = "symspec_stacks", insns = {
      d.mov("r6", "r1"),
      d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.jne("r0", pid, "out"),
      record(256, ustacks, "user_done"), -- BPF_F_USER_STACK
      record(0, kstacks, "kernel_done"),
      d.label("out"), d.mov("r0", 0), d.exit(),
    } })
  end

  -- bpftrace's map printout -> {name = {key text, ...}}
  local function bpftrace_keys(out)
    local keys = {}
    for name, key in out:gmatch("@(%w+)%[(.-)%]: %d+\n") do
      keys[name] = keys[name] or {}
      table.insert(keys[name], key)
    end
    return keys
  end

  env.it("of a child of ours, read from a stack_trace map, name its functions in order and match bpftrace",
    { "bpf", "tracefs", "gcc", "bpftrace" }, function()
      local e = require "ebpfdsl"
      local exe = stack_child()
      local p = assert(io.popen(("exec %s %d %d"):format(exe, 150, 10)))
      local pid = tonumber(p:read("l"):match("^(%d+)"))
      finally(function()
        os.execute("kill " .. pid .. " 2>/dev/null")
        p:close()
      end)
      local ust <close> = assert(e.maps.stack_trace { max_entries = 256 })
      local kst <close> = assert(e.maps.stack_trace { max_entries = 256 })
      local st = { [256] = ust, [0] = kst }
      local ustacks <close> = assert(e.maps.hash { key = "u32", value = "u64", max_entries = 64 })
      local kstacks <close> = assert(e.maps.hash { key = "u32", value = "u64", max_entries = 64 })
      local prog <close> = stack_program(e, pid, st, ustacks, kstacks)
      local link = assert(prog:attach_tracepoint("syscalls", "sys_enter_getppid"))
      local out = sh(("bpftrace -e 'tracepoint:syscalls:sys_enter_getppid /pid == %d/ " ..
        "{ @u[ustack] = count(); @k[kstack] = count(); } interval:s:1 { exit(); }' 2>/dev/null"):format(pid))
      link:detach()
      local theirs = bpftrace_keys(out)
      assert(theirs.u and theirs.k, "bpftrace printed no stacks:\n" .. out)
      local us = assert(symbols.process(pid))
      local ks = assert(symbols.kernel())
      local function ours(ids, stacks, symbolizer)
        local set = {}
        for id in pairs(ids) do set[symbols.format_stack(symbols.stack(stacks:lookup(id), symbolizer))] = true end
        return set
      end
      local mine = { u = ours(ustacks, ust, us), k = ours(kstacks, kst, ks) }
      -- ours saw every call bpftrace saw (it was attached longer)
      for _, which in ipairs { "u", "k" } do
        local list = {}
        for text in pairs(mine[which]) do list[#list + 1] = text end
        for _, key in ipairs(theirs[which]) do
          assert(mine[which][key], ("bpftrace's %sstack\n%s\nis not among ours:\n%s"):format(which, key,
            table.concat(list, "--\n")))
        end
      end
      -- and the user stack names the chain the child called, innermost first
      local text = next(mine.u)
      assert.matches("^\n    level3%+%d+\n    level2%+%d+\n    level1%+%d+\n    main%+%d+\n", text)
    end)
end)

describe("docs/symbols.md", function()
  env.it("runs its examples", { "root" }, function()
    require("support.doc_blocks").run("docs/symbols.md")
  end)
end)

describe("syscall names", function()
  env.it("agree with the C library's SYS_ numbers for every syscall", { "gcc" }, function()
    local all = symbols.syscalls()
    local lines = { "#include <stdio.h>", "#include <sys/syscall.h>", "int main(void) {" }
    local n = 0
    for name in pairs(all) do
      n = n + 1
      lines[#lines + 1] = ("#ifdef SYS_%s\n printf(\"%s %%ld\\n\", (long)SYS_%s);\n#endif"):format(name, name, name)
    end
    lines[#lines + 1] = "return 0; }"
    local src = tmp() .. "/sys.c"
    local f = assert(io.open(src, "w"))
    f:write(table.concat(lines, "\n"))
    f:close()
    sh(("gcc -o %s/sys %s"):format(tmp(), src))
    local seen = 0
    for name, nr in sh(tmp() .. "/sys"):gmatch("(%S+) (%d+)") do
      assert.equal(tonumber(nr), all[name], name)
      assert.equal(name, symbols.syscall_name(tonumber(nr)))
      assert.equal(tonumber(nr), symbols.syscall_nr(name))
      assert.equal(tonumber(nr), symbols.syscall_nr("sys_" .. name))
      seen = seen + 1
    end
    assert.is_true(n > 300, n .. " syscalls")
    assert.equal(n, seen, "the C library knows every one of ours")
    assert.is_nil(symbols.syscall_name(-1))
    assert.is_nil(symbols.syscall_nr("no_such_syscall"))
    assert.has_error(function() symbols.syscall_nr(110) end, "symbols.syscall_nr: expected a syscall name, got number")
  end)

  -- audit's table is its own list, kept apart from the kernel's headers; auditd is not
  -- among the packages (it brings a daemon), so this runs where it is installed.
  if os.execute("command -v ausyscall >/dev/null 2>&1") then
    it("agree with ausyscall's table but for names audit spells its own way", function()
      local same, odd = 0, {}
      for nr, name in sh("ausyscall --dump"):gmatch("\n(%d+)\t(%S+)") do
        local ours = symbols.syscall_name(tonumber(nr))
        if ours == name then
          same = same + 1
        elseif ours ~= name .. "64" then -- audit says pread, the kernel pread64
          odd[#odd + 1] = ("%s: %s, ours %s"):format(nr, name, tostring(ours))
        end
      end
      assert.is_true(same > 300)
      assert.is_true(#odd <= 2, table.concat(odd, "; ")) -- syscalls the kernel dropped (_sysctl)
    end)
  end
end)

teardown(function()
  if dir then os.execute("rm -rf " .. dir) end
end)
