/* SPDX-License-Identifier: MIT */
/* sk_msg and sk_skb programs on a sockmap or sockhash: they run for the
 * sockets the map holds. A sockmap link where the kernel has them (6.10). */
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "link.h"

static int is_sockmap_attach(int t)
{
	return t == BPF_SK_MSG_VERDICT || t == BPF_SK_SKB_STREAM_PARSER || t == BPF_SK_SKB_STREAM_VERDICT ||
	       t == BPF_SK_SKB_VERDICT;
}

int ebpfdsl_attach_sockmap(int prog_fd, int map_fd, int attach_type, ebpfdsl_link **out, char *err, size_t errlen)
{
	const char *tname = ebpfdsl_attach_type_name(attach_type);
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	int e;

	if (!tname || !is_sockmap_attach(attach_type))
		return ebpfdsl__err(err, errlen, EINVAL,
				"sockmap attach: %s is not a sockmap attach type (sk_msg_verdict, sk_skb_verdict, "
				"sk_skb_stream_verdict, sk_skb_stream_parser)",
				tname ? tname : "?");
	if (bpf_obj_get_info_by_fd(map_fd, &mi, &len) < 0)
		return ebpfdsl__err(err, errlen, errno, "%s on map fd %d", tname, map_fd);
	if (mi.type != BPF_MAP_TYPE_SOCKMAP && mi.type != BPF_MAP_TYPE_SOCKHASH)
		return ebpfdsl__err(err, errlen, EINVAL, "%s on map '%s': a sockmap or sockhash is needed, not a %s", tname,
				mi.name, ebpfdsl_map_type_name((int)mi.type) ? ebpfdsl_map_type_name((int)mi.type) : "?");
	e = -ebpfdsl__prog_attach(prog_fd, map_fd, attach_type, 0, EBPFDSL_LINK_SOCKMAP, out, "map '%s' (id %u) %s",
				  mi.name, mi.id, tname);
	if (e == 0)
		return 0;
	if (e == EINVAL)
		return ebpfdsl__err(err, errlen, e,
				"%s on map '%s': refused (an sk_msg program for sk_msg_verdict, sk_skb for the "
				"others)",
				tname, mi.name);
	if (e == EBUSY || e == EEXIST)
		return ebpfdsl__err(err, errlen, e, "%s on map '%s': the map already has a program of that kind", tname,
				mi.name);
	return ebpfdsl__err(err, errlen, e, "%s on map '%s'", tname, mi.name);
}
