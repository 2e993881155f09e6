/* SPDX-License-Identifier: MIT */
/* kptr fields of a layout written as BTF: which field a path names, and
 * the "pointer to type tag to kernel struct" the verifier looks for. */
#include <stdio.h>
#include <linux/btf.h>
#include "kernel.h"

int ebpfdsl_kptr_field(const ebpfdsl_layout *l, const char *path, struct ebpfdsl_kptr *k, char *err, size_t len)
{
	const char *p = path;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p), count = ebpfdsl_layout__field_count(l), i;
		struct ebpfdsl_layout_field f;
		for (i = 0; i < count; i++) {
			ebpfdsl_layout__field(l, i, &f);
			if (strlen(f.name) == n && !strncmp(f.name, p, n))
				break;
		}
		if (i == count) {
			ebpfdsl__msg(err, len, "kptr '%s': layout '%s' has no field '%.*s'", path,
				     ebpfdsl_layout__name(l), (int)n, p);
			return -ENOENT;
		}
		if (!dot) {
			if (f.type != EBPFDSL_TYPE_PTR || f.count) {
				ebpfdsl__msg(err, len, "kptr '%s': the field must be a ptr (not an array), got %s", path,
					     ebpfdsl_type_name(f.type));
				return -EINVAL;
			}
			k->l = l;
			k->field = i;
			return 0;
		}
		if (f.type != EBPFDSL_TYPE_STRUCT) {
			ebpfdsl__msg(err, len, "kptr '%s': '%s' is no nested layout", path, f.name);
			return -EINVAL;
		}
		l = f.layout;
		p = dot + 1;
	}
}

int ebpfdsl_kptr_type(void *ctx, ebpfdsl_btfw *w, const ebpfdsl_layout *l, size_t field)
{
	struct ebpfdsl_kptrs *ks = ctx;
	for (size_t i = 0; i < ks->n; i++) {
		struct ebpfdsl_kptr *k = &ks->k[i];
		const ebpfdsl_btf *vmlinux;
		int64_t size = 0;
		int sid, tid;
		if (k->l != l || k->field != field)
			continue;
		if (k->id)
			return k->id;
		vmlinux = ebpfdsl_btf__vmlinux();
		if (vmlinux) {
			int id = ebpfdsl_btf__find(vmlinux, k->target, BTF_KIND_STRUCT);
			if (id > 0)
				size = ebpfdsl_btf__size(vmlinux, (uint32_t)id);
		}
		sid = ebpfdsl_btfw__struct(w, k->target, size > 0 ? (uint32_t)size : 0);
		tid = sid > 0 ? ebpfdsl_btfw__type_tag(w, k->tag ? k->tag : "kptr", sid) : -1;
		k->id = tid > 0 ? ebpfdsl_btfw__ptr(w, tid) : -1;
		return k->id;
	}
	return 0;
}
