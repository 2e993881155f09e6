/* SPDX-License-Identifier: MIT */
/* What the ring-buffer and perf-buffer readers share: passes over their
 * buffers in turn, the poll loop that first takes what is there, then
 * waits on an epoll fd until a deadline, and the stage a host drains. */
#ifndef EBPFDSL_KERNEL_READER_H
#define EBPFDSL_KERNEL_READER_H

#include "kernel.h"

/* The state of a reader's passes; its callbacks count `handled` and set
 * `stop` (nonzero: end the pass after this record). */
struct ebpfdsl_reader_turns {
	int count;       /* buffers */
	int next;        /* the buffer the next pass starts with */
	int stop;        /* what the callback stopped the last pass with */
	int64_t handled; /* records given to the callback in this pass */
	int interval_ms; /* > 0: a wait also ends after this long, for a pass */
};

/* Consumes buffer i without waiting: 0 or more records, or -errno. */
typedef int (*ebpfdsl_reader_consume_fn)(void *reader, int i);

/* Runs passes until one handles a record or fails; between passes waits
 * on epoll_fd, for at most timeout_ms in all (-1: no limit, 0: one pass)
 * and, with t->interval_ms, at most that long at a time. Records handled,
 * or -errno. */
int ebpfdsl_reader_poll(int epoll_fd, int timeout_ms, struct ebpfdsl_reader_turns *t,
			ebpfdsl_reader_consume_fn consume, void *reader);

/* Timeouts across waits that end early (EINTR, a pass that found
 * nothing): a deadline for timeout_ms (0 when it is not > 0: no deadline
 * to keep), and the ms left until it, 0 once it has passed. */
int64_t ebpfdsl_reader_deadline(int timeout_ms);
int ebpfdsl_reader_left(int64_t deadline);

/* How a host hands each record of a source to its handler (the `mode` of
 * a ring's spec), as rows: what layout it needs and whether it needs a
 * handler. By EBPFDSL_MODE_*; the first two are the defaults, without
 * and with a layout. */
enum { EBPFDSL_MODE_BYTES, EBPFDSL_MODE_TABLE, EBPFDSL_MODE_REUSED, EBPFDSL_MODE_FIELDS, EBPFDSL_MODE_CHUNK };
/* a source's layout: none, one the host decodes itself, or a C layout */
enum { EBPFDSL_LAYOUT_NONE, EBPFDSL_LAYOUT_ANY, EBPFDSL_LAYOUT_C };
struct ebpfdsl_reader_mode {
	const char *name;
	int layout;  /* the least EBPFDSL_LAYOUT_* it needs; NONE: it takes none */
	int handler; /* it shapes what a handler gets: a source without one cannot have it */
};
extern const struct ebpfdsl_reader_mode ebpfdsl_reader_modes[]; /* ended by a NULL name */
/* The mode named `name` (NULL: the default) for a source with `layout`
 * (EBPFDSL_LAYOUT_*) and, when `handler`, a handler: its EBPFDSL_MODE_*,
 * or -1 with why in err ("mode 'chunk' takes no layout"). */
int ebpfdsl_reader_mode_find(const char *name, int layout, int handler, char *err, size_t errlen);

/* A reader kind as a row, for a host that drives every kind the same
 * way (the Lua binding's skeleton): what its buffers are called and its
 * functions over an opaque pointer. A writer (user_ringbuf) has only
 * free; its poll_what is NULL. */
struct ebpfdsl_reader_ops {
	const char *poll_what; /* names a failed poll: "ringbuf poll" */
	const char *unit;      /* what count() counts: "ring" */
	void (*free)(void *reader);
	int (*count)(const void *reader);
	int (*poll)(void *reader, int timeout_ms);
	int (*stopped)(const void *reader); /* -ENOMEM: staging failed */
	int (*epoll_fd)(const void *reader);
};
extern const struct ebpfdsl_reader_ops ebpfdsl_ringbuf_ops, ebpfdsl_perfbuf_ops, ebpfdsl_user_ringbuf_ops;

/* Defines a reader kind's row from its public functions PFX__free,
 * PFX__COUNT, PFX__poll, PFX__stopped and PFX__epoll_fd: the wrappers only
 * turn the opaque pointer back into the kind's own (C99 has no safe cast
 * between function pointer types), so each kind writes one line. */
#define EBPFDSL_READER_OPS_ROW(ROW, PFX, COUNT, WHAT, UNIT)                                    \
	static void ROW##_free(void *r) { PFX##__free(r); }                                    \
	static int ROW##_count(const void *r) { return PFX##__##COUNT(r); }                    \
	static int ROW##_poll(void *r, int timeout_ms) { return PFX##__poll(r, timeout_ms); }  \
	static int ROW##_stopped(const void *r) { return PFX##__stopped(r); }                  \
	static int ROW##_epoll_fd(const void *r) { return PFX##__epoll_fd(r); }                \
	const struct ebpfdsl_reader_ops ROW = { WHAT, UNIT, ROW##_free, ROW##_count, ROW##_poll, \
						ROW##_stopped, ROW##_epoll_fd }

/* The stage: records a reader's callbacks copied, kept for a host that
 * cannot run its handlers inside libbpf's callback (an interpreter whose
 * handler may raise, or close the reader). What a handler error leaves
 * unread stays for the next call. One growing byte buffer of 8-byte
 * aligned records, compacted when it would grow. */
enum { EBPFDSL_STAGE_SAMPLE, EBPFDSL_STAGE_LOST };

struct ebpfdsl_stage_rec {
	int32_t src;  /* ring index, or CPU */
	int32_t kind; /* EBPFDSL_STAGE_SAMPLE or EBPFDSL_STAGE_LOST */
	uint64_t n;   /* bytes of data that follow, or samples lost */
};

struct ebpfdsl_stage {
	char *buf;
	size_t cap, head, tail; /* bytes */
	size_t count;           /* records between head and tail */
	size_t want;            /* the callbacks stop a poll once this many are staged */
};

/* 0, or -ENOMEM (the record is then not kept). */
int ebpfdsl_stage_push_grow(struct ebpfdsl_stage *s, int src, int kind, uint64_t n, const void *data, size_t len);

/* The same, inline while the buffer has room: every record comes here. */
static inline int ebpfdsl_stage_push(struct ebpfdsl_stage *s, int src, int kind, uint64_t n, const void *data,
				     size_t len)
{
	size_t need = sizeof(struct ebpfdsl_stage_rec) + ((len + 7) & ~(size_t)7);
	struct ebpfdsl_stage_rec *r;
	if (s->cap - s->tail < need)
		return ebpfdsl_stage_push_grow(s, src, kind, n, data, len);
	r = (struct ebpfdsl_stage_rec *)(void *)(s->buf + s->tail);
	r->src = src;
	r->kind = kind;
	r->n = n;
	if (len)
		memcpy(r + 1, data, len);
	s->tail += need;
	s->count++;
	return 0;
}

/* The oldest record, or NULL; its data follows it. */
static inline const struct ebpfdsl_stage_rec *ebpfdsl_stage_peek(const struct ebpfdsl_stage *s)
{
	return s->count ? (const struct ebpfdsl_stage_rec *)(const void *)(s->buf + s->head) : NULL;
}

/* Drops the oldest record. Its bytes stay readable until the next push. */
static inline void ebpfdsl_stage_pop(struct ebpfdsl_stage *s)
{
	const struct ebpfdsl_stage_rec *r = ebpfdsl_stage_peek(s);
	if (!r)
		return;
	s->head += sizeof(*r) + (r->kind == EBPFDSL_STAGE_SAMPLE ? ((r->n + 7) & ~(uint64_t)7) : 0);
	if (--s->count == 0)
		s->head = s->tail = 0;
}

/* Drops the n oldest records, which end at byte offset `end` (a walk
 * from head found it). */
void ebpfdsl_stage_pop_n(struct ebpfdsl_stage *s, size_t n, size_t end);
void ebpfdsl_stage_free(struct ebpfdsl_stage *s);
/* Walks up to max of the oldest records (samples) without dropping them:
 * recs[i] and lens[i] their data and size, *end the offset after the
 * last; stops before one shorter than min_len. How many were walked: a
 * count below max and s->count means the next record is too short. */
size_t ebpfdsl_stage_gather(const struct ebpfdsl_stage *s, size_t max, size_t min_len, const void **recs,
			    size_t *lens, size_t *end);


/* Records of ring i read in place, for a host that decodes them without
 * a copy (the stage's): up to max committed records from the consumer
 * position, recs[k] their data, lens[k] their sizes, ends[k] the
 * consumer position after record k; stops before a record still being
 * written and skips discarded ones. Records of one peek are contiguous
 * bytes (the data is mapped twice), recs[0] first. They stay the ring's,
 * and readable, until released: __release(rb, i, ends[k]) gives back
 * records 0..k (and discarded ones among them) to the producer. */
size_t ebpfdsl_ringbuf__peek(const ebpfdsl_ringbuf *rb, int i, size_t max, const void **recs, size_t *lens,
			     uint64_t *ends);
void ebpfdsl_ringbuf__release(ebpfdsl_ringbuf *rb, int i, uint64_t pos);

/* Does a ring hold a committed record now? */
int ebpfdsl_ringbuf__ready(const ebpfdsl_ringbuf *rb);

/* __peek over every ring: up to max records in all, ring after ring from
 * `first`, in room the caller gives (ebpfdsl_ringbuf_gather_room). */
struct ebpfdsl_ringbuf_gather {
	int first;          /* the ring read first */
	size_t total;       /* records gathered: recs[k], lens[k], ends[k] */
	uint64_t *ends;
	const void **recs;
	size_t *lens;
	size_t *per;        /* by ring index: how many of them came from it */
};
/* The bytes of room for up to max records over nrings rings, and the
 * gather laid out over `room` (8-byte aligned, as malloc gives). */
size_t ebpfdsl_ringbuf_gather_room(int nrings, size_t max);
void ebpfdsl_ringbuf_gather_init(struct ebpfdsl_ringbuf_gather *g, void *room, size_t max);
/* Gathers (g->first set, room laid out): how many, also in g->total. */
size_t ebpfdsl_ringbuf__gather(const ebpfdsl_ringbuf *rb, size_t max, struct ebpfdsl_ringbuf_gather *g);
/* Gives the first n gathered records back to their rings (__release). */
void ebpfdsl_ringbuf__release_gathered(ebpfdsl_ringbuf *rb, const struct ebpfdsl_ringbuf_gather *g, size_t n);

/* Callbacks of ebpfdsl_ringbuf__new and ebpfdsl_perfbuf__new (samples)
 * and of the perf buffer's lost option, ctx a struct ebpfdsl_stage: copy,
 * and stop the poll once `want` records are staged; -ENOMEM when a copy
 * fails (the record is lost; __stopped tells). */
int ebpfdsl_stage_sample(void *ctx, int src, const void *data, size_t size);
int ebpfdsl_stage_lost(void *ctx, int src, uint64_t n);

#endif
