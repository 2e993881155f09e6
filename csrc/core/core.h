/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the files of csrc/core: validation and
 * encoding of one instruction, and small formatting helpers. */
#ifndef EBPFDSL_CORE_H
#define EBPFDSL_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include "../ebpfdsl.h"

/* Constants that <linux/bpf.h> before 6.6 lacks (cpu v4). */
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0
#endif

#define EBPFDSL_ERRLEN 512

/* The instruction table (isa.c), for code that has checked op already:
 * ebpfdsl_isa_row checks the range on every call. */
extern const struct ebpfdsl_isa_row ebpfdsl__isa_rows[];

static inline const struct ebpfdsl_isa_row *ebpfdsl__row(int op)
{
	return &ebpfdsl__isa_rows[op];
}

/* The shape table (isa.c), one row per enum ebpfdsl_shape: what the
 * validator, encoder and assembler know of a shape, kept once. */
enum {
	EBPFDSL__JUMP_NONE, /* goes nowhere */
	EBPFDSL__JUMP_OFF,  /* a numeric distance lives in off */
	EBPFDSL__JUMP_IMM,  /* in imm (local calls, ld_func) */
	EBPFDSL__JUMP_RAW   /* raw bytes: the opcode tells */
};
struct ebpfdsl__shape {
	unsigned char slots;    /* 2 for lddw and its kin */
	unsigned char jump;     /* EBPFDSL__JUMP_*: where a distance lives */
	unsigned char followed; /* the assembler resolves a numeric distance
				   (may_goto's is never relaxed, so it is not) */
	unsigned req, opt;      /* EBPFDSL_HAS_* fields required, allowed */
	unsigned one1, one2;    /* up to two pairs: exactly one of each */
};
extern const struct ebpfdsl__shape ebpfdsl__shapes[];

/* Slots an instruction of this shape takes (2 for lddw and its kin). */
static inline int ebpfdsl__shape_slots(int shape)
{
	return ebpfdsl__shapes[shape].slots;
}

/* Checks that `op` has the operands its shape needs, each in range, and
 * that `cpu` has the instruction. On error writes a message to err and
 * returns -1. Targets are accepted unresolved. */
int ebpfdsl__validate(const struct ebpfdsl_op *op, int cpu, char *err, size_t errlen);
/* The same for an op whose row the caller found (ebpfdsl_isa_row); err
 * may be NULL with errlen 0, to learn only whether it is valid. */
int ebpfdsl__validate_row(const struct ebpfdsl_op *op, const struct ebpfdsl_isa_row *row, int cpu, char *err,
			  size_t errlen);

/* Encodes a validated op whose jumps are resolved (off/imm, no target)
 * into out[0..slots-1]; returns the slot count. */
int ebpfdsl__encode(const struct ebpfdsl_op *op, struct bpf_insn *out);

/* The condition a conditional jump row tests when inverted (jeq -> jne),
 * or -1 for jset, which has no inverse. */
int ebpfdsl__invert_jump(int op);

/* "r" or "w" depending on the class the row's opcode belongs to. */
char ebpfdsl__reg_prefix(int op);

/* snprintf that appends at *pos, never overrunning len. */
void ebpfdsl__appendf(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
