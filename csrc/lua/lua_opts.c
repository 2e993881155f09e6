/* SPDX-License-Identifier: MIT */
/* The one reader and the one pusher of option descriptors (lua_opts.h):
 * type, range and name checks, and "did you mean" for unknown keys. */
#include <limits.h>
#include <string.h>
#include "lua_opts.h"

#define MAX_ROWS 64

/* A misuse of row's value: an argument error for positional values (so
 * that the message names the argument), else "<what>: <msg>". */
static void opt_fail(lua_State *L, const char *what, int argn, const char *msg)
{
	if (argn > 0)
		luaL_argerror(L, argn, msg);
	luaL_error(L, "%s: %s", what, msg);
}

static lua_Integer opt_integer(lua_State *L, int vidx, const char *what, const struct ebpfdsl_lua_opt *r, int argn)
{
	lua_Integer v = 0;
	if (!ebpfdsl_lua_getinteger(L, vidx, &v))
		opt_fail(L, what, argn,
			 lua_pushfstring(L, "field '%s' must be an integer, got %s", r->key, luaL_typename(L, vidx)));
	return v;
}

static void opt_range(lua_State *L, const char *what, const struct ebpfdsl_lua_opt *r, int argn, lua_Integer v,
		      int64_t lo, int64_t hi)
{
	if (r->min || r->max)
		lo = r->min, hi = r->max;
	if (v < lo || v > hi)
		opt_fail(L, what, argn,
			 lua_pushfstring(L, "field '%s' must be from %I to %I, got %I", r->key, (lua_Integer)lo,
					 (lua_Integer)hi, v));
}

static int opt_enum(lua_State *L, int vidx, const char *what, const struct ebpfdsl_lua_opt *r, int argn)
{
	const char *s;
	luaL_Buffer b;
	if (lua_type(L, vidx) != LUA_TSTRING)
		opt_fail(L, what, argn,
			 lua_pushfstring(L, "field '%s' must be a string, got %s", r->key, luaL_typename(L, vidx)));
	s = lua_tostring(L, vidx);
	for (const struct ebpfdsl_lua_optname *n = r->names; n->name; n++)
		if (strcmp(n->name, s) == 0)
			return n->value;
	luaL_buffinit(L, &b);
	lua_pushfstring(L, "unknown %s '%s' (", r->key, s);
	luaL_addvalue(&b);
	for (const struct ebpfdsl_lua_optname *n = r->names; n->name; n++) {
		if (n->alias)
			continue;
		if (luaL_bufflen(&b) > 0 && luaL_buffaddr(&b)[luaL_bufflen(&b) - 1] != '(')
			luaL_addstring(&b, ", ");
		luaL_addstring(&b, n->name);
	}
	luaL_addchar(&b, ')');
	luaL_pushresult(&b);
	opt_fail(L, what, argn, lua_tostring(L, -1));
	return 0;
}

/* A row's field as an int64_t, and back: one place knows each kind's C
 * type (STR and KNOWN rows are not numbers). */
static void store(const struct ebpfdsl_lua_opt *r, void *out, int64_t v)
{
	char *f = (char *)out + r->offset;
	int i = (int)v;
	uint32_t u = (uint32_t)v;
	if (r->kind == EBPFDSL_LUA_OPT_U32)
		memcpy(f, &u, sizeof(u));
	else if (r->kind == EBPFDSL_LUA_OPT_I64 || r->kind == EBPFDSL_LUA_OPT_U64)
		memcpy(f, &v, sizeof(v));
	else
		memcpy(f, &i, sizeof(i));
}

static int64_t load(const struct ebpfdsl_lua_opt *r, const void *s)
{
	const char *f = (const char *)s + r->offset;
	int i;
	uint32_t u;
	int64_t v;
	if (r->kind == EBPFDSL_LUA_OPT_U32) {
		memcpy(&u, f, sizeof(u));
		return u;
	}
	if (r->kind == EBPFDSL_LUA_OPT_I64 || r->kind == EBPFDSL_LUA_OPT_U64) {
		memcpy(&v, f, sizeof(v));
		return v;
	}
	memcpy(&i, f, sizeof(i));
	return i;
}

void ebpfdsl_lua_opt_read(lua_State *L, int vidx, const char *what, const struct ebpfdsl_lua_opt *r, void *out,
			  int argn)
{
	static const int64_t lo[] = { [EBPFDSL_LUA_OPT_INT] = INT_MIN, [EBPFDSL_LUA_OPT_I64] = INT64_MIN,
				      [EBPFDSL_LUA_OPT_U32] = 0, [EBPFDSL_LUA_OPT_U64] = INT64_MIN };
	static const int64_t hi[] = { [EBPFDSL_LUA_OPT_INT] = INT_MAX, [EBPFDSL_LUA_OPT_I64] = INT64_MAX,
				      [EBPFDSL_LUA_OPT_U32] = UINT32_MAX, [EBPFDSL_LUA_OPT_U64] = INT64_MAX };
	const char *str;

	vidx = lua_absindex(L, vidx);
	switch (r->kind) {
	case EBPFDSL_LUA_OPT_BOOL:
		store(r, out, lua_toboolean(L, vidx));
		break;
	case EBPFDSL_LUA_OPT_INT:
	case EBPFDSL_LUA_OPT_I64:
	case EBPFDSL_LUA_OPT_U32:
	case EBPFDSL_LUA_OPT_U64: {
		lua_Integer v = argn > 0 ? luaL_checkinteger(L, vidx) : opt_integer(L, vidx, what, r, argn);
		opt_range(L, what, r, argn, v, lo[r->kind], hi[r->kind]);
		store(r, out, v);
		break;
	}
	case EBPFDSL_LUA_OPT_STR:
		if (argn > 0)
			luaL_checkstring(L, vidx);
		else if (lua_type(L, vidx) != LUA_TSTRING)
			opt_fail(L, what, argn,
				 lua_pushfstring(L, "field '%s' must be a string, got %s", r->key,
						 luaL_typename(L, vidx)));
		str = lua_tostring(L, vidx); /* held by the table, or the stack slot */
		memcpy((char *)out + r->offset, &str, sizeof(str));
		break;
	case EBPFDSL_LUA_OPT_FD:
		store(r, out, ebpfdsl_lua_tofd(L, vidx, argn > 0 ? what : lua_pushfstring(L, "%s %s", what, r->key)));
		if (argn <= 0)
			lua_pop(L, 1);
		break;
	case EBPFDSL_LUA_OPT_ENUM:
		store(r, out, lua_isnoneornil(L, vidx) ? r->def : opt_enum(L, vidx, what, r, argn));
		break;
	default:
		break;
	}
}

/* The message for an unknown key k, pushed; INNER rows are names only
 * when `inner` (our own Lua's tables). */
static void push_unknown(lua_State *L, const char *what, const char *k, const struct ebpfdsl_lua_opt *rows,
			 int inner)
{
	const char *names[MAX_ROWS], *near[4], *best = NULL;
	size_t n = 0, best_len = 0;
	int found;

	for (const struct ebpfdsl_lua_opt *r = rows; r->key && n < MAX_ROWS; r++)
		if (inner || r->kind != EBPFDSL_LUA_OPT_INNER)
			names[n++] = r->key;
	found = ebpfdsl_suggest(k, names, n, near, 4);
	/* of the nearest few, the one sharing the longest start with k, as
	 * ebpfdsl._errors.unknown_field chooses */
	for (int i = 0; i < found; i++) {
		size_t len = 0;
		while (k[len] && k[len] == near[i][len])
			len++;
		if (!best || len > best_len)
			best = near[i], best_len = len;
	}
	if (best)
		lua_pushfstring(L, "%s: unknown field '%s' (did you mean '%s'?)", what, k, best);
	else
		lua_pushfstring(L, "%s: unknown field '%s'", what, k);
}

void ebpfdsl_lua_opts_push_unknown(lua_State *L, const char *what, const char *k, const struct ebpfdsl_lua_opt *rows)
{
	push_unknown(L, what, k, rows, 1);
}

/* The message for the first key of the table at idx no row has, pushed;
 * 0 (nothing pushed) when every key is known. */
static int unknown_key(lua_State *L, int idx, const char *what, const struct ebpfdsl_lua_opt *rows, int inner)
{
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const struct ebpfdsl_lua_opt *r = rows;
		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING)
			while (r->key && (strcmp(r->key, lua_tostring(L, -1)) != 0 ||
					  (!inner && r->kind == EBPFDSL_LUA_OPT_INNER)))
				r++;
		if (lua_type(L, -1) != LUA_TSTRING || !r->key) {
			lua_pushvalue(L, -1); /* luaL_tolstring must not change the key lua_next holds */
			push_unknown(L, what, luaL_tolstring(L, -1, NULL), rows, inner);
			return 1;
		}
	}
	return 0;
}

static int opts_check(lua_State *L)
{
	const struct ebpfdsl_lua_opt *rows = lua_touserdata(L, lua_upvalueindex(2));
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	if (!unknown_key(L, 1, lua_tostring(L, lua_upvalueindex(1)), rows, 0))
		lua_pushnil(L);
	return 1;
}

void ebpfdsl_lua_opts_push_checker(lua_State *L, const char *what, const struct ebpfdsl_lua_opt *rows)
{
	lua_pushstring(L, what);
	lua_pushlightuserdata(L, (void *)rows);
	lua_pushcclosure(L, opts_check, 2);
}

void ebpfdsl_lua_opts_read(lua_State *L, int idx, const char *what, const struct ebpfdsl_lua_opt *rows, void *out)
{
	int have = !lua_isnoneornil(L, idx);

	idx = lua_absindex(L, idx);
	if (have) {
		luaL_checktype(L, idx, LUA_TTABLE);
		if (unknown_key(L, idx, what, rows, 1))
			luaL_error(L, "%s", lua_tostring(L, -1)); /* at the caller's line */
	}
	for (const struct ebpfdsl_lua_opt *r = rows; r->key; r++) {
		if (r->kind == EBPFDSL_LUA_OPT_KNOWN || r->kind == EBPFDSL_LUA_OPT_INNER)
			continue;
		lua_pushstring(L, r->key);
		if (have && lua_rawget(L, idx) != LUA_TNIL)
			ebpfdsl_lua_opt_read(L, -1, what, r, out, 0);
		else if (r->kind == EBPFDSL_LUA_OPT_STR)
			memset((char *)out + r->offset, 0, sizeof(const char *));
		else
			store(r, out, r->def);
		lua_pop(L, 1); /* strings stay alive: the table holds them */
	}
}

void ebpfdsl_lua_opts_push(lua_State *L, const void *s, const struct ebpfdsl_lua_opt *rows)
{
	for (const struct ebpfdsl_lua_opt *r = rows; r->key; r++) {
		const char *str;
		int64_t v;
		if (r->kind == EBPFDSL_LUA_OPT_KNOWN || r->kind == EBPFDSL_LUA_OPT_INNER)
			continue;
		if (r->kind == EBPFDSL_LUA_OPT_STR) {
			memcpy(&str, (const char *)s + r->offset, sizeof(str));
			if (!str)
				continue;
			lua_pushstring(L, str);
		} else if (r->kind == EBPFDSL_LUA_OPT_CHARS) {
			lua_pushstring(L, (const char *)s + r->offset);
		} else if (r->kind == EBPFDSL_LUA_OPT_NAMED && (str = r->name_of((int)load(r, s)))) {
			lua_pushstring(L, str);
		} else if (r->kind == EBPFDSL_LUA_OPT_BOOL) {
			lua_pushboolean(L, load(r, s) != 0);
		} else if (r->kind == EBPFDSL_LUA_OPT_ENUM) {
			const struct ebpfdsl_lua_optname *n = r->names;
			v = load(r, s);
			while (n->name && (n->value != v || n->alias))
				n++;
			if (n->name)
				lua_pushstring(L, n->name);
			else
				lua_pushinteger(L, (lua_Integer)v);
		} else {
			lua_pushinteger(L, (lua_Integer)load(r, s));
		}
		lua_setfield(L, -2, r->key);
	}
}
