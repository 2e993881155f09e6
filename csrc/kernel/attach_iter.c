/* SPDX-License-Identifier: MIT */
/* BPF iterators: a BPF_TRACE_ITER link with its parameters (a map, a
 * task, a cgroup), and fresh readable fds of its output. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "link.h"

int ebpfdsl_attach_iter(int prog_fd, const struct ebpfdsl_iter_opts *opts, ebpfdsl_link **out, char *err,
			size_t errlen)
{
	struct ebpfdsl_iter_opts o = { .sz = sizeof(o) };
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	union bpf_iter_link_info info;
	struct bpf_prog_info pinfo;
	__u32 plen = sizeof(pinfo);
	struct ebpfdsl_link *l;
	char what[128];
	int fd, e;

	EBPFDSL_OPTS_COPY(o, opts);
	memset(&info, 0, sizeof(info));
	memset(&pinfo, 0, sizeof(pinfo));
	bpf_obj_get_info_by_fd(prog_fd, &pinfo, &plen);
	if (o.map_fd > 0) {
		info.map.map_fd = (__u32)o.map_fd;
		snprintf(what, sizeof(what), "iterator '%s' over map fd %d", pinfo.name, o.map_fd);
	} else if (o.tid || o.pid) {
		info.task.tid = o.tid;
		info.task.pid = o.pid;
		snprintf(what, sizeof(what), "iterator '%s' over %s %u", pinfo.name, o.tid ? "thread" : "process",
			 o.tid ? o.tid : o.pid);
	} else if (o.cgroup_fd > 0) {
		info.cgroup.cgroup_fd = (__u32)o.cgroup_fd;
		info.cgroup.order = (enum bpf_cgroup_iter_order)o.order;
		snprintf(what, sizeof(what), "iterator '%s' over cgroup fd %d", pinfo.name, o.cgroup_fd);
	} else {
		snprintf(what, sizeof(what), "iterator '%s'", pinfo.name);
	}
	if (o.map_fd > 0 || o.tid || o.pid || o.cgroup_fd > 0) {
		lo.iter_info = &info;
		lo.iter_info_len = sizeof(info);
	}
	fd = bpf_link_create(prog_fd, 0, BPF_TRACE_ITER, &lo);
	if (fd < 0) {
		e = errno;
		if (e == EINVAL)
			return ebpfdsl__err(err, errlen, e,
					"%s: refused (the program must be of type tracing, loaded with "
					"expected_attach_type trace_iter and the BTF id of bpf_iter_<target>; "
					"task parameters need 6.1+)",
					what);
		return ebpfdsl__err(err, errlen, e, "%s: bpf_link_create(BPF_TRACE_ITER)", what);
	}
	l = ebpfdsl__link_new(EBPFDSL_LINK_ITER, "%s", what + strlen("iterator "));
	if (!l) {
		close(fd);
		return ebpfdsl__err(err, errlen, ENOMEM, "%s", what);
	}
	l->fd = fd;
	*out = l;
	return 0;
}

int ebpfdsl_link__iter_open(const ebpfdsl_link *l)
{
	int fd = ebpfdsl_link__fd(l);
	if (fd < 0)
		return fd;
	if (l->kind != EBPFDSL_LINK_ITER && l->kind != EBPFDSL_LINK_PINNED)
		return -EINVAL;
	fd = bpf_iter_create(fd);
	return fd < 0 ? -errno : fd;
}
