/* SPDX-License-Identifier: MIT */
/* Shows the C core with no Lua at all: assemble a program with labels,
 * print its listing (dsl.dump's text, with the program's own labels), and
 * (as root) load and test-run it in the kernel, with a log that grows to
 * fit should the verifier refuse it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ebpfdsl.h"

static void emit(ebpfdsl_asm *a, struct ebpfdsl_op op)
{
	ebpfdsl_asm__emit(a, &op); /* the first error is kept for finalize */
}

int main(void)
{
	char *log = NULL;
	struct ebpfdsl_prog_load_opts opts = { .sz = sizeof(opts), .name = "sum_c", .log_alloc = &log };
	unsigned char data[64] = { 0 };
	struct ebpfdsl_test_run run = { .sz = sizeof(run), .data_in = data, .data_size_in = sizeof(data) };
	const struct bpf_insn *insns;
	struct ebpfdsl_label labels[8];
	char listing[1024];
	size_t cnt, nlabels = 0;
	int fd, err;
	ebpfdsl_asm *a = ebpfdsl_asm__new(NULL);

	if (!a)
		return 1;
	/* r0 = 1 + 2 + ... + 10 */
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, 0));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 1, 1));
	ebpfdsl_asm__label(a, "loop");
	emit(a, ebpfdsl_op_reg(EBPFDSL_OP_ADD, 0, 1));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_ADD, 1, 1));
	emit(a, ebpfdsl_op_jmp_imm(EBPFDSL_OP_JLE, 1, 10, "loop"));
	emit(a, ebpfdsl_op_exit());
	if (ebpfdsl_asm__finalize(a)) {
		fprintf(stderr, "assemble: %s\n", ebpfdsl_asm__error(a));
		ebpfdsl_asm__free(a);
		return 1;
	}
	insns = ebpfdsl_asm__insns(a, &cnt);
	while (nlabels < 8 && ebpfdsl_asm__label_at(a, nlabels, &labels[nlabels].name, &labels[nlabels].slot) == 0)
		nlabels++;
	err = ebpfdsl_dump(insns, cnt, labels, nlabels, NULL, listing, sizeof(listing));
	if (err < 0) {
		fprintf(stderr, "listing: %s\n", strerror(-err));
		ebpfdsl_asm__free(a);
		return 1;
	}
	fputs(listing, stdout);

	if (geteuid() != 0) {
		printf("not root: skipping the kernel part\n");
		ebpfdsl_asm__free(a);
		return 0;
	}
	fd = ebpfdsl_prog__load(BPF_PROG_TYPE_SOCKET_FILTER, insns, cnt, &opts);
	ebpfdsl_asm__free(a);
	if (fd < 0) {
		fprintf(stderr, "load: %s\n%s", strerror(-fd), log ? log : "");
		free(log);
		return 1;
	}
	free(log);
	err = ebpfdsl_prog__test_run(fd, &run);
	close(fd);
	if (err) {
		fprintf(stderr, "test run: %s\n", strerror(-err));
		return 1;
	}
	printf("the kernel ran it: r0 = %u\n", run.retval);
	return run.retval == 55 ? 0 : 1;
}
