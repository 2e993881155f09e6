/* SPDX-License-Identifier: MIT */
/* ebpfdsl.Builder: b:mov("r1", 5) records what assembling dsl.mov("r1", 5)
 * would, straight into an assembler, with no table in between. */
#include <string.h>
#include "lua_asm.h"

static const char *const BUILDER = "ebpfdsl.Builder";
/* registry: the Lua function that builds with the DSL's constructor
 * (dsl.lua): what a C method leaves to it, it does as the table path */
static const char *const SLOW_KEY = "ebpfdsl.builder_slow";

struct builder {
	ebpfdsl_asm *a; /* NULL once closed */
	int nmaps;      /* maps in user value 1 (a set and a list) */
};

/* The upvalues of every C method: what it emits, the class's metatable,
 * its name. */
enum { UP_METH = 1, UP_META, UP_NAME, UP_COUNT = UP_NAME };
struct meth {
	struct word_sig sig;
	const struct names *n; /* the registry keeps them */
};

static struct builder *check_open(lua_State *L)
{
	struct builder *b = luaL_checkudata(L, 1, BUILDER);
	if (!b->a)
		luaL_error(L, "attempt to use a closed %s", BUILDER);
	return b;
}

/* Self, checked by its metatable (an upvalue: no registry lookup). */
static struct builder *self(lua_State *L)
{
	struct builder *b = lua_touserdata(L, 1);
	int same = 0;
	if (b && lua_getmetatable(L, 1)) {
		same = lua_rawequal(L, -1, lua_upvalueindex(UP_META));
		lua_pop(L, 1);
	}
	if (!same || !b->a)
		return check_open(L); /* raises, saying what is wrong */
	return b;
}

/* Arguments the C method does not take as they are: the constructor
 * builds the table(s), emitted as b:emit would, its errors raised at the
 * caller's line (slow, from dsl.lua). Returns what it returns: b. */
static int slow(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, SLOW_KEY);
	lua_insert(L, 1);
	lua_pushvalue(L, lua_upvalueindex(UP_NAME));
	lua_insert(L, 3); /* slow, b, name, arguments */
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* b, after an emit or a label that returned rc: raises the assembler's
 * first error */
static int done(lua_State *L, struct builder *b, int rc)
{
	if (rc)
		return luaL_error(L, "%s", ebpfdsl_asm__error(b->a));
	lua_settop(L, 1);
	return 1;
}

/* b:<word>(...) for a row with a C word: its arguments read as the
 * constructor reads them (lua_ctor.c), emitted with no table between */
static int m_word(lua_State *L)
{
	struct builder *b = self(L);
	const struct meth *m = lua_touserdata(L, lua_upvalueindex(UP_METH));
	struct ebpfdsl_op op;
	if (!ebpfdsl_lua_word_args(L, m->n, &m->sig, 2, &op))
		return slow(L);
	return done(L, b, ebpfdsl_asm__emit(b->a, &op));
}

/* b:label(name) */
static int m_label(lua_State *L)
{
	struct builder *b = self(L);
	size_t len;
	const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
	if (!name || len == 0)
		return slow(L);
	return done(L, b, ebpfdsl_asm__label(b->a, name));
}

/* b:emit(list or instruction) -> b: as assemble reads them */
static int m_emit(lua_State *L)
{
	struct builder *b = check_open(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_getiuservalue(L, 1, 1); /* 3: maps */
	ebpfdsl_lua_asm_emit(L, b->a, 2, 3, &b->nmaps);
	lua_settop(L, 1);
	return 1;
}

/* b:assemble() -> bytes, labels, maps, as dsl.assemble gives them; the
 * builder takes no more instructions after */
static int m_assemble(lua_State *L)
{
	struct builder *b = check_open(L);
	if (ebpfdsl_asm__finalize(b->a))
		return luaL_error(L, "%s", ebpfdsl_asm__error(b->a));
	lua_getiuservalue(L, 1, 1);
	ebpfdsl_lua_asm_results(L, b->a, -1, b->nmaps);
	return 3;
}

static int m_close(lua_State *L)
{
	struct builder *b = luaL_checkudata(L, 1, BUILDER);
	ebpfdsl_asm__free(b->a);
	b->a = NULL;
	return 0;
}

/* #b: the slots emitted so far */
static int m_len(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)ebpfdsl_asm__count(check_open(L)->a));
	return 1;
}

static int m_tostring(lua_State *L)
{
	struct builder *b = luaL_checkudata(L, 1, BUILDER);
	if (!b->a)
		lua_pushfstring(L, "%s (closed)", BUILDER);
	else
		lua_pushfstring(L, "%s, %d slots", BUILDER, (int)ebpfdsl_asm__count(b->a));
	return 1;
}

/* Adds method `name` (fn with its arguments) to the methods at -1;
 * the metatable is at meta. */
static void method(lua_State *L, int meta, const char *name, lua_CFunction fn, const struct word_sig *sig,
		   const struct names *n)
{
	struct meth *m = lua_newuserdatauv(L, sizeof(*m), 0);
	m->sig = *sig;
	m->n = n;
	lua_pushvalue(L, meta);
	lua_pushstring(L, name); /* for slow: the DSL word to call */
	lua_pushcclosure(L, fn, UP_COUNT);
	lua_setfield(L, -2, name);
}

/* Creates the class: metatable at -2, methods at -1. `index` (at idx)
 * gives the methods the C side has none for. */
static void create_class(lua_State *L, int index)
{
	const struct names *n = ebpfdsl_lua_asm_names(L);
	struct word_sig sig = { .op = -1 };
	int meta;
	luaL_newmetatable(L, BUILDER);
	meta = lua_gettop(L);
	lua_newtable(L);
	method(L, meta, "label", m_label, &sig, n);
	for (int op = 0; op < EBPFDSL_OP_COUNT_; op++)
		if (ebpfdsl_lua_word_prepare(op, &sig)) /* else the DSL's own word, through `index` */
			method(L, meta, ebpfdsl_isa_row(op)->name, m_word, &sig, n);
	lua_pushcfunction(L, m_emit);
	lua_setfield(L, -2, "emit");
	lua_pushcfunction(L, m_assemble);
	lua_setfield(L, -2, "assemble");
	lua_pushcfunction(L, m_close);
	lua_setfield(L, -2, "close");
	/* methods -> metatable of the methods: the rest, from the DSL */
	lua_createtable(L, 0, 1);
	lua_pushvalue(L, index);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, m_close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, m_close);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, m_len);
	lua_setfield(L, -2, "__len");
	lua_pushcfunction(L, m_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
}

/* builder(opts, index, slow) -> Builder: index(methods, name) gives the
 * methods the C side lacks, slow(b, name, ...) builds with the DSL's
 * constructor and emits (both from dsl.lua, once per Lua state) */
static int l_builder(lua_State *L)
{
	struct ebpfdsl_asm_opts opts;
	struct builder *b;
	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_checktype(L, 3, LUA_TFUNCTION);
	ebpfdsl_lua_asm_opts(L, lua_isnoneornil(L, 1) ? 0 : 1, &opts, "builder");
	if (luaL_getmetatable(L, BUILDER) == LUA_TNIL) {
		lua_pushvalue(L, 3);
		lua_setfield(L, LUA_REGISTRYINDEX, SLOW_KEY);
		create_class(L, 2);
	}
	lua_pop(L, 1);
	b = lua_newuserdatauv(L, sizeof(*b), 1); /* created closed */
	b->a = NULL;
	b->nmaps = 0;
	luaL_setmetatable(L, BUILDER);
	lua_newtable(L);
	lua_setiuservalue(L, -2, 1);
	b->a = ebpfdsl_asm__new(&opts);
	if (!b->a)
		return luaL_error(L, "builder: out of memory");
	if (ebpfdsl_asm__error(b->a))
		return luaL_error(L, "builder: %s", ebpfdsl_asm__error(b->a));
	return 1;
}

void ebpfdsl_lua_open_builder(lua_State *L)
{
	lua_pushcfunction(L, l_builder);
	lua_setfield(L, -2, "builder");
}
