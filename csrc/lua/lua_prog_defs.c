/* SPDX-License-Identifier: MIT */
/* The program-type rows of csrc/kernel/prog_defs.c as Lua tables:
 * prog_defs() lists them, prog_def(name) and its kin find one. */
#include "lua_util.h"

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
 *  running kernel names the type) */
static void push_def(lua_State *L, const struct ebpfdsl_prog_def *d)
{
	lua_createtable(L, 0, 16);
	ebpfdsl_lua_set_str(L, "name", d->name);
	ebpfdsl_lua_set_str(L, "section", d->section);
	ebpfdsl_lua_set_str(L, "type", d->prog_type);
	ebpfdsl_lua_set_str(L, "attach_type", d->attach_type);
	for (const struct flag *f = FLAGS; f->key; f++)
		ebpfdsl_lua_set_bool(L, f->key, (d->flags & f->bit) != 0);
	ebpfdsl_lua_set_str(L, "choices", d->choices);
	ebpfdsl_lua_set_str(L, "target", d->target);
	ebpfdsl_lua_set_str(L, "target_prefix", d->target_prefix);
	ebpfdsl_lua_set_str(L, "target_kind", d->target_prefix ? ebpfdsl_btf_kind_name(d->target_kind) : NULL);
	ebpfdsl_lua_set_str(L, "attach_method", d->attach_method);
	ebpfdsl_lua_set_str(L, "attach_as", d->attach_as);
	ebpfdsl_lua_set_str(L, "attach_hint", d->attach_hint);
	if (ebpfdsl_prog_def__type(d) >= 0)
		ebpfdsl_lua_set_int(L, "type_id", ebpfdsl_prog_def__type(d));
	if (ebpfdsl_prog_def__attach_type(d) >= 0)
		ebpfdsl_lua_set_int(L, "attach_type_id", ebpfdsl_prog_def__attach_type(d));
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
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_find(luaL_checkstring(L, 1));
	if (!d)
		return 0;
	push_def(L, d);
	return 1;
}

/* prog_def_of(type[, attach_type]) -> row | nil: the row a program of
 * this type (and expected attach type, names as libbpf's) belongs to */
static int l_prog_def_of(lua_State *L)
{
	const char *tname = luaL_checkstring(L, 1), *aname = luaL_optstring(L, 2, NULL);
	int type = ebpfdsl_prog_type_parse(tname), attach = aname ? ebpfdsl_attach_type_parse(aname) : -1;
	const struct ebpfdsl_prog_def *d;
	if (type < 0)
		return luaL_error(L, "unknown program type '%s'", tname);
	if (aname && attach < 0)
		return luaL_error(L, "unknown attach type '%s'", aname);
	if (!(d = ebpfdsl_prog_def_of(type, attach)))
		return 0;
	push_def(L, d);
	return 1;
}

/* prog_def_target(attach_type) -> row | nil: the row whose BTF target an
 * attach type resolves attach_to by */
static int l_prog_def_target(lua_State *L)
{
	const char *aname = luaL_checkstring(L, 1);
	int attach = ebpfdsl_attach_type_parse(aname);
	const struct ebpfdsl_prog_def *d;
	if (attach < 0)
		return luaL_error(L, "unknown attach type '%s'", aname);
	if (!(d = ebpfdsl_prog_def_target(attach)))
		return 0;
	push_def(L, d);
	return 1;
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
