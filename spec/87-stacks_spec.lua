-- SPDX-License-Identifier: MIT
-- Stacks as frames, not bytes: m:stack(id[, pid]) on stack_trace maps that
-- a tracepoint program filled with get_stackid for a child of ours, and
-- get_stack buffers sent through a ring buffer, both named as the child's
-- source calls its functions (level3 <- level2 <- level1 <- main) and as
-- /proc/kallsyms names the kernel's syscall path.
local env = require "support.env"
local symbols = require "ebpfdsl.symbols"

local NEEDS = { "bpf", "map:stack_trace", "attach:tracepoint", "gcc" }

local dir
local function stack_child()
  dir = dir or env.tmpdir()
  local exe = dir .. "/stack_child"
  if not io.open(exe) then
    env.run(("gcc -O0 -fno-omit-frame-pointer -Wall -o %s spec/support/stack_child.c"):format(exe))
  end
  return exe
end

-- The child, calling getppid every 10 ms from level3 for a while; its pid
-- and a function that ends it.
local function start_child()
  local p = assert(io.popen(("exec %s %d %d"):format(stack_child(), 300, 10)))
  local pid = tonumber(p:read("l"):match("^(%d+)"))
  return pid, function()
    os.execute("kill " .. pid .. " 2>/dev/null")
    p:close()
  end
end

-- Names of the frames, innermost first.
local function names(frames)
  local t = {}
  for i, f in ipairs(frames) do t[i] = f.name or ("0x%x"):format(f.addr) end
  return t
end

local function waits_for(cond)
  for _ = 1, 300 do
    if cond() then return true end
    env.run("sleep 0.01")
  end
  return false
end

describe("stack_trace maps", function()
  env.it("give the child's user stack and the kernel's stack as named frames", NEEDS, function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local pid, stop = start_child()
    finally(stop)
    -- one stack_trace map each: a user and a kernel stack in one bucket would collide
    local ust <close> = assert(e.maps.stack_trace { max_entries = 128 })
    local kst <close> = assert(e.maps.stack_trace { max_entries = 128 })
    -- where the ids go: one single-entry array each, written through its value's address
    local uid <close> = assert(e.maps.array { value = "i64", max_entries = 1 })
    local kid <close> = assert(e.maps.array { value = "i64", max_entries = 1 })
    local function record(map, flags, id, done)
      return {
        d.mov("r1", "r6"), d.ld_map_fd("r2", map), d.mov("r3", flags), d.call("get_stackid"),
        d.jslt("r0", 0, done),
        d.ld_map_value("r1", id, 0), d.stx("dw", "r1", 0, "r0"),
        d.label(done),
      }
    end
    local prog <close> = assert(e.programs.load { type = "tracepoint", name = "stacks_87", insns = {
      d.mov("r6", "r1"),
      d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.jne("r0", pid, "out"),
      record(ust, 256, uid, "user_done"), -- BPF_F_USER_STACK
      record(kst, 0, kid, "kernel_done"),
      d.label("out"), d.mov("r0", 0), d.exit(),
    } })
    uid:update(0, -1)
    kid:update(0, -1)
    local link <close> = assert(prog:attach_tracepoint("syscalls", "sys_enter_getppid"))
    assert.equal("tracepoint", link:kind())
    assert(waits_for(function() return uid:lookup(0) >= 0 and kid:lookup(0) >= 0 end), "no stack recorded")
    local user = assert(ust:stack(uid:lookup(0), pid))
    assert.same({ "level3", "level2", "level1", "main" }, { table.unpack(names(user), 1, 4) })
    assert.equal(stack_child(), user[1].file)
    -- the same through a symbolizer given
    local us = assert(symbols.process(pid))
    assert.same(user, ust:stack(uid:lookup(0), us))
    local kernel = assert(kst:stack(kid:lookup(0)))
    local ks = assert(symbols.kernel())
    local kallsyms = {}
    for _, f in ipairs(kernel) do
      assert.is_string(f.name, ("0x%x"):format(f.addr))
      assert.equal(f.addr - f.offset, ks:address(f.name)) -- where kallsyms puts it
      kallsyms[f.name] = true
    end
    assert.is_true(kallsyms.do_syscall_64, table.concat(names(kernel), " "))
    assert.matches("^\n    level3%+%d+\n    level2%+%d+\n    level1%+%d+\n    main%+%d+\n", symbols.format_stack(user))
  end)

  env.it("say what they cannot give", { "bpf" }, function()
    local e = require "ebpfdsl"
    local st <close> = assert(e.maps.stack_trace { max_entries = 8 })
    assert.is_nil(st:stack(3)) -- empty
    local none, msg, errno = st:stack(3, 0x3fffffff)
    assert.is_nil(none)
    assert.is_nil(msg) -- nothing at 3: the process is not even asked
    assert.is_nil(errno)
    local h <close> = assert(e.maps.hash { key = "u32", value = "u32", max_entries = 1 })
    assert.has_error(function() h:stack(1) end, "stack: hash maps hold no stacks (a stack_trace map does)")
    assert.has_error(function() st:stack(-1) end)
    assert.has_error(function() st:stack(1, "me") end)
    local b <close> = assert(e.maps.stack_trace { max_entries = 8, flags = { "stack_build_id" },
                                                   value_size = 32 * 127 })
    assert.has_error(function() b:stack(1) end,
      "stack: map '' holds build ids and offsets (stack_build_id), not addresses")
  end)
end)

describe("get_stack buffers", function()
  env.it("sent through a ring buffer, name the child's functions", NEEDS, function()
    local e = require "ebpfdsl"
    local d = e.dsl
    local pid, stop = start_child()
    finally(stop)
    local ring <close> = assert(e.maps.ringbuf(64 * 1024))
    local DEPTH = 32
    local prog <close> = assert(e.programs.load { type = "tracepoint", name = "get_stack_87", insns = {
      d.mov("r6", "r1"),
      d.call("get_current_pid_tgid"), d.rsh("r0", 32), d.jne("r0", pid, "out"),
      d.ringbuf_reserve("r7", ring, 8 + DEPTH * 8),
      d.jeq("r7", 0, "out"),
      d.mov("r1", "r6"), d.mov("r2", "r7"), d.add("r2", 8), d.mov("r3", DEPTH * 8), d.mov("r4", 256),
      d.call("get_stack"),            -- r0: bytes written, or -errno
      d.stx("dw", "r7", 0, "r0"),
      d.ringbuf_submit("r7"),
      d.label("out"), d.mov("r0", 0), d.exit(),
    } })
    local link <close> = assert(prog:attach_tracepoint("syscalls", "sys_enter_getppid"))
    assert.equal("tracepoint", link:kind())
    local got
    local reader <close> = assert(e.ringbuf.reader { [ring] = function(rec) got = got or rec end })
    assert(waits_for(function()
      reader:poll(10)
      return got ~= nil
    end), "no record")
    local n = string.unpack("=i8", got)
    assert.is_true(n > 0 and n % 8 == 0, tostring(n))
    local frames = symbols.stack(got:sub(9, 8 + n), assert(symbols.process(pid)))
    assert.same({ "level3", "level2", "level1", "main" }, { table.unpack(names(frames), 1, 4) })
  end)
end)
