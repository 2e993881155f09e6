/* SPDX-License-Identifier: MIT */
/* A layout printed as the C struct it equals, nested definitions first,
 * with offsets and the padding C inserts as comments: text gcc compiles
 * (after #include <linux/types.h>) to the very same layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "layout.h"

static const char *c_type(int type)
{
	switch (type) {
	case EBPFDSL_TYPE_U8: return "__u8";
	case EBPFDSL_TYPE_U16: return "__u16";
	case EBPFDSL_TYPE_U32: return "__u32";
	case EBPFDSL_TYPE_U64: return "__u64";
	case EBPFDSL_TYPE_I8: return "__s8";
	case EBPFDSL_TYPE_I16: return "__s16";
	case EBPFDSL_TYPE_I32: return "__s32";
	case EBPFDSL_TYPE_I64: return "__s64";
	case EBPFDSL_TYPE_CHAR: return "char";
	case EBPFDSL_TYPE_BOOL: return "_Bool";
	case EBPFDSL_TYPE_PTR: return "void";
	case EBPFDSL_TYPE_PAD: return "__u8";
	default: return "?";
	}
}

#define DECL_COLUMN 32

static void print_field(const struct ebpfdsl_layout_field *f, char *buf, size_t len, size_t *pos)
{
	char decl[2 * EBPFDSL_LAYOUT_NAME_MAX + 64];
	int n;
	if (f->type == EBPFDSL_TYPE_STRUCT)
		n = snprintf(decl, sizeof(decl), "struct %s %s", f->layout->name, f->name);
	else
		n = snprintf(decl, sizeof(decl), "%s %s%s", c_type(f->type), f->type == EBPFDSL_TYPE_PTR ? "*" : "",
			     f->name);
	if (f->count && n > 0 && (size_t)n < sizeof(decl))
		snprintf(decl + n, sizeof(decl) - (size_t)n, "[%zu]", f->count);
	ebpfdsl__appendf(buf, len, pos, "\t%s;", decl);
	n = (int)strlen(decl) + 1;
	ebpfdsl__appendf(buf, len, pos, "%*s/* offset %zu, size %zu%s */\n", n < DECL_COLUMN ? DECL_COLUMN - n : 1, "",
			 f->offset, f->size, f->type == EBPFDSL_TYPE_PAD ? ", explicit padding" : "");
}

static void print_gap(size_t gap, const char *where, char *buf, size_t len, size_t *pos)
{
	if (gap)
		ebpfdsl__appendf(buf, len, pos, "\t/* %zu byte%s of padding%s */\n", gap, gap == 1 ? "" : "s", where);
}

static void print_one(const ebpfdsl_layout *l, char *buf, size_t len, size_t *pos)
{
	size_t at = 0, size = ebpfdsl_layout__size(l);
	ebpfdsl__appendf(buf, len, pos, "struct %s {\n", l->name);
	for (size_t i = 0; i < l->nfields; i++) {
		const struct ebpfdsl_layout_field *f = &l->fields[i];
		print_gap(f->offset - at, "", buf, len, pos);
		print_field(f, buf, len, pos);
		at = f->offset + f->size;
	}
	print_gap(size - at, " at the end", buf, len, pos);
	ebpfdsl__appendf(buf, len, pos, "}%s; /* size %zu, align %zu */\n", l->packed ? " __attribute__((packed))" : "",
			 size, l->align);
}

/* Nested layouts first, each once (names are unique within a layout
 * tree, which add_struct checks): `seen` holds the ones printed. */
struct printed {
	const ebpfdsl_layout **done;
	size_t n, cap;
};

static int was_printed(struct printed *seen, const ebpfdsl_layout *l)
{
	for (size_t i = 0; i < seen->n; i++)
		if (seen->done[i] == l)
			return 1;
	if (seen->n == seen->cap) {
		size_t cap = seen->cap ? 2 * seen->cap : 16;
		const ebpfdsl_layout **p = realloc(seen->done, cap * sizeof(*p));
		if (!p)
			return 0; /* out of memory: a repeated definition, but no crash */
		seen->done = p;
		seen->cap = cap;
	}
	seen->done[seen->n++] = l;
	return 0;
}

static void print_tree(const ebpfdsl_layout *l, struct printed *seen, char *buf, size_t len, size_t *pos)
{
	if (was_printed(seen, l))
		return;
	for (size_t i = 0; i < l->nfields; i++)
		if (l->fields[i].layout)
			print_tree(l->fields[i].layout, seen, buf, len, pos);
	if (*pos)
		ebpfdsl__appendf(buf, len, pos, "\n");
	print_one(l, buf, len, pos);
}

int ebpfdsl_layout__print(const ebpfdsl_layout *l, char *buf, size_t len)
{
	struct printed seen = { NULL, 0, 0 };
	size_t pos = 0;
	if (len)
		buf[0] = '\0';
	print_tree(l, &seen, buf, len, &pos);
	free(seen.done);
	return (int)pos;
}
