/* SPDX-License-Identifier: MIT */
/* Shared pieces of the binding; see lua_util.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "lua_util.h"

void ebpfdsl_lua_class(lua_State *L, const char *tname, const luaL_Reg *methods, const luaL_Reg *meta)
{
	luaL_newmetatable(L, tname);
	luaL_setfuncs(L, meta, 0);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

void ebpfdsl_lua_class_extend(lua_State *L, const char *tname, const luaL_Reg *methods, int nup)
{
	if (luaL_getmetatable(L, tname) != LUA_TTABLE)
		luaL_error(L, "%s: extended before it was made", tname);
	lua_getfield(L, -1, "__index");
	lua_replace(L, -2);         /* the method table, in place of the metatable */
	lua_insert(L, -(nup + 1));  /* below the upvalues */
	luaL_setfuncs(L, methods, nup);
	lua_pop(L, 1);
}

int ebpfdsl_lua_fail(lua_State *L, int err, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	luaL_pushfail(L);
	/* 524 is the kernel's ENOTSUPP, which libc has no text for */
	lua_pushfstring(L, "%s: %s", what, err == 524 ? "not supported (ENOTSUPP)" : strerror(err));
	lua_pushinteger(L, err);
	return 3;
}

int ebpfdsl_lua_fail_msg(lua_State *L, int err, const char *msg)
{
	luaL_pushfail(L);
	lua_pushstring(L, msg);
	lua_pushinteger(L, err < 0 ? -err : err);
	return 3;
}

void ebpfdsl_lua_set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

void ebpfdsl_lua_set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

void ebpfdsl_lua_set_bool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

/* Option tables are plain data and are read raw: an __index function
 * could make up a value that nothing holds once it is popped (a string
 * the collector may free while C still reads it), or change the table
 * between two reads. */
lua_Integer ebpfdsl_lua_optint_field(lua_State *L, int idx, const char *field, lua_Integer def)
{
	lua_Integer v = def;
	idx = lua_absindex(L, idx);
	lua_pushstring(L, field);
	if (lua_rawget(L, idx) != LUA_TNIL && !ebpfdsl_lua_getinteger(L, -1, &v))
		luaL_error(L, "field '%s' must be an integer, got %s", field, luaL_typename(L, -1));
	lua_pop(L, 1);
	return v;
}

const char *ebpfdsl_lua_optstr_field(lua_State *L, int idx, const char *field, const char *def, size_t *len)
{
	const char *s = def;
	if (len)
		*len = def ? strlen(def) : 0;
	idx = lua_absindex(L, idx);
	lua_pushstring(L, field);
	if (lua_rawget(L, idx) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "field '%s' must be a string, got %s", field, luaL_typename(L, -1));
		s = lua_tolstring(L, -1, len);
	}
	lua_pop(L, 1); /* the string stays alive: the table itself holds it */
	return s;
}

int ebpfdsl_lua_tofd(lua_State *L, int idx, const char *what)
{
	int isnum;
	lua_Integer fd;
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) == LUA_TNUMBER) {
		fd = lua_tointegerx(L, idx, &isnum);
	} else {
		if (lua_type(L, idx) != LUA_TUSERDATA && lua_type(L, idx) != LUA_TTABLE)
			return luaL_error(L, "%s: expected an fd or an object with :fd(), got %s", what,
					  luaL_typename(L, idx));
		if (lua_getfield(L, idx, "fd") != LUA_TFUNCTION)
			return luaL_error(L, "%s: %s has no fd method", what, luaL_typename(L, idx));
		lua_pushvalue(L, idx);
		lua_call(L, 1, 1);
		fd = lua_tointegerx(L, -1, &isnum);
		lua_pop(L, 1);
	}
	if (!isnum || fd < 0 || fd > 0x7fffffff)
		return luaL_error(L, "%s: not a valid file descriptor", what);
	return (int)fd;
}
