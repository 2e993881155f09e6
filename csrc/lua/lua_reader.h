/* SPDX-License-Identifier: MIT */
/* The skeleton every reader binding shares, driven by a per-kind table:
 * the object (stage, close from inside a handler), its common methods
 * (poll, consume, fd, close, __tostring), the fill and handler loop,
 * errors kept for the next call, reading a layout, the timeout. */
#ifndef EBPFDSL_LUA_READER_H
#define EBPFDSL_LUA_READER_H

#include "lua_util.h"
#include "../kernel/reader.h"

/* records a handler loop takes from the kernel before running Lua */
#define EBPFDSL_LUA_READER_CHUNK 256

struct lua_reader;

/* What a delivery knows of a source in C; the rest is the source's table
 * in the user value uv_sources: {handler =, layout =, decode =, reused =,
 * on_lost =} (decode: a Lua layout's function; reused: the table of a
 * "reused" source; on_lost(cpu, n): a perf buffer's loss callback). */
struct lua_reader_src {
	size_t size; /* its layout's size, 0 for raw bytes */
	int mode;    /* EBPFDSL_MODE_* (csrc/kernel/reader.h) */
	int native;  /* its layout is an ebpfdsl.Layout, decoded in C */
};

/* What differs between kinds of reader. */
struct lua_reader_type {
	const char *name;      /* the metatable: "ebpfdsl.RingBuf" */
	const struct ebpfdsl_reader_ops *ops; /* the kernel's row; no poll_what: no poll, consume, fd */
	int nuv;               /* user values, all let go of on release */
	int uv_error;          /* the user value holding an error for the next call, or 0 */
	int uv_sources;        /* the user value listing the sources' tables */
	const char *maps;      /* names the method giving user value 1 (the maps read), or NULL */
	/* pushes what __tostring says of an open reader without `unit` */
	void (*describe)(lua_State *L, struct lua_reader *r);
	const luaL_Reg *methods; /* the kind's own */
	/* protected: (reader) -> hands handlers records read in place from
	 * the buffers, counting them in r->done (0: none there); for readers
	 * with in_place set, while nothing is staged. NULL: never. */
	lua_CFunction in_place;
};

/* A reader userdata starts with this. Callbacks from libbpf only fill
 * the stage; Lua runs after libbpf returns, and may close the reader
 * from inside its own handler. */
struct lua_reader {
	const struct lua_reader_type *type;
	void *native;       /* the ebpfdsl_ringbuf, ebpfdsl_perfbuf...; NULL: closed */
	struct ebpfdsl_stage st;
	lua_Integer done;   /* records given to Lua by the running delivery */
	int busy;           /* Lua code of ours is running: no polls, no frees */
	int closed;         /* closed while busy: released when not busy */
	int has_error;      /* type->uv_error holds an error for the next call */
	const char *unhandled; /* set: poll and consume raise this */
	struct lua_reader_src *src; /* per source: a ring, or every CPU's buffer */
	int cpu_first;      /* one source, whose handler gets the CPU first */
	int in_place;       /* every source's handler can take records in place (type->in_place) */
};

/* protected: (reader) -> runs the handlers over the staged records,
 * counting them in r->done, until the stage is empty or r->closed. */
int ebpfdsl_lua_reader_deliver_all(lua_State *L);
/* protected: (reader, events, rings, max, maps) -> decodes up to max
 * records into events[i] (new tables, or bytes), and rings[i] = maps[the
 * record's source]. */
int ebpfdsl_lua_reader_deliver_batch(lua_State *L);

/* Makes the class of t: its methods, then the common ones. */
void ebpfdsl_lua_reader_class(lua_State *L, const struct lua_reader_type *t);
/* A new reader of `size` bytes (struct lua_reader first), zeroed and
 * closed, with its metatable, pushed. */
void *ebpfdsl_lua_reader_new(lua_State *L, const struct lua_reader_type *t, size_t size);
/* The reader of type t at idx, raising when it is closed. */
void *ebpfdsl_lua_reader_check_open(lua_State *L, int idx, const struct lua_reader_type *t);
/* The same, also raising when called from inside its own handler, or the
 * error a batch kept for this call. */
void *ebpfdsl_lua_reader_check_usable(lua_State *L, int idx, const struct lua_reader_type *t);
/* Calls the protected delivery below its nargs arguments with the reader
 * (at 1) marked busy; afterwards finishes a close that happened meanwhile.
 * LUA_OK with its nresults results on top, or an error status with the
 * error on top. */
int ebpfdsl_lua_reader_run(lua_State *L, struct lua_reader *r, int nargs, int nresults);
/* The same for a batch: an error raises when nothing was delivered, else
 * it is kept (type->uv_error) and raised by the next call. */
void ebpfdsl_lua_reader_batch(lua_State *L, struct lua_reader *r, int nargs);
/* Polls records into the stage until `want` are there, through signals:
 * a wait that EINTR cuts short lets Lua's hooks run (where a signal
 * handler raises, e.g. lua.c's "interrupted!" on Ctrl-C), then waits on
 * for what is left of timeout_ms. Records taken or -errno, never -EINTR;
 * raises when staging ran out of memory. */
int ebpfdsl_lua_reader_fill(lua_State *L, struct lua_reader *r, size_t want, int timeout_ms);
/* A batch's fill: up to `want` staged, waiting up to timeout_ms only when
 * none are. 0, or -errno when it failed and nothing is staged. */
int ebpfdsl_lua_reader_top_up(lua_State *L, struct lua_reader *r, size_t want, int timeout_ms);

/* Checks that the value at idx is a layout (an object with size() and
 * decode()) and returns its size (>= 1); raises naming `what` otherwise.
 * Pushes what decodes, a source's `decode`: its decode function, or for
 * an ebpfdsl.Layout the layout itself (decoded in C, no call). */
size_t ebpfdsl_lua_reader_layout(lua_State *L, int idx, const char *what);

/* The optional timeout argument at idx, in ms (-1: no limit). */
int ebpfdsl_lua_reader_timeout(lua_State *L, int idx, int def);

#endif
