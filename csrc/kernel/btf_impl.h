/* SPDX-License-Identifier: MIT */
/* Internal to csrc/kernel: the BTF handle's layout, shared by the BTF,
 * program-load and object files. */
#ifndef EBPFDSL_BTF_IMPL_H
#define EBPFDSL_BTF_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include "kernel.h"

struct btf;
struct btf_type;

/* The kernel's BTF read in place (btf_view.c): the file's bytes (mapped,
 * or read into memory of ours), where each type id's record starts, and
 * libbpf's parse of the same bytes, made only when split BTF needs it. */
struct ebpfdsl_btf_view {
	void *raw;
	size_t size;
	int mapped;
	const char *types, *strs;
	uint32_t types_len, str_len;
	uint32_t *marks;           /* offset of id 1 + k * STEP, by k */
	uint32_t known;            /* ids below are indexed (atomic) */
	uint32_t pos;              /* where the record of id `known` starts */
	int done;                  /* the walk reached the end: */
	uint32_t count;            /* type ids, void included; 0: no view */
	pthread_mutex_t lock;      /* held to walk on */
	struct btf *copy;
};

/* A BTF handle: libbpf's parsed BTF and where it came from. Split BTF
 * points into its base's memory, so it holds a reference on the base:
 * freeing the base first only drops the caller's reference. */
struct ebpfdsl_btf {
	struct btf *btf;           /* libbpf's, or NULL for a view */
	struct ebpfdsl_btf_view view;
	int shared;                /* the process-wide vmlinux BTF: never freed */
	int refs;                  /* the caller's, plus one per split BTF on it */
	struct ebpfdsl_btf *base;  /* referenced (NULL for none or the shared one) */
	char source[256];
	uint32_t *kfuncs;          /* ids of the FUNCs tagged bpf_kfunc, sorted, */
	int nkfuncs;               /* once kfuncs.c has looked (-1 before) */
};

int ebpfdsl__btf_view_open(struct ebpfdsl_btf_view *v, const char *path);
void ebpfdsl__btf_view_close(struct ebpfdsl_btf_view *v);
/* libbpf's BTF for a handle (a view's parsed on first call), for split
 * BTF on it; NULL with errno when libbpf refuses it. */
struct btf *ebpfdsl__btf_libbpf(const struct ebpfdsl_btf *b);
#define EBPFDSL_BTF_VIEW_STEP 16

/* Types in id order from it.id on, each found in constant time (a view's
 * by id walks up to STEP records): `for (it = { first, NULL }; (t =
 * ebpfdsl__btf_next(b, &it));)`, it.id - 1 being t's id. */
struct ebpfdsl_btf_iter {
	uint32_t id;
	const char *at;
};
const struct btf_type *ebpfdsl__btf_next(const struct ebpfdsl_btf *b, struct ebpfdsl_btf_iter *it);

/* What the BTF files read through, over a view or libbpf's BTF alike,
 * with libbpf's meanings (btf__type_by_id, btf__name_by_offset,
 * btf__type_cnt, the first id of split BTF, btf__resolve_type,
 * btf__resolve_size, btf__find_by_name_kind). */
const struct btf_type *ebpfdsl__btf_type(const struct ebpfdsl_btf *b, uint32_t id);
const char *ebpfdsl__btf_str(const struct ebpfdsl_btf *b, uint32_t off);
uint32_t ebpfdsl__btf_count(const struct ebpfdsl_btf *b);
uint32_t ebpfdsl__btf_first(const struct ebpfdsl_btf *b);
int ebpfdsl__btf_resolve_type(const struct ebpfdsl_btf *b, uint32_t id);
int64_t ebpfdsl__btf_resolve_size(const struct ebpfdsl_btf *b, uint32_t id);
int ebpfdsl__btf_find_kind(const struct ebpfdsl_btf *b, const char *name, int kind);

/* Frees what a handle caches beyond libbpf's BTF (kfuncs.c). */
void ebpfdsl__btf_free_cache(struct ebpfdsl_btf *b);
/* Forgets the kernel's helper names read from vmlinux BTF (kfuncs.c):
 * they point into it, and its last holder is about to free it. */
void ebpfdsl__helpers_forget(void);

#endif
