-- SPDX-License-Identifier: MIT
-- Every map type the running kernel creates (maps.supported): created, and
-- exercised with what user space can do with it, checked against bpftool, ss, vmlinux BTF, and BPF
-- programs that read and write the same elements through the kernel.
local env = require "support.env"
local oracle = require "support.map_oracle"
local count = require "support.count"
local errno_of = require "support.errno"
local e = require "ebpfdsl"
local maps, d, programs = e.maps, e.dsl, e.programs

local NEEDS = { "bpf", "bpftool" }
local NCPUS = maps.possible_cpus()

-- Each type's spec needs the kernel to create maps of the type: where it
-- refuses them (arena, on some machines) the spec is reported refused.
local exercised = {}
local function it_type(tname, title, fn, needs)
  exercised[tname] = true
  local all = { "map:" .. tname }
  for _, n in ipairs(needs or NEEDS) do all[#all + 1] = n end
  env.it(tname .. ": " .. title, all, fn)
end

local function u32(n) return string.pack("<I4", n) end
local function u64(n) return string.pack("<i8", n) end

-- What bpftool says about a map agrees with info() and with the Map.
local function check_show(m)
  local show, info = oracle.show(m), m:info()
  if type(show.type) == "string" then assert.equal(show.type, m:type()) end
  assert.equal(show.id, info.id)
  assert.equal(show.bytes_key, info.key_size)
  assert.equal(show.bytes_value, info.value_size)
  assert.equal(show.max_entries, info.max_entries)
  assert.equal(show.flags, info.flags)
  assert.equal(show.name or "", info.name)
  assert.equal(m:type(), info.type)
  return show, info
end

local function ret_prog(n, name)
  return assert(programs.load { type = "socket_filter", name = name, insns = { d.mov("r0", n), d.exit() } })
end

local function kernel_map_types()
  local out = env.run("bpftool btf dump file /sys/kernel/btf/vmlinux format raw")
  local body = out:match("ENUM 'bpf_map_type'[^\n]*\n(.-)\n%[")
  local t = {}
  for name, val in body:gmatch("'BPF_MAP_TYPE_([%w_]+)' val=(%d+)") do
    if name ~= "UNSPEC" and not name:match("_DEPRECATED$") then t[name:lower()] = tonumber(val) end
  end
  return t
end

local function socket_pair()
  local socket = require "socket"
  local srv = assert(socket.tcp4())
  assert(srv:setoption("reuseaddr", true))
  assert(srv:bind("127.0.0.1", 0))
  assert(srv:listen())
  local _, port = srv:getsockname()
  local cli = assert(socket.connect("127.0.0.1", port))
  local acc = assert(srv:accept())
  return cli, acc, srv, tonumber(port)
end

-- The socket cookie of every socket on a port, as sock_diag reports it
-- ("sk:<hex>" in ss -e): an oracle for what sockmap lookups return.
local function ss_cookies(proto, port)
  local out = env.run(("ss -%sane 'sport = :%d or dport = :%d'"):format(proto, port, port))
  local t = {}
  for cookie in out:gmatch("sk:(%x+)") do t[#t + 1] = tonumber(cookie, 16) end
  return t
end

local function cpu_list(f)
  local t = {}
  for c = 1, NCPUS do t[c] = f(c) end
  return t
end

describe("map types", function()
  env.it("are the kernel's, by its names lowercased (vmlinux BTF enum bpf_map_type)", { "btf", "bpftool" }, function()
    local kernel = kernel_map_types()
    local names = {}
    for name in pairs(kernel) do names[#names + 1] = name end
    table.sort(names)
    local ours = maps.types()
    table.sort(ours)
    assert.same(names, ours)
    for name, id in pairs(kernel) do assert.equal(id, maps.type_info(name).id, name) end
  end)

  env.it("have flags named as the kernel's BPF_F_* map flags", { "btf", "bpftool" }, function()
    local out = env.run("bpftool btf dump file /sys/kernel/btf/vmlinux format raw")
    local body = out:match("\n([^\n]*'BPF_F_NO_PREALLOC' val=1.-)\n%[")
    local kernel = {}
    for name, val in body:gmatch("'BPF_F_([%w_]+)' val=(%d+)") do kernel[name:lower()] = tonumber(val) end
    assert.same(kernel, maps.flags)
  end)
end)

describe("creation options", function()
  env.it("name, flag lists, numa_node and map_extra reach the kernel", NEEDS, function()
    local m <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 4, name = "opts.50",
                                         flags = { "no_prealloc", "rdonly_prog" }, numa_node = 0 })
    local show, info = check_show(m)
    assert.equal("opts.50", show.name)
    assert.equal(maps.flags.no_prealloc | maps.flags.rdonly_prog | maps.flags.numa_node, info.flags)
    local b <close> = assert(maps.bloom_filter { value = "u32", max_entries = 8, map_extra = 5 })
    assert.equal(5, b:info().map_extra)
    assert.equal(m:id(), m:info().id)
    assert.equal("hash", m:type())
    assert.equal("opts.50", m:name())
  end)
end)

describe("hash maps", function()
  it_type("hash", "update flags, lookup, delete, next_key, pairs, count, clear; bpftool and BPF agree", function()
    local m <close> = assert(maps.hash { key = "u32", value = "u64", max_entries = 8, name = "h50" })
    check_show(m)
    assert.is_true(m:update(1, 100))
    assert.is_true(m:update(2, 200, "noexist"))
    local ok, msg, errno = m:update(2, 201, "noexist")
    assert.is_nil(ok)
    assert.equal(17, errno)
    assert.equal("update on hash map 'h50': File exists", msg)
    ok, msg, errno = m:update(3, 300, "exist")
    assert.is_nil(ok)
    assert.equal(2, errno)
    assert.equal("update on hash map 'h50': No such file or directory", msg)
    assert.is_true(m:update(2, 202, "exist"))
    assert.equal(100, m:lookup(1))
    assert.equal(202, m:lookup(2))
    assert.is_nil(m:lookup(3))
    assert.is_nil(select(2, m:lookup(3)))

    assert.same({ [u32(1)] = u64(100), [u32(2)] = u64(202) }, oracle.dump_map(m))
    local read = oracle.reader(m)
    assert.equal(100, read(1))
    assert.equal(202, read(2))
    assert.equal(oracle.MISS, read(3))
    local write = oracle.writer(m)
    assert.equal(0, write(7, 0x123456789))
    assert.equal(0x123456789, m:lookup(7))

    assert.equal(3, m:count())
    local seen, k = {}, m:next_key()
    while k do
      seen[#seen + 1] = k
      k = m:next_key(k)
    end
    table.sort(seen)
    assert.same({ 1, 2, 7 }, seen)
    local t = {}
    for key, v in m:pairs() do t[key] = v end
    assert.same({ [1] = 100, [2] = 202, [7] = 0x123456789 }, t)
    t = {}
    for key, v in pairs(m) do t[key] = v end
    assert.same({ [1] = 100, [2] = 202, [7] = 0x123456789 }, t)

    m[9] = 900
    assert.equal(900, m[9])
    assert.equal(900, read(9))
    m[9] = nil
    assert.is_nil(m[9])

    assert.equal(202, m:lookup_and_delete(2))
    assert.is_nil(m:lookup(2))
    assert.is_nil(m:lookup_and_delete(2))
    assert.is_true(m:delete(1))
    assert.is_false(m:delete(1))
    for i = 10, 16 do assert.is_true(m:update(i, i)) end
    ok, msg, errno = m:update(99, 1)
    assert.is_nil(ok)
    assert.equal("update on hash map 'h50': Argument list too long", msg)
    assert.equal(7, errno) -- E2BIG: full
    assert.is_true(m:clear())
    assert.equal(0, m:count())
    assert.same({}, oracle.dump(m))
  end)

  it_type("hash", "pairs lets the loop delete the key it is given", function()
    local m <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 64 })
    for i = 1, 50 do m[i] = i * 2 end
    local n = 0
    for k, v in m:pairs() do
      assert.equal(k * 2, v)
      assert.is_true(m:delete(k))
      n = n + 1
    end
    assert.equal(50, n)
    assert.equal(0, m:count())
  end)

  it_type("lru_hash", "evicts the least recently used when full, keeping the newest", function()
    local m <close> = assert(maps.lru_hash { key = "u32", value = "u32", max_entries = 16 })
    check_show(m)
    for i = 1, 200 do assert.is_true(m:update(i, i)) end
    local n = m:count()
    assert.is_true(n > 0 and n <= 16, "count " .. n)
    assert.equal(200, m:lookup(200))
    assert.is_nil(m:lookup(1))
    local dump = oracle.dump_map(m)
    local c = 0
    for k, v in pairs(dump) do
      c = c + 1
      assert.equal(k, v)
    end
    assert.equal(n, c)
  end)

  it_type("percpu_hash", "one value per possible CPU plus sum; lists update each CPU", function()
    local m <close> = assert(maps.percpu_hash { key = "u32", value = "u64", max_entries = 8 })
    check_show(m)
    assert.is_true(m:update(1, 5))
    local v = m:lookup(1)
    assert.same(cpu_list(function() return 5 end), { table.unpack(v, 1, NCPUS) })
    assert.equal(#v, NCPUS)
    assert.equal(5 * NCPUS, v.sum)
    assert.is_true(m:update(2, cpu_list(function(c) return c * 10 end)))
    local dump = oracle.dump_map(m)
    for c = 1, NCPUS do
      assert.equal(u64(5), dump[u32(1)][c])
      assert.equal(u64(c * 10), dump[u32(2)][c])
    end
    local w = m:lookup_and_delete(2)
    assert.equal(10, w[1])
    assert.is_nil(m:lookup(2))
    local seen = {}
    for k, val in m:pairs() do seen[k] = { sum = val.sum, table.unpack(val, 1, #val) } end
    assert.same({ [1] = { sum = 5 * NCPUS, table.unpack(cpu_list(function() return 5 end)) } }, seen)
  end)

  it_type("lru_percpu_hash", "per-CPU values, sums of what a BPF program added on its CPU", function()
    local m <close> = assert(maps.lru_percpu_hash { key = "u32", value = "u64", max_entries = 8 })
    check_show(m)
    assert.is_true(m:update(0, 0))
    local prog = assert(programs.load { type = "socket_filter", name = "count", insns = count.add_one(d, m) })
    assert(prog:test_run { data = string.rep("\0", 64), ["repeat"] = 250 })
    local v = m:lookup(0)
    assert.equal(250, v.sum)
    local total = 0
    for c = 1, NCPUS do total = total + v[c] end
    assert.equal(250, total)
  end)
end)

describe("array maps", function()
  it_type("array", "zeros at start, index bounds, no delete, clear, freeze; BPF agrees", function()
    local m <close> = assert(maps.array { value = "u32", max_entries = 4, name = "a50" })
    local _, info = check_show(m)
    assert.equal(4, info.key_size)
    assert.equal(0, m:lookup(0))
    assert.is_true(m:update(3, 33))
    assert.equal(33, oracle.reader(m)(3))
    assert.is_nil(m:lookup(4))
    local ok, _, errno = m:update(4, 1)
    assert.is_nil(ok)
    assert.equal(7, errno)
    local msg
    ok, msg, errno = m:delete(0)
    assert.is_nil(ok)
    assert.equal(22, errno)
    assert.equal("delete on array map 'a50': Invalid argument", msg)
    assert.equal(4, m:count())
    local t = {}
    for k, v in m:pairs() do t[k + 1] = v end
    assert.same({ 0, 0, 0, 33 }, t)
    assert.is_true(m:clear())
    assert.same({ 0, 0, 0, 0 }, { m[0], m[1], m[2], m[3] })
  end)

  it_type("array", "freeze stops user-space writes; programs still write", function()
    local m <close> = assert(maps.array { value = "i64", max_entries = 4 })
    assert.is_true(m:update(1, 10))
    assert.is_false(m:info().frozen)
    assert.is_true(m:freeze())
    assert.is_true(m:info().frozen)
    assert.equal(1, oracle.show(m).frozen)
    local ok, _, errno = m:update(1, 11)
    assert.is_nil(ok)
    assert.equal(1, errno) -- EPERM
    assert.equal(10, m:lookup(1))
    assert.equal(0, oracle.writer(m)(2, -5))
    assert.equal(-5, m:lookup(2))
  end)

  it_type("percpu_array", "per-CPU values, clear zeroes every CPU", function()
    local m <close> = assert(maps.percpu_array { value = "u32", max_entries = 2 })
    check_show(m)
    assert.is_true(m:update(1, cpu_list(function(c) return 100 + c end)))
    local v = m:lookup(1)
    for c = 1, NCPUS do assert.equal(100 + c, v[c]) end
    local dump = oracle.dump_map(m)
    for c = 1, NCPUS do assert.equal(u32(100 + c), dump[u32(1)][c]) end
    assert.is_true(m:clear())
    assert.equal(0, m:lookup(1).sum)
  end)

  it_type("prog_array", "tail calls: set_prog, get_prog, delete_prog, m[i] = prog", function()
    local pa = assert(maps.prog_array { max_entries = 4, name = "jmp" })
    check_show(pa)
    local caller = assert(programs.load { type = "socket_filter", name = "caller", insns = {
      d.mov("r6", "r1"),
      d.mov("r1", "r6"), d.ld_map_fd("r2", pa), d.mov("r3", 1),
      d.call("tail_call"),
      d.mov("r0", 1),
      d.exit(),
    } })
    local function run() return assert(caller:test_run { data = string.rep("\0", 64) }).retval end
    assert.equal(1, run()) -- an empty slot: the call falls through
    local callee = ret_prog(42, "callee42")
    assert.is_true(pa:set_prog(1, callee))
    assert.equal(42, run())

    -- get_prog gives the id of the program in the slot, as bpftool knows it
    local id = pa:get_prog(1)
    local shown = require("dkjson").decode(env.run("bpftool prog show id " .. id .. " -j"))
    assert.equal("callee42", shown.name)
    assert.same({ [u32(1)] = u32(id) }, oracle.dump_map(pa))
    assert.is_nil(pa:get_prog(0))

    -- the map keeps the Prog alive while it is in a slot
    local weak = setmetatable({ callee }, { __mode = "v" })
    callee = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_not_nil(weak[1])
    assert.equal(42, run())
    assert.is_true(pa:delete_prog(1))
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
    assert.equal(1, run())

    -- the caller keeps the prog_array alive: closing its last fd would
    -- empty every slot, so a dropped Map must not be collected
    pa[1] = ret_prog(7, "callee7")
    assert.equal(7, run())
    local weakmap = setmetatable({ pa }, { __mode = "v" })
    pa = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_not_nil(weakmap[1])
    assert.equal(7, run())
    local slots = {}
    for k, v in weakmap[1]:pairs() do slots[k] = v end
    assert.equal(1, next(slots))
    weakmap[1][1] = nil
    assert.equal(1, run())
    assert.is_true(weakmap[1]:clear())
  end)

  it_type("perf_event_array", "one slot per CPU; takes only perf event fds", function()
    local m <close> = assert(maps.perf_event_array {})
    local _, info = check_show(m)
    assert.equal(NCPUS, info.max_entries)
    assert.equal(NCPUS, m:count())
    local f <close> = assert(io.open("/proc/self/stat"))
    local ok, msg = m:update(0, f)
    assert.is_nil(ok)
    assert.matches("update on perf_event_array map", msg, 1, true)
    local v, lmsg, errno = m:lookup(0)
    assert.is_nil(v)
    assert.equal(524, errno)
    assert.matches("ENOTSUPP", lmsg, 1, true)
    assert.is_false(m:delete(0))
    -- filling it needs perf_event_open fds (PERF_COUNT_SW_BPF_OUTPUT per
    -- CPU), which ebpfdsl.perfbuf's reader opens.
  end)

  it_type("stack_trace", "a BPF program records a stack; user space reads and deletes it", function()
    local st <close> = assert(maps.stack_trace { max_entries = 16 })
    local _, info = check_show(st)
    assert.equal(8 * 127, info.value_size)
    local ok, _, errno = st:update(0, string.rep("\0", 8 * 127))
    assert.is_nil(ok)
    assert.equal(22, errno) -- only bpf_get_stackid fills it
    local prog = assert(programs.load { type = "raw_tracepoint", name = "stackid", insns = {
      d.ld_map_fd("r2", st), d.mov("r3", 0), d.call("get_stackid"), d.exit(),
    } })
    local id = assert(prog:test_run { ctx = string.rep("\0", 8), ["repeat"] = 0, ctx_size_out = 0 }).retval
    assert.is_true(id < 16)
    assert.equal(1, st:count())
    assert.equal(id, st:next_key())
    local stack = st:lookup(id)
    assert.equal(8 * 127, #stack)
    local ip = string.unpack("<I8", stack)
    assert.is_true(ip < 0, "a kernel address") -- 0xffff... as a Lua integer
    assert.same({ [u32(id)] = stack }, oracle.dump_map(st))
    assert.is_true(st:delete(id))
    assert.equal(0, st:count())
  end)

  it_type("cgroup_array", "holds a cgroup; a BPF program tests the current task against it", function()
    local dir = assert(oracle.cgroup2(), "no cgroup2 mount")
    local cg <close> = assert(io.open(dir))
    local m <close> = assert(maps.cgroup_array { max_entries = 2 })
    check_show(m)
    assert.is_true(m:update(0, cg))
    local prog = assert(programs.load { type = "raw_tracepoint", name = "undercg", insns = {
      d.ld_map_fd("r1", m), d.mov("r2", 0), d.call("current_task_under_cgroup"), d.exit(),
    } })
    local function under()
      return prog:test_run { ctx = string.rep("\0", 8), ["repeat"] = 0, ctx_size_out = 0 }.retval
    end
    assert.equal(1, under()) -- every task is under the root cgroup
    local v, _, errno = m:lookup(0)
    assert.is_nil(v)
    assert.equal(524, errno) -- user space cannot read a cgroup fd back
    assert.is_true(m:delete(0))
    assert.are_not.equal(1, under())
  end)

  it_type("array_of_maps", "set_inner/get_inner by id; a BPF program reads through outer and inner", function()
    local inner <close> = assert(maps.array { value = "u64", max_entries = 1 })
    local outer <close> = assert(maps.array_of_maps { max_entries = 4, inner_map = inner })
    check_show(outer)
    assert.is_true(outer:set_inner(2, inner))
    assert.equal(inner:id(), outer:get_inner(2))
    assert.is_nil(outer:get_inner(0))
    assert.same({ [u32(2)] = u32(inner:id()) }, oracle.dump_map(outer))
    -- the id opens the same kernel map
    local again <close> = assert(maps.open_id(outer:get_inner(2)))
    assert.is_true(again:update(0, 4242))
    assert.equal(4242, inner:lookup(0))
    local prog = assert(programs.load { type = "socket_filter", name = "nested", insns = {
      d.st("w", "fp", -4, 2),
      d.ld_map_fd("r1", outer), d.mov("r2", "fp"), d.add("r2", -4), d.call("map_lookup_elem"),
      d.jeq("r0", 0, "miss"),
      d.st("w", "fp", -8, 0),
      d.mov("r1", "r0"), d.mov("r2", "fp"), d.add("r2", -8), d.call("map_lookup_elem"),
      d.jeq("r0", 0, "miss"),
      d.ldx("w", "r0", "r0", 0),
      d.exit(),
      d.label("miss"), d.mov("r0", 99), d.exit(),
    } })
    assert.equal(4242, prog:test_run { data = string.rep("\0", 64) }.retval)
    -- an inner map of another shape is refused
    local other <close> = assert(maps.array { value = "u32", max_entries = 1 })
    local ok, _, errno = outer:set_inner(1, other)
    assert.is_nil(ok)
    assert.equal(22, errno)
    assert.is_true(outer:delete(2))
    assert.is_nil(outer:get_inner(2))
    assert.equal(99, prog:test_run { data = string.rep("\0", 64) }.retval)
  end)

  it_type("hash_of_maps", "an inner_map template given as a spec; inner maps by key", function()
    local outer <close> = assert(maps.hash_of_maps { key = "u32", max_entries = 4,
      inner_map = { type = "hash", key = "u32", value = "u32", max_entries = 4 } })
    check_show(outer)
    local a <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 4 })
    local b <close> = assert(maps.hash { key = "u32", value = "u32", max_entries = 4 })
    assert.is_true(outer:set_inner(100, a))
    assert.is_true(outer:set_inner(200, b, "noexist"))
    assert.same({ [100] = a:id(), [200] = b:id() }, (function()
      local t = {}
      for k, v in outer:pairs() do t[k] = v end
      return t
    end)())
    assert.equal(2, outer:count())
    assert.is_true(outer:clear())
    assert.equal(0, outer:count())
  end)
end)

describe("lpm tries", function()
  it_type("lpm_trie", "longest prefix match; keys as {prefixlen=, data=}", function()
    local m <close> = assert(maps.lpm_trie { key_size = 8, value = "u32", max_entries = 8 })
    local _, info = check_show(m)
    assert.equal(maps.flags.no_prealloc, info.flags & maps.flags.no_prealloc)
    assert.is_true(m:update({ prefixlen = 8, data = "\10\0\0\0" }, 8))
    assert.is_true(m:update({ prefixlen = 24, data = "\10\1\2\0" }, 24))
    assert.equal(24, m:lookup { prefixlen = 32, data = "\10\1\2\3" })
    assert.equal(8, m:lookup { prefixlen = 32, data = "\10\9\2\3" })
    assert.is_nil(m:lookup { prefixlen = 32, data = "\11\1\2\3" })
    local dump = oracle.dump_map(m)
    assert.equal(8, string.unpack("<I4", dump[u32(8) .. "\10\0\0\0"]))
    assert.equal(24, string.unpack("<I4", dump[u32(24) .. "\10\1\2\0"]))
    local t = {}
    for k, v in m:pairs() do t[k.prefixlen] = { k.data, v } end
    assert.same({ [8] = { "\10\0\0\0", 8 }, [24] = { "\10\1\2\0", 24 } }, t)
    assert.is_true(m:delete { prefixlen = 24, data = "\10\1\2\0" })
    assert.equal(8, m:lookup { prefixlen = 32, data = "\10\1\2\3" })
  end)
end)

describe("redirect maps", function()
  it_type("devmap", "slots hold ifindexes of existing devices", function()
    local lo = tonumber(io.open("/sys/class/net/lo/ifindex"):read("l"))
    local m <close> = assert(maps.devmap { max_entries = 4 })
    check_show(m)
    assert.is_true(m:update(0, lo))
    assert.equal(lo, m:lookup(0))
    assert.is_nil(m:lookup(1))
    local ok, _, errno = m:update(1, 0x7ffffff0)
    assert.is_nil(ok)
    assert.equal(22, errno) -- no such device
    assert.same({ [u32(0)] = u32(lo) }, oracle.dump_map(m))
    assert.equal(4, m:count())
    assert.is_true(m:delete(0))
    assert.is_nil(m:lookup(0))
  end)

  it_type("devmap_hash", "sparse keys to ifindexes", function()
    local lo = tonumber(io.open("/sys/class/net/lo/ifindex"):read("l"))
    local m <close> = assert(maps.devmap_hash { max_entries = 4 })
    check_show(m)
    assert.is_true(m:update(1000, lo))
    assert.equal(lo, m:lookup(1000))
    assert.equal(1, m:count())
    assert.same({ [u32(1000)] = u32(lo) }, oracle.dump_map(m))
    assert.is_true(m:delete(1000))
    assert.equal(0, m:count())
  end)

  it_type("cpumap", "slots per CPU hold a queue size", function()
    local m <close> = assert(maps.cpumap {})
    local _, info = check_show(m)
    assert.equal(NCPUS, info.max_entries)
    assert.is_true(m:update(0, 192))
    assert.equal(192, m:lookup(0))
    local ok, _, errno = m:update(NCPUS, 192)
    assert.is_nil(ok)
    assert.equal(7, errno)
    assert.is_true(m:delete(0))
    assert.is_nil(m:lookup(0))
  end)

  it_type("xskmap", "refuses sockets that are not AF_XDP", function()
    local socket = require "socket"
    local u = assert(socket.udp4())
    local m <close> = assert(maps.xskmap { max_entries = 2 })
    check_show(m)
    local ok, _, errno = m:update(0, u)
    assert.is_nil(ok)
    assert.equal(95, errno) -- EOPNOTSUPP
    local v, _, lerrno = m:lookup(0)
    assert.is_nil(v)
    assert.equal(95, lerrno)
    assert.is_true(m:delete(0)) -- an empty slot in range: the kernel clears it and says 0
    local gone, _, derrno = m:delete(2) -- past max_entries
    assert.is_nil(gone)
    assert.equal(errno_of.EINVAL, derrno)
    u:close()
    -- filling it needs an AF_XDP socket with a UMEM bound to a queue,
    -- which LuaSocket cannot make.
  end)
end)

describe("socket maps", function()
  it_type("sockmap", "holds TCP and UDP sockets; lookups give the cookies ss reports", function()
    local cli, acc, srv, port = socket_pair()
    local m <close> = assert(maps.sockmap { max_entries = 4 })
    check_show(m)
    assert.is_true(m:update(0, cli))
    assert.is_true(m:update(1, acc))
    local c0, c1 = m:lookup(0), m:lookup(1)
    assert.are_not.equal(c0, c1)
    local cookies = ss_cookies("t", port)
    local have = {}
    for _, c in ipairs(cookies) do have[c] = true end
    assert.is_true(have[c0] and have[c1], "cookies from ss: " .. table.concat(cookies, ","))
    local socket = require "socket"
    local u = assert(socket.udp4())
    assert(u:setsockname("127.0.0.1", 0))
    assert.is_true(m:update(2, u))
    local file <close> = assert(io.open("/proc/self/stat"))
    local ok, _, errno = m:update(3, file)
    assert.is_nil(ok)
    assert.equal(88, errno) -- ENOTSOCK
    assert.is_true(m:delete(0))
    assert.is_nil(m:lookup(0))
    for _, s in ipairs { cli, acc, srv, u } do s:close() end
  end, { "bpf", "bpftool", "ss" })

  it_type("sockhash", "sockets by any key; the same socket has the same cookie as in a sockmap", function()
    local cli, acc, srv = socket_pair()
    local h <close> = assert(maps.sockhash { key = "u64", max_entries = 4 })
    local sm <close> = assert(maps.sockmap { max_entries = 1 })
    check_show(h)
    assert.is_true(h:update(-1, cli))
    assert.is_true(sm:update(0, cli))
    assert.equal(sm:lookup(0), h:lookup(-1))
    assert.is_true(h:update(5, acc))
    assert.equal(2, h:count())
    assert.is_true(h:delete(-1))
    assert.equal(1, h:count())
    for _, s in ipairs { cli, acc, srv } do s:close() end
  end)

  it_type("reuseport_sockarray", "holds SO_REUSEPORT sockets; lookups give their cookies", function()
    local socket = require "socket"
    local u = assert(socket.udp4())
    assert(u:setoption("reuseport", true))
    assert(u:setsockname("127.0.0.1", 0))
    local _, port = u:getsockname()
    local m <close> = assert(maps.reuseport_sockarray { max_entries = 2 })
    check_show(m)
    assert.is_true(m:update(0, u))
    assert.same({ m:lookup(0) }, ss_cookies("u", tonumber(port)))
    local plain = assert(socket.udp4())
    assert(plain:setsockname("127.0.0.1", 0))
    local ok = m:update(1, plain)
    assert.is_nil(ok) -- no SO_REUSEPORT
    assert.is_true(m:delete(0))
    u:close()
    plain:close()
  end, { "bpf", "bpftool", "ss" })
end)

describe("queues, stacks and bloom filters", function()
  it_type("queue", "push, pop, peek in FIFO order; full, and overwrite with 'exist'", function()
    local q <close> = assert(maps.queue { value = "u32", max_entries = 3 })
    check_show(q)
    assert.is_true(q:push(1))
    assert.is_true(q:push(2))
    assert.is_true(q:push(3))
    local ok, _, errno = q:push(4)
    assert.is_nil(ok)
    assert.equal(7, errno)
    assert.is_true(q:push(4, "exist")) -- drops the oldest
    assert.equal(2, q:peek())
    assert.same({ 2, 3, 4 }, { q:pop(), q:pop(), q:pop() })
    assert.is_nil(q:pop())
    assert.is_nil(q:peek())
    q:push(9)
    assert.is_true(q:clear())
    assert.is_nil(q:pop())
    local n, _, cerrno = q:count()
    assert.is_nil(n)
    assert.equal(22, cerrno) -- no keys to walk
  end)

  it_type("stack", "push, pop, peek in LIFO order", function()
    local s <close> = assert(maps.stack { value = "i16", max_entries = 4 })
    check_show(s)
    for _, v in ipairs { -1, 2, -3 } do assert.is_true(s:push(v)) end
    assert.equal(-3, s:peek())
    assert.same({ -3, 2, -1 }, { s:pop(), s:pop(), s:pop() })
    assert.is_nil(s:pop())
  end)

  it_type("bloom_filter", "add and check, with a zero seed so the answer is repeatable", function()
    local b <close> = assert(maps.bloom_filter { value = "u64", max_entries = 64, map_extra = 3,
                                                 flags = { "zero_seed" } })
    local show = check_show(b)
    assert.equal(3, b:info().map_extra)
    assert.equal(0, show.bytes_key) -- bloom filters have values only
    assert.equal(8, show.bytes_value)
    assert.equal(64, show.max_entries)
    for i = 1, 10 do assert.is_true(b:add(i * 1000)) end
    for i = 1, 10 do assert.is_true(b:check(i * 1000)) end
    local hits = 0
    for i = 1, 10 do if b:check(i * 1000 + 1) then hits = hits + 1 end end
    assert.is_true(hits <= 1, hits .. " false positives of 10")
  end)
end)

describe("local storage maps", function()
  it_type("sk_storage", "a value per socket, keyed by the socket", function()
    local cli, acc, srv = socket_pair()
    local m <close> = assert(maps.sk_storage { value = "u64" })
    local _, info = check_show(m)
    assert.is_true(info.btf_id > 0) -- made here: the kernel insists on BTF
    assert.matches("ebpfdsl_value", env.run("bpftool btf dump id " .. info.btf_id), 1, true)
    assert.is_true(m:update(cli, 77))
    assert.equal(77, m:lookup(cli))
    assert.is_nil(m:lookup(acc))
    local file <close> = assert(io.open("/proc/self/stat"))
    local v, _, errno = m:lookup(file)
    assert.is_nil(v)
    assert.equal(88, errno)
    assert.is_true(m:delete(cli))
    assert.is_nil(m:lookup(cli))
    for _, s in ipairs { cli, acc, srv } do s:close() end
  end)

  it_type("inode_storage", "a value per inode: two opens of one file see one value", function()
    local path = os.tmpname()
    local a <close> = assert(io.open(path))
    local b <close> = assert(io.open(path))
    local other <close> = assert(io.open("/proc/self/stat"))
    local m <close> = assert(maps.inode_storage { value = "u32" })
    check_show(m)
    assert.is_true(m:update(a, 5150))
    assert.equal(5150, m:lookup(b))
    assert.is_nil(m:lookup(other))
    assert.is_true(m:delete(b))
    assert.is_nil(m:lookup(a))
    os.remove(path)
  end)

  it_type("task_storage", "a value per task, keyed by a pidfd", function()
    local me = oracle.getpid()
    local m <close> = assert(maps.task_storage { value = "u64" })
    check_show(m)
    local p1 <close> = assert(maps.pidfd(me))
    local p2 <close> = assert(maps.pidfd(me))
    local init <close> = assert(maps.pidfd(1))
    assert.is_true(m:update(p1, 31337))
    assert.equal(31337, m:lookup(p2))
    assert.is_nil(m:lookup(init))
    assert.is_true(m:delete(p2))
    assert.is_nil(m:lookup(p1))
  end)

  it_type("cgrp_storage", "a value per cgroup, keyed by the cgroup directory", function()
    local dir = assert(oracle.cgroup2(), "no cgroup2 mount")
    local a <close> = assert(io.open(dir))
    local b <close> = assert(io.open(dir))
    local m <close> = assert(maps.cgrp_storage { value = "u64" })
    check_show(m)
    assert.is_true(m:update(a, 99))
    assert.equal(99, m:lookup(b))
    assert.is_true(m:delete(a))
    assert.is_nil(m:lookup(b))
  end)

  for _, tname in ipairs { "cgroup_storage", "percpu_cgroup_storage" } do
    it_type(tname, "is created with a 16-byte key; it fills only while a program using it is attached", function()
      local m <close> = assert(maps[tname] { value = "u64" })
      local _, info = check_show(m)
      assert.equal(16, info.key_size)
      assert.equal(0, info.max_entries)
      assert.equal(0, m:count())
      local key = string.rep("\0", 16)
      assert.is_nil(m:lookup(key))
      local ok, _, errno = m:update(key, 1)
      assert.is_nil(ok)
      assert.equal(2, errno)
      -- its elements are created when a cgroup program that uses it is
      -- attached to a cgroup (the attach part of ebpfdsl).
    end)
  end
end)

describe("other map types", function()
  it_type("struct_ops", "takes its value type from vmlinux BTF; needs programs to be filled", function()
    local m <close> = assert(maps.struct_ops { struct_ops = "tcp_congestion_ops", name = "cc50" })
    local _, info = check_show(m)
    local out = env.run("bpftool btf dump file /sys/kernel/btf/vmlinux format raw")
    local id, size = out:match("%[(%d+)%] STRUCT 'bpf_struct_ops_tcp_congestion_ops' size=(%d+)")
    assert.equal(tonumber(id), info.btf_vmlinux_value_type_id)
    assert.equal(tonumber(size), info.value_size)
    local v = m:lookup(0)
    assert.equal(info.value_size, #v)
    assert.equal(string.rep("\0", #v), v) -- refcount 0, state INIT
    local ok, _, errno = m:update(0, v)
    assert.is_nil(ok)
    assert.equal(22, errno)
    -- a value names its struct_ops programs (ssthresh, cong_avoid, ...) by
    -- fd; loading those is the programs part of ebpfdsl.
  end, { "bpf", "bpftool", "btf" })

  it_type("ringbuf", "sized in pages; programs write, no user-space element access", function()
    local m <close> = assert(maps.ringbuf(2 * 4096, { name = "rb50" }))
    local _, info = check_show(m)
    assert.equal(8192, info.max_entries)
    local v, _, errno = m:lookup()
    assert.is_nil(v)
    assert.equal(errno_of.ENOTSUPP, errno)
    local prog = assert(programs.load { type = "socket_filter", name = "rbout", insns = {
      d.st("dw", "fp", -8, 7),
      d.ld_map_fd("r1", m), d.mov("r2", "fp"), d.add("r2", -8), d.mov("r3", 8), d.mov("r4", 0),
      d.call("ringbuf_output"),
      d.exit(),
    } })
    assert.equal(0, prog:test_run { data = string.rep("\0", 64) }.retval)
    -- reading records is ebpfdsl.ringbuf's reader.
  end)

  it_type("user_ringbuf", "sized in pages; no element access from user space", function()
    local m <close> = assert(maps.user_ringbuf(4096))
    check_show(m)
    local v, _, errno = m:lookup()
    assert.is_nil(v)
    assert.equal(errno_of.ENOTSUPP, errno)
    -- producing samples goes through libbpf's user_ring_buffer, mmap-based.
  end)

  it_type("arena", "pages of memory shared with programs; no element access", function()
    local m <close> = assert(maps.arena { max_entries = 4 })
    local info = m:info()
    assert.equal("arena", info.type)
    assert.equal(maps.flags.mmapable, info.flags & maps.flags.mmapable)
    assert.equal(4, info.max_entries)
    local show = oracle.show(m)
    assert.equal(info.id, show.id)
    local v, _, errno = m:lookup()
    assert.is_nil(v)
    assert.equal(errno_of.EINVAL, errno)
    local ok, msg = m:clear()
    assert.is_nil(ok)
    assert.matches("clear on arena map", msg, 1, true)
    -- its pages are reached through mmap of the map and by programs with
    -- the arena kfuncs.
  end)

  env.it("every type this kernel supports was exercised above", { "bpf" }, function()
    local missing = {}
    for _, name in ipairs(maps.types()) do
      if maps.supported(name) and not exercised[name] then missing[#missing + 1] = name end
    end
    assert.same({}, missing)
  end)
end)

describe("keys and values", function()
  -- struct { int32 a; uint32 b; } in the shape ebpfdsl.structs layouts have
  local pair = {
    size = function() return 8 end,
    encode = function(_, t) return string.pack("<i4I4", t.a, t.b) end,
    decode = function(_, s, off) local a, b = string.unpack("<i4I4", s, (off or 0) + 1) return { a = a, b = b } end,
  }

  env.it("go through layouts, checked against bpftool's bytes", NEEDS, function()
    local m <close> = assert(maps.hash { key = pair, value = pair, max_entries = 4 })
    assert.equal(8, m:info().key_size)
    assert.is_true(m:update({ a = -1, b = 2 }, { a = 3, b = 4 }))
    assert.same({ a = 3, b = 4 }, m:lookup { a = -1, b = 2 })
    assert.same({ [string.pack("<i4I4", -1, 2)] = string.pack("<i4I4", 3, 4) }, oracle.dump_map(m))
    local seen = {}
    for k, v in m:pairs() do seen[#seen + 1] = { k, v } end
    assert.same({ { { a = -1, b = 2 }, { a = 3, b = 4 } } }, seen)
    assert.same({ a = 3, b = 4 }, m:lookup(string.pack("<i4I4", -1, 2))) -- bytes work too
  end)

  env.it("go through ebpfdsl.structs layouts", NEEDS, function()
    local structs = e.structs
    local Key = structs.define("flow", { { "saddr", "u32" }, { "dport", "u16" }, { "proto", "u8" } })
    local Val = structs.define("stats", { { "packets", "u64" }, { "comm", "char", 16 }, { "delta", "i32" } })
    local m <close> = assert(maps.hash { key = Key, value = Val, max_entries = 8 })
    local info = m:info()
    assert.equal(Key:size(), info.key_size)
    assert.equal(Val:size(), info.value_size)
    local k = { saddr = 0x0a000001, dport = 443, proto = 6 }
    local v = { packets = 12, comm = "curl", delta = -3 }
    assert.is_true(m:update(k, v))
    assert.same(v, m:lookup(k))
    assert.same({ [Key:encode(k)] = Val:encode(v) }, oracle.dump_map(m))
    local ks, vs = m:lookup_batch()
    assert.same({ k }, ks)
    assert.same({ v }, vs)
    local p <close> = assert(maps.percpu_hash { key = "u32", value = Val, max_entries = 2 })
    assert.is_true(p:update(1, v))
    for c = 1, NCPUS do assert.same(v, p:lookup(1)[c]) end
  end)

  env.it("go through layouts per CPU", NEEDS, function()
    local m <close> = assert(maps.percpu_array { value = pair, max_entries = 1 })
    assert.is_true(m:update(0, { a = 1, b = 2 }))
    local v = m:lookup(0)
    for c = 1, NCPUS do assert.same({ a = 1, b = 2 }, v[c]) end
    assert.is_nil(v.sum)
    assert.is_true(m:update(0, cpu_list(function(c) return { a = c, b = 0 } end)))
    v = m:lookup(0)
    for c = 1, NCPUS do assert.same({ a = c, b = 0 }, v[c]) end
  end)

  env.it("are unsigned integers by default and signed when named iN", NEEDS, function()
    local u <close> = assert(maps.array { value_size = 4, max_entries = 1 })
    local s <close> = assert(maps.array { value = "i32", max_entries = 1 })
    assert.is_true(u:update(0, 0xfffffffb))
    assert.is_true(s:update(0, -5))
    assert.equal(0xfffffffb, u:lookup(0))
    assert.equal(-5, s:lookup(0))
    assert.same(oracle.dump(u)[1].value, oracle.dump(s)[1].value)
    assert.equal("\251\255\255\255", oracle.dump(s)[1].value)
    local b <close> = assert(maps.hash { key = "u8", value = "u16", max_entries = 300 })
    for i = 0, 255 do assert.is_true(b:update(i, i * 257)) end
    assert.equal(0xffff, b:lookup(255))
    local w <close> = assert(maps.array { value = "u64", max_entries = 1 })
    assert.is_true(w:update(0, -1)) -- u64 beyond 2^63: Lua's integers wrap
    assert.equal(-1, w:lookup(0))
    assert.equal(string.rep("\255", 8), oracle.dump(w)[1].value)
  end)

  env.it("are byte strings for other sizes, or when named bytes", NEEDS, function()
    local m <close> = assert(maps.hash { key_size = 3, value = "bytes", value_size = 4, max_entries = 2 })
    assert.is_true(m:update("abc", "wxyz"))
    assert.equal("wxyz", m:lookup("abc"))
    assert.same({ abc = "wxyz" }, oracle.dump_map(m))
  end)
end)

describe("maps and programs", function()
  env.it("ld_map_fd takes a Map; the program keeps it alive", NEEDS, function()
    local m = assert(maps.array { value = "u32", max_entries = 1 })
    m[0] = 1234
    local read, prog = oracle.reader(m)
    local weak = setmetatable({ m }, { __mode = "v" })
    m = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_not_nil(weak[1])
    assert.equal(1234, read(0))
    prog:close()
    prog = nil -- luacheck: ignore
    read = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
  end)

  env.it("print type, name, fd and sizes", { "bpf" }, function()
    local m <close> = assert(maps.percpu_hash { key = "u32", value = "u64", max_entries = 7, name = "shown" })
    assert.equal(("ebpfdsl.Map percpu_hash 'shown' fd=%d key_size=4 value_size=8 max_entries=7 (per CPU, %d CPUs)")
      :format(m:fd(), NCPUS), tostring(m))
    m:close()
    assert.equal("ebpfdsl.Map percpu_hash 'shown' (closed)", tostring(m))
  end)

  env.it("open by id, learning type, sizes and name from the kernel", { "bpf" }, function()
    local m <close> = assert(maps.lru_hash { key = "u16", value = "u32", max_entries = 5, name = "byid" })
    m[7] = 70
    local again <close> = assert(maps.open_id(m:id()))
    assert.equal("lru_hash", again:type())
    assert.equal("byid", again:name())
    assert.equal(m:id(), again:id())
    assert.equal(70, again[7])
    local missing, msg, errno = maps.open_id(0x7ffffff0)
    assert.is_nil(missing)
    assert.equal(2, errno)
    assert.matches("open_id", msg, 1, true)
  end)
end)
