-- SPDX-License-Identifier: MIT
-- Helper ids and names held against the installed kernel header: the
-- __BPF_FUNC_MAPPER list of <linux/bpf.h>, parsed here on its own, gives
-- every id in order from 0; ours must agree for every name, with and
-- without the bpf_ prefix, and unknown names must suggest near ones.
local dsl = require "ebpfdsl.dsl"

local HEADER = "/usr/include/linux/bpf.h"

-- { [id] = name } from the header: FN(name) lines count from 0 (6.1),
-- FN(name, id, ...) lines carry their id (6.2 and later).
local function parse_header()
  local f = assert(io.open(HEADER, "rb"))
  local text = f:read("a")
  f:close()
  -- the list opens with FN(unspec...) inside the mapper macro (6.2 and
  -- later put it in ___BPF_FUNC_MAPPER) and goes on while lines end with
  -- a backslash
  local at = text:find("\n%s*FN%(unspec")
  assert(at and text:find("__BPF_FUNC_MAPPER", 1, true), "no __BPF_FUNC_MAPPER list in " .. HEADER)
  local rest = text:sub(at + 1)
  local list, n = {}, 0
  for line in rest:gmatch("([^\n]*)\n") do
    local name, id = line:match("^%s*FN%(([%w_]+)%s*,%s*(%d+)")
    if not name then name = line:match("^%s*FN%(([%w_]+)%)") end
    if name then
      id = id and tonumber(id) or n
      list[id] = name
      n = n + 1
    end
    if not line:match("\\%s*$") then break end
  end
  return list, n
end

local HEADER_IDS, COUNT = parse_header()

-- { [id] = name } of the running kernel: enum bpf_func_id as bpftool reads
-- it from the kernel's BTF; {} and 0 when bpftool or the BTF is missing
local function parse_kernel()
  local p = io.popen("bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null")
  local text = p:read("a")
  p:close()
  local body = text:match("ENUM 'bpf_func_id'[^\n]*\n(.-)\n%[") or ""
  local ids, n = {}, 0
  for name, val in body:gmatch("'BPF_FUNC_([%w_]+)' val=(%d+)") do
    ids[tonumber(val)] = name
    if tonumber(val) >= n then n = tonumber(val) + 1 end
  end
  return ids, n
end

local KERNEL_IDS, KERNEL_COUNT = parse_kernel()
if KERNEL_COUNT < COUNT then KERNEL_COUNT = COUNT end

describe("helper ids against " .. HEADER, function()
  it("finds the whole list, from unspec at 0", function()
    assert.equal("unspec", HEADER_IDS[0])
    assert.equal("map_lookup_elem", HEADER_IDS[1])
    assert.is_true(COUNT > 200, "only " .. COUNT .. " helpers parsed")
    for id = 0, COUNT - 1 do assert(HEADER_IDS[id], "gap at id " .. id) end
  end)

  it("gives every helper's id by name, with and without bpf_", function()
    local bad = {}
    for id = 1, COUNT - 1 do
      local name = HEADER_IDS[id]
      if dsl.helper_id(name) ~= id then bad[#bad + 1] = ("%s: %s, header %d"):format(name, dsl.helper_id(name), id) end
      if dsl.helper_id("bpf_" .. name) ~= id then bad[#bad + 1] = "bpf_" .. name end
    end
    assert.same({}, bad)
  end)

  it("gives every helper's name by id, without the prefix", function()
    local bad = {}
    for id = 1, COUNT - 1 do
      if dsl.helper_name(id) ~= HEADER_IDS[id] then
        bad[#bad + 1] = ("%d: %s, header %s"):format(id, tostring(dsl.helper_name(id)), HEADER_IDS[id])
      end
    end
    assert.same({}, bad)
  end)

  it("knows nothing beyond the header's list and the kernel's, nor unspec", function()
    assert.is_nil(dsl.helper_name(0))
    assert.is_nil(dsl.helper_name(-1))
    assert.is_nil(dsl.helper_name(KERNEL_COUNT))
    assert.is_nil(dsl.helper_name(math.maxinteger))
    -- not truncated to 32 bits first: 2^32 + 1 is not map_lookup_elem
    assert.is_nil(dsl.helper_name((1 << 32) + 1))
    assert.is_nil(dsl.helper_name(-(1 << 32) + 5))
    assert.is_nil((dsl.helper_id("unspec")))
    assert.is_nil((dsl.helper_id("bpf_unspec")))
  end)

  it("lists the same set in helpers(), and a helper_<name> constructor for each", function()
    local want = {}
    for id = 1, COUNT - 1 do want[HEADER_IDS[id]] = id end
    assert.same(want, dsl.helpers())
    for name, id in pairs(want) do
      local list = dsl["helper_" .. name]()
      assert.same({ { op = "call", imm = id, helper = name } }, list)
    end
  end)

  it("calls by name and by id assemble to the header's id", function()
    for _, id in ipairs { 1, 5, 14, 35, 130, COUNT - 1 } do
      local name = HEADER_IDS[id]
      local want = string.pack("<BBi2i4", 0x85, 0, 0, id)
      assert.equal(want, dsl.assemble { dsl.call(name) })
      assert.equal(want, dsl.assemble { dsl.call("bpf_" .. name) })
      assert.equal(want, dsl.assemble { { op = "call", helper = name } })
      assert.equal(want, dsl.assemble { dsl.call(id) })
    end
  end)
end)

describe("helper ids the header does not know, from the running kernel's BTF", function()
  local env = require "support.env"
  env.it("name every id past the header's as the kernel's enum bpf_func_id does", { "bpftool", "btf" }, function()
    assert.is_true(next(KERNEL_IDS) ~= nil, "bpftool found no enum bpf_func_id")
    local bad = {}
    for id = 1, KERNEL_COUNT - 1 do
      local want = HEADER_IDS[id] or KERNEL_IDS[id]
      if dsl.helper_name(id) ~= want then
        bad[#bad + 1] = ("%d: %s, kernel %s"):format(id, tostring(dsl.helper_name(id)), tostring(want))
      end
      if want and dsl.helper_id(want) ~= id then bad[#bad + 1] = want end
    end
    assert.same({}, bad)
  end)

  env.it("are called by name, and suggested near a misspelling", { "bpftool", "btf" }, function()
    for id = COUNT, KERNEL_COUNT - 1 do
      local name = KERNEL_IDS[id]
      assert.equal(string.pack("<BBi2i4", 0x85, 0, 0, id), dsl.assemble { dsl.call(name) })
      assert.same({ { op = "call", imm = id, helper = name } }, dsl["helper_" .. name]())
      local _, msg = dsl.helper_id(name .. "x")
      assert.matches("did you mean '" .. name .. "'", msg, 1, true)
    end
  end)
end)

describe("suggestions for unknown helper names", function()
  -- each query with names that must be among the suggestions (first one first)
  local cases = {
    { "ktime_get_nss", { "ktime_get_ns" } },
    { "bpf_ktime_get_nss", { "ktime_get_ns" } },
    { "map_lookup", { "map_lookup_elem" } },
    { "map_lookup_elm", { "map_lookup_elem" } },
    { "trace_printf", { "trace_printk" } },
    { "get_current_pid", { "get_current_pid_tgid" } },
    { "ringbuf_out", { "ringbuf_output" } },
    { "redirect_mapp", { "redirect_map" } },
    { "map-lookup-elem", { "map_lookup_elem" } },
    { "probe_read_kernal", { "probe_read_kernel" } },
    { "MAP_LOOKUP_ELEM", { "map_lookup_elem" } },
    { "Ktime_Get_Ns", { "ktime_get_ns" } },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local id, msg = dsl.helper_id(c[1])
      assert.is_nil(id)
      local prefix = ("unknown helper '%s'; did you mean "):format(c[1])
      assert.equal(prefix, msg:sub(1, #prefix))
      local named = {}
      for n in msg:sub(#prefix + 1):gmatch("'([%w_]+)'") do named[#named + 1] = n end
      assert.equal(c[2][1], named[1])
      assert.is_true(#named <= 4)
      -- every suggestion is a real helper
      for _, n in ipairs(named) do assert.is_not_nil(dsl.helper_id(n)) end
    end)
  end

  it("suggests nothing for a name near no helper", function()
    local _, msg = dsl.helper_id("zzzzzzzz")
    assert.equal("unknown helper 'zzzzzzzz'", msg)
  end)

  it("raise from call with the same suggestions", function()
    local ok, err = pcall(dsl.call, "ktime_get_nss")
    assert.is_false(ok)
    assert.matches("call: unknown helper 'ktime_get_nss'; did you mean 'ktime_get_ns'", err, 1, true)
  end)
end)
