/* SPDX-License-Identifier: MIT */
/* Perf-buffer reader over a BPF_MAP_TYPE_PERF_EVENT_ARRAY, one buffer per
 * CPU, on libbpf's perf_buffer__new_raw so that a callback can stop it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "reader.h"

struct ebpfdsl_perfbuf {
	struct perf_buffer *lpb;
	int map_fd; /* ours: libbpf clears the map's slots through it when freed */
	ebpfdsl_perfbuf_fn fn;
	ebpfdsl_perfbuf_lost_fn lost;
	void *ctx;
	struct ebpfdsl_reader_turns turns; /* count: one buffer per CPU */
};

/* The records a bpf_perf_event_output ring holds (PERF_SAMPLE_RAW). */
struct raw_sample {
	struct perf_event_header header;
	uint32_t size;
	char data[];
};

struct lost_record {
	struct perf_event_header header;
	uint64_t id;
	uint64_t lost;
};

/* libbpf moves the tail past a record whatever we return; DONE ends the
 * buffer's pass there, without the warning an ERROR would print. */
static enum bpf_perf_event_ret on_record(void *ctx, int cpu, struct perf_event_header *e)
{
	ebpfdsl_perfbuf *pb = ctx;
	int v;
	if (e->type == PERF_RECORD_SAMPLE) {
		const struct raw_sample *s = (const void *)e;
		v = pb->fn(pb->ctx, cpu, s->data, s->size);
	} else if (e->type == PERF_RECORD_LOST && pb->lost) {
		const struct lost_record *l = (const void *)e;
		v = pb->lost(pb->ctx, cpu, l->lost);
	} else {
		return LIBBPF_PERF_EVENT_CONT;
	}
	pb->turns.handled++;
	if (v) {
		pb->turns.stop = v;
		return LIBBPF_PERF_EVENT_DONE;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static int map_type(int fd, uint32_t *type)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*type = info.type;
	return 0;
}

ebpfdsl_perfbuf *ebpfdsl_perfbuf__new(int map_fd, ebpfdsl_perfbuf_fn fn, void *ctx,
				      const struct ebpfdsl_perfbuf_opts *opts)
{
	struct perf_event_attr attr;
	struct ebpfdsl_hush h;
	ebpfdsl_perfbuf *pb;
	size_t pages = 8;
	uint32_t type = 0;
	int err;

	if (opts && opts->sz > offsetof(struct ebpfdsl_perfbuf_opts, pages) && opts->pages)
		pages = opts->pages;
	/* checked here, so that libbpf has nothing to complain about */
	if (!fn || map_fd < 0 || (pages & (pages - 1))) {
		errno = EINVAL;
		return NULL;
	}
	err = map_type(map_fd, &type);
	if (err || type != BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		errno = err ? -err : EINVAL;
		return NULL;
	}
	pb = calloc(1, sizeof(*pb));
	if (!pb) {
		errno = ENOMEM;
		return NULL;
	}
	pb->fn = fn;
	pb->ctx = ctx;
	if (opts && opts->sz > offsetof(struct ebpfdsl_perfbuf_opts, lost))
		pb->lost = opts->lost;
	/* what perf_buffer__new asks for: bpf_perf_event_output's event */
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	pb->map_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);
	if (pb->map_fd < 0) {
		err = errno;
		free(pb);
		errno = err;
		return NULL;
	}
	ebpfdsl_hush_begin(&h, NULL, 0);
	pb->lpb = perf_buffer__new_raw(pb->map_fd, pages, &attr, on_record, pb, NULL);
	err = errno;
	ebpfdsl_hush_end(&h, !pb->lpb);
	if (!pb->lpb) {
		close(pb->map_fd);
		free(pb);
		errno = err;
		return NULL;
	}
	pb->turns.count = (int)perf_buffer__buffer_cnt(pb->lpb);
	return pb;
}

void ebpfdsl_perfbuf__free(ebpfdsl_perfbuf *pb)
{
	if (!pb)
		return;
	perf_buffer__free(pb->lpb);
	close(pb->map_fd);
	free(pb);
}

int ebpfdsl_perfbuf__buffer_count(const ebpfdsl_perfbuf *pb)
{
	return pb ? pb->turns.count : 0;
}

static int consume(void *reader, int i)
{
	ebpfdsl_perfbuf *pb = reader;
	return perf_buffer__consume_buffer(pb->lpb, (size_t)i);
}

int ebpfdsl_perfbuf__poll(ebpfdsl_perfbuf *pb, int timeout_ms)
{
	struct ebpfdsl_hush h;
	int n;
	if (!pb)
		return -EINVAL;
	ebpfdsl_hush_begin(&h, NULL, 0); /* libbpf warns of a sample it cannot read */
	n = ebpfdsl_reader_poll(perf_buffer__epoll_fd(pb->lpb), timeout_ms, &pb->turns, consume, pb);
	ebpfdsl_hush_end(&h, n < 0);
	return n;
}

int ebpfdsl_perfbuf__consume(ebpfdsl_perfbuf *pb)
{
	return ebpfdsl_perfbuf__poll(pb, 0);
}

int ebpfdsl_perfbuf__stopped(const ebpfdsl_perfbuf *pb)
{
	return pb ? pb->turns.stop : 0;
}

int ebpfdsl_perfbuf__epoll_fd(const ebpfdsl_perfbuf *pb)
{
	return pb ? perf_buffer__epoll_fd(pb->lpb) : -EINVAL;
}

EBPFDSL_READER_OPS_ROW(ebpfdsl_perfbuf_ops, ebpfdsl_perfbuf, buffer_count, "perfbuf poll", "CPU buffer");
