/* SPDX-License-Identifier: MIT */
/* ebpfdsl.RingBuf: a reader over one or more ring buffers, calling Lua
 * handlers, iterating, or returning batches; Lua runs only after libbpf. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "lua_opts.h"
#include "lua_reader.h"

static const char *const RINGBUF = "ebpfdsl.RingBuf";

/* user values: the maps as given, in ring order; the rings, each a table
 * {map =, handler =, layout =, decode =, reused =, lost =} (decode: a Lua
 * layout's function; reused: the table of a "reused" ring); a deferred
 * error */
enum { UV_MAPS = 1, UV_RINGS, UV_ERROR, UV_COUNT = UV_ERROR };

struct reader {
	struct lua_reader base; /* base.native: the ebpfdsl_ringbuf */
	int nrings;
	int next; /* the ring an in-place delivery starts with: rings take turns */
	struct lua_reader_src ring[]; /* per ring */
};

static const struct lua_reader_type ringbuf_type;

static struct reader *check_open(lua_State *L, int idx)
{
	return ebpfdsl_lua_reader_check_open(L, idx, &ringbuf_type);
}

static struct reader *check_usable(lua_State *L, int idx)
{
	return ebpfdsl_lua_reader_check_usable(L, idx, &ringbuf_type);
}

/* Decodes up to max staged records into two new tables (events, rings)
 * on top of the reader at 1; an error after some were decoded is kept
 * for the next call. */
static void batch(lua_State *L, struct reader *r, lua_Integer max)
{
	size_t n = r->base.st.count < (size_t)max ? r->base.st.count : (size_t)max;
	lua_settop(L, 1);
	lua_createtable(L, (int)n, 0); /* 2: events */
	lua_createtable(L, (int)n, 0); /* 3: rings */
	lua_pushcfunction(L, ebpfdsl_lua_reader_deliver_batch);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_pushinteger(L, max);
	lua_getiuservalue(L, 1, UV_MAPS);
	ebpfdsl_lua_reader_batch(L, &r->base, 5);
}

/* r:poll_batch(max[, timeout_ms]) -> events, rings | nil, msg, errno.
 * events[i] is a decoded table (bytes for a ring without layout), rings[i]
 * the map it came from. */
static int rb_poll_batch(lua_State *L)
{
	struct reader *r = check_usable(L, 1);
	lua_Integer max = luaL_checkinteger(L, 2);
	int timeout = ebpfdsl_lua_reader_timeout(L, 3, 0), e;
	luaL_argcheck(L, max >= 1 && max <= 1 << 24, 2, "max must be 1..16777216");
	e = ebpfdsl_lua_reader_top_up(L, &r->base, (size_t)max, timeout);
	if (e < 0)
		return ebpfdsl_lua_fail(L, e, "ringbuf poll_batch");
	batch(L, r, max);
	return 2;
}

/* iterator of r:events(timeout): upvalues reader, timeout */
static int events_next(lua_State *L)
{
	struct reader *r;
	int timeout = (int)lua_tointeger(L, lua_upvalueindex(2)), n;
	lua_settop(L, 0);
	lua_pushvalue(L, lua_upvalueindex(1)); /* 1 */
	r = check_usable(L, 1);
	if (!r->base.st.count) {
		n = ebpfdsl_lua_reader_fill(L, &r->base, EBPFDSL_LUA_READER_CHUNK, timeout);
		/* an iterator cannot return nil, msg, errno: a failed wait raises */
		if (n < 0 && !r->base.st.count)
			return luaL_error(L, "%s events: %s", RINGBUF, ebpfdsl_strerror(-n));
		if (!r->base.native || !r->base.st.count)
			return 0;
	}
	batch(L, r, 1);
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

/* r:lost() -> failed reservations counted in the loss maps | nil, msg, errno */
static int rb_lost(lua_State *L)
{
	uint64_t n;
	int err = ebpfdsl_ringbuf__lost(check_open(L, 1)->base.native, &n);
	if (err == -ENOENT)
		return luaL_error(L, "%s: no loss map was given; the ring buffer itself counts nothing "
				  "(give one as {handler = f, lost = loss_map})", RINGBUF);
	if (err)
		return ebpfdsl_lua_fail(L, err, "ringbuf lost");
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

/* r:staged() -> records taken from the kernel not yet given to Lua */
static int rb_staged(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)check_open(L, 1)->base.st.count);
	return 1;
}

/* ---------------------------------------------------------------------
 * Columns: records decoded into one list per field
 * --------------------------------------------------------------------- */

/* Pushes the ebpfdsl.Layout every ring has; raises when they differ. */
static void push_shared_layout(lua_State *L, struct reader *r)
{
	lua_getiuservalue(L, 1, UV_RINGS);
	lua_pushnil(L); /* the first ring's layout */
	for (int i = 0; i < r->nrings; i++) {
		lua_rawgeti(L, -2, i + 1);
		lua_getfield(L, -1, "layout");
		lua_replace(L, -2);
		if (i == 0)
			lua_copy(L, -1, -2);
		if (!r->ring[i].native || !lua_rawequal(L, -1, -2))
			luaL_error(L, "%s poll_columns: every ring must have the same ebpfdsl.Layout (ring %d %s)", RINGBUF,
				   i + 1, !r->ring[i].native ? "has none" : "has another");
		lua_pop(L, 1);
	}
	lua_remove(L, -2);
}

/* ---------------------------------------------------------------------
 * In place: records decoded (columns) or copied once (chunks) from the
 * rings themselves while nothing is staged, each given back to its ring
 * once read.
 * --------------------------------------------------------------------- */

/* Room for a gather of up to max records over the reader's rings, as a
 * userdata pushed, and the gather itself, from ring r->next; the next one
 * starts a ring later (rings take turns). */
static void gather(lua_State *L, struct reader *r, size_t max, struct ebpfdsl_ringbuf_gather *g)
{
	ebpfdsl_ringbuf_gather_init(g, lua_newuserdatauv(L, ebpfdsl_ringbuf_gather_room(r->nrings, max), 0), max);
	g->first = r->next;
	ebpfdsl_ringbuf__gather(r->base.native, max, g);
	r->next = (r->next + 1) % r->nrings;
}

static const char *const SHORT = "a %d-byte record is shorter than its layout (%d bytes)";

/* deliver_columns while nothing is staged: up to max records, decoded
 * where they are, then given back (a short record too, before it raises:
 * not seen twice). */
static int columns_in_place(lua_State *L, struct reader *r, const struct ebpfdsl_lua_decoder *d, size_t max)
{
	struct ebpfdsl_ringbuf_gather g;
	size_t n = 0;
	gather(L, r, max, &g);
	while (n < g.total && g.lens[n] >= d->size)
		n++;
	ebpfdsl_lua_decode_columns(L, d, g.recs, g.lens, n, 3); /* empty lists when n is 0 */
	ebpfdsl_ringbuf__release_gathered(r->base.native, &g, n < g.total ? n + 1 : n);
	r->base.done = (lua_Integer)n;
	if (n < g.total)
		return luaL_error(L, SHORT, (int)g.lens[n], (int)d->size);
	return 0;
}

/* type->in_place of a reader whose rings are all of mode "chunk": from
 * each ring in turn, a delivery's worth of records as one string copied
 * from the ring, each record given back before its handler runs (one
 * that fails is not seen twice). */
static int chunks_in_place(lua_State *L)
{
	struct reader *r = lua_touserdata(L, 1);
	const void *recs[EBPFDSL_LUA_READER_CHUNK];
	size_t lens[EBPFDSL_LUA_READER_CHUNK];
	uint64_t ends[EBPFDSL_LUA_READER_CHUNK];
	lua_getiuservalue(L, 1, UV_RINGS); /* 2 */
	for (int k = 0; k < r->nrings && !r->base.closed; k++) {
		int i = (r->next + k) % r->nrings;
		size_t n = ebpfdsl_ringbuf__peek(r->base.native, i, EBPFDSL_LUA_READER_CHUNK, recs, lens, ends);
		const char *base;
		if (!n)
			continue;
		base = recs[0];
		lua_settop(L, 2);
		lua_rawgeti(L, 2, i + 1);
		lua_getfield(L, 3, "handler"); /* 4 */
		lua_pushlstring(L, base, (size_t)((const char *)recs[n - 1] - base) + lens[n - 1]); /* 5 */
		for (size_t j = 0; j < n && !r->base.closed; j++) {
			ebpfdsl_ringbuf__release(r->base.native, i, ends[j]);
			lua_pushvalue(L, 4);
			lua_pushvalue(L, 5);
			lua_pushinteger(L, (lua_Integer)((const char *)recs[j] - base) + 1);
			lua_pushinteger(L, (lua_Integer)lens[j]);
			lua_call(L, 3, 0);
			r->base.done++;
		}
	}
	r->next = (r->next + 1) % r->nrings;
	return 0;
}

/* protected: (reader, layout, cols, max) -> decodes up to max records
 * into new lists, record i into cols[field][i]. A record counts once
 * every list holds it: they are popped after. */
static int deliver_columns(lua_State *L)
{
	struct reader *r = lua_touserdata(L, 1);
	size_t max = (size_t)lua_tointeger(L, 4), n, at;
	struct ebpfdsl_lua_decoder d;
	const void **recs;
	size_t *lens;
	ebpfdsl_lua_decoder_init(L, 2, &d, 1);
	if (!r->base.st.count)
		return columns_in_place(L, r, &d, max);
	if (max > r->base.st.count)
		max = r->base.st.count;
	recs = lua_newuserdatauv(L, max * (sizeof(*recs) + sizeof(*lens)) + 1, 0);
	lens = (size_t *)(void *)(recs + max);
	n = ebpfdsl_stage_gather(&r->base.st, max, d.size, recs, lens, &at);
	ebpfdsl_lua_decode_columns(L, &d, recs, lens, n, 3); /* empty lists when n is 0 */
	ebpfdsl_stage_pop_n(&r->base.st, n, at);
	r->base.done = (lua_Integer)n;
	if (n < max) { /* the next record is shorter than the layout */
		size_t len = ebpfdsl_stage_peek(&r->base.st)->n;
		ebpfdsl_stage_pop(&r->base.st); /* popped first: not seen twice */
		return luaL_error(L, SHORT, (int)len, (int)d.size);
	}
	return 0;
}

/* The arguments poll_columns and poll_chunk share, (reader, max,
 * timeout_ms, table): max, checked, and the timeout in *timeout; the
 * table at 4 (a new one for nil). */
static lua_Integer table_call_args(lua_State *L, int *timeout)
{
	lua_Integer max = luaL_checkinteger(L, 2);
	/* poll_columns' lists are made from the stack, which holds a million values at most */
	luaL_argcheck(L, max >= 1 && max <= 1 << 16, 2, "max must be 1..65536");
	*timeout = ebpfdsl_lua_reader_timeout(L, 3, 0);
	if (!lua_isnoneornil(L, 4))
		luaL_checktype(L, 4, LUA_TTABLE);
	lua_settop(L, 4);
	if (lua_isnil(L, 4)) {
		lua_newtable(L);
		lua_replace(L, 4);
	}
	return max;
}

/* Stages what a table call reads, unless it reads in place: records are
 * staged already, or none are there to read and it waits up to
 * timeout_ms. 0, or -errno. */
static int table_call_fill(lua_State *L, struct reader *r, lua_Integer max, int timeout_ms)
{
	if (!r->base.st.count && ebpfdsl_ringbuf__ready(r->base.native))
		return 0;
	return ebpfdsl_lua_reader_top_up(L, &r->base, (size_t)max, timeout_ms);
}

/* r:poll_columns(max[, timeout_ms[, cols]]) -> n, cols | nil, msg, errno.
 * cols[field] is a new list of that field of each record, i = 1..n; cols
 * (given, or a new table) gets new lists each call. */
static int rb_poll_columns(lua_State *L)
{
	struct reader *r = check_usable(L, 1);
	int timeout, status;
	lua_Integer max = table_call_args(L, &timeout);
	push_shared_layout(L, r); /* 5 */
	status = table_call_fill(L, r, max, timeout);
	if (status < 0)
		return ebpfdsl_lua_fail(L, status, "ringbuf poll_columns");
	lua_pushcfunction(L, deliver_columns);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 5);
	lua_pushvalue(L, 4);
	lua_pushinteger(L, max);
	ebpfdsl_lua_reader_batch(L, &r->base, 4);
	lua_pushinteger(L, r->base.done);
	lua_pushvalue(L, 4);
	return 2;
}

/* ---------------------------------------------------------------------
 * Chunks: records' bytes packed into one string, with their offsets
 * --------------------------------------------------------------------- */

/* Sets offs (at idx) [1 .. n + 1] to where each of n records of lens
 * starts in their packed string, n + 1 past the last, and clears what an
 * earlier call left after that, so that #offs is n + 1. */
static void set_offsets(lua_State *L, int idx, const size_t *lens, size_t n)
{
	lua_Integer at = 1, k = (lua_Integer)n + 2;
	for (size_t i = 0; i < n; i++) {
		lua_pushinteger(L, at);
		lua_rawseti(L, idx, (lua_Integer)i + 1);
		at += (lua_Integer)lens[i];
	}
	lua_pushinteger(L, at);
	lua_rawseti(L, idx, (lua_Integer)n + 1);
	for (; lua_rawgeti(L, idx, k) != LUA_TNIL; k++) {
		lua_pushnil(L);
		lua_replace(L, -2);
		lua_rawseti(L, idx, k);
	}
	lua_pop(L, 1);
}

/* Pushes n records' bytes packed, one after the other, as one string. */
static void push_packed(lua_State *L, const void *const *recs, const size_t *lens, size_t n)
{
	luaL_Buffer b;
	size_t total = 0, at = 0;
	char *p;
	for (size_t i = 0; i < n; i++)
		total += lens[i];
	p = luaL_buffinitsize(L, &b, total);
	for (size_t i = 0; i < n; i++) {
		memcpy(p + at, recs[i], lens[i]);
		at += lens[i];
	}
	luaL_pushresultsize(&b, total);
}

/* protected: (reader, offs, max) -> the string of up to max records,
 * staged ones first, else read in place from the rings; offs set as
 * set_offsets says. The records are dropped (or given back to their
 * rings) once both are made: an error before loses none. */
static int deliver_chunk(lua_State *L)
{
	struct reader *r = lua_touserdata(L, 1);
	size_t max = (size_t)lua_tointeger(L, 3), at;
	struct ebpfdsl_ringbuf_gather g;
	int staged = r->base.st.count > 0;
	if (staged) {
		g.recs = lua_newuserdatauv(L, max * (sizeof(*g.recs) + sizeof(*g.lens)), 0);
		g.lens = (size_t *)(void *)(g.recs + max);
		g.total = ebpfdsl_stage_gather(&r->base.st, max, 0, g.recs, g.lens, &at);
	} else {
		gather(L, r, max, &g);
	}
	set_offsets(L, 2, g.lens, g.total);
	push_packed(L, g.recs, g.lens, g.total);
	if (staged)
		ebpfdsl_stage_pop_n(&r->base.st, g.total, at);
	else
		ebpfdsl_ringbuf__release_gathered(r->base.native, &g, g.total);
	r->base.done = (lua_Integer)g.total;
	return 1;
}

/* r:poll_chunk(max[, timeout_ms[, offs]]) -> n, chunk, offs | nil, msg,
 * errno. chunk holds up to max records' bytes, packed; record i is
 * chunk:sub(offs[i], offs[i + 1] - 1); offs (given, or a new table) is
 * overwritten each call. */
static int rb_poll_chunk(lua_State *L)
{
	struct reader *r = check_usable(L, 1);
	int timeout;
	lua_Integer max = table_call_args(L, &timeout);
	int status = table_call_fill(L, r, max, timeout);
	if (status < 0)
		return ebpfdsl_lua_fail(L, status, "ringbuf poll_chunk");
	lua_pushcfunction(L, deliver_chunk);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 4);
	lua_pushinteger(L, max);
	if (ebpfdsl_lua_reader_run(L, &r->base, 3, 1) != LUA_OK)
		return lua_error(L); /* nothing was taken: no error is kept for later */
	lua_pushinteger(L, r->base.done);
	lua_insert(L, -2);
	lua_pushvalue(L, 4);
	return 3;
}

/* The keys of a ring's spec and of the reader's options: ringbuf.lua
 * checks tables against these rows (core.ringbuf_ring_check, ...). */
static const struct ebpfdsl_lua_opt ring_rows[] = {
	EBPFDSL_OPT_KNOWN("handler"), EBPFDSL_OPT_KNOWN("layout"), EBPFDSL_OPT_KNOWN("mode"),
	EBPFDSL_OPT_KNOWN("lost"),    EBPFDSL_OPT_INNER("map"),    EBPFDSL_OPT_INNER("fd"),
	EBPFDSL_OPT_END,
};
static const struct ebpfdsl_lua_opt reader_rows[] = { EBPFDSL_OPT_KNOWN("poll_interval"), EBPFDSL_OPT_END };

/* Pops the top value into the list in user value uv of the reader at 2. */
static void keep(lua_State *L, int uv, lua_Integer i)
{
	lua_getiuservalue(L, 2, uv);
	lua_insert(L, -2);
	lua_rawseti(L, -2, i);
	lua_pop(L, 1);
}

/* The mode of a ring from its spec at idx (its layout read already). */
static void read_mode(lua_State *L, struct lua_reader_src *cfg, int idx, int handler, const char *what)
{
	char err[160];
	const char *name = NULL;
	int t = lua_getfield(L, idx, "mode");
	if (t != LUA_TNIL && t != LUA_TSTRING)
		luaL_error(L, "%s: mode must be a string, got %s", what, luaL_typename(L, -1));
	name = lua_tostring(L, -1);
	cfg->mode = ebpfdsl_reader_mode_find(name, !cfg->size ? EBPFDSL_LAYOUT_NONE
					     : cfg->native ? EBPFDSL_LAYOUT_C : EBPFDSL_LAYOUT_ANY, handler, err, sizeof(err));
	if (cfg->mode < 0)
		luaL_error(L, "%s: %s", what, err);
}

/* Adds ring i, whose spec is at top + 1, to the reader at 2: 0, or the
 * count of nil, msg, errno pushed. */
static int add_ring(lua_State *L, struct reader *r, lua_Integer i, int top)
{
	static const char *const KEPT[] = { "map", "handler", "layout", "lost" };
	struct ebpfdsl_ringbuf_add_opts o = { .sz = sizeof(o) };
	struct lua_reader_src *cfg = &r->ring[i - 1];
	int fd, err, handler;
	char what[64];
	snprintf(what, sizeof(what), "ringbuf.reader: ring %d", (int)i);
	if (lua_rawgeti(L, 1, i) != LUA_TTABLE) /* top + 1 */
		luaL_error(L, "%s: expected a table", what);
	lua_createtable(L, 0, 6); /* top + 2: the ring, as deliveries read it */
	for (int k = 0; k < 4; k++) {
		lua_getfield(L, top + 1, KEPT[k]);
		lua_setfield(L, top + 2, KEPT[k]);
	}
	lua_pushvalue(L, top + 2);
	keep(L, UV_RINGS, i);
	lua_getfield(L, top + 1, "map"); /* top + 3 */
	lua_pushvalue(L, top + 3);
	keep(L, UV_MAPS, i);
	lua_getfield(L, top + 1, "fd");
	fd = ebpfdsl_lua_tofd(L, lua_isnil(L, -1) ? top + 3 : -1, what);
	if (!(handler = lua_getfield(L, top + 1, "handler") != LUA_TNIL))
		r->base.unhandled = "a ring has no handler; read it with events(), poll_batch(), poll_columns() or poll_chunk()";
	if (lua_getfield(L, top + 1, "layout") != LUA_TNIL) {
		cfg->native = ebpfdsl_lua_tolayout(L, -1) != NULL;
		cfg->size = ebpfdsl_lua_reader_layout(L, -1, what); /* pushes decode */
		lua_setfield(L, top + 2, "decode");
	}
	read_mode(L, cfg, top + 1, handler, what);
	if (cfg->mode == EBPFDSL_MODE_REUSED) { /* sized by its first fill */
		lua_newtable(L);
		lua_setfield(L, top + 2, "reused");
	}
	if (lua_getfield(L, top + 1, "lost") != LUA_TNIL) {
		o.lost_fd = ebpfdsl_lua_tofd(L, -1, what);
		if (o.lost_fd == 0)
			luaL_error(L, "%s: fd 0 cannot be a loss map", what);
	}
	err = ebpfdsl_ringbuf__add(r->base.native, fd, &o);
	if (err == -EINVAL || err == -EBADF)
		luaL_error(L, "%s: %s is not a ringbuf map", what, luaL_tolstring(L, top + 3, NULL));
	if (err == -EMEDIUMTYPE)
		luaL_error(L, "%s: the loss map must be a percpu_array (or array) with 4-byte keys and 8-byte values",
			   what);
	if (err < 0)
		return ebpfdsl_lua_fail_libbpf(L, err, "%s", what);
	lua_settop(L, top);
	return 0;
}

/* ringbuf_reader(list[, {poll_interval = ms}]) where list[i] = {map=,
 * fd=, handler=, layout=, mode=, lost=} -> RingBuf | nil, msg, errno */
static int l_ringbuf_reader(lua_State *L)
{
	lua_Integer n, interval = 0;
	struct reader *r;
	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2)) {
		ebpfdsl_lua_opts_read(L, 2, "ringbuf.reader", reader_rows, NULL);
		interval = ebpfdsl_lua_optint_field(L, 2, "poll_interval", 0);
		if (interval < 0 || interval > INT_MAX)
			return luaL_error(L, "ringbuf.reader: poll_interval must be 0..2^31-1 ms, got %d", (int)interval);
	}
	lua_settop(L, 1);
	n = (lua_Integer)lua_rawlen(L, 1);
	if (n < 1 || n > 4096)
		return luaL_error(L, "ringbuf.reader: needs 1 to 4096 ring buffers, got %d", (int)n);
	/* created closed, before anything is acquired */
	r = ebpfdsl_lua_reader_new(L, &ringbuf_type, sizeof(*r) + sizeof(r->ring[0]) * (size_t)n); /* 2 */
	r->nrings = (int)n;
	r->base.src = r->ring;
	for (int uv = UV_MAPS; uv <= UV_RINGS; uv++) {
		lua_createtable(L, (int)n, 0);
		lua_setiuservalue(L, 2, uv);
	}
	r->base.native = ebpfdsl_ringbuf__new(ebpfdsl_stage_sample, &r->base.st);
	if (!r->base.native)
		return ebpfdsl_lua_fail(L, errno, "ringbuf reader");
	ebpfdsl_ringbuf__set_poll_interval(r->base.native, (int)interval);
	r->base.in_place = 1;
	for (lua_Integer i = 1; i <= n; i++) {
		int k = add_ring(L, r, i, 2);
		if (k)
			return k;
		r->base.in_place &= r->ring[i - 1].mode == EBPFDSL_MODE_CHUNK;
	}
	return 1;
}

static const luaL_Reg rb_methods[] = {
	{ "poll_batch", rb_poll_batch }, { "poll_columns", rb_poll_columns },
	{ "poll_chunk", rb_poll_chunk }, { "events", rb_events },
	{ "lost", rb_lost },             { "staged", rb_staged },
	{ NULL, NULL },
};

static const struct lua_reader_type ringbuf_type = {
	.name = RINGBUF, .ops = &ebpfdsl_ringbuf_ops, .nuv = UV_COUNT, .uv_error = UV_ERROR, .uv_sources = UV_RINGS,
	.maps = "maps", .methods = rb_methods, .in_place = chunks_in_place,
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
	ebpfdsl_lua_reader_class(L, &ringbuf_type);
	lua_pushcfunction(L, l_ringbuf_reader);
	lua_setfield(L, -2, "ringbuf_reader");
	lua_pushcfunction(L, l_tofd);
	lua_setfield(L, -2, "tofd");
	ebpfdsl_lua_opts_push_checker(L, "ringbuf.reader", ring_rows);
	lua_setfield(L, -2, "ringbuf_ring_check");
	ebpfdsl_lua_opts_push_checker(L, "ringbuf.reader", reader_rows);
	lua_setfield(L, -2, "ringbuf_reader_check");
}
