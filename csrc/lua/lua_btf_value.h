/* SPDX-License-Identifier: MIT */
/* Lua values to and from bytes laid out as a BTF type says (object
 * variables; lua_btf_value.c). */
#ifndef EBPFDSL_LUA_BTF_VALUE_H
#define EBPFDSL_LUA_BTF_VALUE_H

#include "lua_util.h"

/* Writes the Lua value at idx into buf as BTF type `type`: buf holds the
 * current bytes, and what the value does not name (members a table
 * leaves out, elements past a list's end) keeps them. Raises on misuse,
 * "<what>: <name> is <type>: <why>", naming the member reached. */
void ebpfdsl_lua_btf_put(lua_State *L, const ebpfdsl_btf *b, uint32_t type, int idx, void *buf, const char *what,
			 const char *name);
/* Pushes the value of type `type` in buf: integers, booleans, enum
 * names (integers where no name fits), numbers, strings for char and
 * byte arrays, lists, tables of members. */
void ebpfdsl_lua_btf_push(lua_State *L, const ebpfdsl_btf *b, uint32_t type, const void *buf);
/* The type as C spells it, const and volatile left out. */
void ebpfdsl_lua_btf_type_text(const ebpfdsl_btf *b, uint32_t type, char *buf, size_t len);

#endif
