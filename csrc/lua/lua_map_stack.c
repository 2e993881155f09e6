/* SPDX-License-Identifier: MIT */
/* m:stack(id[, pid or symbolizer]) on a stack_trace map: the stack the
 * kernel stored at id, as symbolized frames (ebpfdsl.symbols), not bytes. */
#include <errno.h>
#include "lua_map.h"

/* Pushes module `name` (require'd: the symbols are Lua's). */
static void require_module(lua_State *L, const char *name)
{
	lua_getglobal(L, "require");
	lua_pushstring(L, name);
	lua_call(L, 1, 1);
}

/* m:stack(id[, who]) -> {{addr=, name=, offset=, module= | file=}, ...}
 * innermost first | nil when the map holds no stack at id | nil, msg,
 * errno when who's symbols cannot be read. who: nil for a kernel stack
 * (/proc/kallsyms), a pid for a user stack of that process (read while it
 * runs), or a symbolizer (symbols.kernel(), symbols.process(pid)). */
static int map_stack(lua_State *L)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	lua_Integer id = luaL_checkinteger(L, 2);
	int who;

	lua_settop(L, 3);
	if (m->type != BPF_MAP_TYPE_STACK_TRACE)
		return luaL_error(L, "stack: %s maps hold no stacks (a stack_trace map does)", ebpfdsl_map_type_str(m));
	if (m->flags & BPF_F_STACK_BUILD_ID)
		return luaL_error(L, "stack: map '%s' holds build ids and offsets (stack_build_id), not addresses",
				  m->name);
	if (id < 0 || id > 0xffffffffLL)
		return luaL_argerror(L, 2, "a stack id is what get_stackid returned, 0..4294967295");
	who = lua_type(L, 3);
	if (who != LUA_TNIL && who != LUA_TNUMBER && who != LUA_TTABLE)
		return luaL_argerror(L, 3, "a pid, a symbolizer, or nil for the kernel");
	require_module(L, "ebpfdsl.symbols"); /* 4 */
	/* the stack's bytes (5), via the map's own lookup */
	lua_getfield(L, 1, "lookup");
	lua_pushvalue(L, 1);
	lua_pushinteger(L, id);
	lua_call(L, 2, 3);
	if (lua_isnil(L, -3)) {
		if (!lua_isnil(L, -2))
			return 3; /* nil, msg, errno */
		lua_pushnil(L);
		return 1; /* no stack at id */
	}
	lua_pop(L, 2);
	/* the symbolizer (6) */
	if (who == LUA_TTABLE) {
		lua_pushvalue(L, 3);
	} else {
		lua_getfield(L, 4, who == LUA_TNIL ? "kernel" : "process");
		if (who == LUA_TNUMBER)
			lua_pushvalue(L, 3);
		lua_call(L, who == LUA_TNUMBER, 3);
		if (lua_isnil(L, -3))
			return 3;
		lua_pop(L, 2);
	}
	lua_getfield(L, 4, "stack");
	lua_insert(L, 5);
	lua_call(L, 2, 1);
	return 1;
}

static const luaL_Reg stack_methods[] = {
	{ "stack", map_stack },
	{ NULL, NULL },
};

void ebpfdsl_lua_map_stack_methods(lua_State *L)
{
	luaL_setfuncs(L, stack_methods, 0);
}
