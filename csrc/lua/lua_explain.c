/* SPDX-License-Identifier: MIT */
/* explain(errno, {op=, map_type=, max_entries=, value_size=, index=,
 * prog_type=, attach_type=}) and privileged(): the table of what errnos
 * mean per operation (csrc/kernel/explain.c), for Lua. */
#include <string.h>
#include "lua_util.h"

/* explain(errno, what) -> text | nil */
static int l_explain(lua_State *L)
{
	struct ebpfdsl_explain w = { .sz = sizeof(w), .map_type = -1, .index = -1, .prog_type = -1, .attach_type = -1 };
	lua_Integer err = luaL_checkinteger(L, 1);
	const char *t;
	char buf[256];
	luaL_checktype(L, 2, LUA_TTABLE);
	w.op = ebpfdsl_lua_optstr_field(L, 2, "op", "", NULL);
	if ((t = ebpfdsl_lua_optstr_field(L, 2, "map_type", NULL, NULL)) != NULL &&
	    (w.map_type = ebpfdsl_map_type_parse(t)) < 0)
		return luaL_error(L, "explain: unknown map type '%s'", t);
	if ((t = ebpfdsl_lua_optstr_field(L, 2, "prog_type", NULL, NULL)) != NULL &&
	    (w.prog_type = ebpfdsl_prog_type_parse(t)) < 0)
		return luaL_error(L, "explain: unknown program type '%s'", t);
	if ((t = ebpfdsl_lua_optstr_field(L, 2, "attach_type", NULL, NULL)) != NULL &&
	    (w.attach_type = ebpfdsl_attach_type_parse(t)) < 0)
		return luaL_error(L, "explain: unknown attach type '%s'", t);
	w.max_entries = (uint32_t)ebpfdsl_lua_optint_field(L, 2, "max_entries", 0);
	w.value_size = (uint32_t)ebpfdsl_lua_optint_field(L, 2, "value_size", 0);
	w.index = ebpfdsl_lua_optint_field(L, 2, "index", -1);
	if (!ebpfdsl_explain((int)err, &w, buf, sizeof(buf))) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushstring(L, buf);
	return 1;
}

static int l_privileged(lua_State *L)
{
	lua_pushboolean(L, ebpfdsl_privileged());
	return 1;
}

static const luaL_Reg functions[] = {
	{ "explain", l_explain },
	{ "privileged", l_privileged },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_explain(lua_State *L)
{
	luaL_setfuncs(L, functions, 0);
}
