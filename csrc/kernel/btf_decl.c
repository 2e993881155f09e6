/* SPDX-License-Identifier: MIT */
/* BTF types spelled as C declarations, with the spacing bpftool's "format
 * c" uses, so members can be compared line by line with its output. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <bpf/btf.h>
#include "btf_impl.h"

/* libbpf's btf_dump writes whole definitions through a print callback and
 * inlines anonymous structs; a type name wants one short line, so the
 * declarator is built here. */

#define MAX_CHAIN 64
/* Function prototypes whose parameters point at prototypes can double the
 * spelling at every level; a 6.18 vmlinux's longest is 473 bytes. */
#define MAX_DECL 8192

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL, o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static const char *name_of(const ebpfdsl_btf *btf, const struct btf_type *t)
{
	const char *s = ebpfdsl__btf_str(btf, t->name_off);
	return s ? s : "";
}

/* The chain from the outermost declarator to the base type: for
 * "const char *p" it is ptr, const, int. */
struct chain {
	uint32_t ids[MAX_CHAIN];
	int n;
};

static int build_chain(const ebpfdsl_btf *btf, uint32_t id, struct chain *c)
{
	c->n = 0;
	for (;;) {
		const struct btf_type *t;
		if (c->n == MAX_CHAIN)
			return -ELOOP;
		c->ids[c->n++] = id;
		if (id == 0)
			return 0;
		t = ebpfdsl__btf_type(btf, id);
		if (!t)
			return -ENOENT;
		switch (btf_kind(t)) {
		case BTF_KIND_PTR:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_FUNC_PROTO:
			id = t->type;
			break;
		case BTF_KIND_ARRAY:
			id = btf_array(t)->type;
			break;
		case BTF_KIND_INT:
		case BTF_KIND_FLOAT:
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
		case BTF_KIND_FWD:
		case BTF_KIND_TYPEDEF:
			return 0;
		default:
			return -EINVAL;
		}
	}
}

static int is_qualifier(const ebpfdsl_btf *btf, uint32_t id)
{
	const struct btf_type *t = id ? ebpfdsl__btf_type(btf, id) : NULL;
	return t && (btf_is_const(t) || btf_is_volatile(t) || btf_is_restrict(t));
}

static const char *qualifier(const struct btf_type *t)
{
	return btf_is_const(t) ? "const" : btf_is_volatile(t) ? "volatile" : "restrict";
}

/* Qualifiers written just outside the base type go before it:
 * "const int", not "int const". */
static void leading_qualifiers(const ebpfdsl_btf *btf, struct chain *c, struct out *o)
{
	while (c->n > 0 && is_qualifier(btf, c->ids[c->n - 1])) {
		put(o, "%s ", qualifier(ebpfdsl__btf_type(btf, c->ids[c->n - 1])));
		c->n--;
	}
}

static void base_name(const ebpfdsl_btf *btf, uint32_t id, struct out *o)
{
	const struct btf_type *t = ebpfdsl__btf_type(btf, id);
	const char *name = name_of(btf, t);
	const char *tag = btf_is_union(t) || (btf_is_fwd(t) && btf_kflag(t)) ? "union"
			  : btf_is_any_enum(t)				     ? "enum"
			  : btf_is_composite(t) || btf_is_fwd(t)		     ? "struct"
									     : NULL;
	if (!tag)
		put(o, "%s", name);
	else if (*name)
		put(o, "%s %s", tag, name);
	else
		put(o, "%s {...}", tag);
}

static int emit(const ebpfdsl_btf *btf, struct chain *c, const char *name, struct out *o, int depth);

static void emit_name(struct out *o, const char *name, int after_ptr)
{
	put(o, "%s%s", *name && !after_ptr ? " " : "", name);
}

/* Pops the chain from the base outwards, writing C's inside-out syntax:
 * pointers wrap arrays and function types in parentheses. */
static int emit(const ebpfdsl_btf *btf, struct chain *c, const char *name, struct out *o, int depth)
{
	int after_ptr = 1, err;

	if (depth > MAX_CHAIN)
		return -ELOOP;
	while (c->n > 0) {
		if (o->pos > MAX_DECL)
			return -E2BIG;
		uint32_t id = c->ids[--c->n];
		const struct btf_type *t = id ? ebpfdsl__btf_type(btf, id) : NULL;
		int kind = t ? btf_kind(t) : 0;

		switch (kind) {
		case 0: /* void */
			leading_qualifiers(btf, c, o);
			put(o, "void");
			break;
		case BTF_KIND_PTR:
			put(o, "%s", after_ptr ? "*" : " *");
			break;
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
			put(o, " %s", qualifier(t));
			break;
		case BTF_KIND_TYPE_TAG:
			leading_qualifiers(btf, c, o);
			put(o, " __attribute__((btf_type_tag(\"%s\")))", name_of(btf, t));
			break;
		case BTF_KIND_ARRAY: {
			const struct btf_type *next = c->n ? ebpfdsl__btf_type(btf, c->ids[c->n - 1]) : NULL;
			uint32_t nelems = btf_array(t)->nelems;
			if (!c->n) {
				emit_name(o, name, after_ptr);
				put(o, "[%u]", nelems);
				return 0;
			}
			/* a pointer to an array: "int (*p)[4]"; arrays of arrays
			 * need no parentheses */
			if (*name && !after_ptr)
				put(o, " ");
			if (!(next && btf_is_array(next)))
				put(o, "(");
			if ((err = emit(btf, c, name, o, depth + 1)))
				return err;
			if (!(next && btf_is_array(next)))
				put(o, ")");
			put(o, "[%u]", nelems);
			return 0;
		}
		case BTF_KIND_FUNC_PROTO: {
			const struct btf_param *p = btf_params(t);
			uint32_t vlen = btf_vlen(t);
			leading_qualifiers(btf, c, o);
			if (c->n) {
				put(o, " (");
				if ((err = emit(btf, c, name, o, depth + 1)))
					return err;
				put(o, ")");
			} else {
				emit_name(o, name, after_ptr);
			}
			put(o, "(");
			if (vlen == 1 && p->type == 0) { /* f(void), as clang writes it */
				put(o, ")");
				return 0;
			}
			for (uint32_t i = 0; i < vlen; i++, p++) {
				struct chain pc;
				const char *pname = ebpfdsl__btf_str(btf, p->name_off);
				if (i)
					put(o, ", ");
				if (i == vlen - 1 && p->type == 0) {
					put(o, "...");
					break;
				}
				if ((err = build_chain(btf, p->type, &pc)) ||
				    (err = emit(btf, &pc, pname ? pname : "", o, depth + 1)))
					return err;
			}
			put(o, ")");
			return 0;
		}
		default: /* int, float, struct, union, enum, fwd, typedef */
			leading_qualifiers(btf, c, o);
			base_name(btf, id, o);
			break;
		}
		after_ptr = kind == BTF_KIND_PTR;
	}
	emit_name(o, name, after_ptr);
	return 0;
}

int ebpfdsl_btf__decl(const ebpfdsl_btf *b, uint32_t id, const char *name, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	struct chain c;
	const struct btf_type *t;
	int err;

	if (len)
		buf[0] = '\0';
	if (!ebpfdsl__btf_type(b, id))
		return -ENOENT; /* past the last id */
	t = id ? ebpfdsl__btf_type(b, id) : NULL;
	/* a function or variable declares its own name */
	if (t && (btf_is_func(t) || btf_is_var(t))) {
		if (!name || !*name)
			name = name_of(b, t);
		id = t->type;
	}
	err = build_chain(b, id, &c);
	if (!err)
		err = emit(b, &c, name ? name : "", &o, 0);
	if (err) {
		if (len)
			buf[0] = '\0';
		return err;
	}
	return (int)o.pos;
}
