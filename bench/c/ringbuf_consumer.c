/* SPDX-License-Identifier: MIT */
/* The C baseline of bench/ringbuf_bench.lua: a plain libbpf consumer that
 * drains a pinned ring buffer the bench has filled; and the trigger of the
 * bench's tracepoint producer (getppid calls). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The 32-byte record the tracepoint program writes. */
struct event {
	uint64_t ts;
	uint32_t tid;
	uint32_t pid;
	char comm[16];
};

struct totals {
	long long events;
	uint64_t sum; /* uses every field, so the decode cannot be skipped */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct totals *t = ctx;
	struct event ev;
	if (size < sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	t->events++;
	t->sum += ev.ts + ev.pid + ev.tid + (uint64_t)strnlen(ev.comm, sizeof(ev.comm));
	return 0;
}

/* n calls of getppid: n records from the tracepoint program */
static void produce(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static int usage(void)
{
	fprintf(stderr, "usage: ringbuf_consumer produce N\n"
			"       ringbuf_consumer drain PIN_PATH\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct totals t = { 0, 0 };
	struct ring_buffer *rb;
	double t0, dt;
	int fd;

	if (argc == 3 && strcmp(argv[1], "produce") == 0) {
		produce(atol(argv[2]));
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "drain") != 0)
		return usage();
	fd = bpf_obj_get(argv[2]);
	if (fd < 0) {
		fprintf(stderr, "ringbuf_consumer: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	rb = ring_buffer__new(fd, on_event, &t, NULL);
	if (!rb) {
		fprintf(stderr, "ringbuf_consumer: ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	t0 = now(); /* the ring is full already: this is the consumer's time alone */
	while (ring_buffer__consume(rb) > 0)
		;
	dt = now() - t0;
	printf("events %lld\n", t.events);
	printf("rate %.1f\n", (double)t.events / dt);
	printf("checksum %llu\n", (unsigned long long)(t.sum & 0xffff));
	ring_buffer__free(rb);
	close(fd);
	return 0;
}
