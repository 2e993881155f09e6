/* SPDX-License-Identifier: MIT */
/* Decode and encode rates of a 48-byte event layout in C: hand-written
 * loops reading or writing each field (the baselines), and the layout
 * API's visitor walk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ebpfdsl.h"

#define RECORDS 1024
#define SIZE 48

/* The same fields bench/layout_bench.lua defines, in C. */
struct bench_event {
	uint64_t ts;
	uint32_t pid, tgid, uid, gid;
	char comm[16];
	int32_t ret;
	uint16_t cpu;
	uint8_t proto, flags;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t sink;

/* What a reader does with one event: every field into a local, the
 * comm cut at NUL, then use them (a checksum). */
static void read_loop(const unsigned char *buf)
{
	for (int i = 0; i < RECORDS; i++) {
		struct bench_event e;
		memcpy(&e, buf + (size_t)i * SIZE, sizeof(e));
		sink += e.ts + e.pid + e.tgid + e.uid + e.gid + strnlen(e.comm, sizeof(e.comm)) + (uint64_t)(int64_t)e.ret +
			e.cpu + e.proto + e.flags;
	}
}

static int on_scalar(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t v)
{
	(void)c;
	*(uint64_t *)ctx += (uint64_t)v;
	return 0;
}

static int on_bytes(void *ctx, const struct ebpfdsl_layout_cursor *c, const char *p, size_t len)
{
	(void)c;
	(void)p;
	*(uint64_t *)ctx += len;
	return 0;
}

static const struct ebpfdsl_layout_visitor visitor = {
	.sz = sizeof(visitor), .scalar = on_scalar, .bytes = on_bytes,
};

static ebpfdsl_layout *build(void)
{
	ebpfdsl_layout *l = ebpfdsl_layout__new("bench_event", NULL);
	ebpfdsl_layout__add_field(l, "ts", EBPFDSL_TYPE_U64, 0);
	ebpfdsl_layout__add_field(l, "pid", EBPFDSL_TYPE_U32, 0);
	ebpfdsl_layout__add_field(l, "tgid", EBPFDSL_TYPE_U32, 0);
	ebpfdsl_layout__add_field(l, "uid", EBPFDSL_TYPE_U32, 0);
	ebpfdsl_layout__add_field(l, "gid", EBPFDSL_TYPE_U32, 0);
	ebpfdsl_layout__add_field(l, "comm", EBPFDSL_TYPE_CHAR, 16);
	ebpfdsl_layout__add_field(l, "ret", EBPFDSL_TYPE_I32, 0);
	ebpfdsl_layout__add_field(l, "cpu", EBPFDSL_TYPE_U16, 0);
	ebpfdsl_layout__add_field(l, "proto", EBPFDSL_TYPE_U8, 0);
	ebpfdsl_layout__add_field(l, "flags", EBPFDSL_TYPE_U8, 0);
	if (ebpfdsl_layout__error(l) || ebpfdsl_layout__size(l) != SIZE || sizeof(struct bench_event) != SIZE) {
		fprintf(stderr, "layout_decode: %s\n", ebpfdsl_layout__error(l) ? ebpfdsl_layout__error(l) : "size");
		exit(1);
	}
	return l;
}

/* What a writer does: every field from values at hand into one record. */
static void write_loop(unsigned char *buf)
{
	for (int i = 0; i < RECORDS; i++) {
		struct bench_event e = { .ts = 1000000000ull * (uint64_t)i, .pid = 1000u + (uint32_t)i,
					 .tgid = 1000u + (uint32_t)i, .uid = (uint32_t)i % 7, .gid = (uint32_t)i % 5,
					 .ret = -i, .cpu = (uint16_t)(i % 4), .proto = 6, .flags = (uint8_t)i };
		memcpy(e.comm, "proc-", 6);
		memcpy(buf + (size_t)i * SIZE, &e, SIZE);
	}
}

int main(void)
{
	static unsigned char buf[RECORDS * SIZE], out[RECORDS * SIZE];
	ebpfdsl_layout *l = build();
	size_t iters = 0;
	double t0, dt;

	for (int i = 0; i < RECORDS; i++) {
		struct bench_event e = { .ts = 1000000000ull * i, .pid = 1000 + i, .tgid = 1000 + i, .uid = i % 7,
					 .gid = i % 5, .ret = -i, .cpu = i % 4, .proto = 6, .flags = i & 0xff };
		snprintf(e.comm, sizeof(e.comm), "proc-%d", i);
		memcpy(buf + (size_t)i * SIZE, &e, SIZE);
	}
	printf("size %d\n", SIZE);

	t0 = now();
	do {
		read_loop(buf);
		__asm__ volatile("" : : "r"(buf) : "memory");
		iters++;
	} while ((dt = now() - t0) < 0.5);
	printf("loop_rate %.1f\n", (double)(iters * RECORDS) / dt);

	iters = 0;
	t0 = now();
	do {
		for (int i = 0; i < RECORDS; i++)
			ebpfdsl_layout__decode(l, buf + (size_t)i * SIZE, SIZE, &visitor, &sink);
		iters++;
	} while ((dt = now() - t0) < 0.5);
	printf("api_rate %.1f\n", (double)(iters * RECORDS) / dt);

	iters = 0;
	t0 = now();
	do {
		write_loop(out);
		__asm__ volatile("" : : "r"(out) : "memory");
		iters++;
	} while ((dt = now() - t0) < 0.5);
	printf("encode_loop_rate %.1f\n", (double)(iters * RECORDS) / dt);
	printf("checksum %llu\n", (unsigned long long)(sink & 0xffff));
	ebpfdsl_layout__free(l);
	return 0;
}
