/* SPDX-License-Identifier: MIT */
/* sk_msg and sk_skb programs on a sockmap or sockhash: they run for the
 * sockets the map holds. A sockmap link where the kernel has them. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "link.h"

static int is_sockmap_attach(int t)
{
	return t == BPF_SK_MSG_VERDICT || t == BPF_SK_SKB_STREAM_PARSER || t == BPF_SK_SKB_STREAM_VERDICT ||
	       t == BPF_SK_SKB_VERDICT;
}

/* Before sockmap links the program goes on the map with BPF_PROG_ATTACH,
 * and off it with bpf_prog_detach2 of our dups of both fds. */
struct sockmap_prog_link {
	struct ebpfdsl_link link;
	int prog_fd, map_fd, attach_type;
	int attached; /* BPF_PROG_ATTACH took it: detach2 undoes */
};

static int sockmap_prog_detach(struct ebpfdsl_link *l)
{
	struct sockmap_prog_link *s = (struct sockmap_prog_link *)(void *)l;
	int err = 0;
	if (s->attached && bpf_prog_detach2(s->prog_fd, s->map_fd, (enum bpf_attach_type)s->attach_type) < 0)
		err = -errno;
	if (s->prog_fd >= 0)
		close(s->prog_fd);
	if (s->map_fd >= 0)
		close(s->map_fd);
	s->prog_fd = s->map_fd = -1;
	return err;
}

static const struct ebpfdsl_link_ops sockmap_prog_ops = { .detach = sockmap_prog_detach };

int ebpfdsl_attach_sockmap(int prog_fd, int map_fd, int attach_type, ebpfdsl_link **out, char *err, size_t errlen)
{
	const char *tname = ebpfdsl_attach_type_name(attach_type);
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	struct sockmap_prog_link *s;
	struct ebpfdsl_link *l;
	int fd, e;

	if (!tname || !is_sockmap_attach(attach_type))
		return ebpfdsl__link_err(err, errlen, EINVAL,
				"sockmap attach: %s is not a sockmap attach type (sk_msg_verdict, sk_skb_verdict, "
				"sk_skb_stream_verdict, sk_skb_stream_parser)",
				tname ? tname : "?");
	if (bpf_obj_get_info_by_fd(map_fd, &mi, &len) < 0)
		return ebpfdsl__link_err(err, errlen, errno, "%s on map fd %d", tname, map_fd);
	if (mi.type != BPF_MAP_TYPE_SOCKMAP && mi.type != BPF_MAP_TYPE_SOCKHASH)
		return ebpfdsl__link_err(err, errlen, EINVAL, "%s on map '%s': a sockmap or sockhash is needed, not a %s", tname,
				mi.name, ebpfdsl_map_type_name((int)mi.type) ? ebpfdsl_map_type_name((int)mi.type) : "?");
	l = ebpfdsl__link_new_ops(&sockmap_prog_ops, sizeof(*s), EBPFDSL_LINK_SOCKMAP, "map '%s' (id %u) %s", mi.name,
				  mi.id, tname);
	if (!l)
		return ebpfdsl__link_err(err, errlen, ENOMEM, "%s on map '%s'", tname, mi.name);
	s = (struct sockmap_prog_link *)(void *)l;
	s->prog_fd = s->map_fd = -1;
	s->attach_type = attach_type;
	fd = bpf_link_create(prog_fd, map_fd, (enum bpf_attach_type)attach_type, NULL);
	if (fd >= 0) {
		l->fd = fd; /* a sockmap link: closing it detaches, nothing else to undo */
		*out = l;
		return 0;
	}
	e = errno;
	if (e == EINVAL || e == EOPNOTSUPP) {
		/* before 6.10 there are no sockmap links */
		s->map_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);
		s->prog_fd = fcntl(prog_fd, F_DUPFD_CLOEXEC, 3);
		if (s->map_fd < 0 || s->prog_fd < 0) {
			e = errno;
			ebpfdsl_link__free(l);
			return ebpfdsl__link_err(err, errlen, e, "%s on map '%s': dup", tname, mi.name);
		}
		if (bpf_prog_attach(prog_fd, map_fd, (enum bpf_attach_type)attach_type, 0) == 0) {
			s->attached = 1;
			*out = l;
			return 0;
		}
		e = errno;
	}
	ebpfdsl_link__free(l);
	if (e == EINVAL)
		return ebpfdsl__link_err(err, errlen, e,
				"%s on map '%s': refused (an sk_msg program for sk_msg_verdict, sk_skb for the "
				"others)",
				tname, mi.name);
	if (e == EBUSY || e == EEXIST)
		return ebpfdsl__link_err(err, errlen, e, "%s on map '%s': the map already has a program of that kind", tname,
				mi.name);
	return ebpfdsl__link_err(err, errlen, e, "%s on map '%s'", tname, mi.name);
}
