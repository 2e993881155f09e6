/* SPDX-License-Identifier: MIT */
/* What the library says about failures: one errno text that knows the
 * kernel's ENOTSUPP and libbpf's own codes, the one way csrc/kernel fills
 * its callers' message buffers, and libbpf's messages routed into ours
 * (never to stderr) through one print callback. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "kernel.h"

const char *ebpfdsl_strerror(int err)
{
	static __thread char buf[128];
	if (err < 0)
		err = -err;
	if (err == EBPFDSL_ENOTSUPP) /* the kernel's, which libc has no text for */
		return "not supported (ENOTSUPP)";
	if (err >= 4000 && err < 5000) { /* __LIBBPF_ERRNO__START.. */
		if (libbpf_strerror(err, buf, sizeof(buf)) == 0)
			return buf;
	}
	return strerror(err);
}

void ebpfdsl__msg(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

int ebpfdsl__err(char *err, size_t len, int e, const char *fmt, ...)
{
	va_list ap;
	if (e < 0)
		e = -e;
	if (err && len) {
		size_t n;
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
		n = strlen(err);
		if (n + 2 < len) {
			/* what it means here (privileges, say), from the one table;
			 * else the errno's text */
			struct ebpfdsl_explain w = { .sz = sizeof(w), .op = "", .map_type = -1, .index = -1,
						     .prog_type = -1, .attach_type = -1 };
			char why[256];
			const char *text = ebpfdsl_explain(e, &w, why, sizeof(why));
			snprintf(err + n, len - n, ": %s", text ? text : ebpfdsl_strerror(e));
		}
	}
	return -e;
}

const char *ebpfdsl_libbpf_reason(const char *msg, const char *fallback, char *out, size_t len)
{
	const char *end = msg ? msg + strlen(msg) : NULL, *start;
	while (end && end > msg && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start && start > msg && start[-1] != '\n')
		start--;
	if (start && start < end && strncmp(start, "libbpf: ", 8) == 0)
		start += 8;
	if (start && start < end)
		snprintf(out, len, "%.*s", (int)(end - start), start);
	else
		snprintf(out, len, "%s", fallback ? fallback : "");
	return out;
}

/* ---------------------------------------------------------------------
 * libbpf's print callback. libbpf prints warnings (and, at load, the
 * verifier's log) through one process-wide function, stderr by default.
 * Ours is installed when the library is loaded and gives each line to the
 * innermost hush of the calling thread: every call of ours that can make
 * libbpf print runs inside one, so the library never prints. Lines outside
 * a hush come from the host's own libbpf calls and go where they went
 * before us. Debug lines are dropped.
 * --------------------------------------------------------------------- */

static __thread struct ebpfdsl_hush *hushing;
static __thread char said[512]; /* what the last failed hushed call heard */
static libbpf_print_fn_t before;

static int route(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct ebpfdsl_hush *h = hushing;
	char line[512];
	const char *p = line;
	size_t n, room;

	if (!h)
		return before ? before(level, fmt, ap) : 0; /* not ours: as before we came */
	if (level == LIBBPF_DEBUG)
		return 0;
	if (h->buf) { /* the caller's buffer: every line as printed */
		int k = vsnprintf(h->pos < h->len ? h->buf + h->pos : NULL, h->pos < h->len ? h->len - h->pos : 0,
				  fmt, ap);
		if (k > 0)
			h->pos += (size_t)k;
		if (h->len && h->pos >= h->len)
			h->buf[h->len - 1] = '\0';
		return k;
	}
	/* our own: one line per message, "libbpf: " and the newline dropped,
	 * joined by "; " */
	vsnprintf(line, sizeof(line), fmt, ap);
	if (strncmp(p, "libbpf: ", 8) == 0)
		p += 8;
	n = strcspn(p, "\n");
	room = sizeof(h->own) - h->pos;
	if (n && room > 1) {
		int k = snprintf(h->own + h->pos, room, "%s%.*s", h->pos ? "; " : "", (int)n, p);
		h->pos += k > 0 && (size_t)k < room ? (size_t)k : room - 1;
	}
	return 0;
}

__attribute__((constructor)) static void route_install(void)
{
	before = libbpf_set_print(route);
}

/* Unloaded (core.so at lua_close) while libbpf stays: libbpf must not
 * call into unmapped code, so what was there before comes back, unless
 * someone replaced ours meanwhile. */
__attribute__((destructor)) static void route_remove(void)
{
	libbpf_print_fn_t now = libbpf_set_print(before);
	if (now != route)
		libbpf_set_print(now);
}

void ebpfdsl_hush_begin(struct ebpfdsl_hush *h, char *buf, size_t len)
{
	h->buf = buf;
	h->len = len;
	h->pos = 0;
	h->own[0] = '\0';
	if (buf && len)
		buf[0] = '\0';
	h->outer = hushing;
	hushing = h;
	if (!h->outer)
		said[0] = '\0';
}

void ebpfdsl_hush_end(struct ebpfdsl_hush *h, int failed)
{
	hushing = h->outer;
	if (failed && !h->buf)
		snprintf(said, sizeof(said), "%s", h->own);
}

const char *ebpfdsl_libbpf_said(void)
{
	static __thread char out[sizeof(said)];
	if (!said[0])
		return NULL;
	memcpy(out, said, sizeof(out));
	said[0] = '\0';
	return out;
}
