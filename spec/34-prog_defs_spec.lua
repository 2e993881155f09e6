-- SPDX-License-Identifier: MIT
-- The program-type rows (csrc/kernel/prog_defs.c, core.prog_defs) held
-- against libbpf's own section table (a C program built with gcc asks
-- libbpf_prog_type_by_name), the kernel's BTF enums, and the kernel's
-- loads of types that take one attach type only or need one.
local env = require "support.env"
local core = require "ebpfdsl.core"
local dsl = require "ebpfdsl.dsl"
local programs = require "ebpfdsl.programs"
local btf = require "ebpfdsl.btf"

local ROWS = core.prog_defs()

-- libbpf's answer for each section: {[section] = {type=, attach=}} (nil
-- when libbpf does not know the section), and the program and attach
-- type names this libbpf knows.
local ORACLE = [[
#include <stdio.h>
#include <bpf/libbpf.h>
static int quiet(enum libbpf_print_level l, const char *f, va_list a) { (void)l; (void)f; (void)a; return 0; }
int main(int argc, char **argv)
{
	libbpf_set_print(quiet);
	for (int i = 1; i < argc; i++) {
		enum bpf_prog_type t;
		enum bpf_attach_type a;
		if (libbpf_prog_type_by_name(argv[i], &t, &a) == 0)
			printf("S %s %s %s\n", argv[i], libbpf_bpf_prog_type_str(t),
			       libbpf_bpf_attach_type_str(a) ? libbpf_bpf_attach_type_str(a) : "?");
	}
	for (int t = 0; t < 256; t++)
		if (libbpf_bpf_prog_type_str((enum bpf_prog_type)t))
			printf("T %s\n", libbpf_bpf_prog_type_str((enum bpf_prog_type)t));
	for (int a = 0; a < 256; a++)
		if (libbpf_bpf_attach_type_str((enum bpf_attach_type)a))
			printf("A %s\n", libbpf_bpf_attach_type_str((enum bpf_attach_type)a));
	return 0;
}
]]

local function libbpf_says()
  local dir = env.tmpdir()
  local f = assert(io.open(dir .. "/sec.c", "w"))
  f:write(ORACLE)
  f:close()
  env.run(("gcc -std=gnu11 -O0 -o %s/sec %s/sec.c -lbpf"):format(dir, dir))
  local args = {}
  for _, d in ipairs(ROWS) do
    if d.section then args[#args + 1] = "'" .. d.section .. "'" end
  end
  local out = env.run(dir .. "/sec " .. table.concat(args, " "))
  env.run("rm -rf " .. dir)
  local sections, types, attaches = {}, {}, {}
  for line in out:gmatch("[^\n]+") do
    local s, t, a = line:match("^S (%S+) (%S+) (%S+)$")
    if s then sections[s] = { type = t, attach = a } end
    t = line:match("^T (%S+)$")
    if t then types[t] = true end
    a = line:match("^A (%S+)$")
    if a then attaches[a] = true end
  end
  return sections, types, attaches
end

describe("the program-type rows", function()
  it("name each row once, every program type having a row of its own", function()
    local names, own = {}, {}
    for _, d in ipairs(ROWS) do
      assert.is_nil(names[d.name], "two rows named " .. d.name)
      names[d.name] = true
      if not d.implied then
        assert.equal(d.type, d.name, "a row of its own type names it: " .. d.name)
        own[d.type] = true
      end
      assert.same(d, core.prog_def(d.name))
    end
    for _, t in ipairs(programs.types()) do
      if t ~= "unspec" then assert.truthy(own[t], "no row for program type " .. t) end
    end
    assert.is_nil(core.prog_def("no_such_type"))
  end)

  it("keep their flags consistent with their fields", function()
    for _, d in ipairs(ROWS) do
      assert.equal(d.implied or d.default, d.attach_type ~= nil, d.name)
      assert.is_false(d.implied and d.default, d.name)
      assert.equal(d.needs_attach, d.choices ~= nil, d.name)
      assert.equal(d.target_prefix ~= nil, d.target_kind ~= nil, d.name)
      if d.target_prefix then assert.truthy(d.target, d.name) end
      if d.attach_as or d.attach_hint then assert.truthy(d.attach_method, d.name) end
      if d.attach_method then assert.truthy(d.attach_method:match("^attach_%l"), d.name) end
    end
  end)

  env.it("agree with libbpf's section table", "gcc", function()
    local sections, libbpf_types, libbpf_attaches = libbpf_says()
    local compared = 0
    for _, d in ipairs(ROWS) do
      if d.section then
        local theirs = sections[d.section]
        if theirs then
          assert.equal(d.type, theirs.type, "libbpf's type of section " .. d.section)
          local ours = d.attach_type or d.attach_as
          if ours then assert.equal(ours, theirs.attach, "libbpf's attach type of section " .. d.section) end
          compared = compared + 1
        else
          -- a section this libbpf lacks must be of a type it lacks too
          assert.truthy(not libbpf_types[d.type] or (d.attach_type and not libbpf_attaches[d.attach_type]),
            "libbpf knows " .. d.type .. " but not the section " .. d.section)
        end
      end
    end
    assert.is_true(compared >= 30, "only " .. compared .. " sections compared with libbpf")
  end)

  env.it("give the numbers of the kernel's own enums", "btf", function()
    local b = btf.vmlinux()
    local ptypes = b:enum("bpf_prog_type").values
    local atypes = b:enum("bpf_attach_type").values
    for _, d in ipairs(ROWS) do
      assert.equal(ptypes["BPF_PROG_TYPE_" .. d.type:upper()], d.type_id, d.name)
      if d.attach_type then
        assert.equal(atypes["BPF_" .. d.attach_type:upper()], d.attach_type_id, d.name)
      end
      if d.attach_as then assert.truthy(atypes["BPF_" .. d.attach_as:upper()], d.name) end
    end
  end)

  it("are found for a loaded program's type and attach type", function()
    for _, d in ipairs(ROWS) do
      if d.attach_type then
        assert.equal(d.name, core.prog_def_of(d.type, d.attach_type).name)
      end
      if not d.implied then assert.equal(d.name, core.prog_def_of(d.type).name) end
      if d.target_prefix then
        local first = core.prog_def_target(d.attach_type)
        assert.equal(d.target_prefix, first.target_prefix, d.name)
      end
    end
    -- a type loaded with an attach type no row implies is its own row's
    assert.equal("tracing", core.prog_def_of("tracing", "cgroup_inet_ingress").name)
    assert.equal("lsm", core.prog_def_of("lsm", "cgroup_inet_ingress").name)
    -- a struct_ops program's attach type is a member's index: its row whatever the number
    assert.is_true(core.prog_def("struct_ops").member_index)
    assert.equal("struct_ops", core.prog_def_of("struct_ops", "cgroup_inet_egress").name)
    assert.is_nil(core.prog_def_target("cgroup_inet_ingress"))
    assert.has_error(function() core.prog_def_of("nope") end, "unknown program type 'nope'")
  end)

  env.it("name attach methods a Prog has", "bpf", function()
    local p = assert(programs.load { type = "socket_filter", insns = { dsl.mov("r0", 0), dsl.exit() } })
    local named = 0
    for _, d in ipairs(ROWS) do
      if d.attach_method then
        assert.is_function(p[d.attach_method], d.name .. ": no method " .. d.attach_method)
        named = named + 1
      end
    end
    assert.is_true(named >= 25, "only " .. named .. " rows name an attach method")
    p:close()
  end)

  -- The kernel decides which types take one attach type only and which
  -- need one: loaded without it, they are refused; with it, they load.
  for _, d in ipairs(ROWS) do
    local attach = d.attach_type or d.choices and d.choices:match("^([%w_]+)")
    -- (types whose attach types need a BTF target are loaded elsewhere)
    if (d.default or d.needs_attach) and not d.target and not core.prog_def_target(attach) then
      env.it(d.name .. ": the kernel refuses it without an attach type, loads it with " .. attach,
        { "bpf", "prog:" .. d.name }, function()
          local bytes = dsl.assemble { dsl.mov("r0", 1), dsl.exit() }
          local p, msg, err = core.prog_load(d.type, bytes, {})
          assert.is_nil(p, d.name .. " loaded without an attach type")
          assert.equal(22, err, msg) -- EINVAL
          p, msg = core.prog_load(d.type, bytes, { expected_attach_type = attach })
          assert.truthy(p, msg)
          assert.equal(attach, p:expected_attach_type())
          p:close()
          -- and programs.load supplies it, or says it is needed
          if d.default then
            p = assert(programs.load { type = d.name, insns = { dsl.mov("r0", 1), dsl.exit() } })
            assert.equal(attach, p:expected_attach_type())
            p:close()
          else
            assert.has_error(function() programs.load { type = d.name, insns = { dsl.mov("r0", 1), dsl.exit() } } end,
              ("programs.load: type '%s' needs expected_attach_type: %s"):format(d.name, d.choices))
          end
        end)
    end
  end
end)
