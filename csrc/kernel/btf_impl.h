/* SPDX-License-Identifier: MIT */
/* Internal to csrc/kernel: the BTF handle's layout, shared by the BTF,
 * program-load and object files. */
#ifndef EBPFDSL_BTF_IMPL_H
#define EBPFDSL_BTF_IMPL_H

#include <stddef.h>
#include "kernel.h"

struct btf;

/* A BTF handle: libbpf's parsed BTF and where it came from. Split BTF
 * points into its base's memory, so it holds a reference on the base:
 * freeing the base first only drops the caller's reference. */
struct ebpfdsl_btf {
	struct btf *btf;
	int shared;                /* the process-wide vmlinux BTF: never freed */
	int refs;                  /* the caller's, plus one per split BTF on it */
	struct ebpfdsl_btf *base;  /* referenced (NULL for none or the shared one) */
	char source[256];
	uint32_t *kfuncs;          /* ids of the FUNCs tagged bpf_kfunc, sorted, */
	int nkfuncs;               /* once kfuncs.c has looked (-1 before) */
};

/* Frees what a handle caches beyond libbpf's BTF (kfuncs.c). */
void ebpfdsl__btf_free_cache(struct ebpfdsl_btf *b);
/* Forgets the kernel's helper names read from vmlinux BTF (kfuncs.c):
 * they point into it, and its last holder is about to free it. */
void ebpfdsl__helpers_forget(void);

#endif
