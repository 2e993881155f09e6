/* SPDX-License-Identifier: MIT */
/* The feature probes of csrc/kernel/features.c as module functions, each
 * giving true or false, why, errno; ebpfdsl.features caches what they say. */
#include <errno.h>
#include <string.h>
#include "lua_util.h"

#define WHY_LEN 512

static int result(lua_State *L, int r, const char *why)
{
	if (r == 1) {
		lua_pushboolean(L, 1);
		return 1;
	}
	lua_pushboolean(L, 0);
	lua_pushstring(L, why);
	lua_pushinteger(L, r < 0 ? -r : EINVAL);
	return 3;
}

/* probe_map_type(name) -> true | false, why, errno; raises for unknown names */
static int l_probe_map_type(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int t = ebpfdsl_map_type_parse(name);
	char why[WHY_LEN];
	if (t < 0)
		return luaL_error(L, "unknown map type '%s'", name);
	return result(L, ebpfdsl_probe_map_type(t, why, sizeof(why)), why);
}

/* probe_prog_type(name[, helper]) -> true | false, why, errno */
static int l_probe_prog_type(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1), *helper = luaL_optstring(L, 2, NULL);
	int t = ebpfdsl_prog_type_parse(name), h;
	char why[WHY_LEN];
	if (t < 0)
		return luaL_error(L, "unknown program type '%s'", name);
	if (!helper)
		return result(L, ebpfdsl_probe_prog_type(t, why, sizeof(why)), why);
	h = ebpfdsl_helper_id(helper);
	if (h < 0)
		return luaL_error(L, "unknown helper '%s'", helper);
	return result(L, ebpfdsl_probe_helper(t, h, why, sizeof(why)), why);
}

/* probe_kind(kind, attach) -> true | false, why, errno */
static int l_probe_kind(lua_State *L)
{
	const char *kind = luaL_checkstring(L, 1);
	int found = 0;
	char why[WHY_LEN];
	for (size_t i = 0; ebpfdsl_probe_kind_name(i); i++)
		found |= strcmp(ebpfdsl_probe_kind_name(i), kind) == 0;
	if (!found)
		return luaL_error(L, "unknown attach kind '%s'", kind);
	return result(L, ebpfdsl_probe_kind(kind, lua_toboolean(L, 2), why, sizeof(why)), why);
}

static int l_probe_kinds(lua_State *L)
{
	lua_newtable(L);
	for (size_t i = 0; ebpfdsl_probe_kind_name(i); i++) {
		lua_pushstring(L, ebpfdsl_probe_kind_name(i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int l_probe_test_run(lua_State *L)
{
	char why[WHY_LEN];
	return result(L, ebpfdsl_probe_test_run(why, sizeof(why)), why);
}

static int l_probe_btf(lua_State *L)
{
	char why[WHY_LEN];
	return result(L, ebpfdsl_probe_btf(why, sizeof(why)), why);
}

static int l_probe_perf_link_info(lua_State *L)
{
	char why[WHY_LEN];
	return result(L, ebpfdsl_probe_perf_link_info(why, sizeof(why)), why);
}

/* probe_insn(name) -> true | false, why, errno */
static int l_probe_insn(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int found = 0;
	char why[WHY_LEN];
	for (size_t i = 0; ebpfdsl_probe_insn_name(i); i++)
		found |= strcmp(ebpfdsl_probe_insn_name(i), name) == 0;
	if (!found)
		return luaL_error(L, "unknown instruction family '%s'", name);
	return result(L, ebpfdsl_probe_insn(name, why, sizeof(why)), why);
}

static int l_probe_insns(lua_State *L)
{
	lua_newtable(L);
	for (size_t i = 0; ebpfdsl_probe_insn_name(i); i++) {
		lua_pushstring(L, ebpfdsl_probe_insn_name(i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static const luaL_Reg feature_functions[] = {
	{ "probe_map_type", l_probe_map_type },
	{ "probe_prog_type", l_probe_prog_type },
	{ "probe_kind", l_probe_kind },
	{ "probe_kinds", l_probe_kinds },
	{ "probe_test_run", l_probe_test_run },
	{ "probe_btf", l_probe_btf },
	{ "probe_perf_link_info", l_probe_perf_link_info },
	{ "probe_insn", l_probe_insn },
	{ "probe_insns", l_probe_insns },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_features(lua_State *L)
{
	luaL_setfuncs(L, feature_functions, 0);
}
