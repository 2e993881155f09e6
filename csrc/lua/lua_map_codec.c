/* SPDX-License-Identifier: MIT */
/* Keys and values of ebpfdsl.Map as Lua values: integers, byte strings,
 * layout-decoded tables, fds, lpm prefixes; one value per CPU where the map has them. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "lua_map.h"

/* Key and value types by name besides the integer types of layouts (u8
 * .. i64, whose sizes and ranges ebpfdsl_type_* and ebpfdsl_scalar_* know). */
static const char *const OTHER_NAMES[] = { "bytes", "fd", "lpm", NULL };
static const uint8_t OTHER_CODECS[] = { CODEC_BYTES, CODEC_FD, CODEC_LPM };

/* The layout type of an integer codec of `size` bytes (1, 2, 4 or 8). */
static int int_type(int codec, uint32_t size)
{
	int log2 = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
	return (codec == CODEC_SINT ? EBPFDSL_TYPE_I8 : EBPFDSL_TYPE_U8) + log2;
}

void *ebpfdsl_map_scratch(lua_State *L, size_t n)
{
	void *p = lua_newuserdatauv(L, n ? n : 1, 0);
	memset(p, 0, n ? n : 1);
	return p;
}

int ebpfdsl_map_parse_codec(lua_State *L, int idx, const char *field, uint32_t *size, int *size_given)
{
	int t = lua_getfield(L, idx, field);
	*size_given = 0;
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return -1;
	}
	if (t == LUA_TSTRING) {
		const char *s = lua_tostring(L, -1);
		int type = ebpfdsl_type_parse(s);
		lua_pop(L, 1);
		if (type >= EBPFDSL_TYPE_U8 && type <= EBPFDSL_TYPE_I64) {
			*size = (uint32_t)ebpfdsl_type_size(type);
			*size_given = 1;
			return ebpfdsl_type_is_signed(type) ? CODEC_SINT : CODEC_UINT;
		}
		for (int i = 0; OTHER_NAMES[i]; i++)
			if (strcmp(s, OTHER_NAMES[i]) == 0)
				return OTHER_CODECS[i];
		return luaL_error(L, "%s '%s': expected u8, u16, u32, u64, i8, i16, i32, i64, bytes, fd, lpm or a "
				  "layout", field, s);
	}
	if (ebpfdsl_lua_has_method(L, -1, "size") && ebpfdsl_lua_has_method(L, -1, "encode") && ebpfdsl_lua_has_method(L, -1, "decode")) {
		lua_Integer n;
		lua_getfield(L, -1, "size");
		lua_pushvalue(L, -2);
		lua_call(L, 1, 1);
		if (!ebpfdsl_lua_getinteger(L, -1, &n) || n <= 0 || n > INT_MAX)
			return luaL_error(L, "%s layout: size() must return a positive integer", field);
		lua_pop(L, 2);
		*size = (uint32_t)n;
		*size_given = 1;
		return CODEC_LAYOUT;
	}
	return luaL_error(L, "%s: expected a type name such as 'u32' or a layout with :size(), :encode() and "
			  ":decode(), got %s", field, luaL_typename(L, -1));
}

int ebpfdsl_map_default_codec(int type, uint32_t size, int is_key)
{
	if (size == 0)
		return CODEC_NONE;
	if (is_key && ebpfdsl_map_type_local_storage(type))
		return CODEC_FD;
	if (is_key && type == BPF_MAP_TYPE_LPM_TRIE)
		return CODEC_LPM;
	if (!is_key && ebpfdsl_map_type_fd_values(type))
		return CODEC_FD;
	if (size == 1 || size == 2 || size == 4 || size == 8)
		return CODEC_UINT;
	return CODEC_BYTES;
}

/* ------------------------------------------------------------------ */

static void put_int(lua_State *L, const char *what, int type, lua_Integer v, void *out)
{
	if (ebpfdsl_scalar_put(type, out, (int64_t)v))
		luaL_error(L, "%s %I does not fit in %s (%s)", what, v, ebpfdsl_type_name(type), ebpfdsl_scalar_range(type));
}

/* Encodes one key or one value (one CPU's slot) of `size` bytes from
 * the Lua value at idx into out. */
static void encode_one(lua_State *L, int map_idx, int idx, int codec, int layout_uv, uint32_t size, void *out,
		       const char *what)
{
	size_t len;
	int t = lua_type(L, idx);

	/* bytes of the exact size are accepted whatever the codec */
	if (t == LUA_TSTRING && codec != CODEC_NONE) {
		const char *s = lua_tolstring(L, idx, &len);
		if (len != size)
			luaL_error(L, "%s must be %d bytes, got %d", what, (int)size, (int)len);
		memcpy(out, s, len);
		return;
	}
	switch (codec) {
	case CODEC_NONE:
		if (t != LUA_TNIL && t != LUA_TNONE)
			luaL_error(L, "%s: this map has no keys (key size 0), got %s", what, luaL_typename(L, idx));
		return;
	case CODEC_UINT:
	case CODEC_SINT: {
		lua_Integer v = 0; /* luaL_error does not return, which gcc cannot tell */
		if (!ebpfdsl_lua_getinteger(L, idx, &v))
			luaL_error(L, "%s must be an integer or %d bytes, got %s", what, (int)size,
				   t == LUA_TNUMBER ? "a float" : luaL_typename(L, idx));
		put_int(L, what, int_type(codec, size), v, out);
		return;
	}
	case CODEC_BYTES:
		luaL_error(L, "%s must be a string of %d bytes, got %s", what, (int)size, luaL_typename(L, idx));
		return;
	case CODEC_FD: {
		int fd = ebpfdsl_lua_tofd(L, idx, what);
		put_int(L, what, int_type(CODEC_UINT, size), fd, out);
		return;
	}
	case CODEC_LPM: {
		lua_Integer plen;
		const char *data;
		if (t != LUA_TTABLE)
			luaL_error(L, "%s must be {prefixlen=, data=} or %d bytes, got %s", what, (int)size,
				   luaL_typename(L, idx));
		plen = ebpfdsl_lua_optint_field(L, idx, "prefixlen", -1);
		data = ebpfdsl_lua_optstr_field(L, idx, "data", NULL, &len);
		if (plen < 0 || plen > (lua_Integer)(size - 4) * 8) {
			luaL_error(L, "%s: prefixlen must be 0..%d", what, (int)(size - 4) * 8);
			return;
		}
		if (!data || len != size - 4) {
			luaL_error(L, "%s: data must be %d bytes", what, (int)(size - 4));
			return;
		}
		put_int(L, what, EBPFDSL_TYPE_U32, plen, out);
		memcpy((char *)out + 4, data, len);
		return;
	}
	case CODEC_LAYOUT: {
		const char *s;
		lua_getiuservalue(L, map_idx, layout_uv);
		lua_getfield(L, -1, "encode");
		lua_insert(L, -2);
		lua_pushvalue(L, idx);
		lua_call(L, 2, 1);
		s = lua_tolstring(L, -1, &len);
		if (!s) {
			luaL_error(L, "%s: the layout's encode() returned %s, not bytes", what, luaL_typename(L, -1));
			return;
		}
		if (len != size)
			luaL_error(L, "%s: the layout's encode() gave %d bytes, the map wants %d", what, (int)len,
				   (int)size);
		memcpy(out, s, len);
		lua_pop(L, 1);
		return;
	}
	default:
		luaL_error(L, "%s: unknown codec", what);
	}
}

const void *ebpfdsl_map_encode_key(lua_State *L, int map_idx, int idx, void *buf)
{
	struct map *m = ebpfdsl_map_check(L, map_idx);
	if (m->info.key_size == 0) {
		if (idx && !lua_isnoneornil(L, idx))
			luaL_error(L, "key: %s maps have no keys (key size 0), got %s",
				   ebpfdsl_map_type_name(m->info.type), luaL_typename(L, idx));
		return NULL;
	}
	encode_one(L, map_idx, lua_absindex(L, idx), m->kcodec, MAP_UV_KEY_LAYOUT, m->info.key_size, buf, "key");
	return buf;
}

/* Whether a per-CPU map's value is a list of per-CPU values rather than
 * one value to copy to every CPU. With a layout, the value itself is a
 * table: a list is a table whose first element is a table or bytes. */
static int percpu_list(lua_State *L, int idx, int codec)
{
	int t;
	if (lua_type(L, idx) != LUA_TTABLE)
		return 0;
	if (codec != CODEC_LAYOUT && codec != CODEC_LPM)
		return 1;
	t = lua_rawgeti(L, idx, 1);
	lua_pop(L, 1);
	return t == LUA_TTABLE || t == LUA_TSTRING;
}

const void *ebpfdsl_map_encode_value(lua_State *L, int map_idx, int idx, void *buf)
{
	struct map *m = ebpfdsl_map_check(L, map_idx);
	uint32_t stride;

	idx = lua_absindex(L, idx);
	if (!m->ncpus) {
		encode_one(L, map_idx, idx, m->vcodec, MAP_UV_VALUE_LAYOUT, m->info.value_size, buf, "value");
		return buf;
	}
	stride = (m->info.value_size + 7) / 8 * 8;
	memset(buf, 0, m->vbytes);
	if (!percpu_list(L, idx, m->vcodec)) {
		encode_one(L, map_idx, idx, m->vcodec, MAP_UV_VALUE_LAYOUT, m->info.value_size, buf, "value");
		for (int c = 1; c < m->ncpus; c++)
			memcpy((char *)buf + (size_t)c * stride, buf, m->info.value_size);
		return buf;
	}
	if (lua_rawlen(L, idx) != (size_t)m->ncpus)
		luaL_error(L, "value: a per-CPU list must have %d values (one per possible CPU), got %d", m->ncpus,
			   (int)lua_rawlen(L, idx));
	for (int c = 0; c < m->ncpus; c++) {
		char what[32];
		snprintf(what, sizeof(what), "value[%d]", c + 1);
		lua_rawgeti(L, idx, c + 1);
		encode_one(L, map_idx, lua_gettop(L), m->vcodec, MAP_UV_VALUE_LAYOUT, m->info.value_size,
			   (char *)buf + (size_t)c * stride, what);
		lua_pop(L, 1);
	}
	return buf;
}

static void decode_one(lua_State *L, int map_idx, int codec, int layout_uv, uint32_t size, const void *in)
{
	switch (codec) {
	case CODEC_NONE:
		lua_pushnil(L);
		return;
	case CODEC_UINT:
	case CODEC_SINT:
	case CODEC_FD: /* 4 or 8 bytes: check_codec */
		lua_pushinteger(L, ebpfdsl_scalar_get(int_type(codec, size), in));
		return;
	case CODEC_LPM:
		lua_createtable(L, 0, 2);
		ebpfdsl_lua_set_int(L, "prefixlen", ebpfdsl_scalar_get(EBPFDSL_TYPE_U32, in));
		lua_pushlstring(L, (const char *)in + 4, size - 4);
		lua_setfield(L, -2, "data");
		return;
	case CODEC_LAYOUT:
		lua_getiuservalue(L, map_idx, layout_uv);
		if (ebpfdsl_lua_tolayout(L, -1)) { /* an ebpfdsl.Layout: decode in C */
			ebpfdsl_lua_layout_push(L, lua_gettop(L), in, size);
			lua_remove(L, -2);
			return;
		}
		lua_getfield(L, -1, "decode");
		lua_insert(L, -2);
		lua_pushlstring(L, in, size);
		lua_call(L, 2, 1);
		return;
	default:
		lua_pushlstring(L, in, size);
		return;
	}
}

void ebpfdsl_map_push_key(lua_State *L, int map_idx, const void *bytes)
{
	struct map *m = ebpfdsl_map_check(L, map_idx);
	decode_one(L, lua_absindex(L, map_idx), m->kcodec, MAP_UV_KEY_LAYOUT, m->info.key_size, bytes);
}

void ebpfdsl_map_push_value(lua_State *L, int map_idx, const void *bytes)
{
	struct map *m = ebpfdsl_map_check(L, map_idx);
	uint32_t stride = (m->info.value_size + 7) / 8 * 8;
	lua_Integer sum = 0;
	int ints = m->vcodec == CODEC_UINT || m->vcodec == CODEC_SINT;

	map_idx = lua_absindex(L, map_idx);
	if (!m->ncpus) {
		decode_one(L, map_idx, m->vcodec, MAP_UV_VALUE_LAYOUT, m->info.value_size, bytes);
		return;
	}
	lua_createtable(L, m->ncpus, 1);
	for (int c = 0; c < m->ncpus; c++) {
		const char *slot = (const char *)bytes + (size_t)c * stride;
		decode_one(L, map_idx, m->vcodec, MAP_UV_VALUE_LAYOUT, m->info.value_size, slot);
		lua_rawseti(L, -2, c + 1);
		if (ints) /* wraps like the u64 counters it adds up */
			sum = (lua_Integer)((uint64_t)sum + (uint64_t)ebpfdsl_scalar_get(int_type(m->vcodec, m->info.value_size), slot));
	}
	if (ints) {
		ebpfdsl_lua_set_int(L, "sum", sum);
	}
}

void ebpfdsl_map_keep(lua_State *L, int map_idx, const void *key, size_t key_size, int obj_idx)
{
	map_idx = lua_absindex(L, map_idx);
	if (obj_idx)
		obj_idx = lua_absindex(L, obj_idx);
	lua_getiuservalue(L, map_idx, MAP_UV_KEEP);
	lua_pushlstring(L, key ? key : "", key ? key_size : 0);
	if (obj_idx && lua_type(L, obj_idx) != LUA_TNUMBER)
		lua_pushvalue(L, obj_idx);
	else
		lua_pushnil(L);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

void ebpfdsl_map_keep_reset(lua_State *L, int map_idx)
{
	map_idx = lua_absindex(L, map_idx);
	lua_newtable(L);
	lua_setiuservalue(L, map_idx, MAP_UV_KEEP);
}
