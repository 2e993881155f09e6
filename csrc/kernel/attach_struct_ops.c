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

int ebpfdsl_attach_struct_ops(int map_fd, const void *value, ebpfdsl_link **out, char *err, size_t errlen)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi), zero = 0;
	struct ebpfdsl_link *l;
	int fd, e;

	if (bpf_obj_get_info_by_fd(map_fd, &mi, &len) < 0)
		return ebpfdsl__link_err(err, errlen, errno, "struct_ops on map fd %d", map_fd);
	if (mi.type != BPF_MAP_TYPE_STRUCT_OPS)
		return ebpfdsl__link_err(err, errlen, EINVAL, "register of map '%s': a struct_ops map is needed, not a %s",
				mi.name,
				ebpfdsl_map_type_name((int)mi.type) ? ebpfdsl_map_type_name((int)mi.type) : "?");
	l = ebpfdsl__link_new(EBPFDSL_LINK_STRUCT_OPS, "map '%s' (id %u)", mi.name, mi.id);
	if (!l)
		return ebpfdsl__link_err(err, errlen, ENOMEM, "register of map '%s'", mi.name);
	l->target_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);
	if (l->target_fd < 0) {
		e = errno;
		ebpfdsl_link__free(l);
		return ebpfdsl__link_err(err, errlen, e, "register of map '%s': dup", mi.name);
	}
	/* without BPF_F_LINK the update registers, and deleting it undoes */
	if (bpf_map_update_elem(map_fd, &zero, value, BPF_ANY) < 0) {
		e = errno;
		ebpfdsl_link__free(l);
		if (e == EINVAL)
			return ebpfdsl__link_err(err, errlen, e,
					"register of map '%s': the kernel refused the value (a required member "
					"without a program, a program loaded for another member, or a name "
					"already registered)",
					mi.name);
		if (e == EBUSY)
			return ebpfdsl__link_err(err, errlen, e, "register of map '%s': it is registered already", mi.name);
		return ebpfdsl__link_err(err, errlen, e, "register of map '%s'", mi.name);
	}
	if (!(mi.map_flags & STRUCT_OPS_F_LINK)) {
		l->how = HOW_MAP_ELEM;
		*out = l;
		return 0;
	}
	fd = bpf_link_create(map_fd, 0, (enum bpf_attach_type)struct_ops_attach_type(), NULL);
	if (fd < 0) {
		e = errno;
		ebpfdsl_link__free(l);
		if (e == EEXIST)
			return ebpfdsl__link_err(err, errlen, e,
					"register of map '%s': the kernel refused the link (a name already "
					"registered?)",
					mi.name);
		return ebpfdsl__link_err(err, errlen, e, "register of map '%s': struct_ops link", mi.name);
	}
	if (ebpfdsl__link_add(l, fd, -1)) {
		ebpfdsl_link__free(l);
		return ebpfdsl__link_err(err, errlen, ENOMEM, "register of map '%s'", mi.name);
	}
	l->bpf_link = 1;
	*out = l;
	return 0;
}
