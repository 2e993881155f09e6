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
#define Z EBPFDSL_HAS_SIZE
#define B EBPFDSL_HAS_BITS
#define A EBPFDSL_HAS_AUX
#define C EBPFDSL_HAS_CODE

static int sized(int shape)
{
	switch (shape) {
	case EBPFDSL_SHAPE_LD_ABS:
	case EBPFDSL_SHAPE_LD_IND:
	case EBPFDSL_SHAPE_LDX:
	case EBPFDSL_SHAPE_LDSX:
	case EBPFDSL_SHAPE_ST:
	case EBPFDSL_SHAPE_STX:
	case EBPFDSL_SHAPE_ATOMIC:
	case EBPFDSL_SHAPE_LOAD_ACQ:
	case EBPFDSL_SHAPE_STORE_REL:
		return 1;
	default:
		return 0;
	}
}

/* Can an instruction with opcode byte `code` be the row's? The source
 * bit of ALU ops and conditions, and the size bits of sized shapes, come
 * from the operands; every other bit is the row's own. */
static int code_fits(const struct ebpfdsl_isa_row *row, int code)
{
	switch (row->shape) {
	case EBPFDSL_SHAPE_ALU:
	case EBPFDSL_SHAPE_JCOND:
		return (code & ~BPF_X) == row->code;
	default:
		return (sized(row->shape) ? code & ~0x18 : code) == row->code;
	}
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
		int codes[4] = { row->code, row->code | BPF_X, row->code | 0x10, row->code | 0x18 }, n;
		n = row->shape == EBPFDSL_SHAPE_ALU || row->shape == EBPFDSL_SHAPE_JCOND ? 2 : sized(row->shape) ? 4 : 1;
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

/* Does the row encode `in` (with `next`, the following slot or NULL)? */
static int row_matches(const struct ebpfdsl_isa_row *row, const struct bpf_insn *in,
		       const struct bpf_insn *next)
{
	int size = in->code & 0x18;
	int x = in->code & BPF_X;
	int base = sized(row->shape) ? in->code & ~0x18 : in->code;

	switch (row->shape) {
	case EBPFDSL_SHAPE_ALU:
		return (in->code & ~BPF_X) == row->code && in->off == row->aux &&
		       (x ? in->imm == 0 : in->src_reg == 0);
	case EBPFDSL_SHAPE_NEG:
		return in->code == row->code && !in->src_reg && !in->off && !in->imm;
	case EBPFDSL_SHAPE_MOVSX:
		return in->code == row->code && !in->imm &&
		       (in->off == 8 || in->off == 16 || (in->off == 32 && BPF_CLASS(row->code) == BPF_ALU64));
	case EBPFDSL_SHAPE_END:
		return in->code == row->code && !in->src_reg && !in->off &&
		       (in->imm == 16 || in->imm == 32 || in->imm == 64);
	case EBPFDSL_SHAPE_JA:
		return in->code == row->code && !in->dst_reg && !in->src_reg && !in->imm;
	case EBPFDSL_SHAPE_GOTOL:
		return in->code == row->code && !in->dst_reg && !in->src_reg && !in->off;
	case EBPFDSL_SHAPE_MAY_GOTO:
		return in->code == row->code && !in->dst_reg && !in->src_reg && !in->imm;
	case EBPFDSL_SHAPE_ADDR_SPACE_CAST:
		return in->code == row->code && in->off == row->aux;
	case EBPFDSL_SHAPE_JCOND:
		return (in->code & ~BPF_X) == row->code && (x ? in->imm == 0 : in->src_reg == 0);
	case EBPFDSL_SHAPE_CALL:
	case EBPFDSL_SHAPE_CALL_LOCAL:
		return in->code == row->code && in->src_reg == row->aux && !in->dst_reg && !in->off &&
		       (row->shape == EBPFDSL_SHAPE_CALL_LOCAL || in->imm >= 0);
	case EBPFDSL_SHAPE_CALL_KFUNC:
		return in->code == row->code && in->src_reg == row->aux && !in->dst_reg && in->imm >= 0;
	case EBPFDSL_SHAPE_EXIT:
		return in->code == row->code && !in->dst_reg && !in->src_reg && !in->off && !in->imm;
	case EBPFDSL_SHAPE_LDDW:
	case EBPFDSL_SHAPE_LD_IMM:
	case EBPFDSL_SHAPE_LD_MAPV:
	case EBPFDSL_SHAPE_LD_FUNC:
		if (in->code != row->code || in->src_reg != row->aux || in->off || !next)
			return 0;
		if (next->code || next->dst_reg || next->src_reg || next->off)
			return 0;
		/* the second slot's imm is the value offset for map values, the
		 * high half for plain lddw, and zero for the rest */
		return row->shape == EBPFDSL_SHAPE_LD_MAPV || row->shape == EBPFDSL_SHAPE_LDDW || next->imm == 0;
	case EBPFDSL_SHAPE_LD_ABS:
		return base == row->code && size != BPF_DW && !in->dst_reg && !in->src_reg && !in->off;
	case EBPFDSL_SHAPE_LD_IND:
		return base == row->code && size != BPF_DW && !in->dst_reg && !in->off;
	case EBPFDSL_SHAPE_LDX:
		return base == row->code && !in->imm;
	case EBPFDSL_SHAPE_LDSX:
		return base == row->code && size != BPF_DW && !in->imm;
	case EBPFDSL_SHAPE_ST:
		return base == row->code && !in->src_reg;
	case EBPFDSL_SHAPE_STX:
		return base == row->code && !in->imm;
	case EBPFDSL_SHAPE_ATOMIC:
		return base == row->code && (size == BPF_W || size == BPF_DW) && in->imm == row->aux;
	case EBPFDSL_SHAPE_LOAD_ACQ:
	case EBPFDSL_SHAPE_STORE_REL:
		return base == row->code && in->imm == row->aux;
	default:
		return 0;
	}
}

static void fill(struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, const struct bpf_insn *in,
		 const struct bpf_insn *next)
{
	switch (row->shape) {
	case EBPFDSL_SHAPE_ALU:
		op->has = D | ((in->code & BPF_X) ? S : I);
		break;
	case EBPFDSL_SHAPE_NEG:
		op->has = D;
		break;
	case EBPFDSL_SHAPE_MOVSX:
		op->has = D | S | B;
		op->bits = in->off;
		break;
	case EBPFDSL_SHAPE_END:
		op->has = D | B;
		op->bits = in->imm;
		break;
	case EBPFDSL_SHAPE_JA:
	case EBPFDSL_SHAPE_MAY_GOTO:
		op->has = O;
		break;
	case EBPFDSL_SHAPE_ADDR_SPACE_CAST:
		op->has = D | S | I;
		op->imm = (uint32_t)in->imm; /* two 16-bit numbers, not a signed value */
		break;
	case EBPFDSL_SHAPE_GOTOL:
		op->has = O;
		op->off = in->imm;
		return;
	case EBPFDSL_SHAPE_JCOND:
		op->has = D | O | ((in->code & BPF_X) ? S : I);
		break;
	case EBPFDSL_SHAPE_CALL:
	case EBPFDSL_SHAPE_CALL_LOCAL:
		op->has = I;
		break;
	case EBPFDSL_SHAPE_CALL_KFUNC:
		op->has = I | (in->off ? O : 0);
		break;
	case EBPFDSL_SHAPE_EXIT:
		op->has = 0;
		break;
	case EBPFDSL_SHAPE_LDDW:
		op->has = D | I;
		op->imm = (int64_t)((uint64_t)(uint32_t)in->imm | ((uint64_t)(uint32_t)next->imm << 32));
		return;
	case EBPFDSL_SHAPE_LD_IMM:
	case EBPFDSL_SHAPE_LD_FUNC:
		op->has = D | I;
		break;
	case EBPFDSL_SHAPE_LD_MAPV:
		op->has = D | I | A;
		op->aux = (uint32_t)next->imm;
		break;
	case EBPFDSL_SHAPE_LD_ABS:
		op->has = Z | I;
		break;
	case EBPFDSL_SHAPE_LD_IND:
		op->has = Z | S | I;
		break;
	case EBPFDSL_SHAPE_LDX:
	case EBPFDSL_SHAPE_LDSX:
	case EBPFDSL_SHAPE_STX:
	case EBPFDSL_SHAPE_ATOMIC:
	case EBPFDSL_SHAPE_LOAD_ACQ:
	case EBPFDSL_SHAPE_STORE_REL:
		op->has = Z | D | S | O;
		break;
	case EBPFDSL_SHAPE_ST:
		op->has = Z | D | I | O;
		break;
	default:
		break;
	}
	if (sized(row->shape))
		op->size = in->code & 0x18;
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
	char err[EBPFDSL_ERRLEN];
	int n = ncandidates[in->code], scan = n == UINT8_MAX;

	init(op, in);
	for (int k = 0; k < (scan ? EBPFDSL_OP_RAW : n); k++) {
		int i = scan ? k : candidates[in->code][k];
		const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(i);
		if (!row_matches(row, in, next))
			continue;
		op->op = i;
		fill(op, row, in, next);
		/* A row the assembler would refuse (r11..r15, a shift by 64,
		 * a division by a zero immediate, a byte store of 1000) stays
		 * raw, so that assemble(disassemble(b)) == b for any bytes. */
		if (ebpfdsl__validate(op, 4, err, sizeof(err)) == 0)
			return ebpfdsl_op_slots(op);
		init(op, in);
		break;
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
	switch (row->shape) {
	case EBPFDSL_SHAPE_JA:
	case EBPFDSL_SHAPE_GOTOL:
	case EBPFDSL_SHAPE_JCOND:
	case EBPFDSL_SHAPE_MAY_GOTO:
		return (int64_t)pc + 1 + op->off;
	case EBPFDSL_SHAPE_CALL_LOCAL:
	case EBPFDSL_SHAPE_LD_FUNC:
		return (int64_t)pc + 1 + op->imm;
	default:
		return -1;
	}
}
