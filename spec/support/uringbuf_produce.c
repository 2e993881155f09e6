/* SPDX-License-Identifier: MIT */
/* Writes samples into a user ring buffer map with libbpf's own producer
 * (user_ring_buffer__*), the oracle for programs that drain it: argv[1] is
 * the map's id, each further argument one u64 sample. Prints how many it
 * submitted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct user_ring_buffer *rb;
	int fd, n = 0;

	if (argc < 2)
		return 2;
	fd = bpf_map_get_fd_by_id((__u32)strtoul(argv[1], NULL, 0));
	if (fd < 0) {
		perror("bpf_map_get_fd_by_id");
		return 1;
	}
	rb = user_ring_buffer__new(fd, NULL);
	if (!rb) {
		perror("user_ring_buffer__new");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		unsigned long long v = strtoull(argv[i], NULL, 0);
		void *s = user_ring_buffer__reserve(rb, sizeof(v));
		if (!s) {
			perror("user_ring_buffer__reserve");
			break;
		}
		memcpy(s, &v, sizeof(v));
		user_ring_buffer__submit(rb, s);
		n++;
	}
	user_ring_buffer__free(rb);
	printf("%d\n", n);
	return 0;
}
