/* SPDX-License-Identifier: MIT */
/* struct_ops maps registered with the kernel: element 0 (the kernel's
 * bpf_struct_ops_<name>, program fds in its function pointers) written,
 * then a struct_ops link where the map asks for one (BPF_F_LINK). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "link.h"

/* Newer than the 6.1 UAPI headers: BPF_F_LINK (6.4) and BPF_STRUCT_OPS. */
#define STRUCT_OPS_F_LINK (1U << 13)

static int struct_ops_attach_type(void)
{
	int t = ebpfdsl_attach_type_parse("struct_ops");
	return t >= 0 ? t : 44; /* BPF_STRUCT_OPS, as the kernel numbers it */
}

/* Our dup of the map; registered: its update registered it without a
 * link, and deleting element 0 undoes that. */
struct struct_ops_link {
	struct ebpfdsl_link link;
	int map_fd;
	int registered;
};

static int struct_ops_detach(struct ebpfdsl_link *l)
{
	struct struct_ops_link *s = (struct struct_ops_link *)(void *)l;
	__u32 zero = 0;
	int err = 0;
	if (s->registered && bpf_map_delete_elem(s->map_fd, &zero) < 0)
		err = -errno;
	if (s->map_fd >= 0)
		close(s->map_fd);
	s->map_fd = -1;
	return err;
}

static const struct ebpfdsl_link_ops struct_ops_ops = { .detach = struct_ops_detach };

int ebpfdsl_attach_struct_ops(int map_fd, const void *value, ebpfdsl_link **out, char *err, size_t errlen)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi), zero = 0;
	struct struct_ops_link *s;
	struct ebpfdsl_link *l;
	int fd, e;

	if (bpf_obj_get_info_by_fd(map_fd, &mi, &len) < 0)
		return ebpfdsl__err(err, errlen, errno, "struct_ops on map fd %d", map_fd);
	if (mi.type != BPF_MAP_TYPE_STRUCT_OPS)
		return ebpfdsl__err(err, errlen, EINVAL, "register of map '%s': a struct_ops map is needed, not a %s",
				mi.name,
				ebpfdsl_map_type_name((int)mi.type) ? ebpfdsl_map_type_name((int)mi.type) : "?");
	l = ebpfdsl__link_new_ops(&struct_ops_ops, sizeof(*s), EBPFDSL_LINK_STRUCT_OPS, "map '%s' (id %u)", mi.name,
				  mi.id);
	if (!l)
		return ebpfdsl__err(err, errlen, ENOMEM, "register of map '%s'", mi.name);
	s = (struct struct_ops_link *)(void *)l;
	s->map_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);
	if (s->map_fd < 0) {
		e = errno;
		ebpfdsl_link__free(l);
		return ebpfdsl__err(err, errlen, e, "register of map '%s': dup", mi.name);
	}
	/* without BPF_F_LINK the update registers, and deleting it undoes */
	if (bpf_map_update_elem(map_fd, &zero, value, BPF_ANY) < 0) {
		e = errno;
		ebpfdsl_link__free(l);
		if (e == EINVAL)
			return ebpfdsl__err(err, errlen, e,
					"register of map '%s': the kernel refused the value (a required member "
					"without a program, a program loaded for another member, or a name "
					"already registered)",
					mi.name);
		if (e == EBUSY)
			return ebpfdsl__err(err, errlen, e, "register of map '%s': it is registered already", mi.name);
		return ebpfdsl__err(err, errlen, e, "register of map '%s'", mi.name);
	}
	if (!(mi.map_flags & STRUCT_OPS_F_LINK)) {
		s->registered = 1;
		*out = l;
		return 0;
	}
	fd = bpf_link_create(map_fd, 0, (enum bpf_attach_type)struct_ops_attach_type(), NULL);
	if (fd < 0) {
		e = errno;
		ebpfdsl_link__free(l);
		if (e == EEXIST)
			return ebpfdsl__err(err, errlen, e,
					"register of map '%s': the kernel refused the link (a name already "
					"registered?)",
					mi.name);
		return ebpfdsl__err(err, errlen, e, "register of map '%s': struct_ops link", mi.name);
	}
	l->fd = fd;
	*out = l;
	return 0;
}
