/* SPDX-License-Identifier: MIT */
/* The user-space end of a user_ringbuf map: records written here are
 * drained by a BPF program (bpf_user_ringbuf_drain), on libbpf's
 * user_ring_buffer. One producer at a time, as libbpf requires. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "reader.h"

struct ebpfdsl_user_ringbuf {
	struct user_ring_buffer *rb;
	uint32_t size; /* the map's max_entries: the ring's bytes */
};

ebpfdsl_user_ringbuf *ebpfdsl_user_ringbuf__new(int map_fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct ebpfdsl_user_ringbuf *u;
	int err;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len) < 0)
		return NULL;
	if (info.type != BPF_MAP_TYPE_USER_RINGBUF) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->size = info.max_entries;
	{
		/* libbpf would print why it failed: ebpfdsl_libbpf_said() keeps it */
		struct ebpfdsl_hush h;
		ebpfdsl_hush_begin(&h, NULL, 0);
		u->rb = user_ring_buffer__new(map_fd, NULL);
		err = errno;
		ebpfdsl_hush_end(&h, !u->rb);
	}
	if (!u->rb) {
		free(u);
		errno = err ? err : EINVAL;
		return NULL;
	}
	return u;
}

void ebpfdsl_user_ringbuf__free(ebpfdsl_user_ringbuf *u)
{
	if (!u)
		return;
	user_ring_buffer__free(u->rb);
	free(u);
}

uint32_t ebpfdsl_user_ringbuf__size(const ebpfdsl_user_ringbuf *u)
{
	return u->size;
}

int ebpfdsl_user_ringbuf__write(ebpfdsl_user_ringbuf *u, const void *data, size_t size, int timeout_ms)
{
	void *rec;
	if (size > UINT32_MAX)
		return -E2BIG;
	rec = timeout_ms == 0 ? user_ring_buffer__reserve(u->rb, (__u32)size)
			      : user_ring_buffer__reserve_blocking(u->rb, (__u32)size, timeout_ms);
	if (!rec)
		return -(errno ? errno : ENOSPC);
	memcpy(rec, data, size);
	user_ring_buffer__submit(u->rb, rec);
	return 0;
}

const char *ebpfdsl_user_ringbuf__write_error(const ebpfdsl_user_ringbuf *u, int err, size_t size, char *buf,
					       size_t len)
{
	const char *why = "";
	if (err == -ENOSPC)
		why = ": the ring is full (a BPF program must drain it first)";
	else if (err == -E2BIG)
		why = ": a record and its 8-byte header cannot exceed the ring's ";
	snprintf(buf, len, "write of %zu bytes%s", size, why);
	if (err == -E2BIG) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "%u bytes", (unsigned)u->size);
	}
	return buf;
}

static void ops_free(void *u)
{
	ebpfdsl_user_ringbuf__free(u);
}

const struct ebpfdsl_reader_ops ebpfdsl_user_ringbuf_ops = { NULL, NULL, ops_free, NULL, NULL, NULL, NULL };
