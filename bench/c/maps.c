/* SPDX-License-Identifier: MIT */
/* Map access rates in C through libbpf, the baseline for maps_bench.lua:
 * single-element update and lookup of a u32 -> u64 hash, and batched
 * lookup of a 10,000-element hash. Prints "key rate" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/bpf.h>

#define ENTRIES 10000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	static uint32_t keys[ENTRIES];
	static uint64_t values[ENTRIES];
	uint64_t sum = 0, v;
	uint32_t out, count, got = 0;
	double t0, dt;
	long n = 0, rounds = 0;
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench", 4, 8, ENTRIES, NULL);

	if (fd < 0) {
		perror("bpf_map_create");
		return 1;
	}
	t0 = now();
	do {
		for (uint32_t k = 0; k < 1000; k++) {
			v = k + (uint64_t)n;
			bpf_map_update_elem(fd, &k, &v, BPF_ANY);
		}
		n += 1000;
	} while ((dt = now() - t0) < 0.3);
	printf("update_rate %.1f\n", n / dt);
	n = 0;
	t0 = now();
	do {
		for (uint32_t k = 0; k < 1000; k++) {
			bpf_map_lookup_elem(fd, &k, &v);
			sum += v;
		}
		n += 1000;
	} while ((dt = now() - t0) < 0.3);
	printf("lookup_rate %.1f\n", n / dt);

	for (uint32_t k = 0; k < ENTRIES; k++) {
		v = k;
		bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	}
	t0 = now();
	do {
		count = ENTRIES;
		bpf_map_lookup_batch(fd, NULL, &out, keys, values, &count, NULL);
		got += count;
		for (uint32_t i = 0; i < count; i++)
			sum += values[i];
		rounds++;
	} while ((dt = now() - t0) < 0.3);
	printf("batch_rate %.1f\n", got / dt);
	printf("checksum %llu\n", (unsigned long long)(sum & 0xffff));
	return 0;
}
