/* SPDX-License-Identifier: MIT */
/* What the ring-buffer and perf-buffer bindings share: the reader object
 * (stage, close from inside a handler, the handler loop), reading a layout
 * (duck-typed: size() and decode()), pushing a record, the timeout. */
#ifndef EBPFDSL_LUA_READER_H
#define EBPFDSL_LUA_READER_H

#include "lua_util.h"
#include "lua_stage.h"

/* records a handler loop takes from the kernel before running Lua */
#define EBPFDSL_LUA_READER_CHUNK 256

struct lua_reader;

/* What differs between kinds of reader. */
struct lua_reader_type {
	const char *name;      /* the metatable: "ebpfdsl.RingBuf" */
	const char *poll_what; /* names a failed poll: "ringbuf poll" */
	int nuv;               /* user values, all let go of on release */
	void (*free)(void *native);
	/* Takes records into the stage until `want` are there, waiting up
	 * to timeout_ms when there are none: records taken, or -errno.
	 * Raises when staging ran out of memory. */
	int (*fill)(lua_State *L, struct lua_reader *r, size_t want, int timeout_ms);
	/* protected: (reader) -> runs the handlers over the staged records,
	 * counting them in r->done, until the stage is empty or r->closed */
	lua_CFunction deliver_all;
};

/* A reader userdata starts with this. Callbacks from libbpf only fill
 * the stage; Lua runs after libbpf returns, and may close the reader
 * from inside its own handler. */
struct lua_reader {
	const struct lua_reader_type *type;
	void *native;       /* the ebpfdsl_ringbuf or ebpfdsl_perfbuf; NULL: closed */
	struct stage st;
	lua_Integer done;   /* records given to Lua by the running delivery */
	int busy;           /* Lua code of ours is running: no polls, no frees */
	int closed;         /* closed while busy: released when not busy */
};

/* A new reader of `size` bytes (struct lua_reader first), zeroed and
 * closed, with its metatable, pushed. */
void *ebpfdsl_lua_reader_new(lua_State *L, const struct lua_reader_type *t, size_t size);
/* The reader of type t at idx, raising when it is closed. */
void *ebpfdsl_lua_reader_check_open(lua_State *L, int idx, const struct lua_reader_type *t);
/* close, __close and __gc of the reader at 1: frees it now, or once the
 * delivery running below us returns. */
int ebpfdsl_lua_reader_close(lua_State *L, const struct lua_reader_type *t);
/* Calls the protected delivery below its nargs arguments with the reader
 * (at 1) marked busy; afterwards finishes a close that happened meanwhile.
 * LUA_OK, or an error status with the error on top. */
int ebpfdsl_lua_reader_run(lua_State *L, struct lua_reader *r, int nargs);
/* r->type->fill through signals: a wait that EINTR cuts short lets Lua's
 * hooks run (where a signal handler raises, e.g. lua.c's "interrupted!" on
 * Ctrl-C), then waits on for what is left of timeout_ms. Never -EINTR. */
int ebpfdsl_lua_reader_fill(lua_State *L, struct lua_reader *r, size_t want, int timeout_ms);
/* The handler loop of poll and consume for the reader at 1: fills and
 * delivers until a fill finds nothing (waiting up to timeout_ms the first
 * time only). Pushes the number of records handled, or nil, msg, errno
 * when the first fill fails; re-raises what a handler raised. */
int ebpfdsl_lua_reader_handle(lua_State *L, struct lua_reader *r, int timeout_ms);

/* Checks that the value at idx is a layout (an object with size() and
 * decode()) and returns its size (>= 1); raises naming `what` otherwise.
 * Pushes what decodes for ebpfdsl_lua_reader_push: its decode function,
 * or for an ebpfdsl.Layout the layout itself (decoded in C, no call). */
size_t ebpfdsl_lua_reader_layout(lua_State *L, int idx, const char *what);

/* Pushes a record: the bytes when size is 0, otherwise what the layout
 * decodes through `decoder` (what ebpfdsl_lua_reader_layout pushed).
 * Raises when the record is shorter than the layout. */
void ebpfdsl_lua_reader_push(lua_State *L, int layout, int decoder, size_t size, const void *data, size_t len);

/* The optional timeout argument at idx, in ms (-1: no limit). */
int ebpfdsl_lua_reader_timeout(lua_State *L, int idx, int def);

#endif
