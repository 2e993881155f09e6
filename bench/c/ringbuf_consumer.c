/* SPDX-License-Identifier: MIT */
/* The C baseline of bench/ringbuf_bench.lua: a plain libbpf consumer that
 * drains a pinned ring buffer the bench has filled, or streams from it
 * while a child process produces; and the trigger of the bench's
 * tracepoint producer (getppid calls). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The 32-byte record the bench's programs write. */
struct event {
	uint64_t ts;
	uint32_t pid;
	uint32_t tgid;
	uint64_t counter;
	uint64_t arg;
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
	t->sum += ev.ts + ev.pid + ev.tgid + ev.counter + ev.arg;
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
			"       ringbuf_consumer drain PIN_PATH\n"
			"       ringbuf_consumer stream PIN_PATH N wakeup|interval\n");
	return 2;
}

static struct ring_buffer *open_ring(const char *pin, struct totals *t)
{
	struct ring_buffer *rb;
	int fd = bpf_obj_get(pin);
	if (fd < 0) {
		fprintf(stderr, "ringbuf_consumer: %s: %s\n", pin, strerror(errno));
		exit(1);
	}
	rb = ring_buffer__new(fd, on_event, t, NULL);
	if (!rb) {
		fprintf(stderr, "ringbuf_consumer: ring_buffer__new: %s\n", strerror(errno));
		exit(1);
	}
	return rb; /* fd stays open: the epoll set of rb watches it */
}

/* A child makes n getppid calls while we read, until n records came:
 * woken by the kernel (ring_buffer__poll), or, for producers that submit
 * with BPF_RB_NO_WAKEUP, looking every millisecond. */
static int stream(const char *pin, long n, int interval)
{
	struct totals t = { 0, 0 };
	struct ring_buffer *rb = open_ring(pin, &t);
	double t0 = now(), dt;
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		produce(n);
		_exit(0);
	}
	while (t.events < n && now() - t0 < 60) {
		if (!interval)
			ring_buffer__poll(rb, 100);
		else if (ring_buffer__consume(rb) == 0)
			poll(NULL, 0, 1);
	}
	dt = now() - t0;
	waitpid(child, NULL, 0);
	printf("events %lld\n", t.events);
	printf("rate %.1f\n", (double)t.events / dt);
	printf("checksum %llu\n", (unsigned long long)(t.sum & 0xffff));
	ring_buffer__free(rb);
	return 0;
}

int main(int argc, char **argv)
{
	struct totals t = { 0, 0 };
	struct ring_buffer *rb;
	double t0, dt;

	if (argc == 3 && strcmp(argv[1], "produce") == 0) {
		produce(atol(argv[2]));
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "stream") == 0)
		return stream(argv[2], atol(argv[3]), strcmp(argv[4], "interval") == 0);
	if (argc != 3 || strcmp(argv[1], "drain") != 0)
		return usage();
	rb = open_ring(argv[2], &t);
	t0 = now(); /* the ring is full already: this is the consumer's time alone */
	while (ring_buffer__consume(rb) > 0)
		;
	dt = now() - t0;
	printf("events %lld\n", t.events);
	printf("rate %.1f\n", (double)t.events / dt);
	printf("checksum %llu\n", (unsigned long long)(t.sum & 0xffff));
	ring_buffer__free(rb);
	return 0;
}
