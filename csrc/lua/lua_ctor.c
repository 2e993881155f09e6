/* SPDX-License-Identifier: MIT */
/* The DSL's common words in C, one per ISA row whose shape says so: the
 * arguments each takes, read once (ebpfdsl_lua_word_args) for both the
 * constructors here (the plain tables dsl.lua's words build, without a Lua
 * frame) and the builder's methods (lua_builder.c, no table at all). */
#include <limits.h>
#include <string.h>
#include "lua_asm.h"

/* The letters of a word's arguments (the shape rows' words, isa.c): d dst,
 * s src (registers); z size; o off, O off or nothing (0), i imm, I imm or
 * nothing, b bits, V value_offset or nothing (integers); x src or imm; g
 * target or off, G target or imm; h a helper; m a map or its fd where the
 * row's pseudo source is a map's (aux 1 or 2), else an integer. dsl.lua
 * makes its Lua words from the same rows (core.isa()'s words). */

/* The fields of the tables, by what lua_asm.c calls them. */
static const char *const KEYS[] = { "op", "dst", "src", "imm", "off", "size", "bits", "target", "helper",
				    "value_offset", "name" };
enum { C_OP, C_DST, C_SRC, C_IMM, C_OFF, C_SIZE, C_BITS, C_TARGET, C_HELPER, C_VALUE_OFFSET, C_NAME, C_COUNT };

/* What a letter takes and the field it fills. */
enum { REG, SIZE, INT, OPT_INT, SRC_OR_IMM, JUMP, HELPER };
static const struct letter {
	char c;
	unsigned char kind, key;
} LETTERS[] = {
	{ 'd', REG, C_DST },  { 's', REG, C_SRC },     { 'z', SIZE, C_SIZE },           { 'o', INT, C_OFF },
	{ 'O', OPT_INT, C_OFF }, { 'i', INT, C_IMM }, { 'I', OPT_INT, C_IMM },         { 'm', INT, C_IMM },
	{ 'b', INT, C_BITS }, { 'V', OPT_INT, C_VALUE_OFFSET }, { 'x', SRC_OR_IMM, C_IMM },
	{ 'g', JUMP, C_OFF }, { 'G', JUMP, C_IMM },     { 'h', HELPER, C_IMM },
};

int ebpfdsl_lua_word_prepare(int op, struct word_sig *sig)
{
	int in_c;
	const char *c = ebpfdsl_shape_words(ebpfdsl_isa_row(op)->shape, &in_c);
	if (!c || !in_c)
		return 0;
	sig->op = op;
	for (sig->n = 0; c[sig->n]; sig->n++) {
		const struct letter *l = LETTERS;
		while (l->c != c[sig->n])
			l++;
		sig->kind[sig->n] = l->kind;
		sig->key[sig->n] = l->key;
	}
	return 1;
}

/* What the string at idx stands for, less `base`, if in 0..count-1; else -1. */
static inline int known_in(lua_State *L, const struct names *n, int idx, int base, int count)
{
	int k = ebpfdsl_lua_known(n, lua_topointer(L, idx)) - base;
	return k >= 0 && k < count ? k : -1;
}

/* The integer field `key` of o (bits aside). */
static inline int64_t *int_field(struct ebpfdsl_op *o, int key)
{
	return key == C_OFF ? &o->off : key == C_IMM ? &o->imm : &o->aux;
}

static const unsigned HAS[C_COUNT] = { [C_DST] = EBPFDSL_HAS_DST, [C_SRC] = EBPFDSL_HAS_SRC,
	[C_IMM] = EBPFDSL_HAS_IMM, [C_OFF] = EBPFDSL_HAS_OFF, [C_SIZE] = EBPFDSL_HAS_SIZE, [C_BITS] = EBPFDSL_HAS_BITS,
	[C_TARGET] = EBPFDSL_HAS_TARGET, [C_VALUE_OFFSET] = EBPFDSL_HAS_AUX };

static inline int read_args(lua_State *L, const struct names *n, const struct word_sig *sig, int base,
			     struct ebpfdsl_op *o)
{
	memset(o, 0, sizeof(*o));
	o->op = sig->op;
	for (int i = 0, at = base; i < sig->n; i++, at++) {
		int key = sig->key[i], k;
		lua_Integer v = 0;
		switch (sig->kind[i]) {
		case REG:
			if ((k = known_in(L, n, at, REG_(0), BPF_REG_10 + 1)) < 0)
				return 0;
			*(key == C_DST ? &o->dst : &o->src) = k;
			break;
		case SIZE:
			if ((o->size = known_in(L, n, at, SIZE_(0), 32)) < 0)
				return 0;
			break;
		case SRC_OR_IMM:
			if (ebpfdsl_lua_getinteger(L, at, &v)) {
				o->imm = v;
			} else if ((o->src = known_in(L, n, at, REG_(0), BPF_REG_10 + 1)) >= 0) {
				key = C_SRC;
			} else {
				return 0;
			}
			break;
		case JUMP:
			if (lua_type(L, at) == LUA_TSTRING) {
				o->target = lua_tostring(L, at); /* the caller keeps it */
				key = C_TARGET;
				break;
			}
			/* else a distance */
			/* fall through */
		case OPT_INT:
		case INT:
			if (!(sig->kind[i] == OPT_INT && lua_isnoneornil(L, at)) && !ebpfdsl_lua_getinteger(L, at, &v))
				return 0;
			if (key != C_BITS)
				*int_field(o, key) = v;
			else if (v >= INT_MIN && v <= INT_MAX) /* else the Lua word's message */
				o->bits = (int)v;
			else
				return 0;
			break;
		case HELPER: /* the header's names; ids and bpf_ names go the Lua way */
			if (lua_type(L, at) != LUA_TSTRING || (k = known_in(L, n, at, HELPER_(1), 1 << 20)) < 0)
				return 0;
			o->imm = k + 1;
			break;
		}
		o->has |= HAS[key];
	}
	return 1;
}

int ebpfdsl_lua_word_args(lua_State *L, const struct names *n, const struct word_sig *sig, int base,
			  struct ebpfdsl_op *o)
{
	return read_args(L, n, sig, base, o);
}

/* ---------------------------------------------------------------------
 * The constructors
 * --------------------------------------------------------------------- */

/* Upvalues of each constructor: its op and the names, its name, the Lua
 * word, then the keys: interned strings, set raw in argument order, as
 * the Lua words write them (so that pairs() walks both alike). */
struct ctor {
	struct word_sig sig;
	const struct names *n; /* the registry keeps them */
};
enum { UP_CTOR = 1, UP_OP, UP_LUA, UP_KEYS };

/* t[key] = value at idx, for the table on top */
static void set(lua_State *L, int key, int idx)
{
	lua_pushvalue(L, lua_upvalueindex(UP_KEYS + key));
	lua_pushvalue(L, idx);
	lua_rawset(L, -3);
}

/* The Lua word with these arguments: it says what is wrong, at the
 * caller's line (dsl.lua's blame passes over these C functions), or
 * builds what the C side leaves to it. */
static int lua_word(lua_State *L)
{
	int n = lua_gettop(L);
	lua_pushvalue(L, lua_upvalueindex(UP_LUA));
	lua_insert(L, 1);
	lua_call(L, n, 1);
	return 1;
}

static void set_int(lua_State *L, int key, lua_Integer v)
{
	lua_pushvalue(L, lua_upvalueindex(UP_KEYS + key));
	lua_pushinteger(L, v);
	lua_rawset(L, -3);
}

/* The word of a row: its arguments read as the builder reads them, the
 * table made from what was read. */
static int c_word(lua_State *L)
{
	const struct ctor *c = lua_touserdata(L, lua_upvalueindex(UP_CTOR));
	const struct word_sig *sig = &c->sig;
	struct ebpfdsl_op o;
	if (!read_args(L, c->n, sig, 1, &o))
		return lua_word(L);
	lua_createtable(L, 0, sig->n + 2);
	set(L, C_OP, lua_upvalueindex(UP_OP));
	for (int i = 0, at = 1; i < sig->n; i++, at++) {
		int key = sig->key[i];
		switch (sig->kind[i]) {
		case REG:
		case SIZE: set(L, key, at); break;
		case SRC_OR_IMM:
			if (o.has & EBPFDSL_HAS_SRC)
				set(L, C_SRC, at);
			else
				set_int(L, C_IMM, o.imm);
			break;
		case JUMP:
			if (lua_type(L, at) == LUA_TSTRING)
				set(L, C_TARGET, at);
			else
				set_int(L, key, *int_field(&o, key));
			break;
		case HELPER:
			set_int(L, C_IMM, o.imm);
			set(L, C_HELPER, at); /* the name too, as dsl.call gives it */
			break;
		default: set_int(L, key, key == C_BITS ? o.bits : *int_field(&o, key)); break;
		}
	}
	return 1;
}

/* label(name) */
static int c_label(lua_State *L)
{
	size_t len;
	if (lua_type(L, 1) != LUA_TSTRING || (lua_tolstring(L, 1, &len), len == 0))
		return lua_word(L);
	lua_createtable(L, 0, 2);
	set(L, C_OP, lua_upvalueindex(UP_OP));
	set(L, C_NAME, 1);
	return 1;
}

/* Sets words[name] to the C word fn, when words has a Lua one. */
static void add(lua_State *L, const struct names *n, const char *name, const struct word_sig *sig,
		lua_CFunction fn)
{
	struct ctor *c;
	if (lua_getfield(L, 1, name) != LUA_TFUNCTION) {
		lua_pop(L, 1);
		return;
	}
	c = lua_newuserdatauv(L, sizeof(*c), 0);
	c->sig = *sig;
	c->n = n;
	lua_pushstring(L, name);
	lua_rotate(L, -3, 2); /* ctor, name, the Lua word */
	for (int k = 0; k < C_COUNT; k++)
		lua_pushstring(L, KEYS[k]);
	lua_pushcclosure(L, fn, UP_KEYS - 1 + C_COUNT);
	lua_setfield(L, 1, name);
}

/* constructors(words): replaces the words the C side has a signature
 * for (by each ISA row's shape, and label) with a C word; each calls the
 * word it replaced for the arguments it leaves aside. */
int ebpfdsl_lua_constructors(lua_State *L)
{
	const struct names *n;
	struct word_sig sig = { .op = -1 };
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	n = ebpfdsl_lua_asm_names(L);
	add(L, n, "label", &sig, c_label);
	for (int op = 0; op < EBPFDSL_OP_COUNT_; op++)
		if (ebpfdsl_lua_word_prepare(op, &sig))
			add(L, n, ebpfdsl_isa_row(op)->name, &sig, c_word);
	return 0;
}
