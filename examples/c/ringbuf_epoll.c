/* SPDX-License-Identifier: MIT */
/* Shows the ring-buffer reader from plain C, with no Lua, inside a host's
 * own epoll loop: a program writes numbered records, the host waits on the
 * reader's epoll fd, then polls without waiting; a callback stops a poll
 * and the next one resumes at the next record. Needs root (or CAP_BPF);
 * without it, says so and exits 0. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "ebpfdsl.h"

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "ringbuf_epoll: failed: %s (line %d)\n", #cond, __LINE__); \
			return 1;                                                             \
		}                                                                             \
	} while (0)

struct seen {
	uint64_t next;   /* the record number expected next */
	int stop_at;     /* stop the poll after this record number, or -1 */
	int out_of_order;
};

static int on_record(void *ctx, int ring, const void *data, size_t size)
{
	struct seen *s = ctx;
	uint64_t n;
	(void)ring;
	if (size != sizeof(n))
		return -EINVAL;
	memcpy(&n, data, sizeof(n));
	if (n != s->next)
		s->out_of_order = 1;
	s->next = n + 1;
	return (int)n == s->stop_at; /* nonzero: stop after this one */
}

static void emit(ebpfdsl_asm *a, struct ebpfdsl_op op)
{
	ebpfdsl_asm__emit(a, &op); /* the first error is kept for finalize */
}

/* counter[0]++ and write its old value, 8 bytes, into the ring */
static int load_producer(int ring, int counter)
{
	struct ebpfdsl_op xadd = ebpfdsl_op_mem(EBPFDSL_OP_ATOMIC_FETCH_ADD, EBPFDSL_SIZE_DW, 0, 1, 0);
	const struct bpf_insn *insns;
	size_t cnt;
	int fd;
	ebpfdsl_asm *a = ebpfdsl_asm__new(NULL);

	if (!a)
		return -ENOMEM;
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 1, 0));
	emit(a, ebpfdsl_op_mem(EBPFDSL_OP_STX, EBPFDSL_SIZE_W, 10, 1, -4));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_LD_MAP_FD, 1, counter));
	emit(a, ebpfdsl_op_reg(EBPFDSL_OP_MOV, 2, 10));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_ADD, 2, -4));
	emit(a, ebpfdsl_op_call(ebpfdsl_helper_id("map_lookup_elem")));
	emit(a, ebpfdsl_op_jmp_imm(EBPFDSL_OP_JEQ, 0, 0, "out"));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 1, 1));
	emit(a, xadd);
	emit(a, ebpfdsl_op_mem(EBPFDSL_OP_STX, EBPFDSL_SIZE_DW, 10, 1, -16));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_LD_MAP_FD, 1, ring));
	emit(a, ebpfdsl_op_reg(EBPFDSL_OP_MOV, 2, 10));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_ADD, 2, -16));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 3, 8));
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 4, 0));
	emit(a, ebpfdsl_op_call(ebpfdsl_helper_id("ringbuf_output")));
	ebpfdsl_asm__label(a, "out");
	emit(a, ebpfdsl_op_imm(EBPFDSL_OP_MOV, 0, 0));
	emit(a, ebpfdsl_op_exit());
	if (ebpfdsl_asm__finalize(a)) {
		fprintf(stderr, "assemble: %s\n", ebpfdsl_asm__error(a));
		ebpfdsl_asm__free(a);
		return -EINVAL;
	}
	insns = ebpfdsl_asm__insns(a, &cnt);
	fd = ebpfdsl_prog__load(BPF_PROG_TYPE_SOCKET_FILTER, insns, cnt, NULL);
	ebpfdsl_asm__free(a);
	return fd;
}

int main(void)
{
	unsigned char packet[64] = { 0 };
	struct ebpfdsl_test_run run = { .sz = sizeof(run), .data_in = packet, .data_size_in = sizeof(packet),
					.repeat = 10 };
	struct ebpfdsl_ringbuf_add_opts add = { .sz = sizeof(add) };
	struct seen seen = { .next = 0, .stop_at = 3, .out_of_order = 0 };
	struct epoll_event ev = { .events = EPOLLIN }, got;
	int ring, counter, prog, host, n;
	ebpfdsl_ringbuf *rb;

	ring = ebpfdsl_map__create(ebpfdsl_map_type_parse("ringbuf"), 0, 0, 16384, NULL);
	if (ring == -EPERM) {
		printf("ringbuf_epoll: skipped, BPF needs root or CAP_BPF\n");
		return 0;
	}
	CHECK(ring >= 0);
	counter = ebpfdsl_map__create(ebpfdsl_map_type_parse("array"), 4, 8, 1, NULL);
	CHECK(counter >= 0);
	prog = load_producer(ring, counter);
	CHECK(prog >= 0);

	rb = ebpfdsl_ringbuf__new(on_record, &seen);
	CHECK(rb != NULL);
	CHECK(ebpfdsl_ringbuf__add(rb, ring, &add) == 0);
	CHECK(ebpfdsl_ringbuf__add(rb, counter, &add) == -EINVAL); /* not a ring buffer */

	/* the host's own loop watches the reader's epoll fd */
	host = epoll_create1(EPOLL_CLOEXEC);
	CHECK(host >= 0);
	CHECK(epoll_ctl(host, EPOLL_CTL_ADD, ebpfdsl_ringbuf__epoll_fd(rb), &ev) == 0);
	CHECK(epoll_wait(host, &got, 1, 0) == 0); /* nothing written yet */

	CHECK(ebpfdsl_prog__test_run(prog, &run) == 0); /* ten records: 0..9 */
	CHECK(epoll_wait(host, &got, 1, 1000) == 1);
	n = ebpfdsl_ringbuf__poll(rb, 0);
	printf("first poll: %d records, stopped by the callback with %d\n", n, ebpfdsl_ringbuf__stopped(rb));
	CHECK(n == 4 && ebpfdsl_ringbuf__stopped(rb) == 1);
	n = ebpfdsl_ringbuf__poll(rb, 0);
	printf("second poll: %d records, resuming at the next one\n", n);
	CHECK(n == 6 && ebpfdsl_ringbuf__stopped(rb) == 0);
	CHECK(seen.next == 10 && !seen.out_of_order);
	CHECK(ebpfdsl_ringbuf__poll(rb, 50) == 0); /* waited 50 ms for nothing */
	CHECK(ebpfdsl_ringbuf__lost(rb, &(uint64_t){ 0 }) == -ENOENT); /* no loss map given */

	close(host);
	ebpfdsl_ringbuf__free(rb);
	close(prog);
	close(counter);
	close(ring);
	printf("ringbuf_epoll: 10 records read in order, none twice\n");
	return 0;
}
