/* SPDX-License-Identifier: MIT */
/* The BTF writer: types and strings appended in the kernel's format
 * (<linux/btf.h>), and layouts turned into the BTF clang gives the same C
 * struct. Pure: bytes out; loading them is csrc/kernel's business. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/btf.h>
#include "layout.h"

/* One layout already written, and the id it got. */
struct done_layout {
	const ebpfdsl_layout *l;
	int id;
};

struct ebpfdsl_btfw {
	uint32_t *types;          /* the type section, in 32-bit words */
	size_t ntypes_words, cap_words;
	char *strs;               /* the string section, "" first */
	size_t strs_len, strs_cap;
	uint32_t *str_hash;       /* open addressing: string offset + 1, 0 empty */
	size_t nhash, hash_used;
	int count;                /* types written: ids 1..count */
	size_t open;              /* word index of a struct, union or func_proto
	                           * that may still take members, or SIZE_MAX */
	int open_kind;
	int scalar_ids[EBPFDSL_TYPE_COUNT_]; /* the C type of each layout scalar */
	int index_id, void_ptr_id;
	struct done_layout *layouts;
	size_t nlayouts, cap_layouts;
	unsigned char *bytes;     /* what __bytes last returned */
	int failed;
	char err[EBPFDSL_ERRLEN];
};

/* The first error wins (core.h); later ones are what it caused. */
int ebpfdsl__btfw_fail(ebpfdsl_btfw *w, const char *fmt, ...)
{
	va_list ap;
	if (w->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	w->failed = 1;
	return -1;
}

ebpfdsl_btfw *ebpfdsl_btfw__new(void)
{
	ebpfdsl_btfw *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->open = SIZE_MAX;
	w->strs = calloc(1, 256);
	w->strs_cap = 256;
	w->strs_len = 1; /* offset 0 is the empty string */
	if (!w->strs) {
		free(w);
		return NULL;
	}
	return w;
}

void ebpfdsl_btfw__free(ebpfdsl_btfw *w)
{
	if (!w)
		return;
	free(w->types);
	free(w->strs);
	free(w->str_hash);
	free(w->layouts);
	free(w->bytes);
	free(w);
}

const char *ebpfdsl_btfw__error(const ebpfdsl_btfw *w)
{
	return w->failed ? w->err : NULL;
}

int ebpfdsl_btfw__count(const ebpfdsl_btfw *w)
{
	return w->count;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int grow_hash(ebpfdsl_btfw *w)
{
	size_t n = w->nhash ? w->nhash * 2 : 256;
	uint32_t *t = calloc(n, sizeof(*t));
	if (!t)
		return -1;
	for (size_t i = 0; i < w->nhash; i++) {
		size_t k;
		if (!w->str_hash[i])
			continue;
		for (k = hash(w->strs + w->str_hash[i] - 1) & (n - 1); t[k]; k = (k + 1) & (n - 1))
			;
		t[k] = w->str_hash[i];
	}
	free(w->str_hash);
	w->str_hash = t;
	w->nhash = n;
	return 0;
}

int64_t ebpfdsl_btfw__string(ebpfdsl_btfw *w, const char *s)
{
	size_t k, len;
	if (w->failed)
		return -1;
	if (!s || !*s)
		return 0;
	if ((w->hash_used + 1) * 2 > w->nhash && grow_hash(w))
		return ebpfdsl__btfw_fail(w, "out of memory");
	for (k = hash(s) & (w->nhash - 1); w->str_hash[k]; k = (k + 1) & (w->nhash - 1))
		if (strcmp(w->strs + w->str_hash[k] - 1, s) == 0)
			return w->str_hash[k] - 1;
	len = strlen(s) + 1;
	if (w->strs_len + len > UINT32_MAX - 1)
		return ebpfdsl__btfw_fail(w, "more strings than BTF holds");
	if (w->strs_len + len > w->strs_cap) {
		size_t cap = w->strs_cap;
		char *p;
		while (cap < w->strs_len + len)
			cap *= 2;
		p = realloc(w->strs, cap);
		if (!p)
			return ebpfdsl__btfw_fail(w, "out of memory");
		w->strs = p;
		w->strs_cap = cap;
	}
	memcpy(w->strs + w->strs_len, s, len);
	w->str_hash[k] = (uint32_t)w->strs_len + 1;
	w->hash_used++;
	w->strs_len += len;
	return (int64_t)(w->strs_len - len);
}

/* Appends n words; the index of the first, or SIZE_MAX on ENOMEM. */
static size_t put(ebpfdsl_btfw *w, const uint32_t *words, size_t n)
{
	if (w->ntypes_words + n > w->cap_words) {
		size_t cap = w->cap_words ? w->cap_words * 2 : 256;
		uint32_t *p;
		while (cap < w->ntypes_words + n)
			cap *= 2;
		p = realloc(w->types, cap * sizeof(*p));
		if (!p) {
			ebpfdsl__btfw_fail(w, "out of memory");
			return SIZE_MAX;
		}
		w->types = p;
		w->cap_words = cap;
	}
	memcpy(w->types + w->ntypes_words, words, n * sizeof(*words));
	w->ntypes_words += n;
	return w->ntypes_words - n;
}

static uint32_t info(int kind, uint32_t vlen, int kflag)
{
	return ((uint32_t)kind << 24) | (vlen & 0xffff) | (kflag ? 1u << 31 : 0);
}

/* Is the id one of the types written (or void, when `void_ok`)? */
static int check_id(ebpfdsl_btfw *w, const char *what, int64_t id, int void_ok)
{
	if ((void_ok && id == 0) || (id >= 1 && id <= w->count))
		return 0;
	return ebpfdsl__btfw_fail(w, "%s: no type %lld (types are 1..%d%s)", what, (long long)id, w->count,
		    void_ok ? ", or 0 for void" : "");
}

/* A type: the three common words and `extra` more; its id. */
static int add_type(ebpfdsl_btfw *w, const char *name, uint32_t inf, uint32_t size_or_type, const uint32_t *extra,
		    size_t nextra)
{
	uint32_t head[3];
	int64_t off = ebpfdsl_btfw__string(w, name);
	size_t at;
	if (off < 0 || w->failed)
		return -1;
	if (w->count >= 0x7fffffff - 1)
		return ebpfdsl__btfw_fail(w, "too many types");
	head[0] = (uint32_t)off;
	head[1] = inf;
	head[2] = size_or_type;
	at = put(w, head, 3);
	if (at == SIZE_MAX || (nextra && put(w, extra, nextra) == SIZE_MAX))
		return -1;
	w->open = SIZE_MAX;
	return ++w->count;
}

/* C identifiers only: the kernel refuses other names for most kinds. */
static int check_name(ebpfdsl_btfw *w, const char *what, const char *name, int may_be_empty)
{
	if (!name || !*name) {
		if (may_be_empty)
			return 0;
		return ebpfdsl__btfw_fail(w, "%s needs a name", what);
	}
	for (const char *p = name; *p; p++) {
		int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_';
		if (!alpha && !(p > name && *p >= '0' && *p <= '9'))
			return ebpfdsl__btfw_fail(w, "%s '%s' is not a C identifier", what, name);
	}
	return 0;
}

int ebpfdsl_btfw__int(ebpfdsl_btfw *w, const char *name, uint32_t size, int encoding)
{
	uint32_t data;
	if (w->failed)
		return -1;
	if (!name || !*name) /* "unsigned int": C's names of ints are words */
		return ebpfdsl__btfw_fail(w, "int needs a name");
	if (size != 1 && size != 2 && size != 4 && size != 8 && size != 16)
		return ebpfdsl__btfw_fail(w, "int '%s': size %u is not 1, 2, 4, 8 or 16", name, size);
	if (encoding & ~(BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL) ||
	    __builtin_popcount((unsigned)encoding) > 1 || (encoding == BTF_INT_BOOL && size != 1))
		return ebpfdsl__btfw_fail(w, "int '%s': bad encoding %d", name, encoding);
	data = ((uint32_t)encoding << 24) | (size * 8);
	return add_type(w, name, info(BTF_KIND_INT, 0, 0), size, &data, 1);
}

int ebpfdsl_btfw__ptr(ebpfdsl_btfw *w, int type)
{
	if (w->failed || check_id(w, "ptr", type, 1))
		return -1;
	return add_type(w, NULL, info(BTF_KIND_PTR, 0, 0), (uint32_t)type, NULL, 0);
}

int ebpfdsl_btfw__array(ebpfdsl_btfw *w, int elem, uint32_t nelems)
{
	uint32_t a[3];
	if (w->failed || check_id(w, "array", elem, 0))
		return -1;
	/* clang's index type, made once */
	if (!w->index_id && (w->index_id = ebpfdsl_btfw__int(w, "__ARRAY_SIZE_TYPE__", 4, 0)) < 0)
		return -1;
	a[0] = (uint32_t)elem;
	a[1] = (uint32_t)w->index_id;
	a[2] = nelems;
	return add_type(w, NULL, info(BTF_KIND_ARRAY, 0, 0), 0, a, 3);
}

static int composite(ebpfdsl_btfw *w, int kind, const char *name, uint32_t size)
{
	int id;
	if (w->failed || check_name(w, kind == BTF_KIND_STRUCT ? "struct" : "union", name, 1))
		return -1;
	id = add_type(w, name, info(kind, 0, 0), size, NULL, 0);
	if (id > 0) {
		w->open = w->ntypes_words - 3;
		w->open_kind = kind;
	}
	return id;
}

int ebpfdsl_btfw__struct(ebpfdsl_btfw *w, const char *name, uint32_t size)
{
	return composite(w, BTF_KIND_STRUCT, name, size);
}

int ebpfdsl_btfw__union(ebpfdsl_btfw *w, const char *name, uint32_t size)
{
	return composite(w, BTF_KIND_UNION, name, size);
}

/* Bumps the vlen of the open composite or proto; 0 or -1. */
static int grow_open(ebpfdsl_btfw *w, int want, const char *what)
{
	uint32_t *head;
	if (w->open == SIZE_MAX || (want == BTF_KIND_FUNC_PROTO) != (w->open_kind == BTF_KIND_FUNC_PROTO))
		return ebpfdsl__btfw_fail(w, "%s: no %s to add it to (it must follow the %s or its last %s)", what,
			    want == BTF_KIND_FUNC_PROTO ? "func_proto" : "struct or union",
			    want == BTF_KIND_FUNC_PROTO ? "func_proto" : "struct", what);
	head = w->types + w->open;
	if ((head[1] & 0xffff) == 0xffff)
		return ebpfdsl__btfw_fail(w, "%s: more than 65535", what);
	head[1]++;
	return 0;
}

/* One more item of the open type of `kind` (a struct's member, a
 * func_proto's param): its name, its type and, for a member (nwords 3),
 * its bit offset. The type stays open for the next item. */
static int add_item(ebpfdsl_btfw *w, int kind, const char *what, const char *name, int type, size_t nwords,
		    uint32_t bit_offset)
{
	uint32_t item[3];
	int64_t off;
	size_t open = w->open;
	if (w->failed || check_name(w, what, name, 1) || check_id(w, what, type, 0) || grow_open(w, kind, what))
		return -1;
	off = ebpfdsl_btfw__string(w, name);
	item[0] = (uint32_t)off;
	item[1] = (uint32_t)type;
	item[2] = bit_offset;
	if (off < 0 || put(w, item, nwords) == SIZE_MAX)
		return -1;
	w->open = open;
	return 0;
}

int ebpfdsl_btfw__member(ebpfdsl_btfw *w, const char *name, int type, uint32_t bit_offset)
{
	return add_item(w, BTF_KIND_STRUCT, "member", name, type, 3, bit_offset);
}

int ebpfdsl_btfw__typedef(ebpfdsl_btfw *w, const char *name, int type)
{
	if (w->failed || check_name(w, "typedef", name, 0) || check_id(w, "typedef", type, 1))
		return -1;
	return add_type(w, name, info(BTF_KIND_TYPEDEF, 0, 0), (uint32_t)type, NULL, 0);
}

int ebpfdsl_btfw__type_tag(ebpfdsl_btfw *w, const char *value, int type)
{
	if (w->failed || check_name(w, "type_tag", value, 0) || check_id(w, "type_tag", type, 1))
		return -1;
	return add_type(w, value, info(BTF_KIND_TYPE_TAG, 0, 0), (uint32_t)type, NULL, 0);
}

int ebpfdsl_btfw__func_proto(ebpfdsl_btfw *w, int ret)
{
	int id;
	if (w->failed || check_id(w, "func_proto", ret, 1))
		return -1;
	id = add_type(w, NULL, info(BTF_KIND_FUNC_PROTO, 0, 0), (uint32_t)ret, NULL, 0);
	if (id > 0) {
		w->open = w->ntypes_words - 3;
		w->open_kind = BTF_KIND_FUNC_PROTO;
	}
	return id;
}

int ebpfdsl_btfw__param(ebpfdsl_btfw *w, const char *name, int type)
{
	return add_item(w, BTF_KIND_FUNC_PROTO, "param", name, type, 2, 0);
}

int ebpfdsl_btfw__func(ebpfdsl_btfw *w, const char *name, int proto, int linkage)
{
	if (w->failed || check_name(w, "func", name, 0) || check_id(w, "func", proto, 0))
		return -1;
	if (linkage < 0 || linkage > 2)
		return ebpfdsl__btfw_fail(w, "func '%s': linkage %d is not 0 (static), 1 (global) or 2 (extern)", name, linkage);
	return add_type(w, name, info(BTF_KIND_FUNC, (uint32_t)linkage, 0), (uint32_t)proto, NULL, 0);
}

/* ---------------------------------------------------------------------
 * Layouts, as clang writes the same C: __u32 is a typedef of unsigned
 * int, char a signed char called char, void * a pointer to void.
 * --------------------------------------------------------------------- */

static const struct {
	const char *typedef_name, *c_name;
	int encoding;
} SCALARS[EBPFDSL_TYPE_COUNT_] = {
	[EBPFDSL_TYPE_U8] = { "__u8", "unsigned char", 0 },
	[EBPFDSL_TYPE_U16] = { "__u16", "unsigned short", 0 },
	[EBPFDSL_TYPE_U32] = { "__u32", "unsigned int", 0 },
	[EBPFDSL_TYPE_U64] = { "__u64", "unsigned long long", 0 },
	[EBPFDSL_TYPE_I8] = { "__s8", "signed char", BTF_INT_SIGNED },
	[EBPFDSL_TYPE_I16] = { "__s16", "short", BTF_INT_SIGNED },
	[EBPFDSL_TYPE_I32] = { "__s32", "int", BTF_INT_SIGNED },
	[EBPFDSL_TYPE_I64] = { "__s64", "long long", BTF_INT_SIGNED },
	[EBPFDSL_TYPE_CHAR] = { NULL, "char", BTF_INT_SIGNED },
	[EBPFDSL_TYPE_BOOL] = { NULL, "_Bool", BTF_INT_BOOL },
};

int ebpfdsl_btfw__scalar(ebpfdsl_btfw *w, int type)
{
	int id;
	if (w->failed)
		return -1;
	if (type == EBPFDSL_TYPE_PTR) {
		if (!w->void_ptr_id)
			w->void_ptr_id = ebpfdsl_btfw__ptr(w, 0);
		return w->void_ptr_id;
	}
	if (type == EBPFDSL_TYPE_PAD)
		type = EBPFDSL_TYPE_U8;
	if (type < 0 || type >= EBPFDSL_TYPE_COUNT_ || !SCALARS[type].c_name)
		return ebpfdsl__btfw_fail(w, "scalar: %d is not a scalar type (u8..i64, char, bool, ptr)", type);
	if (w->scalar_ids[type])
		return w->scalar_ids[type];
	id = ebpfdsl_btfw__int(w, SCALARS[type].c_name, (uint32_t)ebpfdsl_type_size(type), SCALARS[type].encoding);
	if (id > 0 && SCALARS[type].typedef_name)
		id = ebpfdsl_btfw__typedef(w, SCALARS[type].typedef_name, id);
	if (id > 0)
		w->scalar_ids[type] = id;
	return id;
}

static int field_type(ebpfdsl_btfw *w, const ebpfdsl_layout *l, const struct ebpfdsl_layout_field *f,
		      const struct ebpfdsl_btfw_layout_opts *o, int depth);

static int layout_id(ebpfdsl_btfw *w, const ebpfdsl_layout *l, const struct ebpfdsl_btfw_layout_opts *o, int depth)
{
	int ids[64], *fids = ids, id = -1;
	size_t n = ebpfdsl_layout__field_count(l);

	for (size_t i = 0; i < w->nlayouts; i++)
		if (w->layouts[i].l == l)
			return w->layouts[i].id;
	if (depth > EBPFDSL_LAYOUT_MAX_DEPTH)
		return ebpfdsl__btfw_fail(w, "layout '%s': nested too deep", l->name);
	if (n > sizeof(ids) / sizeof(ids[0]) && !(fids = malloc(n * sizeof(*fids))))
		return ebpfdsl__btfw_fail(w, "out of memory");
	/* member types first: a struct's members follow it directly */
	for (size_t i = 0; i < n; i++) {
		fids[i] = field_type(w, l, &l->fields[i], o, depth);
		if (fids[i] < 0)
			goto out;
	}
	id = ebpfdsl_btfw__struct(w, l->name, (uint32_t)ebpfdsl_layout__size(l));
	for (size_t i = 0; id > 0 && i < n; i++)
		if (ebpfdsl_btfw__member(w, l->fields[i].name, fids[i], (uint32_t)l->fields[i].offset * 8))
			id = -1;
	if (id > 0) {
		if (w->nlayouts == w->cap_layouts) {
			size_t cap = w->cap_layouts ? w->cap_layouts * 2 : 8;
			struct done_layout *p = realloc(w->layouts, cap * sizeof(*p));
			if (!p) {
				id = ebpfdsl__btfw_fail(w, "out of memory");
				goto out;
			}
			w->layouts = p;
			w->cap_layouts = cap;
		}
		w->layouts[w->nlayouts].l = l;
		w->layouts[w->nlayouts++].id = id;
	}
out:
	if (fids != ids)
		free(fids);
	return id;
}

static int field_type(ebpfdsl_btfw *w, const ebpfdsl_layout *l, const struct ebpfdsl_layout_field *f,
		      const struct ebpfdsl_btfw_layout_opts *o, int depth)
{
	int elem;
	if (f->type == EBPFDSL_TYPE_STRUCT)
		elem = layout_id(w, f->layout, o, depth + 1);
	else if (f->type == EBPFDSL_TYPE_PTR && o && o->sz >= offsetof(struct ebpfdsl_btfw_layout_opts, ctx) + sizeof(o->ctx) &&
		 o->ptr_type &&
		 (elem = o->ptr_type(o->ctx, w, l, f->index)) != 0)
		; /* the caller's pointer type (a kptr) */
	else
		elem = ebpfdsl_btfw__scalar(w, f->type);
	if (elem < 0)
		return -1;
	/* explicit padding is __u8 name[n] in C, a single byte included */
	if (f->type == EBPFDSL_TYPE_PAD)
		return ebpfdsl_btfw__array(w, elem, (uint32_t)f->size);
	return f->count ? ebpfdsl_btfw__array(w, elem, (uint32_t)f->count) : elem;
}

int ebpfdsl_btfw__layout(ebpfdsl_btfw *w, const ebpfdsl_layout *l, const struct ebpfdsl_btfw_layout_opts *opts)
{
	if (w->failed)
		return -1;
	if (!l || ebpfdsl_layout__error(l))
		return ebpfdsl__btfw_fail(w, "layout: %s", l ? ebpfdsl_layout__error(l) : "none given");
	return layout_id(w, l, opts, 0);
}

/* ---------------------------------------------------------------------
 * The bytes: header, types, strings.
 * --------------------------------------------------------------------- */

const void *ebpfdsl_btfw__bytes(ebpfdsl_btfw *w, size_t *size)
{
	struct btf_header h;
	size_t tlen = w->ntypes_words * 4, total;
	unsigned char *b;

	if (w->failed)
		return NULL;
	total = sizeof(h) + tlen + w->strs_len;
	b = malloc(total);
	if (!b) {
		ebpfdsl__btfw_fail(w, "out of memory");
		return NULL;
	}
	memset(&h, 0, sizeof(h));
	h.magic = BTF_MAGIC;
	h.version = BTF_VERSION;
	h.hdr_len = sizeof(h);
	h.type_off = 0;
	h.type_len = (uint32_t)tlen;
	h.str_off = (uint32_t)tlen;
	h.str_len = (uint32_t)w->strs_len;
	memcpy(b, &h, sizeof(h));
	if (tlen)
		memcpy(b + sizeof(h), w->types, tlen);
	memcpy(b + sizeof(h) + tlen, w->strs, w->strs_len);
	free(w->bytes);
	w->bytes = b;
	if (size)
		*size = total;
	return b;
}
