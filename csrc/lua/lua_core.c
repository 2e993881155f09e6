/* SPDX-License-Identifier: MIT */
/* luaopen_ebpfdsl_core: the C module behind require "ebpfdsl". Each
 * wrapped type opens itself into the one module table. */
#include "lua_util.h"

__attribute__((visibility("default"))) int luaopen_ebpfdsl_core(lua_State *L);

int luaopen_ebpfdsl_core(lua_State *L)
{
	lua_newtable(L);
	ebpfdsl_lua_open_asm(L);
	ebpfdsl_lua_open_prog(L);
	return 1;
}
