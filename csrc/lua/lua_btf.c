/* SPDX-License-Identifier: MIT */
/* ebpfdsl.BTF: the kernel's (or a file's) type information as Lua tables:
 * types with their members, functions with their parameters, enums, ids,
 * C spellings of types, and offsets of member paths. */
#include <errno.h>
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
		int e = -fd;
		size_t n = strlen(log);
		/* the kernel's reason is its log's last line */
		while (n && log[n - 1] == '\n')
			log[--n] = '\0';
		{
			const char *last = strrchr(log, '\n');
			luaL_pushfail(L);
			lua_pushfstring(L, "the kernel refused BTF %s: %s%s%s", ebpfdsl_btf__source(u->b), strerror(e),
					n ? ": " : "", last ? last + 1 : log);
			lua_pushinteger(L, e);
			lua_pushstring(L, log);
			return 4;
		}
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

/* b:kfuncs() -> {name = id} of the functions tagged bpf_kfunc (a module's
 * own only) */
static int btf_kfuncs(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int n = ebpfdsl_btf__kfuncs(b, NULL, 0);
	uint32_t *ids;
	if (n < 0)
		return ebpfdsl_lua_fail(L, -n, "kfuncs of %s", ebpfdsl_btf__source(b));
	ids = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(*ids), 0);
	ebpfdsl_btf__kfuncs(b, ids, (size_t)n);
	lua_createtable(L, 0, n);
	for (int i = 0; i < n; i++) {
		struct ebpfdsl_btf_type t;
		if (ebpfdsl_btf__type(b, ids[i], &t))
			continue;
		lua_pushinteger(L, ids[i]);
		lua_setfield(L, -2, t.name);
	}
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

static void push_decl(lua_State *L, const ebpfdsl_btf *b, uint32_t id, const char *name)
{
	char small[256];
	int n = ebpfdsl_btf__decl(b, id, name, small, sizeof(small));
	if (n < 0) {
		lua_pushfstring(L, "<type %d>", (int)id);
	} else if ((size_t)n < sizeof(small)) {
		lua_pushstring(L, small);
	} else {
		char *big = lua_newuserdatauv(L, (size_t)n + 1, 0);
		ebpfdsl_btf__decl(b, id, name, big, (size_t)n + 1);
		lua_pushstring(L, big);
		lua_remove(L, -2);
	}
}

/* type = C spelling, type_id = id: how every reference is shown */
static void set_ref(lua_State *L, const ebpfdsl_btf *b, const char *k, const char *kid, uint32_t id)
{
	push_decl(L, b, id, NULL);
	lua_setfield(L, -2, k);
	ebpfdsl_lua_set_int(L, kid, id);
}

static const char *const LINKAGE[] = { "static", "global", "extern" };

static const char *linkage_name(int l)
{
	return l >= 0 && l < 3 ? LINKAGE[l] : "?";
}

static void push_members(lua_State *L, const ebpfdsl_btf *b, uint32_t id, uint32_t vlen)
{
	struct ebpfdsl_btf_member m;
	lua_createtable(L, (int)vlen, 0);
	for (uint32_t i = 0; i < vlen; i++) {
		if (ebpfdsl_btf__member(b, id, i, &m))
			break;
		lua_createtable(L, 0, 7);
		ebpfdsl_lua_set_str(L, "name", m.name);
		ebpfdsl_lua_set_int(L, "offset", m.bit_offset / 8);
		ebpfdsl_lua_set_int(L, "bit_offset", m.bit_offset);
		ebpfdsl_lua_set_int(L, "bitfield_size", m.bitfield_size);
		set_ref(L, b, "type", "type_id", m.type);
		push_decl(L, b, m.type, m.name);
		lua_setfield(L, -2, "decl");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

/* params of func_proto `proto` into the table at the top: ret, ret_id,
 * params = {{name=, type=, type_id=}}, variadic */
static void set_proto(lua_State *L, const ebpfdsl_btf *b, uint32_t proto)
{
	struct ebpfdsl_btf_type pt;
	struct ebpfdsl_btf_member m;
	int n = 0, variadic = 0;

	if (ebpfdsl_btf__type(b, proto, &pt) || pt.kind != BTF_KIND_FUNC_PROTO)
		return;
	set_ref(L, b, "ret", "ret_id", pt.type);
	lua_createtable(L, (int)pt.vlen, 0);
	for (uint32_t i = 0; i < pt.vlen; i++) {
		if (ebpfdsl_btf__member(b, proto, i, &m))
			break;
		if (m.type == 0) { /* a trailing void parameter means "..." */
			variadic = i > 0 || pt.vlen > 1;
			break;
		}
		lua_createtable(L, 0, 3);
		ebpfdsl_lua_set_str(L, "name", m.name);
		set_ref(L, b, "type", "type_id", m.type);
		lua_rawseti(L, -2, ++n);
	}
	lua_setfield(L, -2, "params");
	ebpfdsl_lua_set_bool(L, "variadic", variadic);
}

static void push_enum_values(lua_State *L, const ebpfdsl_btf *b, uint32_t id, uint32_t vlen)
{
	const char *name;
	int64_t v;
	int sgn;
	/* list = ordered {name=, value=}; values = name -> value */
	lua_createtable(L, (int)vlen, 0);
	lua_createtable(L, 0, (int)vlen);
	for (uint32_t i = 0; i < vlen; i++) {
		if (ebpfdsl_btf__enum_value(b, id, i, &name, &v, &sgn))
			break;
		lua_createtable(L, 0, 2);
		ebpfdsl_lua_set_str(L, "name", name);
		ebpfdsl_lua_set_int(L, "value", (lua_Integer)v);
		lua_rawseti(L, -3, (lua_Integer)i + 1);
		lua_pushinteger(L, (lua_Integer)v);
		lua_setfield(L, -2, name);
	}
	lua_setfield(L, -3, "values");
	lua_setfield(L, -2, "list");
}

static void push_type(lua_State *L, const ebpfdsl_btf *b, uint32_t id)
{
	struct ebpfdsl_btf_type t;
	int64_t size;

	ebpfdsl_btf__type(b, id, &t);
	lua_createtable(L, 0, 8);
	ebpfdsl_lua_set_int(L, "id", id);
	ebpfdsl_lua_set_str(L, "kind", ebpfdsl_btf_kind_name(t.kind));
	ebpfdsl_lua_set_str(L, "name", t.name);
	size = ebpfdsl_btf__size(b, id);
	if (size >= 0 && t.kind != BTF_KIND_FUNC && t.kind != BTF_KIND_FUNC_PROTO)
		ebpfdsl_lua_set_int(L, "size", size);
	if (t.kind != BTF_KIND_DATASEC && t.kind != BTF_KIND_DECL_TAG) {
		push_decl(L, b, id, NULL);
		lua_setfield(L, -2, "decl");
	}
	switch (t.kind) {
	case BTF_KIND_INT:
		ebpfdsl_lua_set_int(L, "bits", t.int_bits);
		ebpfdsl_lua_set_int(L, "bit_offset", t.int_offset);
		ebpfdsl_lua_set_bool(L, "signed", t.int_encoding & BTF_INT_SIGNED);
		ebpfdsl_lua_set_bool(L, "char", t.int_encoding & BTF_INT_CHAR);
		ebpfdsl_lua_set_bool(L, "bool", t.int_encoding & BTF_INT_BOOL);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		ebpfdsl_lua_set_int(L, "vlen", t.vlen);
		push_members(L, b, id, t.vlen);
		lua_setfield(L, -2, "members");
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		ebpfdsl_lua_set_bool(L, "signed", t.kflag);
		push_enum_values(L, b, id, t.vlen);
		break;
	case BTF_KIND_ARRAY:
		set_ref(L, b, "type", "type_id", t.type);
		ebpfdsl_lua_set_int(L, "nelems", t.nelems);
		ebpfdsl_lua_set_int(L, "index_type_id", t.index_type);
		break;
	case BTF_KIND_FUNC:
		ebpfdsl_lua_set_str(L, "linkage", linkage_name(t.linkage));
		ebpfdsl_lua_set_int(L, "proto_id", t.type);
		set_proto(L, b, t.type);
		break;
	case BTF_KIND_FUNC_PROTO:
		set_proto(L, b, id);
		break;
	case BTF_KIND_VAR:
		ebpfdsl_lua_set_str(L, "linkage", linkage_name(t.linkage));
		set_ref(L, b, "type", "type_id", t.type);
		break;
	case BTF_KIND_DATASEC:
		push_members(L, b, id, t.vlen);
		lua_setfield(L, -2, "vars");
		break;
	case BTF_KIND_FWD:
		ebpfdsl_lua_set_str(L, "fwd_kind", t.kflag ? "union" : "struct");
		break;
	case BTF_KIND_DECL_TAG:
		ebpfdsl_lua_set_int(L, "type_id", t.type);
		ebpfdsl_lua_set_int(L, "component_idx", t.component_idx);
		break;
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		set_ref(L, b, "type", "type_id", t.type);
		break;
	default:
		break;
	}
}

/* The kind argument at idx: nil/none for any, else a kind name. */
static int opt_kind(lua_State *L, int idx)
{
	const char *s;
	int k;
	if (lua_isnoneornil(L, idx))
		return 0;
	s = luaL_checkstring(L, idx);
	k = ebpfdsl_btf_kind_parse(s);
	if (k <= 0)
		return luaL_error(L, "unknown BTF kind '%s' (struct, union, enum, enum64, typedef, func, "
				  "func_proto, int, ptr, array, ...)", s);
	return k;
}

/* The type at idx: an id, or a name looked up with kind. Pushes nil, msg
 * and returns -1 when there is none. */
static int resolve(lua_State *L, const ebpfdsl_btf *b, int idx, int kind, const char *what)
{
	int id;
	if (lua_type(L, idx) == LUA_TNUMBER) {
		lua_Integer v = luaL_checkinteger(L, idx);
		struct ebpfdsl_btf_type t;
		if (v < 0 || v > UINT32_MAX || ebpfdsl_btf__type(b, (uint32_t)v, &t)) {
			luaL_pushfail(L);
			lua_pushfstring(L, "no BTF type with id %d in %s (ids are 0..%d)", (int)v,
					ebpfdsl_btf__source(b), (int)ebpfdsl_btf__type_count(b) - 1);
			return -1;
		}
		return (int)v;
	}
	id = ebpfdsl_btf__find(b, luaL_checkstring(L, idx), kind);
	if (id < 0) {
		luaL_pushfail(L);
		lua_pushfstring(L, "no %s named '%s' in %s BTF", what, lua_tostring(L, idx),
				ebpfdsl_btf__source(b));
		return -1;
	}
	return id;
}

/* b:type(name_or_id[, kind]) -> table | nil, msg */
static int btf_type(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int kind = opt_kind(L, 3);
	int id = resolve(L, b, 2, kind, kind ? ebpfdsl_btf_kind_name(kind) : "type");
	if (id < 0)
		return 2;
	push_type(L, b, (uint32_t)id);
	return 1;
}

/* b:id(name[, kind]) -> id | nil, msg */
static int btf_id(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int kind = opt_kind(L, 3);
	int id;
	luaL_checkstring(L, 2);
	id = resolve(L, b, 2, kind, kind ? ebpfdsl_btf_kind_name(kind) : "type");
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
	struct ebpfdsl_btf_type t;
	if (id < 0 || id > UINT32_MAX || ebpfdsl_btf__type(b, (uint32_t)id, &t)) {
		luaL_pushfail(L);
		lua_pushfstring(L, "no BTF type with id %d in %s", (int)id, ebpfdsl_btf__source(b));
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
	int id = resolve(L, b, 2, BTF_KIND_FUNC, "function");
	if (id < 0)
		return 2;
	push_type(L, b, (uint32_t)id);
	return 1;
}

/* b:enum(name) -> {name=, id=, kind=, size=, signed=, values=, list=} */
static int btf_enum(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	int id;
	if (lua_type(L, 2) == LUA_TNUMBER) {
		struct ebpfdsl_btf_type t;
		id = resolve(L, b, 2, 0, "enum");
		if (id >= 0 && (ebpfdsl_btf__type(b, (uint32_t)id, &t) ||
				(t.kind != BTF_KIND_ENUM && t.kind != BTF_KIND_ENUM64)))
			return luaL_error(L, "BTF type %d is not an enum", id);
	} else {
		id = ebpfdsl_btf__find(b, luaL_checkstring(L, 2), BTF_KIND_ENUM);
		if (id < 0)
			id = resolve(L, b, 2, BTF_KIND_ENUM64, "enum");
	}
	if (id < 0)
		return 2;
	push_type(L, b, (uint32_t)id);
	return 1;
}

static const char *path_error(int err)
{
	switch (-err) {
	case ENOENT: return "no member";
	case ENOTDIR: return "cannot look into a non-struct at";
	case ERANGE: return "index out of range at";
	case ELOOP: return "type loop at";
	case E2BIG: return "search through anonymous members too large at";
	default: return "malformed path at";
	}
}

/* b:offsetof(type_or_id, "se.vruntime") -> byte offset, {bit_offset=,
 *   bitfield_size=, type=, type_id=, size=} | nil, msg */
static int btf_offsetof(lua_State *L)
{
	const ebpfdsl_btf *b = check_open(L, 1);
	const char *path = luaL_checkstring(L, 3);
	struct ebpfdsl_btf_field f;
	int id, err;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		id = resolve(L, b, 2, 0, "type");
	} else {
		/* a struct first, then a union, then a typedef of either */
		const char *name = luaL_checkstring(L, 2);
		id = ebpfdsl_btf__find(b, name, BTF_KIND_STRUCT);
		if (id < 0)
			id = ebpfdsl_btf__find(b, name, BTF_KIND_UNION);
		if (id < 0)
			id = resolve(L, b, 2, BTF_KIND_TYPEDEF, "struct, union or typedef");
	}
	if (id < 0)
		return 2;
	err = ebpfdsl_btf__offsetof(b, (uint32_t)id, path, &f);
	if (err) {
		luaL_pushfail(L);
		push_decl(L, b, (uint32_t)id, NULL);
		lua_pushfstring(L, "offsetof(%s, %s): %s '%s'", lua_tostring(L, -1), path, path_error(err),
				path + f.err_pos);
		lua_remove(L, -2);
		return 2;
	}
	lua_pushinteger(L, f.byte_offset);
	lua_createtable(L, 0, 6);
	ebpfdsl_lua_set_int(L, "offset", f.byte_offset);
	ebpfdsl_lua_set_int(L, "bit_offset", f.bit_offset);
	ebpfdsl_lua_set_int(L, "bitfield_size", f.bitfield_size);
	set_ref(L, b, "type", "type_id", f.type);
	if (f.size >= 0)
		ebpfdsl_lua_set_int(L, "size", f.size);
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
