/* SPDX-License-Identifier: MIT */
/* ebpfdsl.PerfBuf: a reader over a perf event array, one buffer per CPU,
 * calling handler(cpu, sample) and lost(cpu, n) after libbpf returns. */
#include <errno.h>
#include "lua_opts.h"
#include "lua_reader.h"

static const char *const PERFBUF = "ebpfdsl.PerfBuf";

/* user values: the map; the list of the one source of the delivery,
 * {handler =, layout =, decode =, on_lost =} (lua_reader.h), every CPU's */
enum { UV_MAP = 1, UV_SOURCES, UV_COUNT = UV_SOURCES };

struct reader {
	struct lua_reader base; /* base.native: the ebpfdsl_perfbuf */
	struct lua_reader_src src;
};

static const struct lua_reader_type perfbuf_type;

/* perfbuf.reader's options: lost and layout are kept as user values */
struct reader_opts {
	int pages;
};
static const struct ebpfdsl_lua_opt reader_opts[] = {
	EBPFDSL_OPT_INT(struct reader_opts, "pages", pages, 8, 1, 1 << 20),
	EBPFDSL_OPT_KNOWN("lost"),
	EBPFDSL_OPT_KNOWN("layout"),
	EBPFDSL_OPT_END,
};

/* perfbuf_reader(map, handler, {pages=, lost=, layout=}) -> PerfBuf | nil, msg, errno */
static int l_perfbuf_reader(lua_State *L)
{
	struct ebpfdsl_perfbuf_opts o = { .sz = sizeof(o), .lost = ebpfdsl_stage_lost };
	struct reader_opts ro;
	struct reader *r;
	int fd = ebpfdsl_lua_tofd(L, 1, "perfbuf.reader");

	if (lua_type(L, 2) != LUA_TFUNCTION) {
		if (!luaL_getmetafield(L, 2, "__call"))
			return luaL_error(L, "perfbuf.reader: the handler must be callable, got %s", luaL_typename(L, 2));
		lua_pop(L, 1);
	}
	if (lua_isnoneornil(L, 3)) {
		lua_settop(L, 2);
		lua_newtable(L);
	}
	lua_settop(L, 3);
	ebpfdsl_lua_opts_read(L, 3, "perfbuf.reader", reader_opts, &ro);
	if (ro.pages & (ro.pages - 1))
		return luaL_error(L, "perfbuf.reader: pages must be a power of 2 (1, 2, 4, ...), got %d", ro.pages);
	o.pages = (size_t)ro.pages;

	r = ebpfdsl_lua_reader_new(L, &perfbuf_type, sizeof(*r)); /* 4 */
	r->base.src = &r->src;
	r->base.cpu_first = 1;
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, 4, UV_MAP);
	lua_createtable(L, 1, 0); /* 5 */
	lua_createtable(L, 0, 4); /* 6: the source */
	lua_pushvalue(L, 2);
	lua_setfield(L, 6, "handler");
	if (lua_getfield(L, 3, "lost") != LUA_TNIL && lua_type(L, -1) != LUA_TFUNCTION)
		return luaL_error(L, "perfbuf.reader: lost must be a function(cpu, n), got %s", luaL_typename(L, -1));
	lua_setfield(L, 6, "on_lost");
	if (lua_getfield(L, 3, "layout") != LUA_TNIL) {
		r->src.native = ebpfdsl_lua_tolayout(L, -1) != NULL;
		r->src.size = ebpfdsl_lua_reader_layout(L, -1, "perfbuf.reader"); /* pushes decode */
		r->src.mode = EBPFDSL_MODE_TABLE;
		lua_setfield(L, 6, "decode");
	}
	lua_setfield(L, 6, "layout");
	lua_rawseti(L, 5, 1);
	lua_setiuservalue(L, 4, UV_SOURCES);
	r->base.native = ebpfdsl_perfbuf__new(fd, ebpfdsl_stage_sample, &r->base.st, &o);
	if (!r->base.native) {
		if (errno == EINVAL)
			return luaL_error(L, "perfbuf.reader: %s is not a perf_event_array map", luaL_tolstring(L, 1, NULL));
		return ebpfdsl_lua_fail_libbpf(L, errno, "perfbuf reader");
	}
	return 1;
}

static const luaL_Reg pb_methods[] = { { NULL, NULL } };

static const struct lua_reader_type perfbuf_type = {
	.name = PERFBUF, .ops = &ebpfdsl_perfbuf_ops, .nuv = UV_COUNT, .uv_sources = UV_SOURCES,
	.maps = "map", .methods = pb_methods,
};

void ebpfdsl_lua_open_perfbuf(lua_State *L)
{
	ebpfdsl_lua_reader_class(L, &perfbuf_type);
	lua_pushcfunction(L, l_perfbuf_reader);
	lua_setfield(L, -2, "perfbuf_reader");
}
