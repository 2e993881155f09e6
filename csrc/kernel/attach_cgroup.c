/* SPDX-License-Identifier: MIT */
/* Attach points named by a file: cgroup v2 directories (bpf links, else
 * BPF_PROG_ATTACH), network namespaces (sk_lookup, flow_dissector). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "link.h"

/* Before cgroup links, BPF_PROG_ATTACH: undone by detaching this program
 * (our dup of its fd) from this cgroup (our fd of it) for this type. */
struct cgroup_prog_link {
	struct ebpfdsl_link link;
	int prog_fd, cgroup_fd, attach_type;
};

static int cgroup_prog_detach(struct ebpfdsl_link *l)
{
	struct cgroup_prog_link *c = (struct cgroup_prog_link *)(void *)l;
	int err = 0;
	if (c->prog_fd >= 0 &&
	    bpf_prog_detach2(c->prog_fd, c->cgroup_fd, (enum bpf_attach_type)c->attach_type) < 0)
		err = -errno;
	if (c->prog_fd >= 0)
		close(c->prog_fd);
	if (c->cgroup_fd >= 0)
		close(c->cgroup_fd);
	c->prog_fd = c->cgroup_fd = -1;
	return err;
}

static const struct ebpfdsl_link_ops cgroup_prog_ops = { .detach = cgroup_prog_detach };

/* The link for a program that BPF_PROG_ATTACH put on cg: it takes cg;
 * 0, or -errno with the program detached and cg closed. */
static int cgroup_prog_link(int prog_fd, int cg, int attach_type, const char *path, const char *tname,
			    ebpfdsl_link **out, char *err, size_t errlen)
{
	struct cgroup_prog_link *c;
	int dup, e;

	dup = fcntl(prog_fd, F_DUPFD_CLOEXEC, 3);
	c = dup < 0 ? NULL
		    : (struct cgroup_prog_link *)(void *)ebpfdsl__link_new_ops(&cgroup_prog_ops, sizeof(*c),
									EBPFDSL_LINK_CGROUP, "%s %s", path, tname);
	if (!c) {
		e = dup < 0 ? errno : ENOMEM;
		bpf_prog_detach2(prog_fd, cg, (enum bpf_attach_type)attach_type);
		if (dup >= 0)
			close(dup);
		close(cg);
		if (dup < 0)
			return ebpfdsl__link_err(err, errlen, e, "cgroup %s on %s: dup of the program fd", tname, path);
		return ebpfdsl__link_err(err, errlen, e, "cgroup %s on %s", tname, path);
	}
	c->prog_fd = dup;
	c->cgroup_fd = cg;
	c->attach_type = attach_type;
	*out = &c->link;
	return 0;
}

int ebpfdsl_attach_cgroup(int prog_fd, const char *path, int attach_type, ebpfdsl_link **out, char *err,
			  size_t errlen)
{
	const char *tname = ebpfdsl_attach_type_name(attach_type);
	struct ebpfdsl_link *l;
	struct statfs st;
	int cg, fd, e;

	if (!tname)
		return ebpfdsl__link_err(err, errlen, EINVAL, "cgroup attach: unknown attach type %d", attach_type);
	if (!path || !*path)
		return ebpfdsl__link_err(err, errlen, EINVAL, "cgroup %s: a cgroup directory is needed", tname);
	cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return ebpfdsl__link_err(err, errlen, errno, "cgroup %s on %s", tname, path);
	if (fstatfs(cg, &st) == 0 && st.f_type != CGROUP2_SUPER_MAGIC) {
		close(cg);
		return ebpfdsl__link_err(err, errlen, EINVAL,
				"cgroup %s on %s: not a cgroup v2 directory (BPF attaches to cgroup2; see the "
				"cgroup2 line of /proc/mounts)",
				tname, path);
	}
	fd = bpf_link_create(prog_fd, cg, (enum bpf_attach_type)attach_type, NULL);
	if (fd >= 0) {
		close(cg);
		l = ebpfdsl__link_new(EBPFDSL_LINK_CGROUP, "%s %s", path, tname);
		if (!l) {
			close(fd);
			return ebpfdsl__link_err(err, errlen, ENOMEM, "cgroup %s on %s", tname, path);
		}
		l->fd = fd;
		*out = l;
		return 0;
	}
	e = errno;
	if (e == EINVAL || e == EOPNOTSUPP) {
		/* before 5.7 there are no cgroup links; BPF_PROG_ATTACH with
		 * ALLOW_MULTI lives beside other programs */
		if (bpf_prog_attach(prog_fd, cg, (enum bpf_attach_type)attach_type, BPF_F_ALLOW_MULTI) == 0)
			return cgroup_prog_link(prog_fd, cg, attach_type, path, tname, out, err, errlen);
		e = errno;
	}
	close(cg);
	if (e == EINVAL)
		return ebpfdsl__link_err(err, errlen, e,
				"cgroup %s on %s: refused (the program's type or expected_attach_type does not "
				"fit %s)",
				tname, path, tname);
	return ebpfdsl__link_err(err, errlen, e, "cgroup %s on %s", tname, path);
}

int ebpfdsl_attach_netns(int prog_fd, const char *netns_path, int attach_type, ebpfdsl_link **out, char *err,
			 size_t errlen)
{
	const char *tname = ebpfdsl_attach_type_name(attach_type);
	const char *path = netns_path && *netns_path ? netns_path : "/proc/self/ns/net";
	struct ebpfdsl_link *l;
	int ns, fd, e;

	if (!tname)
		return ebpfdsl__link_err(err, errlen, EINVAL, "netns attach: unknown attach type %d", attach_type);
	if (attach_type != BPF_SK_LOOKUP && attach_type != BPF_FLOW_DISSECTOR)
		return ebpfdsl__link_err(err, errlen, EINVAL,
				"netns attach: %s is not a network namespace attach type (sk_lookup, "
				"flow_dissector)",
				tname);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return ebpfdsl__link_err(err, errlen, errno, "%s on network namespace %s", tname, path);
	fd = bpf_link_create(prog_fd, ns, (enum bpf_attach_type)attach_type, NULL);
	e = errno;
	close(ns);
	if (fd < 0) {
		if (e == EINVAL)
			return ebpfdsl__link_err(err, errlen, e,
					"%s on network namespace %s: refused (is it a netns file? is the program "
					"of type %s with that expected_attach_type?)",
					tname, path, attach_type == BPF_SK_LOOKUP ? "sk_lookup" : "flow_dissector");
		if (e == EEXIST || e == E2BIG)
			return ebpfdsl__link_err(err, errlen, e, "%s on network namespace %s: one is attached there already",
					tname, path);
		return ebpfdsl__link_err(err, errlen, e, "%s on network namespace %s", tname, path);
	}
	l = ebpfdsl__link_new(EBPFDSL_LINK_NETNS, "%s %s", path, tname);
	if (!l) {
		close(fd);
		return ebpfdsl__link_err(err, errlen, ENOMEM, "%s on %s", tname, path);
	}
	l->fd = fd;
	*out = l;
	return 0;
}
