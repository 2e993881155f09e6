/* SPDX-License-Identifier: MIT */
/* The BPF filesystem: mounting it on demand, pinning maps, programs and
 * links into it, opening pins, and telling which kind of object an fd is. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "kernel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define DEFAULT_DIR "/sys/fs/bpf"

int ebpfdsl_bpffs_is(const char *dir)
{
	struct statfs st;
	if (statfs(dir, &st))
		return -errno;
	return (unsigned long)st.f_type == (unsigned long)BPF_FS_MAGIC;
}

int ebpfdsl_bpffs_mount(const char *dir)
{
	int r;
	if (!dir)
		dir = DEFAULT_DIR;
	r = ebpfdsl_bpffs_is(dir);
	if (r == 1)
		return 0;
	if (r == -ENOENT && mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (mount("bpf", dir, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

/* Whether `path` lies inside the default mount point. */
static int under_default(const char *path)
{
	size_t n = strlen(DEFAULT_DIR);
	return strncmp(path, DEFAULT_DIR, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Removes the directories above `path` down to (not including) the first
 * `keep` bytes of it: the ones make_parents made, deepest first. */
static void remove_parents(const char *path, size_t keep)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	char *slash;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, path, len + 1);
	while ((slash = strrchr(buf, '/')) != NULL && (size_t)(slash - buf) > keep) {
		*slash = '\0';
		if (rmdir(buf))
			return; /* not empty: someone else uses it now */
	}
}

/* Creates the missing directories above `path`, but only inside a bpffs:
 * a pin path must never make directories elsewhere. *made is the length
 * of the part of path that existed (strlen(path) when nothing was made);
 * on failure nothing made stays. */
static int make_parents(const char *path, size_t *made)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;
	int err = 0;

	*made = len;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (stat(buf, &st)) {
			char *slash = strrchr(buf, '/');
			int on_bpffs;
			*slash = '\0';
			on_bpffs = ebpfdsl_bpffs_is(slash == buf ? "/" : buf);
			*slash = '/';
			if (on_bpffs != 1) {
				err = -ENOENT;
				break;
			}
			if (mkdir(buf, 0700)) {
				if (errno != EEXIST) {
					err = -errno;
					break;
				}
			} else if (*made == len) {
				*made = (size_t)(slash - buf);
			}
		}
		*p = '/';
	}
	if (err && *made < len) {
		remove_parents(path, *made);
		*made = len;
	}
	return err;
}

/* An absolute path made ready for a pin: the default bpffs mounted when
 * it is under it, its parent directories made (*made: how much of the
 * path existed before, for remove_parents). */
static int prepare(const char *path, size_t *made)
{
	int err;
	if (!path || path[0] != '/')
		return -EINVAL;
	if (under_default(path)) {
		err = ebpfdsl_bpffs_mount(DEFAULT_DIR);
		if (err)
			return err;
	}
	return make_parents(path, made);
}

int ebpfdsl_bpffs_prepare(const char *path)
{
	size_t made;
	return prepare(path, &made);
}

/* A pin that fails leaves no directory it made behind. */
int ebpfdsl_obj__pin(int fd, const char *path)
{
	size_t made;
	int err = prepare(path, &made);
	if (err)
		return err;
	if (bpf_obj_pin(fd, path) == 0)
		return 0;
	err = -errno;
	if (made < strlen(path))
		remove_parents(path, made);
	return err;
}

int ebpfdsl_obj__get(const char *path)
{
	int fd;
	if (!path || path[0] != '/')
		return -EINVAL;
	if (under_default(path) && ebpfdsl_bpffs_is(DEFAULT_DIR) == 0)
		return -ENOENT; /* nothing can be pinned where no bpffs is */
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* 0 when path's directory is on a bpffs: unpinning must never remove a
 * file elsewhere. */
static int in_bpffs(const char *path)
{
	char dir[PATH_MAX];
	const char *slash;
	int r;

	if (!path || path[0] != '/')
		return -EINVAL;
	slash = strrchr(path, '/');
	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	r = ebpfdsl_bpffs_is(dir[0] ? dir : "/");
	if (r < 0)
		return r;
	return r == 0 ? -EINVAL : 0;
}

int ebpfdsl_obj__unpin(const char *path)
{
	int r = in_bpffs(path);
	if (r < 0)
		return r;
	return unlink(path) ? -errno : 0;
}

/* Kind (EBPFDSL_OBJ_*) and id of the BPF object behind fd: the infos of
 * maps, programs and links all begin with its type and id. */
static int identify(int fd, int *kind, uint32_t *id)
{
	struct {
		uint32_t type, id;
	} info;
	uint32_t len = sizeof(info);

	*kind = ebpfdsl_obj__kind(fd);
	if (*kind < 0)
		return *kind;
	if (*kind == EBPFDSL_OBJ_OTHER)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

int ebpfdsl_obj__unpin_own(int fd, const char *path)
{
	int r = in_bpffs(path), other, mine_kind, its_kind;
	uint32_t mine_id = 0, its_id = 0;

	if (r < 0)
		return r;
	other = bpf_obj_get(path);
	if (other < 0)
		return -errno;
	r = identify(fd, &mine_kind, &mine_id);
	if (!r)
		r = identify(other, &its_kind, &its_id);
	close(other);
	if (r < 0)
		return r;
	if (mine_kind != its_kind || mine_id != its_id)
		return -EEXIST; /* another object's pin: not ours to remove */
	return unlink(path) ? -errno : 0;
}

int ebpfdsl_obj__open_kind(const char *path, int kind, int *found)
{
	int fd = ebpfdsl_obj__get(path), k;
	if (found)
		*found = -1;
	if (fd < 0)
		return fd;
	k = ebpfdsl_obj__kind(fd);
	if (k == kind)
		return fd;
	close(fd);
	if (k < 0)
		return k;
	if (found)
		*found = k;
	return -EINVAL;
}

const char *ebpfdsl_obj_kind_name(int kind)
{
	switch (kind) {
	case EBPFDSL_OBJ_MAP: return "map";
	case EBPFDSL_OBJ_PROG: return "program";
	case EBPFDSL_OBJ_LINK: return "link";
	case EBPFDSL_OBJ_OTHER: return "not a BPF object";
	default: return NULL;
	}
}

/* The kernel names the anonymous inode behind every BPF fd. */
int ebpfdsl_obj__kind(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (strcmp(target, "anon_inode:bpf-map") == 0)
		return EBPFDSL_OBJ_MAP;
	if (strcmp(target, "anon_inode:bpf-prog") == 0)
		return EBPFDSL_OBJ_PROG;
	/* a link is "bpf_link" where it was made, "bpf-link" once reopened
	 * (from a pin or an id) */
	if (strcmp(target, "anon_inode:bpf_link") == 0 || strcmp(target, "anon_inode:bpf-link") == 0)
		return EBPFDSL_OBJ_LINK;
	return EBPFDSL_OBJ_OTHER;
}
