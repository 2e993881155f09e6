/* SPDX-License-Identifier: MIT */
/* One convention for the userdata that own a kernel or library object
 * (Map, Prog, Link, Iter, Object, Symtab): a row per type says how it is
 * closed, printed, given an fd and pinned; the methods and metamethods
 * every such type has (close, __gc, __close, __tostring, fd, pin, unpin)
 * are written once, here, and read the row. */
#ifndef EBPFDSL_LUA_HANDLE_H
#define EBPFDSL_LUA_HANDLE_H

#include "lua_util.h"

struct ebpfdsl_lua_handle {
	const char *tname; /* the metatable's name: "ebpfdsl.Map" */
	const char *noun;  /* in messages: "map" */
	/* NULL: the userdata's first member is an int fd, -1 when closed,
	 * closed with close(2). Else it is a pointer, NULL when closed,
	 * released with this. */
	void (*release)(void *p);
	/* Optional: whether an open handle can no longer be used (a link
	 * detached under it). */
	int (*gone)(const void *ud);
	/* Pushes what __tostring says after the type's name (" hash 'x' ...",
	 * or ""), open or closed (" (closed)" follows then); NULL: nothing.
	 * The handle is at stack index 1; upvalue 2 of the caller is the
	 * module table. */
	void (*describe)(lua_State *L, const void *ud, int open);
	/* Pointer handles with an fd: pushes it (or nil, msg, errno) and
	 * returns the number of results; NULL: fd() only on fd handles. */
	int (*fd)(lua_State *L, const void *ud);
	/* The user value remembering where this handle pinned its object
	 * (0: pin and unpin are the type's own), and the failure of a pin
	 * (pin 1) or an unpin at path, pushed as nil, msg, errno. */
	int pin_uv;
	int (*pin_fail)(lua_State *L, const void *ud, int err, const char *path, int pin);
};

/* The handle of type h at idx, open or not; open: raises "attempt to use
 * a closed <tname>" when it is closed. */
#define ebpfdsl_lua_handle_check(L, idx, h) luaL_checkudata(L, idx, (h)->tname)
void *ebpfdsl_lua_handle_open(lua_State *L, int idx, const struct ebpfdsl_lua_handle *h);
/* Pushes a new closed handle of size bytes with nuv user values (the
 * object is opened after, so that nothing raising in between leaks it). */
void *ebpfdsl_lua_handle_new(lua_State *L, const struct ebpfdsl_lua_handle *h, size_t size, int nuv);
/* Closes the handle at idx (idempotent), as h:close() does. */
void ebpfdsl_lua_handle_close(lua_State *L, int idx, const struct ebpfdsl_lua_handle *h);
/* Makes the class as ebpfdsl_lua_class does, with the row's close, __gc,
 * __close, __tostring and, as the row offers them, fd, pin and unpin;
 * the module table is at the top of the stack; methods and meta may be
 * NULL. */
void ebpfdsl_lua_handle_class(lua_State *L, const struct ebpfdsl_lua_handle *h, const luaL_Reg *methods,
			      const luaL_Reg *meta);

#endif
