/* SPDX-License-Identifier: MIT */
/* The global variables of a clang object's .rodata, .data and .bss (and
 * .data.NAME sections): found through the object's BTF, read and written
 * before load in libbpf's initial image, after load in the kernel's map. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel.h"

/* Calls fn for each global variable, in BTF order (sections as clang
 * wrote them, variables in section order), until it returns nonzero;
 * returns that value, or 0. Static variables are left out, as libbpf's
 * skeletons leave them out: only globals are a program's interface. */
typedef int (*var_fn)(void *ctx, size_t i, const struct ebpfdsl_object_var *v);

/* Whether a string sets the type by a value's name (enums) or as
 * characters (arrays of 1-byte ints), rather than as its raw bytes. */
static int takes_text(const struct btf *b, uint32_t type)
{
	int id = btf__resolve_type(b, type);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(b, (uint32_t)id);
	if (!t || btf_is_any_enum(t))
		return t != NULL;
	if (!btf_is_array(t))
		return 0;
	id = btf__resolve_type(b, btf_array(t)->type);
	t = id < 0 ? NULL : btf__type_by_id(b, (uint32_t)id);
	return t && btf_is_int(t) && t->size == 1;
}

static int each_var(const ebpfdsl_object *o, var_fn fn, void *ctx)
{
	struct bpf_object *obj = ebpfdsl__object_libbpf(o);
	const struct btf *b = bpf_object__btf(obj);
	size_t i = 0;
	uint32_t n;

	if (!b)
		return 0;
	n = btf__type_cnt(b);
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(b, id);
		const struct btf_var_secinfo *vs;
		const char *sec;
		struct bpf_map *map;
		int mi;

		if (!btf_is_datasec(t))
			continue;
		sec = btf__name_by_offset(b, t->name_off);
		/* .kconfig and .ksyms hold externs, which libbpf fills in */
		if (!sec || strcmp(sec, ".kconfig") == 0 || strcmp(sec, ".ksyms") == 0)
			continue;
		map = bpf_object__find_map_by_name(obj, sec);
		if (!map)
			continue;
		mi = ebpfdsl_object__find_map(o, bpf_map__name(map));
		if (mi < 0)
			continue;
		vs = btf_var_secinfos(t);
		for (uint16_t k = 0; k < btf_vlen(t); k++, vs++) {
			const struct btf_type *var = btf__type_by_id(b, vs->type);
			struct ebpfdsl_object_var v;
			int r;
			if (!var || !btf_is_var(var) || btf_var(var)->linkage == BTF_VAR_STATIC)
				continue;
			v.name = btf__name_by_offset(b, var->name_off);
			v.section = sec;
			v.offset = vs->offset;
			v.size = vs->size;
			v.type = var->type;
			v.map = (size_t)mi;
			v.readonly = (bpf_map__map_flags(map) & BPF_F_RDONLY_PROG) != 0;
			v.text = takes_text(b, var->type);
			if ((r = fn(ctx, i++, &v)) != 0)
				return r;
		}
	}
	return 0;
}

static int count_one(void *ctx, size_t i, const struct ebpfdsl_object_var *v)
{
	(void)i;
	(void)v;
	++*(size_t *)ctx;
	return 0;
}

size_t ebpfdsl_object__var_count(const ebpfdsl_object *o)
{
	size_t n = 0;
	each_var(o, count_one, &n);
	return n;
}

struct pick {
	size_t want;
	const char *name;
	struct ebpfdsl_object_var *out;
	size_t found;
};

static int pick_one(void *ctx, size_t i, const struct ebpfdsl_object_var *v)
{
	struct pick *p = ctx;
	if (p->name ? strcmp(p->name, v->name) != 0 : i != p->want)
		return 0;
	if (p->out)
		*p->out = *v;
	p->found = i;
	return 1;
}

int ebpfdsl_object__var(const ebpfdsl_object *o, size_t i, struct ebpfdsl_object_var *v)
{
	struct pick p = { .want = i, .out = v };
	return each_var(o, pick_one, &p) ? 0 : -ENOENT;
}

int ebpfdsl_object__find_var(const ebpfdsl_object *o, const char *name)
{
	struct pick p = { .name = name };
	if (!name)
		return -ENOENT;
	return each_var(o, pick_one, &p) ? (int)p.found : -ENOENT;
}

void ebpfdsl_object__var_missing(const ebpfdsl_object *o, const char *name, char *err, size_t len)
{
	struct ebpfdsl_object_var v;
	const char *names[256], *near[1];
	size_t n = 0, at;
	while (n < 256 && ebpfdsl_object__var(o, n, &v) == 0)
		names[n++] = v.name;
	if (n == 0) {
		ebpfdsl__msg(err, len, "has no variable '%s' (it has no global variables%s)", name,
			     ebpfdsl_object__btf(o) ? "" : "; or no BTF: build it with -g");
		return;
	}
	if (ebpfdsl_suggest(name, names, n, near, 1) == 1) {
		ebpfdsl__msg(err, len, "has no variable '%s'; did you mean '%s'", name, near[0]);
		return;
	}
	ebpfdsl__msg(err, len, "has no variable '%s' (it has ", name);
	for (size_t k = 0; k < n && (at = strlen(err)) + 1 < len; k++)
		snprintf(err + at, len - at, "%s%s", k ? ", " : "", names[k]);
	if ((at = strlen(err)) + 1 < len)
		snprintf(err + at, len - at, ")");
}

/* The section's map and, after load, its whole value from the kernel
 * (in *value, malloc'ed, value_size bytes). */
static int section_value(ebpfdsl_object *o, const struct ebpfdsl_object_var *v, struct bpf_map **map, void **value)
{
	struct bpf_object *obj = ebpfdsl__object_libbpf(o);
	uint32_t zero = 0;
	size_t size;

	*map = bpf_object__find_map_by_name(obj, v->section);
	if (!*map)
		return -ENOENT;
	size = bpf_map__value_size(*map);
	if ((size_t)v->offset + v->size > size)
		return -ERANGE;
	*value = malloc(size ? size : 1);
	if (!*value)
		return -ENOMEM;
	if (!ebpfdsl_object__loaded(o)) {
		size_t isize = 0;
		const void *init = bpf_map__initial_value(*map, &isize);
		if (!init || isize != size) {
			free(*value);
			return -ENODATA;
		}
		memcpy(*value, init, size);
		return 0;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(*map), &zero, *value) < 0) {
		int e = errno;
		free(*value);
		return -e;
	}
	return 0;
}

int ebpfdsl_object__read_var(ebpfdsl_object *o, size_t i, void *buf)
{
	struct ebpfdsl_object_var v;
	struct bpf_map *map;
	void *value;
	int err = ebpfdsl_object__var(o, i, &v);
	if (err || (err = section_value(o, &v, &map, &value)))
		return err;
	memcpy(buf, (char *)value + v.offset, v.size);
	free(value);
	return 0;
}

/* After load, through a shared mapping of the map's memory, as libbpf's
 * skeletons write: the variable's bytes change and nothing else, however
 * busy the programs writing the section's other variables are. */
static int write_mapped(int fd, size_t value_size, size_t off, const void *buf, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size = (value_size + (size_t)page - 1) / (size_t)page * (size_t)page;
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	memcpy((char *)mem + off, buf, len);
	munmap(mem, size);
	return 0;
}

int ebpfdsl_object__write_var(ebpfdsl_object *o, size_t i, const void *buf)
{
	struct ebpfdsl_object_var v;
	struct bpf_map *map;
	void *value;
	uint32_t zero = 0;
	int err = ebpfdsl_object__var(o, i, &v);

	if (err)
		return err;
	if (ebpfdsl_object__loaded(o) && v.readonly)
		return -EROFS; /* the kernel froze it at load */
	if (ebpfdsl_object__loaded(o)) {
		map = bpf_object__find_map_by_name(ebpfdsl__object_libbpf(o), v.section);
		if (map && (bpf_map__map_flags(map) & BPF_F_MMAPABLE))
			return write_mapped(bpf_map__fd(map), bpf_map__value_size(map), v.offset, buf, v.size);
	}
	if ((err = section_value(o, &v, &map, &value)))
		return err;
	memcpy((char *)value + v.offset, buf, v.size);
	if (!ebpfdsl_object__loaded(o))
		err = bpf_map__set_initial_value(map, value, bpf_map__value_size(map));
	else if (bpf_map_update_elem(bpf_map__fd(map), &zero, value, BPF_ANY) < 0)
		err = -errno;
	free(value);
	return err < 0 ? err : 0;
}
