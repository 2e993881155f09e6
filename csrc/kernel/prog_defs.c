/* SPDX-License-Identifier: MIT */
/* Every fact about a kind of program, one row each (as libbpf's SEC_DEF
 * rows): its type, its attach types, its attach target, how it attaches. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "kernel.h"

#define IMPLIED EBPFDSL_PROG_DEF_IMPLIED
#define DEFAULT EBPFDSL_PROG_DEF_DEFAULT
#define NEEDS EBPFDSL_PROG_DEF_NEEDS_ATTACH
#define TRAMP EBPFDSL_PROG_DEF_TRAMPOLINE
#define CTX_IN EBPFDSL_PROG_DEF_CTX_IN_ONLY
#define MEMBER EBPFDSL_PROG_DEF_MEMBER_INDEX
#define CTX_WRITTEN EBPFDSL_PROG_DEF_CTX_WRITTEN

/* attach_to texts, each shared by the rows that resolve alike */
#define FUNC "kernel function", "", BTF_KIND_FUNC
#define HOOK "LSM hook (function bpf_lsm_<hook>)", "bpf_lsm_", BTF_KIND_FUNC
#define NO_TARGET NULL, NULL, 0

/* ORDER: program types in the kernel's enum order, each type's shorthands
 * right after it (ebpfdsl_prog_def_target takes the first row that fits,
 * and messages list attach types in this order). */
static const struct ebpfdsl_prog_def ROWS[] = {
	/* name, section, type, attach_type, flags, choices,
	 * target, target_prefix, target_kind, attach_method, attach_as, attach_hint */
	{ "socket_filter", "socket", "socket_filter", NULL, 0, NULL, NO_TARGET, "attach_socket", NULL, NULL },
	{ "kprobe", "kprobe", "kprobe", NULL, 0, NULL, NO_TARGET, "attach_kprobe", NULL, NULL },
	{ "kprobe_multi", "kprobe.multi", "kprobe", "trace_kprobe_multi", IMPLIED, NULL, NO_TARGET,
	  "attach_kprobe_multi", NULL, NULL },
	{ "uprobe_multi", "uprobe.multi", "kprobe", "trace_uprobe_multi", IMPLIED, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "sched_cls", "tc", "sched_cls", NULL, 0, NULL, NO_TARGET, "attach_tc", NULL, NULL },
	{ "sched_act", "action", "sched_act", NULL, 0, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "tracepoint", "tracepoint", "tracepoint", NULL, 0, NULL, NO_TARGET, "attach_tracepoint", NULL, NULL },
	{ "xdp", "xdp", "xdp", NULL, 0, NULL, NO_TARGET, "attach_xdp", NULL, NULL },
	{ "perf_event", "perf_event", "perf_event", NULL, 0, NULL, NO_TARGET, "attach_perf_event", NULL, NULL },
	{ "cgroup_skb", "cgroup/skb", "cgroup_skb", NULL, 0, NULL, NO_TARGET, "attach_cgroup", NULL,
	  "\"ingress\" or \"egress\"" },
	{ "cgroup_sock", "cgroup/sock", "cgroup_sock", NULL, 0, NULL, NO_TARGET, "attach_cgroup",
	  "cgroup_inet_sock_create", NULL },
	{ "lwt_in", "lwt_in", "lwt_in", NULL, 0, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "lwt_out", "lwt_out", "lwt_out", NULL, 0, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "lwt_xmit", "lwt_xmit", "lwt_xmit", NULL, 0, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "sock_ops", "sockops", "sock_ops", NULL, 0, NULL, NO_TARGET, "attach_cgroup", "cgroup_sock_ops", NULL },
	{ "sk_skb", "sk_skb", "sk_skb", NULL, 0, NULL, NO_TARGET, "attach_sockmap", NULL,
	  "\"verdict\", \"stream_verdict\" or \"stream_parser\"" },
	{ "cgroup_device", "cgroup/dev", "cgroup_device", NULL, 0, NULL, NO_TARGET, "attach_cgroup", "cgroup_device",
	  NULL },
	{ "sk_msg", "sk_msg", "sk_msg", NULL, 0, NULL, NO_TARGET, "attach_sockmap", "sk_msg_verdict", NULL },
	{ "raw_tracepoint", "raw_tp", "raw_tracepoint", NULL, CTX_IN, NULL, NO_TARGET, "attach_raw_tracepoint", NULL,
	  NULL },
	/* many attach types, none implied: the one given says which hook */
	{ "cgroup_sock_addr", NULL, "cgroup_sock_addr", NULL, NEEDS,
	  "cgroup_inet4_connect, cgroup_inet4_bind, cgroup_udp4_sendmsg, ...", NO_TARGET, "attach_cgroup", NULL,
	  "e.g. \"connect4\", \"getsockopt\"" },
	{ "lwt_seg6local", "lwt_seg6local", "lwt_seg6local", NULL, 0, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "lirc_mode2", "lirc_mode2", "lirc_mode2", NULL, 0, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "sk_reuseport", "sk_reuseport", "sk_reuseport", NULL, 0, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "flow_dissector", "flow_dissector", "flow_dissector", NULL, 0, NULL, NO_TARGET, "attach_netns",
	  "flow_dissector", NULL },
	{ "cgroup_sysctl", "cgroup/sysctl", "cgroup_sysctl", NULL, 0, NULL, NO_TARGET, "attach_cgroup", "cgroup_sysctl",
	  NULL },
	{ "raw_tracepoint_writable", "raw_tp.w", "raw_tracepoint_writable", NULL, CTX_IN, NULL, NO_TARGET,
	  "attach_raw_tracepoint", NULL, NULL },
	{ "cgroup_sockopt", NULL, "cgroup_sockopt", NULL, NEEDS, "cgroup_getsockopt or cgroup_setsockopt", NO_TARGET,
	  "attach_cgroup", NULL, "e.g. \"connect4\", \"getsockopt\"" },
	{ "tracing", NULL, "tracing", NULL, NEEDS | CTX_IN,
	  "trace_fentry, trace_fexit, modify_return, trace_raw_tp or trace_iter (or use type='fentry', ...)", NO_TARGET,
	  NULL, NULL, NULL },
	{ "fentry", "fentry", "tracing", "trace_fentry", IMPLIED | TRAMP | CTX_IN, NULL, FUNC, "attach_tracing", NULL,
	  NULL },
	{ "fexit", "fexit", "tracing", "trace_fexit", IMPLIED | TRAMP | CTX_IN, NULL, FUNC, "attach_tracing", NULL,
	  NULL },
	{ "fmod_ret", "fmod_ret", "tracing", "modify_return", IMPLIED | TRAMP | CTX_IN, NULL, FUNC, "attach_tracing",
	  NULL, NULL },
	{ "tp_btf", "tp_btf", "tracing", "trace_raw_tp", IMPLIED | CTX_IN, NULL,
	  "BTF tracepoint (typedef btf_trace_<name>)", "btf_trace_", BTF_KIND_TYPEDEF, "attach_tracing", NULL, NULL },
	{ "iter", "iter", "tracing", "trace_iter", IMPLIED | CTX_IN, NULL, "iterator (function bpf_iter_<name>)",
	  "bpf_iter_", BTF_KIND_FUNC, "attach_iter", NULL, NULL },
	/* registered as a whole struct through a struct_ops map, not attached */
	{ "struct_ops", "struct_ops", "struct_ops", NULL, CTX_IN | MEMBER, NULL, "struct_ops member (struct.member)", NULL, 0,
	  NULL, NULL, NULL },
	{ "ext", "freplace", "ext", NULL, TRAMP, NULL, NO_TARGET, "attach_tracing", NULL, NULL },
	{ "lsm", "lsm", "lsm", "lsm_mac", DEFAULT | TRAMP, NULL, HOOK, "attach_tracing", NULL, NULL },
	{ "lsm_cgroup", "lsm_cgroup", "lsm", "lsm_cgroup", IMPLIED | TRAMP, NULL, HOOK, "attach_cgroup", "lsm_cgroup",
	  NULL },
	{ "sk_lookup", "sk_lookup", "sk_lookup", "sk_lookup", DEFAULT, NULL, NO_TARGET, "attach_netns", "sk_lookup",
	  NULL },
	{ "syscall", "syscall", "syscall", NULL, CTX_IN | CTX_WRITTEN, NULL, NO_TARGET, NULL, NULL, NULL },
	{ "netfilter", "netfilter", "netfilter", "netfilter", DEFAULT, NULL, NO_TARGET, NULL, NULL, NULL },
};

#define NROWS (sizeof(ROWS) / sizeof(ROWS[0]))

const struct ebpfdsl_prog_def *ebpfdsl_prog_def_at(size_t i)
{
	return i < NROWS ? &ROWS[i] : NULL;
}

const struct ebpfdsl_prog_def *ebpfdsl_prog_def_find(const char *name)
{
	for (size_t i = 0; name && i < NROWS; i++)
		if (strcmp(ROWS[i].name, name) == 0)
			return &ROWS[i];
	return NULL;
}

/* Numbers from names on demand: a name past libbpf's reads the kernel's
 * BTF, which a row of an older type must not cost every load. */
int ebpfdsl_prog_def__type(const struct ebpfdsl_prog_def *d)
{
	int t;
	if (!d)
		return -EINVAL;
	t = ebpfdsl_prog_type_parse(d->prog_type);
	return t < 0 ? -ENOENT : t;
}

int ebpfdsl_prog_def__attach_type(const struct ebpfdsl_prog_def *d)
{
	int t;
	if (!d)
		return -EINVAL;
	if (!d->attach_type)
		return -1;
	t = ebpfdsl_attach_type_parse(d->attach_type);
	return t < 0 ? -ENOENT : t;
}

/* Rows are matched by name: the numbers' names are libbpf's (or the
 * kernel's), as the rows' are. */
static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

const struct ebpfdsl_prog_def *ebpfdsl_prog_def_of(int prog_type, int attach_type)
{
	const char *tname = prog_type >= 0 ? ebpfdsl_prog_type_name(prog_type) : NULL;
	const char *aname = attach_type >= 0 ? ebpfdsl_attach_type_name(attach_type) : NULL;
	const struct ebpfdsl_prog_def *own = NULL;
	for (size_t i = 0; tname && i < NROWS; i++) {
		if (!same(ROWS[i].prog_type, tname))
			continue;
		if (ROWS[i].flags & MEMBER)
			return &ROWS[i]; /* its attach type is a member's index, no name */
		if (same(ROWS[i].attach_type, aname))
			return &ROWS[i]; /* the shorthand (or the default) it was loaded as */
		if (!own && !(ROWS[i].flags & IMPLIED))
			own = &ROWS[i];
	}
	return own;
}

const struct ebpfdsl_prog_def *ebpfdsl_prog_def_target(int attach_type)
{
	const char *aname = attach_type >= 0 ? ebpfdsl_attach_type_name(attach_type) : NULL;
	for (size_t i = 0; aname && i < NROWS; i++)
		if (ROWS[i].target_prefix && same(ROWS[i].attach_type, aname))
			return &ROWS[i];
	return NULL;
}

const struct ebpfdsl_prog_def *ebpfdsl_prog_def_attach_to(int prog_type, int attach_type)
{
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_of(prog_type, -1);
	return d && (d->flags & MEMBER) ? d : ebpfdsl_prog_def_target(attach_type);
}

size_t ebpfdsl_prog_def_target_types(char *buf, size_t len)
{
	size_t n = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < NROWS; i++) {
		const struct ebpfdsl_prog_def *d = &ROWS[i];
		if (!d->target_prefix || ebpfdsl_prog_def_target(ebpfdsl_prog_def__attach_type(d)) != d)
			continue; /* no BTF target, or one an earlier row has listed */
		n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%s%s", n ? ", " : "",
				      d->attach_type);
	}
	return n;
}

/* The attach methods that take an attach type (or, for sockmaps, a
 * kind): what they attach onto, for messages, and whether only their own
 * rows' program types may use them (onto set). */
static const struct method {
	const char *name, *onto, *noun, *kinds;
} METHODS[] = {
	{ "attach_cgroup", NULL, "attach type", NULL },
	{ "attach_netns", "a network namespace", NULL, NULL },
	{ "attach_sockmap", "a sockmap", "kind", "msg_verdict, verdict, stream_verdict, stream_parser" },
};

/* "a" or "an" before a type's name as it is read aloud */
static const char *article(const char *t)
{
	return strchr("aeiou", t[0]) || strncmp(t, "sk_", 3) == 0 ? "an" : "a";
}

/* "sk_lookup and flow_dissector": the program types whose rows name m */
static void types_of(const struct method *m, char *buf, size_t len)
{
	size_t n = 0, k = 0;
	for (size_t i = 0; i < NROWS; i++)
		k += same(ROWS[i].attach_method, m->name);
	buf[0] = '\0';
	for (size_t i = 0, j = 0; i < NROWS && n < len; i++)
		if (same(ROWS[i].attach_method, m->name))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", j++ ? (j == k ? " and " : ", ") : "",
					      ROWS[i].prog_type);
}

/* The row of method m's whose program type is the attach type's name or
 * begins it: the one it is for (sk_msg for sk_msg_verdict). */
static const struct ebpfdsl_prog_def *row_for(const struct method *m, const char *aname)
{
	for (size_t i = 0; aname && i < NROWS; i++)
		if (same(ROWS[i].attach_method, m->name) &&
		    strncmp(aname, ROWS[i].prog_type, strlen(ROWS[i].prog_type)) == 0 &&
		    (aname[strlen(ROWS[i].prog_type)] == '_' || !aname[strlen(ROWS[i].prog_type)]))
			return &ROWS[i];
	return NULL;
}

int ebpfdsl_prog_def_attach_type_for(int prog_type, int attach_type, const char *method, const char *given,
				     char *err, size_t len)
{
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_of(prog_type, attach_type), *other;
	const char *tname = ebpfdsl_prog_type_name(prog_type), *aname;
	const struct method *m = NULL;
	char types[128];
	int t;

	for (size_t i = 0; i < sizeof(METHODS) / sizeof(METHODS[0]); i++)
		if (same(METHODS[i].name, method))
			m = &METHODS[i];
	if (!m)
		return ebpfdsl__err(err, len, EINVAL, "%s takes no attach type", method ? method : "?");
	tname = tname ? tname : "?";
	if (d && !same(d->attach_method, method))
		d = NULL;
	if (!d && m->onto) {
		types_of(m, types, sizeof(types));
		ebpfdsl__msg(err, len, "%s: %s %s program cannot attach to %s (%s can)", method, article(tname), tname,
			     m->onto, types);
		return -EINVAL;
	}
	if (!m->noun || (!given && d && d->attach_as))
		given = d ? d->attach_as : NULL;
	if (!given) {
		ebpfdsl__msg(err, len, "%s: %s %s program needs %s %s (%s)", method, article(tname), tname,
			     article(m->noun), m->noun,
			     d && d->attach_hint ? d->attach_hint : "e.g. \"connect4\", \"getsockopt\"");
		return -EINVAL;
	}
	t = ebpfdsl_attach_type_parse_short(given);
	aname = ebpfdsl_attach_type_name(t);
	other = m->onto ? row_for(m, aname) : NULL;
	if (t < 0 || (m->onto && !other)) {
		ebpfdsl__msg(err, len, "%s: unknown %s '%s'%s%s%s", method, m->noun, given, m->kinds ? " (" : "",
			     m->kinds ? m->kinds : "", m->kinds ? ")" : "");
		return -EINVAL;
	}
	if (m->onto && !same(other->prog_type, d->prog_type)) {
		ebpfdsl__msg(err, len, "%s: %s '%s' is for %s programs, this one is %s", method, m->noun, given,
			     other->prog_type, tname);
		return -EINVAL;
	}
	return t;
}
