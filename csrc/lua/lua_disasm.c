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

/* Slot -> label name for the program at idx 1, into a table at the top:
 * names from `given` (a table at given_idx, or 0) first, else L<slot>. */
static void collect_targets(lua_State *L, const struct bpf_insn *insns, size_t cnt, int given_idx)
{
	struct ebpfdsl_op op;
	int t, used = 0;
	/* Only slots where an instruction starts can carry a label: a jump
	 * into the second half of an lddw keeps its numeric offset. */
	unsigned char *starts = lua_newuserdatauv(L, cnt + 1, 0);
	memset(starts, 0, cnt + 1);
	for (size_t pc = 0; pc < cnt;) {
		starts[pc] = 1;
		pc += (size_t)ebpfdsl_decode(insns, cnt, pc, &op);
	}
	starts[cnt] = 1;
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
	for (size_t pc = 0; pc < cnt;) {
		int n = ebpfdsl_decode(insns, cnt, pc, &op);
		int64_t to = ebpfdsl_op_jump_target(&op, pc);
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
		pc += (size_t)n;
	}
	if (given_idx) { /* labels nothing jumps to still name their place */
		lua_pushnil(L);
		while (lua_next(L, given_idx)) {
			int isint;
			lua_Integer slot = lua_tointegerx(L, -2, &isint);
			if (!isint || lua_type(L, -2) != LUA_TNUMBER || slot < 0 || (size_t)slot > cnt || !starts[slot] ||
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
	lua_replace(L, given_idx ? t - 2 : t - 1); /* over starts */
	if (given_idx)
		lua_pop(L, 1); /* used */
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
	if ((op->has & EBPFDSL_HAS_OFF) && !(named && row->shape != EBPFDSL_SHAPE_CALL_KFUNC))
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
	size_t cnt, pc;
	const struct bpf_insn *insns = check_bytes(L, 1, &cnt);
	struct ebpfdsl_op op;
	int targets, n = 0;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	collect_targets(L, insns, cnt, lua_isnoneornil(L, 2) ? 0 : 2);
	targets = lua_gettop(L);
	lua_createtable(L, (int)cnt, 0);
	for (pc = 0; pc < cnt;) {
		int slots = ebpfdsl_decode(insns, cnt, pc, &op);
		if (lua_rawgeti(L, targets, (lua_Integer)pc) != LUA_TNIL) {
			lua_pop(L, 1);
			push_label(L, targets, pc);
			lua_rawseti(L, -2, ++n);
		} else {
			lua_pop(L, 1);
		}
		push_op(L, &op, pc, targets);
		lua_rawseti(L, -2, ++n);
		pc += (size_t)slots;
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
	size_t cnt, pc;
	const struct bpf_insn *insns = check_bytes(L, 1, &cnt);
	int show_bytes = 0, targets;
	struct ebpfdsl_op op;
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
	collect_targets(L, insns, cnt, lua_isnoneornil(L, 2) ? 0 : 2);
	targets = lua_gettop(L);
	luaL_buffinit(L, &b);
	for (pc = 0; pc <= cnt;) {
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
		slots = ebpfdsl_decode(insns, cnt, pc, &op);
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
			int64_t to = ebpfdsl_op_jump_target(&op, pc);
			/* the name stays alive in targets once popped */
			if (to >= 0 && lua_rawgeti(L, targets, to) == LUA_TSTRING)
				annot = lua_tostring(L, -1);
			else if (op.op == EBPFDSL_OP_CALL)
				annot = ebpfdsl_helper_name((int)op.imm);
			if (to >= 0)
				lua_pop(L, 1);
		}
		/* the annotation is added apart: a label name has any length */
		ebpfdsl_op_print(line, sizeof(line), &op, NULL);
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
