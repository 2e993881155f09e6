/* SPDX-License-Identifier: MIT */
/* The elements of ebpfdsl.Map: lookup, update, delete, walks, queues,
 * bloom filters, program and map slots, and m[k] / m[k] = v / pairs(m). */
#include <errno.h>
#include <string.h>
#include "lua_map.h"

#define KEY_STACK 128
#define VALUE_STACK 512

static void *key_buf(lua_State *L, const struct map *m, char *stack)
{
	return m->info.key_size <= KEY_STACK ? stack : ebpfdsl_map_scratch(L, m->info.key_size);
}

static void *value_buf(lua_State *L, const struct map *m, char *stack)
{
	return m->vbytes <= VALUE_STACK ? stack : ebpfdsl_map_scratch(L, m->vbytes);
}

static uint64_t update_flags(lua_State *L, int idx)
{
	static const char *const names[] = { "any", "noexist", "exist", NULL };
	static const uint64_t values[] = { BPF_ANY, BPF_NOEXIST, BPF_EXIST };
	if (lua_isnoneornil(L, idx))
		return BPF_ANY;
	if (lua_type(L, idx) == LUA_TNUMBER)
		return (uint64_t)luaL_checkinteger(L, idx);
	return values[luaL_checkoption(L, idx, NULL, names)];
}

static int lookup_at(lua_State *L, int kidx, const char *what, int del)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	char ks[KEY_STACK], vs[VALUE_STACK];
	void *kb = key_buf(L, m, ks), *vb = value_buf(L, m, vs);
	const void *key = ebpfdsl_map_encode_key(L, 1, kidx, kb);
	int err = del ? ebpfdsl_map__lookup_and_delete(m->fd, key, vb, 0) : ebpfdsl_map__lookup(m->fd, key, vb, 0);
	if (err == -ENOENT) {
		lua_pushnil(L);
		return 1;
	}
	if (err)
		return ebpfdsl_map_fail_key(L, m, err, what, key);
	if (del)
		ebpfdsl_map_keep(L, 1, key, m->info.key_size, 0);
	ebpfdsl_map_push_value(L, 1, vb);
	return 1;
}

static int update_at(lua_State *L, int kidx, int vidx, uint64_t flags, const char *what)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	char ks[KEY_STACK], vs[VALUE_STACK];
	void *kb = key_buf(L, m, ks), *vb = value_buf(L, m, vs);
	const void *key = ebpfdsl_map_encode_key(L, 1, kidx, kb);
	const void *value = ebpfdsl_map_encode_value(L, 1, vidx, vb);
	int err = ebpfdsl_map__update(m->fd, key, value, flags);
	if (err)
		return ebpfdsl_map_fail_key(L, m, err, what, key);
	if (m->vcodec == CODEC_FD)
		ebpfdsl_map_keep(L, 1, key, m->info.key_size, vidx);
	lua_pushboolean(L, 1);
	return 1;
}

/* m:delete(k) -> true | false (no such key) | nil, msg, errno */
static int map_delete(lua_State *L)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	char ks[KEY_STACK];
	const void *key = ebpfdsl_map_encode_key(L, 1, 2, key_buf(L, m, ks));
	int err = ebpfdsl_map__delete(m->fd, key);
	if (err && err != -ENOENT)
		return ebpfdsl_map_fail_key(L, m, err, "delete", key);
	ebpfdsl_map_keep(L, 1, key, m->info.key_size, 0);
	lua_pushboolean(L, err == 0);
	return 1;
}

/* m:next_key([k]) -> the key after k (the first without k) | nil at the end */
static int map_next_key(lua_State *L)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	char ks[KEY_STACK], ns[KEY_STACK];
	void *next = key_buf(L, m, ns);
	const void *key = NULL;
	int err;
	if (!lua_isnoneornil(L, 2))
		key = ebpfdsl_map_encode_key(L, 1, 2, key_buf(L, m, ks));
	err = ebpfdsl_map__next_key(m->fd, key, next);
	if (err == -ENOENT) {
		lua_pushnil(L);
		return 1;
	}
	if (err)
		return ebpfdsl_map_fail(L, m, err, "next_key");
	ebpfdsl_map_push_key(L, 1, next);
	return 1;
}

/* n results of a method, for iterators and metamethods, which cannot
 * return nil, msg, errno: a failure's message is raised */
static int raise_fail(lua_State *L, int n)
{
	if (n == 3 && lua_isnil(L, -3)) {
		lua_pop(L, 1);
		return lua_error(L);
	}
	return n;
}

/* The pairs iterator prefetches the next key before handing out the
 * current one, so the loop body may delete the key it was given. */
struct walk {
	int started, done;
	uint32_t key_size;
	/* followed by two keys: current and next */
};

static int walk_step(lua_State *L)
{
	struct map *m;
	struct walk *w = lua_touserdata(L, lua_upvalueindex(2));
	char *cur = (char *)(w + 1), *next = cur + w->key_size;
	char vs[VALUE_STACK];
	void *vb;
	int err;

	lua_settop(L, 0);
	lua_pushvalue(L, lua_upvalueindex(1)); /* 1: the map */
	m = ebpfdsl_map_check_open(L, 1);
	vb = value_buf(L, m, vs);
	if (!w->started) {
		w->started = 1;
		err = ebpfdsl_map__next_key(m->fd, NULL, next);
		if (err == -ENOENT)
			w->done = 1;
		else if (err)
			return raise_fail(L, ebpfdsl_map_fail(L, m, err, "pairs"));
	}
	while (!w->done) {
		memcpy(cur, next, w->key_size);
		err = ebpfdsl_map__next_key(m->fd, cur, next);
		if (err == -ENOENT)
			w->done = 1;
		else if (err)
			return raise_fail(L, ebpfdsl_map_fail(L, m, err, "pairs"));
		err = ebpfdsl_map__lookup(m->fd, cur, vb, 0);
		if (err == -ENOENT)
			continue; /* deleted since next_key saw it */
		if (err)
			return raise_fail(L, ebpfdsl_map_fail(L, m, err, "pairs"));
		ebpfdsl_map_push_key(L, 1, cur);
		ebpfdsl_map_push_value(L, 1, vb);
		return 2;
	}
	lua_pushnil(L);
	return 1;
}

/* for k, v in m:pairs() do ... end */
int ebpfdsl_map_pairs(lua_State *L)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	struct walk *w;
	if (m->info.key_size == 0)
		return luaL_error(L, "pairs: %s maps have no keys to walk", ebpfdsl_map_type_str(m));
	lua_pushvalue(L, 1);
	w = lua_newuserdatauv(L, sizeof(*w) + 2 * (size_t)m->info.key_size, 0);
	memset(w, 0, sizeof(*w));
	w->key_size = m->info.key_size;
	lua_pushcclosure(L, walk_step, 2);
	return 1;
}

/* m:count() -> number of keys | nil, msg, errno */
static int map_count(lua_State *L)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	size_t n = 0;
	int err = ebpfdsl_map__count(m->fd, &n);
	if (err)
		return ebpfdsl_map_fail(L, m, err, "count");
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

/* m:clear() -> true | nil, msg, errno */
static int map_clear(lua_State *L)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	int err = ebpfdsl_map__clear(m->fd);
	if (err)
		return ebpfdsl_map_fail(L, m, err, "clear");
	ebpfdsl_map_keep_reset(L, 1);
	lua_pushboolean(L, 1);
	return 1;
}

/* t1 -1: every type */
static struct map *check_type(lua_State *L, const char *method, int t1, int t2)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	if (t1 >= 0 && m->info.type != t1 && m->info.type != t2)
		luaL_error(L, "%s: not a method of %s maps", method, ebpfdsl_map_type_str(m));
	return m;
}

/* The methods that are each a lookup, an update or a delete of the key
 * at argument `key` (0: the type has no keys) with the value after it;
 * `flags`: update's flags argument (0: BPF_ANY). */
enum { TM_LOOKUP, TM_POP, TM_UPDATE, TM_DELETE };
static const struct typed_method {
	const char *name;
	int t1, t2; /* the map types that have it (-1: all) */
	int op, key, flags;
} typed_methods[] = {
	/* m:lookup(k) -> value | nil (no such key) | nil, msg, errno; the
	 * same for m:lookup_and_delete(k); m:update(k, v[, "any"|"noexist"|
	 * "exist"]) -> true | nil, msg, errno */
	{ "lookup", -1, -1, TM_LOOKUP, 2, 0 },
	{ "lookup_and_delete", -1, -1, TM_POP, 2, 0 },
	{ "update", -1, -1, TM_UPDATE, 2, 4 },
	/* queue/stack: m:push(v[, "exist"]) -> true ("exist" drops the
	 * oldest element when full instead of failing), m:pop(), m:peek() */
	{ "push", BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, TM_UPDATE, 0, 3 },
	{ "pop", BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, TM_POP, 0, 0 },
	{ "peek", BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, TM_LOOKUP, 0, 0 },
	/* bloom_filter: m:add(v) -> true (m:check below) */
	{ "add", BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_BLOOM_FILTER, TM_UPDATE, 0, 0 },
	/* prog_array: m:set_prog(i, prog), m:get_prog(i) -> prog id | nil,
	 * m:delete_prog(i). The Prog stays alive while it is in the map. */
	{ "set_prog", BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, TM_UPDATE, 2, 0 },
	{ "get_prog", BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, TM_LOOKUP, 2, 0 },
	{ "delete_prog", BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, TM_DELETE, 2, 0 },
	/* array_of_maps/hash_of_maps: m:set_inner(k, map[, flags]), m:get_inner(k) -> id | nil */
	{ "set_inner", BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, TM_UPDATE, 2, 4 },
	{ "get_inner", BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, TM_LOOKUP, 2, 0 },
};

/* Every typed method: its row is upvalue 1. */
static int typed_method(lua_State *L)
{
	const struct typed_method *r = lua_touserdata(L, lua_upvalueindex(1));
	check_type(L, r->name, r->t1, r->t2);
	if (r->op == TM_UPDATE)
		return update_at(L, r->key, r->key ? r->key + 1 : 2, r->flags ? update_flags(L, r->flags) : BPF_ANY,
				 r->name);
	if (r->op == TM_DELETE)
		return map_delete(L);
	return lookup_at(L, r->key, r->name, r->op == TM_POP);
}

/* bloom_filter: m:check(v) -> true (maybe present) | false */
static int map_check(lua_State *L)
{
	struct map *m = check_type(L, "check", BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_BLOOM_FILTER);
	char vs[VALUE_STACK];
	const void *vb = ebpfdsl_map_encode_value(L, 1, 2, value_buf(L, m, vs));
	int err = ebpfdsl_map__lookup(m->fd, NULL, (void *)vb, 0); /* read, not written */
	if (err && err != -ENOENT)
		return ebpfdsl_map_fail(L, m, err, "check");
	lua_pushboolean(L, err == 0);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Metamethods: m[k], m[k] = v (nil deletes), pairs(m)                 */

/* m[k]: a method when a method has that name, else the key's value
 * (nil when absent); failures raise. */
int ebpfdsl_map_index(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TSTRING) {
		const struct map *m = ebpfdsl_map_check(L, 1);
		size_t len;
		lua_pushvalue(L, 2);
		if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
			return 1;
		lua_tolstring(L, 2, &len);
		/* bytes of the key's size are a key; other strings are no key
		 * and most likely a misspelt method */
		if (m->info.key_size == 0)
			return luaL_error(L, "'%s' is not a method of %s (%s maps have no keys)", lua_tostring(L, 2),
					  EBPFDSL_MAP_CLASS, ebpfdsl_map_type_str(m));
		if (m->kcodec != CODEC_LAYOUT && len != m->info.key_size)
			return luaL_error(L, "'%s' is neither a method of %s nor a %d-byte key of this %s map",
					  lua_tostring(L, 2), EBPFDSL_MAP_CLASS, (int)m->info.key_size,
					  ebpfdsl_map_type_str(m));
	}
	lua_settop(L, 2);
	return raise_fail(L, lookup_at(L, 2, "lookup", 0));
}

/* m[k] = v (nil deletes); a key that names a method is refused, since
 * m[k] could not read it back */
int ebpfdsl_map_newindex(lua_State *L)
{
	int n;
	if (lua_type(L, 2) == LUA_TSTRING) {
		lua_pushvalue(L, 2);
		if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
			return luaL_error(L, "m['%s'] names a method of %s; use m:update(k, v) or m:delete(k) for "
					  "that key", lua_tostring(L, 2), EBPFDSL_MAP_CLASS);
	}
	lua_settop(L, 3);
	if (lua_isnil(L, 3)) {
		lua_settop(L, 2);
		n = map_delete(L);
	} else {
		n = update_at(L, 2, 3, BPF_ANY, "update");
	}
	raise_fail(L, n);
	return 0;
}

static const luaL_Reg elem_methods[] = {
	{ "delete", map_delete },
	{ "next_key", map_next_key },
	{ "pairs", ebpfdsl_map_pairs },
	{ "count", map_count },
	{ "clear", map_clear },
	{ "check", map_check },
	{ NULL, NULL },
};

void ebpfdsl_lua_map_elem_methods(lua_State *L)
{
	luaL_setfuncs(L, elem_methods, 0);
	for (size_t i = 0; i < sizeof(typed_methods) / sizeof(typed_methods[0]); i++) {
		lua_pushlightuserdata(L, (void *)&typed_methods[i]);
		lua_pushcclosure(L, typed_method, 1);
		lua_setfield(L, -2, typed_methods[i].name);
	}
}
