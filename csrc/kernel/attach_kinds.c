/* SPDX-License-Identifier: MIT */
/* The attach kinds' rows (attach_kinds.h): each call only spreads the
 * args union over its ebpfdsl_attach_* function. */
#include "attach_kinds.h"

typedef union ebpfdsl_attach_args A;

static int tp_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	return ebpfdsl_attach_tracepoint(fd, a->tp.cat, a->tp.name, a->tp.cookie, l, err, n);
}

static int raw_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	return ebpfdsl_attach_raw_tracepoint(fd, a->raw.name, l, err, n);
}

/* fentry, fexit, fmod_ret, lsm at the target the program was loaded for */
static int tracing_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	(void)a;
	return ebpfdsl_attach_tracing(fd, l, err, n);
}

static int kprobe_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->kprobe.o.sz = sizeof(a->kprobe.o);
	return ebpfdsl_attach_kprobe(fd, a->kprobe.fn, &a->kprobe.o, l, err, n);
}

static int kretprobe_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->kprobe.o.retprobe = 1;
	return kprobe_call(fd, a, l, err, n);
}

static int kmulti_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->kmulti.o.sz = sizeof(a->kmulti.o);
	a->kmulti.o.no_fallback = !a->kmulti.fallback;
	return ebpfdsl_attach_kprobe_multi(fd, &a->kmulti.o, l, err, n);
}

static int uprobe_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->uprobe.o.sz = sizeof(a->uprobe.o);
	return ebpfdsl_attach_uprobe(fd, a->uprobe.path, &a->uprobe.o, l, err, n);
}

static int uretprobe_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->uprobe.o.retprobe = 1;
	return uprobe_call(fd, a, l, err, n);
}

static int perf_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->perf.o.sz = sizeof(a->perf.o);
	return ebpfdsl_attach_perf_event(fd, &a->perf.o, l, err, n);
}

static int xdp_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->xdp.o.sz = sizeof(a->xdp.o);
	return ebpfdsl_attach_xdp(fd, a->xdp.ifname, &a->xdp.o, l, err, n);
}

static int tc_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->tc.o.sz = sizeof(a->tc.o);
	return ebpfdsl_attach_tc(fd, a->tc.ifname, &a->tc.o, l, err, n);
}

static int socket_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	return ebpfdsl_attach_socket(fd, a->socket.sock, l, err, n);
}

static int iter_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	a->iter.sz = sizeof(a->iter);
	return ebpfdsl_attach_iter(fd, &a->iter, l, err, n);
}

static int cgroup_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	return ebpfdsl_attach_cgroup(fd, a->onto.path, a->onto.type, l, err, n);
}

static int netns_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	return ebpfdsl_attach_netns(fd, a->onto.path, a->onto.type, l, err, n);
}

static int sockmap_call(int fd, A *a, ebpfdsl_link **l, char *err, size_t n)
{
	return ebpfdsl_attach_sockmap(fd, a->onto.map, a->onto.type, l, err, n);
}

const struct ebpfdsl_attach_kind ebpfdsl_attach_kinds[EBPFDSL_ATTACH_KINDS] = {
	[EBPFDSL_ATTACH_TRACEPOINT] = { "attach_tracepoint", tp_call },
	[EBPFDSL_ATTACH_RAW_TRACEPOINT] = { "attach_raw_tracepoint", raw_call },
	[EBPFDSL_ATTACH_TRACING] = { "attach_tracing", tracing_call },
	[EBPFDSL_ATTACH_FENTRY] = { "attach_fentry", tracing_call },
	[EBPFDSL_ATTACH_FEXIT] = { "attach_fexit", tracing_call },
	[EBPFDSL_ATTACH_LSM] = { "attach_lsm", tracing_call },
	[EBPFDSL_ATTACH_KPROBE] = { "attach_kprobe", kprobe_call },
	[EBPFDSL_ATTACH_KRETPROBE] = { "attach_kretprobe", kretprobe_call },
	[EBPFDSL_ATTACH_KPROBE_MULTI] = { "attach_kprobe_multi", kmulti_call },
	[EBPFDSL_ATTACH_UPROBE] = { "attach_uprobe", uprobe_call },
	[EBPFDSL_ATTACH_URETPROBE] = { "attach_uretprobe", uretprobe_call },
	[EBPFDSL_ATTACH_PERF_EVENT] = { "attach_perf_event", perf_call },
	[EBPFDSL_ATTACH_XDP] = { "attach_xdp", xdp_call },
	[EBPFDSL_ATTACH_TC] = { "attach_tc", tc_call },
	[EBPFDSL_ATTACH_SOCKET] = { "attach_socket", socket_call },
	[EBPFDSL_ATTACH_ITER] = { "attach_iter", iter_call },
	[EBPFDSL_ATTACH_CGROUP] = { "attach_cgroup", cgroup_call },
	[EBPFDSL_ATTACH_NETNS] = { "attach_netns", netns_call },
	[EBPFDSL_ATTACH_SOCKMAP] = { "attach_sockmap", sockmap_call },
};
