/* SPDX-License-Identifier: MIT */
/* The batch methods of ebpfdsl.Map: lookup, update, delete and
 * lookup-and-delete many elements per kernel call, as Lua lists. */
#include <errno.h>
#include <string.h>
#include "lua_map.h"
#include "lua_opts.h"

#define DEFAULT_CHUNK 4096u

struct batch_args {
	uint32_t count;      /* 0: the whole map, chunk by chunk */
	const char *cursor;  /* NULL: from the start */
	size_t cursor_len;
	uint64_t elem_flags;
	int fallback;
};

static const struct ebpfdsl_lua_optname FLAG_NAMES[] = {
	{ "any", BPF_ANY, 0 }, { "noexist", BPF_NOEXIST, 0 }, { "exist", BPF_EXIST, 0 }, { NULL, 0, 0 },
};

/* A batch's fields; cursor= (bytes, NULs included) and flags= (a name or
 * the number) by hand. */
static const struct ebpfdsl_lua_opt batch_rows[] = {
	EBPFDSL_OPT_U32(struct batch_args, "count", count),
	EBPFDSL_OPT_KNOWN("cursor"),
	EBPFDSL_OPT_KNOWN("flags"),
	{ "fallback", EBPFDSL_LUA_OPT_BOOL, offsetof(struct batch_args, fallback), 1, 0, 0, NULL, NULL },
	EBPFDSL_OPT_END,
};

/* opts: {count=, cursor=, flags=, fallback=} or, for update, a flag name */
static void read_opts(lua_State *L, int idx, const char *what, struct batch_args *a)
{
	static const struct ebpfdsl_lua_opt flags_row = { "flags", EBPFDSL_LUA_OPT_ENUM, 0, 0, 0, 0, FLAG_NAMES, NULL };
	int flags = 0;
	memset(a, 0, sizeof(*a));
	if (lua_type(L, idx) == LUA_TSTRING) {
		ebpfdsl_lua_opt_read(L, idx, what, &flags_row, &flags, idx);
		a->elem_flags = (uint64_t)flags;
		a->fallback = 1;
		return;
	}
	if (!lua_isnoneornil(L, idx))
		luaL_checktype(L, idx, LUA_TTABLE);
	ebpfdsl_lua_opts_read(L, idx, what, batch_rows, a);
	if (lua_isnoneornil(L, idx))
		return;
	a->cursor = ebpfdsl_lua_optstr_field(L, idx, "cursor", NULL, &a->cursor_len);
	if (lua_getfield(L, idx, "flags") == LUA_TSTRING)
		ebpfdsl_lua_opt_read(L, -1, what, &flags_row, &flags, 0);
	else if (!lua_isnil(L, -1))
		flags = (int)luaL_checkinteger(L, -1);
	a->elem_flags = (uint64_t)flags;
	lua_pop(L, 1);
}

/* m:lookup_batch([{count=, cursor=, fallback=}]) and
 * m:lookup_and_delete_batch(...) -> keys, values, cursor | nil, fallback
 *   | nil, msg, errno.
 * Without count, the whole map in chunks; with it, one kernel call of up
 * to count elements (more when one hash bucket holds more) and the
 * cursor to continue from, nil once the end is reached. */
static int lookup_batch(lua_State *L, int del)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	const char *what = del ? "lookup_and_delete_batch" : "lookup_batch";
	struct ebpfdsl_map_batch o = { .sz = sizeof(o) };
	struct batch_args a;
	size_t cs = ebpfdsl_map_batch_cursor_size(m->info.key_size);
	uint32_t chunk, room = 0, n = 0;
	char *in = NULL, *out, *kb = NULL, *vb = NULL;
	int err, used_fallback = 0, keys, values;

	if (m->info.key_size == 0)
		return luaL_error(L, "%s: %s maps have no keys", what, ebpfdsl_map_type_name(m->info.type));
	read_opts(L, 2, what, &a);
	lua_settop(L, 2);
	o.elem_flags = a.elem_flags;
	o.no_fallback = !a.fallback;
	chunk = a.count ? a.count
			: (m->info.max_entries && m->info.max_entries < DEFAULT_CHUNK ? m->info.max_entries : DEFAULT_CHUNK);
	out = ebpfdsl_map_scratch(L, cs); /* 3 */
	if (a.cursor) {
		if (a.cursor_len != cs)
			return luaL_error(L, "%s: cursor must be %d bytes (one this map's batch returned)", what,
					  (int)cs);
		in = ebpfdsl_map_scratch(L, cs); /* 4 */
		memcpy(in, a.cursor, cs);
	} else {
		lua_pushnil(L); /* 4 */
	}
	lua_newtable(L);
	keys = lua_gettop(L);
	lua_newtable(L);
	values = lua_gettop(L);
	lua_pushnil(L); /* 7, 8: room for one chunk of keys and values, made */
	lua_pushnil(L); /* once and grown only when a bucket needs more */
	for (;;) {
		uint32_t cnt = chunk;
		if (chunk > room) {
			/* the kernel writes them: no need to zero */
			kb = lua_newuserdatauv(L, (size_t)chunk * m->info.key_size, 0);
			lua_replace(L, keys + 2);
			vb = lua_newuserdatauv(L, (size_t)chunk * m->vbytes + 1, 0);
			lua_replace(L, keys + 3);
			room = chunk;
		}
		err = del ? ebpfdsl_map__lookup_and_delete_batch(m->fd, in, out, kb, vb, &cnt, &o)
			  : ebpfdsl_map__lookup_batch(m->fd, in, out, kb, vb, &cnt, &o);
		used_fallback |= o.fallback;
		if (err == -ENOSPC && cnt == 0 && chunk < 0x40000000u) {
			/* one hash bucket holds more than chunk elements */
			chunk *= 2;
			continue;
		}
		if (err && err != -ENOENT)
			return ebpfdsl_map_fail(L, m, err, what);
		for (uint32_t i = 0; i < cnt; i++) {
			const char *k = kb + (size_t)i * m->info.key_size;
			ebpfdsl_map_push_key(L, 1, k);
			lua_rawseti(L, keys, ++n);
			ebpfdsl_map_push_value(L, 1, vb + (size_t)i * m->vbytes);
			lua_rawseti(L, values, n);
			if (del)
				ebpfdsl_map_keep(L, 1, k, m->info.key_size, 0);
		}
		if (err == -ENOENT || a.count)
			break;
		/* the next chunk starts where this one ended */
		if (!in) {
			in = ebpfdsl_map_scratch(L, cs);
			lua_replace(L, 4);
		}
		memcpy(in, out, cs);
	}
	lua_settop(L, values); /* keys, values; then the cursor and fallback */
	if (err == -ENOENT)
		lua_pushnil(L);
	else
		lua_pushlstring(L, out, cs);
	lua_pushboolean(L, used_fallback);
	return 4;
}

static int map_lookup_batch(lua_State *L)
{
	return lookup_batch(L, 0);
}

static int map_lookup_and_delete_batch(lua_State *L)
{
	return lookup_batch(L, 1);
}

/* Encodes the list at idx into n consecutive keys or values. */
static char *encode_list(lua_State *L, int idx, uint32_t n, int values)
{
	struct map *m = ebpfdsl_map_check(L, 1);
	size_t each = values ? m->vbytes : m->info.key_size;
	char *buf = ebpfdsl_map_scratch(L, (size_t)n * each);
	for (uint32_t i = 0; i < n; i++) {
		lua_rawgeti(L, idx, (lua_Integer)i + 1);
		if (values)
			ebpfdsl_map_encode_value(L, 1, -1, buf + i * each);
		else
			ebpfdsl_map_encode_key(L, 1, -1, buf + i * each);
		lua_pop(L, 1);
	}
	return buf;
}

static uint32_t list_len(lua_State *L, int idx, const char *what)
{
	size_t n;
	luaL_checktype(L, idx, LUA_TTABLE);
	n = lua_rawlen(L, idx);
	if (n > 0xffffffffu)
		luaL_error(L, "%s: too many elements", what);
	return (uint32_t)n;
}

static int batch_fail(lua_State *L, struct map *m, int err, const char *what, uint32_t done)
{
	ebpfdsl_map_fail(L, m, err, what);
	lua_pushinteger(L, done);
	return 4;
}

/* m:update_batch(keys, values[, "any"|"noexist"|"exist" | {flags=, fallback=}])
 * and m:delete_batch(keys[, {fallback=}]) -> n, fallback | nil, msg, errno, done */
static int change_batch(lua_State *L, int update)
{
	struct map *m = ebpfdsl_map_check_open(L, 1);
	const char *what = update ? "update_batch" : "delete_batch";
	struct ebpfdsl_map_batch o = { .sz = sizeof(o) };
	struct batch_args a;
	int opts = update ? 4 : 3, err;
	uint32_t n = list_len(L, 2, what), cnt = n;
	char *kb, *vb;

	if (update && list_len(L, 3, what) != n)
		return luaL_error(L, "update_batch: %d keys but %d values", (int)n, (int)lua_rawlen(L, 3));
	if (m->info.key_size == 0)
		return luaL_error(L, "%s: %s maps have no keys", what, ebpfdsl_map_type_name(m->info.type));
	read_opts(L, opts, what, &a);
	lua_settop(L, opts);
	o.elem_flags = update ? a.elem_flags : 0;
	o.no_fallback = !a.fallback;
	if (n == 0) {
		lua_pushinteger(L, 0);
		lua_pushboolean(L, 0);
		return 2;
	}
	kb = encode_list(L, 2, n, 0);
	vb = update ? encode_list(L, 3, n, 1) : NULL;
	err = update ? ebpfdsl_map__update_batch(m->fd, kb, vb, &cnt, &o) : ebpfdsl_map__delete_batch(m->fd, kb, &cnt, &o);
	/* the elements done keep their Lua values (fds updated) or let go of
	 * them (deleted) */
	for (uint32_t i = 0; i < cnt && i < n && (!update || m->vcodec == CODEC_FD); i++) {
		if (update)
			lua_rawgeti(L, 3, (lua_Integer)i + 1);
		ebpfdsl_map_keep(L, 1, kb + (size_t)i * m->info.key_size, m->info.key_size, update ? -1 : 0);
		lua_pop(L, update);
	}
	if (err)
		return batch_fail(L, m, err, what, cnt);
	lua_pushinteger(L, cnt);
	lua_pushboolean(L, o.fallback);
	return 2;
}

static int map_update_batch(lua_State *L)
{
	return change_batch(L, 1);
}

static int map_delete_batch(lua_State *L)
{
	return change_batch(L, 0);
}

void ebpfdsl_lua_map_batch_methods(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "lookup_batch", map_lookup_batch },
		{ "lookup_and_delete_batch", map_lookup_and_delete_batch },
		{ "update_batch", map_update_batch },
		{ "delete_batch", map_delete_batch },
		{ NULL, NULL },
	};
	luaL_setfuncs(L, methods, 0);
}
