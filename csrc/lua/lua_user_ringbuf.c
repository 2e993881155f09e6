/* SPDX-License-Identifier: MIT */
/* ebpfdsl.UserRingBuf: the writing end of a user_ringbuf map, whose
 * records a BPF program drains. Records are strings, or tables a layout
 * encodes. */
#include <errno.h>
#include <string.h>
#include "lua_util.h"

static const char *const CLASS = "ebpfdsl.UserRingBuf";

enum { UV_MAP = 1, UV_LAYOUT = 2 };

struct lurb {
	ebpfdsl_user_ringbuf *u; /* NULL: closed */
	int fd;
};

static struct lurb *check(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, CLASS);
}

static struct lurb *check_open(lua_State *L, int idx)
{
	struct lurb *r = check(L, idx);
	if (!r->u)
		luaL_error(L, "attempt to use a closed %s", CLASS);
	return r;
}

static int urb_close(lua_State *L)
{
	struct lurb *r = check(L, 1);
	ebpfdsl_user_ringbuf__free(r->u);
	r->u = NULL;
	return 0;
}

static int urb_tostring(lua_State *L)
{
	struct lurb *r = check(L, 1);
	if (!r->u)
		lua_pushfstring(L, "%s (closed)", CLASS);
	else
		lua_pushfstring(L, "%s on map fd %d (%d bytes)", CLASS, r->fd, (int)ebpfdsl_user_ringbuf__size(r->u));
	return 1;
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
	r = lua_newuserdatauv(L, sizeof(*r), 2);
	r->u = NULL;
	r->fd = fd;
	luaL_setmetatable(L, CLASS);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, UV_MAP);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, UV_LAYOUT);
	r->u = ebpfdsl_user_ringbuf__new(fd);
	if (!r->u) {
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
	lua_Integer timeout = luaL_optinteger(L, 3, 0);
	const char *data;
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
	e = ebpfdsl_user_ringbuf__write(r->u, data, len, (int)timeout);
	if (e == -ENOSPC)
		return ebpfdsl_lua_fail(L, e, "write of %d bytes: the ring is full (a BPF program must drain it first)",
					(int)len);
	if (e == -E2BIG)
		return ebpfdsl_lua_fail(L, e, "write of %d bytes: a record and its 8-byte header cannot exceed the "
					"ring's %d bytes",
					(int)len, (int)ebpfdsl_user_ringbuf__size(r->u));
	if (e)
		return ebpfdsl_lua_fail(L, e, "write of %d bytes", (int)len);
	lua_pushboolean(L, 1);
	return 1;
}

static int urb_size(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_user_ringbuf__size(check_open(L, 1)->u));
	return 1;
}

static const luaL_Reg methods[] = {
	{ "write", urb_write },
	{ "size", urb_size },
	{ "close", urb_close },
	{ NULL, NULL },
};

static const luaL_Reg meta[] = {
	{ "__gc", urb_close },
	{ "__close", urb_close },
	{ "__tostring", urb_tostring },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_user_ringbuf(lua_State *L)
{
	ebpfdsl_lua_class(L, CLASS, methods, meta);
	lua_pushcfunction(L, l_user_ringbuf_new);
	lua_setfield(L, -2, "user_ringbuf_new");
}
