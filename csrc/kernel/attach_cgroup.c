/* SPDX-License-Identifier: MIT */
/* Attach points named by a file: cgroup v2 directories (bpf links, else
 * BPF_PROG_ATTACH), network namespaces (sk_lookup, flow_dissector). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "link.h"

int ebpfdsl_attach_cgroup(int prog_fd, const char *path, int attach_type, ebpfdsl_link **out, char *err,
			  size_t errlen)
{
	const char *tname = ebpfdsl_attach_type_name(attach_type);
	struct statfs st;
	int cg, e;

	if (!tname)
		return ebpfdsl__err(err, errlen, EINVAL, "cgroup attach: unknown attach type %d", attach_type);
	if (!path || !*path)
		return ebpfdsl__err(err, errlen, EINVAL, "cgroup %s: a cgroup directory is needed", tname);
	cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return ebpfdsl__err(err, errlen, errno, "cgroup %s on %s", tname, path);
	if (fstatfs(cg, &st) == 0 && st.f_type != CGROUP2_SUPER_MAGIC) {
		close(cg);
		return ebpfdsl__err(err, errlen, EINVAL,
				"cgroup %s on %s: not a cgroup v2 directory (BPF attaches to cgroup2; see the "
				"cgroup2 line of /proc/mounts)",
				tname, path);
	}
	/* BPF_PROG_ATTACH with ALLOW_MULTI, where there are no cgroup links,
	 * lives beside other programs */
	e = -ebpfdsl__prog_attach(prog_fd, cg, attach_type, BPF_F_ALLOW_MULTI, EBPFDSL_LINK_CGROUP, out, "%s %s",
				  path, tname);
	if (e == 0) {
		close(cg);
		return 0;
	}
	close(cg);
	if (e == EINVAL)
		return ebpfdsl__err(err, errlen, e,
				"cgroup %s on %s: refused (the program's type or expected_attach_type does not "
				"fit %s)",
				tname, path, tname);
	return ebpfdsl__err(err, errlen, e, "cgroup %s on %s", tname, path);
}

int ebpfdsl_attach_netns(int prog_fd, const char *netns_path, int attach_type, ebpfdsl_link **out, char *err,
			 size_t errlen)
{
	const char *tname = ebpfdsl_attach_type_name(attach_type);
	const char *path = netns_path && *netns_path ? netns_path : "/proc/self/ns/net";
	struct ebpfdsl_link *l;
	int ns, fd, e;

	if (!tname)
		return ebpfdsl__err(err, errlen, EINVAL, "netns attach: unknown attach type %d", attach_type);
	if (attach_type != BPF_SK_LOOKUP && attach_type != BPF_FLOW_DISSECTOR)
		return ebpfdsl__err(err, errlen, EINVAL,
				"netns attach: %s is not a network namespace attach type (sk_lookup, "
				"flow_dissector)",
				tname);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return ebpfdsl__err(err, errlen, errno, "%s on network namespace %s", tname, path);
	fd = bpf_link_create(prog_fd, ns, (enum bpf_attach_type)attach_type, NULL);
	e = errno;
	close(ns);
	if (fd < 0) {
		if (e == EINVAL)
			return ebpfdsl__err(err, errlen, e,
					"%s on network namespace %s: refused (is it a netns file? is the program "
					"of type %s with that expected_attach_type?)",
					tname, path, attach_type == BPF_SK_LOOKUP ? "sk_lookup" : "flow_dissector");
		if (e == EEXIST || e == E2BIG)
			return ebpfdsl__err(err, errlen, e, "%s on network namespace %s: one is attached there already",
					tname, path);
		return ebpfdsl__err(err, errlen, e, "%s on network namespace %s", tname, path);
	}
	l = ebpfdsl__link_new(EBPFDSL_LINK_NETNS, "%s %s", path, tname);
	if (!l) {
		close(fd);
		return ebpfdsl__err(err, errlen, ENOMEM, "%s on %s", tname, path);
	}
	l->fd = fd;
	*out = l;
	return 0;
}
