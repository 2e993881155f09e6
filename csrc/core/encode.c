/* SPDX-License-Identifier: MIT */
/* Validation and encoding of one instruction. What each shape needs is a
 * table; ranges follow what the kernel's verifier and LLVM accept. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "core.h"

#define D EBPFDSL_HAS_DST
#define S EBPFDSL_HAS_SRC
#define I EBPFDSL_HAS_IMM
#define O EBPFDSL_HAS_OFF
#define Z EBPFDSL_HAS_SIZE
#define B EBPFDSL_HAS_BITS
#define T EBPFDSL_HAS_TARGET
#define A EBPFDSL_HAS_AUX
#define C EBPFDSL_HAS_CODE


static const char *field_name(unsigned bit)
{
	switch (bit) {
	case D: return "dst";
	case S: return "src";
	case I: return "imm";
	case O: return "off";
	case Z: return "size";
	case B: return "bits";
	case T: return "target";
	case A: return "value_offset";
	case C: return "code";
	default: return "?";
	}
}

/* "src or imm" for a pair of bits. */
static void pair_names(unsigned pair, char *buf, size_t len)
{
	unsigned lo = pair & -pair;
	snprintf(buf, len, "%s or %s", field_name(lo), field_name(pair & ~lo));
}

static int exactly_one(unsigned bits)
{
	return bits && !(bits & (bits - 1));
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4), cold, noinline));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_range(const char *what, int64_t v, int64_t lo, int64_t hi, char *err, size_t errlen)
{
	if (v >= lo && v <= hi)
		return 0;
	return fail(err, errlen, "%s %" PRId64 " out of range %" PRId64 "..%" PRId64, what, v, lo, hi);
}

static int check_fields(const struct ebpfdsl_op *op, int shape, char *err, size_t errlen)
{
	unsigned req = ebpfdsl__shapes[shape].req, opt = ebpfdsl__shapes[shape].opt;
	unsigned pairs[2] = { ebpfdsl__shapes[shape].one1, ebpfdsl__shapes[shape].one2 };
	unsigned allowed = req | opt | pairs[0] | pairs[1];
	char names[32];

	/* the usual case in a few masks; the loops below say what is wrong */
	if (!(req & ~op->has) && !(op->has & ~allowed) && (!pairs[0] || exactly_one(op->has & pairs[0])) &&
	    (!pairs[1] || exactly_one(op->has & pairs[1])))
		return 0;
	for (unsigned bit = 1; bit <= C; bit <<= 1) {
		if ((req & bit) && !(op->has & bit))
			return fail(err, errlen, "needs %s", field_name(bit));
		if ((op->has & bit) && !(allowed & bit))
			return fail(err, errlen, "takes no %s", field_name(bit));
	}
	for (int i = 0; i < 2; i++) {
		unsigned got = op->has & pairs[i];
		if (!pairs[i] || (got && got != pairs[i]))
			continue;
		/* text only on failure: this runs for every instruction */
		pair_names(pairs[i], names, sizeof(names));
		return fail(err, errlen, got ? "takes %s, not both" : "needs %s", names);
	}
	return 0;
}

static int check_regs(const struct ebpfdsl_op *op, int shape, char *err, size_t errlen)
{
	int max = shape == EBPFDSL_SHAPE_RAW ? 15 : BPF_REG_10;
	if ((op->has & D) && (op->dst < 0 || op->dst > max))
		return fail(err, errlen, "dst register %d out of range 0..%d", op->dst, max);
	if ((op->has & S) && (op->src < 0 || op->src > max))
		return fail(err, errlen, "src register %d out of range 0..%d", op->src, max);
	return 0;
}

static int check_size(const struct ebpfdsl_op *op, int shape, char *err, size_t errlen)
{
	if (!(op->has & Z))
		return 0;
	/* b, h, w, dw are the four values of the BPF_SIZE bits, 0x18 */
	if ((unsigned)op->size & ~(unsigned)EBPFDSL_SIZE_DW)
		return fail(err, errlen, "size %d is not one of b, h, w, dw", op->size);
	switch (shape) {
	case EBPFDSL_SHAPE_LD_ABS:
	case EBPFDSL_SHAPE_LD_IND:
	case EBPFDSL_SHAPE_LDSX:
		if (op->size == EBPFDSL_SIZE_DW)
			return fail(err, errlen, "size 'dw' not allowed here (b, h, w)");
		break;
	case EBPFDSL_SHAPE_ATOMIC:
		if (op->size != EBPFDSL_SIZE_W && op->size != EBPFDSL_SIZE_DW)
			return fail(err, errlen, "size '%s' not allowed for atomics (w, dw)", ebpfdsl_size_name(op->size));
		break;
	default:
		break;
	}
	return 0;
}

/* A 32-bit immediate field: operations on 32 bits take either signedness
 * of the same bits; 64-bit ones sign-extend, so only the signed range
 * means what it says. */
static int check_imm32(const char *what, int64_t v, int wide, char *err, size_t errlen)
{
	return check_range(what, v, INT32_MIN, wide ? INT32_MAX : (int64_t)UINT32_MAX, err, errlen);
}

static int check_alu(const struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, char *err,
		     size_t errlen)
{
	int wide = BPF_CLASS(row->code) == BPF_ALU64;
	int bop = BPF_OP(row->code);
	if (!(op->has & I))
		return 0;
	if (bop == BPF_LSH || bop == BPF_RSH || bop == BPF_ARSH)
		return check_range("shift amount", op->imm, 0, wide ? 63 : 31, err, errlen);
	if ((bop == BPF_DIV || bop == BPF_MOD) && op->imm == 0)
		return fail(err, errlen, "division by a zero immediate");
	if (check_imm32("immediate", op->imm, wide, err, errlen))
		return -1;
	return 0;
}

static int check_operands(const struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, char *err,
			  size_t errlen)
{
	int wide_jump = BPF_CLASS(row->code) == BPF_JMP;
	switch (row->shape) {
	case EBPFDSL_SHAPE_ALU:
		return check_alu(op, row, err, errlen);
	case EBPFDSL_SHAPE_MOVSX: {
		int wide = BPF_CLASS(row->code) == BPF_ALU64; /* (s32) only to 64 bits */
		if (op->bits == 8 || op->bits == 16 || (op->bits == 32 && wide))
			return 0;
		return fail(err, errlen, "bits must be %s, got %d", wide ? "8, 16 or 32" : "8 or 16", op->bits);
	}
	case EBPFDSL_SHAPE_END:
		if (op->bits == 16 || op->bits == 32 || op->bits == 64)
			return 0;
		return fail(err, errlen, "bits must be 16, 32 or 64, got %d", op->bits);
	case EBPFDSL_SHAPE_JA:
	case EBPFDSL_SHAPE_MAY_GOTO:
		return (op->has & O) ? check_range("jump offset", op->off, INT16_MIN, INT16_MAX, err, errlen) : 0;
	case EBPFDSL_SHAPE_ADDR_SPACE_CAST:
		/* two 16-bit address space numbers, src_as | dst_as << 16 */
		return check_range("address spaces", op->imm, 0, UINT32_MAX, err, errlen);
	case EBPFDSL_SHAPE_GOTOL:
		return (op->has & O) ? check_range("jump offset", op->off, INT32_MIN, INT32_MAX, err, errlen) : 0;
	case EBPFDSL_SHAPE_JCOND:
		if ((op->has & I) && check_imm32("immediate", op->imm, wide_jump, err, errlen))
			return -1;
		return (op->has & O) ? check_range("jump offset", op->off, INT16_MIN, INT16_MAX, err, errlen) : 0;
	case EBPFDSL_SHAPE_CALL:
		return check_range("helper id", op->imm, 0, INT32_MAX, err, errlen);
	case EBPFDSL_SHAPE_CALL_LOCAL:
	case EBPFDSL_SHAPE_LD_FUNC:
		return (op->has & I) ? check_range("call offset", op->imm, INT32_MIN, INT32_MAX, err, errlen) : 0;
	case EBPFDSL_SHAPE_CALL_KFUNC:
		if (check_range("BTF id", op->imm, 0, INT32_MAX, err, errlen))
			return -1;
		return (op->has & O) ? check_range("fd_array index", op->off, INT16_MIN, INT16_MAX, err, errlen) : 0;
	case EBPFDSL_SHAPE_LD_IMM:
		return check_imm32("immediate", op->imm, 0, err, errlen);
	case EBPFDSL_SHAPE_LD_MAPV:
		if (check_imm32("immediate", op->imm, 0, err, errlen))
			return -1;
		return (op->has & A) ? check_range("value_offset", op->aux, 0, UINT32_MAX, err, errlen) : 0;
	case EBPFDSL_SHAPE_LD_ABS:
	case EBPFDSL_SHAPE_LD_IND:
		return (op->has & I) ? check_imm32("offset", op->imm, 1, err, errlen) : 0;
	case EBPFDSL_SHAPE_ST: {
		static const int64_t lo[] = { [EBPFDSL_SIZE_W] = INT32_MIN, [EBPFDSL_SIZE_H] = INT16_MIN,
					      [EBPFDSL_SIZE_B] = INT8_MIN, [EBPFDSL_SIZE_DW] = INT32_MIN };
		static const int64_t hi[] = { [EBPFDSL_SIZE_W] = UINT32_MAX, [EBPFDSL_SIZE_H] = UINT16_MAX,
					      [EBPFDSL_SIZE_B] = UINT8_MAX, [EBPFDSL_SIZE_DW] = INT32_MAX };
		if (check_range("immediate", op->imm, lo[op->size], hi[op->size], err, errlen))
			return -1;
	}
		/* fall through */
	case EBPFDSL_SHAPE_LDX:
	case EBPFDSL_SHAPE_LDSX:
	case EBPFDSL_SHAPE_STX:
	case EBPFDSL_SHAPE_ATOMIC:
	case EBPFDSL_SHAPE_LOAD_ACQ:
	case EBPFDSL_SHAPE_STORE_REL:
		return (op->has & O) ? check_range("offset", op->off, INT16_MIN, INT16_MAX, err, errlen) : 0;
	case EBPFDSL_SHAPE_RAW:
		if (check_range("code", op->code, 0, 255, err, errlen))
			return -1;
		if ((op->has & O) && check_range("off", op->off, INT16_MIN, INT16_MAX, err, errlen))
			return -1;
		return (op->has & I) ? check_imm32("imm", op->imm, 0, err, errlen) : 0;
	default:
		return 0;
	}
}

int ebpfdsl__validate(const struct ebpfdsl_op *op, int cpu, char *err, size_t errlen)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op); /* checks op: callers may not have */
	if (!row)
		return fail(err, errlen, "unknown mnemonic number %d", op->op);
	return ebpfdsl__validate_row(op, row, cpu, err, errlen);
}

int ebpfdsl__validate_row(const struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, int cpu, char *err,
			  size_t errlen)
{
	if (row->cpu > cpu)
		return fail(err, errlen, "needs cpu v%d (assembling for v%d)", row->cpu, cpu);
	if (check_fields(op, row->shape, err, errlen) || check_regs(op, row->shape, err, errlen) ||
	    check_size(op, row->shape, err, errlen))
		return -1;
	return check_operands(op, row, err, errlen);
}

static struct bpf_insn mk(uint8_t code, int dst, int src, int64_t off, int64_t imm)
{
	struct bpf_insn in;
	memset(&in, 0, sizeof(in));
	in.code = code;
	in.dst_reg = (uint8_t)(dst & 0xf);
	in.src_reg = (uint8_t)(src & 0xf);
	in.off = (int16_t)off;
	in.imm = (int32_t)(uint32_t)(uint64_t)imm;
	return in;
}

int ebpfdsl__encode(const struct ebpfdsl_op *op, struct bpf_insn *out)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl__row(op->op); /* validated */
	int x = (op->has & S) ? BPF_X : BPF_K;
	int dst = (op->has & D) ? op->dst : 0, src = (op->has & S) ? op->src : 0;
	int64_t off = (op->has & O) ? op->off : 0, imm = (op->has & I) ? op->imm : 0;

	switch (row->shape) {
	case EBPFDSL_SHAPE_ALU:
		out[0] = mk(row->code | x, dst, src, row->aux, imm);
		return 1;
	case EBPFDSL_SHAPE_NEG:
	case EBPFDSL_SHAPE_EXIT:
		out[0] = mk(row->code, dst, 0, 0, 0);
		return 1;
	case EBPFDSL_SHAPE_MOVSX:
		out[0] = mk(row->code, dst, src, op->bits, 0);
		return 1;
	case EBPFDSL_SHAPE_END:
		out[0] = mk(row->code, dst, 0, 0, op->bits);
		return 1;
	case EBPFDSL_SHAPE_JA:
	case EBPFDSL_SHAPE_MAY_GOTO:
		out[0] = mk(row->code, 0, 0, off, 0);
		return 1;
	case EBPFDSL_SHAPE_ADDR_SPACE_CAST:
		out[0] = mk(row->code, dst, src, row->aux, imm);
		return 1;
	case EBPFDSL_SHAPE_GOTOL:
		out[0] = mk(row->code, 0, 0, 0, off);
		return 1;
	case EBPFDSL_SHAPE_JCOND:
		out[0] = mk(row->code | x, dst, src, off, imm);
		return 1;
	case EBPFDSL_SHAPE_CALL:
	case EBPFDSL_SHAPE_CALL_LOCAL:
	case EBPFDSL_SHAPE_CALL_KFUNC:
		out[0] = mk(row->code, 0, row->aux, off, imm);
		return 1;
	case EBPFDSL_SHAPE_LDDW:
		out[0] = mk(row->code, dst, 0, 0, imm);
		out[1] = mk(0, 0, 0, 0, (int64_t)((uint64_t)imm >> 32));
		return 2;
	case EBPFDSL_SHAPE_LD_IMM:
	case EBPFDSL_SHAPE_LD_MAPV:
	case EBPFDSL_SHAPE_LD_FUNC:
		out[0] = mk(row->code, dst, row->aux, 0, imm);
		out[1] = mk(0, 0, 0, 0, (op->has & A) ? op->aux : 0);
		return 2;
	case EBPFDSL_SHAPE_LD_ABS:
	case EBPFDSL_SHAPE_LD_IND:
		out[0] = mk(row->code | op->size, 0, src, 0, imm);
		return 1;
	case EBPFDSL_SHAPE_LDX:
	case EBPFDSL_SHAPE_LDSX:
	case EBPFDSL_SHAPE_STX:
		out[0] = mk(row->code | op->size, dst, src, off, 0);
		return 1;
	case EBPFDSL_SHAPE_ST:
		out[0] = mk(row->code | op->size, dst, 0, off, imm);
		return 1;
	case EBPFDSL_SHAPE_ATOMIC:
	case EBPFDSL_SHAPE_LOAD_ACQ:
	case EBPFDSL_SHAPE_STORE_REL:
		out[0] = mk(row->code | op->size, dst, src, off, row->aux);
		return 1;
	case EBPFDSL_SHAPE_RAW:
	default:
		out[0] = mk((uint8_t)op->code, dst, src, off, imm);
		return 1;
	}
}
