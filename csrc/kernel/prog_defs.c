/* SPDX-License-Identifier: MIT */
/* Every fact about a kind of program, one row each (as libbpf's SEC_DEF
 * rows): its type, its attach types, its attach target, how it attaches. */
#include <errno.h>
#include <string.h>
#include <bpf/btf.h>
#include "kernel.h"

#define IMPLIED EBPFDSL_PROG_DEF_IMPLIED
#define DEFAULT EBPFDSL_PROG_DEF_DEFAULT
#define NEEDS EBPFDSL_PROG_DEF_NEEDS_ATTACH
#define TRAMP EBPFDSL_PROG_DEF_TRAMPOLINE
#define CTX_IN EBPFDSL_PROG_DEF_CTX_IN_ONLY

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
	{ "struct_ops", "struct_ops", "struct_ops", NULL, CTX_IN, NULL, "struct_ops member (struct.member)", NULL, 0,
	  NULL, NULL, NULL },
	{ "ext", "freplace", "ext", NULL, TRAMP, NULL, NO_TARGET, "attach_tracing", NULL, NULL },
	{ "lsm", "lsm", "lsm", "lsm_mac", DEFAULT | TRAMP, NULL, HOOK, "attach_tracing", NULL, NULL },
	{ "lsm_cgroup", "lsm_cgroup", "lsm", "lsm_cgroup", IMPLIED | TRAMP, NULL, HOOK, "attach_cgroup", "lsm_cgroup",
	  NULL },
	{ "sk_lookup", "sk_lookup", "sk_lookup", "sk_lookup", DEFAULT, NULL, NO_TARGET, "attach_netns", "sk_lookup",
	  NULL },
	{ "syscall", "syscall", "syscall", NULL, CTX_IN, NULL, NO_TARGET, NULL, NULL, NULL },
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
