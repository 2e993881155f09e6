/* SPDX-License-Identifier: MIT */
/* ebpfdsl.UserRingBuf: the writing end of a user_ringbuf map, whose
 * records a BPF program drains. Records are strings, or tables a layout
 * encodes. */
#include <errno.h>
#include <string.h>
#include "lua_reader.h"

static const char *const CLASS = "ebpfdsl.UserRingBuf";

enum { UV_MAP = 1, UV_LAYOUT, UV_COUNT = UV_LAYOUT };

/* a reader object that only writes: the skeleton's close and __tostring */
struct lurb {
	struct lua_reader base; /* base.native: the ebpfdsl_user_ringbuf */
	int fd;
};

static const struct lua_reader_type user_ringbuf_type;

static struct lurb *check_open(lua_State *L, int idx)
{
	return ebpfdsl_lua_reader_check_open(L, idx, &user_ringbuf_type);
}

static void urb_describe(lua_State *L, struct lua_reader *base)
{
	lua_pushfstring(L, "%s on map fd %d (%d bytes)", CLASS, ((struct lurb *)base)->fd,
			(int)ebpfdsl_user_ringbuf__size(base->native));
}

/* user_ringbuf_new(map_or_fd[, layout]) -> UserRingBuf | nil, msg, errno.
 * The map (and layout) are kept: libbpf uses the map's fd to wait. */
static int l_user_ringbuf_new(lua_State *L)
{
	int fd = ebpfdsl_lua_tofd(L, 1, "user_ringbuf");
	struct lurb *r;
	lua_settop(L, 2);
	if (!lua_isnil(L, 2) && !ebpfdsl_lua_has_method(L, 2, "encode"))
		return luaL_error(L, "user_ringbuf: the layout must have an :encode() method, got %s", luaL_typename(L, 2));
	r = ebpfdsl_lua_reader_new(L, &user_ringbuf_type, sizeof(*r)); /* 3 */
	r->fd = fd;
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, 3, UV_MAP);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, 3, UV_LAYOUT);
	r->base.native = ebpfdsl_user_ringbuf__new(fd);
	if (!r->base.native) {
		int e = errno;
		if (e == EINVAL)
			return ebpfdsl_lua_fail(L, e, "user_ringbuf on fd %d: not a user_ringbuf map", fd);
		return ebpfdsl_lua_fail(L, e, "user_ringbuf on fd %d", fd);
	}
	return 1;
}

/* r:write(record[, timeout_ms]) -> true | nil, msg, errno. A string, or
 * a table the layout encodes. timeout_ms: 0 (default) does not wait for
 * room, -1 waits as long as it takes. */
static int urb_write(lua_State *L)
{
	struct lurb *r = check_open(L, 1);
	ebpfdsl_user_ringbuf *u = r->base.native;
	lua_Integer timeout = luaL_optinteger(L, 3, 0);
	const char *data;
	char msg[160];
	size_t len;
	int e;

	luaL_checkany(L, 2);
	lua_settop(L, 3);
	if (timeout < -1 || timeout > 0x7fffffff)
		return luaL_argerror(L, 3, "a timeout in milliseconds, or -1 for none");
	if (lua_type(L, 2) != LUA_TSTRING) {
		if (lua_getiuservalue(L, 1, UV_LAYOUT) == LUA_TNIL)
			return luaL_error(L, "write: a record is a string of bytes (or give the producer a layout), got %s",
					  luaL_typename(L, 2));
		lua_getfield(L, -1, "encode");
		lua_insert(L, -2);
		lua_pushvalue(L, 2);
		lua_call(L, 2, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "write: the layout's encode() gave %s, not bytes", luaL_typename(L, -1));
		lua_replace(L, 2);
	}
	data = lua_tolstring(L, 2, &len);
	e = ebpfdsl_user_ringbuf__write(u, data, len, (int)timeout);
	if (e)
		return ebpfdsl_lua_fail(L, e, "%s", ebpfdsl_user_ringbuf__write_error(u, e, len, msg, sizeof(msg)));
	lua_pushboolean(L, 1);
	return 1;
}

static int urb_size(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_user_ringbuf__size(check_open(L, 1)->base.native));
	return 1;
}

static const luaL_Reg methods[] = {
	{ "write", urb_write },
	{ "size", urb_size },
	{ NULL, NULL },
};

static const struct lua_reader_type user_ringbuf_type = {
	.name = CLASS, .ops = &ebpfdsl_user_ringbuf_ops, .nuv = UV_COUNT, .describe = urb_describe, .methods = methods,
};

void ebpfdsl_lua_open_user_ringbuf(lua_State *L)
{
	ebpfdsl_lua_reader_class(L, &user_ringbuf_type);
	lua_pushcfunction(L, l_user_ringbuf_new);
	lua_setfield(L, -2, "user_ringbuf_new");
}
