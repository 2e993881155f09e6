/* SPDX-License-Identifier: MIT */
/* Lua values to and from the bytes of a BTF type: integers, booleans,
 * enums (by name too), floats, char arrays as strings, other arrays as
 * lists, structs and unions as tables by member name, bitfields. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/btf.h>
#include "lua_btf_value.h"
#include "../core/scalar_bits.h"

/* Nesting deeper than any compiler writes: crafted BTF stops here. */
#define MAX_DEPTH 32

struct walk {
	lua_State *L;
	const ebpfdsl_btf *b;
	const char *what; /* the caller's name: "set_var" */
	char path[256];   /* the C expression reached: "conf.port", "arr[2]" */
};

static void type_text(const ebpfdsl_btf *b, uint32_t id, char *buf, size_t len)
{
	struct ebpfdsl_btf_type t;
	int depth = 0;
	/* const and volatile say nothing to the user (a const volatile
	 * global is how .rodata is written); typedefs do */
	while (ebpfdsl_btf__type(b, id, &t) == 0 && depth++ < MAX_DEPTH &&
	       (t.kind == BTF_KIND_CONST || t.kind == BTF_KIND_VOLATILE || t.kind == BTF_KIND_RESTRICT ||
		t.kind == BTF_KIND_TYPE_TAG))
		id = t.type;
	if (t.kind == BTF_KIND_ARRAY && depth < MAX_DEPTH) {
		size_t n;
		type_text(b, t.type, buf, len);
		n = strlen(buf);
		snprintf(buf + n, len - n, "[%u]", (unsigned)t.nelems);
		return;
	}
	if (ebpfdsl_btf__decl(b, id, NULL, buf, len) < 0)
		snprintf(buf, len, "type %u", (unsigned)id);
}

static int fail(struct walk *w, uint32_t id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct walk *w, uint32_t id, const char *fmt, ...)
{
	char tname[160], why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	type_text(w->b, id, tname, sizeof(tname));
	return luaL_error(w->L, "%s: %s is %s: %s", w->what, w->path, tname, why);
}

static int resolved(struct walk *w, uint32_t id, struct ebpfdsl_btf_type *t)
{
	int r = ebpfdsl_btf__skip_mods(w->b, id);
	if (r < 0 || ebpfdsl_btf__type(w->b, (uint32_t)r, t) != 0)
		return luaL_error(w->L, "%s: %s: unreadable BTF type %u", w->what, w->path, (unsigned)id);
	return r;
}

/* A 1-byte integer: "char" (a C string) or a byte (u8, unsigned char). */
static int byte_kind(const struct ebpfdsl_btf_type *e)
{
	if (e->kind != BTF_KIND_INT || e->size != 1)
		return 0;
	return strcmp(e->name, "char") == 0 || (e->int_encoding & BTF_INT_CHAR) ? 'c' : 'b';
}

/* ---------------------------------------------------------------------
 * scalars: ints, enums and bitfields are integers of some bits, read and
 * written by the core (scalar_bits.c), host byte order (objects are
 * built for the host)
 * --------------------------------------------------------------------- */

/* An int's or an enum's sign */
static int is_signed(const struct ebpfdsl_btf_type *t)
{
	return t->kind == BTF_KIND_INT ? (t->int_encoding & BTF_INT_SIGNED) != 0 : t->kflag;
}

/* The sign of a bitfield's type */
static int type_signed(struct walk *w, uint32_t id)
{
	struct ebpfdsl_btf_type t;
	resolved(w, id, &t);
	return is_signed(&t);
}

/* The integer at idx, checked to fit `nbits` bits, into those bits. */
static void put_bits(struct walk *w, uint32_t id, int idx, unsigned char *base, uint32_t bit, uint32_t nbits,
		     int sign)
{
	lua_Integer v = 0;
	int64_t lo, hi;
	if (!ebpfdsl_lua_getinteger(w->L, idx, &v))
		fail(w, id, "expected an integer, got %s",
		     lua_type(w->L, idx) == LUA_TNUMBER ? "a float" : luaL_typename(w->L, idx));
	if (!ebpfdsl_bits_fit(v, nbits, sign, &lo, &hi))
		fail(w, id, "%lld does not fit (%lld..%lld)", (long long)v, (long long)lo, (long long)hi);
	ebpfdsl_bits_set(base, bit, nbits, (uint64_t)v);
}

static void put_int(struct walk *w, uint32_t id, const struct ebpfdsl_btf_type *t, int idx, unsigned char *p)
{
	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
		fail(w, id, "integers of %u bytes are not supported", (unsigned)t->size);
	if (!(t->int_encoding & BTF_INT_BOOL))
		put_bits(w, id, idx, p, 0, t->size * 8, is_signed(t));
	else if (lua_type(w->L, idx) != LUA_TBOOLEAN)
		fail(w, id, "expected a boolean, got %s", luaL_typename(w->L, idx));
	else
		ebpfdsl_bits_set(p, 0, t->size * 8, (uint64_t)lua_toboolean(w->L, idx));
}

static void push_int(struct walk *w, const struct ebpfdsl_btf_type *t, const unsigned char *p)
{
	int64_t v = ebpfdsl_bits_get(p, 0, t->size * 8, is_signed(t));
	if (t->int_encoding & BTF_INT_BOOL)
		lua_pushboolean(w->L, v != 0);
	else
		lua_pushinteger(w->L, (lua_Integer)v);
}

static void put_enum(struct walk *w, uint32_t id, const struct ebpfdsl_btf_type *t, int idx, unsigned char *p)
{
	const char *name, *names[256], *near[3];
	int64_t value;
	int is_signed, n;
	if (lua_type(w->L, idx) != LUA_TSTRING) {
		put_bits(w, id, idx, p, 0, t->size * 8, t->kflag);
		return;
	}
	for (uint32_t i = 0; i < t->vlen; i++) {
		if (ebpfdsl_btf__enum_value(w->b, id, i, &name, &value, &is_signed) == 0 &&
		    strcmp(name, lua_tostring(w->L, idx)) == 0) {
			ebpfdsl_bits_set(p, 0, t->size * 8, (uint64_t)value);
			return;
		}
		if (i < 256)
			names[i] = name;
	}
	n = ebpfdsl_suggest(lua_tostring(w->L, idx), names, t->vlen < 256 ? t->vlen : 256, near, 3);
	fail(w, id, "no value named '%s'%s%s%s", lua_tostring(w->L, idx), n ? "; did you mean '" : "",
	     n ? near[0] : "", n ? "'" : "");
}

static void push_enum(struct walk *w, uint32_t id, const struct ebpfdsl_btf_type *t, const unsigned char *p)
{
	int64_t v = ebpfdsl_bits_get(p, 0, t->size * 8, t->kflag);
	const char *name;
	int64_t value;
	int is_signed;
	/* a value's name where the enum has one, as bpftool prints it */
	for (uint32_t i = 0; i < t->vlen; i++)
		if (ebpfdsl_btf__enum_value(w->b, id, i, &name, &value, &is_signed) == 0 && value == v) {
			lua_pushstring(w->L, name);
			return;
		}
	lua_pushinteger(w->L, (lua_Integer)v);
}

/* ---------------------------------------------------------------------
 * the walk
 * --------------------------------------------------------------------- */

static void put(struct walk *w, uint32_t id, int idx, unsigned char *p, int depth);
static void push(struct walk *w, uint32_t id, const unsigned char *p, int depth);

/* Appends to the path for the time of a call; returns the old length. */
static size_t path_push(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(struct walk *w, const char *fmt, ...)
{
	size_t n = strlen(w->path);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->path + n, sizeof(w->path) - n, fmt, ap);
	va_end(ap);
	return n;
}

static void put_array(struct walk *w, uint32_t id, const struct ebpfdsl_btf_type *t, int idx, unsigned char *p,
		      int depth)
{
	struct ebpfdsl_btf_type e;
	int eid = resolved(w, t->type, &e), kind = byte_kind(&e);
	int64_t esize = ebpfdsl_btf__size(w->b, t->type);
	size_t n;
	(void)eid;
	if (esize <= 0)
		fail(w, id, "its elements have no size");
	if (kind && lua_type(w->L, idx) == LUA_TSTRING) {
		const char *s = lua_tolstring(w->L, idx, &n);
		/* a char array is a C string: its NUL fits too */
		if (kind == 'c' ? n >= t->nelems : n > t->nelems)
			fail(w, id, "a string of at most %u bytes%s, got %u", (unsigned)(kind == 'c' ? t->nelems - 1 : t->nelems),
			     kind == 'c' ? " (and its NUL)" : "", (unsigned)n);
		memset(p, 0, t->nelems);
		memcpy(p, s, n);
		return;
	}
	if (lua_type(w->L, idx) != LUA_TTABLE)
		fail(w, id, "expected %s, got %s", kind ? "a string or a list" : "a list", luaL_typename(w->L, idx));
	n = lua_rawlen(w->L, idx);
	if (n > t->nelems)
		fail(w, id, "a list of at most %u values, got %u", (unsigned)t->nelems, (unsigned)n);
	/* elements past the list's end keep their bytes */
	for (size_t i = 0; i < n; i++) {
		size_t old = path_push(w, "[%u]", (unsigned)i);
		lua_rawgeti(w->L, idx, (lua_Integer)i + 1);
		put(w, t->type, lua_gettop(w->L), p + i * (size_t)esize, depth + 1);
		lua_pop(w->L, 1);
		w->path[old] = '\0';
	}
}

static void push_array(struct walk *w, const struct ebpfdsl_btf_type *t, const unsigned char *p, int depth)
{
	struct ebpfdsl_btf_type e;
	int kind;
	int64_t esize = ebpfdsl_btf__size(w->b, t->type);
	resolved(w, t->type, &e);
	kind = byte_kind(&e);
	if (kind == 'c') {
		lua_pushlstring(w->L, (const char *)p, strnlen((const char *)p, t->nelems));
		return;
	}
	if (kind == 'b') {
		lua_pushlstring(w->L, (const char *)p, t->nelems);
		return;
	}
	lua_createtable(w->L, (int)t->nelems, 0);
	for (uint32_t i = 0; i < t->nelems && esize > 0; i++) {
		push(w, t->type, p + i * (size_t)esize, depth + 1);
		lua_rawseti(w->L, -2, (lua_Integer)i + 1);
	}
}

/* Member `name` of the struct or union id, looked for through anonymous
 * members too: its bit offset from the start of id, type, bitfield size. */
static int find_member(struct walk *w, uint32_t id, const char *name, uint32_t *bit, uint32_t *type,
		       uint32_t *bits, int depth)
{
	struct ebpfdsl_btf_type t;
	struct ebpfdsl_btf_member m;
	if (depth > MAX_DEPTH || resolved(w, id, &t) < 0)
		return 0;
	for (uint32_t i = 0; i < t.vlen && ebpfdsl_btf__member(w->b, (uint32_t)ebpfdsl_btf__skip_mods(w->b, id), i, &m) == 0;
	     i++) {
		if (m.name[0] == '\0') {
			if (find_member(w, m.type, name, bit, type, bits, depth + 1)) {
				*bit += m.bit_offset;
				return 1;
			}
		} else if (strcmp(m.name, name) == 0) {
			*bit = m.bit_offset;
			*type = m.type;
			*bits = m.bitfield_size;
			return 1;
		}
	}
	return 0;
}

/* The member names of id, anonymous members' own included, into names. */
static size_t member_names(struct walk *w, uint32_t id, const char **names, size_t max, size_t n, int depth)
{
	struct ebpfdsl_btf_type t;
	struct ebpfdsl_btf_member m;
	int rid = resolved(w, id, &t);
	for (uint32_t i = 0; depth <= MAX_DEPTH && i < t.vlen && ebpfdsl_btf__member(w->b, (uint32_t)rid, i, &m) == 0;
	     i++) {
		if (m.name[0] == '\0')
			n = member_names(w, m.type, names, max, n, depth + 1);
		else if (n < max)
			names[n++] = m.name;
	}
	return n;
}

static void put_struct(struct walk *w, uint32_t id, int idx, unsigned char *p, int depth)
{
	if (lua_type(w->L, idx) != LUA_TTABLE)
		fail(w, id, "expected a table of members, got %s", luaL_typename(w->L, idx));
	/* members the table does not name keep their bytes */
	lua_pushnil(w->L);
	while (lua_next(w->L, idx)) {
		uint32_t bit = 0, type = 0, bits = 0;
		const char *key;
		size_t old;
		if (lua_type(w->L, -2) != LUA_TSTRING)
			fail(w, id, "members are named by strings, got a %s key", luaL_typename(w->L, -2));
		key = lua_tostring(w->L, -2);
		if (!find_member(w, id, key, &bit, &type, &bits, depth)) {
			const char *names[128], *near[1];
			size_t n = member_names(w, id, names, 128, 0, depth);
			int k = ebpfdsl_suggest(key, names, n, near, 1);
			fail(w, id, "no member '%s'%s%s%s", key, k ? "; did you mean '" : "", k ? near[0] : "",
			     k ? "'" : "");
		}
		old = path_push(w, ".%s", key);
		if (bits)
			put_bits(w, type, lua_gettop(w->L), p, bit, bits, type_signed(w, type));
		else
			put(w, type, lua_gettop(w->L), p + bit / 8, depth + 1);
		w->path[old] = '\0';
		lua_pop(w->L, 1);
	}
}

static void push_members(struct walk *w, uint32_t id, const unsigned char *p, int depth)
{
	struct ebpfdsl_btf_type t;
	struct ebpfdsl_btf_member m;
	int rid = resolved(w, id, &t);
	for (uint32_t i = 0; depth <= MAX_DEPTH && i < t.vlen && ebpfdsl_btf__member(w->b, (uint32_t)rid, i, &m) == 0;
	     i++) {
		if (m.name[0] == '\0') {
			push_members(w, m.type, p + m.bit_offset / 8, depth + 1);
			continue;
		}
		if (m.bitfield_size)
			lua_pushinteger(w->L, ebpfdsl_bits_get(p, m.bit_offset, m.bitfield_size, type_signed(w, m.type)));
		else
			push(w, m.type, p + m.bit_offset / 8, depth + 1);
		lua_setfield(w->L, -2, m.name);
	}
}

static void put(struct walk *w, uint32_t id, int idx, unsigned char *p, int depth)
{
	struct ebpfdsl_btf_type t;
	int rid = resolved(w, id, &t);
	if (depth > MAX_DEPTH)
		fail(w, id, "nested too deeply");
	switch (t.kind) {
	case BTF_KIND_INT:
		put_int(w, id, &t, idx, p);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		put_enum(w, (uint32_t)rid, &t, idx, p);
		break;
	case BTF_KIND_FLOAT:
		if (lua_type(w->L, idx) != LUA_TNUMBER)
			fail(w, id, "expected a number, got %s", luaL_typename(w->L, idx));
		if (ebpfdsl_float_set(p, t.size, (double)lua_tonumber(w->L, idx)))
			fail(w, id, "floats of %u bytes are not supported", (unsigned)t.size);
		break;
	case BTF_KIND_ARRAY:
		put_array(w, id, &t, idx, p, depth);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		put_struct(w, (uint32_t)rid, idx, p, depth);
		break;
	case BTF_KIND_PTR:
		fail(w, id, "a pointer, which user space cannot give a BPF program");
		break;
	default:
		fail(w, id, "values of this kind cannot be set");
	}
}

static void push(struct walk *w, uint32_t id, const unsigned char *p, int depth)
{
	struct ebpfdsl_btf_type t;
	int rid = resolved(w, id, &t);
	double d;
	luaL_checkstack(w->L, 4, "decoding a BTF value");
	if (depth > MAX_DEPTH) {
		lua_pushnil(w->L);
		return;
	}
	switch (t.kind) {
	case BTF_KIND_INT:
		push_int(w, &t, p);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		push_enum(w, (uint32_t)rid, &t, p);
		break;
	case BTF_KIND_FLOAT:
		if (ebpfdsl_float_get(p, t.size, &d) == 0)
			lua_pushnumber(w->L, d);
		else
			lua_pushnil(w->L);
		break;
	case BTF_KIND_ARRAY:
		push_array(w, &t, p, depth);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		lua_createtable(w->L, 0, (int)t.vlen);
		push_members(w, (uint32_t)rid, p, depth);
		break;
	case BTF_KIND_PTR:
		lua_pushinteger(w->L, ebpfdsl_bits_get(p, 0, 64, 0));
		break;
	default:
		lua_pushnil(w->L);
	}
}

void ebpfdsl_lua_btf_put(lua_State *L, const ebpfdsl_btf *b, uint32_t type, int idx, void *buf, const char *what,
			 const char *name)
{
	struct walk w = { .L = L, .b = b, .what = what };
	snprintf(w.path, sizeof(w.path), "%s", name);
	put(&w, type, lua_absindex(L, idx), buf, 0);
}

void ebpfdsl_lua_btf_push(lua_State *L, const ebpfdsl_btf *b, uint32_t type, const void *buf)
{
	struct walk w = { .L = L, .b = b, .what = "decode" };
	push(&w, type, buf, 0);
}

void ebpfdsl_lua_btf_type_text(const ebpfdsl_btf *b, uint32_t type, char *buf, size_t len)
{
	type_text(b, type, buf, len);
}

/* ---------------------------------------------------------------------
 * b:encode, b:decode on ebpfdsl.BTF; suggest
 * --------------------------------------------------------------------- */

/* The type at idx of b: an id, or a name ("struct tcp_congestion_ops",
 * or a bare name of any kind). */
static uint32_t type_arg(lua_State *L, const ebpfdsl_btf *b, int idx, const char *fname)
{
	static const char *const kinds[] = { "struct ", "union ", "enum ", NULL };
	const char *name;
	int id, kind = 0;
	if (lua_type(L, idx) == LUA_TNUMBER) {
		lua_Integer v = luaL_checkinteger(L, idx);
		struct ebpfdsl_btf_type t;
		if (v <= 0 || v > UINT32_MAX || ebpfdsl_btf__type(b, (uint32_t)v, &t))
			luaL_error(L, "%s: no BTF type with id %d", fname, (int)v);
		return (uint32_t)v;
	}
	name = luaL_checkstring(L, idx);
	for (int k = 0; kinds[k]; k++)
		if (strncmp(name, kinds[k], strlen(kinds[k])) == 0) {
			kind = k == 0 ? BTF_KIND_STRUCT : k == 1 ? BTF_KIND_UNION : BTF_KIND_ENUM;
			name += strlen(kinds[k]);
		}
	id = ebpfdsl_btf__find(b, name, kind);
	if (id < 0)
		luaL_error(L, "%s: no type named '%s' in %s BTF", fname, lua_tostring(L, idx), ebpfdsl_btf__source(b));
	return (uint32_t)id;
}

static const ebpfdsl_btf *check_btf(lua_State *L)
{
	const ebpfdsl_btf *b = ebpfdsl_lua_tobtf(L, 1);
	if (!b)
		luaL_argerror(L, 1, "an ebpfdsl.BTF expected");
	return b;
}

/* b:encode(type, value[, bytes]) -> bytes: value laid out as the type
 * says, over `bytes` (its size; zeros when absent), which keep what the
 * value does not name. */
static int btf_encode(lua_State *L)
{
	const ebpfdsl_btf *b = check_btf(L);
	uint32_t id = type_arg(L, b, 2, "encode");
	int64_t size = ebpfdsl_btf__size(b, id);
	char name[160];
	void *buf;
	luaL_checkany(L, 3);
	lua_settop(L, 4);
	if (size <= 0 || size > (1 << 24))
		return luaL_error(L, "encode: type %d has no size to lay a value out in", (int)id);
	buf = lua_newuserdatauv(L, (size_t)size, 0);
	memset(buf, 0, (size_t)size);
	if (!lua_isnoneornil(L, 4)) {
		size_t len;
		const char *s = luaL_checklstring(L, 4, &len);
		if (len != (size_t)size)
			return luaL_error(L, "encode: the bytes given are %d, the type is %d", (int)len, (int)size);
		memcpy(buf, s, len);
	}
	type_text(b, id, name, sizeof(name));
	ebpfdsl_lua_btf_put(L, b, id, 3, buf, "encode", name);
	lua_pushlstring(L, buf, (size_t)size);
	return 1;
}

/* b:decode(type, bytes) -> value */
static int btf_decode(lua_State *L)
{
	const ebpfdsl_btf *b = check_btf(L);
	uint32_t id = type_arg(L, b, 2, "decode");
	int64_t size = ebpfdsl_btf__size(b, id);
	size_t len;
	const char *s = luaL_checklstring(L, 3, &len);
	if (size < 0 || len < (size_t)size)
		return luaL_error(L, "decode: %d bytes given, the type needs %d", (int)len, (int)size);
	ebpfdsl_lua_btf_push(L, b, id, s);
	return 1;
}

/* suggest(name, {names}[, max]) -> {nearest names} */
static int l_suggest(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1), *names[512], *out[8];
	lua_Integer max = luaL_optinteger(L, 3, 3);
	size_t n;
	int k;
	luaL_checktype(L, 2, LUA_TTABLE);
	n = lua_rawlen(L, 2);
	if (n > 512)
		n = 512;
	for (size_t i = 0; i < n; i++) {
		lua_rawgeti(L, 2, (lua_Integer)i + 1);
		names[i] = lua_tostring(L, -1); /* held by the table */
		lua_pop(L, 1);
	}
	k = ebpfdsl_suggest(name, names, n, out, max < 1 ? 1 : max > 8 ? 8 : (int)max);
	lua_createtable(L, k, 0);
	for (int i = 0; i < k; i++) {
		lua_pushstring(L, out[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static const luaL_Reg btf_value_methods[] = {
	{ "encode", btf_encode },
	{ "decode", btf_decode },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_btf_value(lua_State *L)
{
	ebpfdsl_lua_class_extend(L, "ebpfdsl.BTF", btf_value_methods, 0);
	lua_pushcfunction(L, l_suggest);
	lua_setfield(L, -2, "suggest");
}
