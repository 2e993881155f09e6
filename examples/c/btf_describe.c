/* SPDX-License-Identifier: MIT */
/* Shows the C API without Lua describing types the way the Lua module
 * shows them: a walk of keyed values (printed here as JSON-ish text),
 * lookups with their messages, BTF written call by call from the writer's
 * table of calls, and a kptr field of a layout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/btf.h>
#include "ebpfdsl.h"

static int failures;
#define CHECK(c)                                                          \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); \
			failures++;                                       \
		}                                                         \
	} while (0)

/* The walk as text: records nest in braces; the values are counted. */
struct out {
	char buf[8192];
	size_t pos;
	int values;
};

static void put(struct out *o, const char *fmt, const char *key, const char *v)
{
	int n = snprintf(o->buf + o->pos, sizeof(o->buf) - o->pos, fmt, key ? key : "", v);
	if (n > 0 && o->pos + (size_t)n < sizeof(o->buf))
		o->pos += (size_t)n;
}

static void e_num(void *ctx, const char *key, int64_t v)
{
	char s[32];
	snprintf(s, sizeof(s), "%lld", (long long)v);
	put(ctx, "%s=%s ", key, s);
	((struct out *)ctx)->values++;
}

static void e_str(void *ctx, const char *key, const char *v)
{
	put(ctx, "%s=\"%s\" ", key, v);
	((struct out *)ctx)->values++;
}

static void e_flag(void *ctx, const char *key, int v)
{
	put(ctx, "%s=%s ", key, v ? "true" : "false");
	((struct out *)ctx)->values++;
}

static void e_begin(void *ctx, const char *key)
{
	put(ctx, "%s%s{ ", key, key ? "=" : "");
}

static void e_end(void *ctx, const char *key)
{
	(void)key;
	put(ctx, "%s%s} ", "", "");
}

int main(void)
{
	const ebpfdsl_btf *b = ebpfdsl_btf__vmlinux();
	struct out o = { .pos = 0 };
	struct ebpfdsl_btf_emit e = { e_num, e_str, e_flag, e_begin, e_end, &o };
	struct ebpfdsl_btf_field f;
	char err[256];
	size_t ncalls;
	const struct ebpfdsl_btfw_call *calls = ebpfdsl_btfw_calls(&ncalls);
	int id;

	/* the writer's table: an int, then a struct of two of it */
	{
		ebpfdsl_btfw *w = ebpfdsl_btfw__new();
		struct ebpfdsl_btfw_args a = { { "int" }, { 4 }, 1 }, s = { { "pair" }, { 8 }, 0 };
		struct ebpfdsl_btfw_args m = { { "lo" }, { 1, 0 }, 0 };
		const struct ebpfdsl_btfw_call *c_int = NULL, *c_struct = NULL;
		for (size_t i = 0; i < ncalls; i++) {
			if (!strcmp(calls[i].name, "int"))
				c_int = &calls[i];
			if (!strcmp(calls[i].name, "struct"))
				c_struct = &calls[i];
		}
		CHECK(c_int && c_struct && !strcmp(c_int->args, "suo") && c_struct->part);
		CHECK(w && c_int && !strcmp(c_int->options[a.opt], "signed") && c_int->call(w, &a) == 1);
		CHECK(w && c_struct && c_struct->call(w, &s) == 2 && c_struct->part->add(w, &m) == 0);
		m.s[0] = "hi";
		m.n[1] = 32;
		CHECK(w && c_struct && c_struct->part->add(w, &m) == 0 && ebpfdsl_btfw__count(w) == 2);
		printf("writer: %zu calls, wrote %d types\n", ncalls, w ? ebpfdsl_btfw__count(w) : -1);
		ebpfdsl_btfw__free(w);
	}

	/* a kptr field found by path; a wrong path says why */
	{
		ebpfdsl_layout *l = ebpfdsl_layout__new("val", NULL);
		struct ebpfdsl_kptr k = { .tag = "kptr", .target = "task_struct" };
		CHECK(l && !ebpfdsl_layout__add_field(l, "n", EBPFDSL_TYPE_U32, 0) &&
		      !ebpfdsl_layout__add_field(l, "task", EBPFDSL_TYPE_PTR, 0));
		CHECK(l && ebpfdsl_kptr_field(l, "task", &k, err, sizeof(err)) == 0 && k.field == 1);
		CHECK(l && ebpfdsl_kptr_field(l, "n", &k, err, sizeof(err)) == -EINVAL && strstr(err, "must be a ptr"));
		CHECK(l && ebpfdsl_kptr_field(l, "nope", &k, err, sizeof(err)) == -ENOENT && strstr(err, "no field 'nope'"));
		ebpfdsl_layout__free(l);
	}
	if (failures)
		return 1;

	if (!b) {
		printf("no kernel BTF: %s\n", strerror(errno));
		return 0;
	}
	/* lookups: by class, by id, by kind name */
	id = ebpfdsl_btf__lookup(b, "bpf_map_type", EBPFDSL_BTF_LOOKUP_ENUM, 0, err, sizeof(err));
	CHECK(id > 0 && ebpfdsl_btf__check_id(b, id, BTF_KIND_ENUM, err, sizeof(err)) == 0);
	CHECK(ebpfdsl_btf__lookup(b, "no_such_type_x", EBPFDSL_BTF_LOOKUP_RECORD, 0, err, sizeof(err)) == -ENOENT &&
	      strstr(err, "no struct, union or typedef named 'no_such_type_x'"));
	CHECK(ebpfdsl_btf__check_id(b, -1, 0, err, sizeof(err)) == -ENOENT && strstr(err, "no BTF type with id -1"));
	CHECK(ebpfdsl_btf_kind_arg("struct", err, sizeof(err)) == BTF_KIND_STRUCT);
	CHECK(ebpfdsl_btf_kind_arg("strukt", err, sizeof(err)) == -EINVAL && strstr(err, "unknown BTF kind"));
	CHECK(!strcmp(ebpfdsl_btf_linkage_name(1), "global") && !strcmp(ebpfdsl_btf_linkage_name(7), "?"));

	/* a function described: its linkage, return and parameters */
	id = ebpfdsl_btf__lookup(b, "vfs_read", EBPFDSL_BTF_LOOKUP_FUNC, 0, err, sizeof(err));
	if (id > 0) {
		ebpfdsl_btf__describe(b, (uint32_t)id, &e);
		printf("vfs_read: %s\n", o.buf);
		CHECK(strstr(o.buf, "kind=\"func\"") && strstr(o.buf, "params={ { name=\"file\""));
	}
	/* a member path, and one that is not there */
	id = ebpfdsl_btf__lookup(b, "task_struct", EBPFDSL_BTF_LOOKUP_RECORD, 0, err, sizeof(err));
	CHECK(id > 0 && ebpfdsl_btf__offsetof(b, (uint32_t)id, "se.vruntime", &f) == 0);
	o.pos = 0;
	o.values = 0;
	if (id > 0) {
		int rc;
		ebpfdsl_btf__describe_field(b, &f, &e);
		printf("task_struct.se.vruntime: %s\n", o.buf);
		CHECK(o.values == 6 && strstr(o.buf, "type=\"u64\""));
		rc = ebpfdsl_btf__offsetof(b, (uint32_t)id, "se.nope", &f);
		ebpfdsl_btf__offsetof_error(b, (uint32_t)id, "se.nope", &f, rc, err, sizeof(err));
		printf("%s\n", err);
		CHECK(rc == -ENOENT && !strcmp(err, "offsetof(struct task_struct, se.nope): no member 'nope'"));
	}
	return failures ? 1 : 0;
}
