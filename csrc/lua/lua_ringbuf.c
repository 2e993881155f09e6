/* SPDX-License-Identifier: MIT */
/* ebpfdsl.RingBuf: a reader over one or more ring buffers, calling Lua
 * handlers, iterating, or returning batches; Lua runs only after libbpf. */
#include <errno.h>
#include <string.h>
#include "lua_reader.h"

static const char *const RINGBUF = "ebpfdsl.RingBuf";

/* user values, each a list indexed by ring + 1: the maps as given, the
 * handlers (false when none), the layouts and their decode functions
 * (false for raw bytes), the loss maps; then a deferred error */
enum { UV_MAPS = 1, UV_HANDLERS, UV_LAYOUTS, UV_DECODERS, UV_LOST, UV_ERROR, UV_COUNT = UV_ERROR };

struct reader {
	struct lua_reader base; /* base.native: the ebpfdsl_ringbuf */
	size_t want;            /* a fill stops once this many records are staged */
	int has_error;          /* UV_ERROR holds an error for the next call */
	int handlers;           /* every ring has a handler */
	int nrings;
	size_t size[];          /* per ring: its layout's size, 0 for raw bytes */
};

static const struct lua_reader_type ringbuf_type;

static ebpfdsl_ringbuf *rb_of(struct reader *r)
{
	return r->base.native;
}

static struct reader *check_open(lua_State *L, int idx)
{
	return ebpfdsl_lua_reader_check_open(L, idx, &ringbuf_type);
}

/* open, not inside one of its own handlers, and no error left to raise */
static struct reader *check_usable(lua_State *L, int idx)
{
	struct reader *r = check_open(L, idx);
	if (r->base.busy)
		luaL_error(L, "%s: cannot read from inside its own handler or layout", RINGBUF);
	if (r->has_error) {
		r->has_error = 0;
		lua_getiuservalue(L, idx, UV_ERROR);
		lua_pushnil(L);
		lua_setiuservalue(L, idx, UV_ERROR);
		lua_error(L);
	}
	return r;
}

static int rb_close(lua_State *L)
{
	return ebpfdsl_lua_reader_close(L, &ringbuf_type);
}

static int rb_tostring(lua_State *L)
{
	struct reader *r = luaL_checkudata(L, 1, RINGBUF);
	if (!r->base.native || r->base.closed)
		lua_pushfstring(L, "%s (closed)", RINGBUF);
	else
		lua_pushfstring(L, "%s over %d ring%s, epoll fd %d, %d record%s staged", RINGBUF, r->nrings,
				r->nrings == 1 ? "" : "s", ebpfdsl_ringbuf__epoll_fd(rb_of(r)), (int)r->base.st.count,
				r->base.st.count == 1 ? "" : "s");
	return 1;
}

/* Called by libbpf: copy and go on, or stop once enough are staged. */
static int on_record(void *ctx, int ring, const void *data, size_t size)
{
	struct reader *r = ctx;
	if (ebpfdsl_stage_push(&r->base.st, ring, STAGE_SAMPLE, size, data, size))
		return -ENOMEM;
	return r->base.st.count >= r->want;
}

static int fill(lua_State *L, struct lua_reader *base, size_t want, int timeout)
{
	struct reader *r = (struct reader *)base;
	int n;
	r->want = want;
	n = ebpfdsl_ringbuf__poll(rb_of(r), timeout);
	if (ebpfdsl_ringbuf__stopped(rb_of(r)) == -ENOMEM)
		luaL_error(L, "%s: out of memory staging a record; it is lost", RINGBUF);
	return n;
}

/* The value of the oldest staged record, popped: pushes it and returns
 * its ring. Expects the layouts and decoders lists at `lists`, `lists + 1`. */
static int push_next(lua_State *L, struct reader *r, int lists)
{
	const struct stage_rec *rec = ebpfdsl_stage_peek(&r->base.st);
	int ring = rec->src;
	size_t size = r->size[ring];
	ebpfdsl_stage_pop(&r->base.st); /* popped first: a failing record is not seen twice */
	if (size == 0) {
		lua_pushlstring(L, (const char *)(rec + 1), rec->n);
		return ring;
	}
	lua_rawgeti(L, lists, ring + 1);
	lua_rawgeti(L, lists + 1, ring + 1);
	ebpfdsl_lua_reader_push(L, -2, -1, size, rec + 1, rec->n);
	lua_replace(L, -3);
	lua_pop(L, 1);
	return ring;
}

/* protected: (reader) -> runs the handlers over the staged records */
static int deliver_all(lua_State *L)
{
	struct reader *r = lua_touserdata(L, 1);
	lua_getiuservalue(L, 1, UV_HANDLERS); /* 2 */
	lua_getiuservalue(L, 1, UV_LAYOUTS);  /* 3 */
	lua_getiuservalue(L, 1, UV_DECODERS); /* 4 */
	while (!r->base.closed && r->base.st.count) {
		int ring = ebpfdsl_stage_peek(&r->base.st)->src;
		lua_rawgeti(L, 2, ring + 1);
		push_next(L, r, 3);
		lua_call(L, 1, 0);
		r->base.done++;
	}
	return 0;
}

/* protected: (reader, events, rings, max) -> decodes up to max records */
static int deliver_batch(lua_State *L)
{
	struct reader *r = lua_touserdata(L, 1);
	lua_Integer max = lua_tointeger(L, 4);
	lua_getiuservalue(L, 1, UV_MAPS);     /* 5 */
	lua_getiuservalue(L, 1, UV_LAYOUTS);  /* 6 */
	lua_getiuservalue(L, 1, UV_DECODERS); /* 7 */
	while (!r->base.closed && r->base.st.count && r->base.done < max) {
		int ring = push_next(L, r, 6);
		lua_rawseti(L, 2, ++r->base.done);
		lua_rawgeti(L, 5, ring + 1);
		lua_rawseti(L, 3, r->base.done);
	}
	return 0;
}

static int handle(lua_State *L, int timeout)
{
	struct reader *r = check_usable(L, 1);
	if (!r->handlers)
		return luaL_error(L, "%s: a ring has no handler; read it with events() or poll_batch()", RINGBUF);
	return ebpfdsl_lua_reader_handle(L, &r->base, timeout);
}

/* r:poll([timeout_ms]) -> number of records handled | nil, msg, errno */
static int rb_poll(lua_State *L)
{
	return handle(L, ebpfdsl_lua_reader_timeout(L, 2, -1));
}

/* r:consume() -> number of records handled, without waiting */
static int rb_consume(lua_State *L)
{
	return handle(L, 0);
}

/* r:poll_batch(max[, timeout_ms]) -> events, rings | nil, msg, errno.
 * events[i] is a decoded table (bytes for a ring without layout), rings[i]
 * the map it came from. */
static int rb_poll_batch(lua_State *L)
{
	struct reader *r = check_usable(L, 1);
	lua_Integer max = luaL_checkinteger(L, 2);
	int timeout = ebpfdsl_lua_reader_timeout(L, 3, 0);
	size_t n;
	luaL_argcheck(L, max >= 1 && max <= 1 << 24, 2, "max must be 1..16777216");
	if (r->base.st.count < (size_t)max) {
		int e = ebpfdsl_lua_reader_fill(L, &r->base, (size_t)max, r->base.st.count ? 0 : timeout);
		if (e < 0 && !r->base.st.count)
			return ebpfdsl_lua_fail(L, e, "ringbuf poll_batch");
	}
	lua_settop(L, 1);
	n = r->base.st.count < (size_t)max ? r->base.st.count : (size_t)max;
	lua_createtable(L, (int)n, 0); /* 2: events */
	lua_createtable(L, (int)n, 0); /* 3: rings */
	lua_pushcfunction(L, deliver_batch);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_pushinteger(L, max);
	if (ebpfdsl_lua_reader_run(L, &r->base, 4) != LUA_OK) {
		if (lua_rawlen(L, 2) == 0)
			return lua_error(L);
		/* the events decoded before it are returned; the error comes next call */
		if (r->base.native) {
			lua_setiuservalue(L, 1, UV_ERROR);
			r->has_error = 1;
		}
		lua_settop(L, 3);
	}
	return 2;
}

/* iterator of r:events(timeout): upvalues reader, timeout */
static int events_next(lua_State *L)
{
	struct reader *r;
	int timeout = (int)lua_tointeger(L, lua_upvalueindex(2));
	lua_settop(L, 0);
	lua_pushvalue(L, lua_upvalueindex(1)); /* 1 */
	r = check_usable(L, 1);
	if (!r->base.st.count) {
		int n = ebpfdsl_lua_reader_fill(L, &r->base, EBPFDSL_LUA_READER_CHUNK, timeout);
		/* an iterator cannot return nil, msg, errno: a failed wait raises */
		if (n < 0 && !r->base.st.count)
			return luaL_error(L, "%s events: %s", RINGBUF, ebpfdsl_strerror(-n));
		if (!r->base.native || !r->base.st.count)
			return 0;
	}
	lua_newtable(L); /* 2: events */
	lua_newtable(L); /* 3: rings */
	lua_pushcfunction(L, deliver_batch);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_pushinteger(L, 1);
	if (ebpfdsl_lua_reader_run(L, &r->base, 4) != LUA_OK)
		return lua_error(L);
	if (lua_rawgeti(L, 2, 1) == LUA_TNIL)
		return 0; /* closed meanwhile */
	lua_rawgeti(L, 3, 1);
	return 2;
}

/* for ev, map in r:events([timeout_ms]) -- ends when none came within timeout */
static int rb_events(lua_State *L)
{
	int timeout = ebpfdsl_lua_reader_timeout(L, 2, -1); /* read before anything is pushed */
	check_usable(L, 1);
	lua_pushvalue(L, 1);
	lua_pushinteger(L, timeout);
	lua_pushcclosure(L, events_next, 2);
	return 1;
}

static int rb_fd(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_ringbuf__epoll_fd(rb_of(check_open(L, 1))));
	return 1;
}

/* r:lost() -> failed reservations counted in the loss maps | nil, msg, errno */
static int rb_lost(lua_State *L)
{
	uint64_t n;
	int err = ebpfdsl_ringbuf__lost(rb_of(check_open(L, 1)), &n);
	if (err == -ENOENT)
		return luaL_error(L, "%s: no loss map was given; the ring buffer itself counts nothing "
				  "(give one as {handler = f, lost = loss_map})", RINGBUF);
	if (err)
		return ebpfdsl_lua_fail(L, err, "ringbuf lost");
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

/* r:maps() -> the maps read, in ring order */
static int rb_maps(lua_State *L)
{
	check_open(L, 1);
	lua_getiuservalue(L, 1, UV_MAPS);
	return 1;
}

/* r:staged() -> records taken from the kernel not yet given to Lua */
static int rb_staged(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)check_open(L, 1)->base.st.count);
	return 1;
}

/* ringbuf_reader(list) where list[i] = {map=, fd=, handler=, layout=,
 * lost=, lost_fd=} -> RingBuf | nil, msg, errno */
static int l_ringbuf_reader(lua_State *L)
{
	lua_Integer n;
	struct reader *r;
	luaL_checktype(L, 1, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 1);
	if (n < 1 || n > 4096)
		return luaL_error(L, "ringbuf.reader: needs 1 to 4096 ring buffers, got %d", (int)n);
	/* created closed, before anything is acquired */
	r = ebpfdsl_lua_reader_new(L, &ringbuf_type, sizeof(*r) + sizeof(size_t) * (size_t)n); /* 2 */
	r->nrings = (int)n;
	r->handlers = 1;
	for (int uv = UV_MAPS; uv <= UV_LOST; uv++) {
		lua_createtable(L, (int)n, 0);
		lua_setiuservalue(L, 2, uv);
	}
	r->base.native = ebpfdsl_ringbuf__new(on_record, r);
	if (!r->base.native)
		return ebpfdsl_lua_fail(L, errno, "ringbuf reader");
	for (lua_Integer i = 1; i <= n; i++) {
		struct ebpfdsl_ringbuf_add_opts o = { .sz = sizeof(o) };
		int top = lua_gettop(L), fd, err;
		char what[64];
		snprintf(what, sizeof(what), "ringbuf.reader: ring %d", (int)i);
		if (lua_rawgeti(L, 1, i) != LUA_TTABLE) /* top + 1 */
			return luaL_error(L, "%s: expected a table", what);
		lua_getfield(L, top + 1, "map"); /* top + 2 */
		lua_getiuservalue(L, 2, UV_MAPS);
		lua_pushvalue(L, top + 2);
		lua_rawseti(L, -2, i);
		lua_pop(L, 1);
		lua_getfield(L, top + 1, "fd");
		fd = ebpfdsl_lua_tofd(L, lua_isnil(L, -1) ? top + 2 : -1, what);
		lua_pop(L, 1);

		lua_getiuservalue(L, 2, UV_HANDLERS);
		if (lua_getfield(L, top + 1, "handler") == LUA_TNIL) {
			r->handlers = 0;
			lua_pop(L, 1);
			lua_pushboolean(L, 0);
		}
		lua_rawseti(L, -2, i);
		lua_pop(L, 1);

		lua_getiuservalue(L, 2, UV_LAYOUTS);  /* top + 3 */
		lua_getiuservalue(L, 2, UV_DECODERS); /* top + 4 */
		if (lua_getfield(L, top + 1, "layout") == LUA_TNIL) {
			lua_pop(L, 1);
			lua_pushboolean(L, 0);
			lua_pushboolean(L, 0);
		} else {
			r->size[i - 1] = ebpfdsl_lua_reader_layout(L, -1, what); /* pushes decode */
		}
		lua_rawseti(L, top + 4, i); /* decode function */
		lua_rawseti(L, top + 3, i); /* layout */
		lua_pop(L, 2);

		if (lua_getfield(L, top + 1, "lost") != LUA_TNIL) {
			o.lost_fd = ebpfdsl_lua_tofd(L, -1, what);
			if (o.lost_fd == 0)
				return luaL_error(L, "%s: fd 0 cannot be a loss map", what);
			lua_getiuservalue(L, 2, UV_LOST);
			lua_pushvalue(L, -2);
			lua_rawseti(L, -2, i);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);

		err = ebpfdsl_ringbuf__add(rb_of(r), fd, &o);
		if (err == -EINVAL || err == -EBADF)
			return luaL_error(L, "%s: %s is not a ringbuf map", what, luaL_tolstring(L, top + 2, NULL));
		if (err == -EMEDIUMTYPE)
			return luaL_error(L, "%s: the loss map must be a percpu_array (or array) with 4-byte keys and "
					  "8-byte values", what);
		if (err < 0)
			return ebpfdsl_lua_fail_libbpf(L, err, "%s", what);
		lua_settop(L, top);
	}
	lua_settop(L, 2);
	return 1;
}

static void rb_free(void *rb)
{
	ebpfdsl_ringbuf__free(rb);
}

static const struct lua_reader_type ringbuf_type = {
	.name = RINGBUF,
	.poll_what = "ringbuf poll",
	.nuv = UV_COUNT,
	.free = rb_free,
	.fill = fill,
	.deliver_all = deliver_all,
};

static const luaL_Reg rb_methods[] = {
	{ "poll", rb_poll },
	{ "consume", rb_consume },
	{ "poll_batch", rb_poll_batch },
	{ "events", rb_events },
	{ "fd", rb_fd },
	{ "lost", rb_lost },
	{ "maps", rb_maps },
	{ "staged", rb_staged },
	{ "close", rb_close },
	{ NULL, NULL },
};

static const luaL_Reg rb_meta[] = {
	{ "__gc", rb_close },
	{ "__close", rb_close },
	{ "__tostring", rb_tostring },
	{ NULL, NULL },
};

/* tofd(value[, what]) -> fd: what every fd argument takes (ringbuf.lua
 * orders rings by fd before the reader is made) */
static int l_tofd(lua_State *L)
{
	lua_pushinteger(L, ebpfdsl_lua_tofd(L, 1, luaL_optstring(L, 2, "fd")));
	return 1;
}

void ebpfdsl_lua_open_ringbuf(lua_State *L)
{
	ebpfdsl_lua_class(L, RINGBUF, rb_methods, rb_meta);
	lua_pushcfunction(L, l_ringbuf_reader);
	lua_setfield(L, -2, "ringbuf_reader");
	lua_pushcfunction(L, l_tofd);
	lua_setfield(L, -2, "tofd");
}
