/* SPDX-License-Identifier: MIT */
/* The printer: one decoded instruction as text in LLVM's BPF syntax, the
 * way llvm-objdump-19 --mcpu=v4 prints it, so the two can be compared. The
 * lddw pseudo forms, which LLVM has no syntax for, print as bpftool does. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "core.h"

void ebpfdsl__appendf(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

/* LLVM prints immediates as signed hexadecimal: 0x5, -0x1. */
static const char *hex(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		snprintf(buf, len, "-0x%" PRIx64, (uint64_t)0 - (uint64_t)v);
	else
		snprintf(buf, len, "0x%" PRIx64, (uint64_t)v);
	return buf;
}

/* Jump distances always carry a sign: +0x3, -0x9, +0x0. */
static const char *rel(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		return hex(buf, len, v);
	snprintf(buf, len, "+0x%" PRIx64, (uint64_t)v);
	return buf;
}

/* "r1 + 0x8", "r10 - 0x4" */
static const char *addr(char *buf, size_t len, int reg, int64_t off)
{
	if (off < 0)
		snprintf(buf, len, "r%d - 0x%" PRIx64, reg, (uint64_t)0 - (uint64_t)off);
	else
		snprintf(buf, len, "r%d + 0x%" PRIx64, reg, (uint64_t)off);
	return buf;
}

/* Operation symbols by BPF_OP >> 4: ALU (sdiv and smod add an s), jumps. */
static const char *const alu_symbols[16] = { "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "?", "%=", "^=",
					     "=", "s>>=", "?", "?", "?" };
static const char *const jump_symbols[16] = { "?", "==", ">", ">=", "&", "!=", "s>", "s>=", "?", "?", "<", "<=",
					      "s<", "s<=", "?", "?" };

static int size_bits(int size)
{
	switch (size) {
	case EBPFDSL_SIZE_B: return 8;
	case EBPFDSL_SIZE_H: return 16;
	case EBPFDSL_SIZE_W: return 32;
	default: return 64;
	}
}

/* An atomic's form, by its operation (the row's aux). */
static const char *atomic_form(const struct ebpfdsl_isa_row *row)
{
	if (row->aux == BPF_XCHG)
		return "%s = %N%3_%z(%M, %s)";
	if (row->aux == BPF_CMPXCHG)
		return "%0 = %N%3_%z(%M, %0, %s)";
	if (row->aux & BPF_FETCH)
		return "%s = %N((u%z *)(%M), %s)";
	return "lock *(u%z *)(%M) %L %s";
}

/* Expands a shape's template (isa.c): text as is, and % words:
 *   %d %s %0   dst, src, r0 with the shape's register prefix
 *   %v %V      src, or imm in hex (%V: as 32 bits for a 32-bit row)
 *   %i %e %a   imm in hex, imm in decimal, aux in hex
 *   %h %l      imm's high and low 16 bits in hex
 *   %o %j      off, imm as a signed jump distance
 *   %m %M %k   src + off, dst + off, skb's src + imm (or src alone)
 *   %z %b %3   access size in bits, op's bits, "32" below 64-bit access
 *   %O %J %L   the ALU, jump, atomic operation's symbol
 *   %N         the mnemonic without "ld_"
 *   %A         the atomic's form, expanded in turn
 *   %@         " <annot>" when there is one */
static void expand(char *buf, size_t len, size_t *pos, const char *t, const struct ebpfdsl_op *op,
		   const struct ebpfdsl_isa_row *row, char p, const char *annot)
{
	char h[48];
	for (; *t; t++) {
		const char *lit = t;
		while (*t && *t != '%')
			t++;
		if (t > lit)
			ebpfdsl__appendf(buf, len, pos, "%.*s", (int)(t - lit), lit);
		if (!*t)
			break;
		switch (*++t) {
		case 'd': ebpfdsl__appendf(buf, len, pos, "%c%d", p, op->dst); break;
		case 's': ebpfdsl__appendf(buf, len, pos, "%c%d", p, op->src); break;
		case '0': ebpfdsl__appendf(buf, len, pos, "%c0", p); break;
		case 'v':
		case 'V':
			if (op->has & EBPFDSL_HAS_SRC)
				ebpfdsl__appendf(buf, len, pos, "%c%d", p, op->src);
			else
				ebpfdsl__appendf(buf, len, pos, "%s",
						 hex(h, sizeof(h), *t == 'V' && p == 'w' ? (int32_t)(uint32_t)op->imm : op->imm));
			break;
		case 'i': ebpfdsl__appendf(buf, len, pos, "%s", hex(h, sizeof(h), op->imm)); break;
		case 'e': ebpfdsl__appendf(buf, len, pos, "%" PRId64, op->imm); break;
		case 'a': ebpfdsl__appendf(buf, len, pos, "%s", hex(h, sizeof(h), op->aux)); break;
		case 'h': ebpfdsl__appendf(buf, len, pos, "%s", hex(h, sizeof(h), (op->imm >> 16) & 0xffff)); break;
		case 'l': ebpfdsl__appendf(buf, len, pos, "%s", hex(h, sizeof(h), op->imm & 0xffff)); break;
		case 'o': ebpfdsl__appendf(buf, len, pos, "%s", rel(h, sizeof(h), op->off)); break;
		case 'j': ebpfdsl__appendf(buf, len, pos, "%s", rel(h, sizeof(h), op->imm)); break;
		case 'm': ebpfdsl__appendf(buf, len, pos, "%s", addr(h, sizeof(h), op->src, op->off)); break;
		case 'M': ebpfdsl__appendf(buf, len, pos, "%s", addr(h, sizeof(h), op->dst, op->off)); break;
		case 'k':
			if (op->imm)
				ebpfdsl__appendf(buf, len, pos, "%s", addr(h, sizeof(h), op->src, op->imm));
			else
				ebpfdsl__appendf(buf, len, pos, "r%d", op->src);
			break;
		case 'z': ebpfdsl__appendf(buf, len, pos, "%d", size_bits(op->size)); break;
		case 'b': ebpfdsl__appendf(buf, len, pos, "%d", op->bits); break;
		case '3': ebpfdsl__appendf(buf, len, pos, "%s", op->size == EBPFDSL_SIZE_DW ? "" : "32"); break;
		case 'O':
			ebpfdsl__appendf(buf, len, pos, "%s%s", row->aux ? "s" : "", alu_symbols[BPF_OP(row->code) >> 4]);
			break;
		case 'J': ebpfdsl__appendf(buf, len, pos, "%s", jump_symbols[BPF_OP(row->code) >> 4]); break;
		case 'L': ebpfdsl__appendf(buf, len, pos, "%s", alu_symbols[BPF_OP(row->aux) >> 4]); break;
		case 'N':
			ebpfdsl__appendf(buf, len, pos, "%s", row->name + (strncmp(row->name, "ld_", 3) ? 0 : 3));
			break;
		case 'A': expand(buf, len, pos, atomic_form(row), op, row, p, annot); break;
		case '@':
			if (annot && *annot)
				ebpfdsl__appendf(buf, len, pos, " <%s>", annot);
			break;
		default: /* a template's own slip: shown, not hidden */
			ebpfdsl__appendf(buf, len, pos, "%%%c", *t);
			break;
		}
	}
}

int ebpfdsl_op_print(char *buf, size_t len, const struct ebpfdsl_op *op, const char *annot)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op);
	const struct ebpfdsl__shape *sh;
	size_t pos = 0;
	char p;

	if (len)
		buf[0] = '\0';
	if (!row)
		return 0;
	sh = &ebpfdsl__shapes[row->shape];
	p = sh->regs == EBPFDSL__REGS_R ? 'r' :
	    sh->regs == EBPFDSL__REGS_SIZE ? (op->size == EBPFDSL_SIZE_DW ? 'r' : 'w') :
	    ebpfdsl__narrow(row) ? 'w' : 'r';
	expand(buf, len, &pos, sh->print, op, row, p, annot);
	return (int)pos;
}

const char *ebpfdsl_op_annotation(const struct ebpfdsl_op *op, const char *label)
{
	if (label)
		return label;
	if (op->op == EBPFDSL_OP_CALL && op->imm >= 0 && op->imm <= INT32_MAX)
		return ebpfdsl_helper_name((int)op->imm);
	return NULL;
}
