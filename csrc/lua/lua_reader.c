/* SPDX-License-Identifier: MIT */
/* Shared pieces of the reader bindings; see lua_reader.h. */
#include <limits.h>
#include "lua_reader.h"

size_t ebpfdsl_lua_reader_layout(lua_State *L, int idx, const char *what)
{
	lua_Integer size;
	int isnum;
	const ebpfdsl_layout *cl;
	idx = lua_absindex(L, idx);
	cl = ebpfdsl_lua_tolayout(L, idx);
	if (cl) {
		/* an ebpfdsl.Layout decodes in C: it stands for its own decoder */
		lua_pushvalue(L, idx);
		return ebpfdsl_layout__size(cl);
	}
	if (lua_getfield(L, idx, "size") != LUA_TFUNCTION)
		luaL_error(L, "%s: a layout needs a size() method, got %s", what, luaL_typename(L, idx));
	lua_pushvalue(L, idx);
	lua_call(L, 1, 1);
	size = lua_tointegerx(L, -1, &isnum);
	if (!isnum || size < 1 || size > INT_MAX)
		luaL_error(L, "%s: layout:size() must give a positive integer, got %s", what, luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	if (lua_getfield(L, idx, "decode") != LUA_TFUNCTION)
		luaL_error(L, "%s: a layout needs a decode() method, got %s", what, luaL_typename(L, -1));
	return (size_t)size;
}

void ebpfdsl_lua_reader_push(lua_State *L, int layout, int decoder, size_t size, const void *data, size_t len)
{
	if (size == 0) {
		lua_pushlstring(L, data, len);
		return;
	}
	if (len < size)
		luaL_error(L, "a %d-byte record is shorter than its layout (%d bytes)", (int)len, (int)size);
	if (lua_type(L, decoder) == LUA_TUSERDATA) {
		ebpfdsl_lua_layout_push(L, layout, data, len);
		return;
	}
	layout = lua_absindex(L, layout);
	decoder = lua_absindex(L, decoder);
	lua_pushvalue(L, decoder);
	lua_pushvalue(L, layout);
	lua_pushlstring(L, data, len);
	lua_call(L, 2, 1);
}

int ebpfdsl_lua_reader_timeout(lua_State *L, int idx, int def)
{
	lua_Integer t = luaL_optinteger(L, idx, def);
	if (t < -1 || t > INT_MAX)
		luaL_argerror(L, idx, "timeout must be -1 (no limit) or 0..2^31-1 ms");
	return (int)t;
}
