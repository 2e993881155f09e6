/* SPDX-License-Identifier: MIT */
/* The instruction set for the Lua surface: helper ids and names from the
 * kernel's list, and the ISA table the DSL's mnemonics are made from. */
#include <limits.h>
#include "lua_asm.h"

/* helper_id(name) -> id | nil, message-with-suggestions */
static int l_helper_id(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	char msg[300];
	int id = ebpfdsl_helper_id(name);
	if (id >= 0) {
		lua_pushinteger(L, id);
		return 1;
	}
	luaL_pushfail(L);
	lua_pushstring(L, ebpfdsl_helper_unknown(name, msg, sizeof(msg)));
	return 2;
}

static int l_helper_name(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	/* checked before narrowing: 2^32 + 1 is no helper, not helper 1 */
	const char *name = id >= 0 && id <= INT_MAX ? ebpfdsl_helper_name((int)id) : NULL;
	if (!name)
		luaL_pushfail(L);
	else
		lua_pushstring(L, name);
	return 1;
}

/* helpers() -> {name = id, ...} for every helper the headers list */
static int l_helpers(lua_State *L)
{
	int n = ebpfdsl_helper_count();
	lua_createtable(L, 0, n);
	for (int id = 1; id < n; id++) {
		const char *name = ebpfdsl_helper_name(id);
		if (!name)
			continue;
		lua_pushinteger(L, id);
		lua_setfield(L, -2, name);
	}
	return 1;
}

/* isa() -> list of {name=, code=, shape=, aux=, cpu=}, in table order */
static int l_isa(lua_State *L)
{
	lua_createtable(L, EBPFDSL_OP_COUNT_, 0);
	for (int i = 0; i < EBPFDSL_OP_COUNT_; i++) {
		const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(i);
		lua_createtable(L, 0, 6);
		ebpfdsl_lua_set_str(L, "name", row->name);
		ebpfdsl_lua_set_int(L, "code", row->code);
		ebpfdsl_lua_set_str(L, "shape", ebpfdsl_shape_name(row->shape));
		if (ebpfdsl_shape_words(row->shape, NULL)) /* the word's arguments (lua_ctor.c) */
			ebpfdsl_lua_set_str(L, "words", ebpfdsl_shape_words(row->shape, NULL));
		ebpfdsl_lua_set_int(L, "aux", row->aux);
		ebpfdsl_lua_set_int(L, "cpu", row->cpu);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static const luaL_Reg isa_functions[] = {
	{ "helper_id", l_helper_id },
	{ "helper_name", l_helper_name },
	{ "helpers", l_helpers },
	{ "isa", l_isa },
	{ "constructors", ebpfdsl_lua_constructors },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_isa(lua_State *L)
{
	luaL_setfuncs(L, isa_functions, 0);
}
