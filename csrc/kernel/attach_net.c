/* SPDX-License-Identifier: MIT */
/* Network attach points: XDP on an interface (a bpf link, or netlink),
 * TC filters on clsact through libbpf's tc API, and socket filters. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "link.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

/* libbpf passes the kernel's netlink extack on as a warning
 * ("Kernel error message: ..."): heard through a hush, it belongs in our
 * message. */
static __thread struct ebpfdsl_hush heard;

static void quiet(void)
{
	ebpfdsl_hush_begin(&heard, NULL, 0);
}

static void unquiet(void)
{
	ebpfdsl_hush_end(&heard, 0);
}

/* " (kernel: <extack>)" when the kernel said something, else "" */
static const char *kernel_said(char *buf, size_t len)
{
	static const char tag[] = "Kernel error message: ";
	const char *p = strstr(heard.own, tag);
	if (!p)
		return "";
	p += strlen(tag);
	snprintf(buf, len, " (kernel: %.*s)", (int)strcspn(p, ";"), p);
	return buf;
}

/* XDP through netlink: detached only if our program (our dup of its fd;
 * -1 once nothing is attached) is still the one there. */
struct xdp_netlink_link {
	struct ebpfdsl_link link;
	int ifindex;
	unsigned flags;
	int prog_fd;
};

static int xdp_netlink_detach(struct ebpfdsl_link *l)
{
	struct xdp_netlink_link *x = (struct xdp_netlink_link *)(void *)l;
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	struct ebpfdsl_hush h;
	int err;
	if (x->prog_fd < 0)
		return 0;
	o.old_prog_fd = x->prog_fd;
	ebpfdsl_hush_begin(&h, NULL, 0); /* gone already: not news */
	err = bpf_xdp_detach(x->ifindex, x->flags, &o); /* libbpf adds REPLACE */
	ebpfdsl_hush_end(&h, 0);
	close(x->prog_fd);
	x->prog_fd = -1;
	return err;
}

static const struct ebpfdsl_link_ops xdp_netlink_ops = { .detach = xdp_netlink_detach };

/* A tc filter, named by its hook, handle and priority. */
struct tc_link {
	struct ebpfdsl_link link;
	int ifindex, egress;
	unsigned handle, priority;
};

static int tc_detach(struct ebpfdsl_link *l)
{
	struct tc_link *t = (struct tc_link *)(void *)l;
	struct ebpfdsl_hush h;
	int err;
	LIBBPF_OPTS(bpf_tc_hook, hook);
	hook.ifindex = t->ifindex;
	hook.attach_point = t->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	LIBBPF_OPTS(bpf_tc_opts, o);
	o.handle = t->handle;
	o.priority = t->priority;
	ebpfdsl_hush_begin(&h, NULL, 0);
	err = bpf_tc_detach(&hook, &o);
	ebpfdsl_hush_end(&h, 0);
	return err;
}

static const struct ebpfdsl_link_ops tc_ops = { .detach = tc_detach };

/* A socket filter: the user's socket (known by its inode, since the fd
 * may be closed and reused by then) and our dup of the program fd; -1
 * when nothing is attached. */
struct socket_link {
	struct ebpfdsl_link link;
	int sock_fd, prog_fd;
	dev_t dev;
	ino_t ino;
};

static int socket_detach(struct ebpfdsl_link *l)
{
	struct socket_link *s = (struct socket_link *)(void *)l;
	struct stat st;
	int err = 0;
	if (s->prog_fd < 0)
		return 0;
	if (fstat(s->sock_fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino &&
	    setsockopt(s->sock_fd, SOL_SOCKET, SO_DETACH_BPF, &s->prog_fd, sizeof(s->prog_fd)) < 0)
		err = -errno;
	close(s->prog_fd);
	s->prog_fd = -1;
	return err;
}

static const struct ebpfdsl_link_ops socket_ops = { .detach = socket_detach };

static int ifindex_of(const char *what, const char *ifname, char *err, size_t errlen)
{
	unsigned idx;
	if (!ifname || !*ifname)
		return ebpfdsl__err(err, errlen, EINVAL, "%s: an interface name is needed", what);
	idx = if_nametoindex(ifname);
	if (!idx)
		return ebpfdsl__err(err, errlen, ENODEV, "%s on '%s': interface unknown in this network namespace", what,
				ifname);
	return (int)idx;
}

static const char *xdp_mode_name(int mode)
{
	switch (mode) {
	case EBPFDSL_XDP_GENERIC: return "generic";
	case EBPFDSL_XDP_DRIVER: return "driver";
	case EBPFDSL_XDP_OFFLOAD: return "offload";
	default: return "any";
	}
}

int ebpfdsl_attach_xdp(int prog_fd, const char *ifname, const struct ebpfdsl_xdp_opts *opts, ebpfdsl_link **out,
		       char *err, size_t errlen)
{
	struct ebpfdsl_xdp_opts o = { .sz = sizeof(o) };
	static const unsigned mode_flags[] = { 0, XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE };
	struct xdp_netlink_link *x;
	struct ebpfdsl_link *l;
	char said[300];
	unsigned flags;
	int idx, fd, e;

	EBPFDSL_OPTS_COPY(o, opts);
	if (o.mode < 0 || o.mode > EBPFDSL_XDP_OFFLOAD)
		return ebpfdsl__err(err, errlen, EINVAL, "xdp: unknown mode %d", o.mode);
	idx = ifindex_of("xdp", ifname, err, errlen);
	if (idx < 0)
		return idx;
	flags = mode_flags[o.mode];
	/* a bpf link needs only the base; netlink, its own undo */
	l = ebpfdsl__link_new_ops(o.netlink ? &xdp_netlink_ops : NULL, sizeof(*x), EBPFDSL_LINK_XDP, "%s (%s mode%s)",
				  ifname, xdp_mode_name(o.mode), o.netlink ? ", netlink" : "");
	if (!l)
		return ebpfdsl__err(err, errlen, ENOMEM, "xdp on %s", ifname);
	x = (struct xdp_netlink_link *)(void *)l;
	x->ifindex = idx;
	x->flags = flags;
	x->prog_fd = -1;
	if (!o.netlink) {
		LIBBPF_OPTS(bpf_link_create_opts, lo);
		lo.flags = flags;
		fd = bpf_link_create(prog_fd, idx, BPF_XDP, &lo);
		if (fd < 0) {
			e = errno;
			ebpfdsl_link__free(l);
			if (e == EBUSY || e == EEXIST)
				return ebpfdsl__err(err, errlen, e,
						"xdp on %s (%s mode): another XDP program is attached there", ifname,
						xdp_mode_name(o.mode));
			if (e == EOPNOTSUPP)
				return ebpfdsl__err(err, errlen, e, "xdp on %s: the driver has no %s-mode XDP", ifname,
						xdp_mode_name(o.mode));
			return ebpfdsl__err(err, errlen, e, "xdp on %s (%s mode): bpf_link_create(BPF_XDP)", ifname,
					xdp_mode_name(o.mode));
		}
		l->fd = fd;
		*out = l;
		return 0;
	}
	/* netlink: only if nothing is attached, so detach never removes
	 * someone else's program */
	x->prog_fd = fcntl(prog_fd, F_DUPFD_CLOEXEC, 3);
	if (x->prog_fd < 0) {
		e = errno;
		ebpfdsl_link__free(l);
		return ebpfdsl__err(err, errlen, e, "xdp on %s: dup of the program fd", ifname);
	}
	quiet();
	e = bpf_xdp_attach(idx, prog_fd, flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	unquiet();
	if (e < 0) {
		e = -e;
		close(x->prog_fd);
		x->prog_fd = -1; /* nothing to detach */
		ebpfdsl_link__free(l);
		if (e == EBUSY || e == EEXIST)
			return ebpfdsl__err(err, errlen, e, "xdp on %s (netlink): another XDP program is attached there",
					ifname);
		return ebpfdsl__err(err, errlen, e, "xdp on %s (%s mode): bpf_xdp_attach%s", ifname, xdp_mode_name(o.mode),
				kernel_said(said, sizeof(said)));
	}
	*out = l;
	return 0;
}

int ebpfdsl_attach_tc(int prog_fd, const char *ifname, const struct ebpfdsl_tc_opts *opts, ebpfdsl_link **out,
		      char *err, size_t errlen)
{
	struct ebpfdsl_tc_opts o = { .sz = sizeof(o) };
	struct tc_link *t;
	const char *dir;
	char said[300];
	int idx, e;

	EBPFDSL_OPTS_COPY(o, opts);
	dir = o.egress ? "egress" : "ingress";
	idx = ifindex_of("tc", ifname, err, errlen);
	if (idx < 0)
		return idx;
	LIBBPF_OPTS(bpf_tc_hook, hook);
	hook.ifindex = idx;
	hook.attach_point = o.egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	LIBBPF_OPTS(bpf_tc_opts, to);
	to.prog_fd = prog_fd;
	to.handle = o.handle;
	to.priority = o.priority;
	quiet();
	e = bpf_tc_hook_create(&hook);
	unquiet();
	if (e < 0 && e != -EEXIST)
		return ebpfdsl__err(err, errlen, e, "tc %s on %s: creating the clsact qdisc%s", dir, ifname,
				kernel_said(said, sizeof(said)));
	quiet();
	e = bpf_tc_attach(&hook, &to);
	unquiet();
	if (e < 0) {
		if (e == -EINVAL)
			return ebpfdsl__err(err, errlen, e,
					"tc %s on %s: filter refused (a sched_cls program is needed; or that "
					"handle/priority is taken)%s",
					dir, ifname, kernel_said(said, sizeof(said)));
		return ebpfdsl__err(err, errlen, e, "tc %s on %s: bpf_tc_attach%s", dir, ifname,
				kernel_said(said, sizeof(said)));
	}
	t = (struct tc_link *)(void *)ebpfdsl__link_new_ops(&tc_ops, sizeof(*t), EBPFDSL_LINK_TC,
							     "%s %s (handle %u, priority %u)", ifname, dir, to.handle,
							     to.priority);
	if (!t) {
		LIBBPF_OPTS(bpf_tc_opts, d);
		d.handle = to.handle;
		d.priority = to.priority;
		quiet();
		bpf_tc_detach(&hook, &d);
		unquiet();
		return ebpfdsl__err(err, errlen, ENOMEM, "tc %s on %s", dir, ifname);
	}
	t->ifindex = idx;
	t->egress = o.egress != 0;
	t->handle = to.handle;
	t->priority = to.priority;
	*out = &t->link;
	return 0;
}

int ebpfdsl_attach_socket(int prog_fd, int sock_fd, ebpfdsl_link **out, char *err, size_t errlen)
{
	struct socket_link *s;
	struct stat st;
	int e, dup;

	if (fstat(sock_fd, &st) < 0)
		return ebpfdsl__err(err, errlen, errno, "socket filter on fd %d", sock_fd);
	if (!S_ISSOCK(st.st_mode))
		return ebpfdsl__err(err, errlen, ENOTSOCK, "socket filter on fd %d: not a socket", sock_fd);
	s = (struct socket_link *)(void *)ebpfdsl__link_new_ops(&socket_ops, sizeof(*s), EBPFDSL_LINK_SOCKET_FILTER,
								 "socket fd %d", sock_fd);
	if (!s)
		return ebpfdsl__err(err, errlen, ENOMEM, "socket filter on fd %d", sock_fd);
	s->sock_fd = sock_fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->prog_fd = -1; /* nothing attached yet */
	dup = fcntl(prog_fd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0) {
		e = errno;
		ebpfdsl_link__free(&s->link);
		return ebpfdsl__err(err, errlen, e, "socket filter on fd %d: dup of the program fd", sock_fd);
	}
	if (setsockopt(sock_fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0) {
		e = errno;
		close(dup);
		ebpfdsl_link__free(&s->link);
		if (e == EINVAL)
			return ebpfdsl__err(err, errlen, e,
					"socket filter on fd %d: SO_ATTACH_BPF refused (a socket_filter program "
					"is needed)",
					sock_fd);
		return ebpfdsl__err(err, errlen, e, "socket filter on fd %d: SO_ATTACH_BPF", sock_fd);
	}
	s->prog_fd = dup;
	*out = &s->link;
	return 0;
}
