/* SPDX-License-Identifier: MIT */
/* What assemble (lua_asm.c) and the builder (lua_builder.c) share: names
 * known by the address of their interned strings, and the reading of
 * instruction tables into an assembler. */
#ifndef EBPFDSL_LUA_ASM_H
#define EBPFDSL_LUA_ASM_H

#include <stdint.h>
#include "lua_util.h"

/* The fields of an instruction table, then the label's. */
enum { K_OP, K_DST, K_SRC, K_IMM, K_OFF, K_SIZE, K_BITS, K_TARGET, K_HELPER, K_VALUE_OFFSET, K_CODE, K_MAP,
       K_NAME, K_LABEL, K_COUNT };

/* What an address stands for: a key, a register (r10 for "fp"), a size
 * (EBPFDSL_SIZE_*), a mnemonic or a helper. */
#define KEY_(k) (k)
#define REG_(r) (K_COUNT + (r))
#define SIZE_(s) (K_COUNT + 16 + (s))
#define OP_(op) (K_COUNT + 16 + 32 + (op))
#define HELPER_(id) (K_COUNT + 16 + 32 + 512 + (id))

#define KNOWN_SLOTS 1024 /* a power of 2, over twice the names */

/* Lua keeps one copy of each short string (up to 40 bytes): while these
 * are anchored (in the user value of the names userdata, kept in the
 * registry), a key, a mnemonic or a register is one of them exactly when
 * lua_topointer gives its address, so instruction tables and builder
 * arguments are read without a strcmp. Per Lua state, as the strings. */
struct names {
	const void *at[KNOWN_SLOTS]; /* open addressing by address */
	int what[KNOWN_SLOTS];
};

static inline size_t ebpfdsl_lua_names_slot(const void *p)
{
	return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B1u) & (KNOWN_SLOTS - 1);
}

/* What the string at p (from lua_topointer) stands for, or -1. */
static inline int ebpfdsl_lua_known(const struct names *n, const void *p)
{
	for (size_t k = ebpfdsl_lua_names_slot(p); n->at[k]; k = (k + 1) & (KNOWN_SLOTS - 1))
		if (n->at[k] == p)
			return n->what[k];
	return -1;
}

/* The names of this Lua state, made on first use. */
const struct names *ebpfdsl_lua_asm_names(lua_State *L);

/* Reads assemble's options table at idx (0: none) into o. */
void ebpfdsl_lua_asm_opts(lua_State *L, int idx, struct ebpfdsl_asm_opts *o, const char *what);

/* Feeds the list (or instruction) at idx to a, as assemble does; maps the
 * instructions name are added to the table at maps (a set and a list,
 * *nmaps long), so that a program can keep them alive. Raises on misuse. */
void ebpfdsl_lua_asm_emit(lua_State *L, ebpfdsl_asm *a, int idx, int maps, int *nmaps);

/* Pushes what assemble returns for the finalized a: bytes, labels
 * {[slot] = name}, the list of maps (from the table at maps). */
void ebpfdsl_lua_asm_results(lua_State *L, ebpfdsl_asm *a, int maps, int nmaps);

/* The arguments of a C word, as its letters say: what each takes (kind)
 * and the field it fills (key), for lua_ctor.c. */
struct word_sig {
	int op, n;
	unsigned char kind[6], key[6];
};

/* Fills sig for row op; 0 when the row has no C word. */
int ebpfdsl_lua_word_prepare(int op, struct word_sig *sig);

/* Reads the arguments of a word from the stack at base.. into o: the
 * usual ones only (registers and sizes by name, integers, label names,
 * helpers by the header's name); 0 for anything else, which the DSL's Lua
 * word checks, says what is wrong with, or builds. */
int ebpfdsl_lua_word_args(lua_State *L, const struct names *n, const struct word_sig *sig, int base,
			  struct ebpfdsl_op *o);

/* core.constructors(words) (lua_ctor.c): the DSL words in C. */
int ebpfdsl_lua_constructors(lua_State *L);

#endif
