/* SPDX-License-Identifier: MIT */
/* offsetof through BTF: a member path such as "se.vruntime" or "comm[3]"
 * resolved to a bit offset, walking into anonymous structs and unions the
 * way C lets a program name their members directly. */
#include <errno.h>
#include <string.h>
#include <bpf/btf.h>
#include "btf_impl.h"

#define MAX_ANON_DEPTH 32

/* Finds `name` (len bytes) among the members of composite `t`, looking
 * through anonymous members; adds its bit offset to *bits. */
static int find_member(const struct btf *btf, const struct btf_type *t, const char *name, size_t len,
		       uint32_t *bits, uint32_t *type, uint32_t *bitfield, int depth)
{
	const struct btf_member *m = btf_members(t);

	if (depth > MAX_ANON_DEPTH)
		return -ELOOP;
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		if (mname && *mname && strlen(mname) == len && memcmp(mname, name, len) == 0) {
			*bits += btf_member_bit_offset(t, i);
			*type = m->type;
			*bitfield = btf_member_bitfield_size(t, i);
			return 0;
		}
	}
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		int inner = btf__resolve_type(btf, m->type);
		const struct btf_type *it = inner >= 0 ? btf__type_by_id(btf, (uint32_t)inner) : NULL;
		uint32_t b = *bits + btf_member_bit_offset(t, i);
		if ((mname && *mname) || !it || !btf_is_composite(it))
			continue;
		if (find_member(btf, it, name, len, &b, type, bitfield, depth + 1) == 0) {
			*bits = b;
			return 0;
		}
	}
	return -ENOENT;
}

/* The type behind typedefs and modifiers, or NULL. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id)
{
	int r = btf__resolve_type(btf, id);
	return r > 0 ? btf__type_by_id(btf, (uint32_t)r) : NULL;
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
	const struct btf *btf = b->btf;
	const char *p = path;
	uint64_t bits = 0;
	uint32_t type = type_id, bitfield = 0;
	int err;

	memset(f, 0, sizeof(*f));
	if (!path || type_id >= btf__type_cnt(btf))
		return -EINVAL;
	while (*p) {
		const struct btf_type *t = skip_mods(btf, type);
		const char *start = p;
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
			return len == 0 ? -EINVAL : -ENOTDIR; /* nothing to look into */
		}
		err = find_member(btf, t, start, len, &mbits, &type, &bitfield, 0);
		if (err) {
			f->err_pos = (size_t)(start - path);
			return err;
		}
		bits += mbits;
		while (*p == '[') {
			const struct btf_type *at = skip_mods(btf, type);
			uint64_t idx;
			int64_t esz;
			const char *open = p++;
			if (!at || !btf_is_array(at)) {
				f->err_pos = (size_t)(open - path);
				return -ENOTDIR;
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
			esz = btf__resolve_size(btf, type);
			if (esz < 0) {
				f->err_pos = (size_t)(open - path);
				return -EINVAL;
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
	f->size = btf__resolve_size(btf, type);
	return 0;
}
