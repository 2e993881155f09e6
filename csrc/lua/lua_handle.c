/* SPDX-License-Identifier: MIT */
/* The handle skeleton (lua_handle.h): what Map, Prog, Link, Iter, Object
 * and Symtab do alike, read from each type's row. The generic functions
 * are closures with the row (a light userdata) as upvalue 1 and the
 * module table as upvalue 2. */
#include <string.h>
#include <unistd.h>
#include "lua_handle.h"

static int is_closed(const struct ebpfdsl_lua_handle *h, const void *ud)
{
	if (h->release ? *(void *const *)ud == NULL : *(const int *)ud < 0)
		return 1;
	return h->gone && h->gone(ud);
}

void *ebpfdsl_lua_handle_open(lua_State *L, int idx, const struct ebpfdsl_lua_handle *h)
{
	void *ud = luaL_checkudata(L, idx, h->tname);
	if (is_closed(h, ud))
		luaL_error(L, "attempt to use a closed %s", h->tname);
	return ud;
}

void *ebpfdsl_lua_handle_new(lua_State *L, const struct ebpfdsl_lua_handle *h, size_t size, int nuv)
{
	void *ud = lua_newuserdatauv(L, size, nuv);
	memset(ud, 0, size);
	if (!h->release)
		*(int *)ud = -1;
	luaL_setmetatable(L, h->tname);
	return ud;
}

void ebpfdsl_lua_handle_close(lua_State *L, int idx, const struct ebpfdsl_lua_handle *h)
{
	void *ud = luaL_checkudata(L, idx, h->tname);
	if (h->release) {
		void *p = *(void **)ud;
		*(void **)ud = NULL;
		h->release(p);
	} else if (*(int *)ud >= 0) {
		close(*(int *)ud);
		*(int *)ud = -1;
	}
}

static const struct ebpfdsl_lua_handle *row(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* close, __gc and __close: one idempotent function */
static int handle_close(lua_State *L)
{
	ebpfdsl_lua_handle_close(L, 1, row(L));
	return 0;
}

static int handle_tostring(lua_State *L)
{
	const struct ebpfdsl_lua_handle *h = row(L);
	const void *ud = ebpfdsl_lua_handle_check(L, 1, h);
	int open = !is_closed(h, ud);
	lua_pushstring(L, h->tname);
	if (h->describe)
		h->describe(L, ud, open);
	else
		lua_pushliteral(L, "");
	if (open)
		lua_concat(L, 2);
	else {
		lua_pushliteral(L, " (closed)");
		lua_concat(L, 3);
	}
	return 1;
}

static int handle_fd(lua_State *L)
{
	const struct ebpfdsl_lua_handle *h = row(L);
	const void *ud = ebpfdsl_lua_handle_open(L, 1, h);
	if (h->fd)
		return h->fd(L, ud);
	lua_pushinteger(L, *(const int *)ud);
	return 1;
}

/* h:pin(path) and h:unpin([path]) -> h | nil, msg, errno (docs/maps.md):
 * the path pinned is remembered in the row's user value, and unpin
 * without a path removes that one. */
static int pin_or_unpin(lua_State *L, int pin)
{
	const struct ebpfdsl_lua_handle *h = row(L);
	const void *ud = pin ? ebpfdsl_lua_handle_open(L, 1, h) : ebpfdsl_lua_handle_check(L, 1, h);
	int fd = *(const int *)ud;
	int err = pin ? ebpfdsl_lua_pin(L, fd, h->pin_uv) : ebpfdsl_lua_unpin(L, fd, h->pin_uv, h->noun);
	if (err)
		return h->pin_fail(L, ud, err, lua_tostring(L, 2), pin);
	lua_settop(L, 1);
	return 1;
}

static int handle_pin(lua_State *L)
{
	return pin_or_unpin(L, 1);
}

static int handle_unpin(lua_State *L)
{
	return pin_or_unpin(L, 0);
}

/* t[name] = f with the row and the module table as upvalues, for the
 * table at -1; the module table is at mod. */
static void set_closure(lua_State *L, const struct ebpfdsl_lua_handle *h, int mod, const char *name,
			lua_CFunction f)
{
	lua_pushlightuserdata(L, (void *)(uintptr_t)h);
	lua_pushvalue(L, mod);
	lua_pushcclosure(L, f, 2);
	lua_setfield(L, -2, name);
}

void ebpfdsl_lua_handle_class(lua_State *L, const struct ebpfdsl_lua_handle *h, const luaL_Reg *methods,
			      const luaL_Reg *meta)
{
	static const luaL_Reg none[] = { { NULL, NULL } };
	int mod = lua_absindex(L, -1);
	ebpfdsl_lua_class(L, h->tname, methods ? methods : none, meta ? meta : none);
	luaL_getmetatable(L, h->tname);
	set_closure(L, h, mod, "__gc", handle_close);
	set_closure(L, h, mod, "__close", handle_close);
	set_closure(L, h, mod, "__tostring", handle_tostring);
	lua_getfield(L, -1, "__index");
	set_closure(L, h, mod, "close", handle_close);
	if (!h->release || h->fd)
		set_closure(L, h, mod, "fd", handle_fd);
	if (h->pin_uv) {
		set_closure(L, h, mod, "pin", handle_pin);
		set_closure(L, h, mod, "unpin", handle_unpin);
	}
	lua_pop(L, 2);
}
