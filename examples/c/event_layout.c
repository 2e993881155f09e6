/* SPDX-License-Identifier: MIT */
/* Shows the layout API from plain C, with no Lua: build an event layout,
 * print it as its C struct, write fields by path, and walk the decoded
 * values with a visitor. Needs no root. Checks itself against the
 * compiler's own layout of the same struct. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ebpfdsl.h"

struct hdr {
	uint16_t len;
	uint8_t kind;
};

struct event {
	uint64_t ts;
	uint32_t pid;
	char comm[16];
	struct hdr hdr;
	int32_t args[3];
};

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "event_layout: %s failed\n", #cond); \
			exit(1);                                           \
		}                                                          \
	} while (0)

static int print_scalar(void *ctx, const struct ebpfdsl_layout_cursor *c, int64_t v)
{
	char path[128];
	(void)ctx;
	ebpfdsl_layout_cursor_path(c, path, sizeof(path));
	printf("  %s = %lld\n", path, (long long)v);
	return 0;
}

static int print_bytes(void *ctx, const struct ebpfdsl_layout_cursor *c, const char *p, size_t len)
{
	char path[128];
	(void)ctx;
	ebpfdsl_layout_cursor_path(c, path, sizeof(path));
	printf("  %s = \"%.*s\"\n", path, (int)len, p);
	return 0;
}

/* What a binding asks before decoding or encoding: how many records a
 * buffer holds, which keys a table may give, a type by its name, the
 * rows of top-level values. */
static void check_binding_aids(const ebpfdsl_layout *ev)
{
	char err[512];
	int64_t two = 2;
	struct ebpfdsl_layout_row rows[8];
	int nested = 0;
	ebpfdsl_layout *t = ebpfdsl_layout__new("t", NULL);
	size_t size = sizeof(struct event);
	CHECK(ebpfdsl_layout__records(ev, 3 * size + 1, 0, (int64_t)size, NULL, err, sizeof(err)) == 3);
	CHECK(ebpfdsl_layout__records(ev, 3 * size, (int64_t)size, (int64_t)size, &two, err, sizeof(err)) == 2);
	CHECK(ebpfdsl_layout__records(ev, size, 0, 0, &two, err, sizeof(err)) == -1 && strstr(err, "stride"));
	CHECK(ebpfdsl_layout__records(ev, size, 0, 8, &two, err, sizeof(err)) == -1 && strstr(err, "2 records"));
	CHECK(ebpfdsl_layout__check_key(ev, "", "pid", err, sizeof(err)) == 0);
	CHECK(ebpfdsl_layout__check_key(ev, "x.", "pdi", err, sizeof(err)) == -ENOENT &&
	      strcmp(err, "unknown field 'x.pdi' (struct event has ts, pid, comm, hdr, args)") == 0);
	CHECK(ebpfdsl_layout__rows(ev, rows, 8, &nested) == 5 && nested);
	CHECK(rows[2].kind == EBPFDSL_LAYOUT_VALUE_TEXT && rows[2].off == offsetof(struct event, comm) && rows[2].len == 16);
	CHECK(t && ebpfdsl_layout__add_typed(t, "a", "u16", 0) == 0 && ebpfdsl_layout__add_typed(t, "p", "pad", 2) == 0);
	CHECK(ebpfdsl_layout__check_key(t, "", "p", err, sizeof(err)) == -EINVAL && strstr(err, "is padding"));
	CHECK(ebpfdsl_layout__add_typed(t, "b", "u33", 0) == -1 && strstr(ebpfdsl_layout__error(t), "unknown type 'u33'"));
	ebpfdsl_layout__free(t);
}

int main(void)
{
	static const struct ebpfdsl_layout_visitor printer = {
		.sz = sizeof(printer), .scalar = print_scalar, .bytes = print_bytes,
	};
	ebpfdsl_layout *hdr = ebpfdsl_layout__new("hdr", NULL);
	ebpfdsl_layout *ev = ebpfdsl_layout__new("event", NULL);
	struct ebpfdsl_layout_field f;
	unsigned char buf[sizeof(struct event)];
	char text[2048];
	int64_t v;

	ebpfdsl_layout__add_field(hdr, "len", EBPFDSL_TYPE_U16, 0);
	ebpfdsl_layout__add_field(hdr, "kind", EBPFDSL_TYPE_U8, 0);
	ebpfdsl_layout__add_field(ev, "ts", EBPFDSL_TYPE_U64, 0);
	ebpfdsl_layout__add_field(ev, "pid", EBPFDSL_TYPE_U32, 0);
	ebpfdsl_layout__add_field(ev, "comm", EBPFDSL_TYPE_CHAR, 16);
	ebpfdsl_layout__add_struct(ev, "hdr", hdr, 0);
	ebpfdsl_layout__add_field(ev, "args", EBPFDSL_TYPE_I32, 3);
	ebpfdsl_layout__free(hdr); /* the event keeps its own reference */
	if (ebpfdsl_layout__error(ev)) {
		fprintf(stderr, "event_layout: %s\n", ebpfdsl_layout__error(ev));
		return 1;
	}

	ebpfdsl_layout__print(ev, text, sizeof(text));
	fputs(text, stdout);
	CHECK(ebpfdsl_layout__size(ev) == sizeof(struct event));
	CHECK(ebpfdsl_layout__align(ev) == _Alignof(struct event));
	CHECK(ebpfdsl_layout__lookup(ev, "hdr.kind", &f, NULL, 0) == 0 && f.offset == offsetof(struct event, hdr.kind));
	CHECK(ebpfdsl_layout__lookup(ev, "args[2]", &f, NULL, 0) == 0 && f.offset == offsetof(struct event, args[2]));
	CHECK(ebpfdsl_layout__lookup(ev, "nope", &f, text, sizeof(text)) == -ENOENT);
	printf("lookup error: %s\n", text);

	memset(buf, 0, sizeof(buf));
	CHECK(ebpfdsl_layout__set(ev, buf, sizeof(buf), "pid", 4242) == 0);
	CHECK(ebpfdsl_layout__set(ev, buf, sizeof(buf), "hdr.len", 1500) == 0);
	CHECK(ebpfdsl_layout__set(ev, buf, sizeof(buf), "args[1]", -7) == 0);
	CHECK(ebpfdsl_layout__set(ev, buf, sizeof(buf), "hdr.kind", 256) == -ERANGE);
	memcpy(buf + offsetof(struct event, comm), "bash", 4);
	CHECK(ebpfdsl_layout__get(ev, buf, sizeof(buf), "args[1]", &v) == 0 && v == -7);
	CHECK(((struct event *)buf)->hdr.len == 1500);

	printf("decoded:\n");
	CHECK(ebpfdsl_layout__decode(ev, buf, sizeof(buf), &printer, NULL) == 0);
	check_binding_aids(ev);
	ebpfdsl_layout__free(ev);
	return 0;
}
