/* SPDX-License-Identifier: MIT */
/* What the ring-buffer and perf-buffer bindings share: reading a layout
 * (duck-typed: size() and decode()), pushing a record as bytes or as the
 * layout decodes it, and the timeout argument. */
#ifndef EBPFDSL_LUA_READER_H
#define EBPFDSL_LUA_READER_H

#include "lua_util.h"

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
