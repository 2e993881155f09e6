/* SPDX-License-Identifier: MIT */
/* What the files of ebpfdsl.Layout share: the object (lua_layout.c builds
 * and queries it; lua_layout_codec.c decodes and encodes through it). */
#ifndef EBPFDSL_LUA_LAYOUT_H
#define EBPFDSL_LUA_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include "lua_util.h"

#define EBPFDSL_LAYOUT_CLASS "ebpfdsl.Layout"

/* user value 1: {[field index + 1] = nested Layout}, so that fields()
 * can hand back the very objects the layout was built from; 2: the field
 * names of each layout of the tree, for decoding; 3: {[light userdata of
 * each nested layout of the tree] = its Layout}, for field(path) */
#define EBPFDSL_LAYOUT_UV 3

struct layout {
	ebpfdsl_layout *l;               /* NULL until built */
	size_t nvalues;                  /* top-level fields that are not padding */
	struct ebpfdsl_layout_row *flat; /* the top-level values (nvalues rows) */
	int nested;                      /* a top-level value is NESTED: whole
					  * records go through the visitor */
};

/* The built layout at idx; raises on anything else. */
struct layout *ebpfdsl_lua_layout_check(lua_State *L, int idx);
/* lua_layout_codec.c: adds decode, decode_many and encode to the
 * Layout's methods. */
void ebpfdsl_lua_open_layout_codec(lua_State *L);

#endif
