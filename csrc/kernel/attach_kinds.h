/* SPDX-License-Identifier: MIT */
/* Every regular attach kind as a row: the method a host names it by, and
 * the call that hands what the host read to ebpfdsl_attach_*. A host (the
 * Lua binding) fills the kind's member of the args union from its own
 * rows of arguments and options, indexed by the same EBPFDSL_ATTACH_*. */
#ifndef EBPFDSL_KERNEL_ATTACH_KINDS_H
#define EBPFDSL_KERNEL_ATTACH_KINDS_H

#include "kernel.h"

/* What one attach call reads, per kind; the public options struct is one
 * of its fields, so a new option is a field there and a row in the host. */
union ebpfdsl_attach_args {
	struct { const char *cat, *name; uint64_t cookie; } tp;
	struct { const char *name; } raw;
	struct { const char *fn; struct ebpfdsl_kprobe_opts o; } kprobe;
	struct { int fallback; struct ebpfdsl_kprobe_multi_opts o; } kmulti;
	struct { const char *path; struct ebpfdsl_uprobe_opts o; } uprobe;
	struct { const char *event; int64_t type; struct ebpfdsl_perf_event_opts o; } perf;
	struct { const char *ifname; struct ebpfdsl_xdp_opts o; } xdp;
	struct { const char *ifname; struct ebpfdsl_tc_opts o; } tc;
	struct { int sock; } socket;
	struct ebpfdsl_iter_opts iter;
	struct { const char *path; int map, type; } onto; /* cgroup, netns, sockmap */
};

enum {
	EBPFDSL_ATTACH_TRACEPOINT, EBPFDSL_ATTACH_RAW_TRACEPOINT, EBPFDSL_ATTACH_TRACING, EBPFDSL_ATTACH_FENTRY,
	EBPFDSL_ATTACH_FEXIT, EBPFDSL_ATTACH_LSM, EBPFDSL_ATTACH_KPROBE, EBPFDSL_ATTACH_KRETPROBE,
	EBPFDSL_ATTACH_KPROBE_MULTI, EBPFDSL_ATTACH_UPROBE, EBPFDSL_ATTACH_URETPROBE, EBPFDSL_ATTACH_PERF_EVENT,
	EBPFDSL_ATTACH_XDP, EBPFDSL_ATTACH_TC, EBPFDSL_ATTACH_SOCKET, EBPFDSL_ATTACH_ITER, EBPFDSL_ATTACH_CGROUP,
	EBPFDSL_ATTACH_NETNS, EBPFDSL_ATTACH_SOCKMAP, EBPFDSL_ATTACH_KINDS
};

struct ebpfdsl_attach_kind {
	const char *name; /* "attach_kprobe" */
	/* 0 and the link in *l, or -errno with why in err; may set fields
	 * of a (sz, retprobe) */
	int (*call)(int prog_fd, union ebpfdsl_attach_args *a, ebpfdsl_link **l, char *err, size_t errlen);
};
extern const struct ebpfdsl_attach_kind ebpfdsl_attach_kinds[EBPFDSL_ATTACH_KINDS];

#endif
