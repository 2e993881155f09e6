/* SPDX-License-Identifier: MIT */
/* The printer: one decoded instruction as text in LLVM's BPF syntax, the
 * way llvm-objdump-19 --mcpu=v4 prints it, so the two can be compared. The
 * lddw pseudo forms, which LLVM has no syntax for, print as bpftool does. */
#include <inttypes.h>
#include <stdio.h>
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

static const char *alu_symbol(const struct ebpfdsl_isa_row *row)
{
	switch (BPF_OP(row->code)) {
	case BPF_ADD: return "+=";
	case BPF_SUB: return "-=";
	case BPF_MUL: return "*=";
	case BPF_DIV: return row->aux ? "s/=" : "/=";
	case BPF_OR: return "|=";
	case BPF_AND: return "&=";
	case BPF_LSH: return "<<=";
	case BPF_RSH: return ">>=";
	case BPF_MOD: return row->aux ? "s%=" : "%=";
	case BPF_XOR: return "^=";
	case BPF_MOV: return "=";
	case BPF_ARSH: return "s>>=";
	default: return "?";
	}
}

static const char *jump_symbol(const struct ebpfdsl_isa_row *row)
{
	switch (BPF_OP(row->code)) {
	case BPF_JEQ: return "==";
	case BPF_JGT: return ">";
	case BPF_JGE: return ">=";
	case BPF_JSET: return "&";
	case BPF_JNE: return "!=";
	case BPF_JSGT: return "s>";
	case BPF_JSGE: return "s>=";
	case BPF_JLT: return "<";
	case BPF_JLE: return "<=";
	case BPF_JSLT: return "s<";
	case BPF_JSLE: return "s<=";
	default: return "?";
	}
}

static int size_bits(int size)
{
	switch (size) {
	case EBPFDSL_SIZE_B: return 8;
	case EBPFDSL_SIZE_H: return 16;
	case EBPFDSL_SIZE_W: return 32;
	default: return 64;
	}
}

static void print_atomic(char *buf, size_t len, size_t *pos, const struct ebpfdsl_op *op,
			 const struct ebpfdsl_isa_row *row)
{
	char a[48];
	int wide = op->size == EBPFDSL_SIZE_DW;
	char p = wide ? 'r' : 'w';
	int bits = wide ? 64 : 32;
	static const char *const names[] = { [0x00] = "add", [0x40] = "or", [0x50] = "and", [0xa0] = "xor" };
	const char *sym = BPF_OP(row->aux) == BPF_ADD ? "+=" : BPF_OP(row->aux) == BPF_OR ? "|=" :
			  BPF_OP(row->aux) == BPF_AND ? "&=" : "^=";

	addr(a, sizeof(a), op->dst, op->off);
	if (row->aux == BPF_XCHG)
		ebpfdsl__appendf(buf, len, pos, "%c%d = xchg%s_%d(%s, %c%d)", p, op->src, wide ? "" : "32", bits,
				 a, p, op->src);
	else if (row->aux == BPF_CMPXCHG)
		ebpfdsl__appendf(buf, len, pos, "%c0 = cmpxchg%s_%d(%s, %c0, %c%d)", p, wide ? "" : "32", bits, a,
				 p, p, op->src);
	else if (row->aux & BPF_FETCH)
		ebpfdsl__appendf(buf, len, pos, "%c%d = atomic_fetch_%s((u%d *)(%s), %c%d)", p, op->src,
				 names[row->aux & ~BPF_FETCH], bits, a, p, op->src);
	else
		ebpfdsl__appendf(buf, len, pos, "lock *(u%d *)(%s) %s %c%d", bits, a, sym, p, op->src);
}

int ebpfdsl_op_print(char *buf, size_t len, const struct ebpfdsl_op *op, const char *annot)
{
	const struct ebpfdsl_isa_row *row = ebpfdsl_isa_row(op->op);
	char p = ebpfdsl__reg_prefix(op->op);
	char h[40], a[48];
	size_t pos = 0;
	int annotate = 0;

	if (len)
		buf[0] = '\0';
	if (!row)
		return 0;
	switch (row->shape) {
	case EBPFDSL_SHAPE_ALU:
		if (op->has & EBPFDSL_HAS_SRC)
			ebpfdsl__appendf(buf, len, &pos, "%c%d %s %c%d", p, op->dst, alu_symbol(row), p, op->src);
		else
			ebpfdsl__appendf(buf, len, &pos, "%c%d %s %s", p, op->dst, alu_symbol(row),
					 hex(h, sizeof(h), op->imm));
		break;
	case EBPFDSL_SHAPE_NEG:
		ebpfdsl__appendf(buf, len, &pos, "%c%d = -%c%d", p, op->dst, p, op->dst);
		break;
	case EBPFDSL_SHAPE_MOVSX:
		ebpfdsl__appendf(buf, len, &pos, "%c%d = (s%d)%c%d", p, op->dst, op->bits, p, op->src);
		break;
	case EBPFDSL_SHAPE_END:
		ebpfdsl__appendf(buf, len, &pos, "r%d = %s%d r%d", op->dst,
				 op->op == EBPFDSL_OP_BSWAP ? "bswap" : op->op == EBPFDSL_OP_BE ? "be" : "le",
				 op->bits, op->dst);
		break;
	case EBPFDSL_SHAPE_JA:
	case EBPFDSL_SHAPE_GOTOL:
	case EBPFDSL_SHAPE_MAY_GOTO:
		ebpfdsl__appendf(buf, len, &pos, "%s %s",
				 row->shape == EBPFDSL_SHAPE_JA ? "goto" : row->shape == EBPFDSL_SHAPE_GOTOL ? "gotol"
												     : "may_goto",
				 rel(h, sizeof(h), op->off));
		annotate = 1;
		break;
	case EBPFDSL_SHAPE_ADDR_SPACE_CAST:
		ebpfdsl__appendf(buf, len, &pos, "r%d = addr_space_cast(r%d, %s, ", op->dst, op->src,
				 hex(h, sizeof(h), (op->imm >> 16) & 0xffff));
		ebpfdsl__appendf(buf, len, &pos, "%s)", hex(h, sizeof(h), op->imm & 0xffff));
		break;
	case EBPFDSL_SHAPE_JCOND:
		ebpfdsl__appendf(buf, len, &pos, "if %c%d %s ", p, op->dst, jump_symbol(row));
		if (op->has & EBPFDSL_HAS_SRC)
			ebpfdsl__appendf(buf, len, &pos, "%c%d", p, op->src);
		else
			ebpfdsl__appendf(buf, len, &pos, "%s",
					 hex(h, sizeof(h), p == 'w' ? (int32_t)(uint32_t)op->imm : op->imm));
		ebpfdsl__appendf(buf, len, &pos, " goto %s", rel(h, sizeof(h), op->off));
		annotate = 1;
		break;
	case EBPFDSL_SHAPE_CALL:
	case EBPFDSL_SHAPE_CALL_LOCAL:
	case EBPFDSL_SHAPE_CALL_KFUNC:
		ebpfdsl__appendf(buf, len, &pos, "call %s", hex(h, sizeof(h), op->imm));
		annotate = 1;
		break;
	case EBPFDSL_SHAPE_EXIT:
		ebpfdsl__appendf(buf, len, &pos, "exit");
		break;
	case EBPFDSL_SHAPE_LDDW:
		ebpfdsl__appendf(buf, len, &pos, "r%d = %s ll", op->dst, hex(h, sizeof(h), op->imm));
		break;
	case EBPFDSL_SHAPE_LD_IMM:
		ebpfdsl__appendf(buf, len, &pos, "r%d = %s[%" PRId64 "]", op->dst,
				 op->op == EBPFDSL_OP_LD_BTF_ID ? "btf_id" :
				 op->op == EBPFDSL_OP_LD_MAP_IDX ? "map_idx" : "map_fd", op->imm);
		break;
	case EBPFDSL_SHAPE_LD_MAPV:
		ebpfdsl__appendf(buf, len, &pos, "r%d = %s[%" PRId64 "] + %s", op->dst,
				 op->op == EBPFDSL_OP_LD_MAP_IDX_VALUE ? "map_idx_value" : "map_value", op->imm,
				 hex(h, sizeof(h), op->aux));
		break;
	case EBPFDSL_SHAPE_LD_FUNC:
		ebpfdsl__appendf(buf, len, &pos, "r%d = func %s", op->dst, rel(h, sizeof(h), op->imm));
		annotate = 1;
		break;
	case EBPFDSL_SHAPE_LD_ABS:
		ebpfdsl__appendf(buf, len, &pos, "r0 = *(u%d *)skb[%s]", size_bits(op->size),
				 hex(h, sizeof(h), op->imm));
		break;
	case EBPFDSL_SHAPE_LD_IND:
		if (op->imm)
			ebpfdsl__appendf(buf, len, &pos, "r0 = *(u%d *)skb[%s]", size_bits(op->size),
					 addr(a, sizeof(a), op->src, op->imm));
		else
			ebpfdsl__appendf(buf, len, &pos, "r0 = *(u%d *)skb[r%d]", size_bits(op->size), op->src);
		break;
	case EBPFDSL_SHAPE_LDX:
	case EBPFDSL_SHAPE_LDSX:
		ebpfdsl__appendf(buf, len, &pos, "%c%d = *(%c%d *)(%s)",
				 (op->size == EBPFDSL_SIZE_DW || row->shape == EBPFDSL_SHAPE_LDSX) ? 'r' : 'w', op->dst,
				 row->shape == EBPFDSL_SHAPE_LDSX ? 's' : 'u', size_bits(op->size),
				 addr(a, sizeof(a), op->src, op->off));
		break;
	case EBPFDSL_SHAPE_ST:
		ebpfdsl__appendf(buf, len, &pos, "*(u%d *)(%s) = %s", size_bits(op->size),
				 addr(a, sizeof(a), op->dst, op->off), hex(h, sizeof(h), op->imm));
		break;
	case EBPFDSL_SHAPE_STX:
		ebpfdsl__appendf(buf, len, &pos, "*(u%d *)(%s) = %c%d", size_bits(op->size),
				 addr(a, sizeof(a), op->dst, op->off), op->size == EBPFDSL_SIZE_DW ? 'r' : 'w', op->src);
		break;
	case EBPFDSL_SHAPE_ATOMIC:
		print_atomic(buf, len, &pos, op, row);
		break;
	/* LLVM 19 has no syntax for these two; this is LLVM 21's, where the
	 * value register is a w register below 64 bits, as for ldx and stx */
	case EBPFDSL_SHAPE_LOAD_ACQ:
		ebpfdsl__appendf(buf, len, &pos, "%c%d = load_acquire((u%d *)(%s))",
				 op->size == EBPFDSL_SIZE_DW ? 'r' : 'w', op->dst, size_bits(op->size),
				 addr(a, sizeof(a), op->src, op->off));
		break;
	case EBPFDSL_SHAPE_STORE_REL:
		ebpfdsl__appendf(buf, len, &pos, "store_release((u%d *)(%s), %c%d)", size_bits(op->size),
				 addr(a, sizeof(a), op->dst, op->off), op->size == EBPFDSL_SIZE_DW ? 'r' : 'w', op->src);
		break;
	default:
		ebpfdsl__appendf(buf, len, &pos, "<unknown>");
		break;
	}
	if (annotate && annot && *annot)
		ebpfdsl__appendf(buf, len, &pos, " <%s>", annot);
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
