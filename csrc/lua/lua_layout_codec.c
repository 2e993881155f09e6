/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Layout between bytes and tables: decode (through the core's
 * visitor, field names interned once per layout) and encode (its source). */
#include <stdlib.h>
#include <string.h>
#include "lua_layout.h"

/* Field names are pushed from interned strings, not C strings (which
 * Lua would look up by strcmp each time): user value 2 of a layout maps
 * each layout of its tree (light userdata) to the list of its field
 * names. A flat layout (no top-level value nests) is decoded by one loop
 * over its values (u->flat); any other by the core's visitor, where each
 * open table sits on the stack above the names of its fields (nil for
 * arrays). */

/* ---------------------------------------------------------------------
 * Decode, flat: one loop over the top-level values
 * --------------------------------------------------------------------- */

/* The value of a flat field of the record at rec, as the visitor would
 * give it. */
static void push_flat(lua_State *L, const struct ebpfdsl_layout_row *v, const uint8_t *rec)
{
	const uint8_t *p = rec + v->off, *nul;
	switch (v->kind) {
	case EBPFDSL_LAYOUT_VALUE_INT:
		lua_pushinteger(L, (lua_Integer)ebpfdsl_scalar_load(v->type, p));
		break;
	case EBPFDSL_LAYOUT_VALUE_BOOL:
		lua_pushboolean(L, p[0] != 0);
		break;
	case EBPFDSL_LAYOUT_VALUE_TEXT:
		nul = memchr(p, 0, v->len);
		lua_pushlstring(L, (const char *)p, nul ? (size_t)(nul - p) : v->len);
		break;
	default: /* BYTES; NESTED never comes here */
		lua_pushlstring(L, (const char *)p, v->len);
		break;
	}
}

/* ... table -> ... table: sets every value, keys from the list at keys,
 * or when `first` is not 0 from the copies at first, first + 1, ... */
static void fill_flat(lua_State *L, const struct layout *u, int keys, int first, const void *p)
{
	for (size_t i = 0; i < u->nvalues; i++) {
		if (first)
			lua_pushvalue(L, first + (int)i);
		else
			lua_rawgeti(L, keys, (lua_Integer)u->flat[i].field + 1);
		push_flat(L, &u->flat[i], p);
		lua_rawset(L, -3);
	}
}

/* ---------------------------------------------------------------------
 * Decode, any layout: the core's visitor
 * --------------------------------------------------------------------- */

struct lua_dec {
	lua_State *L;
	int names;  /* stack index of the map */
	int reuse;  /* fill tables already there (decode's `into`) */
	int values; /* top-level values stay on the stack, in order */
};

/* the top level of a record decoded as values: no table, no keys */
static int bare(const struct lua_dec *d, const struct ebpfdsl_layout_cursor *c)
{
	return d->values && !c->up;
}

/* A member's key goes on the stack before its value, so that one
 * lua_rawset stores it: ... names table key value -> ... names table */
static void push_key(const struct lua_dec *d, const struct ebpfdsl_layout_cursor *c)
{
	if (c->index == EBPFDSL_LAYOUT_NO_INDEX && !bare(d, c))
		lua_rawgeti(d->L, -2, (lua_Integer)c->field->index + 1);
}

static void store(const struct lua_dec *d, const struct ebpfdsl_layout_cursor *c)
{
	if (bare(d, c))
		return;
	if (c->index == EBPFDSL_LAYOUT_NO_INDEX)
		lua_rawset(d->L, -3);
	else
		lua_rawseti(d->L, -2, (lua_Integer)c->index + 1);
}

static int dec_scalar(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t v)
{
	struct lua_dec *d = ctx;
	push_key(d, c);
	if (c->field->type == EBPFDSL_TYPE_BOOL)
		lua_pushboolean(d->L, v != 0);
	else
		lua_pushinteger(d->L, (lua_Integer)v);
	store(d, c);
	return 0;
}

static int dec_bytes(void *ctx, const struct ebpfdsl_layout_cursor *c, const char *p, size_t len)
{
	struct lua_dec *d = ctx;
	push_key(d, c);
	lua_pushlstring(d->L, p, len);
	store(d, c);
	return 0;
}

/* ... names table [key] -> ... names table [key] its-names new-table */
static int dec_enter(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest, size_t n)
{
	struct lua_dec *d = ctx;
	lua_State *L = d->L;
	luaL_checkstack(L, 5, "layout nested too deeply");
	push_key(d, c);
	if (nest == EBPFDSL_LAYOUT_NEST_ARRAY)
		lua_pushnil(L);
	else
		lua_rawgetp(L, d->names, c->field->layout);
	if (d->reuse) {
		/* ... names table [key] its-names */
		if (c->index == EBPFDSL_LAYOUT_NO_INDEX) {
			lua_pushvalue(L, -2);
			lua_rawget(L, -4);
		} else {
			lua_rawgeti(L, -2, (lua_Integer)c->index + 1);
		}
		if (lua_type(L, -1) == LUA_TTABLE)
			return 0;
		lua_pop(L, 1);
	}
	if (nest == EBPFDSL_LAYOUT_NEST_ARRAY)
		lua_createtable(L, (int)n, 0);
	else
		lua_createtable(L, 0, (int)n);
	return 0;
}

static int dec_leave(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest)
{
	struct lua_dec *d = ctx;
	(void)nest;
	lua_remove(d->L, -2); /* its names */
	store(d, c);
	return 0;
}

static const struct ebpfdsl_layout_visitor LUA_VISITOR = {
	.sz = sizeof(struct ebpfdsl_layout_visitor),
	.scalar = dec_scalar,
	.bytes = dec_bytes,
	.enter = dec_enter,
	.leave = dec_leave,
};

/* Pushes the decoded record; `names` is the stack index of the layout's
 * user value 2, `keys` (0: none yet) that of the top level's names;
 * `into`, when not 0, the stack index of a table to fill (and push)
 * instead of a new one. */
static void push_decoded(lua_State *L, const struct layout *u, int names, int keys, int first, const void *p,
			 size_t len, int into)
{
	struct lua_dec d = { L, names, into != 0, 0 };
	if (!keys)
		lua_rawgetp(L, names, u->l);
	if (into)
		lua_pushvalue(L, into);
	else
		lua_createtable(L, 0, (int)u->nvalues);
	if (!u->nested) {
		fill_flat(L, u, keys ? keys : lua_gettop(L) - 1, first, p);
	} else {
		if (keys) { /* the visitor wants the names below the table */
			lua_pushvalue(L, keys);
			lua_insert(L, -2);
		}
		ebpfdsl_layout__decode(u->l, p, len, &LUA_VISITOR, &d);
		if (keys)
			lua_remove(L, -2);
	}
	if (!keys)
		lua_remove(L, -2);
}

int ebpfdsl_lua_layout_push(lua_State *L, int idx, const void *p, size_t len)
{
	struct layout *u = ebpfdsl_lua_layout_check(L, idx);
	size_t size = ebpfdsl_layout__size(u->l);
	if (len < size)
		return luaL_error(L, "decode: struct %s needs %d bytes, got %d", ebpfdsl_layout__name(u->l), (int)size,
				  (int)len);
	lua_getiuservalue(L, idx, 2);
	push_decoded(L, u, lua_gettop(L), 0, 0, p, len, 0);
	lua_remove(L, -2);
	return 1;
}

/* ---------------------------------------------------------------------
 * Decoders: many records of one layout (see lua_util.h)
 * --------------------------------------------------------------------- */

void ebpfdsl_lua_decoder_init(lua_State *L, int idx, struct ebpfdsl_lua_decoder *d, int many)
{
	struct layout *u = ebpfdsl_lua_layout_check(L, idx);
	d->u = u;
	d->size = ebpfdsl_layout__size(u->l);
	d->nvalues = (int)u->nvalues;
	lua_getiuservalue(L, idx, 2);
	d->names = lua_gettop(L);
	lua_rawgetp(L, d->names, u->l);
	d->keys = lua_gettop(L);
	d->first = 0;
	if (u->nested || !many)
		return;
	/* pushvalue is cheaper than rawgeti, per field of every record */
	luaL_checkstack(L, d->nvalues + LUA_MINSTACK, "layout has too many fields");
	d->first = d->keys + 1;
	for (size_t i = 0; i < u->nvalues; i++)
		lua_rawgeti(L, d->keys, (lua_Integer)u->flat[i].field + 1);
}

void ebpfdsl_lua_decode(lua_State *L, const struct ebpfdsl_lua_decoder *d, const void *p, size_t len, int into)
{
	push_decoded(L, d->u, d->names, d->keys, d->first, p, len, into);
}

int ebpfdsl_lua_decode_values(lua_State *L, const struct ebpfdsl_lua_decoder *d, const void *p, size_t len)
{
	const struct layout *u = d->u;
	luaL_checkstack(L, d->nvalues + 4, "too many fields to pass as arguments");
	if (!u->nested) {
		for (size_t i = 0; i < u->nvalues; i++)
			push_flat(L, &u->flat[i], p);
	} else {
		struct lua_dec dec = { L, d->names, 0, 1 };
		ebpfdsl_layout__decode(u->l, p, len, &LUA_VISITOR, &dec);
	}
	return d->nvalues;
}

/* A Lua function returning its arguments as a list: a table constructor
 * copies them into the list's array in one step (OP_SETLIST), where one
 * lua_rawseti per value costs several times as much. */
static void push_packer(lua_State *L)
{
	static const char *const KEY = "ebpfdsl.packer";
	if (lua_getfield(L, LUA_REGISTRYINDEX, KEY) == LUA_TFUNCTION)
		return;
	lua_pop(L, 1);
	if (luaL_loadstring(L, "return { ... }"))
		lua_error(L);
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY);
}

/* The integer field at `off` of n records, pushed. Inlined with `type`
 * a constant, ebpfdsl_scalar_load's switch folds away: one load and one
 * push per record, where push_flat decides kind and type every time. */
static inline void push_ints(lua_State *L, int type, const void *const *recs, size_t off, size_t n)
{
	for (size_t k = 0; k < n; k++)
		lua_pushinteger(L, (lua_Integer)ebpfdsl_scalar_load(type, (const uint8_t *)recs[k] + off));
}

static void push_int_column(lua_State *L, int type, const void *const *recs, size_t off, size_t n)
{
	switch (type) {
	case EBPFDSL_TYPE_U8: push_ints(L, EBPFDSL_TYPE_U8, recs, off, n); break;
	case EBPFDSL_TYPE_U16: push_ints(L, EBPFDSL_TYPE_U16, recs, off, n); break;
	case EBPFDSL_TYPE_U32: push_ints(L, EBPFDSL_TYPE_U32, recs, off, n); break;
	case EBPFDSL_TYPE_I8: push_ints(L, EBPFDSL_TYPE_I8, recs, off, n); break;
	case EBPFDSL_TYPE_I16: push_ints(L, EBPFDSL_TYPE_I16, recs, off, n); break;
	case EBPFDSL_TYPE_I32: push_ints(L, EBPFDSL_TYPE_I32, recs, off, n); break;
	case EBPFDSL_TYPE_U64: push_ints(L, EBPFDSL_TYPE_U64, recs, off, n); break;
	default: push_ints(L, type, recs, off, n); /* the rest: the generic load */
	}
}

void ebpfdsl_lua_decode_columns(lua_State *L, const struct ebpfdsl_lua_decoder *d, const void *const *recs,
				const size_t *lens, size_t n, int cols)
{
	const struct layout *u = d->u;
	luaL_checkstack(L, (int)n + 8, "too many records for columns");
	if (u->nested) { /* the visitor: values a record at a time */
		int first = lua_gettop(L) + 1;
		luaL_checkstack(L, (int)u->nvalues + 8, "too many fields for columns");
		for (size_t i = 0; i < u->nvalues; i++)
			lua_createtable(L, (int)n, 0);
		for (size_t k = 0; k < n; k++)
			for (int i = ebpfdsl_lua_decode_values(L, d, recs[k], lens[k]) - 1; i >= 0; i--)
				lua_rawseti(L, first + i, (lua_Integer)k + 1);
		for (int i = (int)u->nvalues - 1; i >= 0; i--) {
			ebpfdsl_lua_decoder_name(L, d, i);
			lua_insert(L, -2);
			lua_rawset(L, cols);
		}
		return;
	}
	for (size_t i = 0; i < u->nvalues; i++) {
		const struct ebpfdsl_layout_row *v = &u->flat[i];
		ebpfdsl_lua_decoder_name(L, d, (int)i);
		push_packer(L);
		if (v->kind == EBPFDSL_LAYOUT_VALUE_INT)
			push_int_column(L, v->type, recs, v->off, n);
		else
			for (size_t k = 0; k < n; k++)
				push_flat(L, v, recs[k]);
		lua_call(L, (int)n, 1);
		lua_rawset(L, cols);
	}
}

void ebpfdsl_lua_decoder_name(lua_State *L, const struct ebpfdsl_lua_decoder *d, int i)
{
	lua_rawgeti(L, d->keys, (lua_Integer)d->u->flat[i].field + 1);
}

/* E:decode(bytes[, offset[, into]]) -> table; offset counts bytes from
 * 0; `into`, a table to fill and return instead of a new one (a reader
 * that does not keep its events saves the allocations). */
static int layout_decode(lua_State *L)
{
	struct layout *u = ebpfdsl_lua_layout_check(L, 1);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);
	lua_Integer off = luaL_optinteger(L, 3, 0);
	char err[256];
	int64_t fit = ebpfdsl_layout__records(u->l, len, off, 1, NULL, err, sizeof(err));
	int into = lua_isnoneornil(L, 4) ? 0 : 4;
	if (into)
		luaL_checktype(L, 4, LUA_TTABLE);
	if (fit <= 0)
		return fit < 0 ? luaL_error(L, "decode: %s", err)
			       : luaL_error(L, "decode: struct %s needs %d bytes at offset %d, got %d",
					    ebpfdsl_layout__name(u->l), (int)ebpfdsl_layout__size(u->l), (int)off, (int)len);
	lua_getiuservalue(L, 1, 2);
	push_decoded(L, u, lua_gettop(L), 0, 0, s + off, len - (size_t)off, into);
	return 1;
}

/* E:decode_many(bytes[, count[, stride[, offset]]]) -> list of tables.
 * Without count, as many records as the bytes hold; stride defaults to
 * the size (ring-buffer records with a header use stride and offset). */
static int layout_decode_many(lua_State *L)
{
	struct layout *u = ebpfdsl_lua_layout_check(L, 1);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);
	int64_t want = luaL_optinteger(L, 3, 0), count;
	lua_Integer stride = luaL_optinteger(L, 4, (lua_Integer)ebpfdsl_layout__size(u->l));
	lua_Integer off = luaL_optinteger(L, 5, 0);
	char err[256];
	count = ebpfdsl_layout__records(u->l, len, off, stride, lua_isnoneornil(L, 3) ? NULL : &want, err, sizeof(err));
	if (count < 0)
		return luaL_error(L, "decode_many: %s", err);
	lua_getiuservalue(L, 1, 2);       /* names */
	lua_rawgetp(L, -1, u->l);         /* the top level's names */
	lua_createtable(L, (int)count, 0);
	for (lua_Integer i = 0; i < count; i++) {
		size_t at = (size_t)off + (size_t)i * (size_t)stride;
		push_decoded(L, u, lua_gettop(L) - 2, lua_gettop(L) - 1, 0, s + at, len - at, 0);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* ---------------------------------------------------------------------
 * Encode: table -> bytes
 * --------------------------------------------------------------------- */

/* As in decoding, each open table sits on the stack above the names of
 * its fields (nil for arrays), and fields are read with those interned
 * keys. found[] counts the fields given at each struct level (the record
 * is level 0, each nested struct one more; arrays add none), to tell
 * unknown keys apart. A layout nests at most EBPFDSL_LAYOUT_MAX_DEPTH
 * deep, so that many levels and one more always fit. */
struct lua_enc {
	lua_State *L;
	const ebpfdsl_layout *l;
	int names;        /* stack index of the layout's user value 2 */
	int pending;      /* a string left on the stack above the table */
	char ch;          /* a single char given as an integer */
	int depth;        /* struct level of the table on top */
	size_t found[EBPFDSL_LAYOUT_MAX_DEPTH + 1];
};

static int enc_error(struct lua_enc *e, const struct ebpfdsl_layout_cursor *c, const char *fmt, const char *a)
{
	char path[512];
	ebpfdsl_layout_cursor_path(c, path, sizeof(path));
	lua_pushfstring(e->L, fmt, a);
	return luaL_error(e->L, "encode struct %s: '%s' %s", ebpfdsl_layout__name(e->l), path, lua_tostring(e->L, -1));
}

/* Pushes the value for c from the table on top (below a pending string,
 * which it pops first); returns its type. Room for the key and the value
 * (and a pending string) was made when the table was entered. */
static int fetch(struct lua_enc *e, const struct ebpfdsl_layout_cursor *c)
{
	lua_State *L = e->L;
	if (e->pending) {
		lua_pop(L, 1);
		e->pending = 0;
	}
	if (c->index != EBPFDSL_LAYOUT_NO_INDEX)
		return lua_rawgeti(L, -1, (lua_Integer)c->index + 1);
	/* ... names table -> ... names table key -> ... names table value */
	lua_rawgeti(L, -2, (lua_Integer)c->field->index + 1);
	return lua_gettable(L, -2);
}

/* A value was given for c: a struct field counts toward its level's
 * keys (array elements are not keys). Called once per value taken. */
static void given(struct lua_enc *e, const struct ebpfdsl_layout_cursor *c)
{
	if (c->index == EBPFDSL_LAYOUT_NO_INDEX)
		e->found[e->depth]++;
}

static int enc_scalar(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t *v)
{
	struct lua_enc *e = ctx;
	lua_State *L = e->L;
	int t = fetch(e, c);
	lua_Integer i = 0;
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	given(e, c);
	if (t == LUA_TBOOLEAN && c->field->type == EBPFDSL_TYPE_BOOL) {
		i = lua_toboolean(L, -1);
	} else if (!ebpfdsl_lua_getinteger(L, -1, &i)) {
		if (t != LUA_TNUMBER)
			return enc_error(e, c, c->field->type == EBPFDSL_TYPE_BOOL ? "must be a boolean, got %s"
										   : "must be an integer, got %s",
					 luaL_typename(L, -1));
		return enc_error(e, c, "must be an integer, got %s", lua_tostring(L, -1));
	}
	*v = (int64_t)i;
	lua_pop(L, 1);
	return 1;
}

static int enc_bytes(void *ctx, const struct ebpfdsl_layout_cursor *c, const char **p, size_t *len)
{
	struct lua_enc *e = ctx;
	lua_State *L = e->L;
	int t = fetch(e, c);
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (t == LUA_TSTRING) {
		given(e, c);
		*p = lua_tolstring(L, -1, len);
		e->pending = 1; /* stays on the stack until the bytes are copied */
		return 1;
	}
	if (t == LUA_TTABLE && c->field->count) {
		lua_pop(L, 1);
		return 2; /* entered as an array next, and counted there */
	}
	if (t == LUA_TNUMBER && c->field->count == 0) {
		lua_Integer v = 0;
		given(e, c);
		if (!ebpfdsl_lua_getinteger(L, -1, &v) || v < -128 || v > 255)
			return enc_error(e, c, "must be one character or a byte (-128..255), got %s", lua_tostring(L, -1));
		e->ch = (char)v;
		*p = &e->ch;
		*len = 1;
		lua_pop(L, 1);
		return 1;
	}
	return enc_error(e, c, c->field->count ? "must be a string or a list, got %s" : "must be a string, got %s",
			 luaL_typename(L, -1));
}

static void check_unknown_keys(struct lua_enc *e, const ebpfdsl_layout *l, const struct ebpfdsl_layout_cursor *c);

static int enc_enter(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest)
{
	struct lua_enc *e = ctx;
	lua_State *L = e->L;
	int t = fetch(e, c);
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (t != LUA_TTABLE)
		return enc_error(e, c, nest == EBPFDSL_LAYOUT_NEST_ARRAY ? "must be a list, got %s" : "must be a table, got %s",
				 luaL_typename(L, -1));
	if (nest == EBPFDSL_LAYOUT_NEST_ARRAY && lua_rawlen(L, -1) > c->field->count) {
		lua_pushfstring(L, "has %d elements; the array holds %d", (int)lua_rawlen(L, -1), (int)c->field->count);
		return enc_error(e, c, "%s", lua_tostring(L, -1));
	}
	given(e, c);
	if (nest == EBPFDSL_LAYOUT_NEST_STRUCT) {
		if (e->depth + 1 >= (int)(sizeof(e->found) / sizeof(e->found[0])))
			return enc_error(e, c, "%s", "is nested too deeply");
		e->depth++;
		e->found[e->depth] = 0;
		lua_rawgetp(L, e->names, c->field->layout);
	} else {
		lua_pushnil(L);
	}
	lua_insert(L, -2); /* its names below it */
	luaL_checkstack(L, 4, "layout nested too deeply");
	return 1;
}

static int enc_leave(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest)
{
	struct lua_enc *e = ctx;
	if (e->pending) {
		lua_pop(e->L, 1);
		e->pending = 0;
	}
	if (nest == EBPFDSL_LAYOUT_NEST_STRUCT) {
		check_unknown_keys(e, c->field->layout, c);
		e->depth--;
	}
	lua_pop(e->L, 2); /* the table and its names */
	return 0;
}

static const struct ebpfdsl_layout_source LUA_SOURCE = {
	.sz = sizeof(struct ebpfdsl_layout_source),
	.scalar = enc_scalar,
	.bytes = enc_bytes,
	.enter = enc_enter,
	.leave = enc_leave,
};

/* The table on top has more keys than fields were found: the core
 * names one that is no value field. */
static void check_unknown_keys(struct lua_enc *e, const ebpfdsl_layout *l, const struct ebpfdsl_layout_cursor *c)
{
	lua_State *L = e->L;
	size_t keys = 0;
	char path[512] = "", err[1024];
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		keys++;
		lua_pop(L, 1);
	}
	if (keys == e->found[e->depth])
		return;
	if (c) {
		ebpfdsl_layout_cursor_path(c, path, sizeof(path));
		strncat(path, ".", sizeof(path) - strlen(path) - 1);
	}
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "encode struct %s: a key of type %s in the table for struct %s",
				   ebpfdsl_layout__name(e->l), luaL_typename(L, -1), ebpfdsl_layout__name(l));
		if (ebpfdsl_layout__check_key(l, path, lua_tostring(L, -1), err, sizeof(err)))
			luaL_error(L, "encode struct %s: %s", ebpfdsl_layout__name(e->l), err);
	}
}

/* E:encode(tbl) -> bytes; missing fields are zero */
static int layout_encode(lua_State *L)
{
	struct layout *u = ebpfdsl_lua_layout_check(L, 1);
	struct lua_enc e = { .L = L, .l = u->l };
	size_t size = ebpfdsl_layout__size(u->l);
	char err[1024];
	luaL_Buffer b;
	char *out;
	int r;

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_getiuservalue(L, 1, 2);           /* 3: the names of each layout */
	e.names = 3;
	out = luaL_buffinitsize(L, &b, size); /* 4: the buffer's box */
	lua_rawgetp(L, 3, u->l);              /* the top level's names */
	lua_pushvalue(L, 2);                  /* the table the source reads */
	luaL_checkstack(L, 4, "layout nested too deeply");
	r = ebpfdsl_layout__encode(u->l, out, size, &LUA_SOURCE, &e, err, sizeof(err));
	if (e.pending)
		lua_pop(L, 1);
	if (r)
		return luaL_error(L, "encode struct %s: %s", ebpfdsl_layout__name(u->l), err);
	check_unknown_keys(&e, u->l, NULL);
	lua_pop(L, 2);
	luaL_pushresultsize(&b, size);
	return 1;
}

static const luaL_Reg codec_methods[] = {
	{ "decode", layout_decode },
	{ "decode_many", layout_decode_many },
	{ "encode", layout_encode },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_layout_codec(lua_State *L)
{
	ebpfdsl_lua_class_extend(L, EBPFDSL_LAYOUT_CLASS, codec_methods, 0);
}
