/* SPDX-License-Identifier: MIT */
/* `lua_run script args...` runs a Lua script as lua5.4 does (the arg table,
 * the script's varargs, its exit status), for `make asan`: built with
 * AddressSanitizer and UBSan, it loads their runtimes itself, so an
 * instrumented core.so can be required without LD_PRELOAD, which every
 * child process (gcc, clang, sh) would inherit. */
#include <stdio.h>
#include <stdlib.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	return 1;
}

int main(int argc, char **argv)
{
	lua_State *L;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: lua_run script [args]\n");
		return 2;
	}
	L = luaL_newstate();
	if (!L)
		return 1;
	luaL_openlibs(L);
	/* arg[0] is the script, arg[-1] this program, as lua.c sets them */
	lua_createtable(L, argc, 1);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - 1);
	}
	lua_setglobal(L, "arg");
	lua_pushcfunction(L, traceback);
	status = luaL_loadfile(L, argv[1]);
	if (status == LUA_OK) {
		for (int i = 2; i < argc; i++)
			lua_pushstring(L, argv[i]);
		status = lua_pcall(L, argc - 2, 0, 1);
	}
	if (status != LUA_OK)
		fprintf(stderr, "lua_run: %s\n", lua_tostring(L, -1));
	lua_close(L);
	return status == LUA_OK ? 0 : 1;
}
