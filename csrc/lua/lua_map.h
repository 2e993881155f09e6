/* SPDX-License-Identifier: MIT */
/* What the files of ebpfdsl.Map share: the object, its key and value
 * codecs, and the helpers that turn Lua values into map bytes and back. */
#ifndef EBPFDSL_LUA_MAP_H
#define EBPFDSL_LUA_MAP_H

#include <stdint.h>
#include "lua_handle.h"

#define EBPFDSL_MAP_CLASS "ebpfdsl.Map"

/* How keys or values appear in Lua. */
enum map_codec {
	CODEC_NONE,   /* size 0: queues, stacks, bloom filters have no key */
	CODEC_UINT,   /* integer, unsigned (sizes 1, 2, 4, 8) */
	CODEC_SINT,   /* integer, signed */
	CODEC_BYTES,  /* byte string of exactly the size */
	CODEC_LAYOUT, /* table through an object with :size/:encode/:decode */
	CODEC_FD,     /* in: fd, or an object with one; out: unsigned id */
	CODEC_LPM     /* lpm_trie key: {prefixlen=, data=} */
};

/* user values of a Map: layouts, objects kept alive per key, pin path */
enum { MAP_UV_KEY_LAYOUT = 1, MAP_UV_VALUE_LAYOUT, MAP_UV_KEEP, MAP_UV_PIN, MAP_UV_COUNT = MAP_UV_PIN };

struct map {
	int fd; /* -1: closed */
	struct ebpfdsl_map_info info; /* type, sizes, id, name: the kernel's */
	uint32_t vbytes; /* bytes of one value as the syscalls see it */
	int ncpus;       /* per-CPU types: possible CPUs; else 0 */
	uint8_t kcodec, vcodec;
};

/* The Map's handle row (lua_handle.h), and the Map at idx, open or not */
extern const struct ebpfdsl_lua_handle ebpfdsl_lua_map_handle;
#define ebpfdsl_map_check(L, idx) ((struct map *)ebpfdsl_lua_handle_check(L, idx, &ebpfdsl_lua_map_handle))
#define ebpfdsl_map_check_open(L, idx) ((struct map *)ebpfdsl_lua_handle_open(L, idx, &ebpfdsl_lua_map_handle))
/* nil, "<what> on <type> map '<name>': <strerror>", errno */
int ebpfdsl_map_fail(lua_State *L, const struct map *m, int err, const char *what);
/* The same for an operation on the element whose key is at key (its
 * index, for arrays, goes in the message). */
int ebpfdsl_map_fail_key(lua_State *L, const struct map *m, int err, const char *what, const void *key);

/* Codec from a spec field (nil, a type name such as "u32"/"i16"/"bytes"/
 * "fd"/"lpm", or a layout object at the top of the stack); fills *size
 * when the codec fixes it. Raises on misuse. */
int ebpfdsl_map_parse_codec(lua_State *L, int idx, const char *field, uint32_t *size, int *size_given);
/* The codec a map gets when the caller names none. */
int ebpfdsl_map_default_codec(int type, uint32_t size, int is_key);

/* Lua value at idx -> the key's or the value's bytes, copied into buf
 * (key_size or vbytes long); the stack is left as it was. The map
 * userdata is at map_idx, for its layouts. Raises on a value of the wrong
 * size or type. encode_key returns NULL for maps without keys. */
const void *ebpfdsl_map_encode_key(lua_State *L, int map_idx, int idx, void *buf);
const void *ebpfdsl_map_encode_value(lua_State *L, int map_idx, int idx, void *buf);
/* bytes -> Lua value, pushed */
void ebpfdsl_map_push_key(lua_State *L, int map_idx, const void *bytes);
void ebpfdsl_map_push_value(lua_State *L, int map_idx, const void *bytes);

/* Scratch memory owned by the GC (pushed on the stack), so that an error
 * raised while it is in use leaks nothing. */
void *ebpfdsl_map_scratch(lua_State *L, size_t n);

/* Remembers (or forgets, when obj_idx is 0) the object behind an fd
 * value, keyed by the key's bytes. */
void ebpfdsl_map_keep(lua_State *L, int map_idx, const void *key, size_t key_size, int obj_idx);
void ebpfdsl_map_keep_reset(lua_State *L, int map_idx);

/* "hash", as the kernel names the map's type; "?" when unknown */
const char *ebpfdsl_map_type_str(const struct map *m);

/* lua_map_elem.c: the element methods, added to the method table at -1,
 * and the metamethods m[k] (__index) and m[k] = v (nil deletes), both with
 * the method table as upvalue 1, and pairs(m) */
void ebpfdsl_lua_map_elem_methods(lua_State *L);
int ebpfdsl_map_index(lua_State *L);
int ebpfdsl_map_newindex(lua_State *L);
int ebpfdsl_map_pairs(lua_State *L);

/* lua_map_batch.c: the batch methods, added to the method table at -1 */
void ebpfdsl_lua_map_batch_methods(lua_State *L);

#endif
