/* SPDX-License-Identifier: MIT */
/* Programs as Lua tables -> bytes: each instruction table read into an
 * ebpfdsl_op, labels and nested lists fed to the assembler. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "lua_util.h"

#define MAX_NESTING 200

/* The assembler lives in a userdata so that an error raised half way
 * through never leaks it. */
static const char *const ASM_BOX = "ebpfdsl.asm_box";

static ebpfdsl_asm **push_box(lua_State *L)
{
	ebpfdsl_asm **box = lua_newuserdatauv(L, sizeof(*box), 0);
	*box = NULL;
	luaL_setmetatable(L, ASM_BOX);
	return box;
}

static int box_gc(lua_State *L)
{
	ebpfdsl_asm **box = luaL_checkudata(L, 1, ASM_BOX);
	ebpfdsl_asm__free(*box);
	*box = NULL;
	return 0;
}

/* ---------------------------------------------------------------------
 * Lua table -> ebpfdsl_op
 * --------------------------------------------------------------------- */

struct assembly {
	lua_State *L;
	ebpfdsl_asm *a;
	int maps;    /* stack index of the table collecting referenced maps */
	int nmaps;
};

static int insn_error(struct assembly *s, const char *opname, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int insn_error(struct assembly *s, const char *opname, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return luaL_error(s->L, "insn %d (%s): %s", (int)ebpfdsl_asm__count(s->a), opname, msg);
}

static int64_t field_int(struct assembly *s, const char *opname, const char *key)
{
	lua_Integer v;
	if (!ebpfdsl_lua_getinteger(s->L, -1, &v)) {
		if (lua_type(s->L, -1) == LUA_TNUMBER)
			return insn_error(s, opname, "%s must be an integer, got %s", key, lua_tostring(s->L, -1));
		return insn_error(s, opname, "%s must be an integer, got %s", key, luaL_typename(s->L, -1));
	}
	return (int64_t)v;
}

/* An integer field narrowed to int, refused outside lo..hi first (the
 * range the core checks too, so that 2^32 + 1 is not taken as 1). */
static int field_narrow(struct assembly *s, const char *opname, const char *what, const char *key, int64_t lo,
			int64_t hi)
{
	int64_t v = field_int(s, opname, key);
	if (v < lo || v > hi)
		return insn_error(s, opname, "%s %lld out of range %lld..%lld", what, (long long)v, (long long)lo,
				  (long long)hi);
	return (int)v;
}

static int field_reg(struct assembly *s, const char *opname, const char *key, int raw)
{
	int r;
	if (raw && lua_type(s->L, -1) == LUA_TNUMBER)
		return field_narrow(s, opname, strcmp(key, "dst") == 0 ? "dst register" : "src register", key, 0, 15);
	if (lua_type(s->L, -1) != LUA_TSTRING)
		return insn_error(s, opname, "%s must be a register name (r0..r10 or fp), got %s", key,
				  luaL_typename(s->L, -1));
	r = ebpfdsl_reg_parse(lua_tostring(s->L, -1));
	if (r < 0)
		return insn_error(s, opname, "%s: bad register '%s' (r0..r10 or fp)", key, lua_tostring(s->L, -1));
	return r;
}

/* The id of a helper name, or an error with the nearest names. */
static int helper_from_name(struct assembly *s, const char *opname, const char *name)
{
	const char *near[4];
	char hint[200] = "";
	int id = ebpfdsl_helper_id(name), n;
	if (id >= 0)
		return id;
	n = ebpfdsl_helper_suggest(name, near, 4);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(hint);
		snprintf(hint + l, sizeof(hint) - l, "%s'%s'", i ? ", " : "; did you mean ", near[i]);
	}
	return insn_error(s, opname, "unknown helper '%s'%s", name, hint);
}

/* Remembers a map object once, so the program can keep it alive. */
static void keep_map(struct assembly *s, int idx)
{
	lua_State *L = s->L;
	if (lua_type(L, idx) == LUA_TNUMBER)
		return;
	lua_pushvalue(L, idx);
	if (lua_rawget(L, s->maps) == LUA_TNIL) {
		lua_pushvalue(L, idx);
		lua_pushboolean(L, 1);
		lua_rawset(L, s->maps);
		lua_pushvalue(L, idx);
		lua_rawseti(L, s->maps, ++s->nmaps);
	}
	lua_pop(L, 1);
}

/* Reads the instruction table at idx (not a label) into op. */
/* Does `name` (with or without "bpf_") name the helper with id `imm`?
 * One comparison, where helper_from_name searches the whole list:
 * dsl.call gives both, and they agree. */
static int names_helper(int64_t imm, const char *name)
{
	const char *known = imm >= 0 && imm <= INT32_MAX ? ebpfdsl_helper_name((int)imm) : NULL;
	if (!known)
		return 0;
	if (strncmp(name, "bpf_", 4) == 0)
		name += 4;
	return strcmp(known, name) == 0;
}

static void read_op(struct assembly *s, int idx, const char *opname, struct ebpfdsl_op *op)
{
	lua_State *L = s->L;
	int helper = -1, raw;
	const char *helper_name = NULL;

	memset(op, 0, sizeof(*op));
	op->op = ebpfdsl_isa_lookup(opname);
	if (op->op < 0)
		insn_error(s, opname, "unknown mnemonic '%s'", opname);
	raw = op->op == EBPFDSL_OP_RAW;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (!key) {
			insn_error(s, opname, "unexpected %s key in an instruction", luaL_typename(L, -2));
			return; /* not reached: insn_error raises */
		}
		if (strcmp(key, "op") == 0) {
			/* read already */
		} else if (strcmp(key, "dst") == 0) {
			op->dst = field_reg(s, opname, key, raw);
			op->has |= EBPFDSL_HAS_DST;
		} else if (strcmp(key, "src") == 0) {
			op->src = field_reg(s, opname, key, raw);
			op->has |= EBPFDSL_HAS_SRC;
		} else if (strcmp(key, "imm") == 0) {
			op->imm = field_int(s, opname, key);
			op->has |= EBPFDSL_HAS_IMM;
		} else if (strcmp(key, "off") == 0) {
			op->off = field_int(s, opname, key);
			op->has |= EBPFDSL_HAS_OFF;
		} else if (strcmp(key, "size") == 0) {
			const char *sz = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
			op->size = ebpfdsl_size_parse(sz);
			if (op->size < 0)
				insn_error(s, opname, "size must be one of b, h, w, dw, got %s",
					   sz ? sz : luaL_typename(L, -1));
			op->has |= EBPFDSL_HAS_SIZE;
		} else if (strcmp(key, "bits") == 0) {
			int64_t bits = field_int(s, opname, key);
			/* the validator names the widths each shape takes */
			if (bits < INT_MIN || bits > INT_MAX)
				insn_error(s, opname, "bits must be 8, 16, 32 or 64, got %lld", (long long)bits);
			op->bits = (int)bits;
			op->has |= EBPFDSL_HAS_BITS;
		} else if (strcmp(key, "target") == 0) {
			if (lua_type(L, -1) != LUA_TSTRING)
				insn_error(s, opname, "target must be a label name, got %s", luaL_typename(L, -1));
			op->target = lua_tostring(L, -1); /* the table keeps it alive */
			op->has |= EBPFDSL_HAS_TARGET;
		} else if (strcmp(key, "helper") == 0) {
			if (lua_type(L, -1) == LUA_TNUMBER)
				helper = field_narrow(s, opname, "helper id", "helper", 0, INT32_MAX);
			else if (lua_type(L, -1) == LUA_TSTRING)
				helper_name = lua_tostring(L, -1); /* the table keeps it alive */
			else
				insn_error(s, opname, "helper must be a name or an id, got %s", luaL_typename(L, -1));
		} else if (strcmp(key, "value_offset") == 0) {
			op->aux = field_int(s, opname, key);
			op->has |= EBPFDSL_HAS_AUX;
		} else if (strcmp(key, "code") == 0) {
			op->code = field_narrow(s, opname, "code", key, 0, 255);
			op->has |= EBPFDSL_HAS_CODE;
		} else if (strcmp(key, "map") == 0) {
			/* read by emit_insn, which keeps the map alive */
		} else {
			insn_error(s, opname, "unknown field '%s'", key);
		}
		lua_pop(L, 1);
	}
	if (helper_name) /* read after the loop, which may meet imm later */
		helper = (op->has & EBPFDSL_HAS_IMM) && names_helper(op->imm, helper_name)
				 ? (int)op->imm
				 : helper_from_name(s, opname, helper_name);
	if (helper >= 0) {
		if (op->op != EBPFDSL_OP_CALL)
			insn_error(s, opname, "takes no helper");
		if ((op->has & EBPFDSL_HAS_IMM) && op->imm != helper)
			insn_error(s, opname, "helper %d and imm %lld disagree", helper, (long long)op->imm);
		op->imm = helper;
		op->has |= EBPFDSL_HAS_IMM;
	}
}

static void emit_insn(struct assembly *s, int idx, const char *opname)
{
	lua_State *L = s->L;
	struct ebpfdsl_op op;
	int top = lua_gettop(L);

	read_op(s, idx, opname, &op);
	if (lua_getfield(L, idx, "map") != LUA_TNIL) {
		char what[64];
		/* only these two put a map's fd in imm */
		if (op.op != EBPFDSL_OP_LD_MAP_FD && op.op != EBPFDSL_OP_LD_MAP_VALUE)
			insn_error(s, opname, "takes no map");
		snprintf(what, sizeof(what), "insn %d (%s): map", (int)ebpfdsl_asm__count(s->a), opname);
		if (!(op.has & EBPFDSL_HAS_IMM)) {
			op.imm = ebpfdsl_lua_tofd(L, -1, what);
			op.has |= EBPFDSL_HAS_IMM;
		}
		keep_map(s, lua_gettop(L));
	}
	if (ebpfdsl_asm__emit(s->a, &op))
		luaL_error(L, "%s", ebpfdsl_asm__error(s->a));
	lua_settop(L, top);
}

/* {op = "label", name = "x"}: a name and nothing else */
static void emit_label(struct assembly *s, int idx)
{
	lua_State *L = s->L;
	const char *name = NULL;
	int at = (int)ebpfdsl_asm__count(s->a);

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (key && strcmp(key, "name") == 0) {
			if (lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "insn %d (label): name must be a string, got %s", at, luaL_typename(L, -1));
			name = lua_tostring(L, -1); /* the table keeps it alive */
		} else if (!key || strcmp(key, "op") != 0) {
			luaL_error(L, "insn %d (label): unknown field '%s'", at, key ? key : luaL_typename(L, -2));
		}
		lua_pop(L, 1);
	}
	if (!name)
		luaL_error(L, "insn %d: label needs a name", at);
	if (ebpfdsl_asm__label(s->a, name))
		luaL_error(L, "%s", ebpfdsl_asm__error(s->a));
}

static void emit_list(struct assembly *s, int idx, int depth)
{
	lua_State *L = s->L;
	lua_Integer n;

	idx = lua_absindex(L, idx);
	if (depth > MAX_NESTING)
		luaL_error(L, "insn %d: lists nested more than %d deep (a list that contains itself?)",
			   (int)ebpfdsl_asm__count(s->a), MAX_NESTING);
	luaL_checkstack(L, 8, "assemble");
	if (lua_getfield(L, idx, "op") != LUA_TNIL) {
		const char *opname;
		/* checked before lua_tostring, which would turn 5 into "5" */
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "insn %d: op must be a mnemonic string, got %s", (int)ebpfdsl_asm__count(s->a),
				   luaL_typename(L, -1));
		opname = lua_tostring(L, -1);
		if (strcmp(opname, "label") == 0) {
			emit_label(s, idx);
		} else {
			emit_insn(s, idx, opname);
		}
		lua_pop(L, 1);
		return;
	}
	lua_pop(L, 1);
	n = (lua_Integer)lua_rawlen(L, idx);
	if (n == 0) {
		lua_pushnil(L);
		if (lua_next(L, idx))
			luaL_error(L, "insn %d: a table with neither 'op' nor list items (key %s)",
				   (int)ebpfdsl_asm__count(s->a), lua_tostring(L, -2) ? lua_tostring(L, -2) : "?");
		return;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		int t = lua_rawgeti(L, idx, i);
		if (t == LUA_TTABLE)
			emit_list(s, -1, depth + 1);
		else if (t != LUA_TNIL)
			luaL_error(L, "insn %d: list item %d is a %s, not an instruction, label or list",
				   (int)ebpfdsl_asm__count(s->a), (int)i, luaL_typename(L, -1));
		lua_pop(L, 1);
	}
}

/* assemble(list[, {cpu=4, relax=true}]) -> bytes, labels {[slot]=name}, maps */
static int l_assemble(lua_State *L)
{
	struct ebpfdsl_asm_opts opts = { .sz = sizeof(opts) };
	struct assembly s = { .L = L };
	ebpfdsl_asm **box;
	const struct bpf_insn *insns;
	const char *name;
	size_t cnt, slot;

	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, 2)) {
			const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
			if (!key || (strcmp(key, "cpu") != 0 && strcmp(key, "relax") != 0))
				return luaL_error(L, "assemble: unknown option '%s' (cpu, relax)",
						  key ? key : luaL_typename(L, -2));
			lua_pop(L, 1);
		}
		lua_Integer cpu = ebpfdsl_lua_optint_field(L, 2, "cpu", 4);
		if (cpu < 0 || cpu > 4) /* 0: the newest, as in the C options */
			return luaL_error(L, "assemble: cpu must be 1..4, got %I", (LUAI_UACINT)cpu);
		opts.cpu = (int)cpu;
		lua_pushliteral(L, "relax");
		if (lua_rawget(L, 2) != LUA_TNIL)
			opts.no_relax = !lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	lua_settop(L, 1);
	box = push_box(L);                      /* 2 */
	*box = ebpfdsl_asm__new(&opts);
	if (!*box)
		return luaL_error(L, "assemble: out of memory");
	if (ebpfdsl_asm__error(*box))
		return luaL_error(L, "assemble: %s", ebpfdsl_asm__error(*box));
	lua_newtable(L);                        /* 3: maps seen */
	s.a = *box;
	s.maps = 3;
	emit_list(&s, 1, 0);
	if (ebpfdsl_asm__finalize(s.a))
		return luaL_error(L, "%s", ebpfdsl_asm__error(s.a));
	insns = ebpfdsl_asm__insns(s.a, &cnt);
	lua_pushlstring(L, (const char *)insns, cnt * sizeof(*insns)); /* 4 */
	lua_newtable(L);                                                  /* 5 */
	for (size_t i = 0; ebpfdsl_asm__label_at(s.a, i, &name, &slot) == 0; i++) {
		if (lua_rawgeti(L, 5, (lua_Integer)slot) == LUA_TNIL) {
			lua_pushstring(L, name);
			lua_rawseti(L, 5, (lua_Integer)slot);
		}
		lua_pop(L, 1);
	}
	lua_createtable(L, s.nmaps, 0);                                   /* 6 */
	for (int i = 1; i <= s.nmaps; i++) {
		lua_rawgeti(L, 3, i);
		lua_rawseti(L, 6, i);
	}
	return 3;
}

static const luaL_Reg asm_functions[] = {
	{ "assemble", l_assemble },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_asm(lua_State *L)
{
	luaL_newmetatable(L, ASM_BOX);
	lua_pushcfunction(L, box_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_setfuncs(L, asm_functions, 0);
}
