/* SPDX-License-Identifier: MIT */
/* What the kernel knows about a loaded program (bpf_obj_get_info_by_fd),
 * its translated instructions, and opening a pinned one (pinning itself is
 * bpffs.c's, shared by maps, programs and links). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "kernel.h"

int ebpfdsl_prog__info(int prog_fd, struct bpf_prog_info *info, uint32_t *map_ids, uint32_t *nr_map_ids)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (map_ids && nr_map_ids && *nr_map_ids) {
		info->nr_map_ids = *nr_map_ids;
		info->map_ids = (__u64)(uintptr_t)map_ids;
	}
	if (bpf_obj_get_info_by_fd(prog_fd, info, &len))
		return -errno;
	if (nr_map_ids)
		*nr_map_ids = info->nr_map_ids; /* the kernel says how many there are */
	info->map_ids = 0;
	return 0;
}

int ebpfdsl_prog__xlated(int prog_fd, struct bpf_insn *insns, size_t *cnt)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	size_t room = insns && cnt ? *cnt : 0;

	if (!cnt)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	if (room) {
		/* the kernel copies at most this much, and says how much it has */
		info.xlated_prog_len = (__u32)(room * sizeof(*insns));
		info.xlated_prog_insns = (__u64)(uintptr_t)insns;
	}
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	if (info.xlated_prog_len == 0)
		return -EPERM; /* the kernel hides them (bpf_jit_harden, lockdown) */
	*cnt = info.xlated_prog_len / sizeof(*insns);
	return 0;
}

int ebpfdsl_prog__open_pinned(const char *path)
{
	return ebpfdsl_obj__open_kind(path, EBPFDSL_OBJ_PROG, NULL);
}
