/* SPDX-License-Identifier: MIT */
/* The records a reader took from the kernel and has not yet given to Lua.
 * Callbacks from libbpf only copy records here; Lua runs after libbpf has
 * returned, and what a Lua error leaves unread stays for the next call. */
#ifndef EBPFDSL_LUA_STAGE_H
#define EBPFDSL_LUA_STAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { STAGE_SAMPLE, STAGE_LOST };

struct stage_rec {
	int32_t src;  /* ring index, or CPU */
	int32_t kind; /* STAGE_SAMPLE or STAGE_LOST */
	uint64_t n;   /* bytes of data that follow, or samples lost */
};

struct stage {
	char *buf;
	size_t cap, head, tail; /* bytes */
	size_t count;           /* records between head and tail */
};

/* 0, or -ENOMEM (the record is then not kept). */
int ebpfdsl_stage_push_grow(struct stage *s, int src, int kind, uint64_t n, const void *data, size_t len);

/* The same, inline while the buffer has room: every record comes here. */
static inline int ebpfdsl_stage_push(struct stage *s, int src, int kind, uint64_t n, const void *data, size_t len)
{
	size_t need = sizeof(struct stage_rec) + ((len + 7) & ~(size_t)7);
	struct stage_rec *r;
	if (s->cap - s->tail < need)
		return ebpfdsl_stage_push_grow(s, src, kind, n, data, len);
	r = (struct stage_rec *)(void *)(s->buf + s->tail);
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
static inline const struct stage_rec *ebpfdsl_stage_peek(const struct stage *s)
{
	return s->count ? (const struct stage_rec *)(const void *)(s->buf + s->head) : NULL;
}
/* Drops the oldest record. Its bytes stay readable until the next push. */
static inline void ebpfdsl_stage_pop(struct stage *s)
{
	const struct stage_rec *r = ebpfdsl_stage_peek(s);
	if (!r)
		return;
	s->head += sizeof(*r) + (r->kind == STAGE_SAMPLE ? ((r->n + 7) & ~(uint64_t)7) : 0);
	if (--s->count == 0)
		s->head = s->tail = 0;
}
/* Drops the n oldest records, which end at byte offset `end` (a walk
 * from head found it). */
void ebpfdsl_stage_pop_n(struct stage *s, size_t n, size_t end);
void ebpfdsl_stage_free(struct stage *s);

#endif
