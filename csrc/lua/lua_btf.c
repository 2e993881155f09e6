/* SPDX-License-Identifier: MIT */
/* ebpfdsl.BTF: the kernel's (or a file's) type information as Lua tables:
 * types with their members, functions with their parameters, enums, ids,
 * C spellings of types, and offsets of member paths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/btf.h>
#include "lua_util.h"

static const char *const BTF = "ebpfdsl.BTF";

struct lbtf {
	ebpfdsl_btf *b; /* NULL: closed */
	int owned;      /* 0 for the shared vmlinux BTF */
};

static struct lbtf *check_btf(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, BTF);
}

static const ebpfdsl_btf *check_open(lua_State *L, int idx)
{
	struct lbtf *u = check_btf(L, idx);
	if (!u->b)
		luaL_error(L, "attempt to use a closed %s", BTF);
	return u->b;
}

/* The kernel's BTF is shared by the whole process (btf.vmlinux() hands out
 * one handle): closing it does nothing, so no caller can break another. */
static int btf_close(lua_State *L)
{
	struct lbtf *u = check_btf(L, 1);
	if (!u->owned)
		return 0;
	ebpfdsl_btf__free(u->b);
	u->b = NULL;
	return 0;
}

static int btf_tostring(lua_State *L)
{
	struct lbtf *u = check_btf(L, 1);
	if (!u->b)
		lua_pushfstring(L, "%s (closed)", BTF);
	else
		lua_pushfstring(L, "%s %s (%d types)", BTF, ebpfdsl_btf__source(u->b),
				(int)ebpfdsl_btf__type_count(u->b) - 1);
	return 1;
}

static struct lbtf *new_btf(lua_State *L)
{
	struct lbtf *u = lua_newuserdatauv(L, sizeof(*u), 0);
	u->b = NULL;
	u->owned = 0;
	luaL_setmetatable(L, BTF);
	return u;
}

/* btf_vmlinux() -> BTF | nil, msg, errno */
static int l_btf_vmlinux(lua_State *L)
{
	struct lbtf *u = new_btf(L);
	const ebpfdsl_btf *b = ebpfdsl_btf__vmlinux();
	if (!b)
		return ebpfdsl_lua_fail_libbpf(L, errno, "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux)");
	u->b = (ebpfdsl_btf *)(uintptr_t)b; /* shared: close never frees it */
	return 1;
}

/* btf_load(path[, base]) -> BTF | nil, msg, errno */
static int l_btf_load(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const ebpfdsl_btf *base = lua_isnoneornil(L, 2) ? NULL : check_open(L, 2);
	struct lbtf *u = new_btf(L);
	u->b = ebpfdsl_btf__load(path, base);
	if (!u->b)
		return ebpfdsl_lua_fail_libbpf(L, errno, "cannot read BTF from %s", path);
	u->owned = 1; /* split BTF holds its own reference on its base */
	return 1;
}

/* btf_from_bytes(bytes[, name]) -> BTF | nil, msg, errno: raw BTF (what
 * a BTF writer gives), parsed by libbpf */
static int l_btf_from_bytes(lua_State *L)
{
	size_t len;
	const char *bytes = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "bytes");
	struct lbtf *u = new_btf(L);
	u->b = ebpfdsl_btf__new_raw(bytes, len, name);
	if (!u->b)
		return ebpfdsl_lua_fail(L, errno, "cannot parse BTF from %s (%d bytes)", name, (int)len);
	u->owned = 1;
	return 1;
}

#define BTF_LOG_SIZE (64 * 1024)

/* b:load() -> b | nil, msg, errno, log: into the kernel, for maps and
 * programs; the BTF owns the fd, which closes with it */
static int btf_load_kernel(lua_State *L)
{
	struct lbtf *u = check_btf(L, 1);
	char *log;
	int fd;
	if (!u->b)
		return luaL_error(L, "attempt to use a closed %s", BTF);
	if (!u->owned)
		return luaL_error(L, "the kernel's own BTF is in the kernel already");
	log = lua_newuserdatauv(L, BTF_LOG_SIZE, 0); /* GC-owned */
	fd = ebpfdsl_btf__load_kernel(u->b, log, BTF_LOG_SIZE);
	if (fd < 0) {
		char err[1024];
		ebpfdsl_btf__refusal(u->b, -fd, log, err, sizeof(err));
		luaL_pushfail(L);
		lua_pushstring(L, err);
		lua_pushinteger(L, -fd);
		lua_pushstring(L, log);
		return 4;
	}
	lua_settop(L, 1);
	return 1;
}

/* btf_kernel(module) -> BTF | nil, msg, errno: a module's BTF, holding
 * the fd of the kernel's BTF object for it (b:fd()) */
static int l_btf_kernel(lua_State *L)
{
	const char *module = luaL_checkstring(L, 1);
	struct lbtf *u = new_btf(L);
	u->b = ebpfdsl_btf__kernel(module);
	if (!u->b)
		return ebpfdsl_lua_fail(L, errno, "cannot open the BTF of kernel module '%s' (/sys/kernel/btf/%s)", module,
					module);
	u->owned = 1;
	return 1;
}

static int add_module(void *ctx, const char *module)
{
	lua_State *L = ctx;
	lua_pushstring(L, module);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	return 0;
}

/* btf_modules() -> the modules with BTF in /sys/kernel/btf, vmlinux aside */
static int l_btf_modules(lua_State *L)
{
	int n;
	lua_newtable(L);
	n = ebpfdsl_btf_modules(add_module, L);
	if (n < 0)
		return ebpfdsl_lua_fail(L, -n, "/sys/kernel/btf");
	return 1;
}

static int set_kfunc(void *ctx, const char *name, uint32_t id)
{
	lua_pushinteger(ctx, id);
	lua_setfield(ctx, -2, name);
	return 0;
}

/* b:kfuncs() -> {name = id} of the functions tagged bpf_kfunc (a module's
 * own only) */
static int btf_kfuncs(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int n;
	lua_newtable(L);
	n = ebpfdsl_btf__each_kfunc(b, set_kfunc, L);
	if (n < 0)
		return ebpfdsl_lua_fail(L, -n, "kfuncs of %s", ebpfdsl_btf__source(b));
	return 1;
}

/* b:fd() -> the fd once loaded, else nil */
static int btf_fd(lua_State *L)
{
	int fd = ebpfdsl_btf__fd(check_open(L, 1));
	if (fd < 0)
		return 0;
	lua_pushinteger(L, fd);
	return 1;
}

/* ---------------------------------------------------------------------
 * type -> Lua table
 * --------------------------------------------------------------------- */

/* The walk of ebpfdsl_btf__describe as Lua tables: fields of the table at
 * the top; a keyed record or a list item is a table pushed on it. */
static void e_num(void *ctx, const char *key, int64_t v)
{
	lua_pushinteger(ctx, (lua_Integer)v);
	lua_setfield(ctx, -2, key);
}

static void e_str(void *ctx, const char *key, const char *v)
{
	lua_pushstring(ctx, v);
	lua_setfield(ctx, -2, key);
}

static void e_flag(void *ctx, const char *key, int v)
{
	lua_pushboolean(ctx, v);
	lua_setfield(ctx, -2, key);
}

static void e_begin(void *ctx, const char *key)
{
	if (key)
		lua_pushstring(ctx, key);
	lua_newtable(ctx);
}

static void e_end(void *ctx, const char *key)
{
	if (key)
		lua_rawset(ctx, -3);
	else
		lua_rawseti(ctx, -2, (lua_Integer)lua_rawlen(ctx, -2) + 1);
}

static void push_type(lua_State *L, const ebpfdsl_btf *b, uint32_t id)
{
	struct ebpfdsl_btf_emit e = { e_num, e_str, e_flag, e_begin, e_end, L };
	lua_createtable(L, 0, 8);
	ebpfdsl_btf__describe(b, id, &e);
}

static void push_decl(lua_State *L, const ebpfdsl_btf *b, uint32_t id, const char *name)
{
	char *s = ebpfdsl_btf__decl_dup(b, id, name);
	lua_pushstring(L, s ? s : "");
	free(s);
}

/* The kind argument at idx: nil/none for any, else a kind name. */
static int opt_kind(lua_State *L, int idx)
{
	char err[256];
	int k = ebpfdsl_btf_kind_arg(lua_isnoneornil(L, idx) ? NULL : luaL_checkstring(L, idx), err, sizeof(err));
	if (k < 0)
		return luaL_error(L, "%s", err);
	return k;
}

/* The type at idx: an id, or a name looked up as class cls (or kind).
 * Pushes nil, msg and returns -1 when there is none. */
static int resolve(lua_State *L, const ebpfdsl_btf *b, int idx, int cls, int kind)
{
	char err[512];
	int id;
	if (lua_type(L, idx) == LUA_TNUMBER) {
		lua_Integer v = luaL_checkinteger(L, idx);
		id = ebpfdsl_btf__check_id(b, v, 0, err, sizeof(err)) ? -1 : (int)v;
	} else {
		id = ebpfdsl_btf__lookup(b, luaL_checkstring(L, idx), cls, kind, err, sizeof(err));
	}
	if (id < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		return -1;
	}
	return id;
}

/* b:type(name_or_id[, kind]) -> table | nil, msg */
static int btf_type(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int id = resolve(L, b, 2, EBPFDSL_BTF_LOOKUP_ANY, opt_kind(L, 3));
	if (id < 0)
		return 2;
	push_type(L, b, (uint32_t)id);
	return 1;
}

/* b:id(name[, kind]) -> id | nil, msg */
static int btf_id(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int kind = opt_kind(L, 3), id;
	luaL_checkstring(L, 2);
	id = resolve(L, b, 2, EBPFDSL_BTF_LOOKUP_ANY, kind);
	if (id < 0)
		return 2;
	lua_pushinteger(L, id);
	return 1;
}

/* b:type_name(id[, name]) -> "struct task_struct *" | nil, msg */
static int btf_type_name(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	lua_Integer id = luaL_checkinteger(L, 2);
	const char *name = luaL_optstring(L, 3, NULL);
	char err[512];
	if (ebpfdsl_btf__check_id(b, id, 0, err, sizeof(err))) {
		luaL_pushfail(L);
		lua_pushstring(L, err);
		return 2;
	}
	push_decl(L, b, (uint32_t)id, name);
	return 1;
}

/* b:func(name) -> {name=, id=, linkage=, ret=, ret_id=, params=, variadic=,
 *   decl=} | nil, msg */
static int btf_func(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int id = resolve(L, b, 2, EBPFDSL_BTF_LOOKUP_FUNC, 0);
	if (id < 0)
		return 2;
	push_type(L, b, (uint32_t)id);
	return 1;
}

/* b:enum(name) -> {name=, id=, kind=, size=, signed=, values=, list=} */
static int btf_enum(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int id = resolve(L, b, 2, EBPFDSL_BTF_LOOKUP_ENUM, 0);
	char err[256];
	if (id < 0)
		return 2;
	if (ebpfdsl_btf__check_id(b, id, BTF_KIND_ENUM, err, sizeof(err)))
		return luaL_error(L, "%s", err);
	push_type(L, b, (uint32_t)id);
	return 1;
}

/* b:offsetof(type_or_id, "se.vruntime") -> byte offset, {bit_offset=,
 *   bitfield_size=, type=, type_id=, size=} | nil, msg */
static int btf_offsetof(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	const char *path = luaL_checkstring(L, 3);
	struct ebpfdsl_btf_emit e = { e_num, e_str, e_flag, e_begin, e_end, L };
	struct ebpfdsl_btf_field f;
	int id = resolve(L, b, 2, EBPFDSL_BTF_LOOKUP_RECORD, 0), err;
	if (id < 0)
		return 2;
	err = ebpfdsl_btf__offsetof(b, (uint32_t)id, path, &f);
	if (err) {
		char msg[512];
		ebpfdsl_btf__offsetof_error(b, (uint32_t)id, path, &f, err, msg, sizeof(msg));
		luaL_pushfail(L);
		lua_pushstring(L, msg);
		return 2;
	}
	lua_pushinteger(L, f.byte_offset);
	lua_createtable(L, 0, 6);
	ebpfdsl_btf__describe_field(b, &f, &e);
	return 2;
}

/* b:count() -> number of type ids, void (0) included */
static int btf_count(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_btf__type_count(check_open(L, 1)));
	return 1;
}

static int btf_source(lua_State *L)
{
	lua_pushstring(L, ebpfdsl_btf__source(check_open(L, 1)));
	return 1;
}

static const luaL_Reg btf_methods[] = {
	{ "type", btf_type },
	{ "id", btf_id },
	{ "type_name", btf_type_name },
	{ "func", btf_func },
	{ "enum", btf_enum },
	{ "offsetof", btf_offsetof },
	{ "count", btf_count },
	{ "source", btf_source },
	{ "load", btf_load_kernel },
	{ "fd", btf_fd },
	{ "kfuncs", btf_kfuncs },
	{ "close", btf_close },
	{ NULL, NULL },
};

static const luaL_Reg btf_meta[] = {
	{ "__gc", btf_close },
	{ "__close", btf_close },
	{ "__tostring", btf_tostring },
	{ NULL, NULL },
};

/* The BTF handle at idx, for other parts of the binding (program loads
 * resolving attach_to): NULL when the value is nil. */
const ebpfdsl_btf *ebpfdsl_lua_tobtf(lua_State *L, int idx)
{
	if (lua_isnoneornil(L, idx))
		return NULL;
	return check_open(L, idx);
}

/* module functions */
static const luaL_Reg btf_functions[] = {
	{ "btf_vmlinux", l_btf_vmlinux },
	{ "btf_load", l_btf_load },
	{ "btf_from_bytes", l_btf_from_bytes },
	{ "btf_kernel", l_btf_kernel },
	{ "btf_modules", l_btf_modules },
	{ NULL, NULL },
};

/* The state's hold on the kernel's BTF: dropped when the state closes,
 * before core.so is unloaded (its finalizer runs before the one of the
 * table of loaded C libraries, which was made first). */
static const char *const HOLD = "ebpfdsl.vmlinux_hold";

static int hold_gc(lua_State *L)
{
	int *held = lua_touserdata(L, 1);
	if (*held)
		ebpfdsl_btf__vmlinux_drop();
	*held = 0;
	return 0;
}

void ebpfdsl_lua_open_btf(lua_State *L)
{
	ebpfdsl_lua_class(L, BTF, btf_methods, btf_meta);
	luaL_setfuncs(L, btf_functions, 0);
	if (lua_getfield(L, LUA_REGISTRYINDEX, HOLD) == LUA_TNIL) {
		int *held = lua_newuserdatauv(L, sizeof(int), 0);
		*held = 0;
		lua_createtable(L, 0, 1);
		lua_pushcfunction(L, hold_gc);
		lua_setfield(L, -2, "__gc");
		lua_setmetatable(L, -2);
		ebpfdsl_btf__vmlinux_hold();
		*held = 1;
		lua_setfield(L, LUA_REGISTRYINDEX, HOLD);
	}
	lua_pop(L, 1);
}
