/* SPDX-License-Identifier: MIT */
/* Internal declarations of csrc/kernel: what its files share. Everything
 * here talks to the kernel through libbpf; nothing here knows Lua. */
#ifndef EBPFDSL_KERNEL_H
#define EBPFDSL_KERNEL_H

#include <stddef.h>
#include "../ebpfdsl.h"

/* The kernel's own "not supported" errno, which no libc names. */
#define EBPFDSL_ENOTSUPP 524

/* Options structs grow at the end: does `opts` (with a leading sz) reach
 * as far as `field`? */
#define EBPFDSL_OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) + sizeof((opts)->field))

struct btf;
/* map_btf.c: a loaded BTF describing a key of key_size bytes (an int
 * when 4) and a struct of value_size bytes, for local storage maps. NULL
 * with errno set on failure; the caller frees it with btf__free. */
struct btf *ebpfdsl_map_btf_bytes(unsigned key_size, unsigned value_size, unsigned *key_id,
				  unsigned *value_id);

#endif
