/* SPDX-License-Identifier: MIT */
/* Programs as Lua tables -> bytes: each instruction table read into an
 * ebpfdsl_op, labels and nested lists fed to the assembler. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "lua_asm.h"

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
 * Names by address (lua_asm.h)
 * --------------------------------------------------------------------- */

static const char *const KEYS[K_COUNT] = { "op", "dst", "src", "imm", "off", "size", "bits", "target", "helper",
					   "value_offset", "code", "map", "name", "label" };
static const char *const REGS[] = { "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "fp" };
static const char *const NAMES_KEY = "ebpfdsl.asm_names";

/* Interns `name` in the anchor table at the top and enters it. */
static void enter(lua_State *L, struct names *n, const char *name, int what)
{
	size_t k;
	const void *p;
	lua_pushstring(L, name);
	p = lua_topointer(L, -1);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	for (k = ebpfdsl_lua_names_slot(p); n->at[k]; k = (k + 1) & (KNOWN_SLOTS - 1))
		if (n->at[k] == p)
			return; /* no name is two things; the first would win */
	n->at[k] = p;
	n->what[k] = what;
}

const struct names *ebpfdsl_lua_asm_names(lua_State *L)
{
	struct names *n;
	if (lua_getfield(L, LUA_REGISTRYINDEX, NAMES_KEY) == LUA_TUSERDATA) {
		n = lua_touserdata(L, -1);
		lua_pop(L, 1);
		return n; /* the registry keeps it */
	}
	lua_pop(L, 1);
	n = lua_newuserdatauv(L, sizeof(*n), 1);
	memset(n, 0, sizeof(*n));
	lua_newtable(L);
	for (int k = 0; k < K_COUNT; k++)
		enter(L, n, KEYS[k], KEY_(k));
	for (int r = 0; r < 12; r++)
		enter(L, n, REGS[r], REG_(r == 11 ? BPF_REG_10 : r));
	for (int sz = 0; sz < 32; sz++)
		if (ebpfdsl_size_name(sz))
			enter(L, n, ebpfdsl_size_name(sz), SIZE_(sz));
	for (int op = 0; op < EBPFDSL_OP_COUNT_; op++)
		enter(L, n, ebpfdsl_isa_row(op)->name, OP_(op));
	for (int id = 1; id < ebpfdsl_helper_count(); id++)
		if (ebpfdsl_helper_name(id))
			enter(L, n, ebpfdsl_helper_name(id), HELPER_(id));
	lua_setiuservalue(L, -2, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, NAMES_KEY);
	return ebpfdsl_lua_asm_names(L);
}

/* ---------------------------------------------------------------------
 * Lua table -> ebpfdsl_op
 * --------------------------------------------------------------------- */

struct assembly {
	lua_State *L;
	ebpfdsl_asm *a;
	const struct names *n;
	int keys;    /* stack index of the key strings, in KEYS order */
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
	int r = ebpfdsl_lua_known(s->n, lua_topointer(s->L, -1)) - REG_(0);
	if (r >= 0 && r <= BPF_REG_10)
		return r; /* the usual case: a register name */
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
	char msg[300];
	int id = ebpfdsl_helper_id(name);
	return id >= 0 ? id : insn_error(s, opname, "%s", ebpfdsl_helper_unknown(name, msg, sizeof(msg)));
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

/* What read_op met besides the common fields, settled after the loop. */
struct rare {
	int helper;              /* an id given as helper, or -1 */
	const char *helper_name; /* a name given as helper (the table keeps it) */
	int map;                 /* a map was given (emit_insn reads it) */
};

/* The less common fields of an instruction (key at -2, value at -1), and
 * keys that are no field. */
static void read_rare(struct assembly *s, const char *opname, struct ebpfdsl_op *op, struct rare *rare, int what)
{
	lua_State *L = s->L;
	switch (what) {
	case KEY_(K_SIZE): {
		const char *sz = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		op->size = ebpfdsl_size_parse(sz);
		if (op->size < 0)
			insn_error(s, opname, "size must be one of b, h, w, dw, got %s", sz ? sz : luaL_typename(L, -1));
		op->has |= EBPFDSL_HAS_SIZE;
		return;
	}
	case KEY_(K_TARGET):
		if (lua_type(L, -1) != LUA_TSTRING)
			insn_error(s, opname, "target must be a label name, got %s", luaL_typename(L, -1));
		op->target = lua_tostring(L, -1); /* the table keeps it alive */
		op->has |= EBPFDSL_HAS_TARGET;
		return;
	case KEY_(K_BITS): {
		int64_t bits = field_int(s, opname, "bits");
		/* the validator names the widths each shape takes */
		if (bits < INT_MIN || bits > INT_MAX)
			insn_error(s, opname, "bits must be 8, 16, 32 or 64, got %lld", (long long)bits);
		op->bits = (int)bits;
		op->has |= EBPFDSL_HAS_BITS;
		return;
	}
	case KEY_(K_HELPER):
		if (lua_type(L, -1) == LUA_TNUMBER)
			rare->helper = field_narrow(s, opname, "helper id", "helper", 0, INT32_MAX);
		else if (lua_type(L, -1) == LUA_TSTRING)
			rare->helper_name = lua_tostring(L, -1); /* the table keeps it alive */
		else
			insn_error(s, opname, "helper must be a name or an id, got %s", luaL_typename(L, -1));
		return;
	case KEY_(K_VALUE_OFFSET):
		op->aux = field_int(s, opname, "value_offset");
		op->has |= EBPFDSL_HAS_AUX;
		return;
	case KEY_(K_CODE):
		op->code = field_narrow(s, opname, "code", "code", 0, 255);
		op->has |= EBPFDSL_HAS_CODE;
		return;
	case KEY_(K_MAP):
		rare->map = 1;
		return;
	default:
		if (lua_type(L, -2) != LUA_TSTRING)
			insn_error(s, opname, "unexpected %s key in an instruction", luaL_typename(L, -2));
		insn_error(s, opname, "unknown field '%s'", lua_tostring(L, -2));
	}
}

/* Reads the instruction table at idx (not a label) into op; returns
 * whether it has a map (read by emit_insn, which keeps it alive). */
static int read_op(struct assembly *s, int idx, int opid, const char *opname, struct ebpfdsl_op *op)
{
	lua_State *L = s->L;
	struct rare rare = { -1, NULL, 0 };
	int raw = opid == EBPFDSL_OP_RAW;

	memset(op, 0, sizeof(*op));
	op->op = opid;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int what = ebpfdsl_lua_known(s->n, lua_topointer(L, -2));
		switch (what) {
		case KEY_(K_DST):
			op->dst = field_reg(s, opname, "dst", raw);
			op->has |= EBPFDSL_HAS_DST;
			break;
		case KEY_(K_IMM):
			op->imm = field_int(s, opname, "imm");
			op->has |= EBPFDSL_HAS_IMM;
			break;
		case KEY_(K_SRC):
			op->src = field_reg(s, opname, "src", raw);
			op->has |= EBPFDSL_HAS_SRC;
			break;
		case KEY_(K_OFF):
			op->off = field_int(s, opname, "off");
			op->has |= EBPFDSL_HAS_OFF;
			break;
		case KEY_(K_OP):
			break; /* read already */
		default:
			read_rare(s, opname, op, &rare, what);
			break;
		}
		lua_pop(L, 1);
	}
	if (rare.helper_name) /* read after the loop, which may meet imm later */
		rare.helper = (op->has & EBPFDSL_HAS_IMM) && names_helper(op->imm, rare.helper_name)
				      ? (int)op->imm
				      : helper_from_name(s, opname, rare.helper_name);
	if (rare.helper >= 0) {
		if (op->op != EBPFDSL_OP_CALL)
			insn_error(s, opname, "takes no helper");
		if ((op->has & EBPFDSL_HAS_IMM) && op->imm != rare.helper)
			insn_error(s, opname, "helper %d and imm %lld disagree", rare.helper, (long long)op->imm);
		op->imm = rare.helper;
		op->has |= EBPFDSL_HAS_IMM;
	}
	return rare.map;
}

static void emit_insn(struct assembly *s, int idx, int opid, const char *opname)
{
	lua_State *L = s->L;
	struct ebpfdsl_op op;

	if (read_op(s, idx, opid, opname, &op)) {
		char what[64];
		lua_pushvalue(L, s->keys + K_MAP);
		lua_rawget(L, idx);
		/* only these two put a map's fd in imm */
		if (op.op != EBPFDSL_OP_LD_MAP_FD && op.op != EBPFDSL_OP_LD_MAP_VALUE)
			insn_error(s, opname, "takes no map");
		snprintf(what, sizeof(what), "insn %d (%s): map", (int)ebpfdsl_asm__count(s->a), opname);
		if (!(op.has & EBPFDSL_HAS_IMM)) {
			op.imm = ebpfdsl_lua_tofd(L, -1, what);
			op.has |= EBPFDSL_HAS_IMM;
		}
		keep_map(s, lua_gettop(L));
		lua_pop(L, 1);
	}
	if (ebpfdsl_asm__emit(s->a, &op))
		luaL_error(L, "%s", ebpfdsl_asm__error(s->a));
}

/* {op = "label", name = "x"}: a name and nothing else */
static void emit_label(struct assembly *s, int idx)
{
	lua_State *L = s->L;
	const char *name = NULL;
	int at = (int)ebpfdsl_asm__count(s->a);

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int what = ebpfdsl_lua_known(s->n, lua_topointer(L, -2));
		if (what == KEY_(K_NAME)) {
			if (lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "insn %d (label): name must be a string, got %s", at, luaL_typename(L, -1));
			name = lua_tostring(L, -1); /* the table keeps it alive */
		} else if (what != KEY_(K_OP)) {
			luaL_error(L, "insn %d (label): unknown field '%s'", at,
				   lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2));
		}
		lua_pop(L, 1);
	}
	if (!name)
		luaL_error(L, "insn %d: label needs a name", at);
	if (ebpfdsl_asm__label(s->a, name))
		luaL_error(L, "%s", ebpfdsl_asm__error(s->a));
}

/* The usual instruction in one pass over its keys (the op read as one of
 * them, not looked up first): a mnemonic, registers and sizes by name,
 * integers, a label name. 0, the stack as it was, for anything else (a
 * list, a label, raw, other fields or types): the careful reading below
 * then takes it, or says what is wrong. */
static int emit_usual(struct assembly *s, int idx)
{
	lua_State *L = s->L;
	struct ebpfdsl_op op;
	int top = lua_gettop(L);
	lua_Integer v;
	memset(&op, 0, sizeof(op));
	op.op = -1;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int what = ebpfdsl_lua_known(s->n, lua_topointer(L, -2));
		int k = what == KEY_(K_IMM) || what == KEY_(K_OFF) || what == KEY_(K_TARGET)
				? -1
				: ebpfdsl_lua_known(s->n, lua_topointer(L, -1)); /* a name's */
		switch (what) {
		case KEY_(K_OP):
			if (k < OP_(0) || k >= OP_(EBPFDSL_OP_RAW))
				goto careful;
			op.op = k - OP_(0);
			break;
		case KEY_(K_DST):
		case KEY_(K_SRC):
			if (k < REG_(0) || k > REG_(BPF_REG_10))
				goto careful;
			*(what == KEY_(K_DST) ? &op.dst : &op.src) = k - REG_(0);
			op.has |= what == KEY_(K_DST) ? EBPFDSL_HAS_DST : EBPFDSL_HAS_SRC;
			break;
		case KEY_(K_IMM):
		case KEY_(K_OFF):
			if (!ebpfdsl_lua_getinteger(L, -1, &v))
				goto careful;
			*(what == KEY_(K_IMM) ? &op.imm : &op.off) = v;
			op.has |= what == KEY_(K_IMM) ? EBPFDSL_HAS_IMM : EBPFDSL_HAS_OFF;
			break;
		case KEY_(K_SIZE):
			if (k < SIZE_(0) || k >= SIZE_(32))
				goto careful;
			op.size = k - SIZE_(0);
			op.has |= EBPFDSL_HAS_SIZE;
			break;
		case KEY_(K_TARGET):
			if (lua_type(L, -1) != LUA_TSTRING)
				goto careful;
			op.target = lua_tostring(L, -1); /* the table keeps it alive */
			op.has |= EBPFDSL_HAS_TARGET;
			break;
		default:
			goto careful;
		}
		lua_pop(L, 1);
	}
	if (op.op < 0)
		return 0;
	if (ebpfdsl_asm__emit(s->a, &op))
		luaL_error(L, "%s", ebpfdsl_asm__error(s->a));
	return 1;
careful:
	lua_settop(L, top);
	return 0;
}

static void emit_list(struct assembly *s, int idx, int depth)
{
	lua_State *L = s->L;
	lua_Integer n;

	idx = lua_absindex(L, idx);
	if (depth > MAX_NESTING)
		luaL_error(L, "insn %d: lists nested more than %d deep (a list that contains itself?)",
			   (int)ebpfdsl_asm__count(s->a), MAX_NESTING);
	if (emit_usual(s, idx))
		return;
	/* read raw, as every other field: an instruction is plain data */
	lua_pushvalue(L, s->keys + K_OP);
	if (lua_rawget(L, idx) != LUA_TNIL) {
		/* a known name is a string: its address says so; the row
		 * holds the same text (the names it came from) */
		int what = ebpfdsl_lua_known(s->n, lua_topointer(L, -1));
		if (what == KEY_(K_LABEL)) {
			emit_label(s, idx);
		} else if (what >= OP_(0) && what < OP_(EBPFDSL_OP_COUNT_)) {
			emit_insn(s, idx, what - OP_(0), ebpfdsl_isa_row(what - OP_(0))->name);
		} else {
			/* checked before lua_tostring, which would turn 5 into "5" */
			if (lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "insn %d: op must be a mnemonic string, got %s",
					   (int)ebpfdsl_asm__count(s->a), luaL_typename(L, -1));
			insn_error(s, lua_tostring(L, -1), "unknown mnemonic '%s'", lua_tostring(L, -1));
		}
		lua_pop(L, 1);
		return;
	}
	lua_pop(L, 1);
	luaL_checkstack(L, 12, "assemble"); /* an item, and what reading an instruction pushes */
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

void ebpfdsl_lua_asm_opts(lua_State *L, int idx, struct ebpfdsl_asm_opts *o, const char *what)
{
	lua_Integer cpu;
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	if (!idx)
		return;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (!key || (strcmp(key, "cpu") != 0 && strcmp(key, "relax") != 0))
			luaL_error(L, "%s: unknown option '%s' (cpu, relax)", what, key ? key : luaL_typename(L, -2));
		lua_pop(L, 1);
	}
	cpu = ebpfdsl_lua_optint_field(L, idx, "cpu", 4);
	if (cpu < 0 || cpu > 4) /* 0: the newest, as in the C options */
		luaL_error(L, "%s: cpu must be 1..4, got %I", what, (LUAI_UACINT)cpu);
	o->cpu = (int)cpu;
	lua_pushliteral(L, "relax");
	if (lua_rawget(L, idx) != LUA_TNIL)
		o->no_relax = !lua_toboolean(L, -1);
	lua_pop(L, 1);
}

void ebpfdsl_lua_asm_emit(lua_State *L, ebpfdsl_asm *a, int idx, int maps, int *nmaps)
{
	struct assembly s = { .L = L, .a = a, .maps = maps, .nmaps = *nmaps };
	int top = lua_gettop(L);
	idx = lua_absindex(L, idx);
	s.n = ebpfdsl_lua_asm_names(L);
	luaL_checkstack(L, K_COUNT + 12, "assemble");
	s.keys = top + 1;
	for (int k = 0; k < K_COUNT; k++)
		lua_pushstring(L, KEYS[k]);
	emit_list(&s, idx, 0);
	lua_settop(L, top);
	*nmaps = s.nmaps;
}

void ebpfdsl_lua_asm_results(lua_State *L, ebpfdsl_asm *a, int maps, int nmaps)
{
	const struct bpf_insn *insns;
	const char *name;
	size_t cnt, slot;
	int labels;
	maps = lua_absindex(L, maps);
	insns = ebpfdsl_asm__insns(a, &cnt);
	lua_pushlstring(L, (const char *)insns, cnt * sizeof(*insns));
	lua_newtable(L);
	labels = lua_gettop(L);
	for (size_t i = 0; ebpfdsl_asm__label_at(a, i, &name, &slot) == 0; i++) {
		if (lua_rawgeti(L, labels, (lua_Integer)slot) == LUA_TNIL) {
			lua_pushstring(L, name);
			lua_rawseti(L, labels, (lua_Integer)slot);
		}
		lua_pop(L, 1);
	}
	lua_createtable(L, nmaps, 0);
	for (int i = 1; i <= nmaps; i++) {
		lua_rawgeti(L, maps, i);
		lua_rawseti(L, -2, i);
	}
}

/* assemble(list[, {cpu=4, relax=true}]) -> bytes, labels {[slot]=name}, maps */
static int l_assemble(lua_State *L)
{
	struct ebpfdsl_asm_opts opts;
	ebpfdsl_asm **box;
	int nmaps = 0;

	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	ebpfdsl_lua_asm_opts(L, lua_isnoneornil(L, 2) ? 0 : 2, &opts, "assemble");
	lua_settop(L, 1);
	box = push_box(L);                      /* 2 */
	*box = ebpfdsl_asm__new(&opts);
	if (!*box)
		return luaL_error(L, "assemble: out of memory");
	if (ebpfdsl_asm__error(*box))
		return luaL_error(L, "assemble: %s", ebpfdsl_asm__error(*box));
	lua_newtable(L);                        /* 3: maps seen */
	ebpfdsl_lua_asm_emit(L, *box, 1, 3, &nmaps);
	if (ebpfdsl_asm__finalize(*box))
		return luaL_error(L, "%s", ebpfdsl_asm__error(*box));
	ebpfdsl_lua_asm_results(L, *box, 3, nmaps);
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
