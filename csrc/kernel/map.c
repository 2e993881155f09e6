/* SPDX-License-Identifier: MIT */
/* Maps in the kernel: type names, creation, info, and element access.
 * Thin over libbpf's bpf_map_* calls; types newer than libbpf 1.1 are named here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel.h"

/* Types this libbpf (1.1) cannot name, by the names newer libbpf gives
 * them: the kernel's enum names lowercased without the prefix. */
static const char *newer_type_name(int type)
{
	switch (type) {
	case EBPFDSL_MAP_TYPE_CGRP_STORAGE: return "cgrp_storage";
	case EBPFDSL_MAP_TYPE_ARENA: return "arena";
	default: return NULL;
	}
}

const char *ebpfdsl_map_type_name(int type)
{
	const char *s;
	if (type <= 0 || type >= EBPFDSL_MAP_TYPE_MAX_)
		return NULL;
	s = libbpf_bpf_map_type_str((enum bpf_map_type)type);
	return s ? s : newer_type_name(type);
}

/* What each type's keys and values are, one row a type: the one place
 * these facts are kept (the binding picks its codecs from them). */
enum { INDEXED = 1, PERCPU = 2, FD_KEYS = 4, FD_VALUES = 8 };
static const unsigned char TRAITS[EBPFDSL_MAP_TYPE_MAX_] = {
	[BPF_MAP_TYPE_ARRAY] = INDEXED,
	[BPF_MAP_TYPE_PERCPU_ARRAY] = INDEXED | PERCPU,
	[BPF_MAP_TYPE_PERCPU_HASH] = PERCPU,
	[BPF_MAP_TYPE_LRU_PERCPU_HASH] = PERCPU,
	[BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE] = PERCPU,
	[BPF_MAP_TYPE_PROG_ARRAY] = INDEXED | FD_VALUES,
	[BPF_MAP_TYPE_PERF_EVENT_ARRAY] = INDEXED | FD_VALUES,
	[BPF_MAP_TYPE_CGROUP_ARRAY] = INDEXED | FD_VALUES,
	[BPF_MAP_TYPE_ARRAY_OF_MAPS] = INDEXED | FD_VALUES,
	[BPF_MAP_TYPE_HASH_OF_MAPS] = FD_VALUES,
	[BPF_MAP_TYPE_DEVMAP] = INDEXED,
	[BPF_MAP_TYPE_CPUMAP] = INDEXED,
	[BPF_MAP_TYPE_XSKMAP] = INDEXED | FD_VALUES,
	[BPF_MAP_TYPE_SOCKMAP] = INDEXED | FD_VALUES,
	[BPF_MAP_TYPE_SOCKHASH] = FD_VALUES,
	[BPF_MAP_TYPE_REUSEPORT_SOCKARRAY] = INDEXED | FD_VALUES,
	[BPF_MAP_TYPE_SK_STORAGE] = FD_KEYS,
	[BPF_MAP_TYPE_INODE_STORAGE] = FD_KEYS,
	[BPF_MAP_TYPE_TASK_STORAGE] = FD_KEYS,
	[EBPFDSL_MAP_TYPE_CGRP_STORAGE] = FD_KEYS,
};

static int has(int type, int trait)
{
	return type > 0 && type < EBPFDSL_MAP_TYPE_MAX_ && (TRAITS[type] & trait);
}

int ebpfdsl__map_type_indexed(int type)
{
	return has(type, INDEXED);
}

int ebpfdsl_map_type_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int t = 1; t < EBPFDSL_MAP_TYPE_MAX_; t++) {
		const char *s = ebpfdsl_map_type_name(t);
		if (s && strcmp(s, name) == 0)
			return t;
	}
	return -ENOENT;
}

int ebpfdsl_map_type_percpu(int type)
{
	return has(type, PERCPU);
}

int ebpfdsl_map_type_local_storage(int type)
{
	return has(type, FD_KEYS);
}

int ebpfdsl_map_type_fd_values(int type)
{
	return has(type, FD_VALUES);
}

int ebpfdsl_num_possible_cpus(void)
{
	struct ebpfdsl_hush h;
	int n;
	ebpfdsl_hush_begin(&h, NULL, 0);
	n = libbpf_num_possible_cpus();
	ebpfdsl_hush_end(&h, n < 0);
	return n;
}

int ebpfdsl_ringbuf_size_check(uint64_t size, uint64_t *below, uint64_t *above)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), p = page;

	while (p < size && p < (1ull << 62))
		p <<= 1;
	if (p == size)
		return 0;
	if (above)
		*above = p;
	if (below)
		*below = size > page ? p >> 1 : 0;
	return -EINVAL;
}

/* An arena's user address is fixed by map_extra or by its first mmap, and
 * the verifier refuses a program using an arena whose address is not yet
 * fixed ("arena's user address must be set via map_extra or mmap()"), as
 * libbpf avoids by mapping every arena it creates. Mapping it once here
 * fixes the address (the kernel keeps it after the unmap); the pages stay
 * the arena's, so nothing is lost by not keeping the mapping. */
static int arena_fix_address(int fd, unsigned max_entries)
{
	size_t size = (size_t)max_entries * (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, size);
	return 0;
}

int ebpfdsl_map__create(int type, unsigned key_size, unsigned value_size, unsigned max_entries,
			const struct ebpfdsl_map_create_opts *opts)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	struct ebpfdsl_map_create_opts c = { .sz = sizeof(c) };
	struct btf *btf = NULL;
	int fd, err;

	if (!ebpfdsl_map_type_name(type))
		return -EINVAL;
	if (type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_USER_RINGBUF) {
		if (ebpfdsl_ringbuf_size_check(max_entries, NULL, NULL))
			return -EINVAL;
	}
	EBPFDSL_OPTS_COPY(c, opts);
	o.map_flags = c.flags;
	o.inner_map_fd = (__u32)c.inner_map_fd;
	o.numa_node = (__u32)c.numa_node;
	o.map_extra = c.map_extra;
	o.map_ifindex = c.ifindex;
	o.btf_fd = (__u32)c.btf_fd;
	o.btf_key_type_id = c.btf_key_type_id;
	o.btf_value_type_id = c.btf_value_type_id;
	o.btf_vmlinux_value_type_id = c.btf_vmlinux_value_type_id;
	/* Local storage maps insist on BTF for their key and value; a caller
	 * without a compiler has none, so describe the bytes ourselves. */
	if (ebpfdsl_map_type_local_storage(type) && !o.btf_fd) {
		btf = ebpfdsl_map_btf_bytes(key_size, value_size, &o.btf_key_type_id, &o.btf_value_type_id);
		if (!btf)
			return -errno;
		o.btf_fd = (__u32)btf__fd(btf);
	}
	/* A struct_ops map's value type is the kernel's, but the kernel still
	 * wants the BTF of the "object file" it came from: any user BTF. */
	if (type == BPF_MAP_TYPE_STRUCT_OPS && !o.btf_fd) {
		unsigned k, v;
		btf = ebpfdsl_map_btf_bytes(4, value_size ? value_size : 1, &k, &v);
		if (!btf)
			return -errno;
		o.btf_fd = (__u32)btf__fd(btf);
	}
	/* An empty name goes as none: given any name, even "", libbpf loads a
	 * probe program to learn whether the kernel takes map names. */
	if (c.name && !c.name[0])
		c.name = NULL;
	fd = bpf_map_create((enum bpf_map_type)type, c.name, key_size, value_size, max_entries, &o);
	err = fd < 0 ? -errno : fd;
	btf__free(btf); /* the map holds its own reference to the BTF */
	if (fd >= 0 && type == EBPFDSL_MAP_TYPE_ARENA && !o.map_extra) {
		int e = arena_fix_address(fd, max_entries);

		if (e < 0) {
			close(fd);
			return e;
		}
	}
	return err;
}

int ebpfdsl_map__open_id(uint32_t id)
{
	int fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

int ebpfdsl_map__open_pinned(const char *path)
{
	return ebpfdsl_obj__open_kind(path, EBPFDSL_OBJ_MAP, NULL);
}

/* The kernel says whether a map is frozen only in its fdinfo. */
static int read_frozen(int fd)
{
	char path[64], line[128];
	int frozen = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "frozen: %d", &frozen) == 1)
			break;
	fclose(f);
	return frozen;
}

int ebpfdsl_map__info(int fd, struct ebpfdsl_map_info *info)
{
	struct ebpfdsl_map_info full;
	struct bpf_map_info k;
	__u32 len = sizeof(k);

	if (!info || info->sz < sizeof(info->sz))
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	if (bpf_obj_get_info_by_fd(fd, &k, &len))
		return -errno;
	memset(&full, 0, sizeof(full));
	full.type = (int)k.type;
	full.id = k.id;
	full.key_size = k.key_size;
	full.value_size = k.value_size;
	full.max_entries = k.max_entries;
	full.flags = k.map_flags;
	memcpy(full.name, k.name, sizeof(full.name));
	full.name[sizeof(full.name) - 1] = '\0';
	full.map_extra = k.map_extra;
	full.ifindex = k.ifindex;
	full.btf_id = k.btf_id;
	full.btf_key_type_id = k.btf_key_type_id;
	full.btf_value_type_id = k.btf_value_type_id;
	full.btf_vmlinux_value_type_id = k.btf_vmlinux_value_type_id;
	/* one file read per call: only for callers who ask (m:info()), not
	 * for every create, open, count, clear or batch fallback */
	full.frozen = EBPFDSL_OPTS_HAS(info, frozen) && info->frozen ? read_frozen(fd) : -1;
	/* a caller built against an older, smaller struct gets its part */
	return ebpfdsl_opts_out(info, &full, sizeof(full));
}

int ebpfdsl_map__lookup(int fd, const void *key, void *value, uint64_t flags)
{
	return bpf_map_lookup_elem_flags(fd, key, value, flags) ? -errno : 0;
}

int ebpfdsl_map__update(int fd, const void *key, const void *value, uint64_t flags)
{
	return bpf_map_update_elem(fd, key, value, flags) ? -errno : 0;
}

int ebpfdsl_map__delete(int fd, const void *key)
{
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

int ebpfdsl_map__lookup_and_delete(int fd, const void *key, void *value, uint64_t flags)
{
	return bpf_map_lookup_and_delete_elem_flags(fd, key, value, flags) ? -errno : 0;
}

int ebpfdsl_map__next_key(int fd, const void *key, void *next)
{
	return bpf_map_get_next_key(fd, key, next) ? -errno : 0;
}

int ebpfdsl_map__freeze(int fd)
{
	return bpf_map_freeze(fd) ? -errno : 0;
}
