/* SPDX-License-Identifier: MIT */
/* Decoding: the inverse of encode.c, driven by the same table. A row
 * matches only when every field it does not use is zero, so whatever is
 * decoded re-encodes to the same bytes; anything else becomes "raw". */
#include <string.h>
#include "core.h"

#define D EBPFDSL_HAS_DST
#define S EBPFDSL_HAS_SRC
#define I EBPFDSL_HAS_IMM
#define O EBPFDSL_HAS_OFF
#define C EBPFDSL_HAS_CODE

/* Can an instruction with opcode byte `code` be the row's? The source
 * bit of src-or-imm shapes, and the size bits of sized shapes, come from
 * the operands; every other bit is the row's own. */
static int code_fits(const struct ebpfdsl_isa_row *row, int code)
{
	const struct ebpfdsl__shape *sh = &ebpfdsl__shapes[row->shape];
	if (ebpfdsl__shape_x(sh))
		code &= ~BPF_X;
	if (ebpfdsl__shape_sized(sh))
		code &= ~0x18;
	return code == row->code;
}

/* For each opcode byte, the rows code_fits (at most 12 share one: the
 * atomics with load-acquire and store-release), in table order, so that
 * the first row that matches wins as in a scan of the whole table. Built
 * once, at load, from the table. */
#define MAX_CANDIDATES 16
static uint8_t candidates[256][MAX_CANDIDATES];
static uint8_t ncandidates[256]; /* UINT8_MAX: too many, scan the table */

/* Each row fits at most 4 opcode bytes (its own with the source bit, or
 * with each size): rows in order, codes per row, not 256 scans of the
 * table when the library loads. */
__attribute__((constructor)) static void index_rows(void)
{
	for (int i = 0; i < EBPFDSL_OP_RAW; i++) {
		const struct ebpfdsl_isa_row *row = ebpfdsl__row(i);
		const struct ebpfdsl__shape *sh = &ebpfdsl__shapes[row->shape];
		int codes[4] = { row->code, row->code | BPF_X, row->code | 0x10, row->code | 0x18 }, n;
		n = ebpfdsl__shape_x(sh) ? 2 : ebpfdsl__shape_sized(sh) ? 4 : 1;
		for (int k = 0; k < n; k++) {
			int code = codes[k];
			if (!code_fits(row, code) || ncandidates[code] == UINT8_MAX)
				continue;
			if (ncandidates[code] == MAX_CANDIDATES) {
				ncandidates[code] = UINT8_MAX; /* too many: decode scans the table */
				continue;
			}
			candidates[code][ncandidates[code]++] = (uint8_t)i;
		}
	}
}

/* One field of the encoded instruction, read back into op where the
 * shape's enc column says it came from: 0 when it cannot be the row's (a
 * field it leaves zero is not, the row's aux is not the row's). A field
 * whose range is 0 to past INT32_MAX is unsigned (address spaces, value offsets). */
static int take(struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, int from, int64_t v)
{
	const struct ebpfdsl__range *r;
	switch (from) {
	case EBPFDSL__FROM_SRC:
		return (op->has & S) ? (op->src = (int)v, 1) : v == 0;
	case EBPFDSL__FROM_OFF:
		return (op->has & O) ? (op->off = v, 1) : v == 0;
	case EBPFDSL__FROM_IMM:
		if (!(op->has & I))
			return v == 0;
		r = &ebpfdsl__ranges[ebpfdsl__shapes[row->shape].r_imm];
		op->imm = r->lo == 0 && r->hi > INT32_MAX ? (uint32_t)v : v;
		return 1;
	case EBPFDSL__FROM_BITS:
		op->bits = (int)v;
		return 1;
	case EBPFDSL__FROM_ROW:
		return v == row->aux;
	case EBPFDSL__FROM_AUX:
		return (op->has & EBPFDSL_HAS_AUX) ? (op->aux = (uint32_t)v, 1) : v == 0;
	case EBPFDSL__FROM_HIGH:
		op->imm = (int64_t)((uint64_t)(uint32_t)op->imm | ((uint64_t)(uint32_t)v << 32));
		return 1;
	default:
		return v == 0;
	}
}

/* Decodes `in` (with `next`, the following slot or NULL) as the row's,
 * whose code_fits: the fields the shape has (src or imm by the source
 * bit, never a label), the rest as its enc column says. 0 when some
 * field does not fit the row. */
static int decode_row(struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, const struct bpf_insn *in,
		      const struct bpf_insn *next)
{
	const struct ebpfdsl__shape *sh = &ebpfdsl__shapes[row->shape];
	unsigned has = (sh->req | sh->opt | sh->one1 | sh->one2) & ~(unsigned)EBPFDSL_HAS_TARGET;

	if (ebpfdsl__shape_x(sh))
		has &= ~((in->code & BPF_X) ? I : S);
	if ((sh->unset0 & O) && !in->off)
		has &= ~(unsigned)O;
	op->has = has;
	if (sh->slots == 2 && (!next || next->code || next->dst_reg || next->src_reg || next->off))
		return 0;
	if (!(has & D) && in->dst_reg)
		return 0;
	if (!take(op, row, sh->enc[0], in->src_reg) || !take(op, row, sh->enc[1], in->off) ||
	    !take(op, row, sh->enc[2], in->imm) || (sh->slots == 2 && !take(op, row, sh->enc[3], next->imm)))
		return 0;
	if (ebpfdsl__shape_sized(sh))
		op->size = in->code & 0x18;
	return 1;
}

static void init(struct ebpfdsl_op *op, const struct bpf_insn *in)
{
	memset(op, 0, sizeof(*op));
	op->dst = in->dst_reg;
	op->src = in->src_reg;
	op->off = in->off;
	op->imm = in->imm;
}

int ebpfdsl_decode(const struct bpf_insn *insns, size_t cnt, size_t pc, struct ebpfdsl_op *op)
{
	const struct bpf_insn *in = &insns[pc];
	const struct bpf_insn *next = pc + 1 < cnt ? &insns[pc + 1] : NULL;
	int n = ncandidates[in->code], scan = n == UINT8_MAX;

	init(op, in);
	for (int k = 0; k < (scan ? EBPFDSL_OP_RAW : n); k++) {
		int i = scan ? k : candidates[in->code][k];
		const struct ebpfdsl_isa_row *row = ebpfdsl__row(i);
		op->op = i;
		/* A row the assembler would refuse (r11..r15, a shift by 64,
		 * a division by a zero immediate, a byte store of 1000) is not
		 * the instruction's, so that assemble(disassemble(b)) == b for
		 * any bytes: what no row takes stays raw. */
		if (code_fits(row, in->code) && decode_row(op, row, in, next) &&
		    ebpfdsl__validate_row(op, row, 4, NULL, 0) == 0)
			return ebpfdsl__shape_slots(row->shape);
		init(op, in);
	}
	op->op = EBPFDSL_OP_RAW;
	op->code = in->code;
	op->has = C | D | S | O | I;
	return 1;
}

int64_t ebpfdsl_op_jump_target(const struct ebpfdsl_op *op, size_t pc)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op);
	if (!row)
		return -1;
	switch (ebpfdsl__shapes[row->shape].jump) {
	case EBPFDSL__JUMP_OFF:
		return (int64_t)pc + 1 + op->off;
	case EBPFDSL__JUMP_IMM:
		return (int64_t)pc + 1 + op->imm;
	default:
		return -1;
	}
}
