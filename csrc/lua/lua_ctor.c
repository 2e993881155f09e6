/* SPDX-License-Identifier: MIT */
/* The DSL's common words in C, one per ISA row of a shape SIGS holds: the
 * arguments each takes, read once (ebpfdsl_lua_word_args) for both the
 * constructors here (the plain tables dsl.lua's words build, without a Lua
 * frame) and the builder's methods (lua_builder.c, no table at all). */
#include <string.h>
#include "lua_asm.h"

/* The arguments of a shape's words, in order, as dsl.lua's SHAPES has
 * them: d dst, s src (registers), z size, o off, O off or nothing (0),
 * i imm (integers), x src or imm, g target or off, h a helper by name.
 * NULL: no C word; the Lua one builds it. */
static const char *const SIGS[] = {
	[EBPFDSL_SHAPE_ALU] = "dx",   [EBPFDSL_SHAPE_JCOND] = "dxg", [EBPFDSL_SHAPE_JA] = "g",
	[EBPFDSL_SHAPE_GOTOL] = "g",  [EBPFDSL_SHAPE_CALL] = "h",    [EBPFDSL_SHAPE_EXIT] = "",
	[EBPFDSL_SHAPE_LDDW] = "di",  [EBPFDSL_SHAPE_LDX] = "zdsO",  [EBPFDSL_SHAPE_LDSX] = "zdsO",
	[EBPFDSL_SHAPE_ST] = "zdoi",  [EBPFDSL_SHAPE_STX] = "zdos",  [EBPFDSL_SHAPE_RAW] = NULL,
};

const char *ebpfdsl_lua_word_sig(int op)
{
	return SIGS[ebpfdsl_isa_row(op)->shape];
}

/* What the string at idx stands for, less `base`, if in 0..n-1; else -1. */
static int known_in(lua_State *L, const struct names *n, int idx, int base, int count)
{
	int k = ebpfdsl_lua_known(n, lua_topointer(L, idx)) - base;
	return k >= 0 && k < count ? k : -1;
}

int ebpfdsl_lua_word_args(lua_State *L, const struct names *n, int op, int base, struct ebpfdsl_op *o)
{
	const char *sig = ebpfdsl_lua_word_sig(op);
	lua_Integer v = 0;
	memset(o, 0, sizeof(*o));
	o->op = op;
	for (int at = base; *sig; sig++, at++) {
		switch (*sig) {
		case 'd':
			if ((o->dst = known_in(L, n, at, REG_(0), BPF_REG_10 + 1)) < 0)
				return 0;
			o->has |= EBPFDSL_HAS_DST;
			break;
		case 'x':
			if (ebpfdsl_lua_getinteger(L, at, &v)) {
				o->imm = v;
				o->has |= EBPFDSL_HAS_IMM;
				break;
			}
			/* else a register */
			/* fall through */
		case 's':
			if ((o->src = known_in(L, n, at, REG_(0), BPF_REG_10 + 1)) < 0)
				return 0;
			o->has |= EBPFDSL_HAS_SRC;
			break;
		case 'z':
			if ((o->size = known_in(L, n, at, SIZE_(0), 32)) < 0)
				return 0;
			o->has |= EBPFDSL_HAS_SIZE;
			break;
		case 'g':
			if (lua_type(L, at) == LUA_TSTRING) {
				o->target = lua_tostring(L, at); /* the caller keeps it */
				o->has |= EBPFDSL_HAS_TARGET;
				break;
			}
			/* else a distance */
			/* fall through */
		case 'O':
		case 'o':
			v = 0;
			if (!(*sig == 'O' && lua_isnoneornil(L, at)) && !ebpfdsl_lua_getinteger(L, at, &v))
				return 0;
			o->off = v;
			o->has |= EBPFDSL_HAS_OFF;
			break;
		case 'i':
			if (!ebpfdsl_lua_getinteger(L, at, &v))
				return 0;
			o->imm = v;
			o->has |= EBPFDSL_HAS_IMM;
			break;
		case 'h': /* the header's names; ids and bpf_ names go the Lua way */
			if (lua_type(L, at) != LUA_TSTRING || (o->imm = known_in(L, n, at, HELPER_(1), 1 << 20) + 1) <= 0)
				return 0;
			o->has |= EBPFDSL_HAS_IMM;
			break;
		}
	}
	return 1;
}

/* ---------------------------------------------------------------------
 * The constructors
 * --------------------------------------------------------------------- */

/* Upvalues of each constructor: its op and the names, its name, the Lua
 * word, then the keys: interned strings, set raw in the order the Lua
 * words write them (so that pairs() walks both alike). */
struct ctor {
	int op;
	const struct names *n; /* the registry keeps them */
};
enum { UP_CTOR = 1, UP_OP, UP_LUA, UP_KEYS };
static const char *const KEYS[] = { "op", "dst", "src", "imm", "off", "size", "target", "helper", "name" };
enum { C_OP, C_DST, C_SRC, C_IMM, C_OFF, C_SIZE, C_TARGET, C_HELPER, C_NAME, C_COUNT };

/* t[key] = value at idx, for the table on top */
static void set(lua_State *L, int key, int idx)
{
	lua_pushvalue(L, lua_upvalueindex(UP_KEYS + key));
	lua_pushvalue(L, idx);
	lua_rawset(L, -3);
}

static void set_int(lua_State *L, int key, lua_Integer v)
{
	lua_pushvalue(L, lua_upvalueindex(UP_KEYS + key));
	lua_pushinteger(L, v);
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

/* The word of a row, its arguments read by its shape's signature. */
static int c_word(lua_State *L)
{
	const struct ctor *c = lua_touserdata(L, lua_upvalueindex(UP_CTOR));
	const char *sig = ebpfdsl_lua_word_sig(c->op);
	struct ebpfdsl_op o;
	int at = 1;
	if (!ebpfdsl_lua_word_args(L, c->n, c->op, 1, &o))
		return lua_word(L);
	lua_createtable(L, 0, (int)strlen(sig) + 1 + (*sig == 'h'));
	set(L, C_OP, lua_upvalueindex(UP_OP));
	for (; *sig; sig++, at++) {
		switch (*sig) {
		case 'd': set(L, C_DST, at); break;
		case 's': set(L, C_SRC, at); break;
		case 'z': set(L, C_SIZE, at); break;
		case 'o':
		case 'O': set_int(L, C_OFF, o.off); break;
		case 'i': set_int(L, C_IMM, o.imm); break;
		case 'x':
			if (lua_type(L, at) == LUA_TSTRING)
				set(L, C_SRC, at);
			else
				set_int(L, C_IMM, o.imm);
			break;
		case 'g':
			if (lua_type(L, at) == LUA_TSTRING)
				set(L, C_TARGET, at);
			else
				set_int(L, C_OFF, o.off);
			break;
		case 'h':
			set_int(L, C_IMM, o.imm);
			set(L, C_HELPER, at);
			break;
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
static void add(lua_State *L, const struct names *n, const char *name, int op, lua_CFunction fn)
{
	struct ctor *c;
	if (lua_getfield(L, 1, name) != LUA_TFUNCTION) {
		lua_pop(L, 1);
		return;
	}
	c = lua_newuserdatauv(L, sizeof(*c), 0);
	c->op = op;
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
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	n = ebpfdsl_lua_asm_names(L);
	for (int op = 0; op < EBPFDSL_OP_COUNT_; op++)
		if (ebpfdsl_lua_word_sig(op))
			add(L, n, ebpfdsl_isa_row(op)->name, op, c_word);
	add(L, n, "label", -1, c_label);
	return 0;
}
