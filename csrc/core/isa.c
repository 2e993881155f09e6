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
	PAIR_(JEQ, JNE) PAIR_(JGT, JLE) PAIR_(JGE, JLT) PAIR_(JSGT, JSLE) PAIR_(JSGE, JSLT)
	PAIR_(JEQ32, JNE32) PAIR_(JGT32, JLE32) PAIR_(JGE32, JLT32) PAIR_(JSGT32, JSLE32)
	PAIR_(JSGE32, JSLT32)
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
