/* SPDX-License-Identifier: MIT */
/* What the files of ebpfdsl.Link share (lua_link.c, the object; lua_iter.c,
 * its iterator methods; lua_attach.c, the prog:attach_* that make links). */
#ifndef EBPFDSL_LUA_LINK_H
#define EBPFDSL_LUA_LINK_H

#include "lua_handle.h"

#define EBPFDSL_LINK_CLASS "ebpfdsl.Link"

/* The open link at idx; raises "attempt to use a closed ebpfdsl.Link". */
ebpfdsl_link *ebpfdsl_lua_link_check_open(lua_State *L, int idx);
/* Finishes an attach into the Link whose slot ebpfdsl_lua_new_link gave:
 * when e is 0 the link goes into the slot and the Link (on top) is the
 * result; else nil, err, -e. Returns the number of results. */
int ebpfdsl_lua_link_finish(lua_State *L, ebpfdsl_link **slot, int e, ebpfdsl_link *l, const char *err);
/* lua_iter.c: makes ebpfdsl.Iter and adds open_iter and read_iter to the
 * Link's methods. */
void ebpfdsl_lua_open_iter(lua_State *L);

#endif
