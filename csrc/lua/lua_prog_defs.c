/* SPDX-License-Identifier: MIT */
/* The program-type rows of csrc/kernel/prog_defs.c as Lua tables:
 * prog_defs() lists them, prog_def(name) and its kin find one. */
#include "lua_opts.h"

/* The row's flags as booleans, by key */
static const struct flag {
	const char *key;
	unsigned bit;
} FLAGS[] = {
	{ "implied", EBPFDSL_PROG_DEF_IMPLIED },
	{ "default", EBPFDSL_PROG_DEF_DEFAULT },
	{ "needs_attach", EBPFDSL_PROG_DEF_NEEDS_ATTACH },
	{ "trampoline", EBPFDSL_PROG_DEF_TRAMPOLINE },
	{ "ctx_in_only", EBPFDSL_PROG_DEF_CTX_IN_ONLY },
	{ "member_index", EBPFDSL_PROG_DEF_MEMBER_INDEX },
	{ "ctx_written", EBPFDSL_PROG_DEF_CTX_WRITTEN },
	{ NULL, 0 },
};

/* {name=, section=, type=, attach_type=, the flags above, choices=,
 *  target=, target_prefix=, target_kind=, attach_method=, attach_as=,
 *  attach_hint=, type_id=, attach_type_id=} (the numbers: nil when neither libbpf nor the
 *  running kernel names the type); pushes it and returns 1, or 0 for no row */
#define DEF_STR(k) EBPFDSL_OPT_STR(struct ebpfdsl_prog_def, #k, k)
static const struct ebpfdsl_lua_opt def_rows[] = {
	DEF_STR(name), DEF_STR(section), EBPFDSL_OPT_STR(struct ebpfdsl_prog_def, "type", prog_type),
	DEF_STR(attach_type), DEF_STR(choices), DEF_STR(target), DEF_STR(target_prefix),
	DEF_STR(attach_method), DEF_STR(attach_as), DEF_STR(attach_hint), EBPFDSL_OPT_END,
};

static int push_def(lua_State *L, const struct ebpfdsl_prog_def *d)
{
	if (!d)
		return 0;
	lua_createtable(L, 0, 16);
	ebpfdsl_lua_opts_push(L, d, def_rows);
	for (const struct flag *f = FLAGS; f->key; f++)
		ebpfdsl_lua_set_bool(L, f->key, (d->flags & f->bit) != 0);
	if (d->target_prefix)
		ebpfdsl_lua_set_str(L, "target_kind", ebpfdsl_btf_kind_name(d->target_kind));
	if (ebpfdsl_prog_def__type(d) >= 0)
		ebpfdsl_lua_set_int(L, "type_id", ebpfdsl_prog_def__type(d));
	if (ebpfdsl_prog_def__attach_type(d) >= 0)
		ebpfdsl_lua_set_int(L, "attach_type_id", ebpfdsl_prog_def__attach_type(d));
	return 1;
}

/* prog_defs() -> {row, ...} in the table's order */
static int l_prog_defs(lua_State *L)
{
	const struct ebpfdsl_prog_def *d;
	size_t i;
	lua_newtable(L);
	for (i = 0; (d = ebpfdsl_prog_def_at(i)); i++) {
		push_def(L, d);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* prog_def(name) -> row | nil */
static int l_prog_def(lua_State *L)
{
	return push_def(L, ebpfdsl_prog_def_find(luaL_checkstring(L, 1)));
}

/* prog_def_of(type[, attach_type]) -> row | nil: the row a program of
 * this type (and expected attach type, names as libbpf's) belongs to */
static int l_prog_def_of(lua_State *L)
{
	const char *tname = luaL_checkstring(L, 1), *aname = luaL_optstring(L, 2, NULL);
	int type = ebpfdsl_prog_type_parse(tname), attach = aname ? ebpfdsl_attach_type_parse(aname) : -1;
	if (type < 0)
		return luaL_error(L, "unknown program type '%s'", tname);
	if (aname && attach < 0)
		return luaL_error(L, "unknown attach type '%s'", aname);
	return push_def(L, ebpfdsl_prog_def_of(type, attach));
}

/* prog_def_target(attach_type) -> row | nil: the row whose BTF target an
 * attach type resolves attach_to by */
static int l_prog_def_target(lua_State *L)
{
	const char *aname = luaL_checkstring(L, 1);
	int attach = ebpfdsl_attach_type_parse(aname);
	if (attach < 0)
		return luaL_error(L, "unknown attach type '%s'", aname);
	return push_def(L, ebpfdsl_prog_def_target(attach));
}

static const luaL_Reg prog_def_functions[] = {
	{ "prog_def_of", l_prog_def_of },
	{ "prog_def_target", l_prog_def_target },
	{ "prog_defs", l_prog_defs },
	{ "prog_def", l_prog_def },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_prog_defs(lua_State *L)
{
	luaL_setfuncs(L, prog_def_functions, 0);
}
