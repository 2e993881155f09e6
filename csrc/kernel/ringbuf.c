/* SPDX-License-Identifier: MIT */
/* Ring-buffer reader over one or more BPF_MAP_TYPE_RINGBUF maps: our own
 * consumer over each map's mmap'd pages, with callbacks that may stop a
 * poll safely, and records a host may read in place (__peek, __release).
 * The protocol is the kernel's (kernel/bpf/ringbuf.c): the producer
 * position is loaded with acquire, then each record's header; a header
 * with BPF_RINGBUF_BUSY_BIT is a record still being written (nothing
 * after it is read yet), one with BPF_RINGBUF_DISCARD_BIT is skipped; the
 * consumer position is stored with release once a record is done with,
 * so that the producer may reuse its bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "reader.h"

/* One map: its consumer page (ours to write) and its producer page and
 * data, which the kernel maps twice in a row so that a record that wraps
 * around the end reads as contiguous bytes. */
struct ring {
	ebpfdsl_ringbuf *rb;
	int index;
	int lost_fd;      /* our duplicate, or -1 */
	uint32_t lost_id; /* the loss map's id, to count a shared map once */
	unsigned long *consumer_pos, *producer_pos;
	const char *data;
	size_t mask;      /* data bytes - 1 (a power of two) */
	size_t page;      /* the size of the consumer and producer pages */
};

struct ebpfdsl_ringbuf {
	ebpfdsl_ringbuf_fn fn;
	void *ctx;
	struct ring **rings;
	struct ebpfdsl_reader_turns turns; /* count: the rings */
	int epfd;    /* ours: every ring map fd, for the poll loop and hosts */
};

/* The header of the record at consumer position pos: its length and bits */
static uint32_t header_at(const struct ring *r, unsigned long pos)
{
	return __atomic_load_n((const uint32_t *)(const void *)(r->data + (pos & r->mask)), __ATOMIC_ACQUIRE);
}

/* Header and data, rounded up to 8 bytes: where the next record starts. */
static unsigned long record_bytes(uint32_t len)
{
	return ((len & ~(uint32_t)BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
}

/* Hands every committed record to the callback, in the ring's memory:
 * the consumer position passes a record only once the callback has
 * returned (before, the producer could write over the bytes it reads).
 * A stop keeps this record consumed and leaves the next one first in
 * line. */
static int ring_consume(struct ring *r)
{
	ebpfdsl_ringbuf *rb = r->rb;
	unsigned long cons = *r->consumer_pos, prod;
	while (cons < (prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE))) {
		while (cons < prod) {
			uint32_t len = header_at(r, cons);
			const char *rec = r->data + (cons & r->mask) + BPF_RINGBUF_HDR_SZ;
			int v = 0;
			if (len & BPF_RINGBUF_BUSY_BIT)
				return 0;
			cons += record_bytes(len);
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				v = rb->fn(rb->ctx, r->index, rec, len);
				rb->turns.handled++;
			}
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
			if (v) {
				rb->turns.stop = v;
				return 0;
			}
		}
	}
	return 0;
}

size_t ebpfdsl_ringbuf__peek(const ebpfdsl_ringbuf *rb, int i, size_t max, const void **recs, size_t *lens,
			     uint64_t *ends)
{
	const struct ring *r = rb->rings[i];
	unsigned long cons = *r->consumer_pos, at = cons;
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	size_t n = 0;
	while (n < max && at < prod) {
		uint32_t len = header_at(r, at);
		unsigned long next = at + record_bytes(len);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			/* at - cons < the data's size: inside the second mapping */
			recs[n] = r->data + (cons & r->mask) + (at - cons) + BPF_RINGBUF_HDR_SZ;
			lens[n] = len;
			ends[n++] = next;
		}
		at = next;
	}
	return n;
}

void ebpfdsl_ringbuf__release(ebpfdsl_ringbuf *rb, int i, uint64_t pos)
{
	__atomic_store_n(rb->rings[i]->consumer_pos, (unsigned long)pos, __ATOMIC_RELEASE);
}

int ebpfdsl_ringbuf__ready(const ebpfdsl_ringbuf *rb)
{
	const void *rec;
	size_t len;
	uint64_t end;
	for (int i = 0; i < rb->turns.count; i++)
		if (ebpfdsl_ringbuf__peek(rb, i, 1, &rec, &len, &end))
			return 1;
	return 0;
}

size_t ebpfdsl_ringbuf_gather_room(int nrings, size_t max)
{
	return max * (sizeof(uint64_t) + sizeof(const void *) + sizeof(size_t)) + (size_t)nrings * sizeof(size_t);
}

void ebpfdsl_ringbuf_gather_init(struct ebpfdsl_ringbuf_gather *g, void *room, size_t max)
{
	g->ends = room; /* the widest first: every array stays aligned; per, last, takes the rest */
	g->recs = (const void **)(void *)(g->ends + max);
	g->lens = (size_t *)(void *)(g->recs + max);
	g->per = g->lens + max;
	g->total = 0;
}

size_t ebpfdsl_ringbuf__gather(const ebpfdsl_ringbuf *rb, size_t max, struct ebpfdsl_ringbuf_gather *g)
{
	int nr = rb->turns.count;
	g->total = 0;
	for (int k = 0; k < nr; k++) {
		int i = (g->first + k) % nr;
		g->per[i] = ebpfdsl_ringbuf__peek(rb, i, max - g->total, g->recs + g->total, g->lens + g->total,
						  g->ends + g->total);
		g->total += g->per[i];
	}
	return g->total;
}

void ebpfdsl_ringbuf__release_gathered(ebpfdsl_ringbuf *rb, const struct ebpfdsl_ringbuf_gather *g, size_t n)
{
	size_t at = 0;
	for (int k = 0; k < rb->turns.count && n; k++) {
		int i = (g->first + k) % rb->turns.count;
		size_t m = g->per[i] < n ? g->per[i] : n;
		if (m)
			ebpfdsl_ringbuf__release(rb, i, g->ends[at + m - 1]);
		at += g->per[i];
		n -= m;
	}
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

/* Maps the consumer page read-write, the producer page and the data
 * (twice) read-only, as the kernel allows them. */
static int ring_map(struct ring *r, int map_fd, const struct bpf_map_info *info)
{
	void *p;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->mask = (size_t)info->max_entries - 1;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->consumer_pos = p;
	p = mmap(NULL, r->page + 2 * (r->mask + 1), PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (p == MAP_FAILED)
		return -errno;
	r->producer_pos = p;
	r->data = (const char *)p + r->page;
	return 0;
}

static void ring_free(struct ring *r)
{
	if (!r)
		return;
	if (r->consumer_pos)
		munmap(r->consumer_pos, r->page);
	if (r->producer_pos)
		munmap(r->producer_pos, r->page + 2 * (r->mask + 1));
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
	int lost_fd = opts && opts->sz > offsetof(struct ebpfdsl_ringbuf_add_opts, lost_fd) ? opts->lost_fd : 0;
	int err;

	if (!rb || map_fd < 0 || lost_fd < 0)
		return -EINVAL;
	/* checked here: its size is what ring_map maps */
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
	err = ring_map(r, map_fd, &info);
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
	return ring_consume(rb->rings[i]);
}

int ebpfdsl_ringbuf__poll(ebpfdsl_ringbuf *rb, int timeout_ms)
{
	if (!rb)
		return -EINVAL;
	return ebpfdsl_reader_poll(rb->epfd, timeout_ms, &rb->turns, consume, rb);
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
