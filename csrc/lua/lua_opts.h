/* SPDX-License-Identifier: MIT */
/* Option descriptors: one row per field of a C options or info struct
 * (its Lua key, kind, offsetof, range or names, default), read from a Lua
 * table and pushed back into one by the same two functions for every struct. */
#ifndef EBPFDSL_LUA_OPTS_H
#define EBPFDSL_LUA_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include "lua_util.h"

enum ebpfdsl_lua_opt_kind {
	EBPFDSL_LUA_OPT_END = 0, /* the row ending a table */
	EBPFDSL_LUA_OPT_BOOL,    /* int: 0 or 1, from any Lua value's truth */
	EBPFDSL_LUA_OPT_INT,     /* int, within [min, max] */
	EBPFDSL_LUA_OPT_I64,     /* int64_t, within [min, max] */
	EBPFDSL_LUA_OPT_U32,     /* uint32_t, 0 .. 2^32-1 */
	EBPFDSL_LUA_OPT_U64,     /* uint64_t: any integer, as its 64 bits */
	EBPFDSL_LUA_OPT_STR,     /* const char *, alive while the table holds it */
	EBPFDSL_LUA_OPT_FD,      /* int: an fd, or an object with :fd() */
	EBPFDSL_LUA_OPT_ENUM,    /* int, from one of `names` */
	EBPFDSL_LUA_OPT_KNOWN,   /* a known key its caller reads by hand */
	EBPFDSL_LUA_OPT_INNER,   /* KNOWN, but set by our own Lua, not the user's
				  * (the caller's check, a checker, rejects it) */
	EBPFDSL_LUA_OPT_CHARS,   /* char[N], NUL-terminated: pushed only */
	EBPFDSL_LUA_OPT_NAMED,   /* int, pushed as name_of(it), else the number:
				  * pushed only (a map, program or attach type) */
};

/* A name an enum row accepts and the value it stands for; aliases are
 * accepted but not listed in messages. */
struct ebpfdsl_lua_optname {
	const char *name;
	int value;
	int alias;
};

struct ebpfdsl_lua_opt {
	const char *key;
	int kind;      /* enum ebpfdsl_lua_opt_kind */
	size_t offset; /* offsetof the field in the struct */
	int64_t def;   /* written when the key is absent (enums, ints, bools) */
	int64_t min, max; /* INT and I64 (both 0: the C type's whole range) */
	const struct ebpfdsl_lua_optname *names; /* ENUM, ended by a NULL name */
	const char *(*name_of)(int);             /* NAMED */
};

/* Rows, by kind: OPT_U64(struct x, "cookie", cookie) ... OPT_END. */
#define EBPFDSL_OPT_BOOL(T, k, f) { k, EBPFDSL_LUA_OPT_BOOL, offsetof(T, f), 0, 0, 0, NULL, NULL }
#define EBPFDSL_OPT_INT(T, k, f, d, lo, hi) { k, EBPFDSL_LUA_OPT_INT, offsetof(T, f), d, lo, hi, NULL, NULL }
#define EBPFDSL_OPT_I64(T, k, f, d, lo, hi) { k, EBPFDSL_LUA_OPT_I64, offsetof(T, f), d, lo, hi, NULL, NULL }
#define EBPFDSL_OPT_U32(T, k, f) { k, EBPFDSL_LUA_OPT_U32, offsetof(T, f), 0, 0, 0, NULL, NULL }
#define EBPFDSL_OPT_U64(T, k, f) { k, EBPFDSL_LUA_OPT_U64, offsetof(T, f), 0, 0, 0, NULL, NULL }
#define EBPFDSL_OPT_STR(T, k, f) { k, EBPFDSL_LUA_OPT_STR, offsetof(T, f), 0, 0, 0, NULL, NULL }
#define EBPFDSL_OPT_FD(T, k, f) { k, EBPFDSL_LUA_OPT_FD, offsetof(T, f), 0, 0, 0, NULL, NULL }
#define EBPFDSL_OPT_ENUM(T, k, f, d, n) { k, EBPFDSL_LUA_OPT_ENUM, offsetof(T, f), d, 0, 0, n, NULL }
#define EBPFDSL_OPT_CHARS(T, k, f) { k, EBPFDSL_LUA_OPT_CHARS, offsetof(T, f), 0, 0, 0, NULL, NULL }
#define EBPFDSL_OPT_KNOWN(k) { k, EBPFDSL_LUA_OPT_KNOWN, 0, 0, 0, 0, NULL, NULL }
#define EBPFDSL_OPT_INNER(k) { k, EBPFDSL_LUA_OPT_INNER, 0, 0, 0, 0, NULL, NULL }
#define EBPFDSL_OPT_NAMED(T, k, f, fn) { k, EBPFDSL_LUA_OPT_NAMED, offsetof(T, f), 0, 0, 0, NULL, fn }
#define EBPFDSL_OPT_END { NULL, EBPFDSL_LUA_OPT_END, 0, 0, 0, 0, NULL, NULL }

/* Fills the struct at out from the options table at idx (nil or none: every
 * default), raw reads only. Raises, naming `what`, on a key no row has
 * ("unknown field 'offest' (did you mean 'offset'?)"), a value of the
 * wrong type or out of range, or an unknown name. */
void ebpfdsl_lua_opts_read(lua_State *L, int idx, const char *what, const struct ebpfdsl_lua_opt *rows, void *out);
/* One row's value from the stack slot vidx into out (positional arguments
 * use it too); `argn` > 0 makes errors argument errors of that number. */
void ebpfdsl_lua_opt_read(lua_State *L, int vidx, const char *what, const struct ebpfdsl_lua_opt *row, void *out,
			  int argn);
/* The message for an unknown key k among the rows' keys, pushed. */
void ebpfdsl_lua_opts_push_unknown(lua_State *L, const char *what, const char *k, const struct ebpfdsl_lua_opt *rows);
/* Pushes a function(t) -> nil, or the message for t's first key no row
 * has (INNER rows not counted): the key check of a Lua function that
 * passes the table on to C, made before its own work and raised at its
 * caller's line (programs.load, maps.create). */
void ebpfdsl_lua_opts_push_checker(lua_State *L, const char *what, const struct ebpfdsl_lua_opt *rows);
/* Sets t[key] = the field for each row of the struct at s, into the table
 * at the top of the stack (STR rows: only when not NULL; ENUM rows: the
 * name, else the number; KNOWN and INNER rows: skipped). */
void ebpfdsl_lua_opts_push(lua_State *L, const void *s, const struct ebpfdsl_lua_opt *rows);

#endif
