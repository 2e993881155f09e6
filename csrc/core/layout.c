/* SPDX-License-Identifier: MIT */
/* Struct layouts: building one field by field with the C ABI's placement
 * rules (or packed), and the queries: size, alignment, fields, paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "layout.h"

/* ORDER TYPE: as enum ebpfdsl_type. */
static const struct {
	const char *name;
	size_t size;
	int is_signed;
} TYPES[EBPFDSL_TYPE_COUNT_] = {
	[EBPFDSL_TYPE_U8] = { "u8", 1, 0 },
	[EBPFDSL_TYPE_U16] = { "u16", 2, 0 },
	[EBPFDSL_TYPE_U32] = { "u32", 4, 0 },
	[EBPFDSL_TYPE_U64] = { "u64", 8, 0 },
	[EBPFDSL_TYPE_I8] = { "i8", 1, 1 },
	[EBPFDSL_TYPE_I16] = { "i16", 2, 1 },
	[EBPFDSL_TYPE_I32] = { "i32", 4, 1 },
	[EBPFDSL_TYPE_I64] = { "i64", 8, 1 },
	[EBPFDSL_TYPE_CHAR] = { "char", 1, 0 },
	[EBPFDSL_TYPE_BOOL] = { "bool", 1, 0 },
	[EBPFDSL_TYPE_PTR] = { "ptr", EBPFDSL_LAYOUT_PTR_SIZE, 0 },
	[EBPFDSL_TYPE_PAD] = { "pad", 1, 0 },
	[EBPFDSL_TYPE_STRUCT] = { "struct", 0, 0 },
};

const char *ebpfdsl_type_name(int type)
{
	return type >= 0 && type < EBPFDSL_TYPE_COUNT_ ? TYPES[type].name : NULL;
}

int ebpfdsl_type_parse(const char *name)
{
	static const char *const KERNEL_SIGNED[] = { "s8", "s16", "s32", "s64" };
	if (!name)
		return -1;
	for (int t = 0; t < EBPFDSL_TYPE_COUNT_; t++)
		if (!strcmp(name, TYPES[t].name))
			return t;
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, KERNEL_SIGNED[i]))
			return EBPFDSL_TYPE_I8 + i;
	return -1;
}

size_t ebpfdsl_type_size(int type)
{
	return type >= 0 && type < EBPFDSL_TYPE_COUNT_ ? TYPES[type].size : 0;
}

int ebpfdsl_type_is_signed(int type)
{
	return type >= 0 && type < EBPFDSL_TYPE_COUNT_ && TYPES[type].is_signed;
}

/* The natural alignment of a scalar on the target. */
static size_t type_align(int type)
{
	if (type == EBPFDSL_TYPE_PTR)
		return EBPFDSL_LAYOUT_PTR_ALIGN;
	if (type == EBPFDSL_TYPE_PAD)
		return 1;
	return TYPES[type].size;
}

/* ---------------------------------------------------------------------
 * Building
 * --------------------------------------------------------------------- */

static int fail(ebpfdsl_layout *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(ebpfdsl_layout *l, const char *fmt, ...)
{
	va_list ap;
	if (l->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* C keywords (C11) cannot name a struct or a field of the printed struct. */
static int is_keyword(const char *s)
{
	static const char *const KW[] = {
		"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
		"enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
		"restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
		"union", "unsigned", "void", "volatile", "while", "_Alignas", "_Alignof", "_Atomic",
		"_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn", "_Static_assert",
		"_Thread_local",
	};
	for (size_t i = 0; i < sizeof(KW) / sizeof(KW[0]); i++)
		if (!strcmp(s, KW[i]))
			return 1;
	return 0;
}

/* NULL when `s` can name a struct or field, else why not. */
static const char *bad_identifier(const char *s)
{
	size_t n;
	if (!s || !*s)
		return "is empty";
	n = strlen(s);
	if (n > EBPFDSL_LAYOUT_NAME_MAX)
		return "is too long";
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return "is not a C identifier";
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return "is not a C identifier";
	if (is_keyword(s))
		return "is a C keyword";
	return NULL;
}

ebpfdsl_layout *ebpfdsl_layout__new(const char *name, const struct ebpfdsl_layout_opts *opts)
{
	ebpfdsl_layout *l = calloc(1, sizeof(*l));
	const char *why;
	if (!l)
		return NULL;
	l->refs = 1;
	l->align = 1;
	l->depth = 1;
	l->name = strdup(name ? name : "");
	if (!l->name) {
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	if (opts && opts->sz >= offsetof(struct ebpfdsl_layout_opts, packed) + sizeof(opts->packed))
		l->packed = opts->packed != 0;
	why = bad_identifier(name);
	if (why)
		fail(l, "layout name '%s' %s", name ? name : "", why);
	return l;
}

void ebpfdsl_layout__free(ebpfdsl_layout *l)
{
	if (!l || --l->refs > 0)
		return;
	for (size_t i = 0; i < l->nfields; i++) {
		free((char *)l->fields[i].name);
		if (l->fields[i].layout)
			ebpfdsl_layout__free((ebpfdsl_layout *)l->fields[i].layout);
	}
	free(l->fields);
	free(l->name);
	free(l);
}

const char *ebpfdsl_layout__error(const ebpfdsl_layout *l)
{
	return l->err[0] ? l->err : NULL;
}

static const struct ebpfdsl_layout_field *find(const ebpfdsl_layout *l, const char *name, size_t n)
{
	for (size_t i = 0; i < l->nfields; i++)
		if (!strncmp(l->fields[i].name, name, n) && l->fields[i].name[n] == '\0')
			return &l->fields[i];
	return NULL;
}

/* Does `sub`, or a layout inside it, share a name with a different layout
 * in `l`? Two struct definitions with one tag cannot be printed as C. */
static const ebpfdsl_layout *name_clash(const ebpfdsl_layout *l, const ebpfdsl_layout *sub)
{
	if (l != sub && !strcmp(l->name, sub->name))
		return l;
	for (size_t i = 0; i < l->nfields; i++) {
		const ebpfdsl_layout *c = l->fields[i].layout;
		const ebpfdsl_layout *hit = c ? name_clash(c, sub) : NULL;
		if (hit)
			return hit;
	}
	return NULL;
}

static const ebpfdsl_layout *any_clash(const ebpfdsl_layout *l, const ebpfdsl_layout *sub)
{
	const ebpfdsl_layout *hit = name_clash(l, sub);
	if (hit)
		return hit;
	for (size_t i = 0; i < sub->nfields; i++)
		if (sub->fields[i].layout && (hit = any_clash(l, sub->fields[i].layout)))
			return hit;
	return NULL;
}

static int add(ebpfdsl_layout *l, const char *name, int type, size_t count, size_t elem_size, size_t align,
	       ebpfdsl_layout *sub)
{
	struct ebpfdsl_layout_field *f;
	const char *why = bad_identifier(name);
	size_t size, offset;
	char *copy;

	if (l->err[0])
		return -1;
	if (why)
		return fail(l, "field name '%s' %s", name ? name : "", why);
	if (l->frozen)
		return fail(l, "layout '%s' is nested in another layout and can no longer grow", l->name);
	if (find(l, name, strlen(name)))
		return fail(l, "duplicate field '%s' in layout '%s'", name, l->name);
	if (l->packed)
		align = 1;
	size = count ? elem_size * count : elem_size;
	if (count > EBPFDSL_LAYOUT_SIZE_MAX || size > EBPFDSL_LAYOUT_SIZE_MAX)
		return fail(l, "field '%s' of layout '%s' is larger than %zu bytes", name, l->name,
			    EBPFDSL_LAYOUT_SIZE_MAX);
	offset = (l->end + align - 1) / align * align;
	if (offset + size > EBPFDSL_LAYOUT_SIZE_MAX)
		return fail(l, "layout '%s' grows past %zu bytes at field '%s'", l->name,
			    EBPFDSL_LAYOUT_SIZE_MAX, name);
	if (l->nfields == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *p = realloc(l->fields, cap * sizeof(*l->fields));
		if (!p)
			return fail(l, "out of memory");
		l->fields = p;
		l->cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return fail(l, "out of memory");
	f = &l->fields[l->nfields];
	*f = (struct ebpfdsl_layout_field){
		.name = copy, .type = type, .offset = offset, .size = size, .count = count,
		.elem_size = elem_size, .align = align, .index = l->nfields, .layout = sub,
	};
	l->nfields++;
	if (type != EBPFDSL_TYPE_PAD)
		l->nvalues++;
	l->end = offset + size;
	if (align > l->align)
		l->align = align;
	return 0;
}

int ebpfdsl_layout__add_field(ebpfdsl_layout *l, const char *name, int type, size_t count)
{
	if (type < 0 || type >= EBPFDSL_TYPE_PAD)
		return fail(l, "field '%s': unknown type %d", name ? name : "", type);
	return add(l, name, type, count, TYPES[type].size, type_align(type), NULL);
}

int ebpfdsl_layout__add_pad(ebpfdsl_layout *l, const char *name, size_t bytes)
{
	if (bytes == 0)
		return fail(l, "padding '%s' must be at least one byte", name ? name : "");
	return add(l, name, EBPFDSL_TYPE_PAD, bytes, 1, 1, NULL);
}

int ebpfdsl_layout__add_typed(ebpfdsl_layout *l, const char *name, const char *type, size_t count)
{
	int t = ebpfdsl_type_parse(type);
	char list[256] = "";
	if (t == EBPFDSL_TYPE_PAD)
		return ebpfdsl_layout__add_pad(l, name, count ? count : 1);
	if (t >= 0 && t < EBPFDSL_TYPE_PAD)
		return ebpfdsl_layout__add_field(l, name, t, count);
	for (int i = 0; i < EBPFDSL_TYPE_STRUCT; i++) {
		strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, ebpfdsl_type_name(i), sizeof(list) - strlen(list) - 1);
	}
	return fail(l, "field '%s': unknown type '%s' (types: %s or a layout)", name ? name : "", type, list);
}

int ebpfdsl_layout__add_struct(ebpfdsl_layout *l, const char *name, ebpfdsl_layout *sub, size_t count)
{
	const ebpfdsl_layout *clash;
	if (!sub)
		return fail(l, "field '%s': no layout given", name ? name : "");
	if (sub == l)
		return fail(l, "layout '%s' cannot contain itself", l->name);
	if (sub->err[0])
		return fail(l, "field '%s': layout '%s' is not valid: %s", name ? name : "", sub->name, sub->err);
	if (sub->nfields == 0)
		return fail(l, "field '%s': layout '%s' has no fields", name ? name : "", sub->name);
	if (sub->depth + 1 > EBPFDSL_LAYOUT_MAX_DEPTH)
		return fail(l, "field '%s': layouts nest deeper than %d levels", name ? name : "",
			    EBPFDSL_LAYOUT_MAX_DEPTH);
	clash = any_clash(l, sub);
	if (clash)
		return fail(l, "field '%s': two different layouts are named '%s'", name ? name : "", clash->name);
	if (add(l, name, EBPFDSL_TYPE_STRUCT, count, ebpfdsl_layout__size(sub), sub->align, sub))
		return -1;
	sub->refs++;
	sub->frozen = 1;
	if (sub->depth + 1 > l->depth)
		l->depth = sub->depth + 1;
	return 0;
}

/* ---------------------------------------------------------------------
 * Queries
 * --------------------------------------------------------------------- */

const char *ebpfdsl_layout__name(const ebpfdsl_layout *l)
{
	return l->name;
}

int ebpfdsl_layout__packed(const ebpfdsl_layout *l)
{
	return l->packed;
}

size_t ebpfdsl_layout__size(const ebpfdsl_layout *l)
{
	return (l->end + l->align - 1) / l->align * l->align;
}

size_t ebpfdsl_layout__align(const ebpfdsl_layout *l)
{
	return l->align;
}

size_t ebpfdsl_layout__field_count(const ebpfdsl_layout *l)
{
	return l->nfields;
}

int ebpfdsl_layout__field(const ebpfdsl_layout *l, size_t i, struct ebpfdsl_layout_field *f)
{
	if (i >= l->nfields)
		return -ENOENT;
	*f = l->fields[i];
	return 0;
}

/* " (its fields: a, b, c)" for error messages. */
static void list_fields(const ebpfdsl_layout *l, char *err, size_t errlen, size_t *pos)
{
	ebpfdsl__appendf(err, errlen, pos, " (its fields: ");
	for (size_t i = 0; i < l->nfields; i++)
		ebpfdsl__appendf(err, errlen, pos, "%s%s", i ? ", " : "", l->fields[i].name);
	ebpfdsl__appendf(err, errlen, pos, ")");
}

int ebpfdsl_layout__lookup(const ebpfdsl_layout *l, const char *path, struct ebpfdsl_layout_field *f,
			   char *err, size_t errlen)
{
	const char *p = path;
	size_t base = 0, pos = 0;
	int in_array = 0; /* the field found last is a whole array */

	if (!err)
		errlen = 0;
	if (!path || !*path) {
		ebpfdsl__appendf(err, errlen, &pos, "empty field path");
		return -EINVAL;
	}
	for (;;) {
		const struct ebpfdsl_layout_field *hit;
		size_t n = strcspn(p, ".[");
		if (n == 0) {
			ebpfdsl__appendf(err, errlen, &pos, "bad field path '%s'", path);
			return -EINVAL;
		}
		hit = find(l, p, n);
		if (!hit) {
			ebpfdsl__appendf(err, errlen, &pos, "no field '%.*s' in struct %s", (int)n, p, l->name);
			if (p != path)
				ebpfdsl__appendf(err, errlen, &pos, " at '%s'", path);
			list_fields(l, err, errlen, &pos);
			return -ENOENT;
		}
		*f = *hit;
		f->offset += base;
		in_array = f->count > 0;
		p += n;
		if (*p == '[') {
			char *end;
			unsigned long long i;
			if (!in_array) {
				ebpfdsl__appendf(err, errlen, &pos, "'%.*s' in '%s' is not an array",
						 (int)(p - path), path, path);
				return -EINVAL;
			}
			if (p[1] < '0' || p[1] > '9') {
				ebpfdsl__appendf(err, errlen, &pos, "bad index in field path '%s'", path);
				return -EINVAL;
			}
			errno = 0;
			i = strtoull(p + 1, &end, 10);
			if (*end != ']') {
				ebpfdsl__appendf(err, errlen, &pos, "bad index in field path '%s'", path);
				return -EINVAL;
			}
			if (errno || i >= f->count) {
				ebpfdsl__appendf(err, errlen, &pos, "index %.*s out of range in '%s' (%s has %zu elements)",
						 (int)(end - p - 1), p + 1, path, f->name, f->count);
				return -ERANGE;
			}
			f->offset += (size_t)i * f->elem_size;
			f->size = f->elem_size;
			f->count = 0;
			in_array = 0;
			p = end + 1;
		}
		if (*p == '\0')
			return 0;
		if (*p != '.' || f->type != EBPFDSL_TYPE_STRUCT || in_array) {
			ebpfdsl__appendf(err, errlen, &pos, "'%.*s' in '%s' is not a struct", (int)(p - path), path,
					 path);
			return -EINVAL;
		}
		base = f->offset;
		l = f->layout;
		p++;
	}
}
