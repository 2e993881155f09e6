/* SPDX-License-Identifier: MIT */
/* What every file of the binding shares: class registration, the
 * nil-message-errno convention, and checks for closed handles. */
#ifndef EBPFDSL_LUA_UTIL_H
#define EBPFDSL_LUA_UTIL_H

#include <lua.h>
#include <lauxlib.h>
#include "../ebpfdsl.h"

/* Each wrapped type and each group of module functions opens itself into
 * the module table at the top of the stack. */
void ebpfdsl_lua_open_asm(lua_State *L);
void ebpfdsl_lua_open_builder(lua_State *L);
void ebpfdsl_lua_open_disasm(lua_State *L);
void ebpfdsl_lua_open_isa(lua_State *L);
void ebpfdsl_lua_open_prog(lua_State *L);
void ebpfdsl_lua_open_prog_defs(lua_State *L);
void ebpfdsl_lua_open_prog_load(lua_State *L);
void ebpfdsl_lua_open_arch(lua_State *L);
void ebpfdsl_lua_open_tracefs(lua_State *L);
void ebpfdsl_lua_open_map(lua_State *L);
void ebpfdsl_lua_open_layout(lua_State *L);
void ebpfdsl_lua_open_ringbuf(lua_State *L);
void ebpfdsl_lua_open_perfbuf(lua_State *L);
void ebpfdsl_lua_open_user_ringbuf(lua_State *L);
void ebpfdsl_lua_open_explain(lua_State *L);
void ebpfdsl_lua_open_symtab(lua_State *L);
void ebpfdsl_lua_open_features(lua_State *L);

/* Layouts for other parts of the binding (maps, ring buffers): the
 * ebpfdsl.Layout at idx or NULL, and a record at p decoded into a table
 * pushed on the stack (raises when len is short of the layout's size). */
const ebpfdsl_layout *ebpfdsl_lua_tolayout(lua_State *L, int idx);
int ebpfdsl_lua_layout_push(lua_State *L, int idx, const void *p, size_t len);

/* Many records of one ebpfdsl.Layout (the readers' hot loops): the layout
 * is checked and its tables found once, by init, which pushes two tables
 * and (for a flat layout) the name of each value: they must stay where
 * they are while the decoder is used. Records must be at least the
 * layout's size (the caller checks). */
struct layout;
struct ebpfdsl_lua_decoder {
	const struct layout *u;
	size_t size;    /* the layout's size */
	int nvalues;    /* top-level values: fields that are not padding */
	int names;      /* stack index: the field names of each layout of the tree */
	int keys;       /* stack index: the top level's field names */
	int first;      /* stack index: the name of each top-level value, in
			 * order (flat layouts, `many`), or 0 */
};
/* `many`: records will follow in numbers, worth copying each field's
 * name to the stack for (one record: worth nothing). */
void ebpfdsl_lua_decoder_init(lua_State *L, int idx, struct ebpfdsl_lua_decoder *d, int many);
/* Pushes the record as a new table, or (into != 0) fills the table at
 * stack index `into` and pushes it. */
void ebpfdsl_lua_decode(lua_State *L, const struct ebpfdsl_lua_decoder *d, const void *p, size_t len, int into);
/* Pushes the top-level values in field order (nested ones as new
 * tables); returns how many (d->nvalues). */
int ebpfdsl_lua_decode_values(lua_State *L, const struct ebpfdsl_lua_decoder *d, const void *p, size_t len);
/* Sets t[field] = the list of that field's values in the n records
 * recs[k] (lens[k] bytes), for each top-level field, in the table t at
 * stack index cols: new lists. */
void ebpfdsl_lua_decode_columns(lua_State *L, const struct ebpfdsl_lua_decoder *d, const void *const *recs,
				const size_t *lens, size_t n, int cols);
/* Pushes the name of top-level value i (from 0). */
void ebpfdsl_lua_decoder_name(lua_State *L, const struct ebpfdsl_lua_decoder *d, int i);
void ebpfdsl_lua_open_link(lua_State *L);
void ebpfdsl_lua_open_attach(lua_State *L); /* after prog: adds prog:attach_* */
/* A new ebpfdsl.Link, closed, pushed before anything is attached:
 * link:prog() gives the value at prog_idx, and the one at owner_idx is
 * kept alive with it (0: none). Store the link in the slot it returns. */
ebpfdsl_link **ebpfdsl_lua_new_link(lua_State *L, int prog_idx, int owner_idx);

void ebpfdsl_lua_open_btf(lua_State *L);
void ebpfdsl_lua_open_btfw(lua_State *L);
void ebpfdsl_lua_open_object(lua_State *L);
/* after btf: b:encode, b:decode, and suggest() */
void ebpfdsl_lua_open_btf_value(lua_State *L);
/* btf: the BTF handle at idx (NULL for nil); prog: pushes a new closed
 * ebpfdsl.Prog with the program bytes at insns_idx (0: none), attach_type
 * -1 when unknown, and returns where its fd goes: the caller opens the fd
 * after the push (which may raise) and stores it there, handing it over. */
const ebpfdsl_btf *ebpfdsl_lua_tobtf(lua_State *L, int idx);
int *ebpfdsl_lua_push_prog(lua_State *L, int type, int attach_type, const char *name, int insns_idx);
/* Pushes a verifier log with its instruction lines in our disassembly
 * (labels: slot names, or NULL). */
void ebpfdsl_lua_push_annotated(lua_State *L, const char *log, const struct bpf_insn *insns, size_t cnt,
				const struct ebpfdsl_label *labels, size_t nlabels);

/* Creates the metatable `tname` with __index = methods, the given
 * metamethods and __name; leaves the stack as it was. */
void ebpfdsl_lua_class(lua_State *L, const char *tname, const luaL_Reg *methods, const luaL_Reg *meta);
/* Adds methods to those of the class tname, made before (by another file:
 * prog:attach_* to ebpfdsl.Prog); as with luaL_setfuncs they share the
 * nup values on top of the stack, which are popped. */
void ebpfdsl_lua_class_extend(lua_State *L, const char *tname, const luaL_Reg *methods, int nup);

/* Environment failures: pushes nil, "<what>: <strerror>", errno and returns
 * 3, as luaL_fileresult does. `err` is an errno value, either sign. */
int ebpfdsl_lua_fail(lua_State *L, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same, with what libbpf said during the failed call (ebpfdsl_libbpf_said)
 * as " (libbpf: ...)": for calls whose only result is an errno. */
int ebpfdsl_lua_fail_libbpf(lua_State *L, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with a message that already says what failed and why. */
int ebpfdsl_lua_fail_msg(lua_State *L, int err, const char *msg);

/* t[k] = v for the table at the top of the stack. */
void ebpfdsl_lua_set_int(lua_State *L, const char *k, lua_Integer v);
void ebpfdsl_lua_set_str(lua_State *L, const char *k, const char *v);
void ebpfdsl_lua_set_bool(lua_State *L, const char *k, int v);

/* 1 with *v when the value at idx is a number with an integer value (no
 * string coercion: "1" is not one; 1.0 is, 1.5 is not); else 0. Inline:
 * encode runs it for every scalar of every record. */
static inline int ebpfdsl_lua_getinteger(lua_State *L, int idx, lua_Integer *v)
{
	int isnum;
	if (lua_type(L, idx) != LUA_TNUMBER)
		return 0;
	*v = lua_tointegerx(L, idx, &isnum);
	return isnum;
}
/* Reads an optional integer field of the table at idx (raw: no
 * metamethods); raises on a value of another type, naming the field. */
lua_Integer ebpfdsl_lua_optint_field(lua_State *L, int idx, const char *field, lua_Integer def);
/* Same for an optional string field; returns def when absent. The
 * string lives as long as the table holds it. */
const char *ebpfdsl_lua_optstr_field(lua_State *L, int idx, const char *field, const char *def, size_t *len);

/* The fd of the value at idx: an integer, an io file, or an object whose
 * :fd() (maps, programs, links) or :getfd() (LuaSocket) method gives one.
 * Raises otherwise, the message starting with `what`. */
int ebpfdsl_lua_tofd(lua_State *L, int idx, const char *what);
/* Whether the value at idx has a callable field `name` (userdata without
 * __index have none). */
int ebpfdsl_lua_has_method(lua_State *L, int idx, const char *name);
/* A name the kernel keeps for a map or program: at most 15 letters,
 * digits, '_' or '.'. */
int ebpfdsl_lua_valid_name(const char *s);

/* Pins, one way for maps, programs and links. The path at idx, which
 * must be absolute (else an argument error is raised). */
const char *ebpfdsl_lua_pin_path(lua_State *L, int idx);
/* " (its directory is not on a bpf filesystem)" when that explains err
 * for path, else "". */
const char *ebpfdsl_lua_pin_hint(int err, const char *path);
/* The same for an unpin, which also names a pin of another object (EEXIST). */
const char *ebpfdsl_lua_unpin_hint(int err, const char *path);
/* The fd of the object of `kind` (EBPFDSL_OBJ_*) pinned at the path at
 * idx; or pushes nil, "<what> <path>: <why>", errno and returns -1. */
int ebpfdsl_lua_open_pin(lua_State *L, int idx, int kind, const char *what);
/* obj:pin(path) for the object at 1 with the path at 2: pins fd there
 * and remembers the path in the object's user value uv. 0 or -errno. */
int ebpfdsl_lua_pin(lua_State *L, int fd, int uv);
/* obj:unpin([path]) for the object at 1: removes the pin at the path at
 * 2, or (none given) the one remembered in user value uv, raising when
 * there is none ("this <noun> was not pinned through this handle"); the
 * remembered path is forgotten when it is the one removed. Leaves the
 * path at 2. 0 or -errno. */
int ebpfdsl_lua_unpin(lua_State *L, int fd, int uv, const char *noun);

/* Pushes the list of the names name(i) gives for i in from .. to-1 (NULL:
 * none there); returns 1, as a module function does. */
int ebpfdsl_lua_push_names(lua_State *L, const char *(*name)(int), int from, int to);
/* t[name] = a method returning user value uv of its tname object, for
 * the table t at the top of the stack (Prog:insns(), Link:prog()). */
void ebpfdsl_lua_set_uv_getter(lua_State *L, const char *tname, const char *name, int uv);

#endif
