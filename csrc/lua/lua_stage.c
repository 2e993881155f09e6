/* SPDX-License-Identifier: MIT */
/* The staging queue of the readers (see lua_stage.h): one growing byte
 * buffer of 8-byte aligned records, compacted when it would grow. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lua_stage.h"

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

int ebpfdsl_stage_push_grow(struct stage *s, int src, int kind, uint64_t n, const void *data, size_t len)
{
	size_t need = sizeof(struct stage_rec) + ALIGN8(len);
	struct stage_rec *r;

	if (s->cap - s->tail < need && s->head > 0) {
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

void ebpfdsl_stage_free(struct stage *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

void ebpfdsl_stage_pop_n(struct stage *s, size_t n, size_t end)
{
	if (!n)
		return;
	s->head = end;
	s->count -= n;
	if (s->count == 0)
		s->head = s->tail = 0;
}
