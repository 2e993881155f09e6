/* SPDX-License-Identifier: MIT */
/* The skeleton of the reader bindings; see lua_reader.h. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "lua_reader.h"

#define TYPE_OF(L) ((const struct lua_reader_type *)lua_touserdata(L, lua_upvalueindex(1)))

void *ebpfdsl_lua_reader_new(lua_State *L, const struct lua_reader_type *t, size_t size)
{
	struct lua_reader *r = lua_newuserdatauv(L, size, t->nuv);
	memset(r, 0, size);
	r->type = t;
	luaL_setmetatable(L, t->name);
	return r;
}

void *ebpfdsl_lua_reader_check_open(lua_State *L, int idx, const struct lua_reader_type *t)
{
	struct lua_reader *r = luaL_checkudata(L, idx, t->name);
	if (!r->native || r->closed)
		luaL_error(L, "attempt to use a closed %s", t->name);
	return r;
}

void *ebpfdsl_lua_reader_check_usable(lua_State *L, int idx, const struct lua_reader_type *t)
{
	struct lua_reader *r = ebpfdsl_lua_reader_check_open(L, idx, t);
	if (r->busy)
		luaL_error(L, "%s: cannot read from inside its own handler or layout", t->name);
	if (r->has_error) {
		r->has_error = 0;
		lua_getiuservalue(L, idx, t->uv_error);
		lua_pushnil(L);
		lua_setiuservalue(L, idx, t->uv_error);
		lua_error(L);
	}
	return r;
}


static void release(lua_State *L, int idx, struct lua_reader *r)
{
	r->type->ops->free(r->native);
	r->native = NULL;
	ebpfdsl_stage_free(&r->st);
	/* let go of the maps and handlers */
	for (int uv = 1; uv <= r->type->nuv; uv++) {
		lua_pushnil(L);
		lua_setiuservalue(L, idx, uv);
	}
}

/* close, __close and __gc: frees it now, or once the delivery running
 * below us returns */
static int reader_close(lua_State *L)
{
	struct lua_reader *r = luaL_checkudata(L, 1, TYPE_OF(L)->name);
	if (!r->native)
		return 0;
	if (r->busy)
		r->closed = 1; /* the delivery running below us still reads the stage */
	else
		release(L, 1, r);
	return 0;
}

static int reader_tostring(lua_State *L)
{
	const struct lua_reader_type *t = TYPE_OF(L);
	struct lua_reader *r = luaL_checkudata(L, 1, t->name);
	int n;
	if (!r->native || r->closed) {
		lua_pushfstring(L, "%s (closed)", t->name);
	} else if (t->describe) {
		t->describe(L, r);
	} else {
		n = t->ops->count(r->native);
		lua_pushfstring(L, "%s over %d %s%s, epoll fd %d, %d record%s staged", t->name, n, t->ops->unit,
				n == 1 ? "" : "s", t->ops->epoll_fd(r->native), (int)r->st.count, r->st.count == 1 ? "" : "s");
	}
	return 1;
}

/* ---------------------------------------------------------------------
 * Delivery: staged records to Lua. The reader's sources (rings; one for
 * all CPUs of a perf buffer) go on the stack once; what a source needs
 * (its handler, layout, reused table, decoder) is loaded into slots
 * above them when the source of the records changes, so that a run of
 * records of one source costs no lookups.
 * --------------------------------------------------------------------- */

struct delivery {
	struct lua_reader *r;
	int lists;  /* stack index of the rings, then of the chunk (or nil) */
	int ring;   /* the ring whose values are in the slots, or -1 */
	int many;   /* more than one record may come (not events()) */
	size_t chunk_at; /* stage offset of the chunk's first byte */
	struct ebpfdsl_lua_decoder d;
};

enum { L_RINGS, L_CHUNK, L_SLOTS }; /* L_RINGS: the sources */
/* the slots, from dv->lists + L_SLOTS: handler, layout, reused table,
 * then the decode function, or the decoder's two tables */
enum { S_HANDLER, S_LAYOUT, S_REUSED, S_DECODER };

/* Pushes the rings and an empty chunk for a delivery over r (at 1) of
 * up to `max` records. */
static void begin(lua_State *L, struct delivery *dv, struct lua_reader *r, lua_Integer max)
{
	dv->r = r;
	dv->ring = -1;
	dv->many = max > 1;
	luaL_checkstack(L, 16, "reader delivery");
	dv->lists = lua_gettop(L) + 1;
	lua_getiuservalue(L, 1, r->type->uv_sources);
	lua_pushnil(L);
}

static void load_ring(lua_State *L, struct delivery *dv, int ring)
{
	int slots = dv->lists + L_SLOTS;
	lua_settop(L, slots - 1);
	lua_rawgeti(L, dv->lists + L_RINGS, ring + 1); /* at slots until removed */
	lua_getfield(L, slots, "handler");
	lua_getfield(L, slots, "layout");
	lua_getfield(L, slots, "reused");
	lua_getfield(L, slots, "decode");
	lua_remove(L, slots);
	if (dv->r->src[ring].native) {
		lua_pop(L, 1);
		ebpfdsl_lua_decoder_init(L, slots + S_LAYOUT, &dv->d, dv->many);
	}
	dv->ring = ring;
}

/* One string holding every staged record (and their headers): what
 * EBPFDSL_MODE_CHUNK handlers get, made once per delivery. No push happens while
 * Lua runs (a handler cannot poll its own reader), so it stays right. */
static void need_chunk(lua_State *L, struct delivery *dv)
{
	const struct ebpfdsl_stage *st = &dv->r->st;
	if (!lua_isnil(L, dv->lists + L_CHUNK))
		return;
	dv->chunk_at = st->head;
	lua_pushlstring(L, st->buf + st->head, st->tail - st->head);
	lua_replace(L, dv->lists + L_CHUNK);
}

/* Pops the oldest staged record and pushes what its ring's handler gets
 * (the handler itself first when `handler`; chunks go by deliver_chunks; without, what events() and
 * poll_batch() give: a new table, or bytes); returns its ring and, in
 * *nargs, the values pushed after the handler. Popped first: a record
 * that fails is not seen twice. */
static int push_next(lua_State *L, struct delivery *dv, int handler, int *nargs)
{
	struct lua_reader *r = dv->r;
	const struct ebpfdsl_stage_rec *rec = ebpfdsl_stage_peek(&r->st);
	const char *data = (const char *)(rec + 1);
	int ring = r->cpu_first ? 0 : rec->src, slots, cpu = handler && r->cpu_first;
	const struct lua_reader_src *cfg = &r->src[ring];
	size_t len = rec->n;
	int mode = handler ? cfg->mode : cfg->size ? EBPFDSL_MODE_TABLE : EBPFDSL_MODE_BYTES;

	ebpfdsl_stage_pop(&r->st); /* its bytes stay until the next push */
	if (ring != dv->ring)
		load_ring(L, dv, ring);
	slots = dv->lists + L_SLOTS;
	if (handler)
		lua_pushvalue(L, slots + S_HANDLER);
	if (cpu)
		lua_pushinteger(L, rec->src);
	*nargs = 1 + cpu;
	if (len < cfg->size)
		luaL_error(L, "a %d-byte record is shorter than its layout (%d bytes)", (int)len, (int)cfg->size);
	switch (mode) {
	case EBPFDSL_MODE_BYTES:
		lua_pushlstring(L, data, len);
		break;
	case EBPFDSL_MODE_REUSED:
		ebpfdsl_lua_decode(L, &dv->d, data, len, slots + S_REUSED);
		break;
	case EBPFDSL_MODE_FIELDS:
		*nargs = cpu + ebpfdsl_lua_decode_values(L, &dv->d, data, len);
		break;
	default: /* EBPFDSL_MODE_TABLE */
		if (cfg->native) {
			ebpfdsl_lua_decode(L, &dv->d, data, len, 0);
		} else {
			lua_pushvalue(L, slots + S_DECODER);
			lua_pushvalue(L, slots + S_LAYOUT);
			lua_pushlstring(L, data, len);
			lua_call(L, 2, 1);
		}
	}
	return ring;
}

/* Hands handler(chunk, pos, len) every staged record of `ring` that comes
 * next, in one loop: one record costs four pushes and the call, nothing
 * looked up (issue 9's raw path). */
static void deliver_chunks(lua_State *L, struct delivery *dv, int ring)
{
	struct lua_reader *r = dv->r;
	struct ebpfdsl_stage *st = &r->st;
	int handler = dv->lists + L_SLOTS + S_HANDLER, chunk = dv->lists + L_CHUNK;
	need_chunk(L, dv);
	while (!r->closed && st->count) {
		const struct ebpfdsl_stage_rec *rec = ebpfdsl_stage_peek(st);
		lua_Integer pos = (lua_Integer)(st->head + sizeof(*rec) - dv->chunk_at) + 1;
		if (rec->src != ring)
			return;
		ebpfdsl_stage_pop(st); /* popped first: a record that fails is not seen twice */
		lua_pushvalue(L, handler);
		lua_pushvalue(L, chunk);
		lua_pushinteger(L, pos);
		lua_pushinteger(L, (lua_Integer)rec->n);
		lua_call(L, 3, 0);
		r->done++;
	}
}

/* A perf buffer's loss report: on_lost(cpu, n) of source 1, if any. */
static void deliver_lost(lua_State *L, struct delivery *dv)
{
	const struct ebpfdsl_stage_rec *rec = ebpfdsl_stage_peek(&dv->r->st);
	ebpfdsl_stage_pop(&dv->r->st);
	lua_rawgeti(L, dv->lists + L_RINGS, 1);
	if (lua_getfield(L, -1, "on_lost") != LUA_TNIL) {
		lua_pushinteger(L, rec->src);
		lua_pushinteger(L, (lua_Integer)rec->n);
		lua_call(L, 2, 0);
		dv->r->done++;
		lua_pushnil(L); /* in place of on_lost, popped below */
	}
	lua_pop(L, 2);
}

int ebpfdsl_lua_reader_deliver_all(lua_State *L)
{
	struct lua_reader *r = lua_touserdata(L, 1);
	struct delivery dv;
	begin(L, &dv, r, (lua_Integer)r->st.count);
	while (!r->closed && r->st.count) {
		const struct ebpfdsl_stage_rec *rec = ebpfdsl_stage_peek(&r->st);
		int nargs, ring = r->cpu_first ? 0 : rec->src;
		if (rec->kind == EBPFDSL_STAGE_LOST) {
			deliver_lost(L, &dv);
			continue;
		}
		if (r->src[ring].mode == EBPFDSL_MODE_CHUNK) {
			if (ring != dv.ring)
				load_ring(L, &dv, ring);
			deliver_chunks(L, &dv, ring);
			continue;
		}
		push_next(L, &dv, 1, &nargs);
		lua_call(L, nargs, 0);
		r->done++;
	}
	return 0;
}

int ebpfdsl_lua_reader_deliver_batch(lua_State *L)
{
	struct lua_reader *r = lua_touserdata(L, 1);
	lua_Integer max = lua_tointeger(L, 4);
	struct delivery dv;
	int nargs;
	begin(L, &dv, r, max);
	while (!r->closed && r->st.count && r->done < max) {
		int ring = push_next(L, &dv, 0, &nargs);
		lua_rawseti(L, 2, ++r->done);
		lua_rawgeti(L, 5, ring + 1);
		lua_rawseti(L, 3, r->done);
	}
	return 0;
}

int ebpfdsl_lua_reader_run(lua_State *L, struct lua_reader *r, int nargs, int nresults)
{
	int status;
	r->busy = 1;
	r->done = 0;
	status = lua_pcall(L, nargs, nresults, 0);
	r->busy = 0;
	if (r->closed && r->native)
		release(L, 1, r); /* every caller has the reader at 1 */
	return status;
}

void ebpfdsl_lua_reader_batch(lua_State *L, struct lua_reader *r, int nargs)
{
	if (ebpfdsl_lua_reader_run(L, r, nargs, 0) == LUA_OK)
		return;
	if (r->done == 0)
		lua_error(L);
	if (r->native) { /* else closed by the code that raised: nothing to keep it for */
		lua_setiuservalue(L, 1, r->type->uv_error);
		r->has_error = 1;
	} else {
		lua_pop(L, 1);
	}
}

/* Called only so that a hook can run: a signal handler that wants Lua to
 * see its signal sets one (lua.c's Ctrl-C handler does, and raises
 * "interrupted!" from it), and hooks run on calls. */
static int signal_point(lua_State *L)
{
	(void)L;
	return 0;
}

int ebpfdsl_lua_reader_fill(lua_State *L, struct lua_reader *r, size_t want, int timeout_ms)
{
	int64_t deadline = ebpfdsl_reader_deadline(timeout_ms);
	for (;;) {
		int n;
		r->st.want = want;
		n = r->type->ops->poll(r->native, timeout_ms);
		if (r->type->ops->stopped(r->native) == -ENOMEM)
			luaL_error(L, "%s: out of memory staging a record; it is lost", r->type->name);
		if (n != -EINTR)
			return n;
		lua_pushcfunction(L, signal_point);
		lua_call(L, 0, 0); /* a hook may raise from here: nothing of ours is held */
		if (!r->native || r->closed)
			return 0; /* a hook closed the reader */
		if (timeout_ms > 0 && (timeout_ms = ebpfdsl_reader_left(deadline)) == 0)
			return 0;
	}
}

int ebpfdsl_lua_reader_top_up(lua_State *L, struct lua_reader *r, size_t want, int timeout_ms)
{
	int e;
	if (r->st.count >= want)
		return 0;
	e = ebpfdsl_lua_reader_fill(L, r, want, r->st.count ? 0 : timeout_ms);
	return e < 0 && !r->st.count ? e : 0;
}

/* The handler loop of poll and consume: fills and delivers until a fill
 * finds nothing (waiting up to timeout_ms the first time only). Pushes
 * the number of records handled, or nil, msg, errno when the first fill
 * fails; re-raises what a handler raised. */
static int handle(lua_State *L, int timeout_ms)
{
	const struct lua_reader_type *t = TYPE_OF(L);
	struct lua_reader *r = ebpfdsl_lua_reader_check_usable(L, 1, t);
	lua_Integer total = 0;
	if (r->unhandled)
		return luaL_error(L, "%s: %s", t->name, r->unhandled);
	lua_settop(L, 1);
	for (;;) {
		if (!r->st.count && r->in_place) { /* no copy to stage: what the buffers hold now */
			lua_pushcfunction(L, t->in_place);
			lua_pushvalue(L, 1);
			if (ebpfdsl_lua_reader_run(L, r, 1, 0) != LUA_OK)
				return lua_error(L);
			total += r->done;
			if (!r->native)
				break;
			if (r->done) {
				timeout_ms = 0;
				continue;
			}
		}
		if (!r->st.count) {
			int n = ebpfdsl_lua_reader_fill(L, r, EBPFDSL_LUA_READER_CHUNK, timeout_ms);
			if (n < 0 && total == 0)
				return ebpfdsl_lua_fail(L, n, "%s", t->ops->poll_what);
			if (!r->st.count)
				break;
		}
		timeout_ms = 0; /* waited once: now only drain */
		lua_pushcfunction(L, ebpfdsl_lua_reader_deliver_all);
		lua_pushvalue(L, 1);
		if (ebpfdsl_lua_reader_run(L, r, 1, 0) != LUA_OK)
			return lua_error(L); /* what the handler raised, as it raised it */
		total += r->done;
		if (!r->native)
			break;
	}
	lua_pushinteger(L, total);
	return 1;
}

/* r:poll([timeout_ms]) -> number of records handled | nil, msg, errno */
static int reader_poll(lua_State *L)
{
	return handle(L, ebpfdsl_lua_reader_timeout(L, 2, -1));
}

/* r:consume() -> number of records handled, without waiting */
static int reader_consume(lua_State *L)
{
	return handle(L, 0);
}

/* r:fd() -> an epoll fd, readable when a buffer holds records */
static int reader_fd(lua_State *L)
{
	const struct lua_reader_type *t = TYPE_OF(L);
	struct lua_reader *r = ebpfdsl_lua_reader_check_open(L, 1, t);
	lua_pushinteger(L, t->ops->epoll_fd(r->native));
	return 1;
}

/* r:buffers() -> how many buffers it reads (rings, or CPUs) */
static int reader_buffers(lua_State *L)
{
	const struct lua_reader_type *t = TYPE_OF(L);
	struct lua_reader *r = ebpfdsl_lua_reader_check_open(L, 1, t);
	lua_pushinteger(L, t->ops->count(r->native));
	return 1;
}

/* r:maps() (a ring reader: the list, in ring order) or r:map() (a perf
 * buffer's one): user value 1, as given */
static int reader_maps(lua_State *L)
{
	ebpfdsl_lua_reader_check_open(L, 1, TYPE_OF(L));
	lua_getiuservalue(L, 1, 1);
	return 1;
}

void ebpfdsl_lua_reader_class(lua_State *L, const struct lua_reader_type *t)
{
	static const luaL_Reg meta[] = {
		{ "__gc", reader_close }, { "__close", reader_close }, { "__tostring", reader_tostring }, { NULL, NULL },
	};
	static const luaL_Reg common[] = {
		{ "close", reader_close }, { "poll", reader_poll }, { "consume", reader_consume },
		{ "fd", reader_fd }, { "buffers", reader_buffers }, { NULL, NULL },
	};
	static const luaL_Reg writer[] = { { "close", reader_close }, { NULL, NULL } };
	luaL_newmetatable(L, t->name);
	lua_pushlightuserdata(L, (void *)t);
	luaL_setfuncs(L, meta, 1);
	lua_newtable(L);
	luaL_setfuncs(L, t->methods, 0);
	lua_pushlightuserdata(L, (void *)t);
	luaL_setfuncs(L, t->ops->poll_what ? common : writer, 1); /* a writer has no poll */
	if (t->maps) {
		lua_pushlightuserdata(L, (void *)t);
		lua_pushcclosure(L, reader_maps, 1);
		lua_setfield(L, -2, t->maps);
	}
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

size_t ebpfdsl_lua_reader_layout(lua_State *L, int idx, const char *what)
{
	lua_Integer size = 0;
	const ebpfdsl_layout *cl;
	idx = lua_absindex(L, idx);
	cl = ebpfdsl_lua_tolayout(L, idx);
	if (cl) {
		/* an ebpfdsl.Layout decodes in C: it stands for its own decoder */
		lua_pushvalue(L, idx);
		return ebpfdsl_layout__size(cl);
	}
	if (lua_getfield(L, idx, "size") != LUA_TFUNCTION)
		luaL_error(L, "%s: a layout needs a size() method, got %s", what, luaL_typename(L, idx));
	lua_pushvalue(L, idx);
	lua_call(L, 1, 1);
	if (!ebpfdsl_lua_getinteger(L, -1, &size) || size < 1 || size > INT_MAX)
		luaL_error(L, "%s: layout:size() must give a positive integer, got %s", what, luaL_tolstring(L, -1, NULL));
	lua_pop(L, 1);
	if (lua_getfield(L, idx, "decode") != LUA_TFUNCTION)
		luaL_error(L, "%s: a layout needs a decode() method, got %s", what, luaL_typename(L, -1));
	return (size_t)size;
}

int ebpfdsl_lua_reader_timeout(lua_State *L, int idx, int def)
{
	lua_Integer t = luaL_optinteger(L, idx, def);
	if (t < -1 || t > INT_MAX)
		luaL_argerror(L, idx, "timeout must be -1 (no limit) or 0..2^31-1 ms");
	return (int)t;
}
