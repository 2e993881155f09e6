/* SPDX-License-Identifier: MIT */
/* offsetof through BTF: a member path such as "se.vruntime" or "comm[3]"
 * resolved to a bit offset, walking into anonymous structs and unions the
 * way C lets a program name their members directly. */
#include <errno.h>
#include <string.h>
#include <bpf/btf.h>
#include "btf_impl.h"

#define MAX_ANON_DEPTH 32
/* Members looked at per path component, over every level of anonymous
 * members: every member of every struct and union of a 6.18 vmlinux (83,011
 * lookups, absent names too) is found within 1,024. Crafted BTF can make a
 * search fan out (k anonymous members of one type, nested n deep, are k^n
 * paths); the budget ends it with -E2BIG. */
#ifndef MAX_MEMBER_VISITS
#define MAX_MEMBER_VISITS 16384
#endif

/* One search for a member name through anonymous members: the types on
 * the way down (a type met again is a loop, not a miss) and the work left. */
struct search {
	uint32_t path[MAX_ANON_DEPTH + 1];
	int depth;
	long budget;
};

/* Finds `name` (len bytes) among the members of composite `t` (type id
 * `id`), looking through anonymous members; adds its bit offset to *bits.
 * -ENOENT when it is not there; -ELOOP and -E2BIG end the whole search. */
static int find_member(const ebpfdsl_btf *btf, uint32_t id, const struct btf_type *t, const char *name,
		       size_t len, uint32_t *bits, uint32_t *type, uint32_t *bitfield, struct search *s)
{
	const struct btf_member *m = btf_members(t);
	int err;

	for (int d = 0; d < s->depth; d++)
		if (s->path[d] == id)
			return -ELOOP; /* an anonymous member of its own type */
	if (s->depth > MAX_ANON_DEPTH)
		return -E2BIG; /* deeper than any compiler nests */
	s->path[s->depth++] = id;
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = ebpfdsl__btf_str(btf, m->name_off);
		if (--s->budget < 0) {
			err = -E2BIG;
			goto out;
		}
		if (mname && *mname && strlen(mname) == len && memcmp(mname, name, len) == 0) {
			*bits += btf_member_bit_offset(t, i);
			*type = m->type;
			*bitfield = btf_member_bitfield_size(t, i);
			err = 0;
			goto out;
		}
	}
	err = -ENOENT;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = ebpfdsl__btf_str(btf, m->name_off);
		int inner = ebpfdsl__btf_resolve_type(btf, m->type);
		const struct btf_type *it = inner > 0 ? ebpfdsl__btf_type(btf, (uint32_t)inner) : NULL;
		uint32_t b = *bits + btf_member_bit_offset(t, i);
		int e;
		if (mname && *mname)
			continue;
		if (inner == -ELOOP) {
			err = -ELOOP; /* a modifier chain that never ends */
			goto out;
		}
		if (!it || !btf_is_composite(it))
			continue;
		e = find_member(btf, (uint32_t)inner, it, name, len, &b, type, bitfield, s);
		if (e == 0)
			*bits = b;
		if (e != -ENOENT) {
			err = e; /* found, or a loop or the budget: no other member may answer */
			goto out;
		}
	}
out:
	s->depth--;
	return err;
}

/* The type behind typedefs and modifiers, or NULL with *err set: -ELOOP
 * for a chain that never ends (libbpf bounds it), 0 otherwise. */
static const struct btf_type *skip_mods(const ebpfdsl_btf *btf, uint32_t id, int *err)
{
	int r = ebpfdsl__btf_resolve_type(btf, id);
	*err = r == -ELOOP ? -ELOOP : 0;
	return r > 0 ? ebpfdsl__btf_type(btf, (uint32_t)r) : NULL;
}

static int parse_index(const char **p, uint64_t *idx)
{
	const char *s = *p;
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > 0xffffffffu)
			return -ERANGE;
		s++;
	}
	if (*s != ']')
		return -EINVAL;
	*idx = v;
	*p = s + 1;
	return 0;
}

int ebpfdsl_btf__offsetof(const ebpfdsl_btf *b, uint32_t type_id, const char *path, struct ebpfdsl_btf_field *f)
{
	const ebpfdsl_btf *btf = b;
	const char *p = path;
	uint64_t bits = 0;
	uint32_t type = type_id, bitfield = 0;
	int err;

	memset(f, 0, sizeof(*f));
	if (!path || !ebpfdsl__btf_type(btf, type_id))
		return -EINVAL;
	while (*p) {
		const struct btf_type *t = skip_mods(btf, type, &err);
		const char *start = p;
		struct search s = { .depth = 0, .budget = MAX_MEMBER_VISITS };
		uint32_t mbits = 0;
		size_t len;

		if (p != path) {
			if (*p != '.') {
				f->err_pos = (size_t)(p - path);
				return -EINVAL;
			}
			start = ++p;
		}
		while (*p && *p != '.' && *p != '[')
			p++;
		len = (size_t)(p - start);
		if (len == 0 || !t || !btf_is_composite(t)) {
			f->err_pos = (size_t)(start - path);
			return len == 0 ? -EINVAL : err ? err : -ENOTDIR; /* nothing to look into */
		}
		err = find_member(btf, (uint32_t)ebpfdsl__btf_resolve_type(btf, type), t, start, len, &mbits, &type, &bitfield,
				  &s);
		if (err) {
			f->err_pos = (size_t)(start - path);
			return err;
		}
		bits += mbits;
		while (*p == '[') {
			const struct btf_type *at = skip_mods(btf, type, &err);
			uint64_t idx;
			int64_t esz;
			const char *open = p++;
			if (!at || !btf_is_array(at)) {
				f->err_pos = (size_t)(open - path);
				return err ? err : -ENOTDIR;
			}
			if ((err = parse_index(&p, &idx))) {
				f->err_pos = (size_t)(open - path);
				return err;
			}
			/* flexible arrays (nelems 0) take any index */
			if (btf_array(at)->nelems && idx >= btf_array(at)->nelems) {
				f->err_pos = (size_t)(open - path);
				return -ERANGE;
			}
			type = btf_array(at)->type;
			esz = ebpfdsl__btf_resolve_size(btf, type);
			if (esz < 0) {
				f->err_pos = (size_t)(open - path);
				return esz == -ELOOP ? -ELOOP : -EINVAL;
			}
			bits += idx * (uint64_t)esz * 8;
			bitfield = 0;
		}
		if (bits > 0xffffffffu) {
			f->err_pos = (size_t)(start - path);
			return -ERANGE;
		}
	}
	f->bit_offset = (uint32_t)bits;
	f->byte_offset = (uint32_t)(bits / 8);
	f->bitfield_size = bitfield;
	f->type = type;
	f->size = ebpfdsl__btf_resolve_size(btf, type);
	return 0;
}
