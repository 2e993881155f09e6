/* SPDX-License-Identifier: MIT */
/* What the kernel knows about a loaded program (bpf_obj_get_info_by_fd),
 * its translated instructions, and pinning it on a BPF filesystem. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "kernel.h"

#define BPFFS_ROOT "/sys/fs/bpf"

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

int ebpfdsl_prog__xlated(int prog_fd, struct bpf_insn **insns, size_t *cnt)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), size;
	void *buf;

	*insns = NULL;
	*cnt = 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	size = info.xlated_prog_len;
	if (size == 0)
		return -EPERM; /* the kernel hides them (bpf_jit_harden, lockdown) */
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	info.xlated_prog_len = size;
	info.xlated_prog_insns = (__u64)(uintptr_t)buf;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		int err = -errno;
		free(buf);
		return err;
	}
	*insns = buf;
	*cnt = (info.xlated_prog_len < size ? info.xlated_prog_len : size) / sizeof(struct bpf_insn);
	return 0;
}

/* Pins under /sys/fs/bpf need bpffs there: mount it when nothing is. */
static int ensure_bpffs(const char *path)
{
	struct statfs st;
	if (strncmp(path, BPFFS_ROOT "/", sizeof(BPFFS_ROOT)) != 0)
		return 0;
	if (statfs(BPFFS_ROOT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(BPFFS_ROOT, 0700) && errno != EEXIST)
		return -errno;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

int ebpfdsl_prog__pin(int prog_fd, const char *path)
{
	int err;
	if (!path || !*path)
		return -EINVAL;
	if ((err = ensure_bpffs(path)))
		return err;
	return bpf_obj_pin(prog_fd, path) ? -errno : 0;
}

/* The anonymous inode behind a BPF fd says what it is. */
static int is_prog_fd(int fd)
{
	char link[64], target[64];
	ssize_t n;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	return strcmp(target, "anon_inode:bpf-prog") == 0;
}

int ebpfdsl_prog__open_pinned(const char *path)
{
	int fd, r;
	if (!path || !*path)
		return -EINVAL;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	r = is_prog_fd(fd);
	if (r <= 0) {
		close(fd);
		return r < 0 ? r : -EINVAL;
	}
	return fd;
}
