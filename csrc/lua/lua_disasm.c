/* SPDX-License-Identifier: MIT */
/* Programs as bytes -> Lua: disassemble to the instruction tables the
 * assembler takes (labels made up where jumps land), and text for dump. */
#include <stdio.h>
#include <string.h>
#include "lua_util.h"

static const struct bpf_insn *check_bytes(lua_State *L, int idx, size_t *cnt)
{
	size_t len;
	const char *b = luaL_checklstring(L, idx, &len);
	if (len % sizeof(struct bpf_insn))
		luaL_error(L, "program bytes must be a multiple of 8 long, got %d", (int)len);
	*cnt = len / sizeof(struct bpf_insn);
	/* Lua strings are aligned for any type, so this cast is safe */
	return (const struct bpf_insn *)(const void *)b;
}

/* A program decoded once per call, kept in a userdata so that an error
 * half way frees it: ops[k] is the k-th instruction, start[pc] is 1
 * where one starts (and at cnt, the end, where a label may stand). */
struct decoded {
	size_t n;                  /* instructions */
	struct ebpfdsl_op *ops;
	unsigned char *start;
};

static struct decoded *push_decoded(lua_State *L, const struct bpf_insn *insns, size_t cnt)
{
	/* one block: the decoded struct, then up to cnt ops, then the flags */
	size_t head = (sizeof(struct decoded) + sizeof(struct ebpfdsl_op) - 1) / sizeof(struct ebpfdsl_op);
	struct ebpfdsl_op *block = lua_newuserdatauv(L, (head + cnt) * sizeof(struct ebpfdsl_op) + cnt + 1, 0);
	struct decoded *d = (struct decoded *)(void *)block;
	d->n = 0;
	d->ops = block + head;
	d->start = (unsigned char *)(d->ops + cnt);
	memset(d->start, 0, cnt + 1);
	for (size_t pc = 0; pc < cnt;) {
		d->start[pc] = 1;
		pc += (size_t)ebpfdsl_decode(insns, cnt, pc, &d->ops[d->n++]);
	}
	d->start[cnt] = 1;
	return d;
}

/* Pushes "L<slot>", or "L<slot>_<k>" when that is one of the caller's
 * own label names (the set at `used`, or 0): a name stands for one place. */
static void push_made_up_name(lua_State *L, int used, int64_t to)
{
	lua_pushfstring(L, "L%d", (int)to);
	for (int k = 1; used; k++) {
		lua_pushvalue(L, -1);
		if (lua_rawget(L, used) == LUA_TNIL) {
			lua_pop(L, 1);
			return;
		}
		lua_pop(L, 2);
		lua_pushfstring(L, "L%d_%d", (int)to, k);
	}
}

/* Slot -> label name for the decoded program, into a table at the top:
 * names from `given` (a table at given_idx, or 0) first, else L<slot>.
 * Only slots where an instruction starts can carry a label: a jump into
 * the second half of an lddw keeps its numeric offset. */
static void collect_targets(lua_State *L, const struct decoded *d, size_t cnt, int given_idx)
{
	const unsigned char *starts = d->start;
	int t, used = 0;
	if (given_idx) {
		lua_newtable(L);
		used = lua_gettop(L);
		lua_pushnil(L);
		while (lua_next(L, given_idx)) {
			if (lua_type(L, -1) == LUA_TSTRING) {
				lua_pushboolean(L, 1);
				lua_rawset(L, used);
			} else {
				lua_pop(L, 1);
			}
		}
	}
	lua_newtable(L);
	t = lua_gettop(L);
	for (size_t k = 0, pc = 0; k < d->n; pc += (size_t)ebpfdsl_op_slots(&d->ops[k]), k++) {
		int64_t to = ebpfdsl_op_jump_target(&d->ops[k], pc);
		if (to >= 0 && (size_t)to <= cnt && !starts[to])
			to = -1;
		if (to >= 0 && (size_t)to <= cnt && lua_rawgeti(L, t, to) == LUA_TNIL) {
			lua_pop(L, 1);
			if (given_idx && lua_rawgeti(L, given_idx, to) == LUA_TSTRING) {
				lua_rawseti(L, t, to);
			} else {
				if (given_idx)
					lua_pop(L, 1);
				push_made_up_name(L, used, to);
				lua_rawseti(L, t, to);
			}
		} else if (to >= 0 && (size_t)to <= cnt) {
			lua_pop(L, 1);
		}
	}
	if (given_idx) { /* labels nothing jumps to still name their place */
		lua_pushnil(L);
		while (lua_next(L, given_idx)) {
			lua_Integer slot = -1;
			if (!ebpfdsl_lua_getinteger(L, -2, &slot) || slot < 0 || (size_t)slot > cnt || !starts[slot] ||
			    lua_type(L, -1) != LUA_TSTRING) {
				lua_pop(L, 1);
				continue;
			}
			if (lua_rawgeti(L, t, slot) == LUA_TNIL) {
				lua_pushvalue(L, -2);
				lua_rawseti(L, t, slot);
			}
			lua_pop(L, 2);
		}
	}
	if (given_idx)
		lua_remove(L, used);
}

static void set_reg(lua_State *L, const char *key, int reg)
{
	lua_pushfstring(L, "r%d", reg);
	lua_setfield(L, -2, key);
}

/* Pushes the table for op; jumps name a label when targets has one. */
static void push_op(lua_State *L, const struct ebpfdsl_op *op, size_t pc, int targets)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op);
	int64_t to = ebpfdsl_op_jump_target(op, pc);
	int raw = op->op == EBPFDSL_OP_RAW;
	int named = 0;

	lua_createtable(L, 0, 6);
	ebpfdsl_lua_set_str(L, "op", row->name);
	if (to >= 0 && lua_rawgeti(L, targets, to) == LUA_TSTRING) {
		lua_setfield(L, -2, "target");
		named = 1;
	} else if (to >= 0) {
		lua_pop(L, 1);
	}
	if (raw) {
		ebpfdsl_lua_set_int(L, "code", op->code);
		ebpfdsl_lua_set_int(L, "dst", op->dst);
		ebpfdsl_lua_set_int(L, "src", op->src);
		ebpfdsl_lua_set_int(L, "off", op->off);
		ebpfdsl_lua_set_int(L, "imm", op->imm);
		return;
	}
	if (op->has & EBPFDSL_HAS_DST)
		set_reg(L, "dst", op->dst);
	if (op->has & EBPFDSL_HAS_SRC)
		set_reg(L, "src", op->src);
	if (op->has & EBPFDSL_HAS_SIZE) {
		ebpfdsl_lua_set_str(L, "size", ebpfdsl_size_name(op->size));
	}
	if (op->has & EBPFDSL_HAS_BITS)
		ebpfdsl_lua_set_int(L, "bits", op->bits);
	/* a named jump's off is its target (a kfunc call, whose off is an
	 * fd_array index, goes nowhere and is never named) */
	if ((op->has & EBPFDSL_HAS_OFF) && !named)
		ebpfdsl_lua_set_int(L, "off", op->off);
	if ((op->has & EBPFDSL_HAS_IMM) &&
	    !(named && (row->shape == EBPFDSL_SHAPE_CALL_LOCAL || row->shape == EBPFDSL_SHAPE_LD_FUNC)))
		ebpfdsl_lua_set_int(L, "imm", op->imm);
	if (op->has & EBPFDSL_HAS_AUX)
		ebpfdsl_lua_set_int(L, "value_offset", op->aux);
	if (op->op == EBPFDSL_OP_CALL && ebpfdsl_helper_name((int)op->imm)) {
		ebpfdsl_lua_set_str(L, "helper", ebpfdsl_helper_name((int)op->imm));
	}
}

static void push_label(lua_State *L, int targets, size_t pc)
{
	lua_createtable(L, 0, 2);
	lua_pushliteral(L, "label");
	lua_setfield(L, -2, "op");
	lua_rawgeti(L, targets, (lua_Integer)pc);
	lua_setfield(L, -2, "name");
}

/* disassemble(bytes[, labels]) -> list of instruction and label tables */
static int l_disassemble(lua_State *L)
{
	size_t cnt, pc = 0;
	const struct bpf_insn *insns = check_bytes(L, 1, &cnt);
	const struct decoded *d;
	int targets, n = 0;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	d = push_decoded(L, insns, cnt); /* 3 */
	collect_targets(L, d, cnt, lua_isnoneornil(L, 2) ? 0 : 2);
	targets = lua_gettop(L);
	lua_createtable(L, (int)d->n, 0);
	for (size_t k = 0; k < d->n; pc += (size_t)ebpfdsl_op_slots(&d->ops[k]), k++) {
		if (lua_rawgeti(L, targets, (lua_Integer)pc) != LUA_TNIL) {
			lua_pop(L, 1);
			push_label(L, targets, pc);
			lua_rawseti(L, -2, ++n);
		} else {
			lua_pop(L, 1);
		}
		push_op(L, &d->ops[k], pc, targets);
		lua_rawseti(L, -2, ++n);
	}
	if (lua_rawgeti(L, targets, (lua_Integer)cnt) != LUA_TNIL) {
		lua_pop(L, 1);
		push_label(L, targets, cnt);
		lua_rawseti(L, -2, ++n);
	} else {
		lua_pop(L, 1);
	}
	return 1;
}

/* text(bytes[, labels[, {bytes=true}]]) -> the program as text, one
 * instruction a line, labels on their own lines */
static int l_text(lua_State *L)
{
	size_t cnt, pc, k = 0;
	const struct bpf_insn *insns = check_bytes(L, 1, &cnt);
	int show_bytes = 0, targets;
	const struct decoded *d;
	luaL_Buffer b;
	char line[256];

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	if (lua_istable(L, 3)) {
		lua_pushliteral(L, "bytes"); /* options are read raw, as lua_util's are */
		lua_rawget(L, 3);
		show_bytes = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	lua_settop(L, 3);
	d = push_decoded(L, insns, cnt); /* 4 */
	collect_targets(L, d, cnt, lua_isnoneornil(L, 2) ? 0 : 2);
	targets = lua_gettop(L);
	luaL_buffinit(L, &b);
	for (pc = 0; pc <= cnt; k++) {
		const struct ebpfdsl_op *op = &d->ops[k];
		const char *annot = NULL;
		int slots;
		if (lua_rawgeti(L, targets, (lua_Integer)pc) == LUA_TSTRING) {
			luaL_addvalue(&b);
			luaL_addstring(&b, ":\n");
		} else {
			lua_pop(L, 1);
		}
		if (pc == cnt)
			break;
		slots = ebpfdsl_op_slots(op);
		snprintf(line, sizeof(line), "%5zu: ", pc);
		luaL_addstring(&b, line);
		if (show_bytes) {
			for (int i = 0; i < slots * 8; i++) {
				snprintf(line, sizeof(line), "%02x ", ((const unsigned char *)(insns + pc))[i]);
				luaL_addstring(&b, line);
			}
			luaL_addchar(&b, '\t');
		}
		{
			int64_t to = ebpfdsl_op_jump_target(op, pc);
			/* the name stays alive in targets once popped */
			if (to >= 0 && lua_rawgeti(L, targets, to) == LUA_TSTRING)
				annot = lua_tostring(L, -1);
			annot = ebpfdsl_op_annotation(op, annot);
			if (to >= 0)
				lua_pop(L, 1);
		}
		/* the annotation is added apart: a label name has any length */
		ebpfdsl_op_print(line, sizeof(line), op, NULL);
		luaL_addstring(&b, line);
		if (annot) {
			luaL_addstring(&b, " <");
			luaL_addstring(&b, annot);
			luaL_addchar(&b, '>');
		}
		luaL_addchar(&b, '\n');
		pc += (size_t)slots;
	}
	luaL_pushresult(&b);
	return 1;
}

static const luaL_Reg disasm_functions[] = {
	{ "disassemble", l_disassemble },
	{ "text", l_text },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_disasm(lua_State *L)
{
	luaL_setfuncs(L, disasm_functions, 0);
}
