/* SPDX-License-Identifier: MIT */
/* Shows the attach API from plain C, with no Lua: a socket filter built
 * with the assembler drops loopback UDP datagrams whose first byte is 'X';
 * then a tracepoint link, its kernel info, and an attach that fails with
 * its reason. Needs root (or CAP_BPF); without it, says so and exits 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "ebpfdsl.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "attach_socket: failed: %s (line %d)\n", #cond, __LINE__); \
			return 1;                                                         \
		}                                                                         \
	} while (0)

/* r6 = ctx; r0 = payload[0] (after the 8-byte UDP header); drop 'X' */
static int load_filter(void)
{
	struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o), .name = "drop_x" };
	ebpfdsl_asm *a = ebpfdsl_asm__new(NULL);
	struct ebpfdsl_op ldabs = { .op = EBPFDSL_OP_LD_ABS, .has = EBPFDSL_HAS_SIZE | EBPFDSL_HAS_IMM,
				    .size = EBPFDSL_SIZE_B, .imm = 8 };
	const struct bpf_insn *insns;
	size_t n;
	int fd;

	struct ebpfdsl_op ctx = ebpfdsl_op_reg(EBPFDSL_OP_MOV, 6, 1);
	ebpfdsl_asm__emit(a, &ctx);
	ebpfdsl_asm__emit(a, &ldabs);
	struct ebpfdsl_op jeq = ebpfdsl_op_jmp_imm(EBPFDSL_OP_JEQ, 0, 'X', "drop");
	ebpfdsl_asm__emit(a, &jeq);
	struct ebpfdsl_op keep = ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, -1);
	ebpfdsl_asm__emit(a, &keep);
	struct ebpfdsl_op ex = ebpfdsl_op_exit();
	ebpfdsl_asm__emit(a, &ex);
	ebpfdsl_asm__label(a, "drop");
	struct ebpfdsl_op zero = ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, 0);
	ebpfdsl_asm__emit(a, &zero);
	ebpfdsl_asm__emit(a, &ex);
	if (ebpfdsl_asm__finalize(a) < 0) {
		fprintf(stderr, "attach_socket: %s\n", ebpfdsl_asm__error(a));
		ebpfdsl_asm__free(a);
		return -EINVAL;
	}
	insns = ebpfdsl_asm__insns(a, &n);
	fd = ebpfdsl_prog__load(BPF_PROG_TYPE_SOCKET_FILTER, insns, n, &o);
	ebpfdsl_asm__free(a);
	return fd;
}

/* sends each payload to rx, returns how many arrived */
static int exchange(int rx, int tx, const char *const *payloads, int n)
{
	char buf[64];
	int got = 0;
	for (int i = 0; i < n; i++)
		if (send(tx, payloads[i], strlen(payloads[i]), 0) < 0)
			return -errno;
	while (recv(rx, buf, sizeof(buf), 0) > 0)
		got++;
	return got;
}

int main(void)
{
	static const char *const payloads[] = { "A1", "X2", "B3", "X4", "C5" };
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_usec = 100000 };
	struct ebpfdsl_link_info info = { .sz = sizeof(info) };
	socklen_t len = sizeof(addr);
	ebpfdsl_link *link = NULL;
	char err[512];
	int prog, rx, tx;

	prog = load_filter();
	if (prog == -EPERM || prog == -EACCES) {
		printf("attach_socket: needs root (or CAP_BPF) to load programs; skipped\n");
		return 0;
	}
	CHECK(prog >= 0);
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(rx >= 0 && tx >= 0);
	CHECK(bind(rx, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	CHECK(getsockname(rx, (struct sockaddr *)&addr, &len) == 0);
	CHECK(connect(tx, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	CHECK(setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);

	CHECK(exchange(rx, tx, payloads, 5) == 5);
	CHECK(ebpfdsl_attach_socket(prog, rx, &link, err, sizeof(err)) == 0);
	printf("%s on %s\n", ebpfdsl_link_kind_name(ebpfdsl_link__kind(link)), ebpfdsl_link__target(link));
	CHECK(exchange(rx, tx, payloads, 5) == 3);
	ebpfdsl_link__free(link); /* detaches */
	CHECK(exchange(rx, tx, payloads, 5) == 5);
	printf("socket filter: dropped exactly the 2 'X' datagrams while attached\n");

	/* a socket filter cannot go on a tracepoint: the error says so */
	CHECK(ebpfdsl_attach_tracepoint(prog, "syscalls", "sys_enter_getppid", 0, &link, err, sizeof(err)) < 0);
	printf("refused: %s\n", err);
	CHECK(ebpfdsl_attach_tracepoint(prog, "syscalls", "sys_enter_nonesuch", 0, &link, err, sizeof(err)) == -ENOENT);
	printf("refused: %s\n", err);

	/* a raw tracepoint link, and what the kernel records for it */
	{
		struct ebpfdsl_prog_load_opts o = { .sz = sizeof(o), .name = "raw_tp" };
		struct bpf_insn ret0[2] = { { .code = 0xb7 }, { .code = 0x95 } };
		int raw = ebpfdsl_prog__load(BPF_PROG_TYPE_RAW_TRACEPOINT, ret0, 2, &o);
		CHECK(raw >= 0);
		CHECK(ebpfdsl_attach_raw_tracepoint(raw, "sys_enter", &link, err, sizeof(err)) == 0);
		CHECK(ebpfdsl_link__info(link, &info) == 0);
		printf("%s link id %u, tracepoint %s\n", ebpfdsl_link_type_name((int)info.type), info.id, info.name);
		CHECK(strcmp(info.name, "sys_enter") == 0);
		ebpfdsl_link__free(link);
		close(raw);
	}
	ebpfdsl_link__free(NULL); /* destructors accept NULL */
	close(rx);
	close(tx);
	close(prog);
	return 0;
}
