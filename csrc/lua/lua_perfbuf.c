/* SPDX-License-Identifier: MIT */
/* ebpfdsl.PerfBuf: a reader over a perf event array, one buffer per CPU,
 * calling handler(cpu, sample) and lost(cpu, n) after libbpf returns. */
#include <errno.h>
#include "lua_opts.h"
#include "lua_reader.h"

static const char *const PERFBUF = "ebpfdsl.PerfBuf";

/* user values: the map, the handler, the lost callback (or false), the
 * layout and its decode function (false for raw bytes) */
enum { UV_MAP = 1, UV_HANDLER, UV_LOST, UV_LAYOUT, UV_DECODER, UV_COUNT = UV_DECODER };

struct reader {
	struct lua_reader base; /* base.native: the ebpfdsl_perfbuf */
	size_t size;            /* the layout's size, 0 for raw bytes */
};

static const struct lua_reader_type perfbuf_type;

static ebpfdsl_perfbuf *pb_of(struct reader *r)
{
	return r->base.native;
}

static struct reader *check_open(lua_State *L, int idx)
{
	return ebpfdsl_lua_reader_check_open(L, idx, &perfbuf_type);
}

static int pb_close(lua_State *L)
{
	return ebpfdsl_lua_reader_close(L, &perfbuf_type);
}

static int pb_tostring(lua_State *L)
{
	struct reader *r = luaL_checkudata(L, 1, PERFBUF);
	int n;
	if (!r->base.native || r->base.closed) {
		lua_pushfstring(L, "%s (closed)", PERFBUF);
		return 1;
	}
	n = ebpfdsl_perfbuf__buffer_count(pb_of(r));
	lua_pushfstring(L, "%s over %d CPU buffer%s, epoll fd %d, %d record%s staged", PERFBUF, n, n == 1 ? "" : "s",
			ebpfdsl_perfbuf__epoll_fd(pb_of(r)), (int)r->base.st.count, r->base.st.count == 1 ? "" : "s");
	return 1;
}

/* Called by libbpf: copy and go on, or stop once a chunk is staged. */
static int on_sample(void *ctx, int cpu, const void *data, size_t size)
{
	struct reader *r = ctx;
	if (ebpfdsl_stage_push(&r->base.st, cpu, STAGE_SAMPLE, size, data, size))
		return -ENOMEM;
	return r->base.st.count >= EBPFDSL_LUA_READER_CHUNK;
}

static int on_lost(void *ctx, int cpu, uint64_t lost)
{
	struct reader *r = ctx;
	if (ebpfdsl_stage_push(&r->base.st, cpu, STAGE_LOST, lost, NULL, 0))
		return -ENOMEM;
	return r->base.st.count >= EBPFDSL_LUA_READER_CHUNK;
}

/* Only the handler loop fills, always for a chunk, where the callbacks stop. */
static int fill(lua_State *L, struct lua_reader *base, size_t want, int timeout)
{
	int n = ebpfdsl_perfbuf__poll(base->native, timeout);
	(void)want;
	if (ebpfdsl_perfbuf__stopped(base->native) == -ENOMEM)
		luaL_error(L, "%s: out of memory staging a record; it is lost", PERFBUF);
	return n;
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
		const struct stage_rec *rec = ebpfdsl_stage_peek(&r->base.st);
		ebpfdsl_stage_pop(&r->base.st); /* popped first: a failing record is not seen twice */
		if (rec->kind == STAGE_LOST) {
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

static int handle(lua_State *L, int timeout)
{
	struct reader *r = check_open(L, 1);
	if (r->base.busy)
		return luaL_error(L, "%s: cannot read from inside its own handler", PERFBUF);
	return ebpfdsl_lua_reader_handle(L, &r->base, timeout);
}

/* r:poll([timeout_ms]) -> samples and loss reports handled | nil, msg, errno */
static int pb_poll(lua_State *L)
{
	return handle(L, ebpfdsl_lua_reader_timeout(L, 2, -1));
}

static int pb_consume(lua_State *L)
{
	return handle(L, 0);
}

static int pb_fd(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_perfbuf__epoll_fd(pb_of(check_open(L, 1))));
	return 1;
}

/* r:buffers() -> the number of CPU buffers */
static int pb_buffers(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_perfbuf__buffer_count(pb_of(check_open(L, 1))));
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
	struct ebpfdsl_perfbuf_opts o = { .sz = sizeof(o), .lost = on_lost };
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
	luaL_checktype(L, 3, LUA_TTABLE);
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
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 0);
	}
	lua_setiuservalue(L, 4, UV_LOST);
	if (lua_getfield(L, 3, "layout") == LUA_TNIL) {
		lua_setiuservalue(L, 4, UV_LAYOUT);
		lua_pushboolean(L, 0);
		lua_setiuservalue(L, 4, UV_DECODER);
	} else {
		r->size = ebpfdsl_lua_reader_layout(L, -1, "perfbuf.reader"); /* pushes decode */
		lua_setiuservalue(L, 4, UV_DECODER);
		lua_setiuservalue(L, 4, UV_LAYOUT);
	}
	r->base.native = ebpfdsl_perfbuf__new(fd, on_sample, r, &o);
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

static const struct lua_reader_type perfbuf_type = {
	.name = PERFBUF,
	.poll_what = "perfbuf poll",
	.nuv = UV_COUNT,
	.free = pb_free,
	.fill = fill,
	.deliver_all = deliver_all,
};

static const luaL_Reg pb_methods[] = {
	{ "poll", pb_poll },
	{ "consume", pb_consume },
	{ "fd", pb_fd },
	{ "buffers", pb_buffers },
	{ "map", pb_map },
	{ "close", pb_close },
	{ NULL, NULL },
};

static const luaL_Reg pb_meta[] = {
	{ "__gc", pb_close },
	{ "__close", pb_close },
	{ "__tostring", pb_tostring },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_perfbuf(lua_State *L)
{
	ebpfdsl_lua_class(L, PERFBUF, pb_methods, pb_meta);
	lua_pushcfunction(L, l_perfbuf_reader);
	lua_setfield(L, -2, "perfbuf_reader");
}
