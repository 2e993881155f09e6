/* SPDX-License-Identifier: MIT */
/* The assembler through the C API: programs of labels, jumps to them,
 * two-slot loads, local calls and long runs of filler that push jumps out
 * of 16-bit range (relaxed into gotol). What it accepts must put every
 * label where it was defined, make every jump reach its label, directly
 * or through the relaxed forms, and decode back to itself. */
#include "fuzz.h"

#define MAX_ITEMS 256
#define NLABELS 8

enum { IT_LABEL, IT_OP, IT_FILL };

struct item {
	int kind;
	struct ebpfdsl_op op; /* IT_OP; target set for label jumps */
	int label;            /* IT_LABEL, or the target of a label jump (-1: none) */
	size_t fill;          /* IT_FILL: this many "r0 = 0" */
};

static const char *const NAMES[NLABELS] = { "l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7" };

static const int CONDS[] = {
	EBPFDSL_OP_JEQ,  EBPFDSL_OP_JGT,   EBPFDSL_OP_JGE,  EBPFDSL_OP_JSET,   EBPFDSL_OP_JNE,  EBPFDSL_OP_JSGT,
	EBPFDSL_OP_JSGE, EBPFDSL_OP_JLT,   EBPFDSL_OP_JLE,  EBPFDSL_OP_JSLT,   EBPFDSL_OP_JSLE, EBPFDSL_OP_JEQ32,
	EBPFDSL_OP_JSET32, EBPFDSL_OP_JNE32, EBPFDSL_OP_JSLT32,
};

static size_t generate(struct fuzz_in *in, struct item *it)
{
	size_t n = 0, total = 0;
	int defined[NLABELS] = { 0 };
	while (in->n && n < MAX_ITEMS - NLABELS) {
		struct item *x = &it[n];
		unsigned k = (unsigned)fuzz_take(in, 1) % 10;
		int reg = (int)(fuzz_take(in, 1) % 10);
		x->label = -1;
		x->kind = IT_OP;
		switch (k) {
		case 0:
			x->kind = IT_LABEL;
			x->label = (int)(fuzz_take(in, 1) % NLABELS);
			defined[x->label] = 1;
			break;
		case 1:
			x->op = ebpfdsl_op_imm(EBPFDSL_OP_MOV, reg, (int32_t)fuzz_take(in, 4));
			break;
		case 2:
			x->op = ebpfdsl_op_imm(EBPFDSL_OP_LDDW, reg, (int64_t)fuzz_take(in, 8));
			break;
		case 3:
			x->label = (int)(fuzz_take(in, 1) % NLABELS);
			x->op = ebpfdsl_op_jmp_imm(EBPFDSL_OP_JA, 0, 0, NAMES[x->label]);
			x->op.has &= ~(unsigned)(EBPFDSL_HAS_DST | EBPFDSL_HAS_IMM);
			break;
		case 4: {
			int op = CONDS[fuzz_take(in, 1) % (sizeof(CONDS) / sizeof(CONDS[0]))];
			x->label = (int)(fuzz_take(in, 1) % NLABELS);
			if (fuzz_take(in, 1) & 1)
				x->op = ebpfdsl_op_jmp_reg(op, reg, (int)(fuzz_take(in, 1) % 10), NAMES[x->label]);
			else
				x->op = ebpfdsl_op_jmp_imm(op, reg, (int32_t)fuzz_take(in, 4), NAMES[x->label]);
			break;
		}
		case 5:
			x->label = (int)(fuzz_take(in, 1) % NLABELS);
			memset(&x->op, 0, sizeof(x->op));
			x->op.op = fuzz_take(in, 1) & 1 ? EBPFDSL_OP_CALL_LOCAL : EBPFDSL_OP_LD_FUNC;
			x->op.has = EBPFDSL_HAS_TARGET | (x->op.op == EBPFDSL_OP_LD_FUNC ? EBPFDSL_HAS_DST : 0);
			x->op.dst = reg;
			x->op.target = NAMES[x->label];
			break;
		case 6: /* a few, or past a 16-bit jump's reach: rarely, they are slow */
			x->kind = IT_FILL;
			x->fill = (size_t)fuzz_take(in, 1);
			if (x->fill == 255 && total < 40000)
				x->fill = 32760 + (size_t)fuzz_take(in, 1) % 16;
			total += x->fill;
			break;
		case 7:
			x->op = ebpfdsl_op_exit();
			break;
		case 8: /* raw bytes: the assembler keeps them as given */
			memset(&x->op, 0, sizeof(x->op));
			x->op.op = EBPFDSL_OP_RAW;
			x->op.has = EBPFDSL_HAS_CODE | EBPFDSL_HAS_DST | EBPFDSL_HAS_SRC | EBPFDSL_HAS_OFF | EBPFDSL_HAS_IMM;
			x->op.code = (int)fuzz_take(in, 1);
			x->op.dst = reg;
			x->op.src = (int)(fuzz_take(in, 1) % 11);
			x->op.off = (int16_t)fuzz_take(in, 2);
			x->op.imm = (int32_t)fuzz_take(in, 4);
			break;
		default:
			x->op = ebpfdsl_op_call((int64_t)(fuzz_take(in, 1) % 200));
			break;
		}
		n++;
	}
	/* labels jumped to but never placed go at the end, where they may stand */
	for (int l = 0; l < NLABELS; l++) {
		if (!defined[l]) {
			it[n].kind = IT_LABEL;
			it[n++].label = l;
		}
	}
	return n;
}

static void check_decodes_back(const struct bpf_insn *insns, size_t cnt)
{
	struct ebpfdsl_asm_opts o = { .sz = sizeof(o), .cpu = 4, .no_relax = 1 };
	ebpfdsl_asm *a = ebpfdsl_asm__new(&o);
	const struct bpf_insn *out;
	size_t got;
	for (size_t pc = 0; pc < cnt;) {
		struct ebpfdsl_op op;
		pc += (size_t)ebpfdsl_decode(insns, cnt, pc, &op);
		ebpfdsl_asm__emit(a, &op);
	}
	FUZZ_CHECK(ebpfdsl_asm__finalize(a) == 0, "%s", ebpfdsl_asm__error(a));
	out = ebpfdsl_asm__insns(a, &got);
	FUZZ_CHECK(got == cnt && memcmp(out, insns, cnt * sizeof(*insns)) == 0, "no round trip");
	ebpfdsl_asm__free(a);
}

static int64_t target_at(const struct bpf_insn *insns, size_t cnt, size_t pc, struct ebpfdsl_op *op)
{
	FUZZ_CHECK(pc < cnt, "walked past the end (%zu of %zu)", pc, cnt);
	ebpfdsl_decode(insns, cnt, pc, op);
	return ebpfdsl_op_jump_target(op, pc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct item items[MAX_ITEMS];
	struct fuzz_in in = { data, size };
	struct ebpfdsl_asm_opts o = { .sz = sizeof(o) };
	int64_t slot_of[NLABELS];
	const struct bpf_insn *insns;
	size_t n, cnt, pc = 0;
	ebpfdsl_asm *a;

	o.cpu = (int)(fuzz_take(&in, 1) % 4) + 1;
	o.no_relax = (int)(fuzz_take(&in, 1) % 8 == 0);
	n = generate(&in, items);
	a = ebpfdsl_asm__new(&o);
	FUZZ_CHECK(a, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (items[i].kind == IT_LABEL) {
			ebpfdsl_asm__label(a, NAMES[items[i].label]);
		} else if (items[i].kind == IT_FILL) {
			struct ebpfdsl_op nop = ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, 0);
			for (size_t k = 0; k < items[i].fill; k++)
				ebpfdsl_asm__emit(a, &nop);
		} else {
			ebpfdsl_asm__emit(a, &items[i].op);
		}
	}
	if (ebpfdsl_asm__finalize(a) != 0) {
		FUZZ_CHECK(ebpfdsl_asm__error(a) && *ebpfdsl_asm__error(a), "a refusal without a message");
		ebpfdsl_asm__free(a);
		return 0;
	}
	insns = ebpfdsl_asm__insns(a, &cnt);
	for (int l = 0; l < NLABELS; l++)
		slot_of[l] = -1;
	for (size_t i = 0;; i++) {
		const char *name;
		size_t slot;
		if (ebpfdsl_asm__label_at(a, i, &name, &slot))
			break;
		FUZZ_CHECK(slot <= cnt, "label %s at %zu of %zu", name, slot, cnt);
		slot_of[name[1] - '0'] = (int64_t)slot;
	}
	/* walk what was emitted beside what came out */
	for (size_t i = 0; i < n; i++) {
		const struct item *x = &items[i];
		struct ebpfdsl_op d, d2, d3;
		if (x->kind == IT_LABEL) {
			FUZZ_CHECK(slot_of[x->label] == (int64_t)pc, "label %s at %lld, defined at %zu", NAMES[x->label],
				   (long long)slot_of[x->label], pc);
			continue;
		}
		if (x->kind == IT_FILL) {
			pc += x->fill;
			continue;
		}
		if (x->op.op == EBPFDSL_OP_RAW) { /* one slot, as given */
			FUZZ_CHECK(pc < cnt && insns[pc].code == x->op.code && insns[pc].imm == (int32_t)x->op.imm,
				   "raw at %zu changed", pc);
			pc += 1;
			continue;
		}
		if (x->label < 0) {
			target_at(insns, cnt, pc, &d);
			FUZZ_CHECK(d.op == x->op.op, "%s at %zu, %s emitted", ebpfdsl_isa_row(d.op)->name, pc,
				   ebpfdsl_isa_row(x->op.op)->name);
			pc += (size_t)ebpfdsl_op_slots(&d);
			continue;
		}
		int64_t want = slot_of[x->label], to = target_at(insns, cnt, pc, &d);
		if (d.op == x->op.op && to == want) { /* as written */
			pc += (size_t)ebpfdsl_op_slots(&d);
		} else if (d.op == x->op.op && x->op.op != EBPFDSL_OP_JSET && x->op.op != EBPFDSL_OP_JSET32) {
			/* only a relaxed jset keeps its own mnemonic */
			FUZZ_CHECK(0, "%s at %zu goes to %lld, not %lld", ebpfdsl_isa_row(d.op)->name, pc, (long long)to,
				   (long long)want);
		} else if (x->op.op == EBPFDSL_OP_JA) { /* ja L -> gotol L */
			FUZZ_CHECK(d.op == EBPFDSL_OP_GOTOL && to == want, "ja at %zu relaxed wrong", pc);
			pc += 1;
		} else if (x->op.op == EBPFDSL_OP_JSET || x->op.op == EBPFDSL_OP_JSET32) {
			/* if a & b goto +1; goto +1; gotol L */
			FUZZ_CHECK(to == (int64_t)pc + 2, "jset at %zu relaxed wrong", pc);
			FUZZ_CHECK(target_at(insns, cnt, pc + 1, &d2) == (int64_t)pc + 3 && d2.op == EBPFDSL_OP_JA,
				   "jset at %zu: no ja over the gotol", pc);
			FUZZ_CHECK(target_at(insns, cnt, pc + 2, &d3) == want && d3.op == EBPFDSL_OP_GOTOL,
				   "jset at %zu: the gotol misses", pc);
			pc += 3;
		} else { /* if !c goto +1; gotol L */
			FUZZ_CHECK(to == (int64_t)pc + 2, "%s at %zu relaxed wrong", ebpfdsl_isa_row(x->op.op)->name, pc);
			FUZZ_CHECK(target_at(insns, cnt, pc + 1, &d2) == want && d2.op == EBPFDSL_OP_GOTOL,
				   "%s at %zu: the gotol misses", ebpfdsl_isa_row(x->op.op)->name, pc);
			pc += 2;
		}
	}
	FUZZ_CHECK(pc == cnt, "walked %zu slots of %zu", pc, cnt);
	check_decodes_back(insns, cnt);
	ebpfdsl_asm__free(a);
	return 0;
}
