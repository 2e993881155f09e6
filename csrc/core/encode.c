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
#define A EBPFDSL_HAS_AUX
#define C EBPFDSL_HAS_CODE

/* "src or imm" for a pair of bits. */
static void pair_names(unsigned pair, char *buf, size_t len)
{
	unsigned lo = pair & -pair;
	snprintf(buf, len, "%s or %s", ebpfdsl__field_name(lo), ebpfdsl__field_name(pair & ~lo));
}

static int exactly_one(unsigned bits)
{
	return bits && !(bits & (bits - 1));
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4), cold, noinline));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!errlen) /* only whether it is valid: no text to format */
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "8, 16 or 32", "b, h, w": the names of the set bits of mask, in order,
 * the last two joined by `last`. */
static void list_names(unsigned mask, const char *const *names, const char *last, char *buf, size_t len)
{
	size_t pos = 0;
	int left = __builtin_popcount(mask);
	buf[0] = '\0';
	for (int i = 0; i < 4; i++)
		if (mask & (1u << i)) {
			left--;
			ebpfdsl__appendf(buf, len, &pos, "%s%s", names[i], left > 1 ? ", " : left ? last : "");
		}
}

/* The per-row plans and per-shape field sets fast_valid and encode_plain
 * read (core.h), filled at load from the tables. */
struct ebpfdsl__row_plan ebpfdsl__plans[EBPFDSL_OP_COUNT_];
struct ebpfdsl__straight_word ebpfdsl__straight_words[EBPFDSL_OP_COUNT_][EBPFDSL_HAS_BITS];
uint64_t ebpfdsl__fields_ok[EBPFDSL_SHAPE_RAW + 1][EBPFDSL__HAS_VALUES / 64];

/* What an ALU immediate is, by BPF_OP >> 4: an immediate unless told. */
static const unsigned char alu_imm[16] = {
	[BPF_LSH >> 4] = EBPFDSL__R_SHIFT, [BPF_RSH >> 4] = EBPFDSL__R_SHIFT, [BPF_ARSH >> 4] = EBPFDSL__R_SHIFT,
	[BPF_DIV >> 4] = EBPFDSL__R_DIVISOR, [BPF_MOD >> 4] = EBPFDSL__R_DIVISOR,
};

static struct ebpfdsl__bound resolve(int range, const struct ebpfdsl_isa_row *row)
{
	struct ebpfdsl__bound b = { INT64_MIN, INT64_MAX, (unsigned char)range };
	if (range == EBPFDSL__R_ALU)
		b.range = alu_imm[BPF_OP(row->code) >> 4] ? alu_imm[BPF_OP(row->code) >> 4] : EBPFDSL__R_IMM;
	if (b.range == EBPFDSL__R_SIZED) { /* by the size: fast_ok leaves it to check_bound */
		b.lo = 1;
		b.hi = 0;
	} else if (b.range != EBPFDSL__R_NONE) {
		const struct ebpfdsl__range *r = &ebpfdsl__ranges[b.range];
		b.lo = ebpfdsl__narrow(row) ? r->lo32 : r->lo;
		b.hi = ebpfdsl__narrow(row) ? r->hi32 : r->hi;
	}
	return b;
}

/* Where one encoded field of a plain row comes from, as a mask of the
 * op's bits and the row's own bits: 0 when it comes from elsewhere. */
static int plain_field(int from, int own, int row_aux, int64_t *mask, int64_t *bits)
{
	*mask = from == own ? -1 : 0;
	*bits = from == EBPFDSL__FROM_ROW ? row_aux : 0;
	return from == own || from == EBPFDSL__FROM_ROW || from == EBPFDSL__FROM_ZERO;
}

/* The straight word of a row for one field set: encoded with every
 * field all ones and all zeros, what differs comes from the op, the rest
 * is the row's. */
static void plan_word(const struct ebpfdsl__row_plan *p, long op, unsigned has)
{
	struct ebpfdsl_op ones = { .op = (int)op, .has = has, .dst = 0xf, .src = 0xf, .size = EBPFDSL_SIZE_DW,
				   .off = -1, .imm = -1 };
	struct ebpfdsl_op zeros = { .op = (int)op, .has = has };
	struct bpf_insn in[2];
	uint64_t one, zero;
	ebpfdsl__encode_plain(&ones, p, in);
	memcpy(&one, &in[0], sizeof(one));
	ebpfdsl__encode_plain(&zeros, p, in);
	memcpy(&zero, &in[0], sizeof(zero));
	ebpfdsl__straight_words[op][has].keep = one ^ zero;
	ebpfdsl__straight_words[op][has].set = zero;
}

/* The opcode byte and the masks encode_plain reads, from the shape's
 * enc column: the same bytes as ebpfdsl__encode_inline, for the rows
 * whose fields need no more than a mask. */
static void plan_encoding(struct ebpfdsl__row_plan *p, const struct ebpfdsl_isa_row *row,
			  const struct ebpfdsl__shape *sh)
{
	int64_t mask, bits;
	int plain = sh->slots == 1 || sh->enc[3] == EBPFDSL__FROM_HIGH;
	p->code = row->code;
	p->shape = row->shape;
	p->slots = sh->slots;
	p->cpu = row->cpu;
	p->kept = sh->followed;
	p->size_mask = ebpfdsl__shape_sized(sh) ? EBPFDSL_SIZE_DW : 0;
	p->x_bit = ebpfdsl__shape_x(sh) ? BPF_X : 0;
	plain &= plain_field(sh->enc[0], EBPFDSL__FROM_SRC, row->aux & 0xf, &mask, &bits);
	p->src_mask = (uint8_t)(mask & 0xf);
	p->src_row = (uint8_t)bits;
	plain &= plain_field(sh->enc[1], EBPFDSL__FROM_OFF, row->aux, &mask, &bits);
	p->off_mask = (int16_t)mask;
	p->off_row = (int16_t)bits;
	plain &= plain_field(sh->enc[2], EBPFDSL__FROM_IMM, row->aux, &mask, &bits);
	p->imm_mask = (int32_t)mask;
	p->imm_row = (int32_t)bits;
	p->plain = (uint8_t)plain;
	p->sizes = sh->sizes;
	for (unsigned has = 0; plain && has < EBPFDSL_HAS_AUX; has++) {
		if (has < EBPFDSL_HAS_BITS)
			plan_word(p, row - ebpfdsl__isa_rows, has);
		if (!(has & EBPFDSL_HAS_BITS) && (ebpfdsl__fields_ok[row->shape][has / 64] & (1ull << (has % 64))))
			p->straight[has / 64] |= 1ull << (has % 64);
	}
}

static int check_fields(const struct ebpfdsl_op *op, const struct ebpfdsl__shape *sh, char *err, size_t errlen);

__attribute__((constructor)) static void make_plans(void)
{
	for (int shape = 0; shape <= EBPFDSL_SHAPE_RAW; shape++)
		for (unsigned has = 0; has < EBPFDSL__HAS_VALUES; has++) {
			struct ebpfdsl_op op = { .has = has };
			if (check_fields(&op, &ebpfdsl__shapes[shape], NULL, 0) == 0)
				ebpfdsl__fields_ok[shape][has / 64] |= 1ull << (has % 64);
		}
	for (int i = 0; i < EBPFDSL_OP_COUNT_; i++) {
		const struct ebpfdsl_isa_row *row = ebpfdsl__row(i);
		const struct ebpfdsl__shape *sh = &ebpfdsl__shapes[row->shape];
		struct ebpfdsl__row_plan *p = &ebpfdsl__plans[i];
		p->imm = resolve(sh->r_imm, row);
		p->off = resolve(sh->r_off, row);
		p->aux = resolve(sh->r_aux, row);
		p->bits = ebpfdsl__narrow(row) ? sh->bits32 : sh->bits;
		p->nonzero = ebpfdsl__ranges[p->imm.range].zero != NULL;
		plan_encoding(p, row, sh);
	}
}

static int check_bound(const struct ebpfdsl__bound *b, int64_t v, int size, char *err, size_t errlen)
{
	const struct ebpfdsl__range *r = &ebpfdsl__ranges[b->range];
	int64_t lo = b->lo, hi = b->hi;
	if (b->range == EBPFDSL__R_SIZED) { /* st: the immediate fits the store */
		r = &ebpfdsl__ranges[EBPFDSL__R_ST_W + (size >> 3)];
		lo = r->lo;
		hi = r->hi;
	}
	if (r->zero && v == 0)
		return fail(err, errlen, "%s", r->zero);
	if (v >= lo && v <= hi)
		return 0;
	return fail(err, errlen, "%s %" PRId64 " out of range %" PRId64 "..%" PRId64, r->what, v, lo, hi);
}

static int check_fields(const struct ebpfdsl_op *op, const struct ebpfdsl__shape *sh, char *err, size_t errlen)
{
	unsigned req = sh->req, opt = sh->opt;
	unsigned pairs[2] = { sh->one1, sh->one2 };
	unsigned allowed = req | opt | pairs[0] | pairs[1];
	char names[32];

	/* the usual case in a few masks; the loops below say what is wrong */
	if (!(req & ~op->has) && !(op->has & ~allowed) && (!pairs[0] || exactly_one(op->has & pairs[0])) &&
	    (!pairs[1] || exactly_one(op->has & pairs[1])))
		return 0;
	if (!errlen) /* make_plans asks this of every field set at load */
		return -1;
	for (unsigned bit = 1; bit <= C; bit <<= 1) {
		if ((req & bit) && !(op->has & bit))
			return fail(err, errlen, "needs %s", ebpfdsl__field_name(bit));
		if ((op->has & bit) && !(allowed & bit))
			return fail(err, errlen, "takes no %s", ebpfdsl__field_name(bit));
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

/* Registers, size and widths: the shape's sets. */
static int check_sets(const struct ebpfdsl_op *op, const struct ebpfdsl__shape *sh, unsigned bits, char *err,
		      size_t errlen)
{
	static const char *const sizes[] = { "b", "h", "w", "dw" }, *const widths[] = { "8", "16", "32", "64" };
	/* BPF_SIZE >> 3 is w, h, b, dw; sh->sizes counts in that order */
	static const unsigned char by_name[] = { 2, 1, 0, 3 };
	int max = sh->any_reg ? 15 : BPF_REG_10, k;
	char names[32];

	if ((op->has & D) && (op->dst < 0 || op->dst > max))
		return fail(err, errlen, "dst register %d out of range 0..%d", op->dst, max);
	if ((op->has & S) && (op->src < 0 || op->src > max))
		return fail(err, errlen, "src register %d out of range 0..%d", op->src, max);
	if (op->has & Z) {
		unsigned mask = 0;
		/* b, h, w, dw are the four values of the BPF_SIZE bits, 0x18 */
		if ((unsigned)op->size & ~(unsigned)EBPFDSL_SIZE_DW)
			return fail(err, errlen, "size %d is not one of b, h, w, dw", op->size);
		if (sh->sizes & (1u << (op->size >> 3)))
			goto sized;
		for (int i = 0; i < 4; i++)
			if (sh->sizes & (1u << by_name[i]))
				mask |= 1u << i;
		list_names(mask, sizes, ", ", names, sizeof(names));
		return fail(err, errlen, "size '%s' not allowed %s (%s)", ebpfdsl_size_name(op->size), sh->size_where,
			    names);
	}
sized:
	if (!(op->has & B))
		return 0;
	k = op->bits == 8 ? 0 : op->bits == 16 ? 1 : op->bits == 32 ? 2 : op->bits == 64 ? 3 : 4;
	if (k < 4 && (bits & (1u << k)))
		return 0;
	list_names(bits, widths, " or ", names, sizeof(names));
	return fail(err, errlen, "bits must be %s, got %d", names, op->bits);
}

int ebpfdsl__validate(const struct ebpfdsl_op *op, int cpu, char *err, size_t errlen)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op); /* checks op: callers may not have */
	if (!row)
		return fail(err, errlen, "unknown mnemonic number %d", op->op);
	return ebpfdsl__validate_row(op, row, cpu, err, errlen);
}

static __attribute__((noinline)) int check(const struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row,
					   const struct ebpfdsl__row_plan *b, char *err, size_t errlen)
{
	const struct ebpfdsl__shape *sh = &ebpfdsl__shapes[row->shape];
	unsigned has = op->has;

	if (check_fields(op, sh, err, errlen) || check_sets(op, sh, b->bits, err, errlen))
		return -1;
	if ((has & C) && (op->code < 0 || op->code > 255))
		return fail(err, errlen, "code %d out of range 0..255", op->code);
	if ((has & I) && b->imm.range && check_bound(&b->imm, op->imm, op->size, err, errlen))
		return -1;
	if ((has & O) && b->off.range && check_bound(&b->off, op->off, op->size, err, errlen))
		return -1;
	if ((has & A) && b->aux.range && check_bound(&b->aux, op->aux, op->size, err, errlen))
		return -1;
	return 0;
}

int ebpfdsl__validate_row(const struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, int cpu, char *err,
			  size_t errlen)
{
	const struct ebpfdsl__row_plan *b = &ebpfdsl__plans[row - ebpfdsl__isa_rows];
	if (row->cpu > cpu)
		return fail(err, errlen, "needs cpu v%d (assembling for v%d)", row->cpu, cpu);
	return ebpfdsl__fast_valid(op, b) ? 0 : check(op, row, b, err, errlen);
}

int ebpfdsl__encode(const struct ebpfdsl_op *op, struct bpf_insn *out)
{
	return ebpfdsl__encode_inline(op, out);
}
