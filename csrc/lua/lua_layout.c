/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Layout: a struct layout built from a Lua field list, with its
 * queries and its C printout (decode/encode: lua_layout_codec.c). */
#include <stdlib.h>
#include <string.h>
#include "lua_layout.h"
#include "lua_opts.h"

struct layout *ebpfdsl_lua_layout_check(lua_State *L, int idx)
{
	struct layout *u = luaL_checkudata(L, idx, EBPFDSL_LAYOUT_CLASS);
	if (!u->l)
		luaL_error(L, "attempt to use an unfinished %s", EBPFDSL_LAYOUT_CLASS);
	return u;
}

const ebpfdsl_layout *ebpfdsl_lua_tolayout(lua_State *L, int idx)
{
	struct layout *u = luaL_testudata(L, idx, EBPFDSL_LAYOUT_CLASS);
	return u ? u->l : NULL;
}

static int layout_gc(lua_State *L)
{
	struct layout *u = luaL_checkudata(L, 1, EBPFDSL_LAYOUT_CLASS);
	ebpfdsl_layout__free(u->l);
	u->l = NULL;
	free(u->flat);
	u->flat = NULL;
	return 0;
}

/* ---------------------------------------------------------------------
 * Building: core.layout(name, fields, opts)
 * --------------------------------------------------------------------- */

static int build_failed(lua_State *L, const char *name, struct layout *u)
{
	return luaL_error(L, "layout '%s': %s", name, ebpfdsl_layout__error(u->l));
}

/* One entry {name, type[, count]} of the field list at index `list`. */
static void add_entry(lua_State *L, struct layout *u, const char *lname, int list, lua_Integer i)
{
	const char *fname;
	size_t count = 0;
	int r;

	if (lua_rawgeti(L, list, i) != LUA_TTABLE)
		luaL_error(L, "layout '%s': field %d must be a table {name, type[, count]}, got %s", lname, (int)i,
			   luaL_typename(L, -1));
	if (lua_rawgeti(L, -1, 1) != LUA_TSTRING)
		luaL_error(L, "layout '%s': field %d: the name must be a string, got %s", lname, (int)i,
			   luaL_typename(L, -1));
	fname = lua_tostring(L, -1);
	if (lua_rawgeti(L, -2, 3) != LUA_TNIL) {
		lua_Integer n = 0;
		if (!ebpfdsl_lua_getinteger(L, -1, &n))
			luaL_error(L, "layout '%s': field '%s': the count must be an integer, got %s", lname, fname,
				   luaL_typename(L, -1));
		if (n <= 0)
			luaL_error(L, "layout '%s': field '%s': the count must be at least 1, got %d", lname, fname,
				   (int)n);
		count = (size_t)n;
	}
	lua_pop(L, 1);
	if (lua_rawlen(L, -2) > 3)
		luaL_error(L, "layout '%s': field '%s': expected {name, type[, count]}, got %d entries", lname, fname,
			   (int)lua_rawlen(L, -2));
	lua_rawgeti(L, -2, 2);
	if (lua_type(L, -1) == LUA_TSTRING) {
		r = ebpfdsl_layout__add_typed(u->l, fname, lua_tostring(L, -1), count);
	} else {
		struct layout *sub = luaL_testudata(L, -1, EBPFDSL_LAYOUT_CLASS);
		if (!sub || !sub->l) {
			luaL_error(L, "layout '%s': field '%s': the type must be a type name or a layout, got %s", lname,
				   fname, luaL_typename(L, -1));
			return;
		}
		r = ebpfdsl_layout__add_struct(u->l, fname, sub->l, count);
	}
	if (r)
		build_failed(L, lname, u);
	/* stack: ... entry name type */
	lua_pop(L, 3);
}

/* Copies the pairs of user value uv of each Layout in `nested` into the
 * table on top; for uv 3 (objects), each Layout itself too, by pointer. */
static void merge_nested(lua_State *L, int nested, int uv)
{
	int map = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, nested)) {
		lua_getiuservalue(L, -1, uv);
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, map);
		}
		lua_pop(L, 1);
		if (uv == 3)
			lua_rawsetp(L, map, ((struct layout *)lua_touserdata(L, -1))->l);
		else
			lua_pop(L, 1);
	}
}

/* User value 2 of the layout at idx: {[light userdata of each layout in
 * its tree] = {field names in order}}; `nested` holds the nested
 * Layout objects, whose maps are merged in. Counts nvalues too. */
static void set_names(lua_State *L, struct layout *u, int idx, int nested)
{
	size_t n = ebpfdsl_layout__field_count(u->l);
	lua_newtable(L);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		struct ebpfdsl_layout_field f;
		ebpfdsl_layout__field(u->l, i, &f);
		u->nvalues += f.type != EBPFDSL_TYPE_PAD;
		lua_pushstring(L, f.name);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_rawsetp(L, -2, u->l);
	merge_nested(L, nested, 2);
	lua_setiuservalue(L, idx, 2);
}

/* User value 3 of the layout at idx: every nested layout of its tree by
 * its C pointer, from `nested` and from their own user values 3. */
static void set_objects(lua_State *L, int idx, int nested)
{
	lua_newtable(L);
	merge_nested(L, nested, 3);
	lua_setiuservalue(L, idx, 3);
}

static const struct ebpfdsl_lua_opt OPTS[] = {
	EBPFDSL_OPT_BOOL(struct ebpfdsl_layout_opts, "packed", packed),
	EBPFDSL_OPT_END,
};

static int l_layout(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	struct ebpfdsl_layout_opts opts = { .sz = sizeof(opts) };
	struct layout *u;
	lua_Integer n;

	luaL_checktype(L, 2, LUA_TTABLE);
	ebpfdsl_lua_opts_read(L, 3, lua_pushfstring(L, "layout '%s'", name), OPTS, &opts);
	lua_settop(L, 2);
	u = lua_newuserdatauv(L, sizeof(*u), EBPFDSL_LAYOUT_UV); /* 3 */
	u->l = NULL;
	u->nvalues = 0;
	u->flat = NULL;
	u->nested = 1;
	luaL_setmetatable(L, EBPFDSL_LAYOUT_CLASS);
	lua_newtable(L); /* 4: nested layouts */
	lua_pushvalue(L, 4);
	lua_setiuservalue(L, 3, 1);
	u->l = ebpfdsl_layout__new(name, &opts);
	if (!u->l)
		return luaL_error(L, "layout '%s': out of memory", name);
	if (ebpfdsl_layout__error(u->l))
		return build_failed(L, name, u);
	n = (lua_Integer)lua_rawlen(L, 2);
	if (n == 0)
		return luaL_error(L, "layout '%s': needs at least one field", name);
	for (lua_Integer i = 1; i <= n; i++) {
		size_t before = ebpfdsl_layout__field_count(u->l);
		add_entry(L, u, name, 2, i);
		/* a nested layout's Lua object, kept by field index */
		lua_rawgeti(L, 2, i);
		lua_rawgeti(L, -1, 2);
		if (lua_type(L, -1) == LUA_TUSERDATA)
			lua_rawseti(L, 4, (lua_Integer)before + 1);
		else
			lua_pop(L, 1);
		lua_pop(L, 1);
	}
	lua_settop(L, 4);
	set_names(L, u, 3, 4);
	set_objects(L, 3, 4);
	u->flat = malloc((u->nvalues ? u->nvalues : 1) * sizeof(*u->flat));
	if (!u->flat)
		return luaL_error(L, "layout '%s': out of memory", name);
	ebpfdsl_layout__rows(u->l, u->flat, u->nvalues, &u->nested);
	lua_settop(L, 3);
	return 1;
}

/* ---------------------------------------------------------------------
 * Queries
 * --------------------------------------------------------------------- */

static void lookup(lua_State *L, const ebpfdsl_layout *l, int idx, struct ebpfdsl_layout_field *f)
{
	char err[1024];
	const char *path = luaL_checkstring(L, idx);
	if (ebpfdsl_layout__lookup(l, path, f, err, sizeof(err)))
		luaL_error(L, "%s", err);
}

static void push_type(lua_State *L, const struct ebpfdsl_layout_field *f)
{
	if (f->type == EBPFDSL_TYPE_STRUCT)
		lua_pushfstring(L, "struct %s", ebpfdsl_layout__name(f->layout));
	else
		lua_pushstring(L, ebpfdsl_type_name(f->type));
}

/* {name=, type=, offset=, size=, count=, elem_size=, align=, signed=,
 *  layout=}; the nested Layout comes from `owner`'s user value. */
static void push_info(lua_State *L, const struct ebpfdsl_layout_field *f, int owner)
{
	lua_createtable(L, 0, 9);
	ebpfdsl_lua_set_str(L, "name", f->name);
	push_type(L, f);
	lua_setfield(L, -2, "type");
	ebpfdsl_lua_set_int(L, "offset", (lua_Integer)f->offset);
	ebpfdsl_lua_set_int(L, "size", (lua_Integer)f->size);
	if (f->count) {
		ebpfdsl_lua_set_int(L, "count", (lua_Integer)f->count);
	}
	ebpfdsl_lua_set_int(L, "elem_size", (lua_Integer)f->elem_size);
	ebpfdsl_lua_set_int(L, "align", (lua_Integer)f->align);
	ebpfdsl_lua_set_bool(L, "signed", ebpfdsl_type_is_signed(f->type));
	if (f->type == EBPFDSL_TYPE_STRUCT && owner) {
		lua_getiuservalue(L, owner, 1);
		lua_rawgeti(L, -1, (lua_Integer)f->index + 1);
		lua_setfield(L, -3, "layout");
		lua_pop(L, 1);
	}
}

/* E:size(), E:align(), E:name(), E:packed(), and of the field at a path
 * E:offset(path), E:field_size(path), E:field_type(path): one query each,
 * the row's number its upvalue. */
enum { Q_SIZE, Q_ALIGN, Q_NAME, Q_PACKED, Q_OFFSET, Q_FIELD_SIZE, Q_FIELD_TYPE };
static int layout_query(lua_State *L)
{
	const ebpfdsl_layout *l = ebpfdsl_lua_layout_check(L, 1)->l;
	int q = (int)lua_tointeger(L, lua_upvalueindex(1));
	struct ebpfdsl_layout_field f;
	if (q >= Q_OFFSET)
		lookup(L, l, 2, &f);
	switch (q) {
	case Q_SIZE: lua_pushinteger(L, (lua_Integer)ebpfdsl_layout__size(l)); break;
	case Q_ALIGN: lua_pushinteger(L, (lua_Integer)ebpfdsl_layout__align(l)); break;
	case Q_NAME: lua_pushstring(L, ebpfdsl_layout__name(l)); break;
	case Q_PACKED: lua_pushboolean(L, ebpfdsl_layout__packed(l)); break;
	case Q_OFFSET: lua_pushinteger(L, (lua_Integer)f.offset); break;
	case Q_FIELD_SIZE: lua_pushinteger(L, (lua_Integer)f.size); break;
	default: push_type(L, &f); break;
	}
	return 1;
}

static const char *const QUERIES[] = { "size", "align", "name", "packed", "offset", "field_size", "field_type", NULL };

/* Pushes the Layout object of a nested layout of E's tree (user value 3). */
static void push_nested(lua_State *L, const ebpfdsl_layout *l)
{
	lua_getiuservalue(L, 1, 3);
	lua_rawgetp(L, -1, l);
	lua_remove(L, -2);
}

/* E:field(path) -> info table (offset from the start of E) */
static int layout_field(lua_State *L)
{
	struct layout *u = ebpfdsl_lua_layout_check(L, 1);
	struct ebpfdsl_layout_field f;
	lookup(L, u->l, 2, &f);
	push_info(L, &f, 0);
	if (f.type == EBPFDSL_TYPE_STRUCT) {
		push_nested(L, f.layout);
		lua_setfield(L, -2, "layout");
	}
	return 1;
}

static int layout_has(lua_State *L)
{
	struct ebpfdsl_layout_field f;
	struct layout *u = ebpfdsl_lua_layout_check(L, 1);
	lua_pushboolean(L, ebpfdsl_layout__lookup(u->l, luaL_checkstring(L, 2), &f, NULL, 0) == 0);
	return 1;
}

static int layout_fields(lua_State *L)
{
	struct layout *u = ebpfdsl_lua_layout_check(L, 1);
	size_t n = ebpfdsl_layout__field_count(u->l);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		struct ebpfdsl_layout_field f;
		ebpfdsl_layout__field(u->l, i, &f);
		push_info(L, &f, 1);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int layout_tostring(lua_State *L)
{
	struct layout *u = ebpfdsl_lua_layout_check(L, 1);
	luaL_Buffer b;
	int n = ebpfdsl_layout__print(u->l, NULL, 0);
	char *p = luaL_buffinitsize(L, &b, (size_t)n + 1);
	ebpfdsl_layout__print(u->l, p, (size_t)n + 1);
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

static const luaL_Reg methods[] = {
	{ "field", layout_field },
	{ "has", layout_has },
	{ "fields", layout_fields },
	{ NULL, NULL },
};

static const luaL_Reg meta[] = {
	{ "__gc", layout_gc },
	{ "__tostring", layout_tostring },
	{ NULL, NULL },
};

static int l_types(lua_State *L)
{
	return ebpfdsl_lua_push_names(L, ebpfdsl_type_name, 0, EBPFDSL_TYPE_STRUCT);
}

/* scalar_fits(type, v) -> does v fit, and the values the type takes as
 * text ("0..255"): the check encode makes, for the Lua side's own
 * checks (structs.store_imm). */
static int l_scalar_fits(lua_State *L)
{
	const char *tname = luaL_checkstring(L, 1);
	lua_Integer v = luaL_checkinteger(L, 2);
	int type = ebpfdsl_type_parse(tname);
	if (type < 0 || type == EBPFDSL_TYPE_PAD || type == EBPFDSL_TYPE_STRUCT)
		return luaL_argerror(L, 1, lua_pushfstring(L, "not a scalar type: '%s'", tname));
	lua_pushboolean(L, ebpfdsl_scalar_fits(type, (int64_t)v));
	lua_pushstring(L, ebpfdsl_scalar_range(type));
	return 2;
}

/* module functions */
static const luaL_Reg layout_functions[] = {
	{ "layout", l_layout },
	{ "layout_types", l_types },
	{ "scalar_fits", l_scalar_fits },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_layout(lua_State *L)
{
	ebpfdsl_lua_class(L, EBPFDSL_LAYOUT_CLASS, methods, meta);
	luaL_getmetatable(L, EBPFDSL_LAYOUT_CLASS);
	lua_getfield(L, -1, "__index");
	for (int q = 0; QUERIES[q]; q++) {
		lua_pushinteger(L, q);
		lua_pushcclosure(L, layout_query, 1);
		if (q == Q_SIZE) { /* #E is E:size() */
			lua_pushvalue(L, -1);
			lua_setfield(L, -4, "__len");
		}
		lua_setfield(L, -2, QUERIES[q]);
	}
	lua_pop(L, 2);
	ebpfdsl_lua_open_layout_codec(L);
	luaL_setfuncs(L, layout_functions, 0);
}
