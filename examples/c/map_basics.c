/* SPDX-License-Identifier: MIT */
/* Shows the map API from plain C, with no Lua: create a hash map, write
 * and read elements, walk and batch-read them, pin, reopen from the pin,
 * clear. Needs root (or CAP_BPF); without it, says so and exits 0. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ebpfdsl.h"

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "map_basics: failed: %s (line %d)\n", #cond, __LINE__); \
			return 1;                                          \
		}                                                          \
	} while (0)

int main(void)
{
	struct ebpfdsl_map_create_opts o = { .sz = sizeof(o), .name = "c_example" };
	struct ebpfdsl_map_info info = { .sz = sizeof(info), .frozen = 1 /* asked for */ };
	struct ebpfdsl_map_batch b = { .sz = sizeof(b) };
	uint32_t keys[8], next, k, count = 8;
	uint64_t values[8], v, below, above;
	char cursor[16], path[64];
	size_t n;
	int fd, again;

	CHECK(ebpfdsl_ringbuf_size_check(5000, &below, &above) == -EINVAL && below == 4096 && above == 8192);
	fd = ebpfdsl_map__create(ebpfdsl_map_type_parse("hash"), 4, 8, 16, &o);
	if (fd == -EPERM) {
		printf("map_basics: skipped, creating maps needs root or CAP_BPF\n");
		return 0;
	}
	CHECK(fd >= 0);
	for (k = 1; k <= 3; k++) {
		v = k * 100;
		CHECK(ebpfdsl_map__update(fd, &k, &v, BPF_NOEXIST) == 0);
	}
	k = 2;
	CHECK(ebpfdsl_map__lookup(fd, &k, &v, 0) == 0 && v == 200);
	k = 9;
	CHECK(ebpfdsl_map__lookup(fd, &k, &v, 0) == -ENOENT);
	CHECK(ebpfdsl_map__count(fd, &n) == 0 && n == 3);
	CHECK(ebpfdsl_map__next_key(fd, NULL, &next) == 0 && next >= 1 && next <= 3);

	CHECK(ebpfdsl_map_batch_cursor_size(4) <= sizeof(cursor));
	CHECK(ebpfdsl_map__lookup_batch(fd, NULL, cursor, keys, values, &count, &b) == -ENOENT);
	CHECK(count == 3 && !b.fallback);
	for (uint32_t i = 0; i < count; i++)
		CHECK(values[i] == keys[i] * 100);

	CHECK(ebpfdsl_map__info(fd, &info) == 0);
	CHECK(strcmp(ebpfdsl_map_type_name(info.type), "hash") == 0 && info.key_size == 4 && info.value_size == 8);
	CHECK(strcmp(info.name, "c_example") == 0 && info.max_entries == 16 && info.frozen == 0);

	snprintf(path, sizeof(path), "/sys/fs/bpf/ebpfdsl-example-%d/m", (int)getpid());
	CHECK(ebpfdsl_obj__pin(fd, path) == 0);
	again = ebpfdsl_map__open_pinned(path);
	CHECK(again >= 0 && ebpfdsl_obj__kind(again) == EBPFDSL_OBJ_MAP);
	k = 3;
	CHECK(ebpfdsl_map__lookup(again, &k, &v, 0) == 0 && v == 300);
	CHECK(ebpfdsl_obj__unpin(path) == 0);
	*strrchr(path, '/') = '\0';
	rmdir(path);

	CHECK(ebpfdsl_map__clear(again) == 0);
	CHECK(ebpfdsl_map__count(fd, &n) == 0 && n == 0);
	close(again);
	close(fd);
	printf("map_basics: %s map with %zu keys after clear, all checks passed\n", "hash", n);
	return 0;
}
