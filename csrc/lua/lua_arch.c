/* SPDX-License-Identifier: MIT */
/* The per-architecture pt_regs tables as Lua data: core.arches() and
 * core.arch_current(); lua/ebpfdsl/arch.lua builds the API over them. */
#include "lua_util.h"

/* The tables name every slot below nargs/nsyscall_args; the single
 * registers are left out where the name is NULL (ppc64le has no fp). */
static void push_reg(lua_State *L, const struct ebpfdsl_arch_reg *r)
{
	lua_createtable(L, 0, 3);
	ebpfdsl_lua_set_str(L, "name", r->name);
	ebpfdsl_lua_set_int(L, "offset", r->offset);
	ebpfdsl_lua_set_bool(L, "kernel_only", r->kernel_only);
}

static void push_regs(lua_State *L, const struct ebpfdsl_arch_reg *regs, int n)
{
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		push_reg(L, &regs[i]);
		lua_rawseti(L, -2, i + 1);
	}
}

static void push_arch(lua_State *L, const struct ebpfdsl_arch *a)
{
	static const struct {
		const char *key;
		size_t off;
	} singles[] = {
		{ "rc", offsetof(struct ebpfdsl_arch, rc) },
		{ "sp", offsetof(struct ebpfdsl_arch, sp) },
		{ "ip", offsetof(struct ebpfdsl_arch, ip) },
		{ "fp", offsetof(struct ebpfdsl_arch, fp) },
	};
	lua_createtable(L, 0, 16);
	ebpfdsl_lua_set_str(L, "name", a->name);
	ebpfdsl_lua_set_str(L, "target", a->target);
	ebpfdsl_lua_set_str(L, "uapi_struct", a->uapi_struct);
	ebpfdsl_lua_set_int(L, "reg_size", a->reg_size);
	ebpfdsl_lua_set_int(L, "nargs", a->nargs);
	ebpfdsl_lua_set_int(L, "nsyscall_args", a->nsyscall_args);
	ebpfdsl_lua_set_bool(L, "syscall_wrapper", a->syscall_wrapper);
	ebpfdsl_lua_set_str(L, "syscall_prefix", a->syscall_prefix);
	push_regs(L, a->args, a->nargs);
	lua_setfield(L, -2, "args");
	push_regs(L, a->syscall_args, a->nsyscall_args);
	lua_setfield(L, -2, "syscall_args");
	for (size_t i = 0; i < sizeof(singles) / sizeof(singles[0]); i++) {
		const struct ebpfdsl_arch_reg *r = (const void *)((const char *)a + singles[i].off);
		if (r->name) {
			push_reg(L, r);
			lua_setfield(L, -2, singles[i].key);
		}
	}
}

/* arches() -> { {name=, target=, args={ {name=, offset=, kernel_only=} }, ...}, ... } */
static int l_arches(lua_State *L)
{
	const struct ebpfdsl_arch *a;
	lua_newtable(L);
	for (size_t i = 0; (a = ebpfdsl_arch_at(i)) != NULL; i++) {
		push_arch(L, a);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* arch_current() -> the name this library was built for, or nil */
static int l_arch_current(lua_State *L)
{
	const struct ebpfdsl_arch *a = ebpfdsl_arch_current();
	if (!a)
		return 0;
	lua_pushstring(L, a->name);
	return 1;
}

/* arch_find(name) -> canonical name, or nil for a name no table has */
static int l_arch_find(lua_State *L)
{
	const struct ebpfdsl_arch *a = ebpfdsl_arch_find(luaL_checkstring(L, 1));
	if (!a)
		return 0;
	lua_pushstring(L, a->name);
	return 1;
}

void ebpfdsl_lua_open_arch(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "arches", l_arches },
		{ "arch_current", l_arch_current },
		{ "arch_find", l_arch_find },
		{ NULL, NULL },
	};
	luaL_setfuncs(L, funcs, 0);
}
