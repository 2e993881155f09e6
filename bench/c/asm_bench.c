/* SPDX-License-Identifier: MIT */
/* Assembly and decode rates of the C API for a 4096-instruction program
 * with labels, and the floor: copying the same number of pre-encoded
 * instructions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ebpfdsl.h"

#define BLOCKS 256 /* 16 instructions each: 4096 */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char names[BLOCKS + 1][16];

static void emit(ebpfdsl_asm *a, struct ebpfdsl_op op)
{
	ebpfdsl_asm__emit(a, &op); /* errors are kept and checked at finalize */
}

/* The same program bench/assemble_bench.lua builds from Lua. */
static size_t build(ebpfdsl_asm *a)
{
	for (int b = 0; b < BLOCKS; b++) {
		struct ebpfdsl_op lddw = ebpfdsl_op_imm(EBPFDSL_OP_LDDW, 3, 0x123456789LL + b);
		ebpfdsl_asm__label(a, names[b]);
		emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 1, b));
		emit(a, ebpfdsl_op_reg(EBPFDSL_OP_ADD, 0, 1));
		emit(a, ebpfdsl_op_imm(EBPFDSL_OP_AND32, 0, 0xff));
		emit(a, lddw);
		emit(a, ebpfdsl_op_mem(EBPFDSL_OP_STX, EBPFDSL_SIZE_DW, 10, 3, -8));
		emit(a, ebpfdsl_op_mem(EBPFDSL_OP_LDX, EBPFDSL_SIZE_W, 2, 10, -8));
		emit(a, ebpfdsl_op_jmp_imm(EBPFDSL_OP_JEQ, 2, 7, names[b + 1]));
		emit(a, ebpfdsl_op_imm(EBPFDSL_OP_LSH, 2, 3));
		emit(a, ebpfdsl_op_reg(EBPFDSL_OP_XOR, 0, 2));
		emit(a, ebpfdsl_op_jmp_reg(EBPFDSL_OP_JGT, 0, 2, names[b + 1]));
		emit(a, ebpfdsl_op_imm(EBPFDSL_OP_SUB, 0, 1));
		emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV32, 4, -1));
		emit(a, ebpfdsl_op_reg(EBPFDSL_OP_OR, 0, 4));
		emit(a, ebpfdsl_op_imm(EBPFDSL_OP_RSH, 0, 1));
		emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MUL, 0, 3));
	}
	ebpfdsl_asm__label(a, names[BLOCKS]);
	emit(a, ebpfdsl_op_exit());
	if (ebpfdsl_asm__finalize(a)) {
		fprintf(stderr, "asm_bench: %s\n", ebpfdsl_asm__error(a));
		exit(1);
	}
	size_t cnt;
	ebpfdsl_asm__insns(a, &cnt);
	return cnt;
}

int main(void)
{
	size_t cnt = 0, iters = 0;
	double t0, dt;
	struct bpf_insn *src, *dst;
	const struct bpf_insn *prog;
	ebpfdsl_asm *kept;
	uint64_t sum = 0;

	for (int b = 0; b <= BLOCKS; b++)
		snprintf(names[b], sizeof(names[b]), "block%d", b);
	t0 = now();
	do {
		ebpfdsl_asm *a = ebpfdsl_asm__new(NULL);
		cnt = build(a);
		ebpfdsl_asm__free(a);
		iters++;
	} while ((dt = now() - t0) < 0.5);
	printf("insns %zu\n", cnt);
	printf("c_api_rate %.1f\n", (double)(iters * cnt) / dt);

	/* decoding the assembled program back, instruction by instruction */
	kept = ebpfdsl_asm__new(NULL);
	build(kept);
	prog = ebpfdsl_asm__insns(kept, &cnt);
	iters = 0;
	t0 = now();
	do {
		for (size_t pc = 0; pc < cnt;) {
			struct ebpfdsl_op op;
			pc += (size_t)ebpfdsl_decode(prog, cnt, pc, &op);
			sum += (uint64_t)op.op;
		}
		iters++;
	} while ((dt = now() - t0) < 0.5);
	printf("c_decode_rate %.1f\n", (double)(iters * cnt) / dt);
	printf("decode_checksum %llu\n", (unsigned long long)(sum & 0xffff));
	ebpfdsl_asm__free(kept);

	src = calloc(cnt, sizeof(*src));
	dst = calloc(cnt, sizeof(*dst));
	iters = 0;
	t0 = now();
	do {
		memcpy(dst, src, cnt * sizeof(*src));
		__asm__ volatile("" : : "r"(dst) : "memory"); /* keep the copy */
		iters++;
	} while ((dt = now() - t0) < 0.5);
	printf("memcpy_rate %.1f\n", (double)(iters * cnt) / dt);
	free(src);
	free(dst);
	return 0;
}
