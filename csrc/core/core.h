/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the files of csrc/core: validation and
 * encoding of one instruction, and small formatting helpers. */
#ifndef EBPFDSL_CORE_H
#define EBPFDSL_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include "../ebpfdsl.h"

/* Constants that <linux/bpf.h> before 6.6 lacks (cpu v4). */
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0
#endif

#define EBPFDSL_ERRLEN 512

/* Internal data: hidden, so that code in a shared object reads it
 * directly, not through the GOT. */
#define EBPFDSL__HIDDEN __attribute__((visibility("hidden")))

/* The instruction table (isa.c), for code that has checked op already:
 * ebpfdsl_isa_row checks the range on every call. */
extern EBPFDSL__HIDDEN const struct ebpfdsl_isa_row ebpfdsl__isa_rows[];

static inline const struct ebpfdsl_isa_row *ebpfdsl__row(int op)
{
	return &ebpfdsl__isa_rows[op];
}

/* The shape table (isa.c), one row per enum ebpfdsl_shape: all that the
 * validator, encoder, decoder, printer and assembler know of a shape. */
enum {
	EBPFDSL__JUMP_NONE, /* goes nowhere */
	EBPFDSL__JUMP_OFF,  /* a numeric distance lives in off */
	EBPFDSL__JUMP_IMM,  /* in imm (local calls, ld_func) */
	EBPFDSL__JUMP_RAW   /* raw bytes: the opcode tells */
};
/* How a jump whose distance exceeds 16 bits grows (asm.c). */
enum {
	EBPFDSL__GROW_NONE,   /* its distance field is wide enough, or no jump */
	EBPFDSL__GROW_GOTOL,  /* ja L -> gotol L */
	EBPFDSL__GROW_INVERT, /* if c goto L -> if !c goto +1; gotol L (jset: one more hop) */
	EBPFDSL__GROW_NEVER   /* no 32-bit form: an error (may_goto) */
};
/* Where a field of the encoded instruction comes from (encoding) and
 * goes to (decoding). An op field absent from `has` encodes as 0. */
enum {
	EBPFDSL__FROM_ZERO, /* always 0 */
	EBPFDSL__FROM_SRC,  /* op->src */
	EBPFDSL__FROM_OFF,  /* op->off */
	EBPFDSL__FROM_IMM,  /* op->imm */
	EBPFDSL__FROM_BITS, /* op->bits */
	EBPFDSL__FROM_ROW,  /* the row's aux (what tells rows of one opcode apart) */
	EBPFDSL__FROM_AUX,  /* op->aux */
	EBPFDSL__FROM_HIGH  /* the high 32 bits of op->imm */
};
/* How registers print: by the row's class (r/w), always r, or by the
 * access size (w below 64 bits). */
enum { EBPFDSL__REGS_CLASS, EBPFDSL__REGS_R, EBPFDSL__REGS_SIZE };
struct ebpfdsl__shape {
	const char *name;       /* what core.isa() calls it */
	unsigned char slots;    /* 2 for lddw and its kin */
	unsigned char jump;     /* EBPFDSL__JUMP_*: where a distance lives */
	unsigned char followed; /* the assembler resolves a numeric distance
				   (may_goto's is never relaxed, so it is not) */
	unsigned char grow;     /* EBPFDSL__GROW_*: past 16 bits */
	unsigned req, opt;      /* EBPFDSL_HAS_* fields required, allowed */
	unsigned one1, one2;    /* up to two pairs: exactly one of each */
	unsigned unset0;        /* optional fields the decoder leaves out when 0 */
	unsigned char any_reg;  /* registers up to 15 pass (raw bytes) */
	unsigned char sizes;    /* sizes allowed, a bit per BPF_SIZE >> 3 */
	const char *size_where; /* "here", "for atomics": the refusal's words */
	unsigned char bits, bits32; /* widths allowed (bit k: 8 << k), 64- and 32-bit rows */
	unsigned char enc[4];   /* EBPFDSL__FROM_* of src_reg, off, imm, and the second slot's imm */
	unsigned char r_imm, r_off, r_aux; /* EBPFDSL__R_*: ranges of imm, off, aux */
	unsigned char regs;     /* EBPFDSL__REGS_* */
	const char *print;      /* the printer's template (print.c says its % words) */
	const char *words;      /* the DSL word's arguments, a letter each (lua_ctor.c says
				   which); NULL: dsl.lua writes the word out */
	unsigned char c_word;   /* the word is in C too (a constructor, a builder method) */
};
extern EBPFDSL__HIDDEN const struct ebpfdsl__shape ebpfdsl__shapes[];

/* The ranges operands are checked against (isa.c): a 64-bit row's bounds
 * and a 32-bit twin's (ALU, JMP32), and the name the refusal uses. */
enum {
	EBPFDSL__R_NONE,
	EBPFDSL__R_ALU,    /* by the operation: shift, divisor or immediate */
	EBPFDSL__R_SIZED,  /* by the access size: the four that follow, in BPF_SIZE order */
	EBPFDSL__R_ST_W, EBPFDSL__R_ST_H, EBPFDSL__R_ST_B, EBPFDSL__R_ST_DW,
	EBPFDSL__R_IMM, EBPFDSL__R_IMM_ANY, EBPFDSL__R_SHIFT, EBPFDSL__R_DIVISOR,
	EBPFDSL__R_JUMP16, EBPFDSL__R_JUMP32, EBPFDSL__R_ASPACE, EBPFDSL__R_HELPER, EBPFDSL__R_CALL,
	EBPFDSL__R_BTF, EBPFDSL__R_FD_IDX, EBPFDSL__R_VALUE_OFF, EBPFDSL__R_PKT_OFF, EBPFDSL__R_MEM_OFF,
	EBPFDSL__R_CODE, EBPFDSL__R_RAW_OFF, EBPFDSL__R_RAW_IMM,
	EBPFDSL__R_COUNT_
};
struct ebpfdsl__range {
	const char *what;
	int64_t lo, hi, lo32, hi32;
	const char *zero;       /* refusal of 0, or NULL when 0 is fine */
};
extern const struct ebpfdsl__range ebpfdsl__ranges[];

/* Slots an instruction of this shape takes (2 for lddw and its kin). */
static inline int ebpfdsl__shape_slots(int shape)
{
	return ebpfdsl__shapes[shape].slots;
}

/* Is the row one of the 32-bit twins (BPF_ALU, BPF_JMP32)? */
static inline int ebpfdsl__narrow(const struct ebpfdsl_isa_row *row)
{
	return BPF_CLASS(row->code) == BPF_ALU || BPF_CLASS(row->code) == BPF_JMP32;
}

/* The shape takes src or imm, and the opcode's source bit tells which. */
static inline int ebpfdsl__shape_x(const struct ebpfdsl__shape *sh)
{
	return sh->one1 == (EBPFDSL_HAS_SRC | EBPFDSL_HAS_IMM);
}

/* The operands give the opcode's size bits. */
static inline int ebpfdsl__shape_sized(const struct ebpfdsl__shape *sh)
{
	return (sh->req & EBPFDSL_HAS_SIZE) != 0;
}

/* The name of one EBPFDSL_HAS_* bit ("dst", "value_offset"). */
const char *ebpfdsl__field_name(unsigned bit);

/* What validation and encoding read per row and per shape, derived at
 * load from the tables (encode.c), so that the hot path of the assembler
 * finds it in one record: a row's operand bounds by its class and
 * operation, the opcode byte and where each encoded field comes from, and
 * a bit per `has` value that check_fields passes. A cache of the tables,
 * never written by hand. */
struct ebpfdsl__bound {
	int64_t lo, hi;
	unsigned char range;   /* EBPFDSL__R_*; R_SIZED: by the access size */
};
/* aligned: a row's plan is found by a shift of its mnemonic */
struct __attribute__((aligned(128))) ebpfdsl__row_plan {
	/* the encoding of a plain row (see ebpfdsl__encode_plain) */
	int32_t imm_mask, imm_row; /* imm: op->imm's bits kept, the row's own bits */
	int16_t off_mask, off_row; /* off: the same */
	uint8_t src_mask, src_row; /* src_reg: the same */
	uint8_t code;          /* the row's opcode byte */
	uint8_t size_mask;     /* sized shapes: the size's bits go into the opcode */
	uint8_t x_bit;         /* BPF_X when src (not imm) is given */
	uint8_t slots;         /* 2 for lddw and its kin */
	uint8_t cpu;           /* first cpu level that has it */
	uint8_t shape;         /* enum ebpfdsl_shape */
	uint8_t plain;         /* every field is the op's, the row's or 0 (and the
				  second slot's imm the high half): encode_plain applies */
	uint8_t kept;          /* the assembler keeps it for finalize (a followed shape) */
	uint8_t sizes;         /* the shape's sizes, a bit per BPF_SIZE >> 3 */
	uint64_t straight[2];  /* plain rows: a bit per `has` value below
				  EBPFDSL_HAS_AUX, without bits, that check_fields
				  passes; none for other rows. See straight_valid */
	uint8_t bits;          /* widths allowed, bit k: 8 << k */
	uint8_t nonzero;       /* imm 0 is refused (a divisor) */
	struct ebpfdsl__bound imm, off, aux;
};
#define EBPFDSL__HAS_VALUES (EBPFDSL_HAS_CODE << 1)
extern EBPFDSL__HIDDEN struct ebpfdsl__row_plan ebpfdsl__plans[];
extern EBPFDSL__HIDDEN uint64_t ebpfdsl__fields_ok[][EBPFDSL__HAS_VALUES / 64];

/* The usual instruction in a few comparisons, inline where it is hot:
 * its fields (one bit of ebpfdsl__fields_ok), registers r0..r10, a size
 * the shape allows, operands within the row's bounds. 0 says nothing:
 * ebpfdsl__validate_row looks again (a width, raw bytes, a store's
 * immediate, r11..r15 of raw, an error). The cpu is the caller's. */
static inline int ebpfdsl__fast_valid(const struct ebpfdsl_op *op, const struct ebpfdsl__row_plan *p)
{
	unsigned has = op->has;
	if (has >= EBPFDSL__HAS_VALUES || !(ebpfdsl__fields_ok[p->shape][has / 64] & (1ull << (has % 64))) ||
	    (has & (EBPFDSL_HAS_BITS | EBPFDSL_HAS_CODE)))
		return 0;
	if (((has & EBPFDSL_HAS_DST) && (unsigned)op->dst > BPF_REG_10) ||
	    ((has & EBPFDSL_HAS_SRC) && (unsigned)op->src > BPF_REG_10))
		return 0;
	if ((has & EBPFDSL_HAS_SIZE) && (((unsigned)op->size & ~(unsigned)EBPFDSL_SIZE_DW) ||
					 !(ebpfdsl__shapes[p->shape].sizes & (1u << (op->size >> 3)))))
		return 0;
	if ((has & EBPFDSL_HAS_IMM) && (op->imm < p->imm.lo || op->imm > p->imm.hi || (p->nonzero && op->imm == 0)))
		return 0;
	if ((has & EBPFDSL_HAS_OFF) && (op->off < p->off.lo || op->off > p->off.hi))
		return 0;
	return !(has & EBPFDSL_HAS_AUX) || (op->aux >= p->aux.lo && op->aux <= p->aux.hi);
}

/* fast_valid for a row the assembler takes straight (plan->straight),
 * whose fields are among dst, src, imm, off, size and target: one bit of
 * the plan says the field set is right, the rest as fast_valid. */
static inline int ebpfdsl__straight_valid(const struct ebpfdsl_op *op, const struct ebpfdsl__row_plan *p)
{
	unsigned has = op->has;
	if (has >= EBPFDSL_HAS_AUX || !(p->straight[has / 64] & (1ull << (has % 64))))
		return 0;
	if (((has & EBPFDSL_HAS_DST) && (unsigned)op->dst > BPF_REG_10) ||
	    ((has & EBPFDSL_HAS_SRC) && (unsigned)op->src > BPF_REG_10))
		return 0;
	if ((has & EBPFDSL_HAS_SIZE) &&
	    (((unsigned)op->size & ~(unsigned)EBPFDSL_SIZE_DW) || !(p->sizes & (1u << (op->size >> 3)))))
		return 0;
	if ((has & EBPFDSL_HAS_IMM) && (op->imm < p->imm.lo || op->imm > p->imm.hi || (p->nonzero && op->imm == 0)))
		return 0;
	return !(has & EBPFDSL_HAS_OFF) || (op->off >= p->off.lo && op->off <= p->off.hi);
}

/* The plan of a row (op checked). */
static inline const struct ebpfdsl__row_plan *ebpfdsl__plan(int op)
{
	return &ebpfdsl__plans[op];
}

/* Checks that `op` has the operands its shape needs, each in range, and
 * that `cpu` has the instruction. On error writes a message to err and
 * returns -1. Targets are accepted unresolved. */
int ebpfdsl__validate(const struct ebpfdsl_op *op, int cpu, char *err, size_t errlen);
/* The same for an op whose row the caller found (ebpfdsl_isa_row); err
 * may be NULL with errlen 0, to learn only whether it is valid. */
int ebpfdsl__validate_row(const struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, int cpu, char *err,
			  size_t errlen);

/* Encodes a validated op into out[0..slots-1]; returns the slot count.
 * A target still named (EBPFDSL_HAS_TARGET) encodes as distance 0: the
 * assembler patches the distance once the label is placed. */
int ebpfdsl__encode(const struct ebpfdsl_op *op, struct bpf_insn *out);

/* The fields of the encoded instruction come from where the shape says
 * (enc: src_reg, off, imm, the second slot's imm); dst from dst. What
 * ebpfdsl__encode runs; the assembler's usual op takes encode_straight. */
static inline int ebpfdsl__encode_inline(const struct ebpfdsl_op *op, struct bpf_insn *out)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl__row(op->op); /* validated */
	const struct ebpfdsl__shape *sh = &ebpfdsl__shapes[row->shape];
	unsigned has = op->has;
	int64_t v[8];
	int code = row->code;

	v[EBPFDSL__FROM_ZERO] = 0;
	v[EBPFDSL__FROM_SRC] = (has & EBPFDSL_HAS_SRC) ? op->src : 0;
	v[EBPFDSL__FROM_OFF] = (has & EBPFDSL_HAS_OFF) ? op->off : 0;
	v[EBPFDSL__FROM_IMM] = (has & EBPFDSL_HAS_IMM) ? op->imm : 0;
	v[EBPFDSL__FROM_BITS] = op->bits;
	v[EBPFDSL__FROM_ROW] = row->aux;
	if (has & EBPFDSL_HAS_CODE)
		code = op->code;
	else if (ebpfdsl__shape_sized(sh))
		code |= op->size;
	else if ((has & EBPFDSL_HAS_SRC) && ebpfdsl__shape_x(sh))
		code |= BPF_X;
	/* built whole, then stored once: no read-modify-write of the bit fields */
	out[0] = (struct bpf_insn){
		.code = (uint8_t)code,
		.dst_reg = (uint8_t)(((has & EBPFDSL_HAS_DST) ? op->dst : 0) & 0xf),
		.src_reg = (uint8_t)(v[sh->enc[0]] & 0xf),
		.off = (int16_t)v[sh->enc[1]],
		.imm = (int32_t)(uint32_t)(uint64_t)v[sh->enc[2]],
	};
	if (sh->slots == 1)
		return 1;
	v[EBPFDSL__FROM_AUX] = (has & EBPFDSL_HAS_AUX) ? op->aux : 0;
	v[EBPFDSL__FROM_HIGH] = (int64_t)((uint64_t)v[EBPFDSL__FROM_IMM] >> 32);
	out[1] = (struct bpf_insn){ 0 };
	out[1].imm = (int32_t)(uint32_t)(uint64_t)v[sh->enc[3]];
	return 2;
}

/* Encodes a valid op of a plain row (plan->plain) without a field
 * from code, bits or aux: the fields go straight to their places, each
 * the op's (0 when absent from has), the row's, or 0, as the plan's masks
 * say; the same bytes as ebpfdsl__encode_inline, in fewer steps. */
static inline int ebpfdsl__encode_plain(const struct ebpfdsl_op *op, const struct ebpfdsl__row_plan *p,
					struct bpf_insn *out)
{
	unsigned has = op->has;
	int src = (has & EBPFDSL_HAS_SRC) ? op->src : 0;
	int64_t off = (has & EBPFDSL_HAS_OFF) ? op->off : 0, imm = (has & EBPFDSL_HAS_IMM) ? op->imm : 0;
	out[0] = (struct bpf_insn){
		.code = (uint8_t)(p->code | ((unsigned)op->size & p->size_mask) |
				  ((has & EBPFDSL_HAS_SRC) ? p->x_bit : 0)),
		.dst_reg = (uint8_t)(((has & EBPFDSL_HAS_DST) ? op->dst : 0) & 0xf),
		.src_reg = (uint8_t)((src & p->src_mask) | p->src_row),
		.off = (int16_t)(((int16_t)off & p->off_mask) | p->off_row),
		.imm = (int32_t)(((int32_t)(uint32_t)(uint64_t)imm & p->imm_mask) | p->imm_row),
	};
	if (p->slots == 1)
		return 1;
	out[1] = (struct bpf_insn){ .imm = (int32_t)(uint32_t)((uint64_t)imm >> 32) };
	return 2;
}

/* The encoded slot of a straight row's op as one 64-bit word, for each
 * set of the fields it encodes (`has` below EBPFDSL_HAS_BITS: a target
 * encodes as a distance 0, the field it stands for absent): which
 * bits of the op's fields, laid out as in struct bpf_insn on a
 * little-endian host, it keeps, and the bits the row sets (opcode, BPF_X,
 * the row's own fields). Derived at load by encoding each field set with
 * its fields all ones and all zeros (encode.c), so it says what
 * ebpfdsl__encode_plain says. */
struct ebpfdsl__straight_word {
	uint64_t keep, set;
};
extern EBPFDSL__HIDDEN struct ebpfdsl__straight_word ebpfdsl__straight_words[][EBPFDSL_HAS_BITS];

/* encode_plain for a valid op of a straight row: its fields side by side
 * in one word, masked and completed by the row's word for its field set,
 * stored once. Big-endian hosts lay the bit fields out otherwise: there,
 * encode_plain itself. */
static inline void ebpfdsl__encode_straight(const struct ebpfdsl_op *op, const struct ebpfdsl__row_plan *p,
					    struct bpf_insn *out)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const struct ebpfdsl__straight_word *w = &ebpfdsl__straight_words[op->op][op->has % EBPFDSL_HAS_BITS];
	uint64_t v = (uint64_t)(uint8_t)op->size | (uint64_t)(op->dst & 0xf) << 8 | (uint64_t)(op->src & 0xf) << 12 |
		     (uint64_t)(uint16_t)op->off << 16 | (uint64_t)op->imm << 32;
	v = (v & w->keep) | w->set;
	memcpy(out, &v, sizeof(v));
	if (p->slots == 2)
		out[1] = (struct bpf_insn){ .imm = (int32_t)(uint32_t)((uint64_t)op->imm >> 32) };
#else
	ebpfdsl__encode_plain(op, p, out);
#endif
}

/* The condition a conditional jump row tests when inverted (jeq -> jne),
 * or -1 for jset, which has no inverse. */
int ebpfdsl__invert_jump(int op);

/* "r" or "w" depending on the class the row's opcode belongs to. */
char ebpfdsl__reg_prefix(int op);

/* snprintf that appends at *pos, never overrunning len. */
void ebpfdsl__appendf(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- btf (helper btf, issue 10) ---- */
/* btf_write.c: makes the writer's first error (printf text), for the
 * calls of btf_write_calls.c that check their own arguments: -1. */
int ebpfdsl__btfw_fail(ebpfdsl_btfw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
