/* SPDX-License-Identifier: MIT */
/* Names BTF gives numbers, one row each, for every layer to read. */
#ifndef EBPFDSL_FACTS_H
#define EBPFDSL_FACTS_H

#include <linux/btf.h>

/* ORDER: a func's or var's linkage as BTF stores it (0, 1, 2). */
#define EBPFDSL_BTF_LINKAGES(X) X("static") X("global") X("extern")

/* An int's encoding by name: "none" first, the default. */
#define EBPFDSL_BTF_INT_ENCODINGS(X) X("none", 0) X("signed", BTF_INT_SIGNED) X("char", BTF_INT_CHAR) X("bool", BTF_INT_BOOL)

#endif
