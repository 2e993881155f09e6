/* SPDX-License-Identifier: MIT */
/* A type described as a binding shows it: which fields each kind has, and
 * how references, members, parameters and enum values are listed. The
 * binding only turns the walk into its own records (issue 10). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/btf.h>
#include "kernel.h"

char *ebpfdsl_btf__decl_dup(const ebpfdsl_btf *b, uint32_t id, const char *name)
{
	int n = ebpfdsl_btf__decl(b, id, name, NULL, 0);
	char *s;
	if (n < 0) {
		s = malloc(24);
		if (s)
			snprintf(s, 24, "<type %u>", id);
		return s;
	}
	s = malloc((size_t)n + 1);
	if (s)
		ebpfdsl_btf__decl(b, id, name, s, (size_t)n + 1);
	return s;
}

static void emit_decl(const ebpfdsl_btf *b, const struct ebpfdsl_btf_emit *e, const char *key, uint32_t id,
		      const char *name)
{
	char *s = ebpfdsl_btf__decl_dup(b, id, name);
	e->str(e->ctx, key, s ? s : "");
	free(s);
}

/* type = C spelling, type_id = id: how every reference is shown */
static void emit_ref(const ebpfdsl_btf *b, const struct ebpfdsl_btf_emit *e, const char *key, const char *kid,
		     uint32_t id)
{
	emit_decl(b, e, key, id, NULL);
	e->num(e->ctx, kid, id);
}

static void emit_members(const ebpfdsl_btf *b, const struct ebpfdsl_btf_emit *e, const char *key, uint32_t id,
			 uint32_t vlen)
{
	struct ebpfdsl_btf_member m;
	e->begin(e->ctx, key);
	for (uint32_t i = 0; i < vlen && !ebpfdsl_btf__member(b, id, i, &m); i++) {
		e->begin(e->ctx, NULL);
		e->str(e->ctx, "name", m.name);
		e->num(e->ctx, "offset", m.bit_offset / 8);
		e->num(e->ctx, "bit_offset", m.bit_offset);
		e->num(e->ctx, "bitfield_size", m.bitfield_size);
		emit_ref(b, e, "type", "type_id", m.type);
		emit_decl(b, e, "decl", m.type, m.name);
		e->end(e->ctx, NULL);
	}
	e->end(e->ctx, key);
}

/* A func_proto's return and parameters: ret, ret_id, params = {{name=,
 * type=, type_id=}}, variadic (a trailing void parameter means "...") */
static void emit_proto(const ebpfdsl_btf *b, const struct ebpfdsl_btf_emit *e, uint32_t proto)
{
	struct ebpfdsl_btf_type pt;
	struct ebpfdsl_btf_member m;
	int variadic = 0;

	if (ebpfdsl_btf__type(b, proto, &pt) || pt.kind != BTF_KIND_FUNC_PROTO)
		return;
	emit_ref(b, e, "ret", "ret_id", pt.type);
	e->begin(e->ctx, "params");
	for (uint32_t i = 0; i < pt.vlen && !ebpfdsl_btf__member(b, proto, i, &m); i++) {
		if (m.type == 0) {
			variadic = i > 0 || pt.vlen > 1;
			break;
		}
		e->begin(e->ctx, NULL);
		e->str(e->ctx, "name", m.name);
		emit_ref(b, e, "type", "type_id", m.type);
		e->end(e->ctx, NULL);
	}
	e->end(e->ctx, "params");
	e->flag(e->ctx, "variadic", variadic);
}

/* list = ordered {name=, value=}; values = name -> value */
static void emit_enum(const ebpfdsl_btf *b, const struct ebpfdsl_btf_emit *e, uint32_t id, uint32_t vlen)
{
	const char *name;
	int64_t v;
	int sgn;
	e->begin(e->ctx, "list");
	for (uint32_t i = 0; i < vlen && !ebpfdsl_btf__enum_value(b, id, i, &name, &v, &sgn); i++) {
		e->begin(e->ctx, NULL);
		e->str(e->ctx, "name", name);
		e->num(e->ctx, "value", v);
		e->end(e->ctx, NULL);
	}
	e->end(e->ctx, "list");
	e->begin(e->ctx, "values");
	for (uint32_t i = 0; i < vlen && !ebpfdsl_btf__enum_value(b, id, i, &name, &v, &sgn); i++)
		e->num(e->ctx, name, v);
	e->end(e->ctx, "values");
}

void ebpfdsl_btf__describe(const ebpfdsl_btf *b, uint32_t id, const struct ebpfdsl_btf_emit *e)
{
	struct ebpfdsl_btf_type t;
	int64_t size;

	if (ebpfdsl_btf__type(b, id, &t))
		return;
	e->num(e->ctx, "id", id);
	e->str(e->ctx, "kind", ebpfdsl_btf_kind_name(t.kind));
	e->str(e->ctx, "name", t.name);
	size = ebpfdsl_btf__size(b, id);
	if (size >= 0 && t.kind != BTF_KIND_FUNC && t.kind != BTF_KIND_FUNC_PROTO)
		e->num(e->ctx, "size", size);
	if (t.kind != BTF_KIND_DATASEC && t.kind != BTF_KIND_DECL_TAG)
		emit_decl(b, e, "decl", id, NULL);
	switch (t.kind) {
	case BTF_KIND_INT:
		e->num(e->ctx, "bits", t.int_bits);
		e->num(e->ctx, "bit_offset", t.int_offset);
		e->flag(e->ctx, "signed", t.int_encoding & BTF_INT_SIGNED);
		e->flag(e->ctx, "char", t.int_encoding & BTF_INT_CHAR);
		e->flag(e->ctx, "bool", t.int_encoding & BTF_INT_BOOL);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		e->num(e->ctx, "vlen", t.vlen);
		emit_members(b, e, "members", id, t.vlen);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		e->flag(e->ctx, "signed", t.kflag);
		emit_enum(b, e, id, t.vlen);
		break;
	case BTF_KIND_ARRAY:
		emit_ref(b, e, "type", "type_id", t.type);
		e->num(e->ctx, "nelems", t.nelems);
		e->num(e->ctx, "index_type_id", t.index_type);
		break;
	case BTF_KIND_FUNC:
		e->str(e->ctx, "linkage", ebpfdsl_btf_linkage_name(t.linkage));
		e->num(e->ctx, "proto_id", t.type);
		emit_proto(b, e, t.type);
		break;
	case BTF_KIND_FUNC_PROTO:
		emit_proto(b, e, id);
		break;
	case BTF_KIND_VAR:
		e->str(e->ctx, "linkage", ebpfdsl_btf_linkage_name(t.linkage));
		emit_ref(b, e, "type", "type_id", t.type);
		break;
	case BTF_KIND_DATASEC:
		emit_members(b, e, "vars", id, t.vlen);
		break;
	case BTF_KIND_FWD:
		e->str(e->ctx, "fwd_kind", t.kflag ? "union" : "struct");
		break;
	case BTF_KIND_DECL_TAG:
		e->num(e->ctx, "type_id", t.type);
		e->num(e->ctx, "component_idx", t.component_idx);
		break;
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		emit_ref(b, e, "type", "type_id", t.type);
		break;
	default:
		break;
	}
}

void ebpfdsl_btf__describe_field(const ebpfdsl_btf *b, const struct ebpfdsl_btf_field *f,
				 const struct ebpfdsl_btf_emit *e)
{
	e->num(e->ctx, "offset", f->byte_offset);
	e->num(e->ctx, "bit_offset", f->bit_offset);
	e->num(e->ctx, "bitfield_size", f->bitfield_size);
	emit_ref(b, e, "type", "type_id", f->type);
	if (f->size >= 0)
		e->num(e->ctx, "size", f->size);
}
