/* SPDX-License-Identifier: MIT */
/* Internal view of a struct layout, shared by layout.c (building and
 * queries), layout_codec.c (decode/encode) and layout_print.c. */
#ifndef EBPFDSL_LAYOUT_H
#define EBPFDSL_LAYOUT_H

#include "core.h"

/* Longest field or layout name (C identifiers of any sane length). */
#define EBPFDSL_LAYOUT_NAME_MAX 128
/* Largest layout: offsets must stay far from overflow and fit the BPF
 * verifier's notion of a memory region. */
#define EBPFDSL_LAYOUT_SIZE_MAX ((size_t)1 << 30)

struct ebpfdsl_layout {
	char *name;
	int packed;
	int frozen;     /* nested somewhere: may no longer grow */
	unsigned refs;
	int depth;      /* 1 + the deepest nested layout's depth */
	size_t end;     /* end of the last field, before tail padding */
	size_t align;   /* largest member alignment (1 when packed) */
	size_t nvalues; /* fields that are not padding */
	size_t nfields, cap;
	struct ebpfdsl_layout_field *fields; /* offsets relative to this layout */
	char err[EBPFDSL_ERRLEN];
};

#endif
