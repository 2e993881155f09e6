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

/* Checks that `op` has the operands its shape needs, each in range, and
 * that `cpu` has the instruction. On error writes a message to err and
 * returns -1. Targets are accepted unresolved. */
int ebpfdsl__validate(const struct ebpfdsl_op *op, int cpu, char *err, size_t errlen);

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
