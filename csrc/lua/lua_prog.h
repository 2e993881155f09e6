/* SPDX-License-Identifier: MIT */
/* What the files of ebpfdsl.Prog share: the object (lua_prog.c) that
 * programs.load (lua_prog_load.c) creates closed and opens. */
#ifndef EBPFDSL_LUA_PROG_H
#define EBPFDSL_LUA_PROG_H

#include "lua_handle.h"

#define EBPFDSL_PROG_CLASS "ebpfdsl.Prog"

/* user values: the program bytes, its labels {[slot]=name}, the maps its
 * instructions name (kept alive as long as the program is), the path it
 * was pinned at by this handle */
enum { PROG_UV_INSNS = 1, PROG_UV_LABELS, PROG_UV_MAPS, PROG_UV_PIN, PROG_UV_COUNT = PROG_UV_PIN };

struct prog {
	int fd; /* -1: closed */
	int type;
	int attach_type; /* -1: none given */
	char name[BPF_OBJ_NAME_LEN];
};

/* its handle row (lua_handle.h) */
extern const struct ebpfdsl_lua_handle ebpfdsl_lua_prog_handle;

#endif
