/* SPDX-License-Identifier: MIT */
/* BTF that some map types require: a minimal key/value description for
 * local storage maps, and the kernel's value type of a struct_ops map. */
#include <errno.h>
#include <stdio.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel.h"

/* Local storage maps check only that their key is a 32-bit int and that
 * the value's type has value_size bytes: an int and a struct holding a
 * byte array say exactly that, and print readably in bpftool. */
struct btf *ebpfdsl_map_btf_bytes(unsigned key_size, unsigned value_size, unsigned *key_id, unsigned *value_id)
{
	struct btf *btf = btf__new_empty();
	int u8, u32, idx, k, arr, v, err;

	if (!btf)
		return NULL;
	u8 = btf__add_int(btf, "unsigned char", 1, 0);
	u32 = btf__add_int(btf, "unsigned int", 4, 0);
	idx = u32;
	if (key_size == 4)
		k = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	else
		k = btf__add_array(btf, idx, u8, key_size);
	arr = btf__add_array(btf, idx, u8, value_size);
	v = btf__add_struct(btf, "ebpfdsl_value", value_size);
	err = u8 < 0 || u32 < 0 || k < 0 || arr < 0 || v < 0 ? -EINVAL : 0;
	if (!err)
		err = btf__add_field(btf, "data", arr, 0, 0);
	if (!err) {
		struct ebpfdsl_hush h;
		ebpfdsl_hush_begin(&h, NULL, 0);
		err = btf__load_into_kernel(btf);
		ebpfdsl_hush_end(&h, err != 0);
	}
	if (err) {
		btf__free(btf);
		errno = err < 0 ? -err : err;
		return NULL;
	}
	*key_id = (unsigned)k;
	*value_id = (unsigned)v;
	return btf;
}

int ebpfdsl_struct_ops_type(const char *name, unsigned *type_id, unsigned *value_size)
{
	const ebpfdsl_btf *vmlinux;
	char full[128];
	int64_t size;
	int id;

	if (!name || snprintf(full, sizeof(full), "bpf_struct_ops_%s", name) >= (int)sizeof(full))
		return -EINVAL;
	vmlinux = ebpfdsl_btf__vmlinux(); /* parsed once per process, not per map */
	if (!vmlinux)
		return -errno;
	id = ebpfdsl_btf__find(vmlinux, full, BTF_KIND_STRUCT);
	if (id < 0)
		return -ENOENT;
	size = ebpfdsl_btf__size(vmlinux, (uint32_t)id);
	if (size < 0)
		return (int)size;
	if (type_id)
		*type_id = (unsigned)id;
	if (value_size)
		*value_size = (unsigned)size;
	return 0;
}
