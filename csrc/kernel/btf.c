/* SPDX-License-Identifier: MIT */
/* BTF: loading (the kernel's own, shared and parsed once; files; split
 * BTF), and flattened views of types, members, parameters and enum values
 * over libbpf's btf.h, so that callers never touch libbpf's structs. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "btf_impl.h"

/* The kernel's BTF, parsed on first use. Holders (each Lua state, or a C
 * host) keep it; the last one's drop frees it, so a host that opens and
 * closes Lua states (each unloading core.so at lua_close) does not lose
 * ~6 MB per state. Without holders it lives as long as the process. */
static pthread_mutex_t vmlinux_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ebpfdsl_btf vmlinux;
static int vmlinux_err;
static unsigned vmlinux_holds;

const ebpfdsl_btf *ebpfdsl_btf__vmlinux(void)
{
	const ebpfdsl_btf *b = &vmlinux;
	int err;

	pthread_mutex_lock(&vmlinux_lock);
	if (!vmlinux.btf && !vmlinux.view.count && !vmlinux_err) {
		struct ebpfdsl_hush h;
		ebpfdsl_hush_begin(&h, NULL, 0);
		/* read in place (btf_view.c); libbpf's loader when the file is
		 * not there (it looks for a vmlinux ELF image too) */
		if (ebpfdsl__btf_view_open(&vmlinux.view, "/sys/kernel/btf/vmlinux"))
			vmlinux.btf = btf__load_vmlinux_btf();
		ebpfdsl_hush_end(&h, !vmlinux.btf && !vmlinux.view.count);
		if (vmlinux.btf || vmlinux.view.count) {
			vmlinux.shared = 1;
			vmlinux.nkfuncs = -1; /* counted on first use */
			snprintf(vmlinux.source, sizeof(vmlinux.source), "vmlinux");
		} else {
			vmlinux_err = errno ? errno : ENOENT;
		}
	}
	err = vmlinux_err;
	pthread_mutex_unlock(&vmlinux_lock);
	if (err) {
		errno = err;
		b = NULL;
	}
	return b;
}

void ebpfdsl_btf__vmlinux_hold(void)
{
	pthread_mutex_lock(&vmlinux_lock);
	vmlinux_holds++;
	pthread_mutex_unlock(&vmlinux_lock);
}

void ebpfdsl_btf__vmlinux_drop(void)
{
	int last;

	pthread_mutex_lock(&vmlinux_lock);
	last = vmlinux_holds && --vmlinux_holds == 0;
	pthread_mutex_unlock(&vmlinux_lock);
	if (!last)
		return;
	/* outside vmlinux_lock: reading the helper names takes their lock,
	 * then this one */
	ebpfdsl__helpers_forget();
	pthread_mutex_lock(&vmlinux_lock);
	if (!vmlinux_holds) { /* nobody took it meanwhile */
		ebpfdsl__btf_free_cache(&vmlinux);
		ebpfdsl__btf_view_close(&vmlinux.view);
		btf__free(vmlinux.btf);
		memset(&vmlinux, 0, sizeof(vmlinux));
		vmlinux_err = 0; /* the next use reads it again */
	}
	pthread_mutex_unlock(&vmlinux_lock);
}

/* libbpf 1.1 parses BTF in place and accepts a type section off 4-byte
 * alignment (a 25-byte header will do), which the kernel refuses; every
 * read of such a type is then undefined behaviour (UBSan under make fuzz
 * found it). Types are multiples of 4 bytes, so the first tells. */
static int types_aligned(const struct btf *btf, const struct btf *base)
{
	uint32_t first = base ? btf__type_cnt(base) : 1;
	if (first >= btf__type_cnt(btf))
		return 1;
	return ((uintptr_t)btf__type_by_id(btf, first) & 3) == 0;
}

ebpfdsl_btf *ebpfdsl_btf__load(const char *path, const ebpfdsl_btf *base)
{
	struct ebpfdsl_btf *b;
	struct ebpfdsl_hush h;
	int err;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	/* btf__parse* try ELF first, then raw BTF */
	ebpfdsl_hush_begin(&h, NULL, 0);
	if (!base)
		b->btf = btf__parse(path, NULL);
	else if (ebpfdsl__btf_libbpf(base))
		b->btf = btf__parse_split(path, ebpfdsl__btf_libbpf(base));
	ebpfdsl_hush_end(&h, !b->btf);
	if (b->btf && !types_aligned(b->btf, base ? ebpfdsl__btf_libbpf(base) : NULL)) {
		btf__free(b->btf);
		b->btf = NULL;
		errno = EINVAL;
	}
	if (!b->btf) {
		err = errno ? errno : EINVAL;
		free(b);
		errno = err;
		return NULL;
	}
	snprintf(b->source, sizeof(b->source), "%s", path);
	b->refs = 1;
	b->nkfuncs = -1;
	if (base && !base->shared) {
		/* b's types live partly in base's memory: keep it until b goes */
		b->base = (struct ebpfdsl_btf *)(uintptr_t)base;
		__atomic_add_fetch(&b->base->refs, 1, __ATOMIC_RELAXED);
	}
	return b;
}

void ebpfdsl_btf__free(ebpfdsl_btf *b)
{
	while (b && !b->shared && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		struct ebpfdsl_btf *base = b->base;
		ebpfdsl__btf_free_cache(b);
		btf__free(b->btf);
		free(b);
		b = base; /* then drop the reference b held on its base */
	}
}

const char *ebpfdsl_btf__source(const ebpfdsl_btf *b)
{
	return b->source;
}

uint32_t ebpfdsl_btf__type_count(const ebpfdsl_btf *b)
{
	return ebpfdsl__btf_count(b);
}

/* When no kind is asked for, a name may be a struct and a function at
 * once; prefer what a user most likely means (lower rank wins). */
static int kind_rank(int kind)
{
	switch (kind) {
	case BTF_KIND_STRUCT: return 0;
	case BTF_KIND_UNION: return 1;
	case BTF_KIND_TYPEDEF: return 2;
	case BTF_KIND_ENUM: return 3;
	case BTF_KIND_ENUM64: return 4;
	case BTF_KIND_INT: return 5;
	case BTF_KIND_FLOAT: return 6;
	case BTF_KIND_FUNC: return 7;
	case BTF_KIND_VAR: return 8;
	case BTF_KIND_DATASEC: return 9;
	case BTF_KIND_FWD: return 10;
	default: return 11;
	}
}

int ebpfdsl_btf__find(const ebpfdsl_btf *b, const char *name, int kind)
{
	const struct btf_type *t;
	uint32_t best = 0;
	int best_rank = 99;

	if (!name || !*name || kind < 0 || kind > BTF_KIND_MAX)
		return -EINVAL;
	if (kind) {
		int id = ebpfdsl__btf_find_kind(b, name, kind);
		return id < 0 ? -ENOENT : id;
	}
	/* one pass over every type (libbpf's lookups are linear too) */
	for (struct ebpfdsl_btf_iter it = { 1, NULL }; best_rank > 0 && (t = ebpfdsl__btf_next(b, &it));) {
		const char *s = ebpfdsl__btf_str(b, t->name_off);
		int r;
		if (!s || strcmp(s, name) != 0)
			continue;
		r = kind_rank(btf_kind(t));
		if (r < best_rank) {
			best_rank = r;
			best = it.id - 1;
		}
	}
	return best ? (int)best : -ENOENT;
}

/* ORDER BTF_KIND: indexed by the kind number of <linux/btf.h>. */
static const char *const KIND_NAMES[] = {
	"void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef", "volatile", "const",
	"restrict", "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag", "enum64",
};

const char *ebpfdsl_btf_kind_name(int kind)
{
	if (kind < 0 || (size_t)kind >= sizeof(KIND_NAMES) / sizeof(KIND_NAMES[0]))
		return NULL;
	return KIND_NAMES[kind];
}

int ebpfdsl_btf_kind_parse(const char *name)
{
	for (size_t k = 0; name && k < sizeof(KIND_NAMES) / sizeof(KIND_NAMES[0]); k++)
		if (strcmp(KIND_NAMES[k], name) == 0)
			return (int)k;
	return -1;
}

int ebpfdsl_btf__type(const ebpfdsl_btf *b, uint32_t id, struct ebpfdsl_btf_type *out)
{
	const struct btf_type *t;

	t = ebpfdsl__btf_type(b, id); /* NULL past the last id */
	if (!t)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->component_idx = -1;
	if (id == 0) {
		out->name = "void";
		return 0;
	}
	out->kind = btf_kind(t);
	out->name = ebpfdsl__btf_str(b, t->name_off);
	if (!out->name)
		out->name = "";
	out->vlen = btf_vlen(t);
	out->kflag = btf_kflag(t);
	switch (out->kind) {
	case BTF_KIND_INT:
		out->size = t->size;
		out->int_encoding = btf_int_encoding(t);
		out->int_bits = btf_int_bits(t);
		out->int_offset = btf_int_offset(t);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_DATASEC:
	case BTF_KIND_FLOAT:
		out->size = t->size;
		break;
	case BTF_KIND_ARRAY:
		out->type = btf_array(t)->type;
		out->nelems = btf_array(t)->nelems;
		out->index_type = btf_array(t)->index_type;
		break;
	case BTF_KIND_FUNC:
		out->type = t->type;
		out->linkage = out->vlen; /* BTF keeps a func's linkage in vlen */
		out->vlen = 0;
		break;
	case BTF_KIND_VAR:
		out->type = t->type;
		out->linkage = (int)btf_var(t)->linkage;
		break;
	case BTF_KIND_DECL_TAG:
		out->type = t->type;
		out->component_idx = btf_decl_tag(t)->component_idx;
		break;
	case BTF_KIND_FWD:
		break;
	default: /* ptr, typedef, modifiers, type tag, func_proto */
		out->type = t->type;
		break;
	}
	return 0;
}

int ebpfdsl_btf__member(const ebpfdsl_btf *b, uint32_t id, uint32_t i, struct ebpfdsl_btf_member *m)
{
	const struct btf_type *t = id ? ebpfdsl__btf_type(b, id) : NULL;
	const char *name;

	if (!t)
		return -ENOENT;
	if (i >= btf_vlen(t))
		return -ENOENT;
	memset(m, 0, sizeof(*m));
	if (btf_is_composite(t)) {
		const struct btf_member *mb = btf_members(t) + i;
		name = ebpfdsl__btf_str(b, mb->name_off);
		m->type = mb->type;
		m->bit_offset = btf_member_bit_offset(t, i);
		m->bitfield_size = btf_member_bitfield_size(t, i);
	} else if (btf_is_func_proto(t)) {
		const struct btf_param *p = btf_params(t) + i;
		name = ebpfdsl__btf_str(b, p->name_off);
		m->type = p->type;
	} else if (btf_is_datasec(t)) {
		const struct btf_var_secinfo *v = btf_var_secinfos(t) + i;
		const struct btf_type *var = ebpfdsl__btf_type(b, v->type);
		name = var ? ebpfdsl__btf_str(b, var->name_off) : NULL;
		m->type = v->type;
		m->bit_offset = v->offset * 8;
		m->bitfield_size = v->size;
	} else {
		return -EINVAL;
	}
	m->name = name ? name : "";
	return 0;
}

int ebpfdsl_btf__enum_value(const ebpfdsl_btf *b, uint32_t id, uint32_t i, const char **name, int64_t *value,
			    int *is_signed)
{
	const struct btf_type *t = id ? ebpfdsl__btf_type(b, id) : NULL;
	uint32_t name_off;

	if (!t || i >= btf_vlen(t))
		return -ENOENT;
	if (btf_is_enum(t)) {
		const struct btf_enum *e = btf_enum(t) + i;
		name_off = e->name_off;
		/* kflag marks signed enums; old BTF without it stored values as
		 * signed 32-bit, which is how the kernel prints them too */
		*value = btf_kflag(t) ? (int64_t)e->val : (int64_t)(uint32_t)e->val;
	} else if (btf_is_enum64(t)) {
		const struct btf_enum64 *e = btf_enum64(t) + i;
		name_off = e->name_off;
		*value = (int64_t)btf_enum64_value(e);
	} else {
		return -EINVAL;
	}
	*is_signed = btf_kflag(t);
	*name = ebpfdsl__btf_str(b, name_off);
	if (!*name)
		*name = "";
	return 0;
}

int64_t ebpfdsl_btf__size(const ebpfdsl_btf *b, uint32_t id)
{
	int64_t n = ebpfdsl__btf_resolve_size(b, id);
	return n < 0 ? -EINVAL : n;
}

int ebpfdsl_btf__skip_mods(const ebpfdsl_btf *b, uint32_t id)
{
	for (int depth = 0; depth < 64; depth++) {
		const struct btf_type *t = id ? ebpfdsl__btf_type(b, id) : NULL;
		if (!t || !(btf_is_mod(t) || btf_is_typedef(t)))
			return (int)id;
		id = t->type;
	}
	return -ELOOP;
}

/* libbpf's own rule (find_btf_by_prefix_kind): each attach type finds its
 * target under a fixed name prefix and kind, kept in its row of
 * csrc/kernel/prog_defs.c. */
int ebpfdsl_btf__attach_id(const ebpfdsl_btf *b, int attach_type, const char *name)
{
	const struct ebpfdsl_prog_def *d = ebpfdsl_prog_def_target(attach_type);
	char full[256];

	if (!d)
		return -EINVAL;
	if (!name || (size_t)snprintf(full, sizeof(full), "%s%s", d->target_prefix, name) >= sizeof(full))
		return -ENAMETOOLONG;
	return ebpfdsl_btf__find(b, full, d->target_kind);
}

int ebpfdsl_btf__struct_ops_member(const ebpfdsl_btf *b, const char *path, uint32_t *struct_id)
{
	const char *dot = path ? strchr(path, '.') : NULL;
	char sname[256];
	const struct btf_type *t;
	int id;

	if (!dot || dot == path || (size_t)(dot - path) >= sizeof(sname))
		return -EINVAL;
	memcpy(sname, path, (size_t)(dot - path));
	sname[dot - path] = '\0';
	id = ebpfdsl_btf__find(b, sname, BTF_KIND_STRUCT);
	if (id < 0)
		return id;
	t = ebpfdsl__btf_type(b, (uint32_t)id);
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		const char *m = ebpfdsl__btf_str(b, btf_members(t)[i].name_off);
		if (m && strcmp(m, dot + 1) == 0) {
			*struct_id = (uint32_t)id;
			return i;
		}
	}
	return -ENOENT;
}
