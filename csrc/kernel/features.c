/* SPDX-License-Identifier: MIT */
/* Feature probes: what the running kernel allows, asked with libbpf's probes
 * or the smallest create, load or attach that shows it, closed at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "btf_impl.h"
#include "perf.h"
#include "tracefs.h"

/* The few instructions the probes need, as the kernel's filter.h names them. */
#define MOV_R0(v) { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = (v) }
#define CALL(id) { .code = BPF_JMP | BPF_CALL, .imm = (id) }
#define EXIT { .code = BPF_JMP | BPF_EXIT }

/* The probes' program: the smallest a verifier accepts for any type. */
static const struct bpf_insn RET0[] = { MOV_R0(0), EXIT };

/* The kernel function probes attach to: present in every kernel, traceable. */
#define PROBE_FUNC "vfs_read"

static const struct {
	int e;
	const char *name;
} ERRNAMES[] = {
	{ EPERM, "EPERM" },     { ENOENT, "ENOENT" },   { ESRCH, "ESRCH" },           { EBADF, "EBADF" },
	{ ENOMEM, "ENOMEM" },   { EACCES, "EACCES" },   { EFAULT, "EFAULT" },         { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" },   { ENODEV, "ENODEV" },   { EINVAL, "EINVAL" },         { E2BIG, "E2BIG" },
	{ ENOSYS, "ENOSYS" },   { ENOSPC, "ENOSPC" },   { EOPNOTSUPP, "EOPNOTSUPP" }, { EBPFDSL_ENOTSUPP, "ENOTSUPP" },
};

static const char *errname(int e)
{
	for (size_t i = 0; i < sizeof(ERRNAMES) / sizeof(ERRNAMES[0]); i++)
		if (ERRNAMES[i].e == e)
			return ERRNAMES[i].name;
	return "?";
}

/* What an errno means for a feature, in the words the feature table uses. */
static const char *meaning(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		/* a kernel refusal only when this process holds what bpf(2) asks */
		return ebpfdsl_privileged() ? "not permitted here" : "not permitted for this process (no CAP_BPF)";
	case EINVAL:
		return "not known to this kernel";
	case EOPNOTSUPP:
	case EBPFDSL_ENOTSUPP:
		return "not supported by this kernel";
	case ENOENT:
	case ENODEV:
		return "missing from this kernel";
	default:
		return ebpfdsl_strerror(e);
	}
}

/* Fills why with "<meaning> (<ERRNAME>)[: detail]"; returns -e. */
__attribute__((format(printf, 4, 5))) static int refuse(char *why, size_t len, int e, const char *fmt, ...)
{
	char detail[200] = "";
	va_list ap;

	if (e < 0)
		e = -e;
	if (e == 0)
		e = EINVAL;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (why && len)
		snprintf(why, len, "%s (%s)%s%s", meaning(e), errname(e), detail[0] ? ": " : "", detail);
	return -e;
}

static void clear(char *why, size_t len)
{
	if (why && len)
		why[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Map and program types, helpers                                     */

/* The smallest map of each type libbpf cannot name: its probe is ours. */
static int own_map_create(int type)
{
	struct ebpfdsl_map_create_opts o = { .sz = sizeof(o) };

	if (type == EBPFDSL_MAP_TYPE_ARENA) {
		o.flags = EBPFDSL_F_MMAPABLE;
		return ebpfdsl_map__create(type, 0, 0, 1, &o);
	}
	o.flags = BPF_F_NO_PREALLOC;
	return ebpfdsl_map__create(type, 4, 8, 0, &o);
}

/* A map (is_map) or program type libbpf knows, probed by libbpf, hushed. */
static int libbpf_probe(int is_map, int type, char *why, size_t len)
{
	struct ebpfdsl_hush h;
	int r, e;
	ebpfdsl_hush_begin(&h, NULL, 0);
	errno = 0;
	r = is_map ? libbpf_probe_bpf_map_type((enum bpf_map_type)type, NULL)
		   : libbpf_probe_bpf_prog_type((enum bpf_prog_type)type, NULL);
	e = errno;
	ebpfdsl_hush_end(&h, 0);
	if (r == 1)
		return 1;
	/* libbpf answers 0 or 1; the refused create or load left its errno */
	return refuse(why, len, r < 0 ? r : e, is_map ? "libbpf_probe_bpf_map_type" : "libbpf_probe_bpf_prog_type");
}

int ebpfdsl_probe_map_type(int type, char *why, size_t len)
{
	int fd;

	clear(why, len);
	if (!ebpfdsl_map_type_name(type))
		return refuse(why, len, EINVAL, "map type %d is unknown to ebpfdsl", type);
	if (libbpf_bpf_map_type_str((enum bpf_map_type)type))
		return libbpf_probe(1, type, why, len);
	fd = own_map_create(type);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return refuse(why, len, fd, NULL);
}

int ebpfdsl_probe_prog_type(int type, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	int r, fd;

	clear(why, len);
	if (!ebpfdsl_prog_type_name(type))
		return refuse(why, len, EINVAL, "program type %d is unknown to ebpfdsl", type);
	if (libbpf_bpf_prog_type_str((enum bpf_prog_type)type))
		return libbpf_probe(0, type, why, len);
	/* newer than libbpf: netfilter and its kin take the attach type
	 * named like the program type, when the kernel has one */
	r = ebpfdsl_attach_type_parse(ebpfdsl_prog_type_name(type));
	o.expected_attach_type = r > 0 ? (enum bpf_attach_type)r : 0;
	fd = bpf_prog_load((enum bpf_prog_type)type, NULL, "GPL", RET0, 2, &o);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return refuse(why, len, errno, NULL);
}

/* libbpf 1.1 misses the words newer verifiers use for a helper a type
 * may not call, so the log is read here. */
int ebpfdsl_probe_helper(int prog_type, int helper, char *why, size_t len)
{
	const struct bpf_insn insns[] = {
		CALL(helper),
		MOV_R0(0),
		EXIT,
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	char log[4096] = "";
	const char *hname = ebpfdsl_helper_name(helper), *tname = ebpfdsl_prog_type_name(prog_type);
	int fd, r;

	clear(why, len);
	if (!hname || !tname)
		return refuse(why, len, EINVAL, "unknown %s %d", hname ? "program type" : "helper",
			      hname ? prog_type : helper);
	r = ebpfdsl_probe_prog_type(prog_type, why, len);
	if (r != 1)
		return r;
	o.log_buf = log;
	o.log_size = sizeof(log);
	o.log_level = 1;
	fd = bpf_prog_load((enum bpf_prog_type)prog_type, NULL, "GPL", insns, 3, &o);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (strstr(log, "invalid func") || strstr(log, "unknown func") || strstr(log, "cannot use helper"))
		return refuse(why, len, EOPNOTSUPP, "%s programs may not call %s", tname, hname);
	/* any other complaint (its arguments) means the call itself is known */
	return 1;
}

int ebpfdsl_probe_test_run(char *why, size_t len)
{
	const struct bpf_insn insns[] = {
		MOV_R0(5),
		EXIT,
	};
	char data[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t);
	int fd, e;

	clear(why, len);
	t.data_in = data;
	t.data_size_in = sizeof(data);
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, NULL);
	if (fd < 0)
		return refuse(why, len, errno, "load of a socket_filter program");
	e = bpf_prog_test_run_opts(fd, &t) ? errno : 0;
	close(fd);
	if (e)
		return refuse(why, len, e, "BPF_PROG_TEST_RUN");
	if (t.retval != 5)
		return refuse(why, len, EINVAL, "BPF_PROG_TEST_RUN returned %u, not 5", t.retval);
	return 1;
}

int ebpfdsl_probe_btf(char *why, size_t len)
{
	clear(why, len);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return refuse(why, len, errno, "/sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF)");
	/* the shared parse, which the BTF a spec then uses is */
	if (!ebpfdsl_btf__vmlinux())
		return refuse(why, len, errno, "reading the kernel's BTF");
	return 1;
}

/* ------------------------------------------------------------------ */
/* Attach kinds: a program of the kind loaded, then attached          */

/* Each attach_* returns an fd whose close detaches, or -errno with why. */
typedef int (*attach_fn)(int prog_fd, char *why, size_t len);

static int perf_probe(int prog_fd, struct perf_event_attr *attr, int pid, int cpu, const char *what, char *why,
		      size_t len)
{
	int pfd = ebpfdsl__perf_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC), e;

	if (pfd < 0)
		return refuse(why, len, errno, "perf_event_open of %s", what);
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0) {
		e = errno;
		close(pfd);
		return refuse(why, len, e, "PERF_EVENT_IOC_SET_BPF on %s", what);
	}
	return pfd;
}

/* The probes' tracepoint, syscalls/sys_enter_getppid, as a perf event
 * attribute (its id from tracefs); 0 or -errno with why. */
static int getppid_tracepoint(struct perf_event_attr *a, char *why, size_t len)
{
	const char *dir = ebpfdsl__tracefs_dir();
	char path[256], buf[32] = "";
	int fd, n;

	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = PERF_TYPE_TRACEPOINT;
	a->sample_period = 1;
	if (!dir)
		return refuse(why, len, ENOENT, "no tracefs (mounted at /sys/kernel/tracing or in debugfs)");
	snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_getppid/id", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return refuse(why, len, errno, "%s", path);
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || sscanf(buf, "%llu", (unsigned long long *)&a->config) != 1)
		return refuse(why, len, EINVAL, "%s holds no id", path);
	return 0;
}

static int attach_tracepoint(int prog_fd, char *why, size_t len)
{
	struct perf_event_attr a;
	int e = getppid_tracepoint(&a, why, len);

	if (e < 0)
		return e;
	/* this process only: nothing else on the machine runs the program */
	return perf_probe(prog_fd, &a, getpid(), -1, "syscalls/sys_enter_getppid", why, len);
}

static int attach_raw_tracepoint(int prog_fd, char *why, size_t len)
{
	int fd = bpf_raw_tracepoint_open("sys_enter", prog_fd);
	return fd >= 0 ? fd : refuse(why, len, errno, "bpf_raw_tracepoint_open of sys_enter");
}

/* tracing and lsm programs: the target came with the load */
static int attach_btf(int prog_fd, char *why, size_t len)
{
	int fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	return fd >= 0 ? fd : refuse(why, len, errno, "bpf_raw_tracepoint_open (a BPF trampoline)");
}

static int attach_iter(int prog_fd, char *why, size_t len)
{
	int fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, NULL);
	return fd >= 0 ? fd : refuse(why, len, errno, "bpf_link_create(BPF_TRACE_ITER) on task");
}

static int attach_perf_event(int prog_fd, char *why, size_t len)
{
	struct perf_event_attr a = { .size = sizeof(a), .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK,
				     .sample_period = 1000000000ULL };
	return perf_probe(prog_fd, &a, getpid(), -1, "a cpu-clock software event", why, len);
}

static int attach_socket(int prog_fd, char *why, size_t len)
{
	int sv[2], e;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return refuse(why, len, errno, "socketpair");
	close(sv[1]);
	if (setsockopt(sv[0], SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0) {
		e = errno;
		close(sv[0]);
		return refuse(why, len, e, "SO_ATTACH_BPF");
	}
	return sv[0];
}

/* uprobes on getpid in this process's C library, for this process only */
static int uprobe(int prog_fd, int ret, char *why, size_t len)
{
	struct perf_event_attr a = { .size = sizeof(a), .sample_period = 1 };
	char path[4096], err[256];
	uint64_t off;
	int type = ebpfdsl__pmu_type("uprobe"), bit, e;

	if (type < 0)
		return refuse(why, len, type, "no uprobe PMU (/sys/bus/event_source/devices/uprobe)");
	e = ebpfdsl_find_binary("c", path, sizeof(path));
	if (e < 0)
		return refuse(why, len, e, "finding this process's C library");
	e = ebpfdsl_elf_symbol_offset(path, "getpid", &off, err, sizeof(err));
	if (e < 0)
		return refuse(why, len, e, "%s", err);
	if (ret) {
		bit = ebpfdsl__pmu_retprobe_bit("uprobe");
		if (bit < 0)
			return refuse(why, len, bit, "the uprobe PMU has no retprobe format");
		a.config |= 1ULL << bit;
	}
	a.type = (unsigned)type;
	a.config1 = (uint64_t)(unsigned long)path;
	a.config2 = off;
	return perf_probe(prog_fd, &a, getpid(), -1, "getpid in the C library", why, len);
}

static int attach_uprobe(int prog_fd, char *why, size_t len)
{
	return uprobe(prog_fd, 0, why, len);
}

static int attach_uretprobe(int prog_fd, char *why, size_t len)
{
	return uprobe(prog_fd, 1, why, len);
}

static int kprobe(int prog_fd, int ret, char *why, size_t len)
{
	struct perf_event_attr a = { .size = sizeof(a), .sample_period = 1 };
	int type = ebpfdsl__pmu_type("kprobe"), bit;

	if (type < 0)
		return refuse(why, len, type, "no kprobe PMU (/sys/bus/event_source/devices/kprobe; CONFIG_KPROBES)");
	if (ret) {
		bit = ebpfdsl__pmu_retprobe_bit("kprobe");
		if (bit < 0)
			return refuse(why, len, bit, "the kprobe PMU has no retprobe format");
		a.config |= 1ULL << bit;
	}
	a.type = (unsigned)type;
	a.config1 = (uint64_t)(unsigned long)PROBE_FUNC;
	return perf_probe(prog_fd, &a, getpid(), -1, ret ? "a kretprobe on " PROBE_FUNC : "a kprobe on " PROBE_FUNC,
			  why, len);
}

static int attach_kprobe(int prog_fd, char *why, size_t len)
{
	return kprobe(prog_fd, 0, why, len);
}

static int attach_kretprobe(int prog_fd, char *why, size_t len)
{
	return kprobe(prog_fd, 1, why, len);
}

/* The legacy path: a probe defined in tracefs kprobe_events, then removed. */
static int attach_kprobe_events(int prog_fd, char *why, size_t len)
{
	const char *dir = ebpfdsl__tracefs_dir();
	char path[256], def[128];
	int fd, e = 0;

	(void)prog_fd;
	if (!dir)
		return refuse(why, len, ENOENT, "no tracefs");
	snprintf(path, sizeof(path), "%s/kprobe_events", dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return refuse(why, len, errno, "%s", path);
	snprintf(def, sizeof(def), "p:ebpfdsl_probe/p%d " PROBE_FUNC "\n", (int)getpid());
	if (write(fd, def, strlen(def)) < 0)
		e = errno;
	else {
		snprintf(def, sizeof(def), "-:ebpfdsl_probe/p%d\n", (int)getpid());
		if (write(fd, def, strlen(def)) < 0)
			e = errno;
	}
	if (e) {
		close(fd);
		return refuse(why, len, e, "writing a probe on " PROBE_FUNC " to %s", path);
	}
	return fd;
}

static int attach_kprobe_multi(int prog_fd, char *why, size_t len)
{
	const char *syms[] = { PROBE_FUNC };
	LIBBPF_OPTS(bpf_link_create_opts, o);
	int fd;

	o.kprobe_multi.syms = syms;
	o.kprobe_multi.cnt = 1;
	fd = bpf_link_create(prog_fd, 0, BPF_TRACE_KPROBE_MULTI, &o);
	return fd >= 0 ? fd
		       : refuse(why, len, errno, "bpf_link_create(BPF_TRACE_KPROBE_MULTI) on " PROBE_FUNC
						 " (CONFIG_FPROBE)");
}

/* BPF_TRACE_UPROBE_MULTI (6.6) is newer than libbpf 1.1 and the 6.1
 * headers: the link_create attribute as the kernel lays it out. */
struct uprobe_multi_attr {
	uint32_t prog_fd, target_fd, attach_type, link_flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, flags, pid;
};

static int attach_uprobe_multi(int prog_fd, char *why, size_t len)
{
	struct uprobe_multi_attr a;
	char path[4096], err[256];
	uint64_t off;
	int type = ebpfdsl_prog_def__attach_type(ebpfdsl_prog_def_find("uprobe_multi")), e, fd;

	if (type < 0)
		return refuse(why, len, EINVAL, "the kernel names no attach type trace_uprobe_multi");
	e = ebpfdsl_find_binary("c", path, sizeof(path));
	if (e < 0)
		return refuse(why, len, e, "finding this process's C library");
	e = ebpfdsl_elf_symbol_offset(path, "getpid", &off, err, sizeof(err));
	if (e < 0)
		return refuse(why, len, e, "%s", err);
	memset(&a, 0, sizeof(a));
	a.prog_fd = (uint32_t)prog_fd;
	a.attach_type = (uint32_t)type;
	a.path = (uint64_t)(unsigned long)path;
	a.offsets = (uint64_t)(unsigned long)&off;
	a.cnt = 1;
	a.pid = (uint32_t)getpid();
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd >= 0 ? fd : refuse(why, len, errno, "bpf_link_create(BPF_TRACE_UPROBE_MULTI) on getpid in the C library");
}

/* sk_msg on a sockmap: a link where the kernel has them (6.10), else
 * BPF_PROG_ATTACH on the map, which a close of the map undoes. */
static int attach_sockmap(int prog_fd, char *why, size_t len)
{
	int map = bpf_map_create(BPF_MAP_TYPE_SOCKMAP, NULL, 4, 4, 1, NULL), fd, e;

	if (map < 0)
		return refuse(why, len, errno, "create of a sockmap");
	fd = bpf_link_create(prog_fd, map, BPF_SK_MSG_VERDICT, NULL);
	if (fd >= 0) {
		close(map);
		return fd;
	}
	if (bpf_prog_attach(prog_fd, map, BPF_SK_MSG_VERDICT, 0) == 0)
		return map;
	e = errno;
	close(map);
	return refuse(why, len, e, "attach of an sk_msg program to a sockmap");
}

/* A tcp_congestion_ops of three trivial programs, registered under a name
 * of this process's own, then unregistered: what struct_ops needs of a
 * kernel (BTF of the type, trampolines for its members). */
static int struct_ops_member(const ebpfdsl_btf *b, int sid, const char *name, uint32_t *bit)
{
	const struct btf_type *t = ebpfdsl__btf_type(b, (uint32_t)sid);
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (strcmp(ebpfdsl__btf_str(b, m->name_off), name) == 0) {
			*bit = btf_member_bit_offset(t, (uint32_t)i);
			return i;
		}
	return -ENOENT;
}

static int attach_struct_ops(int prog_fd, char *why, size_t len)
{
	static const char *const members[] = { "ssthresh", "undo_cwnd", "cong_avoid" };
	const ebpfdsl_btf *b = ebpfdsl_btf__vmlinux(); /* shared, not freed here */
	int sid, vid, map = -1, progs[3] = { prog_fd, -1, -1 }, e = 0, i;
	uint32_t zero = 0, data_bit = 0, bit, size;
	char value[4096], *data;

	if (!b)
		return refuse(why, len, errno, "the kernel's BTF");
	sid = ebpfdsl__btf_find_kind(b, "tcp_congestion_ops", BTF_KIND_STRUCT);
	vid = ebpfdsl__btf_find_kind(b, "bpf_struct_ops_tcp_congestion_ops", BTF_KIND_STRUCT);
	size = vid > 0 ? ebpfdsl__btf_type(b, (uint32_t)vid)->size : 0;
	if (sid < 0 || vid < 0 || size > sizeof(value) || struct_ops_member(b, vid, "data", &data_bit) < 0) {
		return refuse(why, len, ENOENT, "no bpf_struct_ops_tcp_congestion_ops in the kernel's BTF");
	}
	memset(value, 0, sizeof(value));
	data = value + data_bit / 8;
	for (i = 0; i < 3 && !e; i++) {
		int idx = struct_ops_member(b, sid, members[i], &bit);
		if (idx < 0) {
			e = -refuse(why, len, ENOENT, "no tcp_congestion_ops.%s", members[i]);
			break;
		}
		if (i > 0) {
			LIBBPF_OPTS(bpf_prog_load_opts, o);
			o.expected_attach_type = (enum bpf_attach_type)idx;
			o.attach_btf_id = (unsigned)sid;
			progs[i] = bpf_prog_load(BPF_PROG_TYPE_STRUCT_OPS, NULL, "GPL", RET0, 2, &o);
			if (progs[i] < 0)
				e = -refuse(why, len, errno, "load of a struct_ops program for %s", members[i]);
		}
		if (!e) {
			uint64_t fd = (uint64_t)progs[i];
			memcpy(data + bit / 8, &fd, sizeof(fd));
		}
	}
	if (!e && struct_ops_member(b, sid, "name", &bit) >= 0)
		snprintf(data + bit / 8, 16, "edslf%d", (int)(getpid() % 1000000));
	if (!e) {
		/* as maps are made: the kernel wants some user BTF beside the value type */
		struct ebpfdsl_map_create_opts mo = { .sz = sizeof(mo), .name = "probe_ops" };
		mo.btf_vmlinux_value_type_id = (unsigned)vid;
		map = ebpfdsl_map__create(BPF_MAP_TYPE_STRUCT_OPS, 4, size, 1, &mo);
		if (map < 0)
			e = -refuse(why, len, map, "create of a struct_ops map of tcp_congestion_ops");
	}
	if (!e && bpf_map_update_elem(map, &zero, value, 0) < 0)
		e = -refuse(why, len, errno, "registering a tcp_congestion_ops (its map's update)");
	else if (!e)
		bpf_map_delete_elem(map, &zero); /* unregistered again */
	for (i = 1; i < 3; i++)
		if (progs[i] >= 0)
			close(progs[i]);
	if (e) {
		if (map >= 0)
			close(map);
		return -e;
	}
	return map;
}

/* One row per kind: the program loaded for it (a row of prog_defs.c,
 * which gives its type and expected attach type), the target it loads
 * for (resolved as that row says), and how it attaches.
 * ORDER: the kinds attach.kinds() lists. */
static const struct kind {
	const char *name;
	const char *def;       /* the prog_defs.c row it loads as */
	const char *attach_to; /* its target, or NULL */
	attach_fn attach;
} KINDS[] = {
	{ "socket", "socket_filter", NULL, attach_socket },
	{ "tracepoint", "tracepoint", NULL, attach_tracepoint },
	{ "raw_tracepoint", "raw_tracepoint", NULL, attach_raw_tracepoint },
	{ "tp_btf", "tp_btf", "sched_switch", attach_btf },
	{ "perf_event", "perf_event", NULL, attach_perf_event },
	{ "uprobe", "kprobe", NULL, attach_uprobe },
	{ "uretprobe", "kprobe", NULL, attach_uretprobe },
	{ "uprobe_multi", "uprobe_multi", NULL, attach_uprobe_multi },
	{ "kprobe", "kprobe", NULL, attach_kprobe },
	{ "kretprobe", "kprobe", NULL, attach_kretprobe },
	{ "kprobe_events", "kprobe", NULL, attach_kprobe_events },
	{ "kprobe_multi", "kprobe_multi", NULL, attach_kprobe_multi },
	{ "fentry", "fentry", PROBE_FUNC, attach_btf },
	{ "fexit", "fexit", PROBE_FUNC, attach_btf },
	/* fmod_ret: security_ hooks are modifiable on every kernel with BPF
	 * trampolines; other functions (bpf_modify_return_test) only with
	 * CONFIG_FUNCTION_ERROR_INJECTION, which Debian's kernels lack. A
	 * program returning 0 lets the hook run. */
	{ "fmod_ret", "fmod_ret", "security_file_open", attach_btf },
	{ "lsm", "lsm", "file_open", attach_btf },
	{ "iter", "iter", "task", attach_iter },
	{ "sockmap", "sk_msg", NULL, attach_sockmap },
	/* member 0 of tcp_congestion_ops */
	{ "struct_ops", "struct_ops", "tcp_congestion_ops.ssthresh", attach_struct_ops },
};

const char *ebpfdsl_probe_kind_name(size_t i)
{
	return i < sizeof(KINDS) / sizeof(KINDS[0]) ? KINDS[i].name : NULL;
}

/* A program for the kind, loaded: its fd, or -errno with why. */
static int kind_load(const struct kind *k, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_find(k->def);
	int type = ebpfdsl_prog_def__type(d), attach = ebpfdsl_prog_def__attach_type(d), fd;

	if (type < 0)
		return refuse(why, len, EINVAL, "the kernel names no program type %s", d ? d->prog_type : k->def);
	if (attach < -1)
		return refuse(why, len, EINVAL, "the kernel names no attach type %s", d->attach_type);
	o.expected_attach_type = attach < 0 ? 0 : (enum bpf_attach_type)attach;
	if (k->attach_to) {
		int eat = attach < 0 ? 0 : attach, e;
		unsigned id;
		struct ebpfdsl_hush h;
		ebpfdsl_hush_begin(&h, NULL, 0);
		e = ebpfdsl_prog_resolve_attach(type, k->attach_to, NULL, &eat, &id);
		ebpfdsl_hush_end(&h, 0);
		if (e == -ENOENT)
			return refuse(why, len, ENOENT, "no %s %s in the kernel's BTF", d->target, k->attach_to);
		if (e < 0)
			return refuse(why, len, e, "%s needs the kernel's BTF (/sys/kernel/btf/vmlinux)", k->name);
		o.expected_attach_type = (enum bpf_attach_type)eat;
		o.attach_btf_id = id;
	}
	fd = bpf_prog_load((enum bpf_prog_type)type, NULL, "GPL", RET0, 2, &o);
	if (fd < 0)
		return refuse(why, len, errno, "load of a %s program%s%s", d->prog_type, k->attach_to ? " for " : "",
			      k->attach_to ? k->attach_to : "");
	return fd;
}

int ebpfdsl_probe_kind(const char *kind, int attach, char *why, size_t len)
{
	const struct kind *k = NULL;
	int prog, fd;

	clear(why, len);
	for (size_t i = 0; kind && i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
		if (strcmp(KINDS[i].name, kind) == 0)
			k = &KINDS[i];
	if (!k)
		return refuse(why, len, EINVAL, "no probe for the kind '%s'", kind ? kind : "(null)");
	prog = kind_load(k, why, len);
	if (prog < 0 || !attach) {
		if (prog >= 0)
			close(prog);
		return prog < 0 ? prog : 1;
	}
	fd = k->attach(prog, why, len);
	close(prog);
	if (fd < 0)
		return fd;
	close(fd);
	return 1;
}

/* ------------------------------------------------------------------ */
/* What the kernel says about a link                                  */

/* bpf_link_info's perf_event member (6.6) for a tracepoint, as the kernel
 * lays it out; the 6.1 headers lack it. */
struct perf_link_info {
	uint32_t type, id, prog_id, pad;
	uint32_t perf_event_type, pad2; /* enum bpf_perf_event_type */
	uint64_t tp_name;
	uint32_t name_len, pad3;
	uint64_t cookie;
};
#define BPF_PERF_EVENT_TRACEPOINT_ 5

int ebpfdsl_probe_perf_link_info(char *why, size_t len)
{
	const struct kind *k = NULL;
	struct perf_event_attr a;
	struct perf_link_info info;
	uint32_t info_len = sizeof(info);
	char name[64] = "";
	int prog, pfd, lfd, e;

	clear(why, len);
	for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
		if (strcmp(KINDS[i].name, "tracepoint") == 0)
			k = &KINDS[i];
	e = getppid_tracepoint(&a, why, len);
	if (e < 0)
		return e;
	prog = kind_load(k, why, len);
	if (prog < 0)
		return prog;
	pfd = ebpfdsl__perf_open(&a, getpid(), -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		e = refuse(why, len, errno, "perf_event_open of syscalls/sys_enter_getppid");
		close(prog);
		return e;
	}
	lfd = bpf_link_create(prog, pfd, BPF_PERF_EVENT, NULL);
	e = lfd < 0 ? errno : 0;
	close(prog);
	if (lfd < 0) {
		close(pfd);
		return refuse(why, len, e, "bpf_link_create(BPF_PERF_EVENT) on syscalls/sys_enter_getppid (5.15+)");
	}
	memset(&info, 0, sizeof(info));
	info.tp_name = (uint64_t)(unsigned long)name;
	info.name_len = sizeof(name);
	e = bpf_obj_get_info_by_fd(lfd, &info, &info_len) < 0 ? errno : 0;
	close(lfd);
	close(pfd);
	if (e)
		return refuse(why, len, e, "BPF_OBJ_GET_INFO_BY_FD of a perf-event link");
	/* kernels before 6.6 fill in the link's type and ids only */
	if (info.perf_event_type != BPF_PERF_EVENT_TRACEPOINT_ || strcmp(name, "sys_enter_getppid") != 0)
		return refuse(why, len, EOPNOTSUPP,
			      "a perf-event link's info names no event (type %u, name '%s'; 6.6+ name it)",
			      info.perf_event_type, name);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Instructions the verifier knows                                    */

/* One row per instruction family: a socket filter using it once, the
 * release that taught the verifier it, and, for an instruction the kernel
 * refuses outside its context, the words of the log that show the
 * verifier knew it (addr_space_cast wants an arena with the program). */
static const struct insn_probe {
	const char *name;
	const char *since;
	const char *known_if_log_has;
	struct bpf_insn prog[5];
	unsigned n;
} INSNS[] = {
	/* r0 = (s8)r0: movsx, the v4 ALU form whose absence reads "reserved fields" */
	{ "v4", "6.6", NULL,
	  { MOV_R0(0), { .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 0, .src_reg = 0, .off = 8 }, EXIT }, 3 },
	/* *(u64 *)(r10 - 8) = 0; r0 = load_acquire((u64 *)(r10 - 8)) */
	{ "load_acquire", "6.15", NULL,
	  { { .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -8 },
	    { .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = 0, .src_reg = BPF_REG_10, .off = -8, .imm = 0x100 },
	    EXIT },
	  3 },
	/* r0 = 0; may_goto +1; r0 = 0 */
	{ "may_goto", "6.9", NULL, { MOV_R0(0), { .code = BPF_JMP | 0xe0, .off = 1 }, MOV_R0(0), EXIT }, 4 },
	/* r0 = addr_space_cast(r0, 0, 1): refused without an arena, by name */
	{ "addr_space_cast", "6.9", "addr_space_cast",
	  { MOV_R0(0), { .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 0, .src_reg = 0, .off = 1, .imm = 1 }, EXIT },
	  3 },
};

const char *ebpfdsl_probe_insn_name(size_t i)
{
	return i < sizeof(INSNS) / sizeof(INSNS[0]) ? INSNS[i].name : NULL;
}

int ebpfdsl_probe_insn(const char *name, char *why, size_t len)
{
	const struct insn_probe *p = NULL;
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	char log[4096] = "", *last, *nl;
	int fd, e;

	clear(why, len);
	for (size_t i = 0; name && i < sizeof(INSNS) / sizeof(INSNS[0]); i++)
		if (strcmp(INSNS[i].name, name) == 0)
			p = &INSNS[i];
	if (!p)
		return refuse(why, len, EINVAL, "no probe for the instruction '%s'", name ? name : "(null)");
	o.log_buf = log;
	o.log_size = sizeof(log);
	o.log_level = 1;
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", p->prog, p->n, &o);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	e = errno;
	if (p->known_if_log_has && strstr(log, p->known_if_log_has))
		return 1;
	/* the verifier's last line before its counts ("processed N insns") says why */
	for (;;) {
		while ((nl = strrchr(log, '\n')) && nl[1] == '\0')
			*nl = '\0';
		last = strrchr(log, '\n');
		last = last ? last + 1 : log;
		if (last == log || (strncmp(last, "processed ", 10) != 0 && strncmp(last, "verification time", 17) != 0))
			break;
		*last = '\0';
	}
	return refuse(why, len, e, "a socket filter using %s (%s+): %s", p->name, p->since,
		      *last ? last : "(no verifier log)");
}
