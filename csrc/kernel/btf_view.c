/* SPDX-License-Identifier: MIT */
/* The kernel's BTF read in place: /sys/kernel/btf/vmlinux mapped (or read
 * once), with an index of where each type starts, and the few lookups the
 * BTF files make over either this view or a libbpf-parsed BTF. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "btf_impl.h"

/* Why not libbpf's btf__new: it copies the 5-6 MB it is given into fresh
 * memory, and faulting those pages in was most of a BTF-using tool's
 * start-up (and 5 MB of its RSS). Since 6.16 the kernel lets the file be
 * mapped straight onto its own copy: nothing to copy, nothing to fault. */

static const struct btf_type void_type; /* what id 0 reads as, like libbpf's */

/* Bytes of a type's record, or 0 for a kind this view does not know. */
static size_t record_size(const struct btf_type *t)
{
	size_t n = sizeof(*t), vlen = btf_vlen(t);

	switch (btf_kind(t)) {
	case BTF_KIND_FWD:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return n;
	case BTF_KIND_INT:
		return n + sizeof(uint32_t);
	case BTF_KIND_ARRAY:
		return n + sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return n + vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return n + vlen * sizeof(struct btf_enum);
	case BTF_KIND_ENUM64:
		return n + vlen * sizeof(struct btf_enum64);
	case BTF_KIND_FUNC_PROTO:
		return n + vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return n + sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return n + vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:
		return n + sizeof(struct btf_decl_tag);
	default:
		return 0;
	}
}

/* Checks the header and finds the sections. Types are walked later, as
 * far as a lookup needs (a tool's look at task_struct reads the first
 * 14% of vmlinux's): each page of the mapping costs at its first touch. */
static int view_index(struct ebpfdsl_btf_view *v)
{
	const struct btf_header *h = v->raw;
	uint64_t types_at, strs_at;
	uint32_t cap;

	if (v->size < sizeof(*h) || h->magic != BTF_MAGIC || h->version != BTF_VERSION ||
	    h->hdr_len < sizeof(*h) || h->hdr_len > v->size)
		return -EINVAL;
	types_at = (uint64_t)h->hdr_len + h->type_off;
	strs_at = (uint64_t)h->hdr_len + h->str_off;
	if (types_at + h->type_len > v->size || strs_at + h->str_len > v->size || (types_at & 3) || !h->str_len)
		return -EINVAL;
	v->types = (const char *)v->raw + types_at;
	v->types_len = h->type_len;
	v->strs = (const char *)v->raw + strs_at;
	v->str_len = h->str_len;
	if (v->strs[0] || v->strs[v->str_len - 1])
		return -EINVAL; /* every name must end inside the section */
	/* at most one type per 12 bytes; pages never written stay unbacked */
	cap = h->type_len / sizeof(struct btf_type) / EBPFDSL_BTF_VIEW_STEP + 1;
	v->marks = malloc((size_t)cap * sizeof(*v->marks));
	if (!v->marks)
		return -ENOMEM;
	v->known = 1;
	v->done = h->type_len == 0;
	v->count = 1; /* void, until the walk says more */
	return pthread_mutex_init(&v->lock, NULL) ? -ENOMEM : 0;
}

/* Walks the records on until `id` is indexed or the section ends (a
 * record that does not fit ends it too: the types before it stay), each
 * record's size checked, every STEP-th id's offset kept (a full index
 * would be 4 bytes a type: ~0.5 MB to fault in). 1 when `id` is there. */
static int reach(const struct ebpfdsl_btf_view *cv, uint32_t id)
{
	struct ebpfdsl_btf_view *v = (struct ebpfdsl_btf_view *)(uintptr_t)cv; /* an index, grown once */
	uint32_t n;

	if (id < __atomic_load_n(&v->known, __ATOMIC_ACQUIRE))
		return 1;
	pthread_mutex_lock(&v->lock);
	n = v->known;
	while (!v->done && n <= id) {
		const struct btf_type *t = (const void *)(v->types + v->pos);
		size_t sz = v->types_len - v->pos >= sizeof(*t) ? record_size(t) : 0;
		if (!sz || sz > v->types_len - v->pos) {
			v->done = 1;
			break;
		}
		if ((n - 1) % EBPFDSL_BTF_VIEW_STEP == 0)
			v->marks[(n - 1) / EBPFDSL_BTF_VIEW_STEP] = v->pos;
		n++;
		v->pos += (uint32_t)sz;
		v->done = v->pos == v->types_len;
	}
	if (v->done)
		v->count = n;
	__atomic_store_n(&v->known, n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&v->lock);
	return id < n;
}

void ebpfdsl__btf_view_close(struct ebpfdsl_btf_view *v)
{
	if (v->mapped)
		munmap(v->raw, v->size);
	else
		free(v->raw);
	if (v->marks)
		pthread_mutex_destroy(&v->lock);
	free(v->marks);
	btf__free(v->copy);
	memset(v, 0, sizeof(*v));
}

/* The whole file in memory of our own, when it cannot be mapped (kernels
 * before 6.16); sysfs gives at most a page per read. */
static int read_all(int fd, struct ebpfdsl_btf_view *v)
{
	size_t got = 0;

	v->raw = malloc(v->size);
	if (!v->raw)
		return -ENOMEM;
	while (got < v->size) {
		ssize_t r = read(fd, (char *)v->raw + got, v->size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		got += (size_t)r;
	}
	return 0;
}

int ebpfdsl__btf_view_open(struct ebpfdsl_btf_view *v, const char *path)
{
	struct stat st;
	int fd, err;

	memset(v, 0, sizeof(*v));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0 || (uint64_t)st.st_size > UINT32_MAX) {
		close(fd);
		return -EINVAL;
	}
	v->size = (size_t)st.st_size;
	v->raw = mmap(NULL, v->size, PROT_READ, MAP_PRIVATE, fd, 0);
	v->mapped = v->raw != MAP_FAILED;
	err = v->mapped ? 0 : (v->raw = NULL, read_all(fd, v));
	close(fd);
	if (!err)
		err = view_index(v);
	if (err)
		ebpfdsl__btf_view_close(v);
	return err;
}

struct btf *ebpfdsl__btf_libbpf(const struct ebpfdsl_btf *cb)
{
	struct ebpfdsl_btf *b = (struct ebpfdsl_btf *)(uintptr_t)cb; /* a cache */

	struct btf *copy;

	if (b->btf)
		return b->btf;
	pthread_mutex_lock(&b->view.lock);
	if (!b->view.copy)
		b->view.copy = btf__new(b->view.raw, (uint32_t)b->view.size);
	copy = b->view.copy;
	pthread_mutex_unlock(&b->view.lock);
	return copy;
}

const struct btf_type *ebpfdsl__btf_type(const struct ebpfdsl_btf *b, uint32_t id)
{
	if (b->btf)
		return btf__type_by_id(b->btf, id);
	const char *p;

	if (!id)
		return &void_type;
	if (!reach(&b->view, id))
		return NULL;
	/* from the nearest mark on: reach checked those records */
	p = b->view.types + b->view.marks[(id - 1) / EBPFDSL_BTF_VIEW_STEP];
	for (uint32_t k = (id - 1) % EBPFDSL_BTF_VIEW_STEP; k > 0; k--)
		p += record_size((const struct btf_type *)(const void *)p);
	return (const struct btf_type *)(const void *)p;
}

const struct btf_type *ebpfdsl__btf_next(const struct ebpfdsl_btf *b, struct ebpfdsl_btf_iter *it)
{
	const struct btf_type *t;

	if (b->btf || !it->at) { /* libbpf's, or the first step of a view's */
		t = ebpfdsl__btf_type(b, it->id); /* NULL past the end */
	} else {
		t = reach(&b->view, it->id) ? (const struct btf_type *)(const void *)it->at : NULL;
	}
	if (!t)
		return NULL;
	it->id++;
	if (!b->btf && t != &void_type)
		it->at = (const char *)t + record_size(t);
	return t;
}

const char *ebpfdsl__btf_str(const struct ebpfdsl_btf *b, uint32_t off)
{
	if (b->btf)
		return btf__name_by_offset(b->btf, off);
	return off < b->view.str_len ? b->view.strs + off : NULL;
}

uint32_t ebpfdsl__btf_count(const struct ebpfdsl_btf *b)
{
	if (b->btf)
		return btf__type_cnt(b->btf);
	reach(&b->view, UINT32_MAX - 1); /* all of it */
	return b->view.count;
}

uint32_t ebpfdsl__btf_first(const struct ebpfdsl_btf *b)
{
	const struct btf *base = b->btf ? btf__base_btf(b->btf) : NULL;
	return base ? btf__type_cnt(base) : 1;
}

/* libbpf's rules for the next three (btf.c): modifier chains end after
 * 32 steps; a forward declaration is as void as void. */
#define MAX_RESOLVE_DEPTH 32

static int is_void(const struct btf_type *t)
{
	return !t || t == &void_type || btf_is_fwd(t);
}

int ebpfdsl__btf_resolve_type(const struct ebpfdsl_btf *b, uint32_t id)
{
	const struct btf_type *t;
	int depth = 0;

	if (b->btf)
		return btf__resolve_type(b->btf, id);
	t = ebpfdsl__btf_type(b, id);
	while (depth < MAX_RESOLVE_DEPTH && !is_void(t) && (btf_is_mod(t) || btf_is_typedef(t) || btf_is_var(t))) {
		id = t->type;
		t = ebpfdsl__btf_type(b, id);
		depth++;
	}
	return depth == MAX_RESOLVE_DEPTH || is_void(t) ? -EINVAL : (int)id;
}

int64_t ebpfdsl__btf_resolve_size(const struct ebpfdsl_btf *b, uint32_t id)
{
	const struct btf_type *t;
	uint32_t nelems = 1;
	int64_t size = -1;

	if (b->btf)
		return btf__resolve_size(b->btf, id);
	t = ebpfdsl__btf_type(b, id);
	for (int i = 0; i < MAX_RESOLVE_DEPTH && !is_void(t) && size < 0; i++) {
		switch (btf_kind(t)) {
		case BTF_KIND_INT:
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
		case BTF_KIND_DATASEC:
		case BTF_KIND_FLOAT:
			size = t->size;
			break;
		case BTF_KIND_PTR:
			size = sizeof(void *); /* the running kernel's own BTF */
			break;
		case BTF_KIND_ARRAY:
			if (nelems && btf_array(t)->nelems > UINT32_MAX / nelems)
				return -E2BIG;
			nelems *= btf_array(t)->nelems;
			id = btf_array(t)->type;
			break;
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_VAR:
		case BTF_KIND_DECL_TAG:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return -EINVAL;
		}
		if (size < 0)
			t = ebpfdsl__btf_type(b, id);
	}
	if (size < 0)
		return -EINVAL;
	if (nelems && size > UINT32_MAX / nelems)
		return -E2BIG;
	return (int64_t)nelems * size;
}

int ebpfdsl__btf_find_kind(const struct ebpfdsl_btf *b, const char *name, int kind)
{
	const struct btf_type *t;

	if (b->btf)
		return btf__find_by_name_kind(b->btf, name, (unsigned)kind);
	if (!strcmp(name, "void"))
		return 0;
	for (struct ebpfdsl_btf_iter it = { 1, NULL }; (t = ebpfdsl__btf_next(b, &it));)
		if (btf_kind(t) == kind && t->name_off < b->view.str_len && !strcmp(b->view.strs + t->name_off, name))
			return (int)it.id - 1;
	return -ENOENT;
}
