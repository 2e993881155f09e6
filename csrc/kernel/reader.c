/* SPDX-License-Identifier: MIT */
/* The poll loop of both readers. It takes what the buffers hold before it
 * waits: a perf event fd forgets it was readable once polled, and a reader
 * stopped by its callback leaves records behind that must not wait for
 * the next wakeup. With an interval it also looks on a timer: ring buffer
 * producers may submit without waking anyone (BPF_RB_NO_WAKEUP). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/epoll.h>
#include "reader.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ebpfdsl_reader_deadline(int timeout_ms)
{
	return timeout_ms > 0 ? now_ms() + timeout_ms : 0;
}

int ebpfdsl_reader_left(int64_t deadline)
{
	int64_t left = deadline - now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

const struct ebpfdsl_reader_mode ebpfdsl_reader_modes[] = {
	[EBPFDSL_MODE_BYTES] = { "bytes", EBPFDSL_LAYOUT_NONE, 0 },
	[EBPFDSL_MODE_TABLE] = { "table", EBPFDSL_LAYOUT_ANY, 0 },
	[EBPFDSL_MODE_REUSED] = { "reused", EBPFDSL_LAYOUT_C, 1 },
	[EBPFDSL_MODE_FIELDS] = { "fields", EBPFDSL_LAYOUT_C, 1 },
	[EBPFDSL_MODE_CHUNK] = { "chunk", EBPFDSL_LAYOUT_NONE, 1 },
	{ NULL, 0, 0 },
};

int ebpfdsl_reader_mode_find(const char *name, int layout, int handler, char *err, size_t errlen)
{
	const struct ebpfdsl_reader_mode *m;
	if (!name)
		return layout == EBPFDSL_LAYOUT_NONE ? EBPFDSL_MODE_BYTES : EBPFDSL_MODE_TABLE;
	for (m = ebpfdsl_reader_modes; m->name && strcmp(m->name, name); m++)
		;
	if (!m->name)
		snprintf(err, errlen, "unknown mode '%s' (bytes, chunk; with a layout: table, reused, fields)", name);
	else if (m->layout == EBPFDSL_LAYOUT_NONE && layout != EBPFDSL_LAYOUT_NONE)
		snprintf(err, errlen, "mode '%s' takes no layout", name);
	else if (m->layout != EBPFDSL_LAYOUT_NONE && layout == EBPFDSL_LAYOUT_NONE)
		snprintf(err, errlen, "mode '%s' needs a layout", name);
	else if (m->layout == EBPFDSL_LAYOUT_C && layout != EBPFDSL_LAYOUT_C)
		snprintf(err, errlen, "mode '%s' needs an ebpfdsl.Layout (structs.define), not a Lua object", name);
	else if (m->handler && !handler)
		snprintf(err, errlen, "mode '%s' shapes what a handler gets, and the ring has none", name);
	else
		return (int)(m - ebpfdsl_reader_modes);
	return -1;
}

/* Every buffer once, starting where the last stop left off so that one
 * busy buffer cannot starve the others. */
static int pass(struct ebpfdsl_reader_turns *t, ebpfdsl_reader_consume_fn consume, void *reader)
{
	t->stop = 0;
	t->handled = 0;
	for (int k = 0; k < t->count; k++) {
		int i = (t->next + k) % t->count;
		int err = consume(reader, i);
		if (t->stop) {
			t->next = (i + 1) % t->count;
			break;
		}
		if (err < 0)
			return err;
	}
	return t->handled > INT_MAX ? INT_MAX : (int)t->handled;
}

int ebpfdsl_reader_poll(int epoll_fd, int timeout_ms, struct ebpfdsl_reader_turns *t,
			ebpfdsl_reader_consume_fn consume, void *reader)
{
	int64_t deadline = ebpfdsl_reader_deadline(timeout_ms);
	struct epoll_event ev[8];

	t->stop = 0;
	for (;;) {
		int n = pass(t, consume, reader), wait = -1;
		if (n != 0 || timeout_ms == 0)
			return n;
		if (timeout_ms > 0 && (wait = ebpfdsl_reader_left(deadline)) == 0)
			return 0;
		/* records whose producer asked for no wakeup only come this way */
		if (t->interval_ms > 0 && (wait < 0 || wait > t->interval_ms))
			wait = t->interval_ms;
		/* which buffers woke does not matter: the next pass visits all */
		n = epoll_wait(epoll_fd, ev, (int)(sizeof(ev) / sizeof(ev[0])), wait);
		if (n < 0)
			return -errno;
		if (n == 0 && t->interval_ms <= 0)
			return 0;
	}
}

int ebpfdsl_stage_push_grow(struct ebpfdsl_stage *s, int src, int kind, uint64_t n, const void *data, size_t len)
{
	size_t need = sizeof(struct ebpfdsl_stage_rec) + ((len + 7) & ~(size_t)7);

	if (s->head > 0) { /* compacted first: the room may be there already */
		memmove(s->buf, s->buf + s->head, s->tail - s->head);
		s->tail -= s->head;
		s->head = 0;
	}
	if (s->cap - s->tail < need) {
		size_t cap = s->cap ? s->cap : 4096;
		char *grown;
		while (cap - s->tail < need)
			cap *= 2;
		grown = realloc(s->buf, cap);
		if (!grown)
			return -ENOMEM;
		s->buf = grown;
		s->cap = cap;
	}
	return ebpfdsl_stage_push(s, src, kind, n, data, len);
}

void ebpfdsl_stage_pop_n(struct ebpfdsl_stage *s, size_t n, size_t end)
{
	if (!n)
		return;
	s->head = end;
	s->count -= n;
	if (s->count == 0)
		s->head = s->tail = 0;
}

size_t ebpfdsl_stage_gather(const struct ebpfdsl_stage *s, size_t max, size_t min_len, const void **recs,
			    size_t *lens, size_t *end)
{
	size_t n = 0, at = s->head;
	if (max > s->count)
		max = s->count;
	for (; n < max; n++) {
		const struct ebpfdsl_stage_rec *rec = (const struct ebpfdsl_stage_rec *)(const void *)(s->buf + at);
		if (rec->n < min_len)
			break;
		recs[n] = rec + 1;
		lens[n] = rec->n;
		at += sizeof(*rec) + ((rec->n + 7) & ~(uint64_t)7);
	}
	*end = at;
	return n;
}

void ebpfdsl_stage_free(struct ebpfdsl_stage *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

int ebpfdsl_stage_sample(void *ctx, int src, const void *data, size_t size)
{
	struct ebpfdsl_stage *s = ctx;
	if (ebpfdsl_stage_push(s, src, EBPFDSL_STAGE_SAMPLE, size, data, size))
		return -ENOMEM;
	return s->count >= s->want;
}

int ebpfdsl_stage_lost(void *ctx, int src, uint64_t n)
{
	struct ebpfdsl_stage *s = ctx;
	if (ebpfdsl_stage_push(s, src, EBPFDSL_STAGE_LOST, n, NULL, 0))
		return -ENOMEM;
	return s->count >= s->want;
}
