/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Iter: a readable fd of a BPF iterator's output, and the
 * link:open_iter / link:read_iter methods that make one. */
#include <errno.h>
#include <unistd.h>
#include "lua_link.h"

struct iter_ud {
	int fd; /* -1: closed */
};

static void iter_describe(lua_State *L, const void *ud, int open)
{
	if (open)
		lua_pushfstring(L, " fd=%d", ((const struct iter_ud *)ud)->fd);
	else
		lua_pushliteral(L, "");
}

static const struct ebpfdsl_lua_handle iter_handle = {
	.tname = "ebpfdsl.Iter",
	.noun = "iterator",
	.describe = iter_describe,
};

/* iter:read([max]) -> the output up to max bytes (all of it by default),
 * "" at the end | nil, msg, errno. The buffer is Lua's, so an error
 * cannot leak it. */
static int iter_read(lua_State *L)
{
	struct iter_ud *it = ebpfdsl_lua_handle_open(L, 1, &iter_handle);
	lua_Integer max = luaL_optinteger(L, 2, LUA_MAXINTEGER);
	luaL_Buffer b;
	size_t got = 0;
	luaL_argcheck(L, max > 0, 2, "must be positive");
	luaL_buffinit(L, &b);
	while ((lua_Integer)got < max) {
		size_t want = LUAL_BUFFERSIZE;
		char *p = luaL_prepbuffsize(&b, want);
		ssize_t n;
		if ((lua_Integer)want > max - (lua_Integer)got)
			want = (size_t)(max - (lua_Integer)got);
		do
			n = read(it->fd, p, want);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			int e = errno;
			luaL_pushresult(&b);
			return ebpfdsl_lua_fail(L, e, "reading iterator output");
		}
		if (n == 0)
			break;
		luaL_addsize(&b, (size_t)n);
		got += (size_t)n;
	}
	luaL_pushresult(&b);
	return 1;
}

static int push_iter(lua_State *L, ebpfdsl_link *l)
{
	struct iter_ud *it = ebpfdsl_lua_handle_new(L, &iter_handle, sizeof(*it), 0);
	it->fd = ebpfdsl_link__iter_open(l);
	if (it->fd < 0) {
		int e = -it->fd;
		it->fd = -1;
		if (e == EINVAL)
			return ebpfdsl_lua_fail(L, e, "open_iter: a %s link is not an iterator",
						ebpfdsl_link_kind_name(ebpfdsl_link__kind(l)));
		return ebpfdsl_lua_fail(L, e, "open_iter: bpf_iter_create");
	}
	return 1;
}

static int link_open_iter(lua_State *L)
{
	return push_iter(L, ebpfdsl_lua_link_check_open(L, 1));
}

/* link:read_iter() -> the whole output of one pass of the iterator */
static int link_read_iter(lua_State *L)
{
	int n = push_iter(L, ebpfdsl_lua_link_check_open(L, 1));
	if (n != 1)
		return n;
	lua_replace(L, 1); /* the Iter, in the Link's place, read as iter:read() */
	lua_settop(L, 1);
	n = iter_read(L);
	ebpfdsl_lua_handle_close(L, 1, &iter_handle);
	return n;
}

static const luaL_Reg iter_methods[] = {
	{ "read", iter_read },
	{ NULL, NULL },
};

static const luaL_Reg link_iter_methods[] = {
	{ "open_iter", link_open_iter },
	{ "read_iter", link_read_iter },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_iter(lua_State *L)
{
	ebpfdsl_lua_handle_class(L, &iter_handle, iter_methods, NULL);
	ebpfdsl_lua_class_extend(L, EBPFDSL_LINK_CLASS, link_iter_methods, 0);
}
