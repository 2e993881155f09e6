/* SPDX-License-Identifier: MIT */
/* ebpfdsl.PerfBuf: a reader over a perf event array, one buffer per CPU,
 * calling handler(cpu, sample) and lost(cpu, n) after libbpf returns. */
#include <errno.h>
#include "lua_opts.h"
#include "lua_reader.h"

static const char *const PERFBUF = "ebpfdsl.PerfBuf";

/* user values: the map, the handler, the lost callback (or nil), the
 * layout and its decode function (nil for raw bytes) */
enum { UV_MAP = 1, UV_HANDLER, UV_LOST, UV_LAYOUT, UV_DECODER, UV_COUNT = UV_DECODER };

struct reader {
	struct lua_reader base; /* base.native: the ebpfdsl_perfbuf */
	size_t size;            /* the layout's size, 0 for raw bytes */
};

static const struct lua_reader_type perfbuf_type;

static struct reader *check_open(lua_State *L, int idx)
{
	return ebpfdsl_lua_reader_check_open(L, idx, &perfbuf_type);
}

/* protected: (reader) -> runs handler and lost callback over the stage */
static int deliver_all(lua_State *L)
{
	struct reader *r = lua_touserdata(L, 1);
	lua_getiuservalue(L, 1, UV_HANDLER); /* 2 */
	lua_getiuservalue(L, 1, UV_LOST);    /* 3 */
	lua_getiuservalue(L, 1, UV_LAYOUT);  /* 4 */
	lua_getiuservalue(L, 1, UV_DECODER); /* 5 */
	while (!r->base.closed && r->base.st.count) {
		const struct ebpfdsl_stage_rec *rec = ebpfdsl_stage_peek(&r->base.st);
		ebpfdsl_stage_pop(&r->base.st); /* popped first: a failing record is not seen twice */
		if (rec->kind == EBPFDSL_STAGE_LOST) {
			if (!lua_toboolean(L, 3))
				continue;
			lua_pushvalue(L, 3);
			lua_pushinteger(L, rec->src);
			lua_pushinteger(L, (lua_Integer)rec->n);
		} else {
			lua_pushvalue(L, 2);
			lua_pushinteger(L, rec->src);
			ebpfdsl_lua_reader_push(L, 4, 5, r->size, rec + 1, rec->n);
		}
		lua_call(L, 2, 0);
		r->base.done++;
	}
	return 0;
}

/* r:buffers() -> the number of CPU buffers */
static int pb_buffers(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_perfbuf__buffer_count(check_open(L, 1)->base.native));
	return 1;
}

static int pb_map(lua_State *L)
{
	check_open(L, 1);
	lua_getiuservalue(L, 1, UV_MAP);
	return 1;
}

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
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, 4, UV_MAP);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, 4, UV_HANDLER);
	if (lua_getfield(L, 3, "lost") != LUA_TNIL && lua_type(L, -1) != LUA_TFUNCTION)
		return luaL_error(L, "perfbuf.reader: lost must be a function(cpu, n), got %s", luaL_typename(L, -1));
	lua_setiuservalue(L, 4, UV_LOST);
	if (lua_getfield(L, 3, "layout") != LUA_TNIL) {
		r->size = ebpfdsl_lua_reader_layout(L, -1, "perfbuf.reader"); /* pushes decode */
		lua_setiuservalue(L, 4, UV_DECODER);
	}
	lua_setiuservalue(L, 4, UV_LAYOUT);
	r->base.native = ebpfdsl_perfbuf__new(fd, ebpfdsl_stage_sample, &r->base.st, &o);
	if (!r->base.native) {
		if (errno == EINVAL)
			return luaL_error(L, "perfbuf.reader: %s is not a perf_event_array map", luaL_tolstring(L, 1, NULL));
		return ebpfdsl_lua_fail_libbpf(L, errno, "perfbuf reader");
	}
	return 1;
}

static void pb_free(void *pb)
{
	ebpfdsl_perfbuf__free(pb);
}
static int pb_count(const void *pb)
{
	return ebpfdsl_perfbuf__buffer_count(pb);
}
static int pb_poll(void *pb, int timeout_ms)
{
	return ebpfdsl_perfbuf__poll(pb, timeout_ms);
}
static int pb_stopped(const void *pb)
{
	return ebpfdsl_perfbuf__stopped(pb);
}
static int pb_epoll_fd(const void *pb)
{
	return ebpfdsl_perfbuf__epoll_fd(pb);
}

static const luaL_Reg pb_methods[] = {
	{ "buffers", pb_buffers },
	{ "map", pb_map },
	{ NULL, NULL },
};

static const struct lua_reader_type perfbuf_type = {
	.name = PERFBUF, .poll_what = "perfbuf poll", .unit = "CPU buffer", .nuv = UV_COUNT,
	.free = pb_free, .count = pb_count, .poll = pb_poll, .stopped = pb_stopped, .epoll_fd = pb_epoll_fd,
	.deliver_all = deliver_all, .methods = pb_methods,
};

void ebpfdsl_lua_open_perfbuf(lua_State *L)
{
	ebpfdsl_lua_reader_class(L, &perfbuf_type);
	lua_pushcfunction(L, l_perfbuf_reader);
	lua_setfield(L, -2, "perfbuf_reader");
}
