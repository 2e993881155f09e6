/* SPDX-License-Identifier: MIT */
/* Ring-buffer reader over one or more BPF_MAP_TYPE_RINGBUF maps, on
 * libbpf's ring_buffer__*, with callbacks that may stop a poll safely. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "reader.h"

/* One libbpf ring_buffer per map, so that each ring can be consumed on
 * its own (libbpf 1.1 has no ring__consume) and the rings take turns. */
struct ring {
	ebpfdsl_ringbuf *rb;
	struct ring_buffer *lrb;
	int index;
	int lost_fd;      /* our duplicate, or -1 */
	uint32_t lost_id; /* the loss map's id, to count a shared map once */
};

struct ebpfdsl_ringbuf {
	ebpfdsl_ringbuf_fn fn;
	void *ctx;
	struct ring **rings;
	struct ebpfdsl_reader_turns turns; /* count: the rings */
	int epfd;    /* ours: every ring map fd, for the poll loop and hosts */
};

/* libbpf advances the consumer position past a record before it calls
 * us, and stores it even when we return an error: a stop keeps this
 * record consumed and leaves the next one first in line. */
static int on_sample(void *ctx, void *data, size_t size)
{
	struct ring *r = ctx;
	ebpfdsl_ringbuf *rb = r->rb;
	int v = rb->fn(rb->ctx, r->index, data, size);
	rb->turns.handled++;
	if (v) {
		rb->turns.stop = v;
		return -ECANCELED;
	}
	return 0;
}

ebpfdsl_ringbuf *ebpfdsl_ringbuf__new(ebpfdsl_ringbuf_fn fn, void *ctx)
{
	ebpfdsl_ringbuf *rb;
	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	rb = calloc(1, sizeof(*rb));
	if (!rb) {
		errno = ENOMEM;
		return NULL;
	}
	rb->fn = fn;
	rb->ctx = ctx;
	rb->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rb->epfd < 0) {
		int e = errno;
		free(rb);
		errno = e;
		return NULL;
	}
	return rb;
}

static void ring_free(struct ring *r)
{
	if (!r)
		return;
	ring_buffer__free(r->lrb);
	if (r->lost_fd >= 0)
		close(r->lost_fd);
	free(r);
}

void ebpfdsl_ringbuf__free(ebpfdsl_ringbuf *rb)
{
	if (!rb)
		return;
	for (int i = 0; i < rb->turns.count; i++)
		ring_free(rb->rings[i]);
	free(rb->rings);
	close(rb->epfd);
	free(rb);
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		return -errno;
	return 0;
}

/* A loss map: entry 0 of an array or percpu_array of u64 under u32 keys. */
static int check_loss_map(int fd, struct bpf_map_info *info)
{
	int err = map_info(fd, info);
	if (err)
		return err == -EINVAL ? -EMEDIUMTYPE : err;
	if ((info->type != BPF_MAP_TYPE_ARRAY && info->type != BPF_MAP_TYPE_PERCPU_ARRAY) || info->key_size != 4 ||
	    info->value_size != 8 || info->max_entries < 1)
		return -EMEDIUMTYPE;
	return 0;
}

int ebpfdsl_loss_map__read(int map_fd, uint64_t *sum)
{
	struct bpf_map_info info;
	uint32_t key = 0;
	uint64_t one, *vals;
	int err = check_loss_map(map_fd, &info), n;

	if (err)
		return err;
	if (info.type == BPF_MAP_TYPE_ARRAY) {
		if (bpf_map_lookup_elem(map_fd, &key, &one))
			return -errno;
		*sum = one;
		return 0;
	}
	n = ebpfdsl_num_possible_cpus();
	if (n < 0)
		return n;
	vals = calloc((size_t)n, sizeof(*vals)); /* 8-byte values need no rounding */
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &key, vals)) {
		err = -errno;
		free(vals);
		return err;
	}
	*sum = 0;
	for (int i = 0; i < n; i++)
		*sum += vals[i];
	free(vals);
	return 0;
}

int ebpfdsl_ringbuf__add(ebpfdsl_ringbuf *rb, int map_fd, const struct ebpfdsl_ringbuf_add_opts *opts)
{
	struct bpf_map_info info;
	struct epoll_event ev = { .events = EPOLLIN };
	struct ring *r, **grown;
	struct ebpfdsl_hush h;
	int lost_fd = opts && opts->sz > offsetof(struct ebpfdsl_ringbuf_add_opts, lost_fd) ? opts->lost_fd : 0;
	int err;

	if (!rb || map_fd < 0 || lost_fd < 0)
		return -EINVAL;
	/* checked here, so that libbpf has nothing to complain about */
	err = map_info(map_fd, &info);
	if (err)
		return err;
	if (info.type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->rb = rb;
	r->index = rb->turns.count;
	r->lost_fd = -1;
	if (lost_fd) {
		struct bpf_map_info li;
		err = check_loss_map(lost_fd, &li);
		if (err)
			goto fail;
		r->lost_id = li.id;
		r->lost_fd = fcntl(lost_fd, F_DUPFD_CLOEXEC, 3);
		if (r->lost_fd < 0) {
			err = -errno;
			goto fail;
		}
	}
	grown = realloc(rb->rings, sizeof(*grown) * (size_t)(rb->turns.count + 1));
	if (!grown) {
		err = -ENOMEM;
		goto fail;
	}
	rb->rings = grown;
	ebpfdsl_hush_begin(&h, NULL, 0);
	r->lrb = ring_buffer__new(map_fd, on_sample, r, NULL);
	err = r->lrb ? 0 : -errno;
	ebpfdsl_hush_end(&h, !r->lrb);
	if (err)
		goto fail;
	ev.data.u32 = (uint32_t)r->index;
	if (epoll_ctl(rb->epfd, EPOLL_CTL_ADD, map_fd, &ev)) {
		err = -errno;
		goto fail;
	}
	rb->rings[rb->turns.count++] = r;
	return r->index;
fail:
	ring_free(r);
	return err;
}

int ebpfdsl_ringbuf__ring_count(const ebpfdsl_ringbuf *rb)
{
	return rb ? rb->turns.count : 0;
}

static int consume(void *reader, int i)
{
	ebpfdsl_ringbuf *rb = reader;
	return ring_buffer__consume(rb->rings[i]->lrb);
}

int ebpfdsl_ringbuf__poll(ebpfdsl_ringbuf *rb, int timeout_ms)
{
	struct ebpfdsl_hush h;
	int n;
	if (!rb)
		return -EINVAL;
	ebpfdsl_hush_begin(&h, NULL, 0); /* libbpf warns of a record it cannot read */
	n = ebpfdsl_reader_poll(rb->epfd, timeout_ms, &rb->turns, consume, rb);
	ebpfdsl_hush_end(&h, n < 0);
	return n;
}

int ebpfdsl_ringbuf__consume(ebpfdsl_ringbuf *rb)
{
	return ebpfdsl_ringbuf__poll(rb, 0);
}

int ebpfdsl_ringbuf__set_poll_interval(ebpfdsl_ringbuf *rb, int interval_ms)
{
	if (!rb || interval_ms < 0)
		return -EINVAL;
	rb->turns.interval_ms = interval_ms;
	return 0;
}

int ebpfdsl_ringbuf__stopped(const ebpfdsl_ringbuf *rb)
{
	return rb ? rb->turns.stop : 0;
}

int ebpfdsl_ringbuf__epoll_fd(const ebpfdsl_ringbuf *rb)
{
	return rb ? rb->epfd : -EINVAL;
}

int ebpfdsl_ringbuf__lost(const ebpfdsl_ringbuf *rb, uint64_t *lost)
{
	int found = 0;
	if (!rb || !lost)
		return -EINVAL;
	*lost = 0;
	for (int i = 0; i < rb->turns.count; i++) {
		const struct ring *r = rb->rings[i];
		uint64_t n;
		int seen = 0, err;
		if (r->lost_fd < 0)
			continue;
		for (int j = 0; j < i && !seen; j++)
			seen = rb->rings[j]->lost_fd >= 0 && rb->rings[j]->lost_id == r->lost_id;
		if (seen)
			continue;
		err = ebpfdsl_loss_map__read(r->lost_fd, &n);
		if (err)
			return err;
		*lost += n;
		found = 1;
	}
	return found ? 0 : -ENOENT;
}

EBPFDSL_READER_OPS_ROW(ebpfdsl_ringbuf_ops, ebpfdsl_ringbuf, ring_count, "ringbuf poll", "ring");
