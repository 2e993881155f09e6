/* SPDX-License-Identifier: MIT */
/* What an errno means for the operation that got it, in one table: E2BIG
 * on a hash's update is a full map, on an array's an index out of range;
 * EPERM without CAP_BPF is the process's privileges, with it on an fentry
 * load the kernel's missing trampolines. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "kernel.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

/* Kinds of maps the rows tell apart. */
enum cls {
	ANY,
	INDEX,       /* keyed by an index below max_entries: writes past it are E2BIG */
	QUEUE,       /* queue, stack: no keys */
	SOCK,        /* sockmap, sockhash */
	STACK_TRACE, /* filled by bpf_get_stackid */
	TRAMPOLINE,  /* programs that need a BPF trampoline: fentry, fexit, fmod_ret, lsm, freplace */
};

/* A sockmap is an index-keyed map of sockets: its socket rows first. */
static int map_class(int type)
{
	if (type == BPF_MAP_TYPE_SOCKMAP || type == BPF_MAP_TYPE_SOCKHASH)
		return SOCK;
	if (ebpfdsl__map_type_indexed(type))
		return INDEX;
	switch (type) {
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
		return QUEUE;
	case BPF_MAP_TYPE_STACK_TRACE:
		return STACK_TRACE;
	default:
		return ANY;
	}
}

/* fentry, fexit, fmod_ret, lsm, freplace: the rows of prog_defs.c */
static int prog_class(int type, int attach_type)
{
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_of(type, attach_type);
	return d && (d->flags & EBPFDSL_PROG_DEF_TRAMPOLINE) ? TRAMPOLINE : ANY;
}

/* A program's kind as users name it: "fentry", "lsm", "freplace" (libbpf's
 * section names for the kinds that need trampolines), else its type. */
static const char *prog_kind(int type, int attach_type)
{
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_of(type, attach_type);
	if (d && (d->flags & EBPFDSL_PROG_DEF_TRAMPOLINE) && d->section)
		return d->section;
	return ebpfdsl_prog_type_name(type) ? ebpfdsl_prog_type_name(type) : "this program";
}

/* The table: the first row that fits wins, so specific rows come first.
 * op "*" is any operation.
 * Placeholders: %M max_entries, %K the index, %T the map type, %P the
 * program's kind, %V value_size. */
static const struct row {
	const char *op;
	int err;
	int cls;
	const char *text;
} ROWS[] = {
	{ "update", E2BIG, INDEX, "index %K out of range (max_entries=%M)" },
	{ "set_prog", E2BIG, INDEX, "index %K out of range (max_entries=%M)" },
	{ "set_inner", E2BIG, INDEX, "index %K out of range (max_entries=%M)" },
	{ "push", E2BIG, ANY, "%T is full (max_entries=%M); push with \"exist\" drops the oldest" },
	{ "update", E2BIG, ANY, "map is full (max_entries=%M)" },
	{ "update", EEXIST, INDEX, "array elements always exist: an update with \"noexist\" cannot succeed" },
	{ "update", EEXIST, ANY, "the key is there already, and the update said \"noexist\"" },
	{ "update", ENOENT, ANY, "no element with this key, and the update said \"exist\"" },
	{ "update", ENOTSOCK, SOCK, "a %T holds sockets: the value is not one" },
	{ "update", EOPNOTSUPP, SOCK, "this socket cannot go in a %T (TCP listening or established, or UDP)" },
	{ "update", EINVAL, STACK_TRACE, "stack_trace maps are filled by bpf_get_stackid, not from user space" },
	{ "set_prog", EINVAL, ANY,
	  "the kernel refused the program: a prog_array holds programs of one type (the first one decides)" },
	{ "set_inner", EINVAL, ANY,
	  "the kernel refused the map: inner maps must match the template's type, sizes and max_entries" },
	{ "delete", EINVAL, INDEX, "elements of %T maps cannot be deleted: update them with zeros instead" },
	{ "lookup", EBPFDSL_ENOTSUPP, ANY, "%T maps cannot be read from user space (ENOTSUPP)" },
	{ "lookup", EOPNOTSUPP, ANY, "%T maps cannot be read from user space (EOPNOTSUPP)" },
	{ "update", EBPFDSL_ENOTSUPP, ANY, "%T maps cannot be written from user space (ENOTSUPP)" },
	{ "delete", EBPFDSL_ENOTSUPP, ANY, "elements of %T maps cannot be deleted from user space (ENOTSUPP)" },
	{ "*", EBPFDSL_ENOTSUPP, ANY, "not supported for %T maps (ENOTSUPP)" },
	{ "create", ENOMEM, ANY, "the kernel could not allocate the map (max_entries=%M, value_size=%V)" },
	{ "load", EPERM, TRAMPOLINE, "the kernel refuses %P here: BPF trampolines unavailable (EPERM)" },
	{ "attach", EPERM, TRAMPOLINE, "the kernel refuses %P here: BPF trampolines unavailable (EPERM)" },
};

static int cap_bit(uint64_t caps, int bit)
{
	return (int)((caps >> bit) & 1);
}

/* This process's effective capabilities, from /proc/self/status. */
static int effective_caps(uint64_t *caps)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int found = 0;
	unsigned long long v;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1) {
			*caps = v;
			found = 1;
			break;
		}
	fclose(f);
	return found ? 0 : -ENOENT;
}

int ebpfdsl_privileged(void)
{
	uint64_t caps = 0;
	if (effective_caps(&caps) < 0)
		return geteuid() == 0;
	return cap_bit(caps, CAP_BPF_BIT) || cap_bit(caps, CAP_SYS_ADMIN_BIT);
}

static long sysctl_value(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Why EPERM, for a process without CAP_BPF or CAP_SYS_ADMIN. */
static void unprivileged(const struct ebpfdsl_explain *w, char *buf, size_t len)
{
	long disabled = sysctl_value("/proc/sys/kernel/unprivileged_bpf_disabled");
	int tracing = w->prog_type == BPF_PROG_TYPE_KPROBE || w->prog_type == BPF_PROG_TYPE_TRACEPOINT ||
		      w->prog_type == BPF_PROG_TYPE_PERF_EVENT || w->prog_type == BPF_PROG_TYPE_RAW_TRACEPOINT ||
		      w->prog_type == BPF_PROG_TYPE_TRACING;
	char sysctl[64] = "";
	if (disabled > 0)
		snprintf(sysctl, sizeof(sysctl), "; kernel.unprivileged_bpf_disabled is %ld", disabled);
	snprintf(buf, len,
		 "not permitted: this process (uid %d) has neither CAP_BPF nor CAP_SYS_ADMIN (run it as root, or give "
		 "it CAP_BPF%s)%s",
		 (int)geteuid(), tracing ? ", and CAP_PERFMON for tracing" : "", sysctl);
}

static void expand(const char *text, const struct ebpfdsl_explain *w, char *buf, size_t len)
{
	size_t pos = 0;
	const char *mt = w->map_type >= 0 ? ebpfdsl_map_type_name(w->map_type) : NULL;
	for (const char *p = text; *p && pos + 1 < len; p++) {
		char piece[64];
		const char *s = piece;
		size_t n;
		if (*p != '%' || !p[1]) {
			buf[pos++] = *p;
			continue;
		}
		switch (*++p) {
		case 'M': snprintf(piece, sizeof(piece), "%u", (unsigned)w->max_entries); break;
		case 'V': snprintf(piece, sizeof(piece), "%u", (unsigned)w->value_size); break;
		case 'K': snprintf(piece, sizeof(piece), "%lld", (long long)w->index); break;
		case 'T': s = mt ? mt : "these"; break;
		case 'P': s = prog_kind(w->prog_type, w->attach_type); break;
		default: snprintf(piece, sizeof(piece), "%%%c", *p); break;
		}
		n = strlen(s);
		if (n > len - 1 - pos)
			n = len - 1 - pos;
		memcpy(buf + pos, s, n);
		pos += n;
	}
	buf[pos] = '\0';
}

const char *ebpfdsl_explain(int err, const struct ebpfdsl_explain *what, char *buf, size_t len)
{
	struct ebpfdsl_explain w = { .sz = sizeof(w), .op = "", .map_type = -1, .index = -1, .prog_type = -1,
				     .attach_type = -1 };
	int mcls, pcls;

	if (!buf || !len)
		return NULL;
	EBPFDSL_OPTS_COPY(w, what);
	if (!w.op)
		w.op = "";
	if (err < 0)
		err = -err;
	if ((err == EPERM || err == EACCES) && !ebpfdsl_privileged()) {
		unprivileged(&w, buf, len);
		return buf;
	}
	/* the classes a row may name */
	mcls = w.map_type >= 0 ? map_class(w.map_type) : ANY;
	pcls = w.prog_type >= 0 ? prog_class(w.prog_type, w.attach_type) : ANY;
	for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++) {
		const struct row *r = &ROWS[i];
		int fits = r->cls == ANY || r->cls == mcls ||
			   (r->cls == INDEX && w.map_type == BPF_MAP_TYPE_SOCKMAP) || (r->cls == TRAMPOLINE && pcls == TRAMPOLINE);
		if (r->err != err || (strcmp(r->op, "*") != 0 && strcmp(r->op, w.op) != 0) || !fits)
			continue;
		if (strstr(r->text, "%K") && w.index < 0)
			continue; /* no index to name: a later row says it otherwise */
		expand(r->text, &w, buf, len);
		return buf;
	}
	return NULL;
}
