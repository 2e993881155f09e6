/* SPDX-License-Identifier: MIT */
/* The DSL's common constructors (ALU, conditional jumps, loads and
 * stores, lddw, label, exit) in C, one per ISA row of their shape: the
 * same plain tables dsl.lua's build, without a Lua frame and its checks.
 * Anything but the usual arguments goes to the Lua constructor, which
 * says what is wrong. */
#include "lua_asm.h"

/* Upvalues of each constructor. The keys are interned strings kept as
 * upvalues, set raw in the order the Lua constructors write them (so that
 * pairs() walks both alike). */
enum { UP_NAMES = 1, UP_OP, UP_LUA, UP_K_OP, UP_K_DST, UP_K_SRC, UP_K_IMM, UP_K_OFF, UP_K_SIZE,
       UP_K_TARGET, UP_K_NAME, UP_COUNT = UP_K_NAME };

static const struct names *names(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(UP_NAMES));
}

static int is_reg(lua_State *L, const struct names *n, int idx)
{
	int r = ebpfdsl_lua_known(n, lua_topointer(L, idx)) - REG_(0);
	return r >= 0 && r <= BPF_REG_10;
}

static int is_size(lua_State *L, const struct names *n, int idx)
{
	int s = ebpfdsl_lua_known(n, lua_topointer(L, idx)) - SIZE_(0);
	return s >= 0 && s < 32;
}

/* t[key] = value at idx, for the table on top */
static void set(lua_State *L, int key, int idx)
{
	lua_pushvalue(L, lua_upvalueindex(key));
	lua_pushvalue(L, idx);
	lua_rawset(L, -3);
}

static void set_int(lua_State *L, int key, lua_Integer v)
{
	lua_pushvalue(L, lua_upvalueindex(key));
	lua_pushinteger(L, v);
	lua_rawset(L, -3);
}

/* A new table with op set, room for n fields in all. */
static void new_insn(lua_State *L, int n)
{
	lua_createtable(L, 0, n);
	set(L, UP_K_OP, lua_upvalueindex(UP_OP));
}

/* The Lua constructor with these arguments: it says what is wrong, at
 * the caller's line (dsl.lua's blame passes over these C functions). */
static int lua_ctor(lua_State *L)
{
	int n = lua_gettop(L);
	lua_pushvalue(L, lua_upvalueindex(UP_LUA));
	lua_insert(L, 1);
	lua_call(L, n, 1);
	return 1;
}

/* add(dst, reg or integer) */
static int c_alu(lua_State *L)
{
	const struct names *n = names(L);
	lua_Integer imm;
	if (!is_reg(L, n, 1))
		return lua_ctor(L);
	if (is_reg(L, n, 2)) {
		new_insn(L, 3);
		set(L, UP_K_DST, 1);
		set(L, UP_K_SRC, 2);
		return 1;
	}
	if (!ebpfdsl_lua_getinteger(L, 2, &imm))
		return lua_ctor(L);
	new_insn(L, 3);
	set(L, UP_K_DST, 1);
	set_int(L, UP_K_IMM, imm);
	return 1;
}

/* jeq(dst, reg or integer, label) */
static int c_jcond(lua_State *L)
{
	const struct names *n = names(L);
	lua_Integer imm;
	if (!is_reg(L, n, 1) || lua_type(L, 3) != LUA_TSTRING)
		return lua_ctor(L);
	if (is_reg(L, n, 2)) {
		new_insn(L, 4);
		set(L, UP_K_DST, 1);
		set(L, UP_K_SRC, 2);
		set(L, UP_K_TARGET, 3);
		return 1;
	}
	if (!ebpfdsl_lua_getinteger(L, 2, &imm))
		return lua_ctor(L);
	new_insn(L, 4);
	set(L, UP_K_DST, 1);
	set_int(L, UP_K_IMM, imm);
	set(L, UP_K_TARGET, 3);
	return 1;
}

/* lddw(dst, integer) */
static int c_lddw(lua_State *L)
{
	lua_Integer imm;
	if (!is_reg(L, names(L), 1) || !ebpfdsl_lua_getinteger(L, 2, &imm))
		return lua_ctor(L);
	new_insn(L, 3);
	set(L, UP_K_DST, 1);
	set_int(L, UP_K_IMM, imm);
	return 1;
}

/* ldx(size, dst, src[, off]) */
static int c_ldx(lua_State *L)
{
	const struct names *n = names(L);
	lua_Integer off = 0;
	if (!is_size(L, n, 1) || !is_reg(L, n, 2) || !is_reg(L, n, 3) ||
	    (!lua_isnoneornil(L, 4) && !ebpfdsl_lua_getinteger(L, 4, &off)))
		return lua_ctor(L);
	new_insn(L, 5);
	set(L, UP_K_SIZE, 1);
	set(L, UP_K_DST, 2);
	set(L, UP_K_SRC, 3);
	set_int(L, UP_K_OFF, off);
	return 1;
}

/* st(size, dst, off, integer) */
static int c_st(lua_State *L)
{
	const struct names *n = names(L);
	lua_Integer off, imm;
	if (!is_size(L, n, 1) || !is_reg(L, n, 2) || !ebpfdsl_lua_getinteger(L, 3, &off) ||
	    !ebpfdsl_lua_getinteger(L, 4, &imm))
		return lua_ctor(L);
	new_insn(L, 5);
	set(L, UP_K_SIZE, 1);
	set(L, UP_K_DST, 2);
	set_int(L, UP_K_OFF, off);
	set_int(L, UP_K_IMM, imm);
	return 1;
}

/* stx(size, dst, off, src) */
static int c_stx(lua_State *L)
{
	const struct names *n = names(L);
	lua_Integer off;
	if (!is_size(L, n, 1) || !is_reg(L, n, 2) || !ebpfdsl_lua_getinteger(L, 3, &off) || !is_reg(L, n, 4))
		return lua_ctor(L);
	new_insn(L, 5);
	set(L, UP_K_SIZE, 1);
	set(L, UP_K_DST, 2);
	set_int(L, UP_K_OFF, off);
	set(L, UP_K_SRC, 4);
	return 1;
}

static int c_exit(lua_State *L)
{
	new_insn(L, 1);
	return 1;
}

/* label(name) */
static int c_label(lua_State *L)
{
	size_t len;
	if (lua_type(L, 1) != LUA_TSTRING || (lua_tolstring(L, 1, &len), len == 0))
		return lua_ctor(L);
	new_insn(L, 2);
	set(L, UP_K_NAME, 1);
	return 1;
}

/* Sets words[name] to the C constructor fn, when words has a Lua one. */
static void add(lua_State *L, const struct names *n, const char *name, lua_CFunction fn)
{
	static const char *const KEYS[] = { "op", "dst", "src", "imm", "off", "size", "target", "name" };
	if (lua_getfield(L, 1, name) != LUA_TFUNCTION) {
		lua_pop(L, 1);
		return;
	}
	lua_pushlightuserdata(L, (void *)n); /* the registry keeps it */
	lua_pushstring(L, name);
	lua_rotate(L, -3, 2); /* names, name, the Lua constructor */
	for (size_t k = 0; k < sizeof(KEYS) / sizeof(KEYS[0]); k++)
		lua_pushstring(L, KEYS[k]);
	lua_pushcclosure(L, fn, UP_COUNT);
	lua_setfield(L, 1, name);
}

/* constructors(words): replaces the words the C side has a constructor
 * for (by each ISA row's shape, and label) with it; each calls the word
 * it replaced for the arguments it leaves aside. */
int ebpfdsl_lua_constructors(lua_State *L)
{
	const struct names *n;
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	n = ebpfdsl_lua_asm_names(L);
	for (int op = 0; op < EBPFDSL_OP_COUNT_; op++) {
		const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op);
		switch (row->shape) {
		case EBPFDSL_SHAPE_ALU: add(L, n, row->name, c_alu); break;
		case EBPFDSL_SHAPE_JCOND: add(L, n, row->name, c_jcond); break;
		case EBPFDSL_SHAPE_LDDW: add(L, n, row->name, c_lddw); break;
		case EBPFDSL_SHAPE_LDX:
		case EBPFDSL_SHAPE_LDSX: add(L, n, row->name, c_ldx); break;
		case EBPFDSL_SHAPE_ST: add(L, n, row->name, c_st); break;
		case EBPFDSL_SHAPE_STX: add(L, n, row->name, c_stx); break;
		case EBPFDSL_SHAPE_EXIT: add(L, n, row->name, c_exit); break;
		default: break; /* the Lua constructor stays */
		}
	}
	add(L, n, "label", c_label);
	return 0;
}
