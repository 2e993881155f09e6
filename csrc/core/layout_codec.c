/* SPDX-License-Identifier: MIT */
/* Bytes <-> values for struct layouts: one walk in field order reports
 * each value to a visitor (decode) or asks a source for it (encode). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "layout.h"

/* ---------------------------------------------------------------------
 * Scalars: loads in ebpfdsl.h (inline), ranges as rows.
 * --------------------------------------------------------------------- */

int64_t ebpfdsl_scalar_get(int type, const void *p)
{
	return ebpfdsl_scalar_load(type, p);
}

/* ORDER TYPE: the values each scalar type takes, and those as text;
 * u64, i64 and ptr take any 64 bits. */
static const struct {
	int64_t min, max;
	const char *text;
} RANGES[EBPFDSL_TYPE_PAD] = {
	[EBPFDSL_TYPE_U8] = { 0, UINT8_MAX, "0..255" },
	[EBPFDSL_TYPE_U16] = { 0, UINT16_MAX, "0..65535" },
	[EBPFDSL_TYPE_U32] = { 0, UINT32_MAX, "0..4294967295" },
	[EBPFDSL_TYPE_U64] = { INT64_MIN, INT64_MAX, "any 64 bits" },
	[EBPFDSL_TYPE_I8] = { INT8_MIN, INT8_MAX, "-128..127" },
	[EBPFDSL_TYPE_I16] = { INT16_MIN, INT16_MAX, "-32768..32767" },
	[EBPFDSL_TYPE_I32] = { INT32_MIN, INT32_MAX, "-2147483648..2147483647" },
	[EBPFDSL_TYPE_I64] = { INT64_MIN, INT64_MAX, "any 64 bits" },
	[EBPFDSL_TYPE_CHAR] = { INT8_MIN, UINT8_MAX, "-128..255" },
	[EBPFDSL_TYPE_BOOL] = { 0, 1, "0 or 1" },
	[EBPFDSL_TYPE_PTR] = { INT64_MIN, INT64_MAX, "any 64 bits" },
};

int ebpfdsl_scalar_fits(int type, int64_t v)
{
	return type >= 0 && type < EBPFDSL_TYPE_PAD && v >= RANGES[type].min && v <= RANGES[type].max;
}

const char *ebpfdsl_scalar_range(int type)
{
	return type >= 0 && type < EBPFDSL_TYPE_PAD ? RANGES[type].text : "any 64 bits";
}

int ebpfdsl_scalar_put(int type, void *p, int64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;
	uint64_t u64 = (uint64_t)v;
	if (!ebpfdsl_scalar_fits(type, v))
		return -ERANGE;
	switch (ebpfdsl_type_size(type)) {
	case 1: memcpy(p, &u8, 1); break;
	case 2: memcpy(p, &u16, 2); break;
	case 4: memcpy(p, &u32, 4); break;
	case 8: memcpy(p, &u64, 8); break;
	default: return -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Paths of cursors, for messages.
 * --------------------------------------------------------------------- */

static void path_of(const struct ebpfdsl_layout_cursor *c, char *buf, size_t len, size_t *pos)
{
	if (!c)
		return;
	/* an element's cursor points up at its array's: the name is there */
	if (c->up && c->up->field == c->field && c->index != EBPFDSL_LAYOUT_NO_INDEX) {
		path_of(c->up, buf, len, pos);
	} else {
		path_of(c->up, buf, len, pos);
		ebpfdsl__appendf(buf, len, pos, "%s%s", c->up ? "." : "", c->field->name);
	}
	if (c->index != EBPFDSL_LAYOUT_NO_INDEX)
		ebpfdsl__appendf(buf, len, pos, "[%zu]", c->index);
}

int ebpfdsl_layout_cursor_path(const struct ebpfdsl_layout_cursor *c, char *buf, size_t len)
{
	size_t pos = 0;
	if (len)
		buf[0] = '\0';
	path_of(c, buf, len, &pos);
	return (int)pos;
}

/* ---------------------------------------------------------------------
 * Decode
 * --------------------------------------------------------------------- */

int ebpfdsl_layout_value_kind(const struct ebpfdsl_layout_field *f)
{
	if (f->type == EBPFDSL_TYPE_PAD)
		return EBPFDSL_LAYOUT_VALUE_NONE;
	if (f->type == EBPFDSL_TYPE_CHAR)
		return EBPFDSL_LAYOUT_VALUE_TEXT;
	if (f->count)
		return f->type == EBPFDSL_TYPE_U8 ? EBPFDSL_LAYOUT_VALUE_BYTES : EBPFDSL_LAYOUT_VALUE_NESTED;
	if (f->type == EBPFDSL_TYPE_STRUCT)
		return EBPFDSL_LAYOUT_VALUE_NESTED;
	return f->type == EBPFDSL_TYPE_BOOL ? EBPFDSL_LAYOUT_VALUE_BOOL : EBPFDSL_LAYOUT_VALUE_INT;
}

size_t ebpfdsl_layout__rows(const ebpfdsl_layout *l, struct ebpfdsl_layout_row *rows, size_t n, int *nested)
{
	size_t k = 0;
	*nested = 0;
	for (size_t i = 0; i < l->nfields; i++) {
		const struct ebpfdsl_layout_field *f = &l->fields[i];
		int kind = ebpfdsl_layout_value_kind(f);
		if (kind == EBPFDSL_LAYOUT_VALUE_NONE)
			continue;
		*nested |= kind == EBPFDSL_LAYOUT_VALUE_NESTED;
		if (k < n) /* layouts stay below 1 GiB: offsets fit */
			rows[k] = (struct ebpfdsl_layout_row){ (uint32_t)f->offset, f->count ? (uint32_t)f->count : 1,
							      (uint32_t)i, (uint8_t)kind, (uint8_t)f->type };
		k++;
	}
	return k;
}

size_t ebpfdsl_layout_value_len(const struct ebpfdsl_layout_field *f, const void *p)
{
	size_t n = f->count ? f->count : 1;
	const uint8_t *nul = f->type == EBPFDSL_TYPE_CHAR ? memchr(p, 0, n) : NULL;
	return nul ? (size_t)(nul - (const uint8_t *)p) : n;
}

#define CALL(v, fn, ...) ((v)->fn ? (v)->fn(__VA_ARGS__) : 0)

static int decode_fields(const ebpfdsl_layout *l, const uint8_t *base, const struct ebpfdsl_layout_visitor *v,
			 void *ctx, const struct ebpfdsl_layout_cursor *up);

static int decode_struct(const struct ebpfdsl_layout_cursor *c, const uint8_t *p,
			 const struct ebpfdsl_layout_visitor *v, void *ctx)
{
	int r = CALL(v, enter, ctx, c, EBPFDSL_LAYOUT_NEST_STRUCT, c->field->layout->nvalues);
	if (r)
		return r;
	r = decode_fields(c->field->layout, p, v, ctx, c);
	if (r)
		return r;
	return CALL(v, leave, ctx, c, EBPFDSL_LAYOUT_NEST_STRUCT);
}

static int decode_fields(const ebpfdsl_layout *l, const uint8_t *base, const struct ebpfdsl_layout_visitor *v,
			 void *ctx, const struct ebpfdsl_layout_cursor *up)
{
	for (size_t i = 0; i < l->nfields; i++) {
		const struct ebpfdsl_layout_field *f = &l->fields[i];
		const uint8_t *p = base + f->offset;
		struct ebpfdsl_layout_cursor c = { f, EBPFDSL_LAYOUT_NO_INDEX, up };
		int r = 0;

		switch (ebpfdsl_layout_value_kind(f)) {
		case EBPFDSL_LAYOUT_VALUE_NONE:
			continue;
		case EBPFDSL_LAYOUT_VALUE_INT:
		case EBPFDSL_LAYOUT_VALUE_BOOL:
			r = CALL(v, scalar, ctx, &c, ebpfdsl_scalar_get(f->type, p));
			break;
		case EBPFDSL_LAYOUT_VALUE_TEXT:
		case EBPFDSL_LAYOUT_VALUE_BYTES:
			r = CALL(v, bytes, ctx, &c, (const char *)p, ebpfdsl_layout_value_len(f, p));
			break;
		default:
			if (f->count == 0) {
				r = decode_struct(&c, p, v, ctx);
				break;
			}
			r = CALL(v, enter, ctx, &c, EBPFDSL_LAYOUT_NEST_ARRAY, f->count);
			for (size_t k = 0; !r && k < f->count; k++) {
				struct ebpfdsl_layout_cursor e = { f, k, &c };
				const uint8_t *q = p + k * f->elem_size;
				if (f->type == EBPFDSL_TYPE_STRUCT)
					r = decode_struct(&e, q, v, ctx);
				else
					r = CALL(v, scalar, ctx, &e, ebpfdsl_scalar_get(f->type, q));
			}
			if (!r)
				r = CALL(v, leave, ctx, &c, EBPFDSL_LAYOUT_NEST_ARRAY);
		}
		if (r)
			return r;
	}
	return 0;
}

int ebpfdsl_layout__decode(const ebpfdsl_layout *l, const void *buf, size_t len,
			   const struct ebpfdsl_layout_visitor *v, void *ctx)
{
	struct ebpfdsl_layout_visitor vv = { 0 };
	if (len < ebpfdsl_layout__size(l))
		return -EMSGSIZE;
	/* callbacks a shorter (older) visitor lacks stay NULL */
	memcpy(&vv, v, v->sz < sizeof(vv) ? v->sz : sizeof(vv));
	return decode_fields(l, buf, &vv, ctx, NULL);
}

/* ---------------------------------------------------------------------
 * Encode
 * --------------------------------------------------------------------- */

struct encoding {
	const struct ebpfdsl_layout_source *s;
	void *ctx;
	char *err;
	size_t errlen;
};

static int encode_fail(struct encoding *e, const struct ebpfdsl_layout_cursor *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int encode_fail(struct encoding *e, const struct ebpfdsl_layout_cursor *c, int code, const char *fmt, ...)
{
	size_t pos = 0;
	va_list ap;
	if (e->errlen) {
		e->err[0] = '\0';
		ebpfdsl__appendf(e->err, e->errlen, &pos, "'");
		path_of(c, e->err, e->errlen, &pos);
		ebpfdsl__appendf(e->err, e->errlen, &pos, "': ");
		va_start(ap, fmt);
		if (pos < e->errlen)
			vsnprintf(e->err + pos, e->errlen - pos, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int source_failed(struct encoding *e, const struct ebpfdsl_layout_cursor *c, int r)
{
	return encode_fail(e, c, r, "%s", strerror(-r));
}

static int encode_scalar(struct encoding *e, const struct ebpfdsl_layout_cursor *c, uint8_t *p)
{
	int64_t v = 0;
	int r = e->s->scalar ? e->s->scalar(e->ctx, c, &v) : 0;
	if (r < 0)
		return source_failed(e, c, r);
	if (r == 0)
		return 0;
	if (ebpfdsl_scalar_put(c->field->type, p, v) == 0)
		return 0;
	return encode_fail(e, c, -ERANGE, "%" PRId64 " does not fit %s (%s)", v, ebpfdsl_type_name(c->field->type),
			   ebpfdsl_scalar_range(c->field->type));
}

static int encode_fields(struct encoding *e, const ebpfdsl_layout *l, uint8_t *base,
			 const struct ebpfdsl_layout_cursor *up);

static int encode_nested(struct encoding *e, const struct ebpfdsl_layout_cursor *c, int nest, uint8_t *p);

static int encode_elements(struct encoding *e, const struct ebpfdsl_layout_cursor *c, uint8_t *p)
{
	const struct ebpfdsl_layout_field *f = c->field;
	for (size_t k = 0; k < f->count; k++) {
		struct ebpfdsl_layout_cursor el = { f, k, c };
		uint8_t *q = p + k * f->elem_size;
		int r = f->type == EBPFDSL_TYPE_STRUCT ? encode_nested(e, &el, EBPFDSL_LAYOUT_NEST_STRUCT, q)
						       : encode_scalar(e, &el, q);
		if (r)
			return r;
	}
	return 0;
}

/* Asks the source to enter a struct or array; absent ones stay zero. */
static int encode_nested(struct encoding *e, const struct ebpfdsl_layout_cursor *c, int nest, uint8_t *p)
{
	int r = e->s->enter ? e->s->enter(e->ctx, c, nest) : 0;
	if (r < 0)
		return source_failed(e, c, r);
	if (r == 0)
		return 0;
	if (nest == EBPFDSL_LAYOUT_NEST_STRUCT)
		r = encode_fields(e, c->field->layout, p, c);
	else
		r = encode_elements(e, c, p);
	if (r)
		return r;
	r = e->s->leave ? e->s->leave(e->ctx, c, nest) : 0;
	return r < 0 ? source_failed(e, c, r) : 0;
}

static int encode_bytes(struct encoding *e, const struct ebpfdsl_layout_cursor *c, uint8_t *p)
{
	const struct ebpfdsl_layout_field *f = c->field;
	size_t cap = f->count ? f->count : 1, n = 0;
	const char *s = NULL;
	int r = e->s->bytes ? e->s->bytes(e->ctx, c, &s, &n) : 0;
	if (r < 0)
		return source_failed(e, c, r);
	if (r == 2 && f->count)
		return encode_nested(e, c, EBPFDSL_LAYOUT_NEST_ARRAY, p);
	if (r != 1)
		return 0;
	if (n > cap)
		return encode_fail(e, c, -E2BIG, "%zu bytes do not fit %s[%zu]", n, ebpfdsl_type_name(f->type), cap);
	memcpy(p, s, n);
	return 0;
}

static int encode_fields(struct encoding *e, const ebpfdsl_layout *l, uint8_t *base,
			 const struct ebpfdsl_layout_cursor *up)
{
	for (size_t i = 0; i < l->nfields; i++) {
		const struct ebpfdsl_layout_field *f = &l->fields[i];
		struct ebpfdsl_layout_cursor c = { f, EBPFDSL_LAYOUT_NO_INDEX, up };
		uint8_t *p = base + f->offset;
		int r;

		if (f->type == EBPFDSL_TYPE_PAD)
			continue;
		if (f->type == EBPFDSL_TYPE_CHAR || (f->type == EBPFDSL_TYPE_U8 && f->count))
			r = encode_bytes(e, &c, p);
		else if (f->count)
			r = encode_nested(e, &c, EBPFDSL_LAYOUT_NEST_ARRAY, p);
		else if (f->type == EBPFDSL_TYPE_STRUCT)
			r = encode_nested(e, &c, EBPFDSL_LAYOUT_NEST_STRUCT, p);
		else
			r = encode_scalar(e, &c, p);
		if (r)
			return r;
	}
	return 0;
}

int ebpfdsl_layout__encode(const ebpfdsl_layout *l, void *buf, size_t len, const struct ebpfdsl_layout_source *s,
			   void *ctx, char *err, size_t errlen)
{
	struct ebpfdsl_layout_source ss = { 0 };
	struct encoding e = { &ss, ctx, err, err ? errlen : 0 };
	size_t size = ebpfdsl_layout__size(l);
	if (e.errlen)
		err[0] = '\0';
	if (len < size) {
		if (e.errlen)
			snprintf(err, errlen, "buffer of %zu bytes is smaller than struct %s (%zu bytes)", len,
				 l->name, size);
		return -EMSGSIZE;
	}
	memcpy(&ss, s, s->sz < sizeof(ss) ? s->sz : sizeof(ss));
	memset(buf, 0, size);
	return encode_fields(&e, l, buf, NULL);
}

/* ---------------------------------------------------------------------
 * One scalar by path
 * --------------------------------------------------------------------- */

static int scalar_at(const ebpfdsl_layout *l, size_t len, const char *path, struct ebpfdsl_layout_field *f)
{
	int r = ebpfdsl_layout__lookup(l, path, f, NULL, 0);
	if (r)
		return r;
	if (f->count || f->type == EBPFDSL_TYPE_STRUCT || f->type == EBPFDSL_TYPE_PAD)
		return -EINVAL;
	if (len < f->offset + f->size)
		return -EMSGSIZE;
	return 0;
}

int ebpfdsl_layout__get(const ebpfdsl_layout *l, const void *buf, size_t len, const char *path, int64_t *value)
{
	struct ebpfdsl_layout_field f;
	int r = scalar_at(l, len, path, &f);
	if (r)
		return r;
	*value = ebpfdsl_scalar_get(f.type, (const uint8_t *)buf + f.offset);
	return 0;
}

int ebpfdsl_layout__set(const ebpfdsl_layout *l, void *buf, size_t len, const char *path, int64_t value)
{
	struct ebpfdsl_layout_field f;
	int r = scalar_at(l, len, path, &f);
	if (r)
		return r;
	return ebpfdsl_scalar_put(f.type, (uint8_t *)buf + f.offset, value);
}
