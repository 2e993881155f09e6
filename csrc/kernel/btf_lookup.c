/* SPDX-License-Identifier: MIT */
/* Finding a type for a caller who names it: by name within a class of
 * kinds, by id, by kind name, with the messages that say what was not
 * there. One place for what a binding's b:type, b:enum, b:offsetof look
 * for (issue 10). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/btf.h>
#include "kernel.h"

/* ORDER enum ebpfdsl_btf_lookup_class: what is looked for, the kinds tried
 * in turn (0 ends; a lone 0 is any kind), and how a message names it. */
static const struct {
	const char *what;
	int kinds[4];
} CLASSES[] = {
	[EBPFDSL_BTF_LOOKUP_ANY] = { "type", { 0 } },
	[EBPFDSL_BTF_LOOKUP_FUNC] = { "function", { BTF_KIND_FUNC } },
	[EBPFDSL_BTF_LOOKUP_ENUM] = { "enum", { BTF_KIND_ENUM, BTF_KIND_ENUM64 } },
	[EBPFDSL_BTF_LOOKUP_RECORD] = { "struct, union or typedef",
					{ BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF } },
};

int ebpfdsl_btf__lookup(const ebpfdsl_btf *b, const char *name, int cls, int kind, char *err, size_t len)
{
	const char *what;
	int id = -ENOENT;
	if (cls < 0 || (size_t)cls >= sizeof(CLASSES) / sizeof(CLASSES[0]))
		return -EINVAL;
	if (kind) {
		what = ebpfdsl_btf_kind_name(kind);
		id = ebpfdsl_btf__find(b, name, kind);
	} else {
		const int *k = CLASSES[cls].kinds;
		what = CLASSES[cls].what;
		id = ebpfdsl_btf__find(b, name, k[0]);
		for (size_t i = 1; id < 0 && i < 4 && k[i]; i++)
			id = ebpfdsl_btf__find(b, name, k[i]);
	}
	if (id < 0) {
		ebpfdsl__msg(err, len, "no %s named '%s' in %s BTF", what ? what : "type", name,
			     ebpfdsl_btf__source(b));
		return -ENOENT;
	}
	return id;
}

int ebpfdsl_btf__check_id(const ebpfdsl_btf *b, int64_t id, int kind, char *err, size_t len)
{
	struct ebpfdsl_btf_type t;
	if (id < 0 || id > UINT32_MAX || ebpfdsl_btf__type(b, (uint32_t)id, &t)) {
		ebpfdsl__msg(err, len, "no BTF type with id %lld in %s (ids are 0..%d)", (long long)id,
			     ebpfdsl_btf__source(b), (int)ebpfdsl_btf__type_count(b) - 1);
		return -ENOENT;
	}
	if (kind && t.kind != kind && !(kind == BTF_KIND_ENUM && t.kind == BTF_KIND_ENUM64)) {
		ebpfdsl__msg(err, len, "BTF type %lld is not a%s %s", (long long)id, kind == BTF_KIND_ENUM ? "n" : "",
			     ebpfdsl_btf_kind_name(kind));
		return -EINVAL;
	}
	return 0;
}

int ebpfdsl_btf_kind_arg(const char *name, char *err, size_t len)
{
	int k;
	if (!name)
		return 0;
	k = ebpfdsl_btf_kind_parse(name);
	if (k <= 0) {
		ebpfdsl__msg(err, len,
			     "unknown BTF kind '%s' (struct, union, enum, enum64, typedef, func, func_proto, int, ptr, "
			     "array, ...)",
			     name);
		return -EINVAL;
	}
	return k;
}

/* ebpfdsl_btf__offsetof's errors, as words before the path part */
static const char *path_error(int err)
{
	switch (-err) {
	case ENOENT: return "no member";
	case ENOTDIR: return "cannot look into a non-struct at";
	case ERANGE: return "index out of range at";
	case ELOOP: return "type loop at";
	case E2BIG: return "search through anonymous members too large at";
	default: return "malformed path at";
	}
}

void ebpfdsl_btf__offsetof_error(const ebpfdsl_btf *b, uint32_t type_id, const char *path,
				 const struct ebpfdsl_btf_field *f, int rc, char *err, size_t len)
{
	char *decl = ebpfdsl_btf__decl_dup(b, type_id, NULL);
	size_t at = f->err_pos <= strlen(path) ? f->err_pos : strlen(path);
	ebpfdsl__msg(err, len, "offsetof(%s, %s): %s '%s'", decl ? decl : "?", path, path_error(rc), path + at);
	free(decl);
}

void ebpfdsl_btf__refusal(const ebpfdsl_btf *b, int e, char *log, char *err, size_t len)
{
	size_t n = strlen(log);
	const char *last;
	while (n && log[n - 1] == '\n')
		log[--n] = '\0';
	last = strrchr(log, '\n');
	ebpfdsl__msg(err, len, "the kernel refused BTF %s: %s%s%s", ebpfdsl_btf__source(b), strerror(e),
		     n ? ": " : "", last ? last + 1 : log);
}
