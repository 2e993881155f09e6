/* SPDX-License-Identifier: MIT */
/* The BTF writer's per-kind calls as rows: the arguments each takes and
 * their option names, so a binding iterates them instead of wrapping each
 * kind by hand (issue 10). */
#include <string.h>
#include "core.h"
#include "facts.h"

#define NAME_OF(n) n,
static const char *const LINKAGES[] = { EBPFDSL_BTF_LINKAGES(NAME_OF) NULL };
#undef NAME_OF
#define NAME_OF(n, v) n,
static const char *const ENCODING_NAMES[] = { EBPFDSL_BTF_INT_ENCODINGS(NAME_OF) NULL };
#undef NAME_OF
#define VALUE_OF(n, v) v,
static const int ENCODINGS[] = { EBPFDSL_BTF_INT_ENCODINGS(VALUE_OF) };
#undef VALUE_OF

const char *ebpfdsl_btf_linkage_name(int linkage)
{
	return linkage >= 0 && linkage < (int)(sizeof(LINKAGES) / sizeof(LINKAGES[0])) - 1 ? LINKAGES[linkage] : "?";
}

static int64_t c_int(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__int(w, a->s[0], (uint32_t)a->n[0], ENCODINGS[a->opt]);
}

static int64_t c_ptr(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__ptr(w, (int)a->n[0]);
}

static int64_t c_array(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__array(w, (int)a->n[0], (uint32_t)a->n[1]);
}

static int64_t c_typedef(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__typedef(w, a->s[0], (int)a->n[0]);
}

static int64_t c_type_tag(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__type_tag(w, a->s[0], (int)a->n[0]);
}

static int64_t c_func(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__func(w, a->s[0], (int)a->n[0], a->opt);
}

/* "u32" -> the id of __u32; layout scalars only (no struct) */
static int64_t c_scalar(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	int type = ebpfdsl_type_parse(a->s[0]);
	if (type < 0 || type == EBPFDSL_TYPE_STRUCT)
		return ebpfdsl__btfw_fail(w, "'%s' is not a scalar type (u8..u64, i8..i64, char, bool, ptr, pad)",
					  a->s[0]);
	return ebpfdsl_btfw__scalar(w, type);
}

static int64_t c_string(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__string(w, a->s[0]);
}

static int64_t c_struct(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__struct(w, a->s[0], (uint32_t)a->n[0]);
}

static int64_t c_union(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__union(w, a->s[0], (uint32_t)a->n[0]);
}

static int64_t c_func_proto(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__func_proto(w, (int)a->n[0]);
}

static int c_member(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__member(w, a->s[0], (int)a->n[0], (uint32_t)a->n[1]);
}

static int c_param(ebpfdsl_btfw *w, const struct ebpfdsl_btfw_args *a)
{
	return ebpfdsl_btfw__param(w, a->s[0], (int)a->n[0]);
}

static const struct ebpfdsl_btfw_part MEMBERS = { "siu", "member", "{name, type id, bit_offset}", c_member };
static const struct ebpfdsl_btfw_part PARAMS = { "si", "parameter", "{name, type id}", c_param };

/* name (and c_<name>), argument letters, option names, parts */
#define CALLS(X) \
	X(int, "suo", ENCODING_NAMES, NULL) X(ptr, "i", NULL, NULL) X(array, "iu", NULL, NULL) \
	X(typedef, "si", NULL, NULL) X(type_tag, "si", NULL, NULL) X(func, "sio", LINKAGES, NULL) \
	X(scalar, "s", NULL, NULL) X(struct, "Sul", NULL, &MEMBERS) X(union, "Sul", NULL, &MEMBERS) \
	X(func_proto, "il", NULL, &PARAMS) X(string, "s", NULL, NULL)
#define ROW(n, args, options, part) { #n, args, options, part, c_##n },
static const struct ebpfdsl_btfw_call ROWS[] = { CALLS(ROW) };
#undef ROW

const struct ebpfdsl_btfw_call *ebpfdsl_btfw_calls(size_t *n)
{
	*n = sizeof(ROWS) / sizeof(ROWS[0]);
	return ROWS;
}
