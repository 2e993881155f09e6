/* SPDX-License-Identifier: MIT */
/* explain(errno, {op=, map_type=, max_entries=, value_size=, index=,
 * prog_type=, attach_type=}) and privileged(): the table of what errnos
 * mean per operation (csrc/kernel/explain.c), for Lua. */
#include "lua_opts.h"

/* explain()'s options: the numbers straight into the C struct, the type
 * names beside it until they are parsed */
struct explain_args {
	struct ebpfdsl_explain w;
	const char *map_type, *prog_type, *attach_type;
};
#define EXPLAIN_STR(k) EBPFDSL_OPT_STR(struct explain_args, #k, k)
static const struct ebpfdsl_lua_opt explain_rows[] = {
	EBPFDSL_OPT_STR(struct explain_args, "op", w.op),
	EXPLAIN_STR(map_type),
	EXPLAIN_STR(prog_type),
	EXPLAIN_STR(attach_type),
	EBPFDSL_OPT_U32(struct explain_args, "max_entries", w.max_entries),
	EBPFDSL_OPT_U32(struct explain_args, "value_size", w.value_size),
	EBPFDSL_OPT_I64(struct explain_args, "index", w.index, -1, 0, 0),
	EBPFDSL_OPT_END,
};

/* A type name of the options parsed by parse (-1: none given); raises on
 * an unknown one. */
static int type_of(lua_State *L, const char *name, int (*parse)(const char *), const char *what)
{
	int v = name ? parse(name) : -1;
	if (name && v < 0)
		luaL_error(L, "explain: unknown %s '%s'", what, name);
	return v;
}

/* explain(errno, what) -> text | nil */
static int l_explain(lua_State *L)
{
	struct explain_args a;
	lua_Integer err = luaL_checkinteger(L, 1);
	char buf[256];
	luaL_checktype(L, 2, LUA_TTABLE);
	ebpfdsl_lua_opts_read(L, 2, "explain", explain_rows, &a);
	a.w.sz = sizeof(a.w);
	a.w.op = a.w.op ? a.w.op : "";
	a.w.map_type = type_of(L, a.map_type, ebpfdsl_map_type_parse, "map type");
	a.w.prog_type = type_of(L, a.prog_type, ebpfdsl_prog_type_parse, "program type");
	a.w.attach_type = type_of(L, a.attach_type, ebpfdsl_attach_type_parse, "attach type");
	if (!ebpfdsl_explain((int)err, &a.w, buf, sizeof(buf))) {
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
