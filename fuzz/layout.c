/* SPDX-License-Identifier: MIT */
/* Layouts from the fuzzer's choices (scalars, arrays, padding, nested and
 * packed structs), then one record of its bytes decoded, encoded back from
 * what the decode reported, and decoded again: the two decodes must agree
 * event for event. Lookups of every field's path must find that field. */
#include "fuzz.h"

#define MAX_FIELDS 24
#define MAX_EVENTS 2048

struct event {
	int kind; /* 0 scalar, 1 bytes, 2 enter, 3 leave */
	int64_t value;
	size_t len;
	char bytes[1024]; /* the longest array build() makes: 255 * 3 */
	char path[96];
};

struct tape {
	struct event ev[MAX_EVENTS];
	size_t n, at;
	int overflow;
};

static struct event *push(struct tape *t, int kind, const struct ebpfdsl_layout_cursor *c)
{
	struct event *e;
	if (t->n == MAX_EVENTS) {
		t->overflow = 1;
		return NULL;
	}
	e = &t->ev[t->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	ebpfdsl_layout_cursor_path(c, e->path, sizeof(e->path));
	return e;
}

static int on_scalar(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t v)
{
	struct event *e = push(ctx, 0, c);
	if (e)
		e->value = v;
	return 0;
}

static int on_bytes(void *ctx, const struct ebpfdsl_layout_cursor *c, const char *p, size_t len)
{
	struct event *e = push(ctx, 1, c);
	FUZZ_CHECK(len <= c->field->size, "%zu bytes from a %zu-byte field", len, c->field->size);
	if (e) {
		e->len = len;
		memcpy(e->bytes, p, len < sizeof(e->bytes) ? len : sizeof(e->bytes));
	}
	return 0;
}

static int on_enter(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest, size_t n)
{
	struct event *e = push(ctx, 2, c);
	if (e)
		e->value = nest * 100000 + (int64_t)n;
	return 0;
}

static int on_leave(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest)
{
	struct event *e = push(ctx, 3, c);
	if (e)
		e->value = nest;
	return 0;
}

/* The encode side replays the first decode's events in order. */
static struct event *next(struct tape *t, int kind, const struct ebpfdsl_layout_cursor *c)
{
	char path[96];
	struct event *e;
	FUZZ_CHECK(t->at < t->n, "the encode asks for more than the decode gave");
	e = &t->ev[t->at++];
	ebpfdsl_layout_cursor_path(c, path, sizeof(path));
	FUZZ_CHECK(e->kind == kind && strcmp(e->path, path) == 0, "encode asks %d %s where decode gave %d %s", kind,
		   path, e->kind, e->path);
	return e;
}

static int get_scalar(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t *v)
{
	*v = next(ctx, 0, c)->value;
	return 1;
}

static int get_bytes(void *ctx, const struct ebpfdsl_layout_cursor *c, const char **p, size_t *len)
{
	struct event *e = next(ctx, 1, c);
	*p = e->bytes;
	*len = e->len;
	return 1;
}

static int get_enter(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest)
{
	(void)next(ctx, 2, c);
	(void)nest;
	return 1;
}

static int get_leave(void *ctx, const struct ebpfdsl_layout_cursor *c, int nest)
{
	(void)next(ctx, 3, c);
	(void)nest;
	return 1;
}

static ebpfdsl_layout *build(struct fuzz_in *in, int depth)
{
	struct ebpfdsl_layout_opts o = { .sz = sizeof(o), .packed = (int)(fuzz_take(in, 1) & 1) };
	ebpfdsl_layout *l = ebpfdsl_layout__new(depth ? "inner" : "outer", &o);
	size_t n = (size_t)fuzz_take(in, 1) % MAX_FIELDS;
	FUZZ_CHECK(l, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char name[16];
		unsigned t = (unsigned)fuzz_take(in, 1) % (EBPFDSL_TYPE_COUNT_ + 1);
		size_t count = (size_t)fuzz_take(in, 1) % 6;
		snprintf(name, sizeof(name), "f%zu", i);
		if (count == 5)
			count = (size_t)fuzz_take(in, 1) * 3; /* arrays past the bytes kept */
		if (t == EBPFDSL_TYPE_STRUCT && depth < 3) {
			ebpfdsl_layout *sub = build(in, depth + 1);
			ebpfdsl_layout__add_struct(l, name, sub, count);
			ebpfdsl_layout__free(sub);
		} else if (t == EBPFDSL_TYPE_PAD) {
			ebpfdsl_layout__add_pad(l, name, count);
		} else {
			ebpfdsl_layout__add_field(l, name, (int)(t % EBPFDSL_TYPE_PAD), count);
		}
	}
	return l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tape first, second;
	const struct ebpfdsl_layout_visitor v = { sizeof(v), on_scalar, on_bytes, on_enter, on_leave };
	const struct ebpfdsl_layout_source src = { sizeof(src), get_scalar, get_bytes, get_enter, get_leave };
	struct fuzz_in in = { data, size };
	ebpfdsl_layout *l = build(&in, 0);
	size_t lsize = ebpfdsl_layout__size(l);
	char text[4096], err[256];
	unsigned char *rec, *again;

	if (ebpfdsl_layout__error(l) || lsize > 65536) {
		ebpfdsl_layout__free(l);
		return 0;
	}
	ebpfdsl_layout__print(l, text, sizeof(text));
	for (size_t i = 0;; i++) {
		struct ebpfdsl_layout_field f, g;
		if (ebpfdsl_layout__field(l, i, &f))
			break;
		FUZZ_CHECK(f.offset + f.size <= lsize, "field %s ends past the layout", f.name);
		if (f.type == EBPFDSL_TYPE_PAD)
			continue;
		FUZZ_CHECK(ebpfdsl_layout__lookup(l, f.name, &g, err, sizeof(err)) == 0, "%s: %s", f.name, err);
		FUZZ_CHECK(g.offset == f.offset && g.size == f.size, "lookup of %s elsewhere", f.name);
	}
	/* the record: the fuzzer's remaining bytes, then zeros */
	rec = calloc(1, lsize + 1);
	again = calloc(1, lsize + 1);
	memcpy(rec, in.p, in.n < lsize ? in.n : lsize);
	first.n = first.at = 0;
	first.overflow = 0;
	FUZZ_CHECK(ebpfdsl_layout__decode(l, rec, lsize, &v, &first) == 0, "decode refused");
	FUZZ_CHECK(ebpfdsl_layout__decode(l, rec, lsize ? lsize - 1 : 0, &v, &second) != 0 || lsize == 0,
		   "a short record decoded");
	if (!first.overflow) {
		int e = ebpfdsl_layout__encode(l, again, lsize, &src, &first, err, sizeof(err));
		FUZZ_CHECK(e == 0, "encode of what decode gave: %d %s", e, err);
		FUZZ_CHECK(first.at == first.n, "encode took %zu of %zu values", first.at, first.n);
		second.n = second.at = 0;
		second.overflow = 0;
		FUZZ_CHECK(ebpfdsl_layout__decode(l, again, lsize, &v, &second) == 0, "decode of the encode refused");
		FUZZ_CHECK(second.n == first.n, "%zu events, then %zu", first.n, second.n);
		for (size_t i = 0; i < first.n; i++) {
			const struct event *a = &first.ev[i], *b = &second.ev[i];
			FUZZ_CHECK(a->kind == b->kind && a->value == b->value && a->len == b->len &&
					   memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0 && strcmp(a->path, b->path) == 0,
				   "event %zu (%s) differs after a round trip", i, a->path);
		}
	}
	free(rec);
	free(again);
	ebpfdsl_layout__free(l);
	return 0;
}
