/* SPDX-License-Identifier: MIT */
/* The instruction table as data: rows by mnemonic, name lookup, register
 * and size names, and the shorthand constructors of the C API. */
#include <string.h>
#include "core.h"

const struct ebpfdsl_isa_row ebpfdsl__isa_rows[] = {
#define ROW_(id, name, code, shape, aux, cpu) { name, code, EBPFDSL_SHAPE_##shape, aux, cpu },
	EBPFDSL_ISA(ROW_)
#undef ROW_
};

/* The shapes, beside the rows: slots, where a numeric jump distance lives
 * (and whether the assembler follows it), fields that must be present,
 * fields that may be, and up to two pairs of which exactly one must be. */
#define F_(field) EBPFDSL_HAS_##field
#define NONE_ EBPFDSL__JUMP_NONE
#define OFF_ EBPFDSL__JUMP_OFF
#define IMM_ EBPFDSL__JUMP_IMM
#define RAW_ EBPFDSL__JUMP_RAW
const struct ebpfdsl__shape ebpfdsl__shapes[] = {
	/* slots, jump, followed, required, optional, one of, one of */
	[EBPFDSL_SHAPE_ALU] = { 1, NONE_, 0, F_(DST), 0, F_(SRC) | F_(IMM), 0 },
	[EBPFDSL_SHAPE_NEG] = { 1, NONE_, 0, F_(DST), 0, 0, 0 },
	[EBPFDSL_SHAPE_MOVSX] = { 1, NONE_, 0, F_(DST) | F_(SRC) | F_(BITS), 0, 0, 0 },
	[EBPFDSL_SHAPE_END] = { 1, NONE_, 0, F_(DST) | F_(BITS), 0, 0, 0 },
	[EBPFDSL_SHAPE_JA] = { 1, OFF_, 1, 0, 0, F_(TARGET) | F_(OFF), 0 },
	[EBPFDSL_SHAPE_GOTOL] = { 1, OFF_, 1, 0, 0, F_(TARGET) | F_(OFF), 0 },
	[EBPFDSL_SHAPE_JCOND] = { 1, OFF_, 1, F_(DST), 0, F_(SRC) | F_(IMM), F_(TARGET) | F_(OFF) },
	[EBPFDSL_SHAPE_CALL] = { 1, NONE_, 0, F_(IMM), 0, 0, 0 },
	[EBPFDSL_SHAPE_CALL_LOCAL] = { 1, IMM_, 1, 0, 0, F_(TARGET) | F_(IMM), 0 },
	[EBPFDSL_SHAPE_CALL_KFUNC] = { 1, NONE_, 0, F_(IMM), F_(OFF), 0, 0 },
	[EBPFDSL_SHAPE_EXIT] = { 1, NONE_, 0, 0, 0, 0, 0 },
	[EBPFDSL_SHAPE_LDDW] = { 2, NONE_, 0, F_(DST) | F_(IMM), 0, 0, 0 },
	[EBPFDSL_SHAPE_LD_IMM] = { 2, NONE_, 0, F_(DST) | F_(IMM), 0, 0, 0 },
	[EBPFDSL_SHAPE_LD_MAPV] = { 2, NONE_, 0, F_(DST) | F_(IMM), F_(AUX), 0, 0 },
	[EBPFDSL_SHAPE_LD_FUNC] = { 2, IMM_, 1, F_(DST), 0, F_(TARGET) | F_(IMM), 0 },
	[EBPFDSL_SHAPE_LD_ABS] = { 1, NONE_, 0, F_(SIZE) | F_(IMM), 0, 0, 0 },
	[EBPFDSL_SHAPE_LD_IND] = { 1, NONE_, 0, F_(SIZE) | F_(SRC), F_(IMM), 0, 0 },
	[EBPFDSL_SHAPE_LDX] = { 1, NONE_, 0, F_(SIZE) | F_(DST) | F_(SRC), F_(OFF), 0, 0 },
	[EBPFDSL_SHAPE_LDSX] = { 1, NONE_, 0, F_(SIZE) | F_(DST) | F_(SRC), F_(OFF), 0, 0 },
	[EBPFDSL_SHAPE_ST] = { 1, NONE_, 0, F_(SIZE) | F_(DST) | F_(IMM), F_(OFF), 0, 0 },
	[EBPFDSL_SHAPE_STX] = { 1, NONE_, 0, F_(SIZE) | F_(DST) | F_(SRC), F_(OFF), 0, 0 },
	[EBPFDSL_SHAPE_ATOMIC] = { 1, NONE_, 0, F_(SIZE) | F_(DST) | F_(SRC), F_(OFF), 0, 0 },
	[EBPFDSL_SHAPE_MAY_GOTO] = { 1, OFF_, 0, 0, 0, F_(TARGET) | F_(OFF), 0 },
	[EBPFDSL_SHAPE_ADDR_SPACE_CAST] = { 1, NONE_, 0, F_(DST) | F_(SRC) | F_(IMM), 0, 0, 0 },
	[EBPFDSL_SHAPE_LOAD_ACQ] = { 1, NONE_, 0, F_(SIZE) | F_(DST) | F_(SRC), F_(OFF), 0, 0 },
	[EBPFDSL_SHAPE_STORE_REL] = { 1, NONE_, 0, F_(SIZE) | F_(DST) | F_(SRC), F_(OFF), 0, 0 },
	[EBPFDSL_SHAPE_RAW] = { 1, RAW_, 1, F_(CODE), F_(DST) | F_(SRC) | F_(OFF) | F_(IMM), 0, 0 },
};
#undef F_
#undef NONE_
#undef OFF_
#undef IMM_
#undef RAW_

const struct ebpfdsl_isa_row *ebpfdsl_isa_row(int op)
{
	if (op < 0 || op >= EBPFDSL_OP_COUNT_)
		return NULL;
	return &ebpfdsl__isa_rows[op];
}

int ebpfdsl_isa_lookup(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < EBPFDSL_OP_COUNT_; i++)
		if (ebpfdsl__isa_rows[i].name[0] == name[0] && strcmp(ebpfdsl__isa_rows[i].name, name) == 0)
			return i;
	return -1;
}

int ebpfdsl_reg_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "fp") == 0)
		return BPF_REG_10;
	if (name[0] != 'r' || name[1] < '0' || name[1] > '9')
		return -1;
	if (name[2] == '\0')
		return name[1] - '0';
	if (name[1] == '1' && name[2] == '0' && name[3] == '\0')
		return BPF_REG_10;
	return -1;
}

int ebpfdsl_size_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "b") == 0)
		return EBPFDSL_SIZE_B;
	if (strcmp(name, "h") == 0)
		return EBPFDSL_SIZE_H;
	if (strcmp(name, "w") == 0)
		return EBPFDSL_SIZE_W;
	if (strcmp(name, "dw") == 0)
		return EBPFDSL_SIZE_DW;
	return -1;
}

const char *ebpfdsl_size_name(int size)
{
	switch (size) {
	case EBPFDSL_SIZE_B: return "b";
	case EBPFDSL_SIZE_H: return "h";
	case EBPFDSL_SIZE_W: return "w";
	case EBPFDSL_SIZE_DW: return "dw";
	default: return NULL;
	}
}

int ebpfdsl_op_slots(const struct ebpfdsl_op *op)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op);
	return row ? ebpfdsl__shape_slots(row->shape) : 1;
}

char ebpfdsl__reg_prefix(int op)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op);
	int cls = row ? BPF_CLASS(row->code) : BPF_ALU64;
	return (cls == BPF_ALU || cls == BPF_JMP32) ? 'w' : 'r';
}

int ebpfdsl__invert_jump(int op)
{
	switch (op) {
#define PAIR_(a, b) case EBPFDSL_OP_##a: return EBPFDSL_OP_##b; case EBPFDSL_OP_##b: return EBPFDSL_OP_##a;
#define TWINS_(a, b) PAIR_(a, b) PAIR_(a##32, b##32) /* the 32-bit forms invert alike */
	TWINS_(JEQ, JNE) TWINS_(JGT, JLE) TWINS_(JGE, JLT) TWINS_(JSGT, JSLE) TWINS_(JSGE, JSLT)
#undef TWINS_
#undef PAIR_
	default:
		return -1;
	}
}

struct ebpfdsl_op ebpfdsl_op_imm(int op, int dst, int64_t imm)
{
	struct ebpfdsl_op o = { .op = op, .has = EBPFDSL_HAS_DST | EBPFDSL_HAS_IMM, .dst = dst, .imm = imm };
	return o;
}

struct ebpfdsl_op ebpfdsl_op_reg(int op, int dst, int src)
{
	struct ebpfdsl_op o = { .op = op, .has = EBPFDSL_HAS_DST | EBPFDSL_HAS_SRC, .dst = dst, .src = src };
	return o;
}

struct ebpfdsl_op ebpfdsl_op_jmp_imm(int op, int dst, int64_t imm, const char *target)
{
	struct ebpfdsl_op o = ebpfdsl_op_imm(op, dst, imm);
	o.has |= EBPFDSL_HAS_TARGET;
	o.target = target;
	return o;
}

struct ebpfdsl_op ebpfdsl_op_jmp_reg(int op, int dst, int src, const char *target)
{
	struct ebpfdsl_op o = ebpfdsl_op_reg(op, dst, src);
	o.has |= EBPFDSL_HAS_TARGET;
	o.target = target;
	return o;
}

struct ebpfdsl_op ebpfdsl_op_mem(int op, int size, int dst, int src, int64_t off)
{
	struct ebpfdsl_op o = { .op = op,
				.has = EBPFDSL_HAS_SIZE | EBPFDSL_HAS_DST | EBPFDSL_HAS_SRC | EBPFDSL_HAS_OFF,
				.size = size, .dst = dst, .src = src, .off = off };
	return o;
}

struct ebpfdsl_op ebpfdsl_op_call(int64_t helper_id)
{
	struct ebpfdsl_op o = { .op = EBPFDSL_OP_CALL, .has = EBPFDSL_HAS_IMM, .imm = helper_id };
	return o;
}

struct ebpfdsl_op ebpfdsl_op_exit(void)
{
	struct ebpfdsl_op o = { .op = EBPFDSL_OP_EXIT };
	return o;
}
