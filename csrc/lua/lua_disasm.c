/* SPDX-License-Identifier: MIT */
/* Programs as bytes -> Lua: disassemble to the instruction tables the
 * assembler takes, and text for dump; csrc/core/listing.c makes both. */
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

#define LISTING_BOX "ebpfdsl.listing"

static int listing_gc(lua_State *L)
{
	ebpfdsl_listing **box = luaL_checkudata(L, 1, LISTING_BOX);
	ebpfdsl_listing__free(*box);
	*box = NULL;
	return 0;
}

/* The listing of the program (csrc/core/listing.c), in a userdata pushed
 * so that an error half way frees it. The caller's labels {[slot]=name}
 * at given_idx (or 0) go as an array, every name in it (one at a key that
 * is no slot still is a name the made-up ones avoid); the array and the
 * names stay alive on the stack, below the box, while it is used. */
static const ebpfdsl_listing *push_listing(lua_State *L, const struct bpf_insn *insns, size_t cnt, int given_idx)
{
	struct ebpfdsl_label *labels = NULL;
	size_t n = 0;
	ebpfdsl_listing **box;
	if (given_idx) {
		lua_pushnil(L);
		while (lua_next(L, given_idx)) {
			n += lua_type(L, -1) == LUA_TSTRING;
			lua_pop(L, 1);
		}
		labels = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*labels), 0);
		n = 0;
		lua_pushnil(L);
		while (lua_next(L, given_idx)) {
			lua_Integer slot = -1;
			if (lua_type(L, -1) == LUA_TSTRING) {
				labels[n].name = lua_tostring(L, -1); /* kept by the caller's table */
				labels[n++].slot = ebpfdsl_lua_getinteger(L, -2, &slot) && slot >= 0 && (size_t)slot <= cnt
							   ? (size_t)slot
							   : SIZE_MAX;
			}
			lua_pop(L, 1);
		}
	}
	box = lua_newuserdatauv(L, sizeof(*box), 0);
	*box = NULL;
	luaL_setmetatable(L, LISTING_BOX);
	*box = ebpfdsl_listing__new(insns, cnt, labels, n);
	if (!*box)
		luaL_error(L, "out of memory");
	return *box;
}

static void set_reg(lua_State *L, const char *key, int reg)
{
	lua_pushfstring(L, "r%d", reg);
	lua_setfield(L, -2, key);
}

/* Pushes the table for op; jumps name a label when the listing has one. */
static void push_op(lua_State *L, const struct ebpfdsl_op *op, size_t pc, const ebpfdsl_listing *l)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op);
	const char *target = ebpfdsl_listing__label(l, ebpfdsl_op_jump_target(op, pc));
	int raw = op->op == EBPFDSL_OP_RAW;
	int named = target != NULL;

	lua_createtable(L, 0, 6);
	ebpfdsl_lua_set_str(L, "op", row->name);
	if (named)
		ebpfdsl_lua_set_str(L, "target", target);
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
	/* a named jump's distance (off, or imm of local calls and ld_func)
	 * is its target */
	if ((op->has & EBPFDSL_HAS_OFF) && !(named && (ebpfdsl_op_jump_field(op) & EBPFDSL_HAS_OFF)))
		ebpfdsl_lua_set_int(L, "off", op->off);
	if ((op->has & EBPFDSL_HAS_IMM) && !(named && (ebpfdsl_op_jump_field(op) & EBPFDSL_HAS_IMM)))
		ebpfdsl_lua_set_int(L, "imm", op->imm);
	if (op->has & EBPFDSL_HAS_AUX)
		ebpfdsl_lua_set_int(L, "value_offset", op->aux);
	if (op->op == EBPFDSL_OP_CALL && ebpfdsl_helper_name((int)op->imm)) {
		ebpfdsl_lua_set_str(L, "helper", ebpfdsl_helper_name((int)op->imm));
	}
}

static void push_label(lua_State *L, const char *name)
{
	lua_createtable(L, 0, 2);
	lua_pushliteral(L, "label");
	lua_setfield(L, -2, "op");
	lua_pushstring(L, name);
	lua_setfield(L, -2, "name");
}

/* disassemble(bytes[, labels]) -> list of instruction and label tables */
static int l_disassemble(lua_State *L)
{
	size_t cnt, slot;
	const struct bpf_insn *insns = check_bytes(L, 1, &cnt);
	const struct ebpfdsl_op *op;
	const ebpfdsl_listing *l;
	int n = 0;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	l = push_listing(L, insns, cnt, lua_isnoneornil(L, 2) ? 0 : 2);
	lua_newtable(L);
	for (size_t k = 0; ebpfdsl_listing__op(l, k, &op, &slot) == 0; k++) {
		if (ebpfdsl_listing__label(l, (int64_t)slot)) {
			push_label(L, ebpfdsl_listing__label(l, (int64_t)slot));
			lua_rawseti(L, -2, ++n);
		}
		push_op(L, op, slot, l);
		lua_rawseti(L, -2, ++n);
	}
	if (ebpfdsl_listing__label(l, (int64_t)cnt)) {
		push_label(L, ebpfdsl_listing__label(l, (int64_t)cnt));
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

/* text(bytes[, labels[, {bytes=true}]]) -> the program as text, one
 * instruction a line, labels on their own lines (ebpfdsl_listing__text) */
static int l_text(lua_State *L)
{
	size_t cnt, room;
	const struct bpf_insn *insns = check_bytes(L, 1, &cnt);
	struct ebpfdsl_listing_opts o = { .sz = sizeof(o) };
	const ebpfdsl_listing *l;
	luaL_Buffer b;
	int len;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	if (lua_istable(L, 3)) {
		lua_pushliteral(L, "bytes"); /* options are read raw, as lua_util's are */
		lua_rawget(L, 3);
		o.bytes = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	lua_settop(L, 3);
	l = push_listing(L, insns, cnt, lua_isnoneornil(L, 2) ? 0 : 2);
	/* one pass into room for most programs' lines, a second when short */
	room = cnt * (o.bytes ? 96 : 48) + 64;
	len = ebpfdsl_listing__text(l, &o, luaL_buffinitsize(L, &b, room), room);
	if ((size_t)len >= room)
		ebpfdsl_listing__text(l, &o, luaL_prepbuffsize(&b, (size_t)len + 1), (size_t)len + 1);
	luaL_pushresultsize(&b, (size_t)len);
	return 1;
}

static const luaL_Reg disasm_functions[] = {
	{ "disassemble", l_disassemble },
	{ "text", l_text },
	{ NULL, NULL },
};

void ebpfdsl_lua_open_disasm(lua_State *L)
{
	luaL_newmetatable(L, LISTING_BOX);
	lua_pushcfunction(L, listing_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_setfuncs(L, disasm_functions, 0);
}
