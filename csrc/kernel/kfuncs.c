/* SPDX-License-Identifier: MIT */
/* Names the running kernel knows and the build host's header does not:
 * helper ids from its BTF's enum bpf_func_id, kfuncs (FUNCs tagged
 * bpf_kfunc) in vmlinux and module BTF, and a module's BTF object fd,
 * which a call into one of its kfuncs needs in the program's fd_array. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "btf_impl.h"

/* ---- helpers ------------------------------------------------------------- */

/* Read once while the kernel's BTF is held: the names point into it, so
 * its last drop forgets them (ebpfdsl__helpers_forget) before freeing it,
 * and the next use reads them again. */
static pthread_mutex_t helpers_lock = PTHREAD_MUTEX_INITIALIZER;
static const char **helper_names;
static int helper_count, helper_err, helpers_read;

/* Value i of enum bpf_func_id when it is a BPF_FUNC_ name (*name), else -1. */
static int64_t func_value(const ebpfdsl_btf *v, int id, uint32_t i, const char **name)
{
	int64_t val;
	int sgn;
	if (ebpfdsl_btf__enum_value(v, (uint32_t)id, i, name, &val, &sgn) || strncmp(*name, "BPF_FUNC_", 9))
		return -1;
	return val;
}

static void helpers_parse(void)
{
	const ebpfdsl_btf *v = ebpfdsl_btf__vmlinux();
	struct ebpfdsl_btf_type t;
	int id, max = -1;

	if (!v) {
		helper_err = -(errno ? errno : ENOENT);
		goto out;
	}
	id = ebpfdsl_btf__find(v, "bpf_func_id", BTF_KIND_ENUM);
	if (id < 0 || ebpfdsl_btf__type(v, (uint32_t)id, &t)) {
		helper_err = -ENOENT;
		goto out;
	}
	for (uint32_t i = 0; i < t.vlen; i++) {
		const char *name;
		int64_t val = func_value(v, id, i, &name);
		if (val > max && val < 65536)
			max = (int)val;
	}
	helper_names = calloc((size_t)max + 1, sizeof(*helper_names));
	if (max < 0 || !helper_names) {
		helper_err = max < 0 ? -ENOENT : -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < t.vlen; i++) {
		const char *name;
		int64_t val = func_value(v, id, i, &name);
		/* the strings live as long as the vmlinux BTF */
		if (val > 0 && val <= max)
			helper_names[val] = name + 9;
	}
	helper_count = max + 1;
out:
	ebpfdsl_helpers_set_kernel(helper_names, helper_count);
}

int ebpfdsl_helpers_load_kernel(void)
{
	int r;
	pthread_mutex_lock(&helpers_lock);
	if (!helpers_read) {
		helpers_read = 1;
		helpers_parse();
	}
	r = helper_err ? helper_err : helper_count;
	pthread_mutex_unlock(&helpers_lock);
	return r;
}

void ebpfdsl__helpers_forget(void)
{
	pthread_mutex_lock(&helpers_lock);
	if (helpers_read)
		ebpfdsl_helpers_set_kernel(NULL, 0); /* asks the loader again when needed */
	free(helper_names);
	helper_names = NULL;
	helper_count = helper_err = helpers_read = 0;
	pthread_mutex_unlock(&helpers_lock);
}

/* ---- kfuncs -------------------------------------------------------------- */

static pthread_mutex_t kfuncs_lock = PTHREAD_MUTEX_INITIALIZER;

void ebpfdsl__btf_free_cache(struct ebpfdsl_btf *b)
{
	free(b->kfuncs);
	b->kfuncs = NULL;
	b->nkfuncs = -1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The FUNCs a bpf_kfunc decl tag names, among the BTF's own types (a
 * module's split BTF: not its base's). */
static int find_kfuncs(struct ebpfdsl_btf *b)
{
	struct ebpfdsl_btf_iter it = { ebpfdsl__btf_first(b), NULL };
	const struct btf_type *t;
	uint32_t count = 0, cap = 0;
	uint32_t *ids = NULL;

	while ((t = ebpfdsl__btf_next(b, &it))) {
		const struct btf_type *target;
		const char *name;
		if (!btf_is_decl_tag(t) || btf_decl_tag(t)->component_idx != -1)
			continue;
		name = ebpfdsl__btf_str(b, t->name_off);
		target = ebpfdsl__btf_type(b, t->type);
		if (!name || strcmp(name, "bpf_kfunc") || !target || !btf_is_func(target))
			continue;
		if (count == cap) {
			uint32_t *p;
			cap = cap ? cap * 2 : 64;
			p = realloc(ids, cap * sizeof(*p));
			if (!p) {
				free(ids);
				return -ENOMEM;
			}
			ids = p;
		}
		ids[count++] = t->type;
	}
	if (count)
		qsort(ids, count, sizeof(*ids), cmp_u32);
	b->kfuncs = ids;
	b->nkfuncs = (int)count;
	return 0;
}

int ebpfdsl_btf__kfuncs(const ebpfdsl_btf *cb, uint32_t *ids, size_t max)
{
	struct ebpfdsl_btf *b = (struct ebpfdsl_btf *)(uintptr_t)cb; /* a cache, computed once */
	int err = 0, n;
	pthread_mutex_lock(&kfuncs_lock);
	if (b->nkfuncs < 0)
		err = find_kfuncs(b);
	n = b->nkfuncs;
	for (int i = 0; !err && ids && i < n && (size_t)i < max; i++)
		ids[i] = b->kfuncs[i];
	pthread_mutex_unlock(&kfuncs_lock);
	return err ? err : n;
}

int ebpfdsl_btf__is_kfunc(const ebpfdsl_btf *cb, uint32_t id)
{
	struct ebpfdsl_btf *b = (struct ebpfdsl_btf *)(uintptr_t)cb;
	int n = ebpfdsl_btf__kfuncs(cb, NULL, 0);
	if (n < 0)
		return n;
	return bsearch(&id, b->kfuncs, (size_t)n, sizeof(id), cmp_u32) != NULL;
}

/* The cache, once made, never changes: fn runs without the lock, so it
 * may call back in (or never return, as a Lua error does). */
int ebpfdsl_btf__each_kfunc(const ebpfdsl_btf *cb, int (*fn)(void *ctx, const char *name, uint32_t id), void *ctx)
{
	int n = ebpfdsl_btf__kfuncs(cb, NULL, 0);
	for (int i = 0; i < n; i++) {
		struct ebpfdsl_btf_type t;
		int rc;
		if (ebpfdsl_btf__type(cb, cb->kfuncs[i], &t))
			continue;
		rc = fn(ctx, t.name, cb->kfuncs[i]);
		if (rc)
			return rc;
	}
	return n;
}

/* ---- module BTF ---------------------------------------------------------- */

/* The fd of the kernel's BTF object named `name` ("vmlinux", a module),
 * or -errno (-ENOENT: no such object). */
static int kernel_btf_fd(const char *name)
{
	uint32_t id = 0;
	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info;
		char got[64] = "";
		__u32 len = sizeof(info);
		int fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0)
			continue; /* gone meanwhile */
		memset(&info, 0, sizeof(info));
		info.name = (__u64)(uintptr_t)got;
		info.name_len = sizeof(got);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf && !strcmp(got, name))
			return fd;
		close(fd);
	}
	return errno == ENOENT ? -ENOENT : -errno;
}

ebpfdsl_btf *ebpfdsl_btf__kernel(const char *module)
{
	const ebpfdsl_btf *vmlinux = ebpfdsl_btf__vmlinux();
	char path[256];
	ebpfdsl_btf *b;
	int fd;

	if (!module || !*module || strchr(module, '/') || !strcmp(module, "vmlinux")) {
		errno = EINVAL;
		return NULL;
	}
	if (!vmlinux)
		return NULL;
	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", module);
	b = ebpfdsl_btf__load(path, vmlinux);
	if (!b)
		return NULL;
	fd = kernel_btf_fd(module);
	if (fd < 0) {
		ebpfdsl_btf__free(b);
		errno = -fd;
		return NULL;
	}
	btf__set_fd(b->btf, fd); /* closed with the handle */
	return b;
}

int ebpfdsl_btf_modules(int (*fn)(void *ctx, const char *module), void *ctx)
{
	DIR *d = opendir("/sys/kernel/btf");
	struct dirent *e;
	int n = 0, r = 0;
	if (!d)
		return -errno;
	while (!r && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "vmlinux"))
			continue;
		n++;
		r = fn(ctx, e->d_name);
	}
	closedir(d);
	return r ? r : n;
}
