-- SPDX-License-Identifier: MIT
-- No C function long-jumps past what it owns: the binding runs in a Lua
-- state whose allocator fails from the n-th allocation on, for every n up
-- to the first that lets the call through. Whatever the call raised,
-- once its garbage is collected the process holds no more file
-- descriptors than before (the kernel's /proc/self/fd is the oracle).
local env = require "support.env"

-- A Lua interpreter with budget(n): n more allocations succeed, then all
-- fail until budget(-1); and fds(): the open file descriptors.
local HARNESS = [[
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static long budget = -1;

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	if (budget == 0 && (!ptr || nsize > osize))
		return NULL;
	if (budget > 0)
		budget--;
	return realloc(ptr, nsize);
}

static int l_budget(lua_State *L)
{
	budget = (long)luaL_checkinteger(L, 1);
	return 0;
}

static int l_fds(lua_State *L)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return luaL_error(L, "opendir /proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	lua_pushinteger(L, n);
	return 1;
}

int main(int argc, char **argv)
{
	lua_State *L = lua_newstate(alloc, NULL);
	int st;
	if (argc < 2)
		return 2;
	luaL_openlibs(L);
	lua_register(L, "budget", l_budget);
	lua_register(L, "fds", l_fds);
	st = luaL_loadfile(L, argv[1]);
	for (int i = 2; st == 0 && i < argc; i++)
		lua_pushstring(L, argv[i]);
	if (st == 0)
		st = lua_pcall(L, argc - 2, 0, 0);
	if (st)
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
	lua_close(L);
	return st;
}
]]

local OBJECT = [[
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
int ret_one(struct __sk_buff *skb) { return 1; }
char LICENSE[] SEC("license") = "GPL";
]]

-- fn(...) under every budget until one lets it through: how many budgets
-- made it raise, and the budgets after which descriptors stayed open
local SCRIPT = [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local e = require "ebpfdsl"
local core = require "ebpfdsl.core"
local pin, objpath = ...

local function sweep(fn, ...)
  local raised, leaks = 0, {}
  for n = 0, 1000 do
    collectgarbage(); collectgarbage()
    local before = fds()
    budget(n)
    local ok, r = pcall(fn, ...)
    budget(-1)
    if ok and r then r:close() end
    r = nil -- luacheck: ignore
    collectgarbage(); collectgarbage()
    if fds() ~= before then leaks[#leaks + 1] = n end
    if ok then return raised, leaks end
    raised = raised + 1
  end
  error("never got through")
end

local p = assert(e.programs.load { type = "socket_filter", insns = { e.dsl.mov("r0", 1), e.dsl.exit() } })
os.remove(pin)
assert(p:pin(pin))
local r1, l1 = sweep(core.prog_open_pinned, pin)
p:unpin()
local obj = assert(e.object.open(objpath))
assert(obj:load())
local r2, l2 = sweep(obj.prog, obj, "ret_one")
io.write(("programs.open_pinned %d %s\nobj:prog %d %s\n"):format(r1, table.concat(l1, ","), r2,
  table.concat(l2, ",")))
]]

describe("under failing allocations", function()
  env.it("opening a pinned program or an object's program leaks no fd", { "bpf", "gcc", "clang-19" }, function()
    local dir = env.tmpdir()
    finally(function() os.execute("rm -rf " .. dir) end)
    local function write(name, text)
      local f = assert(io.open(dir .. "/" .. name, "w"))
      f:write(text)
      f:close()
    end
    write("oom.c", HARNESS)
    write("script.lua", SCRIPT)
    write("obj.c", OBJECT)
    env.run(("gcc -O2 -I/usr/include/lua5.4 %s/oom.c -o %s/oom -llua5.4 -lm -ldl"):format(dir, dir))
    local inc = env.run("gcc -print-multiarch"):gsub("%s+$", "")
    env.run(("clang-19 -O2 -target bpf -I/usr/include/%s -c %s/obj.c -o %s/obj.o"):format(inc, dir, dir))
    local pin = env.unique("/sys/fs/bpf/ebpfdsl_spec68_")
    finally(function() os.remove(pin) end)
    local out = env.run(("%s/oom %s/script.lua %s %s/obj.o"):format(dir, dir, pin, dir))
    local r1, l1, r2, l2 = out:match("^programs.open_pinned (%d+) ([%d,]*)\nobj:prog (%d+) ([%d,]*)\n$")
    assert.is_truthy(r1, out)
    -- each call allocates, so some budgets made it raise; none leaked
    assert.is_true(tonumber(r1) > 0)
    assert.is_true(tonumber(r2) > 0)
    assert.equal("", l1, "programs.open_pinned leaked after budgets " .. l1)
    assert.equal("", l2, "obj:prog leaked after budgets " .. l2)
  end)
end)
