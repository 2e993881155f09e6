/* SPDX-License-Identifier: MIT */
/* luaopen_ebpfdsl_core: the C module behind require "ebpfdsl". Each
 * wrapped type opens itself into the one module table. */
#include <time.h>
#include "lua_util.h"

__attribute__((visibility("default"))) int luaopen_ebpfdsl_core(lua_State *L);

/* monotime_ns() -> nanoseconds of CLOCK_MONOTONIC, for timing */
static int l_monotime_ns(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000000000 + ts.tv_nsec);
	return 1;
}

int luaopen_ebpfdsl_core(lua_State *L)
{
	/* helpers newer than the build host's header, from the kernel's BTF
	 * the first time a name is not in the header's list */
	ebpfdsl_helpers_set_loader(ebpfdsl_helpers_load_kernel);
	lua_newtable(L);
	lua_pushcfunction(L, l_monotime_ns);
	lua_setfield(L, -2, "monotime_ns");
	ebpfdsl_lua_open_asm(L);
	ebpfdsl_lua_open_builder(L);
	ebpfdsl_lua_open_disasm(L);
	ebpfdsl_lua_open_isa(L);
	ebpfdsl_lua_open_prog(L);
	ebpfdsl_lua_open_prog_load(L);
	ebpfdsl_lua_open_prog_defs(L);
	ebpfdsl_lua_open_map(L);
	ebpfdsl_lua_open_layout(L);
	ebpfdsl_lua_open_arch(L);
	ebpfdsl_lua_open_tracefs(L);
	ebpfdsl_lua_open_btf(L);
	ebpfdsl_lua_open_btfw(L);
	ebpfdsl_lua_open_btf_value(L);
	ebpfdsl_lua_open_object(L);
	ebpfdsl_lua_open_link(L);
	ebpfdsl_lua_open_attach(L);
	ebpfdsl_lua_open_ringbuf(L);
	ebpfdsl_lua_open_perfbuf(L);
	ebpfdsl_lua_open_user_ringbuf(L);
	ebpfdsl_lua_open_explain(L);
	ebpfdsl_lua_open_symtab(L);
	ebpfdsl_lua_open_features(L);
	return 1;
}
